package services_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

const prodKust = "k8s/overlays/prod/kustomization.yaml"

func (d deployEnv) deployImage(t *testing.T, image string, review bool) api.DeployResult {
	t.Helper()
	var res api.DeployResult
	mustCall(t, d.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "image": image, "review": review}, &res)
	return res
}

// pushEdit changes one file of acme/shop on main with the git CLI, as a person would.
func (d deployEnv) pushEdit(t *testing.T, file string, edit func(string) string) string {
	t.Helper()
	return pushBranch(t, d.server, "acme/shop.git", "main", func(dir string) {
		p := filepath.Join(dir, filepath.FromSlash(file))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(edit(string(b))), 0o644); err != nil {
			t.Fatal(err)
		}
	})
}

func (d deployEnv) show(t *testing.T, rev, file string) string {
	t.Helper()
	return gittest.Show(t, d.server.Dir("acme/shop.git"), rev, file)
}

// TestRollbackKeepsUpstreamChanges deploys 1.2.3 and 1.2.4, has a person add
// a replicas count in between, and rolls 1.2.4 back: the image is 1.2.3 again
// on top of main, the replicas stay.
func TestRollbackKeepsUpstreamChanges(t *testing.T) {
	d := setupDeploy(t, nil)
	d.deployImage(t, "ghcr.io/acme/web:1.2.3", false)
	second := d.deployImage(t, "ghcr.io/acme/web:1.2.4", false)
	upstream := d.pushEdit(t, prodKust, func(s string) string { return s + "replicas:\n  - name: web\n    count: 5\n" })

	var p api.PreviewResult
	mustCall(t, d.svc, "deployments.previewRollback", map[string]any{"id": second.DeploymentID}, &p)
	if !strings.Contains(p.Diff, "-    newTag: 1.2.4") || !strings.Contains(p.Diff, "+    newTag: 1.2.3") || strings.Contains(p.Diff, "-    count: 5") {
		t.Fatalf("rollback preview diff:\n%s", p.Diff)
	}
	if p.BaseRevision != upstream || p.Branch != "main" || !p.Impact.WillRestartPods || p.Summary.Additions != 1 || p.Summary.Deletions != 1 ||
		len(p.Summary.Files) != 1 || p.Summary.Files[0] != prodKust {
		t.Fatalf("rollback preview: %+v", p)
	}
	if len(p.Edits) != 1 || p.Edits[0].Field != "images[name=ghcr.io/acme/web].newTag" || *p.Edits[0].Old != "1.2.4" || *p.Edits[0].New != "1.2.3" {
		t.Fatalf("rollback preview edits: %+v", p.Edits)
	}
	if head := gittest.Git(t, d.server.Dir("acme/shop.git"), "rev-parse", "main"); head != upstream {
		t.Fatal("the preview pushed")
	}

	var res api.RollbackResult
	mustCall(t, d.svc, "deployments.rollback", map[string]any{"id": second.DeploymentID}, &res)
	if res.RollbackOf != second.DeploymentID || res.Branch != "main" || res.ReviewBranch != "" || res.CommitSha == "" {
		t.Fatalf("rollback result: %+v", res)
	}
	dir := d.server.Dir("acme/shop.git")
	if got := gittest.Git(t, dir, "rev-parse", res.CommitSha+"^"); got != upstream {
		t.Fatalf("the rollback commit's parent is %s, want the head %s (no reset)", got, upstream)
	}
	kust := d.show(t, "main", prodKust)
	if !strings.Contains(kust, "newTag: 1.2.3") || strings.Contains(kust, "1.2.4") || !strings.Contains(kust, "count: 5") {
		t.Fatalf("kustomization after the rollback:\n%s", kust)
	}
	if msg := gittest.Git(t, dir, "log", "-1", "--format=%B", "main"); !strings.HasPrefix(msg, `Revert "deploy(prod): set image ghcr.io/acme/web:1.2.4"`) ||
		!strings.Contains(msg, "This reverts commit "+second.CommitSha) {
		t.Fatalf("rollback commit message: %q", msg)
	}
	var dep model.Deployment
	mustCall(t, d.svc, "deployments.get", map[string]any{"id": res.DeploymentID}, &dep)
	if dep.RollbackOf != second.DeploymentID || dep.DeploymentMethod != model.MethodGitOpsUI || dep.Status != model.DeployPending ||
		dep.GitCommitSha != res.CommitSha || dep.Image != "ghcr.io/acme/web:1.2.3" || !strings.Contains(dep.Diff, "+    newTag: 1.2.3") {
		t.Fatalf("rollback deployment: %+v", dep)
	}
	// Rolled back already: nothing left to undo.
	err := callProc(t, d.svc, "deployments.rollback", map[string]any{"id": second.DeploymentID}, nil)
	if e := wantCode(t, err, model.CodeBadRequest); !strings.Contains(e.Message, "nothing to roll back") {
		t.Fatalf("second rollback: %s", e.Message)
	}
}

// TestRollbackConflict: a person changed the image the deployment set, so the
// rollback is CONFLICT_DETECTED naming the field, and nothing is pushed.
func TestRollbackConflict(t *testing.T) {
	d := setupDeploy(t, nil)
	d.deployImage(t, "ghcr.io/acme/web:1.2.3", false)
	second := d.deployImage(t, "ghcr.io/acme/web:1.2.4", false)
	upstream := d.pushEdit(t, prodKust, func(s string) string { return strings.Replace(s, "newTag: 1.2.4", "newTag: 1.2.5", 1) })
	for _, proc := range []string{"deployments.previewRollback", "deployments.rollback"} {
		err := callProc(t, d.svc, proc, map[string]any{"id": second.DeploymentID}, nil)
		e := wantCode(t, err, model.CodeConflictDetected)
		b, _ := json.Marshal(e.Details["conflicts"])
		var cs []struct {
			Path, Field        string
			Base, Ours, Theirs *string
		}
		if err := json.Unmarshal(b, &cs); err != nil || len(cs) != 1 {
			t.Fatalf("%s conflicts: %s %v", proc, b, err)
		}
		c := cs[0]
		if c.Path != prodKust || c.Field != "images[name=ghcr.io/acme/web].newTag" || c.Base == nil || *c.Base != "1.2.4" ||
			c.Ours == nil || *c.Ours != "1.2.3" || c.Theirs == nil || *c.Theirs != "1.2.5" {
			t.Fatalf("%s conflict: %s", proc, b)
		}
	}
	if head := gittest.Git(t, d.server.Dir("acme/shop.git"), "rev-parse", "main"); head != upstream {
		t.Fatal("a conflicting rollback pushed")
	}
}

// TestRollbackRefusals: deployments without a commit, or whose commit has
// no parent, are BAD_REQUEST saying why.
func TestRollbackRefusals(t *testing.T) {
	d := setupDeploy(t, nil)
	var manual model.Deployment
	mustCall(t, d.svc, "deployments.create", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "deploymentMethod": "manual", "image": "web:1"}, &manual)
	err := callProc(t, d.svc, "deployments.previewRollback", map[string]any{"id": manual.ID}, nil)
	if e := wantCode(t, err, model.CodeBadRequest); !strings.Contains(fieldMessage(t, e, "id"), "recorded as manual without a commit") {
		t.Fatalf("manual: %s", e.Message)
	}
	root := gittest.Git(t, d.server.Dir("acme/shop.git"), "rev-list", "--max-parents=0", "main")
	var first model.Deployment
	mustCall(t, d.svc, "deployments.create", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "deploymentMethod": "gitops-git", "gitCommitSha": root}, &first)
	err = callProc(t, d.svc, "deployments.rollback", map[string]any{"id": first.ID}, nil)
	if e := wantCode(t, err, model.CodeBadRequest); !strings.Contains(fieldMessage(t, e, "id"), "first commit") {
		t.Fatalf("root commit: %s", e.Message)
	}
	var short model.Deployment
	mustCall(t, d.svc, "deployments.create", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "deploymentMethod": "gitops-git", "gitCommitSha": root[:7]}, &short)
	err = callProc(t, d.svc, "deployments.previewRollback", map[string]any{"id": short.ID}, nil)
	if e := wantCode(t, err, model.CodeBadRequest); !strings.Contains(fieldMessage(t, e, "id"), "abbreviated commit") {
		t.Fatalf("abbreviated commit: %s", e.Message)
	}
	err = callProc(t, d.svc, "deployments.rollback", map[string]any{"id": "dep-missing"}, nil)
	wantCode(t, err, model.CodeNotFound)
}

// TestReviewBranches: deploy and rollback with review push a branch of their
// own, never main, and return its compare URL.
func TestReviewBranches(t *testing.T) {
	d := setupDeploy(t, nil)
	dir := d.server.Dir("acme/shop.git")
	first := d.deployImage(t, "ghcr.io/acme/web:1.2.3", false)
	main := gittest.Git(t, dir, "rev-parse", "main")
	res := d.deployImage(t, "ghcr.io/acme/web:1.2.4", true)
	short := strings.TrimPrefix(res.DeploymentID, "dep-")
	if res.ReviewBranch != "gitopstui/prod/"+short || res.Branch != "main" ||
		res.CompareURL != strings.TrimSuffix(d.server.RepoURL("acme/shop.git"), ".git")+"/compare/main...gitopstui/prod/"+short {
		t.Fatalf("review deploy: %+v", res)
	}
	if got := gittest.Git(t, dir, "rev-parse", "main"); got != main {
		t.Fatal("a review deploy moved main")
	}
	if got := gittest.Git(t, dir, "rev-parse", res.ReviewBranch); got != res.CommitSha {
		t.Fatalf("review branch at %s, want %s", got, res.CommitSha)
	}
	if got := gittest.Git(t, dir, "rev-parse", res.CommitSha+"^"); got != main {
		t.Fatalf("review commit's parent %s, want main %s", got, main)
	}
	var dep model.Deployment
	mustCall(t, d.svc, "deployments.get", map[string]any{"id": res.DeploymentID}, &dep)
	tree := gittest.Git(t, dir, "rev-parse", res.CommitSha+":k8s/overlays/prod")
	if dep.Status != model.DeployPending || dep.ReviewBranch != res.ReviewBranch || dep.CompareURL != res.CompareURL ||
		dep.ReviewCommitSha != res.CommitSha || dep.ReviewPath != "k8s/overlays/prod" || dep.ReviewTree != tree {
		t.Fatalf("review deployment: %+v", dep)
	}
	// A review not applied yet is not rolled back: its branch is closed instead.
	err := callProc(t, d.svc, "deployments.rollback", map[string]any{"id": res.DeploymentID}, nil)
	if e := wantCode(t, err, model.CodeBadRequest); !strings.Contains(fieldMessage(t, e, "id"), "review on branch") {
		t.Fatalf("pending review rollback: %s", e.Message)
	}
	var rb api.RollbackResult
	mustCall(t, d.svc, "deployments.rollback", map[string]any{"id": first.DeploymentID, "review": true, "commitMessage": "undo 1.2.3"}, &rb)
	if !strings.HasPrefix(rb.ReviewBranch, "gitopstui/prod/") || rb.RollbackOf != first.DeploymentID {
		t.Fatalf("review rollback: %+v", rb)
	}
	if got := gittest.Git(t, dir, "rev-parse", "main"); got != main {
		t.Fatal("a review rollback moved main")
	}
	if kust := d.show(t, rb.ReviewBranch, prodKust); strings.Contains(kust, "images:") {
		t.Fatalf("review rollback of the first image deploy:\n%s", kust)
	}
	if msg := gittest.Git(t, dir, "log", "-1", "--format=%s", rb.ReviewBranch); msg != "undo 1.2.3" {
		t.Fatalf("review rollback subject %q", msg)
	}
}

// TestRollbackHidesEnvValues: a rollback's preview, result and stored diff
// show that an env value changes, never the value.
func TestRollbackHidesEnvValues(t *testing.T) {
	d := setupDeploy(t, nil)
	var first, second api.DeployResult
	mustCall(t, d.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "env": map[string]any{"API_KEY": "first-s3cret"}}, &first)
	mustCall(t, d.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "env": map[string]any{"API_KEY": "second-s3cret"}}, &second)
	for _, id := range []string{second.DeploymentID, first.DeploymentID} {
		var p api.PreviewResult
		err := callProc(t, d.svc, "deployments.previewRollback", map[string]any{"id": id}, &p)
		if id == first.DeploymentID {
			// The second deploy changed the value the first set: a conflict, whose values are hidden too.
			e := wantCode(t, err, model.CodeConflictDetected)
			if b, _ := json.Marshal(e); strings.Contains(string(b), "s3cret") {
				t.Fatalf("conflict shows an env value: %s", b)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(p)
		if strings.Contains(string(b), "s3cret") || !strings.Contains(p.Diff, "<hidden sha256:") || len(p.Edits) == 0 {
			t.Fatalf("preview shows an env value or hides nothing: %s", b)
		}
	}
	var res api.RollbackResult
	mustCall(t, d.svc, "deployments.rollback", map[string]any{"id": second.DeploymentID}, &res)
	var dep model.Deployment
	mustCall(t, d.svc, "deployments.get", map[string]any{"id": res.DeploymentID}, &dep)
	if strings.Contains(dep.Diff, "s3cret") || !strings.Contains(dep.Diff, "<hidden sha256:") {
		t.Fatalf("stored rollback diff:\n%s", dep.Diff)
	}
	// A person changes the value the rollback set: rolling the rollback back
	// conflicts on that field, its values hidden.
	file := gittest.Git(t, d.server.Dir("acme/shop.git"), "grep", "-l", "first-s3cret", "main", "--", "k8s")
	d.pushEdit(t, strings.TrimPrefix(file, "main:"), func(s string) string { return strings.Replace(s, "first-s3cret", "third-s3cret", 1) })
	err := callProc(t, d.svc, "deployments.rollback", map[string]any{"id": res.DeploymentID}, nil)
	e := wantCode(t, err, model.CodeConflictDetected)
	if b, _ := json.Marshal(e); strings.Contains(string(b), "s3cret") || !strings.Contains(string(b), "env[name=API_KEY].value") || !strings.Contains(string(b), "hidden sha256") {
		t.Fatalf("env conflict: %s", b)
	}
}
