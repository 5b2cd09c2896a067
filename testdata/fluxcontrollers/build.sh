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

# modversion MODULE prints the version that go.mod requires for MODULE (both the one-line
# `require m v` and the block form).
modversion() {
	awk -v m="$1" '{ for (i = 1; i < NF; i++) if ($i == m) { print $(i + 1); exit } }' "$here/go.mod"
}

source_version="$(modversion github.com/fluxcd/source-controller)"
kustomize_version="$(modversion github.com/fluxcd/kustomize-controller)"
if [[ -z "$source_version" || -z "$kustomize_version" ]]; then
	echo "build.sh: cannot read the controller versions from $here/go.mod" >&2
	exit 1
fi

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gitopstui/fluxcontrollers"
dir="$cache_root/source-$source_version-kustomize-$kustomize_version"

case "${1:-}" in
--print-dir)
	echo "$dir"
	exit 0
	;;
--versions)
	echo "$source_version $kustomize_version"
	exit 0
	;;
"") ;;
*)
	echo "usage: $0 [--print-dir|--versions]" >&2
	exit 2
	;;
esac

have_all() { [[ -x "$dir/source-controller" && -x "$dir/kustomize-controller" ]]; }

if have_all; then
	echo "$dir"
	exit 0
fi

mkdir -p "$dir"
# One build at a time per machine (go test runs packages in parallel, and each may call us).
exec 9>"$cache_root/.build.lock"
flock 9
if have_all; then
	echo "$dir"
	exit 0
fi

tmp="$(mktemp -d "$cache_root/.tmp-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM # so that the EXIT trap removes the half-built files

export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off

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
