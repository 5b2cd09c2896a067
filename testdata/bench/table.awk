# table.awk turns `go test -bench` output into gitopstui's benchmark table (see run.sh):
# one row per measure the issues ask for (ours, the anchor run side by side, their ratio,
# the target and whether it is met), then any other benchmark found in the output.

# Result lines: BenchmarkName[/sub][-P]  N  v ns/op  v2 u2 ... When the benchmark logs
# while it runs, the name and the figures land on different lines: figures without a name
# belong to the last name seen.
/^Benchmark/ { last_name = $1 }
/ ns\/op/ {
	for (k = 2; k < NF; k++) if ($(k + 1) == "ns/op") break
	if (k >= NF) next
	name = ($1 ~ /^Benchmark/) ? $1 : last_name
	if (name == "") next
	sub(/-[0-9]+$/, "", name)
	if (!(name in seen)) { order[++n] = name; seen[name] = 1 }
	for (i = k; i < NF; i += 2) val[name, $(i + 1)] = $i
}

# ms returns the metric in milliseconds, or "" when it is missing.
function ms(name, unit,   v) {
	if (!((name, unit) in val)) return ""
	v = val[name, unit]
	if (unit == "ns/op") return v / 1e6
	if (unit ~ /-µs$/ || unit ~ /-us$/) return v / 1e3
	return v + 0
}

function fmtms(v) {
	if (v == "") return "not run"
	if (v >= 100) return sprintf("%.0f ms", v)
	if (v >= 1) return sprintf("%.1f ms", v)
	if (v >= 0.1) return sprintf("%.2f ms", v)
	return sprintf("%.1f µs", v * 1000)
}

# cell shows one or more comma-separated metrics of a benchmark (p50-ms,p95-ms) and sets
# last to the value of the last one.
function cell(name, units,   k, parts, s, v, lbl) {
	last = ""
	if (name == "") return "—"
	k = split(units, parts, ",")
	s = ""
	for (i2 = 1; i2 <= k; i2++) {
		v = ms(name, parts[i2])
		used[name] = 1
		if (v == "") return "not run"
		lbl = parts[i2]
		sub(/-(ms|µs|us)$/, "", lbl)
		if (k > 1 || lbl ~ /^p[0-9]/) s = s (s == "" ? "" : " / ") lbl " " fmtms(v)
		else s = fmtms(v)
		last = v
	}
	return s
}

# row prints one measure. mode: "ratio" (ours/anchor) or "speedup" (anchor/ours) or "";
# check: "ours<=" | "ratio<=" | "speedup>=" | "" with limit.
function row(label, on, ou, an, au, mode, check, limit, target,   o, a, ov, av, r, rs, met) {
	o = cell(on, ou); ov = last
	a = cell(an, au); av = last
	r = ""; rs = "—"
	if (mode != "" && ov != "" && av != "" && av > 0 && ov > 0) {
		r = (mode == "ratio") ? ov / av : av / ov
		rs = (mode == "ratio") ? sprintf("%.2f×", r) : sprintf("%.0f× faster", r)
	}
	met = "—"
	if (check == "ours<=" && ov != "") met = (ov <= limit) ? "yes" : "no"
	if (check == "ratio<=" && r != "") met = (r <= limit) ? "yes" : "no"
	if (check == "speedup>=" && r != "") met = (r >= limit) ? "yes" : "no"
	printf "| %s | %s | %s | %s | %s | %s |\n", label, o, a, rs, target, met
}

# row of a benchmark that reports its own non-time metric (MB).
function rowraw(label, on, unit, fmt, check, limit, target,   v, met) {
	used[on] = 1
	v = ((on, unit) in val) ? val[on, unit] + 0 : ""
	met = (v == "") ? "—" : ((check == "<=" && v <= limit) ? "yes" : "no")
	printf "| %s | %s | — | — | %s | %s |\n", label, (v == "" ? "not run" : sprintf(fmt, v)), target, met
}

END {
	print "| Measure | Ours | Anchor | Ratio | Target | Met |"
	print "|---|---|---|---|---|---|"
	row("Cold `--procedure deployments.list` (10,000 stored, limit 50), median; anchor: `gitopstui version` (process floor)",
		"BenchmarkColdDeploymentsList", "median-ms", "BenchmarkColdDeploymentsList", "version-median-ms", "", "ours<=", 50, "≤ 50 ms")
	row("Store update (fsynced, 10,000 stored)", "BenchmarkStoreUpdate", "p50-µs,p99-µs", "", "", "", "", 0, "—")
	row("Store read: get by id", "BenchmarkStoreRead/get", "p50-µs,p99-µs", "", "", "", "", 0, "—")
	row("Store read: first page of 50 by index", "BenchmarkStoreRead/list50", "p50-µs,p99-µs", "", "", "", "", 0, "—")
	row("installFlux vs `kubectl apply --server-side -f` of the same bundle",
		"BenchmarkInstallFlux", "ours-ms", "BenchmarkInstallFlux", "anchor-ms", "ratio", "ratio<=", 1.0, "≤ 1.0×")
	row("Cold `--procedure gitops.listGitOpsResources`, 1,000 Kustomizations vs `kubectl get kustomizations -A -o json`",
		"BenchmarkListGitOpsResources1000", "ours-ms", "BenchmarkListGitOpsResources1000", "anchor-ms", "ratio", "ratio<=", 1.5, "≤ 1.5×")
	row("Status patch → store and subscriber",
		"BenchmarkStatusPatchToSubscriber", "p50-ms,p95-ms", "", "", "", "ours<=", 500, "p95 ≤ 500 ms")
	row("deployWithGitOps on 10,000 files vs git CLI edit-commit-push",
		"BenchmarkDeployWithGitOps10k", "ns/op", "BenchmarkDeployGitCLI10k", "ns/op", "ratio", "ratio<=", 1.0, "≤ 1.0×")
	row("deployments.previewRollback on 10,000 files vs git CLI fetch + `git revert --no-commit` + `git diff --cached` + reset",
		"BenchmarkRollbackPreview10k", "ns/op", "BenchmarkRollbackGitCLIPreview10k", "ns/op", "ratio", "ratio<=", 1.0, "≤ 1.0×")
	row("deployments.rollback on 10,000 files vs `git revert` + `git push`",
		"BenchmarkRollback10k", "ns/op", "BenchmarkRollbackGitCLI10k", "ns/op", "ratio", "ratio<=", 1.0, "≤ 1.0×")
	row("gitx commit-and-push on 10,000 files vs git CLI",
		"BenchmarkCommitAndPush10k", "ns/op", "BenchmarkGitCLI10k", "ns/op", "ratio", "ratio<=", 1.0, "≤ 1.0×")
	row("Bulk resume of a suspended 6-level dependsOn chain until all Ready vs resuming all six and letting Flux's dependency requeue order them (real controllers)",
		"BenchmarkBulkResumeChain", "ours-ms", "BenchmarkBulkResumeChain", "anchor-ms", "ratio", "ratio<=", 0.2, "≤ 0.2×")
	row("previewChanges on a HelmRelease (values edit, render old + new chart with Helm's SDK, diff) vs `helm template` twice + `diff -u`",
		"BenchmarkPreviewHelmRelease", "ns/op", "BenchmarkHelmTemplateDiff", "ns/op", "ratio", "ratio<=", 1.0, "≤ 1.0×")
	row("previewChanges plan of a 5,000-line manifest",
		"BenchmarkPlan5000Lines", "ns/op", "", "", "", "ours<=", 30, "≤ 30 ms")
	row("validateYAML, 1,000 resources vs `kubectl apply --dry-run=server`",
		"BenchmarkValidateYAML1000VsDryRun", "ours-ms", "BenchmarkValidateYAML1000VsDryRun", "anchor-ms", "speedup", "speedup>=", 50, "≥ 50× faster")
	row("validator alone, 1,000 resources (in process)",
		"BenchmarkValidate1000Resources", "ns/op", "", "", "", "", 0, "—")
	row("TUI: first frame with 10,000 resources in the store",
		"BenchmarkFirstFrame10k", "ns/op", "", "", "", "ours<=", 150, "≤ 150 ms")
	row("TUI: keystroke to frame while filtering 10,000 rows",
		"BenchmarkFilterKeystroke10k", "p95-ms", "", "", "", "ours<=", 50, "p95 ≤ 50 ms")
	row("TUI: view of the resources screen with 10,000 rows",
		"BenchmarkResourcesView10k", "ns/op", "", "", "", "ours<=", 5, "≤ 5 ms")
	row("SSH: 20 concurrent sessions, first frame p95",
		"BenchmarkSSHSessions", "first-frame-p95-ms", "", "", "", "ours<=", 300, "≤ 300 ms")
	row("SSH: 20 concurrent sessions, keystroke echo p95",
		"BenchmarkSSHSessions", "key-echo-p95-ms", "", "", "", "ours<=", 50, "≤ 50 ms")
	row("Push → applied, fast path (p50 / p95 over 50 deploys, real controllers); anchor: a plain push found by the 1m poll (6 pushes)",
		"BenchmarkPushToApplied", "fast-p50-ms,fast-p95-ms", "BenchmarkPushToApplied", "poll-p50-ms,poll-p95-ms", "", "ours<=", 3000, "p95 ≤ 3 s")
	row("Fleet, 3 clusters × 1,000 Kustomizations: first frame",
		"BenchmarkFleet3x1000", "first-frame-ms", "", "", "", "", 0, "—")
	row("Fleet: status patch on an API server → drawn on the fleet screen",
		"BenchmarkFleet3x1000", "p50-ms,p95-ms", "", "", "", "ours<=", 100, "p95 ≤ 100 ms")
	rowraw("Fleet: resident memory with 3 × 1,000 Kustomizations loaded", "BenchmarkFleet3x1000", "rss-MB", "%.0f MB", "<=", 250, "≤ 250 MB")
	rowraw("SSH: memory per extra session", "BenchmarkSSHSessions", "heap-per-session-MB", "%.1f MB", "<=", 20, "≤ 20 MB")
	# Everything else that ran (the UI's benchmarks among them), with all its metrics.
	for (j = 1; j <= n; j++) {
		nm = order[j]
		if (nm in used) continue
		s = ""
		for (key in val) {
			split(key, kp, SUBSEP)
			if (kp[1] != nm || kp[2] == "B/op" || kp[2] == "allocs/op" || kp[2] == "MB/s") continue
			s = s (s == "" ? "" : ", ") (kp[2] == "ns/op" ? fmtms(ms(nm, "ns/op")) "/op" : val[key] " " kp[2])
		}
		printf "| %s | %s | — | — | — | — |\n", nm, s
	}
}
