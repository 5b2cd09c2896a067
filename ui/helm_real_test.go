package ui

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
	"github.com/gitopstui/gitopstui/services/helmchart/helmtest"
	"github.com/gitopstui/gitopstui/store"
)

// A deploy preview on a HelmRelease environment over the real registry, a
// real git server and a loopback Helm repository: a new chart version shows
// the release and both versions above the impact, and the manifests the
// chart renders, old against new, below the values diff.
func TestRealHelmPreview(t *testing.T) {
	charts := helmtest.Serve(t, "6.5.0", "6.6.0")
	server := gittest.NewHTTPServer(t)
	files := map[string]string{}
	for p, b := range helmtest.Files(t, charts.URL) {
		files[p] = string(b)
	}
	server.CreateRepo(t, "acme/podinfo.git", files)
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
	svc := services.New(services.Config{DataDir: dir, DB: db})
	for _, c := range []struct{ name, in string }{
		{"projects.create", `{"name":"podinfo","id":"pod"}`},
		{"clusters.register", `{"name":"lab","id":"lab","kubeconfig":"` + kc + `","context":"lab"}`},
		{"environments.create", `{"projectId":"pod","name":"production","id":"env-production","clusterId":"lab","namespace":"podinfo"}`},
		{"repositories.create", `{"id":"repo-1","projectId":"pod","fullName":"acme/podinfo","url":"` + server.RepoURL("acme/podinfo.git") +
			`","auth":{"type":"basic-env","username":"` + server.User + `","tokenEnv":"SHOP_GIT_TOKEN"}}`},
		{"environments.configureGitOps", `{"environmentId":"env-production","config":{"enabled":true,"repositoryId":"repo-1","gitPath":"./apps/production"}}`},
	} {
		if _, err := svc.Registry().Call(adminCtx, c.name, []byte(c.in)); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	h := newHarness(t, svc.Registry(), 140, 60, func(o *Options) { o.Ctx = adminCtx })
	h.press("2", "enter", "D")
	h.contains("chart version")
	h.press("tab", "tab", "tab", "tab", "tab", "tab", "tab")
	h.typ("6.6.0")
	h.press("ctrl+s")
	h.contains("helm release podinfo/podinfo", "chart podinfo 6.5.0 → 6.6.0", "# rendered by the chart, deployed values against new")
}
