package deploy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/internal/ident"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/services/manifest"
	"github.com/gitopstui/gitopstui/store"
)

// rollbackSource is a deployment to roll back and the commit it made.
type rollbackSource struct {
	dep     model.Deployment
	t       gitTarget
	commit  gitx.CommitInfo
	changes []gitx.FileChange
}

// badRollback is the BAD_REQUEST of a deployment that cannot be rolled back.
func badRollback(id, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	fe := model.FieldErrors{}
	fe.Add("id", msg)
	return fe.Err().(*model.Error).WithDetail("deploymentId", id)
}

// rollbackSourceOf reads deployment id and what its commit changed: the
// files between the commit's first parent and the commit (for a merge, what
// the merge brought to the branch). A deployment without a commit, one whose
// commit is not in the repository or has no parent, a review not applied
// yet, and a commit that changed files outside the environment's gitPath
// are BAD_REQUEST saying why.
func (s *Deploy) rollbackSourceOf(ctx context.Context, id string) (rollbackSource, error) {
	var src rollbackSource
	d, err := store.Deployments.Read(s.db, id)
	if err != nil {
		return src, err
	}
	src.dep = d
	switch {
	case d.GitCommitSha == "" || (d.DeploymentMethod != model.MethodGitOpsUI && d.DeploymentMethod != model.MethodGitOpsGit):
		return src, badRollback(id, "deployment %s was recorded as %s without a commit of gitopstui or Git: there is no Git change to undo; deploy the earlier values with gitops.deployWithGitOps instead",
			id, d.DeploymentMethod)
	case d.ReviewBranch != "" && d.Status == model.DeployPending:
		return src, badRollback(id, "deployment %s is a review on branch %s that Flux has not applied: close the review (delete the branch) instead of rolling it back", id, d.ReviewBranch)
	}
	if len(d.GitCommitSha) != 40 {
		return src, badRollback(id, "deployment %s records the abbreviated commit %s: rollback needs its full commit id to find the parent", id, d.GitCommitSha)
	}
	if src.t, err = s.gitTarget(ctx, d.ProjectID, d.EnvironmentID); err != nil {
		return src, err
	}
	src.commit, err = src.t.git.Lookup(ctx, d.GitCommitSha)
	if model.CodeOf(err) == model.CodeNotFound {
		return src, badRollback(id, "commit %s of deployment %s is on no branch of %s (was history rewritten?): there is no known parent to restore", shortSHA(d.GitCommitSha), id, src.t.repo.URL)
	}
	if err != nil {
		return src, err
	}
	if len(src.commit.Parents) == 0 {
		return src, badRollback(id, "commit %s of deployment %s is the repository's first commit: there is no earlier state to restore", shortSHA(d.GitCommitSha), id)
	}
	if src.changes, err = src.t.git.ChangedFiles(ctx, src.commit.Parents[0], src.commit.SHA); err != nil {
		return src, err
	}
	sc := newScope(src.t.path, false)
	var outside []string
	for _, fc := range src.changes {
		if !sc.contains(fc.Path) {
			outside = append(outside, fc.Path)
		}
	}
	if len(outside) > 0 {
		return src, badRollback(id, "commit %s of deployment %s also changes %s, outside the environment's gitPath %s: undoing part of it would not undo the deployment; revert it with git by hand",
			shortSHA(d.GitCommitSha), id, strings.Join(outside, ", "), sc.gitPath)
	}
	if len(src.changes) == 0 {
		return src, badRollback(id, "commit %s of deployment %s changes no file: there is nothing to undo", shortSHA(d.GitCommitSha), id)
	}
	return src, nil
}

// planOn plans the rollback on head: CONFLICT_DETECTED when upstream
// changed what the commit changed, BAD_REQUEST when head already has the
// state before the commit.
func (src rollbackSource) planOn(head gitx.Snapshot) (*revertPlan, error) {
	p, err := planRevert(head, src.changes)
	if err != nil {
		return nil, err
	}
	if len(p.conflicts) > 0 {
		hideConflictValues(p.conflicts)
		return nil, manifest.ConflictError(p.conflicts)
	}
	if p.empty() {
		return nil, model.Errorf(model.CodeBadRequest, "nothing to roll back: %s at %s already undoes commit %s of deployment %s",
			src.t.path, shortSHA(head.Head), shortSHA(src.commit.SHA), src.dep.ID).WithDetail("deploymentId", src.dep.ID).WithDetail("commitSha", head.Head)
	}
	return p, nil
}

// hideConflictValues replaces the values of conflicts on container env
// entries with their digests, as previews do.
func hideConflictValues(cs []manifest.Conflict) {
	for i := range cs {
		if !strings.Contains(cs[i].Field, ".env[") {
			continue
		}
		for _, v := range []**string{&cs[i].Base, &cs[i].Ours, &cs[i].Theirs} {
			if *v != nil {
				h := hidden(**v)
				*v = &h
			}
		}
	}
}

// checkRevert refuses a plan that would write outside gitPath or through a link,
// or commit YAML that is invalid where it was valid.
func (s *Deploy) checkRevert(ctx context.Context, t gitTarget, head gitx.Snapshot, p *revertPlan) error {
	touched := map[string][]byte{}
	for k, v := range p.writes {
		touched[k] = v
	}
	for _, k := range p.deletes {
		touched[k] = nil
	}
	if err := newScope(t.path, false).checkWrites(touched); err != nil {
		return err
	}
	if err := checkNoLinks(head, touched); err != nil {
		return err
	}
	return s.checkChangedYAML(ctx, head, p.writes)
}

// previewRollback implements deployments.previewRollback.
func (s *Deploy) previewRollback(ctx context.Context, in api.IDInput) (api.PreviewResult, error) {
	src, err := s.rollbackSourceOf(ctx, in.ID)
	if err != nil {
		return api.PreviewResult{}, err
	}
	t := src.t
	head, err := t.git.Snapshot(ctx, t.branch)
	if err != nil {
		return api.PreviewResult{}, err
	}
	p, err := src.planOn(head)
	if err != nil {
		return api.PreviewResult{}, err
	}
	res := revertPreview(head, t, p, true)
	if err := s.checkRevert(ctx, t, head, p); err != nil {
		res.Warnings = append(res.Warnings, "deployments.rollback would refuse this: "+model.AsError(err).Message)
	}
	w, err := s.applyWarning(t.env, t.path)
	if err != nil {
		return api.PreviewResult{}, err
	}
	for _, w := range []string{w, s.imageAutomationWarning(ctx, t)} {
		if w != "" {
			res.Warnings = append(res.Warnings, w)
		}
	}
	return res, nil
}

// revertPreview is the preview of plan p on head; the impact (two
// kustomize builds) only withImpact, which the commit does not need.
func revertPreview(head gitx.Snapshot, t gitTarget, p *revertPlan, withImpact bool) api.PreviewResult {
	diff, sum := revertDiff(p)
	edits := revertEdits(p)
	im, warnings := manifest.Impact{EstimatedDowntime: "none"}, []string(nil)
	if withImpact {
		im, warnings = manifest.BuildImpact(head.FS(), t.path, p.writes, p.deletes)
	}
	var workloads []string
	for _, e := range edits {
		if e.Object != "" && !slices.Contains(workloads, e.Object) {
			workloads = append(workloads, e.Object)
		}
	}
	return api.PreviewResult{Diff: hideEnvDiff(diff, edits), Summary: sum,
		Impact: api.Impact{WillRestartPods: im.WillRestartPods, EstimatedDowntime: im.EstimatedDowntime,
			AffectedResources: shape.NonNil(im.AffectedResources), DowntimeReason: im.DowntimeReason, ImmutableChanges: im.ImmutableChanges},
		Warnings: shape.NonNil(warnings), Edits: toAPIEdits(edits), Workload: strings.Join(workloads, ", "), BaseRevision: head.Head, Branch: t.branch}
}

// rollback implements deployments.rollback: the revert of the deployment's
// commit is planned on the branch head, validated as a deploy is, committed
// and pushed (re-planned on a new head when the push loses a race), or with
// review pushed to a review branch. The new gitops-ui deployment records
// rollbackOf.
func (s *Deploy) rollback(ctx context.Context, in api.RollbackInput) (api.RollbackResult, error) {
	src, err := s.rollbackSourceOf(ctx, in.ID)
	if err != nil {
		return api.RollbackResult{}, err
	}
	t := src.t
	var last api.PreviewResult
	intent := func(head gitx.Snapshot) (gitx.Changes, error) {
		p, err := src.planOn(head)
		if err != nil {
			return gitx.Changes{}, err
		}
		if err := s.checkRevert(ctx, t, head, p); err != nil {
			return gitx.Changes{}, err
		}
		last = revertPreview(head, t, p, false)
		return gitx.Changes{Write: p.writes, Delete: p.deletes}, nil
	}
	subject, body := rollbackMessage(in.CommitMessage, src)
	id := ident.New("dep")
	out, err := s.commitOrReview(ctx, t, in.Review, id, intent, gitx.CommitMeta{Subject: subject, Body: body, Author: commitAuthor(ctx)})
	if err != nil {
		return api.RollbackResult{}, err
	}
	if out.NoOp {
		return api.RollbackResult{}, model.Errorf(model.CodeBadRequest, "nothing to roll back: %s already undoes deployment %s at %s", t.path, src.dep.ID, shortSHA(out.Commit)).
			WithDetail("commitSha", out.Commit)
	}
	now := s.now()
	pushedAt := now
	d := model.Deployment{ID: id, ProjectID: t.env.ProjectID, EnvironmentID: t.env.ID, DeploymentMethod: model.MethodGitOpsUI,
		Status: model.DeployPending, Image: imageOf(last.Edits), Message: subject, Diff: last.Diff, DeployedBy: model.ActorFrom(ctx).User,
		RollbackOf: src.dep.ID, CreatedAt: now, UpdatedAt: now}
	out.applyTo(&d, t)
	if _, err := s.storeDeployment(t, &d); err != nil {
		return api.RollbackResult{}, err
	}
	msg, warn := s.followCommit(ctx, t, d, out, pushedAt)
	res := api.DeployResult{DeploymentID: d.ID, CommitSha: out.Commit, GitURL: d.GitCommitURL, Branch: t.branch, Message: msg,
		Attempts: out.Attempts, Warnings: appendNonEmpty(shape.NonNil(last.Warnings), warn), ReviewBranch: out.ReviewBranch, CompareURL: out.CompareURL}
	return api.RollbackResult{DeployResult: res, RollbackOf: src.dep.ID}, nil
}

// rollbackMessage is the commit's subject and body: the given message, or
// git revert's ("Revert \"<subject>\"", "This reverts commit <sha>.").
func rollbackMessage(given string, src rollbackSource) (string, string) {
	body := fmt.Sprintf("This reverts commit %s (rollback of deployment %s).", src.commit.SHA, src.dep.ID)
	if given = strings.TrimSpace(given); given != "" {
		subject, rest, _ := strings.Cut(given, "\n")
		if rest = strings.TrimSpace(rest); rest != "" {
			body = rest + "\n\n" + body
		}
		return subject, body
	}
	return fmt.Sprintf("Revert %q", strings.TrimSpace(cmp.Or(src.commit.Subject, src.dep.Message, src.commit.SHA))), body
}

// imageOf is the image a change sets, when one of its edits sets a
// container's image or an overlay's images: tag.
func imageOf(edits []api.Edit) string {
	for _, e := range edits {
		if e.New == nil {
			continue
		}
		switch {
		case strings.HasSuffix(e.Field, "].image"):
			return *e.New
		case strings.HasPrefix(e.Field, "images[name=") && strings.HasSuffix(e.Field, "].newTag"):
			return strings.TrimSuffix(strings.TrimPrefix(e.Field, "images[name="), "].newTag") + ":" + *e.New
		}
	}
	return ""
}

// storeDeployment stores the pending deployment d of a pushed commit, tied
// to the environment's Kustomization when it has one, and returns the
// environment's Kustomizations.
func (s *Deploy) storeDeployment(t gitTarget, d *model.Deployment) ([]model.GitOpsResource, error) {
	var kustomizations []model.GitOpsResource
	err := s.db.Update(func(tx *store.Tx) error {
		res, _, err := store.Resources.List(tx, store.Query[model.GitOpsResource]{Index: "environment", Value: t.env.ID,
			Filter: func(r model.GitOpsResource) bool { return r.Type == model.ResourceKustomization }})
		if err != nil {
			return err
		}
		kustomizations = res
		if len(res) == 1 {
			d.GitOpsResourceID = res[0].ID
		}
		return store.Deployments.Put(tx, *d)
	})
	return kustomizations, err
}
