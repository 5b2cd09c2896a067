#!/usr/bin/env bash
# build.sh builds the test control plane (kube-apiserver and etcd) from the Go module proxy,
# once per machine, into a cache keyed by their versions:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/gitopstui/controlplane/k8s-<ver>-etcd-<ver>/{kube-apiserver,etcd}
#
# The versions live in one place only: this directory's go.mod (k8s.io/kubernetes and
# go.etcd.io/etcd/server/v3). The script does nothing when both binaries exist, builds each
# missing binary into a temporary directory beside the cache and renames it into place (an
# interrupted build never leaves half a binary), serialises concurrent runs with flock, and
# prints the cache directory on stdout at the end; progress goes to stderr.
#
# Usage: build.sh             build when missing, print the directory
#        build.sh --print-dir print the directory only (builds nothing)
#        build.sh --versions  print "<kubernetes-version> <etcd-version>"
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source=../cachebuild.sh
source "$here/../cachebuild.sh"
modversion() { cachebuild_modversion "$here/go.mod" "$1"; }

k8s_version="$(modversion k8s.io/kubernetes)"
etcd_version="$(modversion go.etcd.io/etcd/server/v3)"
if [[ -z "$k8s_version" || -z "$etcd_version" ]]; then
	echo "build.sh: cannot read the kubernetes/etcd versions from $here/go.mod" >&2
	exit 1
fi

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gitopstui/controlplane"
dir="$cache_root/k8s-$k8s_version-etcd-$etcd_version"

cachebuild_begin "$cache_root" "$dir" "$k8s_version $etcd_version" kube-apiserver etcd -- "$@"

# kube-apiserver reports v0.0.0-master unless the version is stamped in; clients then cannot
# parse it. The build date is the release's time as the module proxy records it, so the
# binary is the same on every machine.
minor="${k8s_version#v1.}"
minor="${minor%%.*}"
build_date="$(go -C "$here" list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)"
vpkg=k8s.io/component-base/version
k8s_ldflags="-s -w -X $vpkg.gitVersion=$k8s_version -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor"
k8s_ldflags+=" -X $vpkg.gitTreeState=clean -X $vpkg.buildDate=${build_date:-1970-01-01T00:00:00Z}"
k8s_ldflags+=" -X $vpkg.gitCommit=module-proxy-$k8s_version"

start=$SECONDS
if [[ ! -x "$dir/etcd" ]]; then
	echo "build.sh: building etcd $etcd_version into $dir (once per machine)" >&2
	go -C "$here" build -trimpath -buildvcs=false -ldflags "-s -w" -o "$tmp/etcd" ./cmd/etcd
	mv -f "$tmp/etcd" "$dir/etcd"
fi
if [[ ! -x "$dir/kube-apiserver" ]]; then
	echo "build.sh: building kube-apiserver $k8s_version into $dir (once per machine: 10-20 min on 2 cores)" >&2
	go -C "$here" build -trimpath -buildvcs=false -ldflags "$k8s_ldflags" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
	mv -f "$tmp/kube-apiserver" "$dir/kube-apiserver"
fi
echo "build.sh: control plane ready in $((SECONDS - start))s" >&2
echo "$dir"
