#!/usr/bin/env bash
# build.sh builds the real Flux helm-controller and the helm CLI of the Helm SDK it links (the
# anchor of the HelmRelease preview benchmark) from the Go module proxy, once per machine, into a
# cache keyed by the controller's version:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/gitopstui/fluxcontrollers/helm-<ver>/{helm-controller,helm}
#
# The versions live in one place only: this directory's go.mod (github.com/fluxcd/helm-controller
# and helm.sh/helm/v4/cmd/helm, `tool` directives; helm is the version helm-controller requires). It is a module of its own, apart from testdata/fluxcontrollers, so that
# moving helm-controller never rebuilds source- and kustomize-controller. The script does nothing
# when both binaries exist, builds each missing one into a temporary directory beside the cache
# and renames it into place, serialises concurrent runs with flock (the same lock as fluxcontrollers/build.sh), and
# prints the cache directory on stdout at the end; progress goes to stderr. The build takes about
# eight to twelve minutes on two cores.
#
# Usage: build.sh             build when missing, print the directory
#        build.sh --print-dir print the directory only (builds nothing)
#        build.sh --versions  print the helm-controller version
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source=../cachebuild.sh
source "$here/../cachebuild.sh"

version="$(cachebuild_modversion "$here/go.mod" github.com/fluxcd/helm-controller)"
if [[ -z "$version" ]]; then
	echo "build.sh: cannot read the helm-controller version from $here/go.mod" >&2
	exit 1
fi

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gitopstui/fluxcontrollers"
dir="$cache_root/helm-$version"

cachebuild_begin "$cache_root" "$dir" "$version" helm-controller helm -- "$@"

start=$SECONDS
# build NAME PACKAGE: built from here because this module requires it (a `tool` directive).
build() {
	if [[ ! -x "$dir/$1" ]]; then
		echo "build.sh: building $1 ($2) into $dir (once per machine, minutes on 2 cores)" >&2
		go -C "$here" build -trimpath -buildvcs=false -ldflags "-s -w" -o "$tmp/$1" "$2"
		mv -f "$tmp/$1" "$dir/$1"
	fi
}
build helm-controller github.com/fluxcd/helm-controller
build helm helm.sh/helm/v4/cmd/helm
echo "build.sh: helm-controller and helm ready in $((SECONDS - start))s" >&2
echo "$dir"
