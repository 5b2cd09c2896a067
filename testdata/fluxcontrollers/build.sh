#!/usr/bin/env bash
# build.sh builds the real Flux source-controller and kustomize-controller from the Go module
# proxy, once per machine, into a cache keyed by their versions:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/gitopstui/fluxcontrollers/source-<ver>-kustomize-<ver>/
#       {source-controller,kustomize-controller}
#
# The versions live in one place only: this directory's go.mod (github.com/fluxcd/source-controller
# and github.com/fluxcd/kustomize-controller, both `tool` directives). The script does nothing
# when both binaries exist, builds each missing binary into a temporary directory beside the
# cache and renames it into place (an interrupted build never leaves half a binary), serialises
# concurrent runs with flock, and prints the cache directory on stdout at the end; progress goes
# to stderr. Each controller takes about five to eight minutes to build on two cores.
#
# Usage: build.sh             build when missing, print the directory
#        build.sh --print-dir print the directory only (builds nothing)
#        build.sh --versions  print "<source-controller-version> <kustomize-controller-version>"
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source=../cachebuild.sh
source "$here/../cachebuild.sh"
modversion() { cachebuild_modversion "$here/go.mod" "$1"; }

source_version="$(modversion github.com/fluxcd/source-controller)"
kustomize_version="$(modversion github.com/fluxcd/kustomize-controller)"
if [[ -z "$source_version" || -z "$kustomize_version" ]]; then
	echo "build.sh: cannot read the controller versions from $here/go.mod" >&2
	exit 1
fi

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gitopstui/fluxcontrollers"
dir="$cache_root/source-$source_version-kustomize-$kustomize_version"

cachebuild_begin "$cache_root" "$dir" "$source_version $kustomize_version" source-controller kustomize-controller -- "$@"

start=$SECONDS
# build NAME VERSION: the controller's main package is its module's root package, which
# `go build` builds from here because this module requires it (a `tool` directive).
build() {
	local name="$1" version="$2"
	if [[ ! -x "$dir/$name" ]]; then
		echo "build.sh: building $name $version into $dir (once per machine, ~5-8 min on 2 cores)" >&2
		go -C "$here" build -trimpath -buildvcs=false -ldflags "-s -w" -o "$tmp/$name" "github.com/fluxcd/$name"
		mv -f "$tmp/$name" "$dir/$name"
	fi
}
build source-controller "$source_version"
build kustomize-controller "$kustomize_version"
echo "build.sh: Flux controllers ready in $((SECONDS - start))s" >&2
echo "$dir"
