package e2e_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// rollbackLoop is what TestRollbackWithFlux's steps share.
type rollbackLoop struct {
	*loop
	env, gitRepo, repo, resID string
}

const prodOverlay = "k8s/overlays/prod/kustomization.yaml"

// TestRollbackWithFlux rolls deployments back through Git with the real Flux
// controllers: deploy v1.2.3, deploy v1.2.4, a person scales in between, roll
// back v1.2.4 and the cluster runs v1.2.3 at the new scale; a person's later
// image change makes a rollback CONFLICT_DETECTED; a review branch merged by
// `git merge --squash` completes its deployment once Flux applies the merge.
func TestRollbackWithFlux(t *testing.T) {
	l := &rollbackLoop{loop: setupLoop(t)}
	l.env, _, l.gitRepo, l.repo = l.gitopsEnv(t, "prod", true)
	var sum api.ResourceSummary
	mustCall(t, l.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": l.env, "name": "shop-prod",
		"type": "kustomization", "config": map[string]any{"prune": true}}, &sum)
	l.resID = sum.ID
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	var second api.DeployResult
	step("deploy/TwoImages", func(t *testing.T) {
		l.deploy(t, "ghcr.io/acme/web:1.2.3", 2)
		second = l.deploy(t, "ghcr.io/acme/web:1.2.4", 2)
	})
	step("rollback/UpstreamReplicasSurvive", func(t *testing.T) { l.rollbackKeepsReplicas(t, second) })
	step("rollback/UpstreamImageConflicts", l.rollbackConflicts)
	step("review/SquashMergeCompletesTheDeployment", l.squashMergedReview)
}

// image is the image the cluster's web Deployment runs and its replicas.
func (l *rollbackLoop) image(t *testing.T) (string, int32) {
	dep := l.deployment(t, "shop-prod")
	if dep == nil {
		return "", 0
	}
	return dep.Spec.Template.Spec.Containers[0].Image, *dep.Spec.Replicas
}

func (l *rollbackLoop) waitImage(t *testing.T, image string, replicas int32) {
	t.Helper()
	waitUntil(t, waitLimit, fmt.Sprintf("cluster runs %s x%d", image, replicas), func() (bool, string) {
		img, n := l.image(t)
		return img == image && n == replicas, fmt.Sprintf("%s x%d", img, n)
	})
}

func (l *rollbackLoop) waitSuccess(t *testing.T, id string) model.Deployment {
	t.Helper()
	var dep model.Deployment
	waitUntil(t, waitLimit, "deployment "+id+" success", func() (bool, string) {
		mustCall(t, l.svc, "deployments.get", map[string]any{"id": id}, &dep)
		return dep.Status == model.DeploySuccess, fmt.Sprintf("%+v", dep)
	})
	return dep
}

func (l *rollbackLoop) deploy(t *testing.T, image string, replicas int32) api.DeployResult {
	t.Helper()
	var res api.DeployResult
	mustCall(t, l.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": l.env, "image": image}, &res)
	l.waitImage(t, image, replicas)
	l.waitSuccess(t, res.DeploymentID)
	return res
}

// pushOverlay has a person change the overlay with git and tells Flux (its webhook would).
func (l *rollbackLoop) pushOverlay(t *testing.T, message string, edit func(string) string) string {
	t.Helper()
	sha := pushCommit(t, l.git, l.repo, message, func(dir string) {
		editFile(t, filepath.Join(dir, filepath.FromSlash(prodOverlay)), edit)
	})
	l.requestSourceReconcile(t, l.gitRepo)
	return sha
}

func (l *rollbackLoop) rollbackKeepsReplicas(t *testing.T, second api.DeployResult) {
	l.pushOverlay(t, "scale web to 3", func(s string) string { return s + "replicas:\n  - name: web\n    count: 3\n" })
	l.waitImage(t, "ghcr.io/acme/web:1.2.4", 3)
	var p api.PreviewResult
	mustCall(t, l.svc, "deployments.previewRollback", map[string]any{"id": second.DeploymentID}, &p)
	if !strings.Contains(p.Diff, "+    newTag: 1.2.3") || !p.Impact.WillRestartPods || len(p.Impact.AffectedResources) != 1 {
		t.Fatalf("rollback preview: %+v\n%s", p, p.Diff)
	}
	var res api.RollbackResult
	mustCall(t, l.svc, "deployments.rollback", map[string]any{"id": second.DeploymentID}, &res)
	l.waitImage(t, "ghcr.io/acme/web:1.2.3", 3)
	dep := l.waitSuccess(t, res.DeploymentID)
	if dep.RollbackOf != second.DeploymentID || dep.GitCommitSha != res.CommitSha || dep.GitOpsResourceID != l.resID {
		t.Fatalf("rollback deployment: %+v", dep)
	}
	if d := l.resource(t, l.resID); d.LastAppliedRevision != rev(res.CommitSha) {
		t.Fatalf("Flux applied %s, want the rollback %s", d.LastAppliedRevision, res.CommitSha)
	}
}

func (l *rollbackLoop) rollbackConflicts(t *testing.T) {
	third := l.deploy(t, "ghcr.io/acme/web:1.2.5", 3)
	upstream := l.pushOverlay(t, "pin 1.2.6", func(s string) string { return strings.Replace(s, "newTag: 1.2.5", "newTag: 1.2.6", 1) })
	err := call(t, l.svc, "deployments.rollback", map[string]any{"id": third.DeploymentID}, nil)
	if model.CodeOf(err) != model.CodeConflictDetected {
		t.Fatalf("rollback after an upstream image change: %v", err)
	}
	b, _ := json.Marshal(model.AsError(err).Details["conflicts"])
	var cs []struct {
		Path, Field        string
		Base, Ours, Theirs *string
	}
	if err := json.Unmarshal(b, &cs); err != nil || len(cs) != 1 || cs[0].Path != prodOverlay || cs[0].Field != "images[name=ghcr.io/acme/web].newTag" ||
		*cs[0].Base != "1.2.5" || *cs[0].Ours != "1.2.3" || *cs[0].Theirs != "1.2.6" {
		t.Fatalf("conflicts: %s", b)
	}
	if head := gittest.Git(t, l.git.Dir(l.repo), "rev-parse", "main"); head != upstream {
		t.Fatalf("a conflicting rollback moved main to %s", head)
	}
	l.waitImage(t, "ghcr.io/acme/web:1.2.6", 3)
}

func (l *rollbackLoop) squashMergedReview(t *testing.T) {
	var res api.DeployResult
	mustCall(t, l.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": l.env, "image": "ghcr.io/acme/web:1.2.7", "review": true}, &res)
	if res.ReviewBranch == "" || res.CompareURL == "" {
		t.Fatalf("review deploy: %+v", res)
	}
	// A person squash-merges the review branch with plain git.
	dir := filepath.Join(t.TempDir(), "clone")
	gittest.Git(t, "", "clone", "--quiet", l.git.RepoURLWithCreds(l.repo), dir)
	gittest.Git(t, dir, "merge", "--squash", "origin/"+res.ReviewBranch)
	gittest.Git(t, dir, "commit", "--quiet", "-m", "Deploy 1.2.7 (squashed)")
	gittest.Git(t, dir, "push", "--quiet", "origin", "main")
	squash := gittest.Git(t, dir, "rev-parse", "HEAD")
	if squash == res.CommitSha {
		t.Fatal("the squash merge is the reviewed commit itself")
	}
	l.requestSourceReconcile(t, l.gitRepo)
	l.waitImage(t, "ghcr.io/acme/web:1.2.7", 3)
	dep := l.waitSuccess(t, res.DeploymentID)
	if dep.GitCommitSha != squash || dep.ReviewCommitSha != res.CommitSha || dep.ReviewBranch != res.ReviewBranch {
		t.Fatalf("merged review deployment: %+v", dep)
	}
	// The squash commit is that deployment's, not a second gitops-git record.
	var all []model.Deployment
	mustCall(t, l.svc, "deployments.list", map[string]any{"environmentId": l.env}, &all)
	for _, d := range all {
		if d.GitCommitSha == squash && d.ID != res.DeploymentID {
			t.Fatalf("squash commit recorded again: %+v", d)
		}
	}
}
