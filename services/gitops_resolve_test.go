package services_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitops"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// resolveFiles is a config repository with a production and a development overlay.
var resolveFiles = map[string]string{
	"k8s/base/deployment.yaml":                     baseDeployment,
	"k8s/base/kustomization.yaml":                  "resources:\n  - deployment.yaml\n",
	"k8s/overlays/production/kustomization.yaml":   "# production overlay\nresources:\n  - ../../base\n",
	"k8s/overlays/development/kustomization.yaml":  "# development overlay\nresources:\n  - ../../base\n",
	"k8s/overlays/development/replicas-patch.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n",
}

// pushBranch clones name, lets edit change the tree, commits and pushes the
// result as branch, and returns its head.
func pushBranch(t *testing.T, srv *gittest.HTTPServer, name, branch string, edit func(dir string)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	gittest.Git(t, "", "clone", "--quiet", srv.RepoURLWithCreds(name), dir)
	edit(dir)
	gittest.Git(t, dir, "add", "-A")
	gittest.Git(t, dir, "commit", "--quiet", "-m", "on "+branch)
	gittest.Git(t, dir, "push", "--quiet", "origin", "HEAD:refs/heads/"+branch)
	return gittest.Git(t, dir, "rev-parse", "HEAD")
}

func fieldMessage(t *testing.T, e *model.Error, field string) string {
	t.Helper()
	fields, _ := e.Details["fields"].(map[string]any)
	msg, ok := fields[field].(string)
	if !ok {
		t.Fatalf("no details.fields[%q] in %s %v", field, e.Message, e.Details)
	}
	return msg
}

// TestEnvironmentRepositoryResolution: an environment that names no
// repository uses its project's only GitOps-enabled one, for every procedure
// that needs it; with none it is GITOPS_NOT_ENABLED naming
// repositories.enableGitOps, with several a BAD_REQUEST naming them.
func TestEnvironmentRepositoryResolution(t *testing.T) {
	r := setupResolution(t)
	deploy := map[string]any{"projectId": "proj-shop", "environmentId": "env-dev", "image": "ghcr.io/acme/web:2.0.0"}
	calls := []resolutionCall{
		{"gitops.readConfig", map[string]any{"environmentId": "env-prod"}},
		{"gitops.previewChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "changes": map[string]any{"replicas": 3}}},
		{"gitops.deployWithGitOps", deploy},
		{"gitops.commitConfigChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "yaml": "resources: []\n", "commitMessage": "x"}},
		{"gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "name": "rs-prod-web", "type": "kustomization", "config": map[string]any{}}},
	}
	// None enabled.
	for _, c := range calls {
		e := wantCode(t, callProc(t, r.svc, c.name, c.in, nil), model.CodeGitOpsNotEnabled)
		if !strings.Contains(e.Message, "repositories.enableGitOps") || fmt.Sprint(e.Details["repositories"]) != "[repo-a repo-b]" {
			t.Errorf("%s with no enabled repository: %s %v", c.name, e.Message, e.Details)
		}
	}

	checkOneEnabledRepository(t, r, deploy)
	checkSeveralEnabledRepositories(t, r, calls)
}

// resolutionCall is a procedure that needs the environment's repository,
// with its input.
type resolutionCall struct {
	name string
	in   map[string]any
}

// resolution is a project with environments production (main) and
// development (develop), configured as in the reference's example before
// either of its repositories was enabled: repo-a, served over HTTP with a
// develop branch of its own, and repo-b.
type resolution struct {
	svc      *services.Services
	dyn      dynamic.Interface
	srv      *gittest.HTTPServer
	mainHead string // repo-a's main
}

// setupResolution builds the resolution: Flux on the shared cluster, the Git
// server, the catalog records.
func setupResolution(t *testing.T) resolution {
	t.Helper()
	c := fluxCluster.Get(t)
	c.AddReadyNode(t, "node-1")
	srv := gittest.NewHTTPServer(t)
	srv.CreateRepo(t, "acme/resolve-a.git", resolveFiles)
	mainHead := gittest.Git(t, srv.Dir("acme/resolve-a.git"), "rev-parse", "main")
	pushBranch(t, srv, "acme/resolve-a.git", "develop", func(dir string) {
		p := filepath.Join(dir, "k8s/overlays/development/kustomization.yaml")
		if err := os.WriteFile(p, []byte("# development overlay, develop branch\nresources:\n  - ../../base\npatches:\n  - path: replicas-patch.yaml\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	t.Setenv("SHOP_GIT_TOKEN", srv.Password)
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	svc := newSvc(t)
	registerCluster(t, svc, "cluster-123", c.Kubeconfig(t))
	if err := callProc(t, svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-123"}, nil); err != nil && model.CodeOf(err) != model.CodeFluxAlreadyInstalled {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(c.Config())
	mustCall(t, svc, "projects.create", map[string]any{"id": "proj-shop", "name": "shop"}, nil)
	mustCall(t, svc, "environments.create", map[string]any{"id": "env-prod", "projectId": "proj-shop", "name": "production", "clusterId": "cluster-123", "namespace": "rs-production"}, nil)
	mustCall(t, svc, "environments.create", map[string]any{"id": "env-dev", "projectId": "proj-shop", "name": "development", "clusterId": "cluster-123", "namespace": "rs-development"}, nil)
	auth := map[string]any{"type": "basic-env", "username": srv.User, "tokenEnv": "SHOP_GIT_TOKEN"}
	mustCall(t, svc, "repositories.create", map[string]any{"id": "repo-a", "projectId": "proj-shop", "fullName": "acme/resolve-a", "url": srv.RepoURL("acme/resolve-a.git"), "auth": auth}, nil)
	mustCall(t, svc, "repositories.create", map[string]any{"id": "repo-b", "projectId": "proj-shop", "fullName": "acme/resolve-b", "url": "https://git.example.com/acme/resolve-b.git"}, nil)
	// The reference's example succeeds before any repository is enabled.
	mustCall(t, svc, "environments.configureGitOps", map[string]any{"environmentId": "env-prod", "config": map[string]any{
		"enabled": true, "autoSync": false, "gitBranch": "main", "gitPath": "./k8s/overlays/production", "syncInterval": "10m"}}, nil)
	mustCall(t, svc, "environments.configureGitOps", map[string]any{"environmentId": "env-dev", "config": map[string]any{
		"enabled": true, "autoSync": true, "gitBranch": "develop", "gitPath": "./k8s/overlays/development", "syncInterval": "1m"}}, nil)
	return resolution{svc: svc, dyn: dyn, srv: srv, mainHead: mainHead}
}

// checkOneEnabledRepository: with one enabled repository every procedure
// uses it, at the environment's own branch; a deploy commits to develop only
// and its reconcile request brings back the environment's GitRepository.
func checkOneEnabledRepository(t *testing.T, r resolution, deploy map[string]any) {
	t.Helper()
	mustCall(t, r.svc, "repositories.enableGitOps", map[string]any{"repositoryId": "repo-a", "config": map[string]any{"fluxNamespace": "flux-system"}}, nil)
	var f api.ConfigFile
	mustCall(t, r.svc, "gitops.readConfig", map[string]any{"environmentId": "env-prod"}, &f)
	if f.Branch != "main" || f.Revision != r.mainHead || f.File != "k8s/overlays/production/kustomization.yaml" || !strings.HasPrefix(f.YAML, "# production overlay") {
		t.Errorf("production's config: %+v", f)
	}
	mustCall(t, r.svc, "gitops.readConfig", map[string]any{"environmentId": "env-dev", "file": "k8s/overlays/development/kustomization.yaml"}, &f)
	if f.Branch != "develop" || !strings.HasPrefix(f.YAML, "# development overlay, develop branch") {
		t.Errorf("development's config: %+v", f)
	}
	var sum api.ResourceSummary
	mustCall(t, r.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": "env-dev", "name": "rs-dev-web", "type": "kustomization", "config": map[string]any{}}, &sum)
	var d api.ResourceDetail
	mustCall(t, r.svc, "gitops.getGitOpsResource", map[string]any{"id": sum.ID}, &d)
	develop := gitops.FluxSourceName("acme/resolve-a", "develop")
	ks, err := r.dyn.Resource(ksGVR).Namespace("flux-system").Get(context.Background(), "rs-dev-web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if src := ks.Object["spec"].(map[string]any)["sourceRef"].(map[string]any)["name"]; d.RepositoryID != "repo-a" || src != develop {
		t.Fatalf("development's resource: repository %s, source %v", d.RepositoryID, src)
	}
	// Deploy commits to develop only, and its reconcile request brings back
	// the environment's GitRepository when it has gone.
	gitRepos := r.dyn.Resource(gitGVR).Namespace("flux-system")
	if err := gitRepos.Delete(context.Background(), develop, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var res api.DeployResult
	mustCall(t, r.svc, "gitops.deployWithGitOps", deploy, &res)
	if res.Branch != "develop" || gittest.Git(t, r.srv.Dir("acme/resolve-a.git"), "rev-parse", "develop") != res.CommitSha ||
		gittest.Git(t, r.srv.Dir("acme/resolve-a.git"), "rev-parse", "main") != r.mainHead {
		t.Errorf("deploy to development: %+v", res)
	}
	gr, err := gitRepos.Get(context.Background(), develop, metav1.GetOptions{})
	if err != nil || gr.GetAnnotations()["reconcile.fluxcd.io/requestedAt"] == "" || gr.Object["spec"].(map[string]any)["ref"].(map[string]any)["branch"] != "develop" {
		t.Fatalf("develop GitRepository after deploy: %v %v", err, gr)
	}
}

// checkSeveralEnabledRepositories: with two enabled repositories the
// environments that name none must name one, and naming one works.
func checkSeveralEnabledRepositories(t *testing.T, r resolution, calls []resolutionCall) {
	t.Helper()
	mustCall(t, r.svc, "repositories.enableGitOps", map[string]any{"repositoryId": "repo-b", "config": map[string]any{"fluxNamespace": "flux-system"}}, nil)
	for _, c := range calls {
		field := "environmentId"
		if c.name == "gitops.createGitOpsResource" {
			field = "repositoryId"
		}
		e := wantCode(t, callProc(t, r.svc, c.name, c.in, nil), model.CodeBadRequest)
		if msg := fieldMessage(t, e, field); !strings.Contains(msg, "repo-a, repo-b") {
			t.Errorf("%s with two enabled repositories: %s", c.name, msg)
		}
	}
	e := wantCode(t, callProc(t, r.svc, "environments.configureGitOps", map[string]any{"environmentId": "env-prod", "config": map[string]any{"enabled": true}}, nil), model.CodeBadRequest)
	if msg := fieldMessage(t, e, "config.repositoryId"); !strings.Contains(msg, "repo-a, repo-b") {
		t.Errorf("configureGitOps with two enabled repositories: %s", msg)
	}
	mustCall(t, r.svc, "environments.configureGitOps", map[string]any{"environmentId": "env-prod", "config": map[string]any{"repositoryId": "repo-a"}}, nil)
	var f api.ConfigFile
	mustCall(t, r.svc, "gitops.readConfig", map[string]any{"environmentId": "env-prod"}, &f)
	if f.Branch != "main" || f.Revision != r.mainHead {
		t.Errorf("production's config once it names repo-a: %+v", f)
	}
}

// TestConfigureGitOpsStoresOnlyWhatTookEffect: when the API server refuses
// one resource, the environment's config is not stored and the error says
// which resources carry it already; the cluster agrees with the error.
func TestConfigureGitOpsStoresOnlyWhatTookEffect(t *testing.T) {
	b := setupBranchEnvs(t, "partial")
	ids := []string{b.create(t, "env-dev", "pf-a", "kustomization", nil), b.create(t, "env-dev", "pf-b", "kustomization", nil)}
	unrefuse := refusePFB(t, b)

	e := model.AsError(callProc(t, b.svc, "environments.configureGitOps", map[string]any{"environmentId": "env-dev", "config": map[string]any{"syncInterval": "9m"}}, nil))
	if e == nil || !strings.Contains(e.Message, "not stored") || e.Details["configStored"] != false || e.Details["failedResource"] != ids[1] {
		t.Fatalf("configureGitOps refused on pf-b: %v", e)
	}
	applied, _ := e.Details["appliedTo"].([]string)
	notApplied, _ := e.Details["notAppliedTo"].([]string)
	// Resources are applied in the order they were created: pf-a took it.
	if !slices.Equal(applied, ids[:1]) || !slices.Equal(notApplied, ids[1:]) || !strings.Contains(e.Message, "run environments.configureGitOps again") {
		t.Fatalf("%s: appliedTo %v notAppliedTo %v", e.Message, applied, notApplied)
	}
	for i, name := range []string{"pf-a", "pf-b"} {
		want := "1m0s"
		if slices.Contains(applied, ids[i]) {
			want = "9m0s"
		}
		if got := b.str(t, ksGVR, name, "spec", "interval"); got != want {
			t.Errorf("%s on the cluster has interval %s, the error says %s", name, got, want)
		}
	}
	var g api.GitOpsConfigView
	mustCall(t, b.svc, "environments.getGitOpsConfig", map[string]any{"environmentId": "env-dev"}, &g)
	if g.SyncInterval != "1m" {
		t.Fatalf("stored a config that did not take effect: %+v", g)
	}
	// Once the API server accepts it, the same call finishes the job.
	unrefuse()
	var done api.ConfigureGitOpsResult
	mustCall(t, b.svc, "environments.configureGitOps", map[string]any{"environmentId": "env-dev", "config": map[string]any{"syncInterval": "9m"}}, &done)
	g = done.Config
	if !done.Success || g.SyncInterval != "9m" || b.str(t, ksGVR, "pf-a", "spec", "interval") != "9m0s" || b.str(t, ksGVR, "pf-b", "spec", "interval") != "9m0s" {
		t.Fatalf("after the policy went: %+v", g)
	}
}

// refusePFB installs a ValidatingAdmissionPolicy that refuses the
// Kustomization pf-b with interval 9m, and waits until the API server
// enforces it. The function it returns removes the policy and waits until
// the API server no longer enforces it.
func refusePFB(t *testing.T, b branchEnvs) (unrefuse func()) {
	t.Helper()
	ctx := context.Background()
	adm := b.c.Clientset(t).AdmissionregistrationV1()
	fail := admissionv1.Fail
	policy := &admissionv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "refuse-pf-b"}, Spec: admissionv1.ValidatingAdmissionPolicySpec{
		FailurePolicy: &fail,
		MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{RuleWithOperations: admissionv1.RuleWithOperations{
			Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
			Rule:       admissionv1.Rule{APIGroups: []string{"kustomize.toolkit.fluxcd.io"}, APIVersions: []string{"v1"}, Resources: []string{"kustomizations"}},
		}}}},
		Validations: []admissionv1.Validation{{Expression: "object.metadata.name != 'pf-b' || object.spec.interval != '9m0s'", Message: "pf-b may not sync every 9m"}},
	}}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "refuse-pf-b"},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "refuse-pf-b", ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny}}}
	if _, err := adm.ValidatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = adm.ValidatingAdmissionPolicies().Delete(ctx, policy.Name, metav1.DeleteOptions{}) })
	if _, err := adm.ValidatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = adm.ValidatingAdmissionPolicyBindings().Delete(ctx, binding.Name, metav1.DeleteOptions{}) })
	refused := func() bool {
		_, err := b.dyn.Resource(ksGVR).Namespace("flux-system").Patch(ctx, "pf-b", types.MergePatchType, []byte(`{"spec":{"interval":"9m0s"}}`),
			metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
		return err != nil && strings.Contains(err.Error(), "pf-b may not sync every 9m")
	}
	waitFor(t, "the policy enforced", refused)
	return func() {
		if err := adm.ValidatingAdmissionPolicyBindings().Delete(ctx, binding.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the policy no longer enforced", func() bool { return !refused() })
	}
}
