package deploy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
	"github.com/gitopstui/gitopstui/services/proctest"
	"github.com/gitopstui/gitopstui/store"
)

// previewWarnings previews a replica change of env-prod and returns the
// warnings.
func previewWarnings(t *testing.T, svc *services.Services) []string {
	t.Helper()
	var p api.PreviewResult
	proctest.MustCall(t, svc.Registry(), "gitops.previewChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod",
		"changes": map[string]any{"replicas": 3}}, &p)
	return p.Warnings
}

// The preview warns when nothing will apply the commit: the environment
// has no Flux Kustomization, or every one is suspended; one that runs
// silences it. A deleted one does not count.
func TestPreviewWarnsWhenNothingApplies(t *testing.T) {
	server := gittest.NewHTTPServer(t)
	server.CreateRepo(t, "acme/shop.git", map[string]string{
		"k8s/overlays/prod/kustomization.yaml": "resources:\n  - deployment.yaml\n",
		"k8s/overlays/prod/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n" +
			"  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web:1.0.0\n",
	})
	t.Setenv("SHOP_GIT_TOKEN", server.Password)
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	svc := services.New(services.Config{DataDir: dir, DB: db})
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\n"+
		"users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		in   map[string]any
	}{
		{"clusters.register", map[string]any{"id": "lab", "name": "lab", "kubeconfig": kc}},
		{"projects.create", map[string]any{"id": "proj-shop", "name": "shop"}},
		{"environments.create", map[string]any{"id": "env-prod", "projectId": "proj-shop", "name": "prod", "clusterId": "lab", "namespace": "shop"}},
		{"repositories.create", map[string]any{"id": "repo-1", "projectId": "proj-shop", "fullName": "acme/shop", "url": server.RepoURL("acme/shop.git"),
			"auth": map[string]any{"type": "basic-env", "username": server.User, "tokenEnv": "SHOP_GIT_TOKEN"}}},
		{"environments.configureGitOps", map[string]any{"environmentId": "env-prod", "config": map[string]any{"enabled": true, "repositoryId": "repo-1", "gitPath": "./k8s/overlays/prod"}}},
	} {
		proctest.MustCall(t, svc.Registry(), c.name, c.in, nil)
	}
	if ws := previewWarnings(t, svc); len(ws) != 1 || !strings.Contains(ws[0], "environment prod has no Flux Kustomization for k8s/overlays/prod") {
		t.Fatalf("no Kustomization: warnings %q", ws)
	}
	// The Flux objects are recorded as the watcher records them.
	now := time.Now()
	put := func(r model.GitOpsResource) {
		r.ProjectID, r.EnvironmentID, r.RepositoryID, r.Namespace, r.CreatedAt, r.UpdatedAt = "proj-shop", "env-prod", "repo-1", "flux-system", now, now
		if err := db.Update(func(tx *store.Tx) error { return store.Resources.Put(tx, r) }); err != nil {
			t.Fatal(err)
		}
	}
	put(model.GitOpsResource{ID: "gr-chart", Name: "chart", Type: model.ResourceHelm, Status: model.StatusReady})
	put(model.GitOpsResource{ID: "gr-gone", Name: "gone", Type: model.ResourceKustomization, Status: model.StatusReady, DeletedAt: &now})
	if ws := previewWarnings(t, svc); len(ws) != 1 || !strings.Contains(ws[0], "has no Flux Kustomization") {
		t.Fatalf("a HelmRelease and a deleted Kustomization: warnings %q", ws)
	}
	put(model.GitOpsResource{ID: "gr-web", Name: "web", Type: model.ResourceKustomization, Status: model.StatusSuspended, Suspended: true})
	if ws := previewWarnings(t, svc); len(ws) != 1 || !strings.Contains(ws[0], "every Flux Kustomization of environment prod is suspended (web)") {
		t.Fatalf("suspended: warnings %q", ws)
	}
	put(model.GitOpsResource{ID: "gr-api", Name: "api", Type: model.ResourceKustomization, Status: model.StatusReady})
	if ws := previewWarnings(t, svc); len(ws) != 0 {
		t.Fatalf("a running Kustomization: warnings %q", ws)
	}
}
