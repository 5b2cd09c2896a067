#!/usr/bin/env bash
# build.sh builds the real Flux helm-controller from the Go module proxy, once per machine, into
# a cache keyed by its version:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/gitopstui/fluxcontrollers/helm-<ver>/helm-controller
#
# The version lives in one place only: this directory's go.mod (github.com/fluxcd/helm-controller,
# a `tool` directive). It is a module of its own, apart from testdata/fluxcontrollers, so that
# moving helm-controller never rebuilds source- and kustomize-controller. The script does nothing
# when the binary exists, builds into a temporary directory beside the cache and renames it into
# place, serialises concurrent runs with flock (the same lock as fluxcontrollers/build.sh), and
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

cachebuild_begin "$cache_root" "$dir" "$version" helm-controller -- "$@"

start=$SECONDS
echo "build.sh: building helm-controller $version into $dir (once per machine, ~8-12 min on 2 cores)" >&2
go -C "$here" build -trimpath -buildvcs=false -ldflags "-s -w" -o "$tmp/helm-controller" github.com/fluxcd/helm-controller
mv -f "$tmp/helm-controller" "$dir/helm-controller"
echo "build.sh: helm-controller ready in $((SECONDS - start))s" >&2
echo "$dir"
