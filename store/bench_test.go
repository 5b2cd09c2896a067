package store_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

// minSamples is how many operations a latency benchmark measures at least,
// whatever b.N is (`make bench` runs -benchtime 1x), so that p50/p99 mean something.
const minSamples = 500

// benchDeployment is the i-th deployment of a store spread over 10 projects,
// 3 environments each and the 4 methods.
func benchDeployment(i int, at time.Time) model.Deployment {
	p := i % 10
	e := (i / 10) % 3
	d := model.Deployment{
		ID:               fmt.Sprintf("dep-%07d", i),
		ProjectID:        fmt.Sprintf("proj-%02d", p),
		EnvironmentID:    fmt.Sprintf("env-%02d-%d", p, e),
		DeploymentMethod: model.DeploymentMethods[i%len(model.DeploymentMethods)],
		Status:           model.DeploySuccess,
		Image:            fmt.Sprintf("registry.example/shop/api:1.%d.%d", i/100, i%100),
		Message:          "roll out the new API build with the cache fix and the new health checks",
		DeployedBy:       "ci",
		CreatedAt:        at,
		UpdatedAt:        at,
	}
	if d.DeploymentMethod == model.MethodGitOpsUI || d.DeploymentMethod == model.MethodGitOpsGit {
		d.GitCommitSha = fmt.Sprintf("%040x", i)
	}
	return d
}

// seedDeployments stores n deployments in batches.
func seedDeployments(b *testing.B, db *store.DB, n int) {
	b.Helper()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for start := 0; start < n; start += 1000 {
		err := db.Update(func(tx *store.Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				if err := store.Deployments.Put(tx, benchDeployment(i, base.Add(time.Duration(i)*time.Second))); err != nil {
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

// latencies runs op b.N times under the timer, then untimed until there are
// minSamples samples, and reports p50 and p99 in µs.
func latencies(b *testing.B, op func(i int)) {
	b.Helper()
	samples := make([]time.Duration, 0, max(b.N, minSamples))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		op(i)
		samples = append(samples, time.Since(t0))
	}
	b.StopTimer()
	for i := b.N; len(samples) < minSamples; i++ {
		t0 := time.Now()
		op(i)
		samples = append(samples, time.Since(t0))
	}
	slices.Sort(samples)
	pct := func(p float64) float64 {
		return float64(samples[int(p*float64(len(samples)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// BenchmarkStoreUpdate: one committed (fsynced) Update that stores a new
// deployment with its five index entries, on a store of 10,000.
func BenchmarkStoreUpdate(b *testing.B) {
	db, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	seedDeployments(b, db, 10_000)
	base := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	latencies(b, func(i int) {
		d := benchDeployment(1_000_000+i, base.Add(time.Duration(i)*time.Millisecond))
		if err := db.Update(func(tx *store.Tx) error { return store.Deployments.Put(tx, d) }); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkStoreRead: read transactions on a store of 10,000 deployments:
// one record by id, and the first page (50, newest first) of an
// environment's deployments through its index.
func BenchmarkStoreRead(b *testing.B) {
	db, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const n = 10_000
	seedDeployments(b, db, n)
	b.Run("get", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		latencies(b, func(int) {
			id := fmt.Sprintf("dep-%07d", rng.IntN(n))
			if err := db.View(func(tx *store.Tx) error {
				_, err := store.Deployments.Get(tx, id)
				return err
			}); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("list50", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(3, 4))
		latencies(b, func(int) {
			env := fmt.Sprintf("env-%02d-%d", rng.IntN(10), rng.IntN(3))
			if err := db.View(func(tx *store.Tx) error {
				items, _, err := store.Deployments.List(tx, store.Query[model.Deployment]{Index: "environment", Value: env, Newest: true, Limit: 50})
				if err == nil && len(items) != 50 {
					err = fmt.Errorf("list %s: %d items, want 50", env, len(items))
				}
				return err
			}); err != nil {
				b.Fatal(err)
			}
		})
	})
}
