package deploy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/internal/ident"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/services/manifest"
	"github.com/gitopstui/gitopstui/store"
)

// previewChanges implements gitops.previewChanges.
func (s *Deploy) previewChanges(ctx context.Context, in api.PreviewInput) (api.PreviewResult, error) {
	t, err := s.gitTarget(ctx, in.ProjectID, in.EnvironmentID)
	if err != nil {
		return api.PreviewResult{}, err
	}
	snap, err := t.git.Snapshot(ctx, t.branch)
	if err != nil {
		return api.PreviewResult{}, err
	}
	if rel, err := helmRelease(snap.FS(), t.path, in.Changes, in.Workload); err != nil || rel != nil {
		if err != nil {
			return api.PreviewResult{}, err
		}
		return s.previewHelm(ctx, t, snap, rel, in)
	}
	plan, err := manifest.PlanFS(snap.FS(), t.path, manifestChange(in.Changes, in.Workload, in.Container))
	if err != nil {
		return api.PreviewResult{}, err
	}
	res := previewOf(plan, snap.Head, t.branch)
	return res, s.previewWarnings(&res, t, snap, plan.Files, "deployWithGitOps")
}

// previewWarnings adds to a preview what would keep proc from committing
// files (writes outside gitPath, through links) and what would keep Flux
// from applying the commit.
func (s *Deploy) previewWarnings(res *api.PreviewResult, t gitTarget, snap gitx.Snapshot, files map[string][]byte, proc string) error {
	for _, err := range []error{newScope(t.path, false).checkWrites(files), checkNoLinks(snap, files)} {
		if err != nil {
			res.Warnings = append(res.Warnings, proc+" would refuse this change: "+model.AsError(err).Message)
		}
	}
	w, err := s.applyWarning(t.env, t.path)
	if w != "" {
		res.Warnings = append(res.Warnings, w)
	}
	return err
}

// applyWarning says when nothing will apply a commit to the environment's
// path: it has no Flux Kustomization, or every one is suspended ("" when
// one will).
func (s *Deploy) applyWarning(env model.Environment, path string) (string, error) {
	var ks []model.GitOpsResource
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		ks, _, err = store.Resources.List(tx, store.Query[model.GitOpsResource]{Index: "environment", Value: env.ID,
			Filter: func(r model.GitOpsResource) bool { return r.Type == model.ResourceKustomization && r.DeletedAt == nil }})
		return err
	})
	if err != nil {
		return "", err
	}
	if len(ks) == 0 {
		return fmt.Sprintf("nothing will apply this commit: environment %s has no Flux Kustomization for %s; "+
			"create one for the environment first, or the commit waits in Git", env.Name, path), nil
	}
	names := make([]string, 0, len(ks))
	for _, r := range ks {
		if !r.Suspended {
			return "", nil
		}
		names = append(names, r.Name)
	}
	return fmt.Sprintf("nothing will apply this commit: every Flux Kustomization of environment %s is suspended (%s); "+
		"resume one first, or the commit waits in Git", env.Name, strings.Join(names, ", ")), nil
}

// manifestChange turns the contract's change into the planner's.
func manifestChange(c api.ChangeSet, workload, container string) manifest.Change {
	ch := manifest.Change{Workload: workload, Container: container, Image: c.Image, Replicas: c.Replicas, Env: c.Env}
	if r := c.Resources; r != nil {
		ch.Resources = &manifest.Resources{}
		if r.Requests != nil {
			ch.Resources.Requests = manifest.ResourceValues{CPU: r.Requests.CPU, Memory: r.Requests.Memory}
		}
		if r.Limits != nil {
			ch.Resources.Limits = manifest.ResourceValues{CPU: r.Limits.CPU, Memory: r.Limits.Memory}
		}
	}
	return ch
}

func previewOf(p *manifest.Result, head, branch string) api.PreviewResult {
	files := shape.SortedKeys(p.Files)
	edits := make([]api.Edit, len(p.Edits))
	for i, e := range p.Edits {
		edits[i] = api.Edit{Path: e.Path, Object: e.Object, Field: e.Field, Old: e.Old, New: e.New, Note: e.Note}
	}
	hideEnvValues(edits)
	im := p.Impact
	return api.PreviewResult{Diff: hideEnvDiff(p.Diff, p.Edits),
		Summary: api.Summary{Additions: p.Summary.Additions, Deletions: p.Summary.Deletions, Files: files},
		Impact: api.Impact{WillRestartPods: im.WillRestartPods, EstimatedDowntime: im.EstimatedDowntime,
			AffectedResources: shape.NonNil(im.AffectedResources), DowntimeReason: im.DowntimeReason, ImmutableChanges: im.ImmutableChanges},
		Warnings: shape.NonNil(p.Warnings), Edits: edits, Workload: p.Workload, BaseRevision: head, Branch: branch}
}

// deployWithGitOps implements gitops.deployWithGitOps: the change is planned
// on the branch head, validated, committed from trees and pushed. A push that
// loses a race is re-planned on the new head; an upstream change to a field
// this change also changes is CONFLICT_DETECTED. The plan writes only under
// the environment's gitPath (an admin may pass allowOutsidePath) and never
// through a symbolic link: BAD_REQUEST naming the file otherwise.
func (s *Deploy) deployWithGitOps(ctx context.Context, in api.DeployInput) (api.DeployResult, error) {
	if err := checkWide(ctx, in.AllowOutsidePath); err != nil {
		return api.DeployResult{}, err
	}
	t, err := s.gitTarget(ctx, in.ProjectID, in.EnvironmentID)
	if err != nil {
		return api.DeployResult{}, err
	}
	ch := manifestChange(in.Change(), in.Workload, in.Container)
	// The intent finds out on the head whether the path builds a
	// HelmRelease, so that a Deployment deploy reads the branch once.
	p := &planned{s: s, ctx: ctx, sc: newScope(t.path, in.AllowOutsidePath),
		plan: func(fsys fs.FS) (*manifest.Result, error) {
			rel, err := helmRelease(fsys, t.path, in.Change(), in.Workload)
			if err == nil && rel != nil {
				err = errHelmPath
			}
			if err != nil {
				return nil, err
			}
			return manifest.PlanFS(fsys, t.path, ch)
		}}
	out, err := s.commitDeploy(ctx, t, in, p, conventionalMessage(t.env.Name, in.Workload, in.Change()))
	if errors.Is(err, errHelmPath) {
		return s.deployHelmTarget(ctx, t, in)
	}
	return out, err
}

// commitDeploy commits the deploy p plans (to the environment's branch, or
// with review to a branch of its own) under in's commit message (else
// subject), records the pending deployment and follows its commit.
func (s *Deploy) commitDeploy(ctx context.Context, t gitTarget, in api.DeployInput, p *planned, subject string) (api.DeployResult, error) {
	body := ""
	if in.CommitMessage != "" {
		subject, body, _ = strings.Cut(in.CommitMessage, "\n")
		body = strings.TrimSpace(body)
	}
	id := ident.New("dep")
	res, err := s.commitOrReview(ctx, t, in.Review, id, p.intent, gitx.CommitMeta{Subject: subject, Body: body, Author: commitAuthor(ctx)})
	if err != nil {
		return api.DeployResult{}, err
	}
	if res.NoOp {
		return api.DeployResult{}, model.Errorf(model.CodeBadRequest, "nothing to deploy: %s already has these values at %s", t.path, shortSHA(res.Commit)).
			WithDetail("commitSha", res.Commit)
	}
	pushedAt := s.now()
	d, _, err := s.recordDeployment(ctx, t, in, id, res, subject, hideEnvDiff(p.last.Diff, p.last.Edits))
	if err != nil {
		return api.DeployResult{}, err
	}
	msg, warn := s.followCommit(ctx, t, d, res, pushedAt)
	return api.DeployResult{DeploymentID: d.ID, CommitSha: res.Commit, GitURL: d.GitCommitURL, Message: msg, Branch: t.branch,
		Attempts: res.Attempts, Warnings: appendNonEmpty(shape.NonNil(p.last.Warnings), warn), ReviewBranch: res.ReviewBranch, CompareURL: res.CompareURL}, nil
}

// appendNonEmpty appends w unless it is empty.
func appendNonEmpty(list []string, w string) []string {
	if w == "" {
		return list
	}
	return append(list, w)
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// conventionalMessage is the default commit subject of a deploy.
func conventionalMessage(env, workload string, c api.ChangeSet) string {
	scope := env
	if workload != "" {
		scope = env + "/" + workload
	}
	return fmt.Sprintf("deploy(%s): set %s", scope, strings.Join(changeParts(c, ""), ", "))
}

// changeParts names what a change sets, for a commit subject ("image
// ghcr.io/acme/web:1.4.2", "chart podinfo 6.6.0" when chart is given,
// "replicas 3", "env A,B", "resources", "values").
func changeParts(c api.ChangeSet, chart string) []string {
	var parts []string
	if c.Image != "" {
		parts = append(parts, "image "+c.Image)
	}
	if chart != "" {
		parts = append(parts, "chart "+chart)
	}
	if c.Replicas != nil {
		parts = append(parts, fmt.Sprintf("replicas %d", *c.Replicas))
	}
	if len(c.Env) > 0 {
		parts = append(parts, "env "+strings.Join(shape.SortedKeys(c.Env), ","))
	}
	if c.Resources != nil {
		parts = append(parts, "resources")
	}
	if len(c.Values) > 0 {
		parts = append(parts, "values")
	}
	return parts
}

func strPtr(s string) *string { return &s }

// recordDeployment stores the pending gitops-ui deployment id of a pushed
// commit, tied to the environment's Kustomization when it has one, and
// returns it with the environment's Kustomizations.
func (s *Deploy) recordDeployment(ctx context.Context, t gitTarget, in api.DeployInput, id string, out pushed, subject, diff string) (model.Deployment, []model.GitOpsResource, error) {
	now := s.now()
	d := model.Deployment{ID: id, ProjectID: t.env.ProjectID, EnvironmentID: t.env.ID, DeploymentMethod: model.MethodGitOpsUI,
		Status: model.DeployPending, Image: in.Image, Replicas: in.Replicas, Message: subject, Diff: diff, DeployedBy: model.ActorFrom(ctx).User,
		CreatedAt: now, UpdatedAt: now}
	out.applyTo(&d, t)
	kustomizations, err := s.storeDeployment(t, &d)
	return d, kustomizations, err
}
