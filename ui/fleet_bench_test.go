package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/testcluster"
	"github.com/gitopstui/gitopstui/store"
)

// fleetPerCluster is how many Kustomizations each of the three clusters holds.
const fleetPerCluster = 1000

// fleetBenchCluster starts an API server of its own (its own etcd) with Flux's CRDs
// (gitops.installFlux) and n Ready Kustomizations, and registers it.
func fleetBenchCluster(b *testing.B, svc *services.Services, id string, n int) dynamic.Interface {
	c := testcluster.Start(b)
	c.AddReadyNode(b, "node-1")
	for _, call := range []struct{ name, in string }{
		{"clusters.register", `{"id":"` + id + `","name":"` + id + `","kubeconfig":"` + c.Kubeconfig(b) + `"}`},
		{"gitops.installFlux", `{"clusterId":"` + id + `"}`},
	} {
		if _, err := svc.Registry().Call(adminCtx, call.name, []byte(call.in)); err != nil {
			b.Fatalf("%s %s: %v", call.name, id, err)
		}
	}
	cfg := c.Config()
	cfg.QPS, cfg.Burst = 2000, 2000
	dyn := dynamic.NewForConfigOrDie(cfg)
	ri := dyn.Resource(ksResource).Namespace("flux-system")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				name := fmt.Sprintf("app-%04d", i)
				obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
					"metadata": map[string]any{"name": name, "namespace": "flux-system"},
					"spec": map[string]any{"interval": "10m", "path": "./apps/" + name, "prune": true,
						"sourceRef": map[string]any{"kind": "GitRepository", "name": "fleet"}}}}
				if _, err := ri.Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
				if _, err := ri.Patch(context.Background(), name, types.MergePatchType, readyPatch(true, "Applied revision: main@sha1:"+strings.Repeat("a", 40)), metav1.PatchOptions{}, "status"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return dyn
}

func readyPatch(ok bool, msg string) []byte {
	st, reason := "True", "ReconciliationSucceeded"
	if !ok {
		st, reason = "False", "HealthCheckFailed"
	}
	p, _ := json.Marshal(map[string]any{"status": map[string]any{"lastAppliedRevision": "main@sha1:" + strings.Repeat("a", 40),
		"conditions": []any{map[string]any{"type": "Ready", "status": st, "reason": reason, "message": msg,
			"lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}}}})
	return p
}

// fleetSession is a new session on the fleet screen; Init loads the fleet
// through the real registry.
func fleetSession(b *testing.B, svc *services.Services) *harness {
	opts := Options{Caller: svc.Registry(), Actor: model.Actor{User: "alice", Role: model.RoleAdmin, Source: "bench"}, Dark: true, Ctx: adminCtx}
	m := New(opts)
	m.s.static = true
	m.stack = []screen{newFleet(m.s)}
	h := &harness{t: b, m: m, w: 160, h: 50}
	h.send(tea.WindowSizeMsg{Width: 160, Height: 50})
	h.run(h.m.Init())
	return h
}

// BenchmarkFleet3x1000: three API servers (each its own etcd) with 1,000 Kustomizations
// each, watched by the services' informers over a real bbolt store. Reports the first
// frame of a new fleet screen (gitops.listFleet through the registry, the table drawn),
// the delay from a status patch on an API server to the fleet screen having drawn it
// (p50/p95 over 100 patches spread over the clusters: informer → hub → Update → View),
// and the process's resident memory once everything is loaded.
func BenchmarkFleet3x1000(b *testing.B) {
	const samples = 100
	dir := b.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	svc := services.New(services.Config{DataDir: dir, DB: db})
	ids := []string{"east", "west", "north"}
	dyns := map[string]dynamic.Interface{}
	for _, id := range ids {
		dyns[id] = fleetBenchCluster(b, svc, id, fleetPerCluster)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := svc.StartWatchers(ctx); err != nil {
		b.Fatal(err)
	}
	waitFleetLive(b, svc, len(ids)*fleetPerCluster)
	events := svc.Subscribe(ctx)

	b.ResetTimer()
	t0 := time.Now()
	h := fleetSession(b, svc)
	v := h.m.View()
	first := time.Since(t0)
	b.StopTimer()
	wantFrame(b, v, fmt.Sprintf("Fleet (%d)", len(ids)*fleetPerCluster), "east reachable", "north reachable", "app-0000")

	lat := make([]time.Duration, 0, samples)
	for i := range samples {
		id, name, msg := ids[i%len(ids)], fmt.Sprintf("app-%04d", (i*37)%fleetPerCluster), "bench-"+strconv.Itoa(i)
		start := time.Now()
		if _, err := dyns[id].Resource(ksResource).Namespace("flux-system").Patch(ctx, name, types.MergePatchType, readyPatch(false, msg), metav1.PatchOptions{}, "status"); err != nil {
			b.Fatal(err)
		}
		for seen := false; !seen; {
			select {
			case e := <-events:
				h.send(statusMsg(e))
				_ = h.m.View()
				seen = e.Fleet != nil && e.Fleet.Item != nil && e.Fleet.Item.ClusterID == id && e.Fleet.Item.Message == msg
			case <-time.After(30 * time.Second):
				b.Fatalf("no fleet event for %s/%s", id, name)
			}
		}
		lat = append(lat, time.Since(start))
	}
	h.press("x") // not ready anywhere: every patched row, and only those
	wantFrame(b, h.m.View(), fmt.Sprintf("Fleet (%d of %d)", samples, len(ids)*fleetPerCluster))
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	runtime.GC()
	b.ReportMetric(float64(first.Microseconds())/1000, "first-frame-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(rssMB(b), "rss-MB")
}

// waitFleetLive waits until the informers of every cluster have synced n resources.
func waitFleetLive(b *testing.B, svc *services.Services, n int) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res, err := api.Invoke(adminCtx, svc.Registry(), api.ListFleet, api.FleetInput{})
		if err != nil {
			b.Fatal(err)
		}
		live := len(res.Clusters) > 0
		for _, c := range res.Clusters {
			live = live && c.Live && c.Reachable
		}
		if live && len(res.Resources) == n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("fleet not live: %d of %d resources, %+v", len(res.Resources), n, res.Clusters)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rssMB is the process's resident set size (VmRSS) in MB.
func rssMB(b *testing.B) float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
