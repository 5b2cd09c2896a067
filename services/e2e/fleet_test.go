package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
	"github.com/gitopstui/gitopstui/services/testcluster"
)

// fleetCluster is a control plane of its own (its own etcd) with Flux's CRDs installed
// through gitops.installFlux and no controllers: the test writes the Flux objects' status
// as a controller would.
type fleetCluster struct {
	id string
	c  *testcluster.Cluster
}

func (l *loop) addFleetCluster(t *testing.T, id string) *fleetCluster {
	t.Helper()
	c := testcluster.Start(t)
	c.AddReadyNode(t, "node-1")
	mustCall(t, l.svc, "clusters.register", map[string]any{"id": id, "name": id, "kubeconfig": c.Kubeconfig(t)}, nil)
	mustCall(t, l.svc, "gitops.installFlux", map[string]any{"clusterId": id}, nil)
	return &fleetCluster{id: id, c: c}
}

// put creates a Flux object and writes its status.
func (f *fleetCluster) put(t *testing.T, obj *unstructured.Unstructured, status map[string]any) {
	t.Helper()
	gvr := ksGVR
	if obj.GetKind() == "GitRepository" {
		gvr = gitGVR
	}
	f.c.PutStatus(t, gvr, obj, status)
}

func ready(ok bool, reason, msg string) []any {
	st := "True"
	if !ok {
		st = "False"
	}
	return []any{map[string]any{"type": "Ready", "status": st, "reason": reason, "message": msg,
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339), "observedGeneration": int64(1)}}
}

func kustomization(name, path, source string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": name, "namespace": fluxNS},
		"spec":     map[string]any{"interval": interval, "path": path, "prune": true, "sourceRef": map[string]any{"kind": "GitRepository", "name": source}}}}
}

func (l *loop) fleet(t *testing.T, in map[string]any) api.FleetResult {
	t.Helper()
	var res api.FleetResult
	mustCall(t, l.svc, "gitops.listFleet", in, &res)
	return res
}

func fleetItem(res api.FleetResult, cluster, name string) *api.FleetItem {
	for i := range res.Resources {
		if res.Resources[i].ClusterID == cluster && res.Resources[i].Name == name {
			return &res.Resources[i]
		}
	}
	return nil
}

func fleetClusterOf(res api.FleetResult, id string) *api.FleetCluster {
	for i := range res.Clusters {
		if res.Clusters[i].ID == id {
			return &res.Clusters[i]
		}
	}
	return nil
}

// TestFleetAcrossThreeClusters: three API servers, each with its own etcd, the real Flux
// controllers on the first. gitops.listFleet shows every cluster's Kustomizations from
// the running informers with the revision skew of the repository path two clusters apply;
// when the third cluster's API server goes down it shows as unreachable with its last rows
// marked stale, while the other two keep updating: a deploy on the first and a status
// change on the second.
func TestFleetAcrossThreeClusters(t *testing.T) {
	l := setupLoop(t)
	envID, _, _, repoName := l.gitopsEnv(t, "prod", true)
	var sum api.ResourceSummary
	mustCall(t, l.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": envID, "name": "shop-prod",
		"type": "kustomization"}, &sum)
	old := gittest.Git(t, l.git.Dir(repoName), "rev-parse", "main")
	waitUntil(t, waitLimit, "shop-prod ready", func() (bool, string) {
		d := l.resource(t, sum.ID)
		return d.Status == model.StatusReady && d.LastAppliedRevision == rev(old), d.Status
	})
	b, c := l.addFleetCluster(t, "cluster-b"), l.addFleetCluster(t, "cluster-c")
	// cluster-b applies the same repository path, at the old head.
	src := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
		"metadata": map[string]any{"name": "shop", "namespace": fluxNS},
		"spec":     map[string]any{"interval": interval, "url": l.git.RepoURL(repoName), "ref": map[string]any{"branch": "main"}}}}
	b.put(t, src, map[string]any{"artifact": map[string]any{"revision": rev(old), "path": "x", "url": "http://x", "digest": "sha256:" + strings.Repeat("0", 64),
		"lastUpdateTime": time.Now().UTC().Format(time.RFC3339)}, "conditions": ready(true, "Succeeded", "stored artifact")})
	b.put(t, kustomization("shop-b", "./k8s/overlays/prod", "shop"), map[string]any{"lastAppliedRevision": rev(old),
		"lastAttemptedRevision": rev(old), "conditions": ready(true, "ReconciliationSucceeded", "Applied revision: "+rev(old))})
	c.put(t, kustomization("edge", "./edge", "edge"), map[string]any{"conditions": ready(false, "ArtifactFailed", "edge source not found")})

	var res api.DeployResult
	mustCall(t, l.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": envID, "image": "ghcr.io/acme/web:3.0.0"}, &res)
	waitUntil(t, waitLimit, "the fleet of three clusters", func() (bool, string) {
		f := l.fleet(t, map[string]any{})
		a, bb, cc := fleetItem(f, "cluster-123", "shop-prod"), fleetItem(f, "cluster-b", "shop-b"), fleetItem(f, "cluster-c", "edge")
		ok := len(f.Clusters) == 3 && a != nil && bb != nil && cc != nil && a.Revision == rev(res.CommitSha) && a.ResourceID == sum.ID &&
			bb.Status == model.StatusReady && cc.Status == model.StatusFailed && cc.Message == "edge source not found"
		for _, cl := range f.Clusters {
			ok = ok && cl.Reachable && cl.Live
		}
		return ok, fmt.Sprintf("%+v %+v", f.Clusters, f.Resources)
	})
	f := l.fleet(t, map[string]any{})
	if len(f.Skew) != 1 {
		t.Fatalf("skew: %+v", f.Skew)
	}
	sk := f.Skew[0]
	if sk.Path != "k8s/overlays/prod" || sk.Branch != "main" || sk.Head != res.CommitSha || !sk.Skewed || len(sk.Runs) != 2 ||
		sk.Runs[0].ClusterID != "cluster-123" || sk.Runs[0].Behind != 0 || sk.Runs[0].EnvironmentID != envID ||
		sk.Runs[1].ClusterID != "cluster-b" || sk.Runs[1].Revision != old || sk.Runs[1].Behind != 1 {
		t.Fatalf("skew: %+v", sk)
	}
	if nr := l.fleet(t, map[string]any{"notReady": true}); len(nr.Resources) != 1 || nr.Resources[0].Name != "edge" {
		t.Fatalf("not ready anywhere: %+v", nr.Resources)
	}
	if only := l.fleet(t, map[string]any{"clusterId": "cluster-b"}); len(only.Clusters) != 1 || len(only.Resources) != 1 || only.Resources[0].Name != "shop-b" {
		t.Fatalf("clusterId filter: %+v", only)
	}
	var list []api.ResourceView
	mustCall(t, l.svc, "gitops.listGitOpsResources", map[string]any{"clusterId": "cluster-123"}, &list)
	if len(list) != 1 || list[0].ID != sum.ID {
		t.Fatalf("listGitOpsResources on cluster-123: %+v", list)
	}
	mustCall(t, l.svc, "gitops.listGitOpsResources", map[string]any{"clusterId": "cluster-b"}, &list)
	if len(list) != 0 {
		t.Fatalf("listGitOpsResources on cluster-b: %+v", list)
	}

	fleetOneDown(t, l, b, c, envID, old)
}

// fleetOneDown takes cluster-c's API server down and checks the fleet shows it
// unreachable with stale rows while cluster-123 and cluster-b keep updating.
func fleetOneDown(t *testing.T, l *loop, b, c *fleetCluster, envID, old string) {
	c.c.StopAPIServer(t)
	waitUntil(t, waitLimit, "cluster-c unreachable", func() (bool, string) {
		f := l.fleet(t, map[string]any{})
		cc, it := fleetClusterOf(f, "cluster-c"), fleetItem(f, "cluster-c", "edge")
		return cc != nil && !cc.Reachable && cc.Error != "" && it != nil && it.Stale, fmt.Sprintf("%+v", f.Clusters)
	})
	b.put(t, kustomization("shop-b", "./k8s/overlays/prod", "shop"), map[string]any{"lastAppliedRevision": rev(old),
		"lastAttemptedRevision": rev(old), "conditions": ready(false, "HealthCheckFailed", "web is not ready")})
	var res api.DeployResult
	mustCall(t, l.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": envID, "image": "ghcr.io/acme/web:3.0.1"}, &res)
	l.waitEvent(t, "fleet event of cluster-b's change", func(e api.StatusEvent) bool {
		return e.Fleet != nil && e.Fleet.Item != nil && e.Fleet.Item.ClusterID == "cluster-b" && e.Fleet.Item.Status == model.StatusFailed
	})
	waitUntil(t, waitLimit, "the two reachable clusters updated", func() (bool, string) {
		f := l.fleet(t, map[string]any{})
		a, bb := fleetItem(f, "cluster-123", "shop-prod"), fleetItem(f, "cluster-b", "shop-b")
		ok := a != nil && bb != nil && a.Revision == rev(res.CommitSha) && !a.Stale && bb.Status == model.StatusFailed && !bb.Stale &&
			bb.Message == "web is not ready" && fleetClusterOf(f, "cluster-123").Reachable && fleetClusterOf(f, "cluster-b").Reachable
		return ok, fmt.Sprintf("%+v", f.Resources)
	})
	if f := l.fleet(t, map[string]any{}); f.Skew[0].Runs[1].Behind != 2 {
		t.Fatalf("cluster-b two commits behind: %+v", f.Skew)
	}
}
