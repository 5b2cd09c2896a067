package services_test

// Benchmarks that run gitopstui and its anchor (kubectl against the same test API server)
// side by side in one run. Each reports ours-ms, anchor-ms and ratio (ours / anchor; below
// 1 is faster than the anchor), the medians over at least benchRuns runs whatever b.N is,
// so that `make bench` (-benchtime 1x) gets stable figures. testdata/bench/run.sh gathers
// them into one table.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/services/testcluster"
	"github.com/gitopstui/gitopstui/store"
)

// benchRuns is the fewest runs of each side a median is taken over.
const benchRuns = 5

// kubectlPath is the anchor's binary; testdata/bench/run.sh installs it when missing.
func kubectlPath(b *testing.B) string {
	b.Helper()
	p, err := exec.LookPath("kubectl")
	if err != nil {
		b.Fatalf("kubectl is the anchor of this benchmark and is not on PATH (testdata/bench/run.sh installs it): %v", err)
	}
	return p
}

func runKubectl(b *testing.B, kubectl, kubeconfig string, args ...string) []byte {
	b.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		b.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.Bytes()
}

func benchSvc(b *testing.B) (*services.Services, string, func()) {
	b.Helper()
	dir := b.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return services.New(services.Config{DataDir: dir, DB: db}), dir, func() { _ = db.Close() }
}

func benchCall(b *testing.B, svc *services.Services, name string, in, out any) {
	b.Helper()
	raw, _ := json.Marshal(in)
	ctx, cancel := context.WithTimeout(model.WithActor(context.Background(), model.LocalActor("bench")), 5*time.Minute)
	defer cancel()
	res, err := svc.Registry().Call(ctx, name, raw)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	if out != nil {
		j, _ := json.Marshal(res)
		if err := json.Unmarshal(j, out); err != nil {
			b.Fatal(err)
		}
	}
}

func medianMS(ds []time.Duration) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[len(s)/2].Microseconds()) / 1e3
}

func percentileMS(ds []time.Duration, p float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[int(p*float64(len(s)-1))].Microseconds()) / 1e3
}

// sideBySide runs ours and anchor alternately (ours first on even rounds, the anchor on
// odd ones) max(b.N, benchRuns) times each, with reset between runs untimed, and reports
// the medians and their ratio.
func sideBySide(b *testing.B, ours, anchor func() time.Duration) {
	b.Helper()
	var o, a []time.Duration
	b.ResetTimer()
	for i := 0; i < max(b.N, benchRuns); i++ {
		if i%2 == 0 {
			o, a = append(o, ours()), append(a, anchor())
		} else {
			a, o = append(a, anchor()), append(o, ours())
		}
	}
	b.StopTimer()
	om, am := medianMS(o), medianMS(a)
	b.ReportMetric(om, "ours-ms")
	b.ReportMetric(am, "anchor-ms")
	b.ReportMetric(om/am, "ratio")
}

// BenchmarkInstallFlux: gitops.installFlux on a cluster without Flux (access review,
// CRDs applied and Established, then the rest, server-side) vs `kubectl apply
// --server-side -f` of the same bundle. Between runs gitops.uninstallFlux (untimed)
// removes it again. Target: ratio ≤ 1.0.
func BenchmarkInstallFlux(b *testing.B) {
	kubectl := kubectlPath(b)
	c := testcluster.Start(b)
	c.AddReadyNode(b, "node-1")
	kubeconfig := c.Kubeconfig(b)
	svc, _, closeDB := benchSvc(b)
	defer closeDB()
	benchCall(b, svc, "clusters.register", map[string]any{"id": "c1", "name": "c1", "kubeconfig": kubeconfig}, nil)
	bundle, err := fluxbundle.Load("")
	if err != nil {
		b.Fatal(err)
	}
	objs, err := bundle.Objects(fluxbundle.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	for _, o := range objs {
		y, err := yaml.Marshal(o.Object)
		if err != nil {
			b.Fatal(err)
		}
		buf.WriteString("---\n")
		buf.Write(y)
	}
	file := filepath.Join(b.TempDir(), "flux.yaml")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	uninstall := func() {
		benchCall(b, svc, "gitops.uninstallFlux", map[string]any{"clusterId": "c1"}, nil)
	}
	ours := func() time.Duration {
		t0 := time.Now()
		var res api.InstallFluxResult
		benchCall(b, svc, "gitops.installFlux", map[string]any{"clusterId": "c1"}, &res)
		d := time.Since(t0)
		if !res.Success || res.Applied != len(objs) {
			b.Fatalf("installFlux: %+v", res)
		}
		uninstall()
		return d
	}
	anchor := func() time.Duration {
		t0 := time.Now()
		runKubectl(b, kubectl, kubeconfig, "apply", "--server-side", "--field-manager", "kubectl-bench", "-f", file)
		d := time.Since(t0)
		uninstall()
		return d
	}
	b.Logf("bundle: %s, %d objects, %d bytes", bundle, len(objs), buf.Len())
	sideBySide(b, ours, anchor)
}

// buildBinary builds the release binary (as `make build` does) into a temp dir.
func buildBinary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "gitopstui")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "github.com/gitopstui/gitopstui/cmd/gitopstui")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkListGitOpsResources1000: a cold `gitopstui --procedure gitops.listGitOpsResources`
// (a fresh process: open the store, read the live status of the 1,000 Kustomizations it
// manages from the cluster, answer JSON) vs `kubectl get kustomizations -A -o json`
// against the same server. Target: ratio ≤ 1.5.
func BenchmarkListGitOpsResources1000(b *testing.B) {
	const n = 1000
	kubectl := kubectlPath(b)
	bin := buildBinary(b)
	c := fluxCluster.Get(b)
	c.AddReadyNode(b, "node-1")
	kubeconfig := c.Kubeconfig(b)
	svc, dataDir, closeDB := benchSvc(b)
	benchCall(b, svc, "clusters.register", map[string]any{"id": "c1", "name": "c1", "kubeconfig": kubeconfig}, nil)
	raw, _ := json.Marshal(map[string]any{"clusterId": "c1"})
	if _, err := svc.Registry().Call(model.WithActor(context.Background(), model.LocalActor("test")), "gitops.installFlux", raw); err != nil && model.CodeOf(err) != model.CodeFluxAlreadyInstalled {
		b.Fatal(err)
	}
	benchCall(b, svc, "projects.create", map[string]any{"id": "p-list", "name": "list"}, nil)
	benchCall(b, svc, "environments.create", map[string]any{"id": "env-list", "projectId": "p-list", "name": "list", "clusterId": "c1", "namespace": "bench-list"}, nil)
	benchCall(b, svc, "repositories.create", map[string]any{"id": "repo-list", "projectId": "p-list", "fullName": "acme/bench-list", "url": "https://git.example.com/acme/bench-list.git"}, nil)
	benchCall(b, svc, "environments.configureGitOps", map[string]any{"environmentId": "env-list", "config": map[string]any{"enabled": true, "repositoryId": "repo-list", "gitPath": "./k8s"}}, nil)
	benchCall(b, svc, "repositories.enableGitOps", map[string]any{"repositoryId": "repo-list", "config": map[string]any{}}, nil)
	for i := range n {
		benchCall(b, svc, "gitops.createGitOpsResource", map[string]any{"projectId": "p-list", "environmentId": "env-list",
			"name": fmt.Sprintf("app-%04d", i), "type": "kustomization"}, nil)
	}
	closeDB() // the cold process opens the store itself

	ours := func() time.Duration {
		var out, errb bytes.Buffer
		cmd := exec.Command(bin, "--data-dir", dataDir, "--procedure", "gitops.listGitOpsResources", "--input", "{}")
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Env = append(os.Environ(), "GITOPSTUI_DATA_DIR=")
		t0 := time.Now()
		err := cmd.Run()
		d := time.Since(t0)
		if err != nil {
			b.Fatalf("gitopstui: %v\n%s", err, errb.String())
		}
		var list []json.RawMessage
		if err := json.Unmarshal(out.Bytes(), &list); err != nil || len(list) != n {
			b.Fatalf("listGitOpsResources: %d items, %v", len(list), err)
		}
		return d
	}
	anchor := func() time.Duration {
		t0 := time.Now()
		out := runKubectl(b, kubectl, kubeconfig, "get", "kustomizations", "-A", "-o", "json")
		d := time.Since(t0)
		var list struct{ Items []json.RawMessage }
		if err := json.Unmarshal(out, &list); err != nil || len(list.Items) < n {
			b.Fatalf("kubectl get: %d items, %v", len(list.Items), err)
		}
		return d
	}
	sideBySide(b, ours, anchor)
}

// BenchmarkStatusPatchToSubscriber: the delay from a Kustomization status patch on the
// API server (what kustomize-controller writes after an apply) to gitopstui's watcher
// having stored it and told a subscriber (the TUI). Each round patches a new
// lastAppliedRevision, so the watcher also records a gitops-git deployment. Reports p50
// and p95 over at least 50 patches. Target: p95 ≤ 500 ms.
func BenchmarkStatusPatchToSubscriber(b *testing.B) {
	const minSamples = 50
	c := fluxCluster.Get(b)
	c.AddReadyNode(b, "node-1")
	svc, _, closeDB := benchSvc(b)
	defer closeDB()
	benchCall(b, svc, "clusters.register", map[string]any{"id": "c1", "name": "c1", "kubeconfig": c.Kubeconfig(b)}, nil)
	raw, _ := json.Marshal(map[string]any{"clusterId": "c1"})
	if _, err := svc.Registry().Call(model.WithActor(context.Background(), model.LocalActor("test")), "gitops.installFlux", raw); err != nil && model.CodeOf(err) != model.CodeFluxAlreadyInstalled {
		b.Fatal(err)
	}
	benchCall(b, svc, "projects.create", map[string]any{"id": "p-watch", "name": "watch"}, nil)
	benchCall(b, svc, "environments.create", map[string]any{"id": "env-watch", "projectId": "p-watch", "name": "watch", "clusterId": "c1", "namespace": "bench-watch"}, nil)
	benchCall(b, svc, "repositories.create", map[string]any{"id": "repo-watch", "projectId": "p-watch", "fullName": "acme/bench-watch", "url": "https://git.example.com/acme/bench-watch.git"}, nil)
	benchCall(b, svc, "environments.configureGitOps", map[string]any{"environmentId": "env-watch", "config": map[string]any{"enabled": true, "repositoryId": "repo-watch"}}, nil)
	benchCall(b, svc, "repositories.enableGitOps", map[string]any{"repositoryId": "repo-watch", "config": map[string]any{}}, nil)
	var sum api.ResourceSummary
	benchCall(b, svc, "gitops.createGitOpsResource", map[string]any{"projectId": "p-watch", "environmentId": "env-watch", "name": "bench-watch", "type": "kustomization"}, &sum)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := svc.Subscribe(ctx)
	if err := svc.StartWatchers(ctx); err != nil {
		b.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(c.Config())
	round := func(i int) time.Duration {
		sha := fmt.Sprintf("%040x", i+1)
		p, _ := json.Marshal(map[string]any{"status": map[string]any{
			"lastAppliedRevision": "main@sha1:" + sha, "lastAttemptedRevision": "main@sha1:" + sha,
			"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
				"message": "Applied revision: main@sha1:" + sha, "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}}}})
		t0 := time.Now()
		if _, err := dyn.Resource(ksGVR).Namespace("flux-system").Patch(ctx, "bench-watch", types.MergePatchType, p, metav1.PatchOptions{}, "status"); err != nil {
			b.Fatal(err)
		}
		timeout := time.After(30 * time.Second)
		for {
			select {
			case e := <-events:
				if e.Resource.ID == sum.ID && e.Resource.LastAppliedRevision == "main@sha1:"+sha {
					return time.Since(t0)
				}
			case <-timeout:
				b.Fatalf("no event for revision %s", sha)
			}
		}
	}
	round(-1) // the watcher has synced once this arrives
	var samples []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		samples = append(samples, round(i))
	}
	b.StopTimer()
	for i := b.N; len(samples) < minSamples; i++ {
		samples = append(samples, round(i))
	}
	b.ReportMetric(percentileMS(samples, 0.50), "p50-ms")
	b.ReportMetric(percentileMS(samples, 0.95), "p95-ms")
}

// validateStream is n valid resources of the kinds users commit: Deployments, Services,
// ConfigMaps and Flux Kustomizations, in namespace ns.
func validateStream(n int, ns string) []byte {
	var buf bytes.Buffer
	for i := range n {
		buf.WriteString("---\n")
		switch i % 4 {
		case 0:
			fmt.Fprintf(&buf, `apiVersion: apps/v1
kind: Deployment
metadata: {name: app-%d, namespace: %s}
spec:
  replicas: 2
  selector: {matchLabels: {app: app-%d}}
  template:
    metadata: {labels: {app: app-%d}}
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/app:1.%d.0
          ports: [{containerPort: 8080}]
          resources: {limits: {cpu: 500m, memory: 256Mi}, requests: {cpu: 100m, memory: 128Mi}}
`, i, ns, i, i, i)
		case 1:
			fmt.Fprintf(&buf, "apiVersion: v1\nkind: Service\nmetadata: {name: app-%d, namespace: %s}\nspec:\n  selector: {app: app-%d}\n  ports: [{port: 80, targetPort: 8080}]\n", i, ns, i)
		case 2:
			fmt.Fprintf(&buf, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-%d, namespace: %s}\ndata: {LOG_LEVEL: info, FEATURE: \"on\"}\n", i, ns)
		default:
			fmt.Fprintf(&buf, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app-%d, namespace: %s}
spec:
  interval: 10m
  path: ./apps/app-%d
  prune: true
  sourceRef: {kind: GitRepository, name: apps}
`, i, ns, i)
		}
	}
	return buf.Bytes()
}

// BenchmarkValidateYAML1000VsDryRun: gitops.validateYAML over 1,000 resources vs
// `kubectl apply --dry-run=server` of the same stream on the test API server (with Flux's
// CRDs), both answering "valid". Reports ours-ms, anchor-ms, ratio and speedup (anchor /
// ours). Target: speedup ≥ 50.
func BenchmarkValidateYAML1000VsDryRun(b *testing.B) {
	kubectl := kubectlPath(b)
	c := fluxCluster.Get(b)
	c.AddReadyNode(b, "node-1")
	kubeconfig := c.Kubeconfig(b)
	svc, _, closeDB := benchSvc(b)
	defer closeDB()
	benchCall(b, svc, "clusters.register", map[string]any{"id": "c1", "name": "c1", "kubeconfig": kubeconfig}, nil)
	raw, _ := json.Marshal(map[string]any{"clusterId": "c1"})
	if _, err := svc.Registry().Call(model.WithActor(context.Background(), model.LocalActor("test")), "gitops.installFlux", raw); err != nil && model.CodeOf(err) != model.CodeFluxAlreadyInstalled {
		b.Fatal(err)
	}
	stream := validateStream(1000, "default")
	file := filepath.Join(b.TempDir(), "stream.yaml")
	if err := os.WriteFile(file, stream, 0o600); err != nil {
		b.Fatal(err)
	}
	// The validator is built on first use; build it before timing.
	benchCall(b, svc, "gitops.validateYAML", map[string]any{"yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"}, nil)
	ours := func() time.Duration {
		t0 := time.Now()
		var res struct {
			Valid bool `json:"valid"`
		}
		benchCall(b, svc, "gitops.validateYAML", map[string]any{"yaml": string(stream)}, &res)
		d := time.Since(t0)
		if !res.Valid {
			b.Fatalf("validateYAML says the stream is invalid")
		}
		return d
	}
	anchor := func() time.Duration {
		t0 := time.Now()
		runKubectl(b, kubectl, kubeconfig, "apply", "--dry-run=server", "--server-side", "-f", file)
		return time.Since(t0)
	}
	var o, a []time.Duration
	b.ResetTimer()
	for i := 0; i < max(b.N, 3); i++ {
		o, a = append(o, ours()), append(a, anchor())
	}
	b.StopTimer()
	om, am := medianMS(o), medianMS(a)
	b.ReportMetric(om, "ours-ms")
	b.ReportMetric(am, "anchor-ms")
	b.ReportMetric(om/am, "ratio")
	b.ReportMetric(am/om, "speedup")
}
