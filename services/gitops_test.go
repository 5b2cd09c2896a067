package services_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitops"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/services/testcluster"
)

var (
	ksGVR   = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	hrGVR   = schema.GroupVersionResource{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"}
	gitGVR  = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	helmGVR = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "helmrepositories"}
)

// gitopsEnv is a project with one environment whose repository is enabled for GitOps.
type gitopsEnv struct {
	svc     *services.Services
	c       *testcluster.Cluster
	dyn     dynamic.Interface
	env     string
	ns      string
	repo    string
	gitRepo string
}

// setupGitOps installs Flux when absent and prepares project, environment and repository.
func setupGitOps(t *testing.T, envName string, autoSync bool) gitopsEnv {
	t.Helper()
	c := fluxCluster.Get(t)
	c.AddReadyNode(t, "node-1")
	svc := newSvc(t)
	registerCluster(t, svc, "cluster-123", c.Kubeconfig(t))
	if err := callProc(t, svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-123"}, nil); err != nil && model.CodeOf(err) != model.CodeFluxAlreadyInstalled {
		t.Fatal(err)
	}
	mustCall(t, svc, "projects.create", map[string]any{"id": "proj-shop", "name": "shop"}, nil)
	ns := "shop-" + envName
	mustCall(t, svc, "environments.create", map[string]any{"id": "env-" + envName, "projectId": "proj-shop", "name": envName, "clusterId": "cluster-123", "namespace": ns}, nil)
	repoName := "acme/shop-" + envName
	mustCall(t, svc, "repositories.create", map[string]any{"id": "repo-456", "projectId": "proj-shop", "fullName": repoName, "url": "https://git.example.com/" + repoName + ".git"}, nil)
	mustCall(t, svc, "environments.configureGitOps", map[string]any{"environmentId": "env-" + envName,
		"config": map[string]any{"enabled": true, "autoSync": autoSync, "repositoryId": "repo-456", "syncInterval": "2m"}}, nil)
	var en api.EnableGitOpsResult
	mustCall(t, svc, "repositories.enableGitOps", map[string]any{"repositoryId": "repo-456", "config": map[string]any{"fluxNamespace": "flux-system", "syncInterval": "1m", "secretRef": "git-auth"}}, &en)
	return gitopsEnv{svc: svc, c: c, dyn: dynamic.NewForConfigOrDie(c.Config()), env: "env-" + envName, ns: ns, repo: "repo-456", gitRepo: en.FluxResourceName}
}

func patchStatus(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, name string, status map[string]any) {
	t.Helper()
	p, _ := json.Marshal(map[string]any{"status": status})
	if _, err := dyn.Resource(gvr).Namespace(ns).Patch(context.Background(), name, types.MergePatchType, p, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("patch status of %s %s: %v", gvr.Resource, name, err)
	}
}

func cond(typ, status, reason, msg string) map[string]any {
	return map[string]any{"type": typ, "status": status, "reason": reason, "message": msg, "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}
}

func TestEnableGitOpsAndFluxStatus(t *testing.T) {
	g := setupGitOps(t, "dev", true)
	ctx := context.Background()
	u, err := g.dyn.Resource(gitGVR).Namespace("flux-system").Get(ctx, "acme-shop-dev", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := u.Object["spec"].(map[string]any)
	if spec["url"] != "https://git.example.com/acme/shop-dev.git" || spec["interval"] != "1m" ||
		spec["ref"].(map[string]any)["branch"] != "main" || spec["secretRef"].(map[string]any)["name"] != "git-auth" {
		t.Fatalf("GitRepository spec: %v", spec)
	}
	wantCode(t, callProc(t, g.svc, "repositories.enableGitOps", map[string]any{"repositoryId": "repo-nope", "config": map[string]any{}}, nil), model.CodeRepositoryNotFound)
	wantCode(t, callProc(t, g.svc, "repositories.getFluxStatus", map[string]any{"repositoryId": "repo-nope"}, nil), model.CodeRepositoryNotFound)

	var st api.FluxStatus
	patchStatus(t, g.dyn, gitGVR, "flux-system", g.gitRepo, map[string]any{"conditions": []any{cond("Reconciling", "True", "Progressing", "fetching"), cond("Ready", "Unknown", "Progressing", "fetching")}})
	mustCall(t, g.svc, "repositories.getFluxStatus", map[string]any{"repositoryId": g.repo}, &st)
	if string(st.SyncStatus) != model.SyncReconciling {
		t.Fatalf("reconciling: %+v", st)
	}
	patchStatus(t, g.dyn, gitGVR, "flux-system", g.gitRepo, map[string]any{
		"conditions": []any{cond("Ready", "True", "Succeeded", "stored artifact")},
		"artifact":   map[string]any{"revision": "main@sha1:0123456789abcdef0123456789abcdef01234567", "path": "x", "url": "http://x", "digest": "sha256:00", "lastUpdateTime": time.Now().UTC().Format(time.RFC3339)},
	})
	mustCall(t, g.svc, "repositories.getFluxStatus", map[string]any{"repositoryId": g.repo}, &st)
	if string(st.SyncStatus) != model.SyncReady || st.LastSyncCommit != "0123456789abcdef0123456789abcdef01234567" {
		t.Fatalf("ready: %+v", st)
	}
	patchStatus(t, g.dyn, gitGVR, "flux-system", g.gitRepo, map[string]any{"conditions": []any{cond("Ready", "False", "GitOperationFailed", "authentication required")}})
	mustCall(t, g.svc, "repositories.getFluxStatus", map[string]any{"repositoryId": g.repo}, &st)
	if string(st.SyncStatus) != model.SyncFailed || st.ErrorMessage != "authentication required" {
		t.Fatalf("failed: %+v", st)
	}
}

func TestEnableGitOpsWithoutFlux(t *testing.T) {
	c := testcluster.Start(t)
	svc := newSvc(t)
	registerCluster(t, svc, "bare", c.Kubeconfig(t))
	mustCall(t, svc, "projects.create", map[string]any{"id": "p", "name": "p"}, nil)
	mustCall(t, svc, "repositories.create", map[string]any{"id": "r", "projectId": "p", "fullName": "a/b", "url": "https://example.com/a/b.git"}, nil)
	wantCode(t, callProc(t, svc, "repositories.enableGitOps", map[string]any{"repositoryId": "r", "clusterId": "bare", "config": map[string]any{}}, nil), model.CodeFluxNotInstalled)
}

func TestCreateAndManageKustomization(t *testing.T) {
	g := setupGitOps(t, "staging", true)
	ctx := context.Background()
	var sum api.ResourceSummary
	mustCall(t, g.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": g.env, "name": "web", "type": "kustomization",
		"config": map[string]any{"prune": true, "interval": "5m", "timeout": "2m", "retryInterval": "1m",
			"healthChecks": []any{map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": g.ns}},
			"dependsOn":    []any{map[string]any{"name": "infra"}}}}, &sum)
	if sum.ID == "" || sum.Name != "web" || sum.Type != "kustomization" || sum.Status != model.StatusPending {
		t.Fatalf("create result: %+v", sum)
	}
	u, err := g.dyn.Resource(ksGVR).Namespace("flux-system").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := u.Object["spec"].(map[string]any)
	if spec["path"] != "./k8s/overlays/staging" || spec["targetNamespace"] != g.ns || spec["prune"] != true || !sameDuration(spec["interval"], "5m") ||
		spec["sourceRef"].(map[string]any)["name"] != g.gitRepo || len(spec["healthChecks"].([]any)) != 1 || len(spec["dependsOn"].([]any)) != 1 {
		t.Fatalf("Kustomization spec: %v", spec)
	}
	if mf := u.GetManagedFields(); mf[0].Manager != kube.FieldManager {
		t.Fatalf("field manager: %v", mf)
	}

	checkCreateRefusals(t, g)

	// Update merges and re-applies.
	mustCall(t, g.svc, "gitops.updateGitOpsResource", map[string]any{"id": sum.ID, "config": map[string]any{"prune": false, "interval": "10m", "dependsOn": nil}}, nil)
	u, _ = g.dyn.Resource(ksGVR).Namespace("flux-system").Get(ctx, "web", metav1.GetOptions{})
	spec = u.Object["spec"].(map[string]any)
	if spec["prune"] != false || !sameDuration(spec["interval"], "10m") || spec["dependsOn"] != nil || !sameDuration(spec["timeout"], "2m") {
		t.Fatalf("after update: %v", spec)
	}
	wantCode(t, callProc(t, g.svc, "gitops.updateGitOpsResource", map[string]any{"id": sum.ID, "config": map[string]any{"chart": "x"}}, nil), model.CodeBadRequest)

	checkListedStatuses(t, g)
	checkResourceDetail(t, g, sum.ID)
	checkSuspendResume(t, g, sum.ID)
	checkSoftDelete(t, g, sum.ID)
}

// checkCreateRefusals: a duplicate name, what the API server's CRD
// validation refuses, and a repository without GitOps are refused.
func checkCreateRefusals(t *testing.T, g gitopsEnv) {
	t.Helper()
	e := wantCode(t, callProc(t, g.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": g.env, "name": "web", "type": "kustomization"}, nil), model.CodeBadRequest)
	if _, ok := e.Details["fields"].(map[string]any)["name"]; !ok {
		t.Fatalf("duplicate name: %v", e.Details)
	}
	e = wantCode(t, callProc(t, g.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": g.env, "name": "bad-hc", "type": "kustomization",
		"config": map[string]any{"healthChecks": []any{map[string]any{"name": "web"}}}}, nil), model.CodeBadRequest)
	if _, ok := e.Details["fields"].(map[string]any)["config.healthChecks[0].kind"]; !ok {
		t.Fatalf("invalid healthCheck: %s %v", e.Message, e.Details)
	}
	e = wantCode(t, callProc(t, g.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": g.env, "name": "bad-interval", "type": "kustomization",
		"config": map[string]any{"interval": "5x"}}, nil), model.CodeBadRequest)
	if _, ok := e.Details["fields"].(map[string]any)["config.interval"]; !ok {
		t.Fatalf("bad interval: %s %v", e.Message, e.Details)
	}
	mustCall(t, g.svc, "repositories.create", map[string]any{"id": "repo-off", "projectId": "proj-shop", "fullName": "acme/off", "url": "https://git.example.com/acme/off.git"}, nil)
	wantCode(t, callProc(t, g.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": g.env, "repositoryId": "repo-off", "name": "x", "type": "kustomization"}, nil), model.CodeGitOpsNotEnabled)
}

// checkListedStatuses: the Kustomization web's Flux conditions become the
// status users see in gitops.listGitOpsResources.
func checkListedStatuses(t *testing.T, g gitopsEnv) {
	t.Helper()
	for _, tc := range []struct {
		conds []any
		want  string
	}{
		{[]any{cond("Ready", "False", "DependencyNotReady", "dependency 'flux-system/infra' is not ready")}, model.StatusPending},
		{[]any{cond("Reconciling", "True", "Progressing", "applying"), cond("Ready", "Unknown", "Progressing", "applying")}, model.StatusReconciling},
		{[]any{cond("Ready", "False", "BuildFailed", "kustomize build failed: missing resource")}, model.StatusFailed},
		{[]any{cond("Stalled", "True", "InvalidPath", "path not found"), cond("Ready", "False", "InvalidPath", "path not found")}, model.StatusFailed},
		{[]any{cond("Ready", "True", "ReconciliationSucceeded", "Applied revision: main@sha1:abc")}, model.StatusReady},
	} {
		patchStatus(t, g.dyn, ksGVR, "flux-system", "web", map[string]any{"conditions": tc.conds})
		var list []api.ResourceView
		mustCall(t, g.svc, "gitops.listGitOpsResources", map[string]any{"environmentId": g.env, "type": "kustomization"}, &list)
		if len(list) != 1 || list[0].Status != tc.want || list[0].Environment.ID == "" || list[0].Environment.Name != "staging" || list[0].Repository.ID == "" || list[0].Repository.ID != g.repo {
			t.Fatalf("list with %v: %+v", tc.conds, list)
		}
	}
}

// checkResourceDetail: gitops.getGitOpsResource reads the live object, its
// events newest first and the why-chain down to the failing GitRepository.
func checkResourceDetail(t *testing.T, g gitopsEnv, id string) {
	t.Helper()
	ctx := context.Background()
	patchStatus(t, g.dyn, ksGVR, "flux-system", "web", map[string]any{"conditions": []any{cond("Ready", "False", "ArtifactFailed", "Source artifact not found")},
		"lastAttemptedRevision": "main@sha1:bbb", "lastAppliedRevision": "main@sha1:aaa"})
	patchStatus(t, g.dyn, gitGVR, "flux-system", g.gitRepo, map[string]any{"conditions": []any{cond("Ready", "False", "GitOperationFailed", "authentication required")}})
	for i, msg := range []string{"older event", "newer event"} {
		ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Namespace: "flux-system"},
			InvolvedObject: corev1.ObjectReference{Kind: "Kustomization", Name: "web", Namespace: "flux-system", APIVersion: "kustomize.toolkit.fluxcd.io/v1"},
			Reason:         "ReconciliationFailed", Message: msg, Type: "Warning", LastTimestamp: metav1.NewTime(time.Now().Add(time.Duration(i) * time.Minute))}
		if _, err := g.c.Clientset(t).CoreV1().Events("flux-system").Create(ctx, ev, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var d api.ResourceDetail
	mustCall(t, g.svc, "gitops.getGitOpsResource", map[string]any{"id": id}, &d)
	if d.LiveObservedAt == nil || d.Status != model.StatusFailed || d.ErrorMessage != "Source artifact not found" || d.LastAppliedRevision != "main@sha1:aaa" ||
		d.LastAttemptedRevision != "main@sha1:bbb" || len(d.Conditions) != 1 ||
		d.Conditions[0].Type != "Ready" || d.Conditions[0].LastTransitionTime == "" || len(d.Config) == 0 || d.Events[0].Timestamp.IsZero() {
		t.Fatalf("detail: %+v", d)
	}
	if len(d.Events) != 2 || d.Events[0].Message != "newer event" {
		t.Fatalf("events newest first: %+v", d.Events)
	}
	if len(d.Chain) < 2 || !strings.Contains(d.Chain[len(d.Chain)-1], "authentication required") {
		t.Fatalf("why-chain: %v", d.Chain)
	}
}

// checkSuspendResume: suspend sets spec.suspend, a suspended resource
// cannot be synced, resume lifts it.
func checkSuspendResume(t *testing.T, g gitopsEnv, id string) {
	t.Helper()
	ctx := context.Background()
	var rs api.ResourceSummary
	mustCall(t, g.svc, "gitops.suspendGitOpsResource", map[string]any{"id": id}, &rs)
	u, _ := g.dyn.Resource(ksGVR).Namespace("flux-system").Get(ctx, "web", metav1.GetOptions{})
	if rs.Status != model.StatusSuspended || u.Object["spec"].(map[string]any)["suspend"] != true {
		t.Fatalf("suspend: %+v", rs)
	}
	e := wantCode(t, callProc(t, g.svc, "gitops.triggerSync", map[string]any{"id": id, "waitSeconds": 0}, nil), model.CodeBadRequest)
	if !strings.Contains(e.Message, "suspended") {
		t.Fatalf("sync of suspended: %s", e.Message)
	}
	mustCall(t, g.svc, "gitops.resumeGitOpsResource", map[string]any{"id": id}, &rs)
	if rs.Status == model.StatusSuspended {
		t.Fatalf("resume: %+v", rs)
	}
}

// checkSoftDelete: deleting removes the Kustomization from the cluster and
// the listing, keeps the record with its deletedAt, and a second delete is
// NOT_FOUND.
func checkSoftDelete(t *testing.T, g gitopsEnv, id string) {
	t.Helper()
	ctx := context.Background()
	mustCall(t, g.svc, "gitops.deleteGitOpsResource", map[string]any{"id": id}, nil)
	if _, err := g.dyn.Resource(ksGVR).Namespace("flux-system").Get(ctx, "web", metav1.GetOptions{}); err == nil {
		t.Fatal("Kustomization still on the cluster")
	}
	var list []api.ResourceView
	mustCall(t, g.svc, "gitops.listGitOpsResources", map[string]any{"projectId": "proj-shop"}, &list)
	if len(list) != 0 {
		t.Fatalf("deleted resource still listed: %+v", list)
	}
	var d api.ResourceDetail
	mustCall(t, g.svc, "gitops.getGitOpsResource", map[string]any{"id": id}, &d)
	if d.DeletedAt == nil {
		t.Fatal("record lost its deletedAt")
	}
	wantCode(t, callProc(t, g.svc, "gitops.deleteGitOpsResource", map[string]any{"id": id}, nil), model.CodeNotFound)
}

func TestHelmRelease(t *testing.T) {
	g := setupGitOps(t, "helm", true)
	ctx := context.Background()
	var sum api.ResourceSummary
	mustCall(t, g.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": g.env, "name": "redis", "type": "helm",
		"config": map[string]any{"chartName": "redis", "chartVersion": "19.x", "sourceType": "HelmRepository", "source": map[string]any{"url": "https://charts.example.com"},
			"values": map[string]any{"replica": map[string]any{"replicaCount": 2}}, "valuesFrom": []any{map[string]any{"kind": "ConfigMap", "name": "redis-values"}},
			"install": map[string]any{"remediation": map[string]any{"retries": 3}, "createNamespace": true},
			"upgrade": map[string]any{"remediation": map[string]any{"retries": 2, "remediateLastFailure": true}, "cleanupOnFail": true}}}, &sum)
	u, err := g.dyn.Resource(hrGVR).Namespace("flux-system").Get(ctx, "redis", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := u.Object["spec"].(map[string]any)
	chart := spec["chart"].(map[string]any)["spec"].(map[string]any)
	if chart["chart"] != "redis" || chart["version"] != "19.x" || chart["sourceRef"].(map[string]any)["kind"] != "HelmRepository" ||
		spec["install"].(map[string]any)["createNamespace"] != true || spec["upgrade"].(map[string]any)["cleanupOnFail"] != true ||
		spec["install"].(map[string]any)["remediation"].(map[string]any)["retries"] != int64(3) ||
		spec["upgrade"].(map[string]any)["remediation"].(map[string]any)["remediateLastFailure"] != true ||
		spec["values"].(map[string]any)["replica"] == nil || len(spec["valuesFrom"].([]any)) != 1 || spec["targetNamespace"] != g.ns {
		t.Fatalf("HelmRelease spec: %v", spec)
	}
	if _, err := g.dyn.Resource(helmGVR).Namespace("flux-system").Get(ctx, "redis", metav1.GetOptions{}); err != nil {
		t.Fatalf("HelmRepository not created: %v", err)
	}
	wantCode(t, callProc(t, g.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": g.env, "name": "nochart", "type": "helm"}, nil), model.CodeBadRequest)
	mustCall(t, g.svc, "gitops.deleteGitOpsResource", map[string]any{"id": sum.ID}, nil)
	if _, err := g.dyn.Resource(helmGVR).Namespace("flux-system").Get(ctx, "redis", metav1.GetOptions{}); err == nil {
		t.Fatal("HelmRepository left behind")
	}
}

// echoReconcile stands in for kustomize-controller: it answers each new
// requestedAt annotation with lastHandledReconcileAt and the given revision,
// and records whether the object was resumed when it did.
func echoReconcile(t *testing.T, dyn dynamic.Interface, name, revision string, sawSuspended chan<- bool) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		handled := ""
		for ctx.Err() == nil {
			u, err := dyn.Resource(ksGVR).Namespace("flux-system").Get(ctx, name, metav1.GetOptions{})
			if err == nil {
				req := u.GetAnnotations()["reconcile.fluxcd.io/requestedAt"]
				if req != "" && req != handled {
					suspended, _, _ := unstructured.NestedBool(u.Object, "spec", "suspend")
					if suspended {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					p, _ := json.Marshal(map[string]any{"status": map[string]any{"lastHandledReconcileAt": req, "lastAppliedRevision": revision, "lastAttemptedRevision": revision,
						"conditions": []any{cond("Ready", "True", "ReconciliationSucceeded", "Applied revision: "+revision)}}})
					if _, err := dyn.Resource(ksGVR).Namespace("flux-system").Patch(ctx, name, types.MergePatchType, p, metav1.PatchOptions{}, "status"); err != nil {
						t.Logf("echo %s: %v", name, err)
					} else {
						handled = req
						if sawSuspended != nil {
							sawSuspended <- suspended
						}
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return func() { cancel(); <-done }
}

func TestTriggerSync(t *testing.T) {
	g := setupGitOps(t, "sync", true)
	ctx := context.Background()
	var sum api.ResourceSummary
	mustCall(t, g.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": g.env, "name": "app-sync", "type": "kustomization"}, &sum)
	stop := echoReconcile(t, g.dyn, "app-sync", "main@sha1:1111111111111111111111111111111111111111", nil)
	defer stop()
	var res api.SyncResult
	mustCall(t, g.svc, "gitops.triggerSync", map[string]any{"id": sum.ID, "waitSeconds": 30}, &res)
	if !res.Success || !res.Handled || res.SyncedAt.IsZero() || res.Status != model.StatusReady || res.Revision != "main@sha1:1111111111111111111111111111111111111111" {
		t.Fatalf("sync: %+v", res)
	}
	u, _ := g.dyn.Resource(gitGVR).Namespace("flux-system").Get(ctx, g.gitRepo, metav1.GetOptions{})
	if u.GetAnnotations()["reconcile.fluxcd.io/requestedAt"] != res.RequestedAt {
		t.Fatalf("source not annotated: %v", u.GetAnnotations())
	}
}

func TestManualSyncEnvironment(t *testing.T) {
	g := setupGitOps(t, "manual", false)
	ctx := context.Background()
	var sum api.ResourceSummary
	mustCall(t, g.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": g.env, "name": "app-manual", "type": "kustomization"}, &sum)
	suspended := func() bool {
		u, err := g.dyn.Resource(ksGVR).Namespace("flux-system").Get(ctx, "app-manual", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s, _, _ := unstructured.NestedBool(u.Object, "spec", "suspend")
		return s
	}
	if !suspended() || sum.Status != model.StatusSuspended {
		t.Fatalf("manual-sync environment: Kustomization not suspended (%+v)", sum)
	}
	saw := make(chan bool, 1)
	stop := echoReconcile(t, g.dyn, "app-manual", "main@sha1:2222222222222222222222222222222222222222", saw)
	defer stop()
	var res api.SyncResult
	mustCall(t, g.svc, "gitops.triggerSync", map[string]any{"id": sum.ID}, &res)
	if !res.Success || <-saw {
		t.Fatalf("manual sync did not reconcile while resumed: %+v", res)
	}
	if !suspended() || res.Status != model.StatusSuspended {
		t.Fatalf("not suspended again after the sync: %+v", res)
	}
	// configureGitOps: autoSync on resumes it, the interval and path follow.
	mustCall(t, g.svc, "environments.configureGitOps", map[string]any{"environmentId": g.env, "config": map[string]any{"autoSync": true, "syncInterval": "7m", "gitPath": "./deploy/manual"}}, nil)
	u, _ := g.dyn.Resource(ksGVR).Namespace("flux-system").Get(ctx, "app-manual", metav1.GetOptions{})
	spec := u.Object["spec"].(map[string]any)
	if spec["suspend"] == true || !sameDuration(spec["interval"], "7m") || spec["path"] != "./deploy/manual" {
		t.Fatalf("configureGitOps did not reach the Kustomization: %v", spec)
	}
	// A branch of its own: the environment's Kustomization follows the
	// repository's GitRepository of that branch; the default one stays on main.
	mustCall(t, g.svc, "environments.configureGitOps", map[string]any{"environmentId": g.env, "config": map[string]any{"gitBranch": "release"}}, nil)
	u, _ = g.dyn.Resource(ksGVR).Namespace("flux-system").Get(ctx, "app-manual", metav1.GetOptions{})
	release := gitops.FluxSourceName("acme/shop-manual", "release")
	if src, _, _ := unstructured.NestedString(u.Object, "spec", "sourceRef", "name"); src != release {
		t.Fatalf("Kustomization follows %s, want %s", src, release)
	}
	for name, want := range map[string]string{release: "release", g.gitRepo: "main"} {
		gr, err := g.dyn.Resource(gitGVR).Namespace("flux-system").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if br, _, _ := unstructured.NestedString(gr.Object, "spec", "ref", "branch"); br != want {
			t.Fatalf("GitRepository %s follows %s, want %s", name, br, want)
		}
	}
}

// TestWatcher follows status patches into the store and to a subscriber,
// records gitops-git and completes gitops-ui deployments, and survives an API
// server restart without duplicate records.
func TestWatcher(t *testing.T) {
	g := setupGitOps(t, "watch", true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sum api.ResourceSummary
	mustCall(t, g.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": g.env, "name": "app-watch", "type": "kustomization"}, &sum)
	events := g.svc.Subscribe(ctx)
	if err := g.svc.StartWatchers(ctx); err != nil {
		t.Fatal(err)
	}
	next := func(what string, ok func(api.StatusEvent) bool) api.StatusEvent {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case e := <-events:
				if e.Resource.ID == sum.ID && ok(e) {
					return e
				}
			case <-timeout:
				t.Fatalf("no event: %s", what)
			}
		}
	}
	shaGit := strings.Repeat("a", 40)
	patchStatus(t, g.dyn, ksGVR, "flux-system", "app-watch", map[string]any{"lastAppliedRevision": "main@sha1:" + shaGit, "lastAttemptedRevision": "main@sha1:" + shaGit,
		"conditions": []any{cond("Ready", "True", "ReconciliationSucceeded", "applied")}})
	e := next("ready with a commit nobody made", func(e api.StatusEvent) bool {
		return e.Deployment != nil && e.Deployment.DeploymentMethod == model.MethodGitOpsGit
	})
	if e.Deployment.GitCommitSha != shaGit || e.Deployment.Status != model.DeploySuccess || e.Resource.Status != model.StatusReady {
		t.Fatalf("gitops-git deployment: %+v", e.Deployment)
	}

	// A gitops-ui deployment becomes success when Flux applies its commit.
	shaUI := strings.Repeat("b", 40)
	var dep model.Deployment
	mustCall(t, g.svc, "deployments.create", map[string]any{"projectId": "proj-shop", "environmentId": g.env, "deploymentMethod": "gitops-ui", "gitCommitSha": shaUI, "image": "web:2"}, &dep)
	patchStatus(t, g.dyn, ksGVR, "flux-system", "app-watch", map[string]any{"lastAppliedRevision": "main@sha1:" + shaUI, "lastAttemptedRevision": "main@sha1:" + shaUI})
	next("gitops-ui success", func(e api.StatusEvent) bool {
		return e.Deployment != nil && e.Deployment.ID == dep.ID && e.Deployment.Status == model.DeploySuccess
	})

	// One that Flux fails to apply becomes failed with Flux's message.
	shaBad := strings.Repeat("c", 40)
	mustCall(t, g.svc, "deployments.create", map[string]any{"projectId": "proj-shop", "environmentId": g.env, "deploymentMethod": "gitops-ui", "gitCommitSha": shaBad}, &dep)
	patchStatus(t, g.dyn, ksGVR, "flux-system", "app-watch", map[string]any{"lastAttemptedRevision": "main@sha1:" + shaBad,
		"conditions": []any{cond("Ready", "False", "BuildFailed", "kustomize build failed: accumulating resources")}})
	e = next("gitops-ui failed", func(e api.StatusEvent) bool { return e.Deployment != nil && e.Deployment.ID == dep.ID })
	if e.Deployment.Status != model.DeployFailed || !strings.Contains(e.Deployment.ErrorMessage, "kustomize build failed") {
		t.Fatalf("failed deployment: %+v", e.Deployment)
	}

	// The API server goes away and comes back; the watcher relists and goes on.
	g.c.Restart(t)
	shaAfter := strings.Repeat("d", 40)
	patchStatus(t, g.dyn, ksGVR, "flux-system", "app-watch", map[string]any{"lastAppliedRevision": "main@sha1:" + shaAfter, "lastAttemptedRevision": "main@sha1:" + shaAfter,
		"conditions": []any{cond("Ready", "True", "ReconciliationSucceeded", "applied")}})
	next("after restart", func(e api.StatusEvent) bool { return e.Deployment != nil && e.Deployment.GitCommitSha == shaAfter })

	var page []model.Deployment
	mustCall(t, g.svc, "deployments.list", map[string]any{"environmentId": g.env, "deploymentMethod": "gitops-git"}, &page)
	seen := map[string]int{}
	for _, d := range page {
		seen[d.GitCommitSha]++
	}
	if seen[shaGit] != 1 || seen[shaAfter] != 1 || len(page) != 2 {
		t.Fatalf("gitops-git records (want one per commit): %v", seen)
	}
}

// TestShortLivedReadSeesFluxOutcome is the spec's waitForDeployment: without
// a watcher, deployments.get reads the cluster before answering.
func TestShortLivedReadSeesFluxOutcome(t *testing.T) {
	g := setupGitOps(t, "poll", true)
	var sum api.ResourceSummary
	mustCall(t, g.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": g.env, "name": "app-poll", "type": "kustomization"}, &sum)
	sha := strings.Repeat("e", 40)
	var dep model.Deployment
	mustCall(t, g.svc, "deployments.create", map[string]any{"projectId": "proj-shop", "environmentId": g.env, "deploymentMethod": "gitops-ui", "gitCommitSha": sha}, &dep)
	mustCall(t, g.svc, "deployments.get", map[string]any{"id": dep.ID}, &dep)
	if dep.Status != model.DeployPending {
		t.Fatalf("before Flux applied: %s", dep.Status)
	}
	patchStatus(t, g.dyn, ksGVR, "flux-system", "app-poll", map[string]any{"lastAppliedRevision": "main@sha1:" + sha, "lastAttemptedRevision": "main@sha1:" + sha,
		"conditions": []any{cond("Ready", "True", "ReconciliationSucceeded", "applied")}})
	mustCall(t, g.svc, "deployments.get", map[string]any{"id": dep.ID}, &dep)
	if dep.Status != model.DeploySuccess || dep.CompletedAt == nil || dep.GitOpsResourceID != sum.ID {
		t.Fatalf("after Flux applied: %+v", dep)
	}
}

// sameDuration reports whether a Flux spec's duration (the API types write
// "5m0s") is the duration want.
func sameDuration(got any, want string) bool {
	s, ok := got.(string)
	if !ok {
		return false
	}
	g, err1 := time.ParseDuration(s)
	w, err2 := time.ParseDuration(want)
	return err1 == nil && err2 == nil && g == w
}
