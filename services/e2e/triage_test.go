package e2e_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// chainDepth is the length of the dependsOn chain the triage tests build.
const chainDepth = 6

// chainFiles is a repository of ConfigMap-only directories: prefix1..N for
// a chain, p1..p4 for single objects, broken (a kustomization naming a file
// that does not exist) and hc (a Deployment no kubelet ever runs).
func chainFiles(prefixes ...string) map[string]string {
	files := map[string]string{"README.md": "chain\n"}
	cm := func(dir, name string) {
		files[dir+"/kustomization.yaml"] = "resources:\n  - cm.yaml\n"
		files[dir+"/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  level: " + name + "\n"
	}
	for _, p := range prefixes {
		for i := 1; i <= chainDepth; i++ {
			cm(fmt.Sprintf("%s/l%d", p, i), fmt.Sprintf("%s-l%d", p, i))
		}
	}
	for i := 1; i <= 4; i++ {
		cm(fmt.Sprintf("p%d", i), fmt.Sprintf("p%d", i))
	}
	files["broken/kustomization.yaml"] = "resources:\n  - missing.yaml\n"
	files["hc/kustomization.yaml"] = "resources:\n  - deploy.yaml\n"
	files["hc/deploy.yaml"] = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: stuck\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: stuck}\n" +
		"  template:\n    metadata:\n      labels: {app: stuck}\n    spec:\n      containers:\n        - name: c\n          image: ghcr.io/acme/stuck:1\n"
	return files
}

// chainEnv creates the manual-sync environment "chain" (namespace
// shop-chain) on a repository of chainFiles, enabled for GitOps and fetched.
// Resources created in it start suspended.
func (l *loop) chainEnv(t testing.TB, prefixes ...string) string {
	t.Helper()
	envID, repoID, repoName := "env-chain", "repo-chain", "acme/chain.git"
	l.git.CreateRepo(t, repoName, chainFiles(prefixes...))
	l.createNamespace(t, "shop-chain")
	mustCall(t, l.svc, "environments.create", map[string]any{"id": envID, "projectId": "proj-shop", "name": "chain", "clusterId": "cluster-123", "namespace": "shop-chain"}, nil)
	mustCall(t, l.svc, "repositories.create", map[string]any{"id": repoID, "projectId": "proj-shop", "fullName": "acme/chain", "url": l.git.RepoURL(repoName),
		"auth": map[string]any{"type": "basic-env", "username": l.git.User, "tokenEnv": "SHOP_GIT_TOKEN"}}, nil)
	mustCall(t, l.svc, "environments.configureGitOps", map[string]any{"environmentId": envID, "config": map[string]any{
		"enabled": true, "autoSync": false, "repositoryId": repoID, "gitPath": "./p1", "syncInterval": interval}}, nil)
	mustCall(t, l.svc, "repositories.enableGitOps", map[string]any{"repositoryId": repoID,
		"config": map[string]any{"fluxNamespace": fluxNS, "syncInterval": interval, "secretRef": "shop-git-auth"}}, nil)
	head := gittest.Git(t, l.git.Dir(repoName), "rev-parse", "main")
	waitUntil(t, waitLimit, "repository "+repoName+" fetched by Flux", func() (bool, string) {
		var st api.FluxStatus
		mustCall(t, l.svc, "repositories.getFluxStatus", map[string]any{"repositoryId": repoID}, &st)
		return string(st.SyncStatus) == model.SyncReady && st.LastSyncCommit == head, fmt.Sprintf("%+v", st)
	})
	return envID
}

// createKs creates a Kustomization of the chain environment (suspended, as
// the environment syncs manually) and returns its id.
func (l *loop) createKs(t testing.TB, envID, name string, cfg map[string]any) string {
	t.Helper()
	var sum api.ResourceSummary
	mustCall(t, l.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": envID, "name": name,
		"type": "kustomization", "config": cfg}, &sum)
	return sum.ID
}

// createChain creates prefix-l1 … prefix-lN, each depending on the one before.
func (l *loop) createChain(t testing.TB, envID, prefix string) (names, ids []string) {
	t.Helper()
	for i := 1; i <= chainDepth; i++ {
		name := fmt.Sprintf("%s-l%d", prefix, i)
		cfg := map[string]any{"path": fmt.Sprintf("./%s/l%d", prefix, i), "interval": interval}
		if i > 1 {
			cfg["dependsOn"] = []map[string]any{{"name": names[i-2]}}
		}
		names = append(names, name)
		ids = append(ids, l.createKs(t, envID, name, cfg))
	}
	return names, ids
}

// TestTriageOnRealControllers runs issue 16 against the real
// kustomize-controller and source-controller: a six-level chain resumed in
// dependency order, suspension with a reason that expires, and a failing
// source, a failing build, a health check that times out and a cycle, each
// diagnosed in its class.
func TestTriageOnRealControllers(t *testing.T) {
	l := setupLoop(t)
	envID := l.chainEnv(t, "chain")
	names, ids := l.createChain(t, envID, "chain")
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	step("dependencyGraph/SixWaves", func(t *testing.T) { l.chainGraph(t, names) })
	step("bulkResume/ChainReadyInOrder", func(t *testing.T) { l.bulkResumeChain(t, envID, names) })
	step("bulkSuspend/ReasonOnEveryObject", func(t *testing.T) { l.bulkSuspendChain(t, envID, names) })
	step("suspendUntil/ExpiredIsResumedByTheWatcher", func(t *testing.T) { l.expiredSuspension(t, ids[0]) })
	step("bulkResume/SuspendedRestReady", func(t *testing.T) {
		var res api.BulkResult
		mustCall(t, l.svc, "gitops.bulk", map[string]any{"action": "resume", "selector": map[string]any{"environmentId": envID, "suspended": true}}, &res)
		if len(res.Ran) != chainDepth-1 || len(res.Failed)+len(res.Skipped) != 0 {
			t.Fatalf("bulk resume of the suspended rest: %+v", res)
		}
	})
	step("diagnosis/BuildFailed", func(t *testing.T) { l.diagnoseBuildFailed(t, envID) })
	step("diagnosis/HealthCheckTimesOut", func(t *testing.T) { l.diagnoseHealthCheck(t, envID) })
	step("diagnosis/SourceFailed", func(t *testing.T) { l.diagnoseSourceFailed(t, envID) })
	step("bulkSync/FailureSkipsOnlyItsDependents", func(t *testing.T) { l.bulkSyncWithFailure(t, envID) })
	step("dependencyGraph/CycleNamed", func(t *testing.T) { l.cycle(t, envID) })
	step("triage/GroupedUnderRootCause", func(t *testing.T) { l.triage(t, envID) })
}

func (l *loop) chainGraph(t *testing.T, names []string) {
	var g api.Graph
	mustCall(t, l.svc, "gitops.dependencyGraph", map[string]any{"clusterId": "cluster-123", "format": "mermaid"}, &g)
	var chainWaves []string
	for _, w := range g.Waves {
		for _, n := range w {
			if strings.Contains(n, "/chain-l") {
				chainWaves = append(chainWaves, n)
			}
		}
	}
	want := make([]string, len(names))
	for i, n := range names {
		want[i] = "Kustomization/" + fluxNS + "/" + n
	}
	if !slices.Equal(chainWaves, want) || len(g.Cycles) != 0 || !strings.Contains(g.Text, "chain_l2 --> ") {
		t.Fatalf("waves %v (want %v), cycles %v, text:\n%s", g.Waves, want, g.Cycles, g.Text)
	}
	for _, n := range g.Nodes {
		if n.Name == names[0] && len(n.Dependents) != chainDepth-1 {
			t.Fatalf("blast radius of %s: %v", n.Name, n.Dependents)
		}
		if n.Name == names[0] && n.Class != api.DiagSuspended {
			t.Fatalf("a created resource of a manual-sync environment: %+v", n)
		}
	}
}

func (l *loop) bulkResumeChain(t *testing.T, envID string, names []string) {
	var progress []api.BulkProgress
	ctx := api.WithProgress(model.WithActor(context.Background(), model.LocalActor("test")), func(p api.BulkProgress) { progress = append(progress, p) })
	res, err := api.Invoke(ctx, l.svc.Registry(), api.Bulk, api.BulkInput{Action: api.BulkResume,
		Selector: api.BulkSelector{EnvironmentID: envID, Names: names}})
	if err != nil || len(res.Ran) != chainDepth || len(res.Failed) != 0 || len(res.Skipped) != 0 || len(res.Waves) != chainDepth {
		t.Fatalf("bulk resume: %+v %v", res, err)
	}
	// One report when each object starts, one when it is done, in chain order.
	if len(progress) != 2*chainDepth || progress[len(progress)-1].Done != chainDepth || progress[len(progress)-1].Total != chainDepth {
		t.Fatalf("progress %+v", progress)
	}
	for i := range chainDepth {
		if s, d := progress[2*i].Item, progress[2*i+1].Item; s.State != api.BulkStarted || d.State != api.BulkRan || s.Node != d.Node || progress[2*i+1].Done != i+1 {
			t.Fatalf("progress %d: %+v then %+v", i, s, d)
		}
	}
	for i, it := range res.Ran {
		if it.Node != "Kustomization/"+fluxNS+"/"+names[i] || it.Wave != i || it.Status != model.StatusReady {
			t.Fatalf("ran[%d] = %+v: not the chain in order", i, it)
		}
	}
	for _, n := range names {
		if _, err := l.cs.CoreV1().ConfigMaps("shop-chain").Get(context.Background(), n, metav1.GetOptions{}); err != nil {
			t.Fatalf("ConfigMap of %s: %v", n, err)
		}
		if rc := readyCondition(l.kustomization(t, n)); rc == nil || rc["status"] != "True" {
			t.Fatalf("%s Ready condition %v", n, rc)
		}
	}
}

func (l *loop) bulkSuspendChain(t *testing.T, envID string, names []string) {
	var res api.BulkResult
	mustCall(t, l.svc, "gitops.bulk", map[string]any{"action": "suspend", "reason": "freeze for the db migration", "until": "1h",
		"selector": map[string]any{"environmentId": envID, "names": names}}, &res)
	if len(res.Ran) != chainDepth || res.Ran[0].Node != "Kustomization/"+fluxNS+"/"+names[chainDepth-1] {
		t.Fatalf("bulk suspend (dependents first): %+v", res)
	}
	for _, n := range names {
		u := l.kustomization(t, n)
		a := u.GetAnnotations()
		susp, _, _ := unstructured.NestedBool(u.Object, "spec", "suspend")
		if !susp || a["gitopstui.io/suspend-reason"] != "freeze for the db migration" || a["gitopstui.io/suspended-by"] == "" || a["gitopstui.io/suspend-until"] == "" {
			t.Fatalf("%s suspend %v annotations %v", n, susp, a)
		}
	}
	var list []api.ResourceView
	mustCall(t, l.svc, "gitops.listGitOpsResources", map[string]any{"environmentId": envID, "suspended": true}, &list)
	if len(list) != chainDepth || list[0].Suspension == nil || list[0].Suspension.Reason != "freeze for the db migration" || list[0].Suspension.Expired {
		t.Fatalf("suspended list: %+v", list)
	}
	mustCall(t, l.svc, "gitops.listGitOpsResources", map[string]any{"environmentId": envID, "status": "!suspended"}, &list)
	if len(list) != 0 {
		t.Fatalf("status !suspended lists %d", len(list))
	}
}

func (l *loop) expiredSuspension(t *testing.T, id string) {
	mustCall(t, l.svc, "gitops.suspendGitOpsResource", map[string]any{"id": id, "reason": "short pause", "until": "1s"}, nil)
	waitUntil(t, waitLimit, "expired suspension resumed by the watcher", func() (bool, string) {
		d := l.resource(t, id)
		return !d.Suspended && d.Status == model.StatusReady && d.Suspension == nil, fmt.Sprintf("%s suspended %v %+v", d.Status, d.Suspended, d.Suspension)
	})
	if a := l.kustomization(t, "chain-l1").GetAnnotations(); a["gitopstui.io/suspend-reason"] != "" {
		t.Fatalf("annotations after the resume: %v", a)
	}
}

// firstVerdict resumes a resource and returns the first status event of it
// that is past suspension and reconciling: what the watcher published.
func (l *loop) firstVerdict(t *testing.T, id string, pass ...string) model.GitOpsResource {
	mustCall(t, l.svc, "gitops.resumeGitOpsResource", map[string]any{"id": id}, nil)
	var got model.GitOpsResource
	l.waitEvent(t, "a verdict on "+id, func(e api.StatusEvent) bool {
		r := e.Resource
		if r.ID != id || e.Deployment != nil || slices.Contains(append(pass, api.DiagSuspended, api.DiagFirstApply, api.DiagProgressing, ""), r.Diagnosis) {
			return false
		}
		got = r
		return true
	})
	return got
}

func (l *loop) diagnoseBuildFailed(t *testing.T, envID string) {
	id := l.createKs(t, envID, "broken", map[string]any{"path": "./broken", "interval": interval})
	if r := l.firstVerdict(t, id); r.Diagnosis != api.DiagBuildFail || r.Status != model.StatusFailed {
		t.Fatalf("first verdict on a broken build: %s %s %q", r.Diagnosis, r.Status, r.ErrorMessage)
	}
	d := l.resource(t, id).Diagnosis
	if d == nil || d.Class != api.DiagBuildFail || !strings.Contains(d.Sentence, "missing.yaml") || d.NextAction == "" || d.Attempts < 1 {
		t.Fatalf("diagnosis: %+v", d)
	}
	// A dependent of the broken build is blocked with broken as its root cause.
	dep := l.createKs(t, envID, "after-broken", map[string]any{"path": "./p2", "interval": interval, "dependsOn": []map[string]any{{"name": "broken"}}})
	if r := l.firstVerdict(t, dep); r.Diagnosis != api.DiagBlocked {
		t.Fatalf("first verdict on a dependent of a broken build: %+v", r)
	}
	d = l.resource(t, dep).Diagnosis
	if d == nil || d.RootCause != "Kustomization/"+fluxNS+"/broken" || len(d.Chain) != 1 || d.Chain[0].Class != api.DiagBuildFail {
		t.Fatalf("diagnosis of the dependent: %+v", d)
	}
}

func (l *loop) diagnoseHealthCheck(t *testing.T, envID string) {
	id := l.createKs(t, envID, "hc", map[string]any{"path": "./hc", "interval": interval, "timeout": "30s",
		"healthChecks": []map[string]any{{"apiVersion": "apps/v1", "kind": "Deployment", "name": "stuck", "namespace": "shop-chain"}}})
	if r := l.firstVerdict(t, id); r.Diagnosis != api.DiagHealthCheck {
		t.Fatalf("first verdict on a health check: %s %s %q", r.Diagnosis, r.Status, r.ErrorMessage)
	}
	d := l.resource(t, id).Diagnosis
	if d == nil || d.Class != api.DiagHealthCheck || !slices.Contains(d.HealthChecks, "Deployment/shop-chain/stuck") {
		t.Fatalf("diagnosis while waiting: %+v", d)
	}
	// Past the 30s timeout, Flux fails the health check: still its class, now failed.
	waitUntil(t, waitLimit, "health check timed out", func() (bool, string) {
		d := l.resource(t, id).Diagnosis
		return d != nil && d.Class == api.DiagHealthCheck && strings.Contains(d.Sentence, "failed"), fmt.Sprintf("%+v", d)
	})
}

func (l *loop) diagnoseSourceFailed(t *testing.T, envID string) {
	src := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
		"metadata": map[string]any{"name": "nowhere", "namespace": fluxNS},
		"spec": map[string]any{"url": l.git.RepoURL("acme/nowhere.git"), "interval": interval, "ref": map[string]any{"branch": "main"},
			"secretRef": map[string]any{"name": "shop-git-auth"}},
	}}
	if _, err := l.dyn.Resource(gitGVR).Namespace(fluxNS).Create(context.Background(), src, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	id := l.createKs(t, envID, "from-nowhere", map[string]any{"path": "./p3", "interval": interval})
	p := []byte(`{"spec":{"sourceRef":{"kind":"GitRepository","name":"nowhere","namespace":"` + fluxNS + `"}}}`)
	if _, err := l.dyn.Resource(ksGVR).Namespace(fluxNS).Patch(context.Background(), "from-nowhere", types.MergePatchType, p, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := l.firstVerdict(t, id); r.Diagnosis != api.DiagSourceFail {
		t.Fatalf("first verdict on a failing source: %s %s %q", r.Diagnosis, r.Status, r.ErrorMessage)
	}
	waitUntil(t, waitLimit, "the source's own failure in the diagnosis", func() (bool, string) {
		d := l.resource(t, id).Diagnosis
		return d != nil && d.Class == api.DiagSourceFail && d.Source != nil && d.Source.Node == "GitRepository/"+fluxNS+"/nowhere" &&
			!d.Source.Ready && d.Source.Message != "", fmt.Sprintf("%+v %+v", d, d.Source)
	})
}

func (l *loop) cycle(t *testing.T, envID string) {
	l.createKs(t, envID, "cyc-a", map[string]any{"path": "./p4", "interval": interval, "dependsOn": []map[string]any{{"name": "cyc-b"}}})
	l.createKs(t, envID, "cyc-b", map[string]any{"path": "./p4", "interval": interval, "dependsOn": []map[string]any{{"name": "cyc-a"}}})
	var g api.Graph
	mustCall(t, l.svc, "gitops.dependencyGraph", map[string]any{"projectId": "proj-shop"}, &g)
	a, b := "Kustomization/"+fluxNS+"/cyc-a", "Kustomization/"+fluxNS+"/cyc-b"
	want := "dependency cycle: " + a + " → " + b + " → " + a
	if len(g.Cycles) != 1 || !slices.Contains(g.Errors, want) {
		t.Fatalf("cycles %v errors %v", g.Cycles, g.Errors)
	}
	var res api.BulkResult
	mustCall(t, l.svc, "gitops.bulk", map[string]any{"action": "resume", "selector": map[string]any{"environmentId": envID, "names": []string{"cyc-a", "cyc-b"}}}, &res)
	if len(res.Skipped) != 2 || res.Skipped[0].Message != want || len(res.Ran) != 0 {
		t.Fatalf("bulk resume of a cycle: %+v", res)
	}
}

func (l *loop) triage(t *testing.T, envID string) {
	var tr api.TriageResult
	mustCall(t, l.svc, "gitops.triage", map[string]any{"environmentId": envID}, &tr)
	roots := map[string]api.TriageEntry{}
	var order []string
	for _, e := range tr.Entries {
		roots[e.Root.Node] = e
		order = append(order, e.Root.Node+" "+e.Diagnosis.Class)
	}
	broken := roots["Kustomization/"+fluxNS+"/broken"]
	if broken.Diagnosis.Class != api.DiagBuildFail || len(broken.Dependents) != 1 || broken.Dependents[0].Node != "Kustomization/"+fluxNS+"/after-broken" {
		t.Fatalf("broken's entry %+v; order %v", broken, order)
	}
	if _, ok := roots["Kustomization/"+fluxNS+"/after-broken"]; ok {
		t.Fatalf("a blocked resource has its own entry: %v", order)
	}
	if roots["Kustomization/"+fluxNS+"/from-nowhere"].Diagnosis.Class != api.DiagSourceFail || roots["Kustomization/"+fluxNS+"/hc"].Diagnosis.Class != api.DiagHealthCheck {
		t.Fatalf("triage order %v", order)
	}
	// Worst first: the build and source failures before the suspended cycle.
	if tr.Entries[0].Severity < tr.Entries[len(tr.Entries)-1].Severity || !strings.HasSuffix(order[len(order)-1], api.DiagSuspended) {
		t.Fatalf("triage order %v", order)
	}
	if tr.NotReady != len(tr.Entries)+1 {
		t.Fatalf("notReady %d with %d entries (one dependent)", tr.NotReady, len(tr.Entries))
	}
}

func (l *loop) bulkSyncWithFailure(t *testing.T, envID string) {
	var res api.BulkResult
	mustCall(t, l.svc, "gitops.bulk", map[string]any{"action": "sync", "waitSeconds": 60,
		"selector": map[string]any{"environmentId": envID, "names": []string{"broken", "after-broken", "chain-l1", "chain-l2"}}}, &res)
	node := func(items []api.BulkItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, strings.TrimPrefix(it.Node, "Kustomization/"+fluxNS+"/"))
		}
		return out
	}
	if !slices.Equal(node(res.Ran), []string{"chain-l1", "chain-l2"}) || !slices.Equal(node(res.Failed), []string{"broken"}) ||
		!slices.Equal(node(res.Skipped), []string{"after-broken"}) {
		t.Fatalf("bulk sync: ran %v failed %v skipped %v", node(res.Ran), node(res.Failed), node(res.Skipped))
	}
	if !strings.Contains(res.Failed[0].Message, "missing.yaml") || res.Skipped[0].Message != "dependency Kustomization/"+fluxNS+"/broken failed" {
		t.Fatalf("messages: %+v %+v", res.Failed[0], res.Skipped[0])
	}
	// A name that selects nothing is an error naming it, and nothing runs.
	err := call(t, l.svc, "gitops.bulk", map[string]any{"action": "sync", "selector": map[string]any{"environmentId": envID, "names": []string{"broken", "nope"}}}, nil)
	if e := model.AsError(err); e == nil || e.Code != model.CodeBadRequest || !strings.Contains(fmt.Sprint(e.Details["fields"]), "selector.names[1]") {
		t.Fatalf("bulk with an unknown name: %v", err)
	}
}
