package e2e_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// stageNames lists a timeline's stages in order.
func stageNames(d model.Deployment) []string {
	out := make([]string, len(d.Timeline))
	for i, s := range d.Timeline {
		out[i] = s.Stage
	}
	return out
}

// checkTimeline fails unless d's timeline is exactly want, in order, with
// times that never go backwards.
func checkTimeline(t *testing.T, d model.Deployment, want ...string) {
	t.Helper()
	if got := stageNames(d); !slices.Equal(got, want) {
		t.Fatalf("timeline of %s: %v, want %v (%+v)", d.ID, got, want, d.Timeline)
	}
	for i := 1; i < len(d.Timeline); i++ {
		if d.Timeline[i].At.Before(d.Timeline[i-1].At) {
			t.Fatalf("timeline of %s goes backwards at %s: %+v", d.ID, d.Timeline[i].Stage, d.Timeline)
		}
	}
}

func (l *loop) getDeployment(t *testing.T, id string) model.Deployment {
	t.Helper()
	var d model.Deployment
	mustCall(t, l.svc, "deployments.get", map[string]any{"id": id}, &d)
	return d
}

// TestDeployTimeline follows a deploy on the real controllers through every stage of its
// timeline: committed, pushed, requested (the fast path: every interval is 10m), fetched by
// the GitRepository, applied by the Kustomization, and healthy only once the health check
// on the workload passes (the test stands in for the kubelet in between). A commit pushed
// by hand is recorded as gitops-git with its timeline from the moment the source fetched it.
func TestDeployTimeline(t *testing.T) {
	l := setupLoop(t)
	envID, _, gitRepo, repoName := l.gitopsEnv(t, "prod", true)
	var sum api.ResourceSummary
	mustCall(t, l.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": envID, "name": "shop-prod",
		"type": "kustomization", "config": map[string]any{"prune": true, "timeout": "3m",
			"healthChecks": []map[string]any{{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "shop-prod"}}}}, &sum)
	waitUntil(t, waitLimit, "web applied", func() (bool, string) { return l.deployment(t, "shop-prod") != nil, "no Deployment web" })
	l.c.MarkDeploymentAvailable(t, "shop-prod", "web")
	waitUntil(t, waitLimit, "Kustomization ready", func() (bool, string) {
		d := l.resource(t, sum.ID)
		return d.Status == model.StatusReady, d.Status + " " + d.ErrorMessage
	})

	var res api.DeployResult
	mustCall(t, l.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": envID, "image": "ghcr.io/acme/web:2.0.0"}, &res)
	if !strings.Contains(res.Message, "asked Flux to apply it now") {
		t.Fatalf("deploy did not take the fast path: %+v", res)
	}
	// Applied, and waiting for the health check: the deployment is still pending.
	waitUntil(t, waitLimit, "applied stage", func() (bool, string) {
		d := l.getDeployment(t, res.DeploymentID)
		return d.Stage(model.StageApplied) != nil, fmt.Sprintf("%s %v", d.Status, stageNames(d))
	})
	if d := l.getDeployment(t, res.DeploymentID); d.Status != model.DeployPending || d.Stage(model.StageHealthy) != nil {
		t.Fatalf("deployment before the health check passed: %s %v", d.Status, stageNames(d))
	}
	if img := l.deployment(t, "shop-prod").Spec.Template.Spec.Containers[0].Image; img != "ghcr.io/acme/web:2.0.0" {
		t.Fatalf("applied stage before the image reached the cluster: %s", img)
	}
	l.c.MarkDeploymentAvailable(t, "shop-prod", "web")
	waitUntil(t, waitLimit, "deployment success", func() (bool, string) {
		d := l.getDeployment(t, res.DeploymentID)
		return d.Status == model.DeploySuccess && d.Stage(model.StageHealthy) != nil, fmt.Sprintf("%s %v", d.Status, stageNames(d))
	})
	d := l.getDeployment(t, res.DeploymentID)
	checkTimeline(t, d, model.StageCommitted, model.StagePushed, model.StageRequested, model.StageFetched, model.StageApplied, model.StageHealthy)
	if f := d.Stage(model.StageFetched); !strings.Contains(f.Detail, gitRepo) {
		t.Fatalf("fetched stage names %q, not the GitRepository %s", f.Detail, gitRepo)
	}
	if !d.Stage(model.StageApplied).At.Before(d.Stage(model.StageHealthy).At) {
		t.Fatalf("healthy not after applied: %+v", d.Timeline)
	}
	l.waitEvent(t, "deployment event with the healthy stage", func(e api.StatusEvent) bool {
		return e.Deployment != nil && e.Deployment.ID == res.DeploymentID && e.Deployment.Stage(model.StageHealthy) != nil
	})

	// A commit gitopstui did not make: its timeline starts when the source fetched it.
	sha := pushCommit(t, l.git, repoName, "annotate web by hand", func(dir string) {
		editFile(t, filepath.Join(dir, "k8s/overlays/prod/kustomization.yaml"), func(s string) string {
			return s + "commonAnnotations:\n  acme.dev/pushed: by-hand\n"
		})
	})
	l.requestSourceReconcile(t, gitRepo)
	waitUntil(t, waitLimit, "hand-pushed commit applied", func() (bool, string) {
		dep := l.deployment(t, "shop-prod")
		return dep.Annotations["acme.dev/pushed"] == "by-hand", fmt.Sprint(dep.Annotations)
	})
	l.c.MarkDeploymentAvailable(t, "shop-prod", "web")
	waitUntil(t, waitLimit, "gitops-git deployment with its timeline", func() (bool, string) {
		var page []model.Deployment
		mustCall(t, l.svc, "deployments.list", map[string]any{"environmentId": envID, "deploymentMethod": "gitops-git"}, &page)
		for _, d := range page {
			if d.GitCommitSha == sha {
				return d.Stage(model.StageHealthy) != nil, fmt.Sprintf("%s %v", d.Status, stageNames(d))
			}
		}
		return false, "not recorded"
	})
	var page []model.Deployment
	mustCall(t, l.svc, "deployments.list", map[string]any{"environmentId": envID, "deploymentMethod": "gitops-git"}, &page)
	for _, d := range page {
		if d.GitCommitSha == sha {
			checkTimeline(t, d, model.StageFetched, model.StageApplied, model.StageHealthy)
		}
	}
	deployFailsHealthCheck(t, l, envID, sum.ID)
}

// deployFailsHealthCheck deploys an image whose pods never become available: Flux applies
// it, its health check times out, and the timeline ends in failed with Flux's message.
func deployFailsHealthCheck(t *testing.T, l *loop, envID, resID string) {
	mustCall(t, l.svc, "gitops.updateGitOpsResource", map[string]any{"id": resID, "config": map[string]any{"timeout": "15s"}}, nil)
	var res api.DeployResult
	mustCall(t, l.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": envID, "image": "ghcr.io/acme/web:2.0.1-broken"}, &res)
	waitUntil(t, waitLimit, "new image applied", func() (bool, string) {
		img := l.deployment(t, "shop-prod").Spec.Template.Spec.Containers[0].Image
		return img == "ghcr.io/acme/web:2.0.1-broken", img
	})
	l.c.MarkDeploymentUnavailable(t, "shop-prod", "web")
	waitUntil(t, waitLimit, "deployment failed", func() (bool, string) {
		d := l.getDeployment(t, res.DeploymentID)
		return d.Status == model.DeployFailed && d.Stage(model.StageFailed) != nil, fmt.Sprintf("%s %v", d.Status, stageNames(d))
	})
	d := l.getDeployment(t, res.DeploymentID)
	checkTimeline(t, d, model.StageCommitted, model.StagePushed, model.StageRequested, model.StageFetched, model.StageApplied, model.StageFailed)
	if f := d.Stage(model.StageFailed); f.Detail == "" || f.Detail != d.ErrorMessage {
		t.Fatalf("failed stage %q, deployment error %q", f.Detail, d.ErrorMessage)
	}
}
