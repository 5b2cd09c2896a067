#!/usr/bin/env bash
# run.sh runs every benchmark that gitopstui's issues ask for (`make bench`) and prints one
# markdown table: measure, ours, anchor, ratio, target. The anchors (kubectl against the
# same test API server, the git CLI on the same repository and server, `kubectl apply
# --dry-run=server`) run side by side with gitopstui in the same benchmark process.
#
# The raw `go test -bench` output goes to $BENCH_OUT (default bench.out in the repository
# root), the table to stdout and to $BENCH_TABLE (default bench.md), headed by the machine
# it ran on.
#
# Usage: testdata/bench/run.sh            run everything, print the table
#        testdata/bench/run.sh --table F  print the table of an earlier raw output F
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export GOTOOLCHAIN=local
out="${BENCH_OUT:-$root/bench.out}"
table_file="${BENCH_TABLE:-$root/bench.md}"

# machine describes where the numbers come from.
machine() {
	local cpu mem
	cpu="$(awk -F: '/model name/ { sub(/^ +/, "", $2); print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
	mem="$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)"
	echo "Machine: ${cpu:-unknown CPU}, $(nproc) cores, ${mem:-? RAM}, $(uname -sr), $(go version | cut -d' ' -f3), kubectl $(kubectl version --client -o json 2>/dev/null | awk -F'"' '/gitVersion/ { print $4; exit }'), git $(git --version | cut -d' ' -f3); $(date -u +%Y-%m-%d)"
}

# ensure_kubectl puts a kubectl on PATH: apt's when it has one, else one built from the
# k8s.io/kubernetes module that testdata/controlplane already pins (a copy of that module,
# so its go.sum stays as it is), cached like the control plane.
ensure_kubectl() {
	command -v kubectl >/dev/null && return
	if command -v apt-get >/dev/null; then
		echo "run.sh: kubectl missing: trying apt-get install kubectl" >&2
		if { [[ $(id -u) -eq 0 ]] && apt-get install -y -q kubectl >&2; } ||
			sudo -n apt-get install -y -q kubectl >&2 2>/dev/null; then
			command -v kubectl >/dev/null && return
		fi
	fi
	local dir="${XDG_CACHE_HOME:-$HOME/.cache}/gitopstui/kubectl/$(bash testdata/controlplane/build.sh --versions | cut -d' ' -f1)"
	if [[ ! -x "$dir/kubectl" ]]; then
		echo "run.sh: building kubectl from k8s.io/kubernetes into $dir (once per machine)" >&2
		local tmp
		tmp="$(mktemp -d)"
		cp testdata/controlplane/go.mod testdata/controlplane/go.sum "$tmp/"
		mkdir -p "$dir"
		GOFLAGS=-mod=mod CGO_ENABLED=0 go -C "$tmp" build -trimpath -ldflags "-s -w" -o "$dir/kubectl.tmp" k8s.io/kubernetes/cmd/kubectl
		mv -f "$dir/kubectl.tmp" "$dir/kubectl"
		rm -rf "$tmp"
	fi
	export PATH="$dir:$PATH"
}

# run PKG BENCHTIME REGEX: one package's benchmarks, appended to $out.
run() {
	echo "run.sh: go test -bench '$3' -benchtime $2 $1" >&2
	go test -run '^$' -bench "$3" -benchtime "$2" -timeout 60m "$1" 2>&1 | tee -a "$out" >&2
}

table() {
	local raw="$1"
	echo "$(machine)"
	echo
	awk -f "$root/testdata/bench/table.awk" "$raw"
}

if [[ "${1:-}" == "--table" ]]; then
	table "${2:?usage: run.sh --table FILE}"
	exit 0
fi

ensure_kubectl
bash testdata/controlplane/build.sh >/dev/null
bash testdata/fluxcontrollers/build.sh >/dev/null
: >"$out"
status=0
# Heavy, side-by-side benchmarks take their medians over several runs whatever b.N is.
run ./cmd/gitopstui 1x 'BenchmarkColdDeploymentsList$' || status=1
run ./store 1x 'BenchmarkStore(Update|Read)$' || status=1
run ./services 3x 'Benchmark(InstallFlux|ListGitOpsResources1000|StatusPatchToSubscriber|ValidateYAML1000VsDryRun|DeployWithGitOps10k|DeployGitCLI10k|RollbackPreview10k|RollbackGitCLIPreview10k|Rollback10k|RollbackGitCLI10k)$' || status=1
run ./services/e2e 1x 'BenchmarkBulkResumeChain$' || status=1
run ./services/e2e 1x 'BenchmarkPushToApplied$' || status=1
run ./services 20x 'Benchmark(PreviewHelmRelease|HelmTemplateDiff)$' || status=1
run ./services/gitx 5x 'Benchmark(CommitAndPush10k|GitCLI10k)$' || status=1
run ./services/manifest 1s 'BenchmarkPlan5000Lines$' || status=1
run ./services/validate 1s 'BenchmarkValidate1000Resources$' || status=1
run ./ui 1s . || status=1
run ./ui/sshserver 1x 'BenchmarkSSHSessions$' || status=1

table "$out" | tee "$table_file"
exit $status
