package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

// coldRuns is how many runs the median is taken over at least, whatever b.N
// is (`make bench` runs -benchtime 1x).
const coldRuns = 5

// BenchmarkColdDeploymentsList: `gitopstui --procedure deployments.list
// --input '{"limit":50}'` as a fresh process (the release build: CGO_ENABLED=0,
// -trimpath, -s -w) on a store of 10,000 deployments over 10 projects, 30
// environments and the 4 methods. Reports the median wall time of the runs
// (target: at most 50 ms).
func BenchmarkColdDeploymentsList(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "gitopstui")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	dataDir := b.TempDir()
	seedStore(b, dataDir, 10_000)

	runOnce := func() ([]byte, time.Duration) {
		var out, errOut bytes.Buffer
		cmd := exec.Command(bin, "--data-dir", dataDir, "--procedure", "deployments.list", "--input", `{"limit":50}`)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		cmd.Env = append(os.Environ(), "GITOPSTUI_DATA_DIR=")
		t0 := time.Now()
		err := cmd.Run()
		d := time.Since(t0)
		if err != nil {
			b.Fatalf("gitopstui: %v\n%s", err, errOut.String())
		}
		return out.Bytes(), d
	}
	// Check the answer once, outside the measurements.
	out, _ := runOnce()
	var page struct {
		Items      []model.Deployment `json:"items"`
		NextCursor string             `json:"nextCursor"`
	}
	if err := json.Unmarshal(out, &page); err != nil {
		b.Fatalf("deployments.list output: %v\n%s", err, out)
	}
	if len(page.Items) != 50 || page.NextCursor == "" || page.Items[0].ID != "dep-0009999" {
		b.Fatalf("deployments.list: %d items (first %v), cursor %q; want the newest 50 and a cursor", len(page.Items), page.Items[0].ID, page.NextCursor)
	}

	samples := make([]time.Duration, 0, max(b.N, coldRuns))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, d := runOnce()
		samples = append(samples, d)
	}
	b.StopTimer()
	for len(samples) < coldRuns {
		_, d := runOnce()
		samples = append(samples, d)
	}
	// The floor: the same binary starting and exiting without opening the store.
	floor := make([]time.Duration, 0, coldRuns)
	for range coldRuns {
		cmd := exec.Command(bin, "version")
		t0 := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("gitopstui version: %v\n%s", err, out)
		}
		floor = append(floor, time.Since(t0))
	}
	b.ReportMetric(median(samples), "median-ms")
	b.ReportMetric(float64(slices.Max(samples).Microseconds())/1e3, "max-ms")
	b.ReportMetric(median(floor), "version-median-ms")
}

// median returns the median of ds in milliseconds.
func median(ds []time.Duration) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[len(s)/2].Microseconds()) / 1e3
}

// seedStore writes n deployments (and their projects and environments)
// straight through the store.
func seedStore(b *testing.B, dataDir string, n int) {
	b.Helper()
	db, err := store.Open(dataDir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err = db.Update(func(tx *store.Tx) error {
		if err := store.Clusters.Put(tx, model.Cluster{ID: "cluster-1", Name: "k3s", Kubeconfig: "/dev/null", Context: "default", CreatedAt: base, UpdatedAt: base}); err != nil {
			return err
		}
		for p := range 10 {
			if err := store.Projects.Put(tx, model.Project{ID: fmt.Sprintf("proj-%02d", p), Name: fmt.Sprintf("Project %d", p), CreatedAt: base, UpdatedAt: base}); err != nil {
				return err
			}
			for e, name := range []string{"dev", "staging", "prod"} {
				env := model.Environment{ID: fmt.Sprintf("env-%02d-%d", p, e), ProjectID: fmt.Sprintf("proj-%02d", p), Name: name,
					ClusterID: "cluster-1", Namespace: fmt.Sprintf("p%d-%s", p, name), CreatedAt: base, UpdatedAt: base,
					GitOpsConfig: model.GitOpsConfig{GitBranch: "main", GitPath: "./k8s/overlays/" + name, SyncInterval: "5m"}}
				if err := store.Environments.Put(tx, env); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for start := 0; start < n; start += 1000 {
		err := db.Update(func(tx *store.Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				p, e := i%10, (i/10)%3
				at := base.Add(time.Duration(i) * time.Minute)
				d := model.Deployment{
					ID: fmt.Sprintf("dep-%07d", i), ProjectID: fmt.Sprintf("proj-%02d", p), EnvironmentID: fmt.Sprintf("env-%02d-%d", p, e),
					DeploymentMethod: model.DeploymentMethods[i%len(model.DeploymentMethods)], Status: model.DeploySuccess,
					Image: fmt.Sprintf("registry.example/shop/api:1.%d.%d", i/100, i%100), DeployedBy: "ci",
					Message: "roll out the new API build", CreatedAt: at, UpdatedAt: at, CompletedAt: &at,
				}
				if d.DeploymentMethod == model.MethodGitOpsUI || d.DeploymentMethod == model.MethodGitOpsGit {
					d.GitCommitSha = fmt.Sprintf("%040x", i)
					d.GitCommitURL = "https://github.com/acme/shop-config/commit/" + d.GitCommitSha
				}
				if err := store.Deployments.Put(tx, d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
