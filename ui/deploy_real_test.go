package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
	"github.com/gitopstui/gitopstui/store"
)

const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
`

// gitServices is gitopstui on a fresh store whose cluster does not answer
// (its kubeconfig is returned) and a real git HTTP server holding repository
// name with files; $TOKEN_ENV (SHOP_GIT_TOKEN) holds the server's password.
func gitServices(t *testing.T, name string, files map[string]string) (*services.Services, *gittest.HTTPServer, string) {
	t.Helper()
	server := gittest.NewHTTPServer(t)
	server.CreateRepo(t, name, files)
	t.Setenv("SHOP_GIT_TOKEN", server.Password)
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(kubeconfigUnreachable), 0o600); err != nil {
		t.Fatal(err)
	}
	return services.New(services.Config{DataDir: dir, DB: db}), server, kc
}

// mustCalls runs procedures (name, JSON input) as an admin.
func mustCalls(t *testing.T, svc *services.Services, calls ...[2]string) {
	t.Helper()
	for _, c := range calls {
		if _, err := svc.Registry().Call(adminCtx, c[0], []byte(c[1])); err != nil {
			t.Fatalf("%s: %v", c[0], err)
		}
	}
}

// repoCreate is repositories.create of repository name on server, with the
// server's credentials from SHOP_GIT_TOKEN.
func repoCreate(server *gittest.HTTPServer, projectID, name string) [2]string {
	full := strings.TrimSuffix(name, ".git")
	return [2]string{"repositories.create", `{"id":"repo-1","projectId":"` + projectID + `","fullName":"` + full + `","url":"` + server.RepoURL(name) +
		`","auth":{"type":"basic-env","username":"` + server.User + `","tokenEnv":"SHOP_GIT_TOKEN"}}`}
}

// deployServices is a project whose prod environment deploys to a real
// repository on a git HTTP server; its cluster does not answer and it has
// no Flux Kustomization.
func deployServices(t *testing.T) (*services.Services, *gittest.HTTPServer) {
	t.Helper()
	svc, server, kc := gitServices(t, "acme/shop.git", map[string]string{
		"k8s/overlays/prod/kustomization.yaml": "resources:\n  - deployment.yaml\n",
		"k8s/overlays/prod/deployment.yaml":    webDeployment,
	})
	mustCalls(t, svc,
		[2]string{"projects.create", `{"name":"shop","id":"shop"}`},
		[2]string{"clusters.register", `{"name":"lab","id":"lab","kubeconfig":"` + kc + `","context":"lab"}`},
		[2]string{"environments.create", `{"projectId":"shop","name":"prod","id":"env-prod","clusterId":"lab","namespace":"shop"}`},
		repoCreate(server, "shop", "acme/shop.git"),
		[2]string{"environments.configureGitOps", `{"environmentId":"env-prod","config":{"enabled":true,"repositoryId":"repo-1","gitPath":"./k8s/overlays/prod"}}`})
	return svc, server
}

// The deploy loop over the real registry and a real git server: the
// preview warns that nothing applies the commit (the server: no
// Kustomization) and that the cluster is out of reach (the UI), the commit
// is pushed, and the screen does not wait for Flux; esc is back on the
// environment.
func TestRealDeployNothingApplies(t *testing.T) {
	svc, server := deployServices(t)
	before := gittest.Log(t, server.Dir("acme/shop.git"), "main")
	h := newHarness(t, svc.Registry(), 120, 40, func(o *Options) { o.Ctx = adminCtx })
	toPreview(h, "ghcr.io/acme/web:1.4.2")
	h.contains("+          image: ghcr.io/acme/web:1.4.2", "environment prod has no Flux Kustomization for k8s/overlays/prod",
		"cluster lab is unreachable from here", "enter commit anyway")
	h.press("enter")
	h.contains("✓ pushed", "Not waiting for Flux", "create one: enter on the environment, then c")
	if b := h.m.top().busy(); b != "" {
		t.Fatalf("waits for Flux: %q", b)
	}
	after := gittest.Log(t, server.Dir("acme/shop.git"), "main")
	pushed := gittest.Show(t, server.Dir("acme/shop.git"), "main", "k8s/overlays/prod/kustomization.yaml") +
		gittest.Show(t, server.Dir("acme/shop.git"), "main", "k8s/overlays/prod/deployment.yaml")
	if len(after) != len(before)+1 || !strings.Contains(pushed, "1.4.2") {
		t.Fatalf("git log after the deploy: %q\n%s", after, pushed)
	}
	deps := call(t, svc, api.ListDeployments, api.ListDeploymentsInput{EnvironmentID: "env-prod"})
	if len(deps) != 1 || deps[0].Status != "pending" || deps[0].GitCommitSha != after[0] {
		t.Fatalf("deployments %+v, log %q", deps, after)
	}
	h.press("esc")
	h.contains("Environments of shop (1)")
}

// A preview the real server refuses shows its error in full, in words,
// offers no commit, and esc is back on a form that takes keys.
func TestRealPreviewRefused(t *testing.T) {
	svc := realServices(t) // prod has no repository
	h := newHarness(t, svc.Registry(), 80, 24, func(o *Options) { o.Ctx = adminCtx })
	toPreview(h, "ghcr.io/acme/web:1.4.2")
	h.contains("no GitOps-enabled repository", "enable GitOps on the repository first", "Nothing was committed")
	if s := h.screen(); strings.Contains(s, "repositories.enableGitOps") || strings.Contains(s, "commit & deploy") || strings.Contains(s, "computing") {
		t.Fatalf("refused preview:\n%s", s)
	}
	h.press("esc")
	h.typ("x")
	h.contains("ghcr.io/acme/web:1.4.2x")
}
