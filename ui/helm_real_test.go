package ui

import (
	"testing"

	"github.com/gitopstui/gitopstui/services/helmchart/helmtest"
)

// A deploy preview on a HelmRelease environment over the real registry, a
// real git server and a loopback Helm repository: a new chart version shows
// the release and both versions above the impact, and the manifests the
// chart renders, old against new, below the values diff.
func TestRealHelmPreview(t *testing.T) {
	charts := helmtest.Serve(t, "6.5.0", "6.6.0")
	files := map[string]string{}
	for p, b := range helmtest.Files(t, charts.URL) {
		files[p] = string(b)
	}
	svc, server, kc := gitServices(t, "acme/podinfo.git", files)
	mustCalls(t, svc,
		[2]string{"projects.create", `{"name":"podinfo","id":"pod"}`},
		[2]string{"clusters.register", `{"name":"lab","id":"lab","kubeconfig":"` + kc + `","context":"lab"}`},
		[2]string{"environments.create", `{"projectId":"pod","name":"production","id":"env-production","clusterId":"lab","namespace":"podinfo"}`},
		repoCreate(server, "pod", "acme/podinfo.git"),
		[2]string{"environments.configureGitOps", `{"environmentId":"env-production","config":{"enabled":true,"repositoryId":"repo-1","gitPath":"./apps/production"}}`})
	h := newHarness(t, svc.Registry(), 140, 60, func(o *Options) { o.Ctx = adminCtx })
	h.press("2", "enter", "D")
	h.contains("chart version")
	h.press("tab", "tab", "tab", "tab", "tab", "tab", "tab")
	h.typ("6.6.0")
	h.press("ctrl+s")
	h.contains("helm release podinfo/podinfo", "chart podinfo 6.5.0 → 6.6.0", "# rendered by the chart, deployed values against new")
}
