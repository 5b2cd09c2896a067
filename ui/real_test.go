package ui

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/store"
)

// kubeconfigUnreachable points at a port nothing listens on.
const kubeconfigUnreachable = `apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: https://127.0.0.1:1
contexts:
- name: lab
  context:
    cluster: lab
    user: lab
current-context: lab
users:
- name: lab
  user:
    token: not-a-secret
`

// realServices opens a real bbolt store in a temp dir with a project, a
// cluster and an environment created through the registry.
func realServices(t *testing.T) *services.Services {
	t.Helper()
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
	svc := services.New(services.Config{DataDir: dir, DB: db})
	ctx := model.WithActor(context.Background(), model.Actor{User: "alice", Role: model.RoleAdmin, Source: "test"})
	for _, c := range []struct{ name, in string }{
		{"projects.create", `{"name":"shop","id":"shop"}`},
		{"clusters.register", `{"name":"lab","id":"lab","kubeconfig":"` + kc + `","context":"lab"}`},
		{"environments.create", `{"projectId":"shop","name":"prod","id":"env-prod","clusterId":"lab","namespace":"shop"}`},
		{"environments.configureGitOps", `{"environmentId":"env-prod","config":{"enabled":true,"gitBranch":"main","gitPath":"./k8s/overlays/prod","syncInterval":"5m"}}`},
	} {
		if _, err := svc.Registry().Call(ctx, c.name, []byte(c.in)); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	return svc
}

// TestRealRegistryCatalogScreens drives the UI over the real registry and store.
func TestRealRegistryCatalogScreens(t *testing.T) {
	svc := realServices(t)
	ctx := model.WithActor(context.Background(), model.Actor{User: "alice", Role: model.RoleAdmin, Source: "test"})
	h := newHarness(t, svc.Registry(), 80, 24, func(o *Options) { o.Ctx = ctx })
	h.contains("Clusters (1)", "lab", "unreachable")
	h.press("2")
	h.contains("Projects (1)", "shop")
	h.press("enter")
	h.contains("Environments of shop (1)", "prod", "./k8s/overlays/prod", "on")
	// Edit the GitOps config through the form: the real server stores it.
	h.contains("auto")            // environments sync on their own by default
	h.press("o", "down", "space") // autoSync off
	h.press("ctrl+s")
	h.contains("GitOps config of prod saved", "manual")
	res, err := svc.Registry().Call(ctx, "environments.getGitOpsConfig", []byte(`{"environmentId":"env-prod"}`))
	if err != nil {
		t.Fatal(err)
	}
	if v := res.(api.GitOpsConfigView); v.AutoSync || v.GitPath != "./k8s/overlays/prod" {
		t.Fatalf("stored config %+v", v)
	}
	// The palette lists the real procedures and runs one.
	h.press(":")
	h.typ("projects.create")
	h.press("enter")
	h.typ("blog")
	h.press("ctrl+s")
	h.contains("projects.create result", "name: blog")
	h.press("esc", "2")
	h.contains("Projects (2)", "blog")
	// Resources and deployments are empty, not errors.
	h.press("3")
	h.contains("No GitOps resources here")
	h.press("4")
	h.contains("No deployments yet")
}
