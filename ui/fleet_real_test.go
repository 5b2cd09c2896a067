package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/testcluster"
	"github.com/gitopstui/gitopstui/store"
)

var ksResource = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}

// putKustomization creates a Kustomization in flux-system and writes its Ready
// condition, as kustomize-controller would.
func putKustomization(t *testing.T, c *testcluster.Cluster, name string, ready bool, msg string) {
	t.Helper()
	st, reason := "True", "ReconciliationSucceeded"
	if !ready {
		st, reason = "False", "HealthCheckFailed"
	}
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": name, "namespace": "flux-system"},
		"spec":     map[string]any{"interval": "10m", "path": "./" + name, "prune": true, "sourceRef": map[string]any{"kind": "GitRepository", "name": name}}}}
	c.PutStatus(t, ksResource, obj, map[string]any{"lastAppliedRevision": "main@sha1:0123456789abcdef0123456789abcdef01234567",
		"conditions": []any{map[string]any{"type": "Ready", "status": st, "reason": reason, "message": msg,
			"lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}}})
}

// TestRealFleetThreeClusters: the fleet screen over the real registry, a real bbolt store
// and three API servers (each its own etcd) with Flux's CRDs, fed live by the watchers'
// informers. It shows every cluster's Kustomizations; when one API server goes down its
// cluster shows as unreachable with its rows marked stale, and the rows of the other two
// keep following their clusters.
func TestRealFleetThreeClusters(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	svc := services.New(services.Config{DataDir: dir, DB: db})
	clusters := map[string]*testcluster.Cluster{}
	for _, id := range []string{"east", "west", "north"} {
		c := testcluster.Start(t)
		c.AddReadyNode(t, "node-1")
		clusters[id] = c
		for _, call := range []struct{ name, in string }{
			{"clusters.register", `{"id":"` + id + `","name":"` + id + `","kubeconfig":"` + c.Kubeconfig(t) + `"}`},
			{"gitops.installFlux", `{"clusterId":"` + id + `"}`},
		} {
			if _, err := svc.Registry().Call(adminCtx, call.name, []byte(call.in)); err != nil {
				t.Fatalf("%s %s: %v", call.name, id, err)
			}
		}
		putKustomization(t, c, "app-"+id, true, "Applied revision: main")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := svc.StartWatchers(ctx); err != nil {
		t.Fatal(err)
	}
	tm := startReal(t, svc)
	waitScreen(t, tm, "Clusters (3)")
	keys(tm, "5")
	waitScreen(t, tm, "Fleet (3)", "east reachable", "west reachable", "north reachable", "CLUSTER", "app-east", "app-west", "app-north")

	clusters["north"].StopAPIServer(t)
	waitScreen(t, tm, "north UNREACHABLE", "ready?")
	putKustomization(t, clusters["east"], "app-east", false, "east web is not ready")
	putKustomization(t, clusters["west"], "app-west", false, "west web is not ready")
	putKustomization(t, clusters["east"], "app-east-2", true, "Applied revision: main")
	waitScreen(t, tm, "Fleet (4)", "east web is not ready", "west web is not ready", "app-east-2", "east reachable", "west reachable")

	// Not ready anywhere: the two that failed, not the ready ones (nor north's last-known ready row).
	keys(tm, "x")
	waitScreen(t, tm, "Fleet (2 of 4)  sort: cluster  not ready anywhere", "app-east ", "app-west")
	if s := tm.last.Load().(string); strings.Contains(s, "app-east-2") || strings.Contains(s, "app-north") {
		t.Fatalf("a ready row passes the not-ready filter:\n%s", s)
	}
}
