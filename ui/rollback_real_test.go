package ui

import (
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// Rollback from the history over the real registry and a real git server:
// r previews undoing the deployment's commit; b pushes the revert to a
// review branch and leaves main alone; r and enter push it to main; a
// manual deployment has no commit to undo and says so.
func TestRealRollback(t *testing.T) {
	svc, server := deployServices(t)
	repo := server.Dir("acme/shop.git")
	mustCalls(t, svc,
		[2]string{"gitops.deployWithGitOps", `{"projectId":"shop","environmentId":"env-prod","image":"ghcr.io/acme/web:1.4.2"}`},
	)
	deployed := gittest.Log(t, repo, "main")
	h := newHarness(t, svc.Registry(), 120, 40, func(o *Options) { o.Ctx = adminCtx })
	h.press("4")
	h.contains("Deployments (1)", "r roll back")
	h.press("r")
	h.contains("undo "+deployed[0][:7], "-          image: ghcr.io/acme/web:1.4.2", "+          image: ghcr.io/acme/web:1.0.0", "b review branch")
	h.press("b")
	h.contains("Roll back to prod (shop)", "Pushed for review to gitopstui/prod/", "stays pending")
	if got := gittest.Log(t, repo, "main"); len(got) != len(deployed) {
		t.Fatalf("a review rollback pushed to main: %v", got)
	}
	deps := call(t, svc, api.ListDeployments, api.ListDeploymentsInput{EnvironmentID: "env-prod"})
	if len(deps) != 2 || deps[0].ReviewBranch == "" || deps[0].RollbackOf != deps[1].ID {
		t.Fatalf("deployments after the review rollback: %+v", deps)
	}
	if got := gittest.Show(t, repo, deps[0].ReviewBranch, "k8s/overlays/prod/deployment.yaml"); !strings.Contains(got, "ghcr.io/acme/web:1.0.0") {
		t.Fatalf("review branch:\n%s", got)
	}
	h.press("esc", "4", "j", "r")
	h.contains("undo " + deployed[0][:7])
	h.press("enter")
	h.contains("Roll back to prod (shop)", "✓ pushed")
	if got := gittest.Show(t, repo, "main", "k8s/overlays/prod/deployment.yaml"); !strings.Contains(got, "ghcr.io/acme/web:1.0.0") {
		t.Fatalf("main after the rollback:\n%s", got)
	}
	if _, err := svc.Registry().Call(adminCtx, "deployments.create", []byte(`{"projectId":"shop","environmentId":"env-prod","deploymentMethod":"manual","image":"x:1"}`)); err != nil {
		t.Fatal(err)
	}
	h.press("esc", "4", "g", "r")
	h.contains("has no commit to undo (manual)")
}
