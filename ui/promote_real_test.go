package ui

import (
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// Promotion over the real registry and a real git server: P on prod, dev
// picked as the source; the preview shows the image dev runs and prod does
// not, and enter pushes the commit to prod's overlay.
func TestRealPromote(t *testing.T) {
	svc, server := deployServices(t)
	repo := server.Dir("acme/shop.git")
	gittest.Git(t, repo, "branch", "develop", "main")
	mustCalls(t, svc,
		[2]string{"environments.create", `{"projectId":"shop","name":"dev","id":"env-dev","clusterId":"lab","namespace":"shop-dev"}`},
		[2]string{"environments.configureGitOps", `{"environmentId":"env-dev","config":{"enabled":true,"repositoryId":"repo-1","gitBranch":"develop","gitPath":"./k8s/overlays/prod"}}`},
		[2]string{"gitops.deployWithGitOps", `{"projectId":"shop","environmentId":"env-dev","image":"ghcr.io/acme/web:1.5.0"}`},
	)
	before := gittest.Log(t, repo, "main")
	h := newHarness(t, svc.Registry(), 120, 40, func(o *Options) { o.Ctx = adminCtx })
	h.press("2", "enter")
	h.contains("Environments of shop (2)")
	h.press("j", "P")
	h.contains("Promote to prod", "from*     / dev env-dev  1/1")
	h.press("ctrl+s")
	h.contains("dev (", "→ prod", "Deployment/web/web image: ghcr.io/acme/web:1.0.0 → ghcr.io/acme/web:1.5.0",
		"+          image: ghcr.io/acme/web:1.5.0", "enter commit anyway", "b review branch")
	if after := gittest.Log(t, repo, "main"); len(after) != len(before) {
		t.Fatal("the preview pushed")
	}
	h.press("enter")
	h.contains("Promote to prod (shop)", "✓ pushed")
	if got := gittest.Show(t, repo, "main", "k8s/overlays/prod/deployment.yaml"); !strings.Contains(got, "ghcr.io/acme/web:1.5.0") {
		t.Fatalf("prod after the promotion:\n%s", got)
	}
	deps := call(t, svc, api.ListDeployments, api.ListDeploymentsInput{EnvironmentID: "env-prod"})
	if len(deps) != 1 || deps[0].Image != "ghcr.io/acme/web:1.5.0" {
		t.Fatalf("prod deployments: %+v", deps)
	}
}
