package services_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
	"github.com/gitopstui/gitopstui/store"
)

const baseDeployment = `# The web front end.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # keep this name
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  strategy:
    type: RollingUpdate
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0 # bumped by CI
          resources:
            limits: {cpu: 500m, memory: 256Mi}
            requests: {cpu: 100m, memory: 128Mi}
`

var shopRepo = map[string]string{
	"k8s/base/deployment.yaml":             baseDeployment,
	"k8s/base/kustomization.yaml":          "resources:\n  - deployment.yaml\n",
	"k8s/overlays/prod/kustomization.yaml": "# production overlay\nresources:\n  - ../../base\nnamespace: shop-prod\n",
	"README.md":                            "shop config\n",
}

// deployEnv is a project whose prod environment deploys to a repository on a
// real git http-backend with basic auth.
type deployEnv struct {
	svc    *services.Services
	server *gittest.HTTPServer
	dir    string
}

func offlineKubeconfig(t testing.TB) string {
	t.Helper()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	body := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n"
	if err := os.WriteFile(kc, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return kc
}

func newServices(t testing.TB, dir string) *services.Services {
	t.Helper()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return services.New(services.Config{DataDir: dir, DB: db})
}

func setupDeploy(t testing.TB, server *gittest.HTTPServer) deployEnv {
	t.Helper()
	if server == nil {
		server = gittest.NewHTTPServer(t)
		server.CreateRepo(t, "acme/shop.git", shopRepo)
	}
	t.Setenv("SHOP_GIT_TOKEN", server.Password)
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	dir := t.TempDir()
	svc := newServices(t, dir)
	mustCall(t, svc, "clusters.register", map[string]any{"id": "cluster-123", "name": "k3s", "kubeconfig": offlineKubeconfig(t)}, nil)
	mustCall(t, svc, "projects.create", map[string]any{"id": "proj-shop", "name": "shop"}, nil)
	mustCall(t, svc, "environments.create", map[string]any{"id": "env-prod", "projectId": "proj-shop", "name": "prod", "clusterId": "cluster-123", "namespace": "shop-prod"}, nil)
	mustCall(t, svc, "environments.create", map[string]any{"id": "env-dev", "projectId": "proj-shop", "name": "dev", "clusterId": "cluster-123", "namespace": "shop-dev"}, nil)
	mustCall(t, svc, "repositories.create", map[string]any{"id": "repo-456", "projectId": "proj-shop", "fullName": "acme/shop", "url": server.RepoURL("acme/shop.git"),
		"auth": map[string]any{"type": "basic-env", "username": server.User, "tokenEnv": "SHOP_GIT_TOKEN"}}, nil)
	mustCall(t, svc, "environments.configureGitOps", map[string]any{"environmentId": "env-prod", "config": map[string]any{"enabled": true, "repositoryId": "repo-456", "gitPath": "./k8s/overlays/prod"}}, nil)
	return deployEnv{svc: svc, server: server, dir: dir}
}

func TestPreviewChanges(t *testing.T) {
	d := setupDeploy(t, nil)
	before := gittest.Log(t, d.server.Dir("acme/shop.git"), "main")
	var p api.PreviewResult
	mustCall(t, d.svc, "gitops.previewChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "changes": map[string]any{"image": "ghcr.io/acme/web:1.4.2"}}, &p)
	if !strings.Contains(p.Diff, "diff --git a/k8s/overlays/prod/kustomization.yaml b/k8s/overlays/prod/kustomization.yaml") ||
		!strings.Contains(p.Diff, "+    newTag: 1.4.2") || strings.Contains(p.Diff, "-# production overlay") {
		t.Fatalf("image preview diff:\n%s", p.Diff)
	}
	if !p.Impact.WillRestartPods || len(p.Summary.Files) != 1 || p.Summary.Additions == 0 || p.BaseRevision == "" || p.Workload != "Deployment/web" {
		t.Fatalf("image preview: %+v", p)
	}
	mustCall(t, d.svc, "gitops.previewChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "changes": map[string]any{"replicas": 5}}, &p)
	if p.Impact.WillRestartPods || !strings.Contains(p.Diff, "5") {
		t.Fatalf("replicas-only preview restarts pods or lacks the count: %+v\n%s", p.Impact, p.Diff)
	}
	mustCall(t, d.svc, "gitops.previewChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "changes": map[string]any{"env": map[string]any{"LOG_LEVEL": "debug"},
		"resources": map[string]any{"limits": map[string]any{"memory": "512Mi"}}}}, &p)
	if !p.Impact.WillRestartPods || !strings.Contains(p.Diff, "LOG_LEVEL") || !strings.Contains(p.Diff, "512Mi") {
		t.Fatalf("env/resources preview: %+v\n%s", p.Impact, p.Diff)
	}
	if after := gittest.Log(t, d.server.Dir("acme/shop.git"), "main"); len(after) != len(before) {
		t.Fatal("preview pushed a commit")
	}
	wantCode(t, callProc(t, d.svc, "gitops.previewChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-dev", "changes": map[string]any{"replicas": 1}}, nil), model.CodeGitOpsNotEnabled)
	e := wantCode(t, callProc(t, d.svc, "gitops.previewChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "changes": map[string]any{}}, nil), model.CodeBadRequest)
	if _, ok := e.Details["fields"].(map[string]any)["changes"]; !ok {
		t.Fatalf("empty change: %v", e.Details)
	}
	checkChangeRefusals(t, d)
}

// checkChangeRefusals: a change the planner would refuse is refused by the
// input's rules first, naming the field as the caller spelled it (under
// changes. for a preview, at the top level for a deploy).
func checkChangeRefusals(t *testing.T, d deployEnv) {
	t.Helper()
	in := map[string]any{"projectId": "proj-shop", "environmentId": "env-prod"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{k: v}
		for key, val := range in {
			m[key] = val
		}
		return m
	}
	for _, c := range []struct {
		change map[string]any
		field  string
	}{
		{map[string]any{"resources": map[string]any{"limits": map[string]any{"cpu": "lots"}}}, "resources.limits.cpu"},
		{map[string]any{"resources": map[string]any{"requests": map[string]any{"memory": "-1Gi"}}}, "resources.requests.memory"},
		{map[string]any{"env": map[string]any{"A\nB": "x"}}, "env"},
		{map[string]any{"env": map[string]any{"BAD\x04NAME": "x"}}, "env"},
		{map[string]any{"env": map[string]any{"CAFÉ": "x"}}, "env"},
	} {
		wantCatalogErr(t, callProc(t, d.svc, "gitops.previewChanges", with("changes", c.change), nil), model.CodeBadRequest, "changes."+c.field)
		deploy := with("commitMessage", "refused")
		for k, v := range c.change {
			deploy[k] = v
		}
		wantCatalogErr(t, callProc(t, d.svc, "gitops.deployWithGitOps", deploy, nil), model.CodeBadRequest, c.field)
	}
	// Resources without a value change nothing.
	wantCatalogErr(t, callProc(t, d.svc, "gitops.previewChanges", with("changes", map[string]any{"resources": map[string]any{"limits": map[string]any{}}}), nil),
		model.CodeBadRequest, "changes")
	wantCatalogErr(t, callProc(t, d.svc, "gitops.deployWithGitOps", with("resources", map[string]any{}), nil), model.CodeBadRequest, "image")
}

func TestDeployWithGitOps(t *testing.T) {
	d := setupDeploy(t, nil)
	repoDir := d.server.Dir("acme/shop.git")
	var res api.DeployResult
	mustCall(t, d.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "image": "ghcr.io/acme/web:1.4.2", "replicas": 3}, &res)
	if len(res.CommitSha) != 40 || res.DeploymentID == "" || res.Branch != "main" {
		t.Fatalf("deploy result: %+v", res)
	}
	if head := gittest.Git(t, repoDir, "rev-parse", "main"); strings.TrimSpace(head) != res.CommitSha {
		t.Fatalf("server head %s, want %s", head, res.CommitSha)
	}
	overlay := gittest.Show(t, repoDir, "main", "k8s/overlays/prod/kustomization.yaml")
	if !strings.Contains(overlay, "# production overlay") || !strings.Contains(overlay, "newTag: 1.4.2") {
		t.Fatalf("overlay after deploy:\n%s", overlay)
	}
	subject := gittest.Git(t, repoDir, "log", "-1", "--format=%s|%an", "main")
	if !strings.HasPrefix(subject, "deploy(prod): set image ghcr.io/acme/web:1.4.2, replicas 3|gitopstui") {
		t.Fatalf("commit: %s", subject)
	}
	var dep model.Deployment
	mustCall(t, d.svc, "deployments.get", map[string]any{"id": res.DeploymentID}, &dep)
	if dep.DeploymentMethod != model.MethodGitOpsUI || dep.Status != model.DeployPending || dep.GitCommitSha != res.CommitSha ||
		dep.Image != "ghcr.io/acme/web:1.4.2" || dep.Replicas == nil || *dep.Replicas != 3 || dep.Diff == "" {
		t.Fatalf("recorded deployment: %+v", dep)
	}
	if !strings.HasSuffix(res.GitURL, "/commit/"+res.CommitSha) {
		t.Fatalf("gitUrl: %s", res.GitURL)
	}

	// The same change again has nothing to commit.
	wantCode(t, callProc(t, d.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "image": "ghcr.io/acme/web:1.4.2"}, nil), model.CodeBadRequest)

	// An SSH session's commits carry its user as author.
	ctx := model.WithActor(context.Background(), model.Actor{User: "alice", Role: model.RoleOperator, Source: "ssh"})
	raw, _ := json.Marshal(map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "replicas": 4, "commitMessage": "scale web for the sale\n\nTicket OPS-7"})
	if _, err := d.svc.Registry().Call(ctx, "gitops.deployWithGitOps", raw); err != nil {
		t.Fatal(err)
	}
	if got := gittest.Git(t, repoDir, "log", "-1", "--format=%an <%ae>|%s|%b", "main"); !strings.HasPrefix(got, "alice <alice@gitopstui>|scale web for the sale|Ticket OPS-7") {
		t.Fatalf("ssh author/message: %q", got)
	}

	// A viewer may not deploy.
	ctx = model.WithActor(context.Background(), model.Actor{User: "bob", Role: model.RoleViewer, Source: "ssh"})
	if _, err := d.svc.Registry().Call(ctx, "gitops.deployWithGitOps", raw); model.CodeOf(err) != model.CodeInsufficientPermission {
		t.Fatalf("viewer deploy: %v", err)
	}
}

func TestDeployAuthAndReadOnly(t *testing.T) {
	d := setupDeploy(t, nil)
	t.Setenv("SHOP_GIT_TOKEN", "wrong")
	e := wantCode(t, callProc(t, d.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "replicas": 9}, nil), model.CodeGitAuthFailed)
	if e.Message == "" {
		t.Fatal("GIT_AUTH_FAILED without the remote's message")
	}
	t.Setenv("SHOP_GIT_TOKEN", d.server.Password)
	before := gittest.Log(t, d.server.Dir("acme/shop.git"), "main")
	d.server.SetReadOnly(t, "acme/shop.git", true)
	err := callProc(t, d.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "replicas": 9}, nil)
	if err == nil || model.CodeOf(err) == model.CodeGitAuthFailed {
		t.Fatalf("read-only remote: %v", err)
	}
	if after := gittest.Log(t, d.server.Dir("acme/shop.git"), "main"); len(after) != len(before) {
		t.Fatal("read-only remote changed")
	}
	var page []model.Deployment
	mustCall(t, d.svc, "deployments.list", map[string]any{"environmentId": "env-prod"}, &page)
	if len(page) != 0 {
		t.Fatalf("a failed push recorded a deployment: %+v", page)
	}
}

func TestCommitConfigChanges(t *testing.T) {
	d := setupDeploy(t, nil)
	repoDir := d.server.Dir("acme/shop.git")
	var cf api.ConfigFile
	mustCall(t, d.svc, "gitops.readConfig", map[string]any{"environmentId": "env-prod"}, &cf)
	if cf.File != "k8s/overlays/prod/kustomization.yaml" || !strings.Contains(cf.YAML, "production overlay") {
		t.Fatalf("readConfig: %+v", cf)
	}
	edited := cf.YAML + "commonAnnotations:\n  team: web\n"
	var res api.CommitConfigResult
	mustCall(t, d.svc, "gitops.commitConfigChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "yaml": edited, "file": cf.File,
		"commitMessage": "chore(prod): annotate team", "commitDescription": "Owners asked for it.", "baseRevision": cf.Revision}, &res)
	if got := gittest.Show(t, repoDir, "main", cf.File); strings.TrimSpace(got) != strings.TrimSpace(edited) {
		t.Fatalf("committed file:\n%s", got)
	}
	if msg := gittest.Git(t, repoDir, "log", "-1", "--format=%s|%b", "main"); !strings.HasPrefix(msg, "chore(prod): annotate team|Owners asked for it.") {
		t.Fatalf("message: %q", msg)
	}

	// Invalid YAML is refused with its errors; nothing is pushed.
	head := strings.TrimSpace(gittest.Git(t, repoDir, "rev-parse", "main"))
	e := wantCode(t, callProc(t, d.svc, "gitops.commitConfigChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "file": "k8s/overlays/prod/extra.yaml",
		"yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: three\n", "commitMessage": "bad"}, nil), model.CodeYAMLInvalid)
	if errs, _ := e.Details["errors"].([]any); len(errs) == 0 {
		t.Fatalf("YAML_INVALID without errors: %v", e.Details)
	}
	if now := strings.TrimSpace(gittest.Git(t, repoDir, "rev-parse", "main")); now != head {
		t.Fatal("invalid YAML was pushed")
	}

	// Someone else edits the file; an edit based on the old revision conflicts.
	other := setupDeploy(t, d.server)
	mustCall(t, other.svc, "gitops.commitConfigChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "file": cf.File, "yaml": edited + "commonLabels:\n  tier: front\n", "commitMessage": "upstream"}, nil)
	e = wantCode(t, callProc(t, d.svc, "gitops.commitConfigChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "file": cf.File,
		"yaml": edited + "nameSuffix: -v2\n", "commitMessage": "mine", "baseRevision": res.CommitSha}, nil), model.CodeConflictDetected)
	cs, _ := e.Details["conflicts"].([]any)
	if len(cs) != 1 {
		t.Fatalf("conflicts: %v", e.Details)
	}
	c := cs[0].(map[string]any)
	if c["path"] != cf.File || !strings.Contains(c["theirs"].(string), "tier: front") || !strings.Contains(c["ours"].(string), "nameSuffix") || c["base"] != edited {
		t.Fatalf("conflict versions: %v", c)
	}
}

// TestCommitCompleteYAML: the reference's "complete YAML content" without a
// file. A Deployment of the base becomes an overlay patch, a new Service a
// new file in resources:, kustomization.yaml stays a Kustomization, and the
// next deploy still finds the workload.
func TestCommitCompleteYAML(t *testing.T) {
	d := setupDeploy(t, nil)
	repoDir := d.server.Dir("acme/shop.git")
	docs := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop-prod
spec:
  replicas: 4
  selector:
    matchLabels:
      app: web
  strategy:
    type: RollingUpdate
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
          resources:
            limits: {cpu: 500m, memory: 256Mi}
            requests: {cpu: 100m, memory: 128Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop-prod
spec:
  selector:
    app: web
  ports:
    - port: 80
      targetPort: 8080
`
	var res api.CommitConfigResult
	mustCall(t, d.svc, "gitops.commitConfigChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "yaml": docs,
		"commitMessage": "scale web and expose it"}, &res)
	if len(res.Files) < 2 || res.CommitSha == "" || res.Branch != "main" {
		t.Fatalf("result: %+v", res)
	}
	overlay := gittest.Show(t, repoDir, "main", "k8s/overlays/prod/kustomization.yaml")
	if strings.Contains(overlay, "kind: Deployment") || strings.Contains(overlay, "kind: Service") || !strings.Contains(overlay, "# production overlay") ||
		!strings.Contains(overlay, "../../base") {
		t.Fatalf("kustomization.yaml is no longer the overlay:\n%s", overlay)
	}
	if base := gittest.Show(t, repoDir, "main", "k8s/base/deployment.yaml"); strings.TrimSpace(base) != strings.TrimSpace(baseDeployment) {
		t.Fatalf("the base outside gitPath changed:\n%s", base)
	}
	for _, f := range res.Files {
		if !strings.HasPrefix(f, "k8s/overlays/prod/") {
			t.Fatalf("wrote outside gitPath: %v", res.Files)
		}
	}
	var p api.PreviewResult
	mustCall(t, d.svc, "gitops.previewChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "changes": map[string]any{"replicas": 6}}, &p)
	if p.Workload != "Deployment/web" || !strings.Contains(p.Diff, "6") {
		t.Fatalf("the next deploy lost the workload: %+v", p)
	}
	// The same objects again: nothing to commit.
	wantCode(t, callProc(t, d.svc, "gitops.commitConfigChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "yaml": docs,
		"commitMessage": "again"}, nil), model.CodeBadRequest)
	// A Kustomization document is not an object of the environment.
	wantCode(t, callProc(t, d.svc, "gitops.commitConfigChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod",
		"yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n", "commitMessage": "nope"}, nil), model.CodeBadRequest)
}

func TestValidateYAMLProcedure(t *testing.T) {
	svc := newSvc(t)
	var res struct {
		Valid    bool `json:"valid"`
		Errors   []map[string]any
		Warnings []map[string]any
	}
	mustCall(t, svc, "gitops.validateYAML", map[string]any{"yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: web\n  namespace: flux-system\nspec:\n  interval: 5x\n  prune: true\n  sourceRef: {kind: GitRepository, name: repo}\n"}, &res)
	if res.Valid || len(res.Errors) == 0 || res.Errors[0]["line"].(float64) != 7 {
		t.Fatalf("bad Flux interval: %+v", res)
	}
	mustCall(t, svc, "gitops.validateYAML", map[string]any{"yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n"}, &res)
	if !res.Valid {
		t.Fatalf("valid ConfigMap: %+v", res)
	}
}
