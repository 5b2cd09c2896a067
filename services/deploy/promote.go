package deploy

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/catalog"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/internal/ident"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/services/manifest"
)

// A promotion copies the effective values of the source environment's
// workloads (as kustomize builds its branch head) into the target
// environment's manifests, where a person would write them: the same
// planner as deployWithGitOps, one change per container. Only what the
// source has and the target has not is copied; variables the target alone
// sets are kept, and variables the source sets from a Secret or ConfigMap
// are not copied (only the name would be).

// promotion is a promotion between two environments: the source's
// workloads as its branch head builds them, and the changes planned on the
// target.
type promotion struct {
	in       api.PromotionInput
	from, to gitTarget
	srcRev   string
	have     []manifest.Built
	changes  []manifest.Change
	diffs    []api.FieldDifference
}

// readPromotion resolves both environments and builds the source's branch
// head. It reads the source before any commit to the target starts: both
// may share one clone, which a commit holds.
func (s *Deploy) readPromotion(ctx context.Context, in api.PromotionInput) (*promotion, error) {
	p, err := s.promotionTargets(ctx, in)
	if err != nil {
		return nil, err
	}
	p.in = in
	src, err := p.from.git.Snapshot(ctx, p.from.branch)
	if err != nil {
		return nil, err
	}
	p.srcRev = src.Head
	if p.have, err = manifest.Effective(src.FS(), p.from.path); err != nil {
		return nil, fmt.Errorf("source environment %s: %w", p.from.env.Name, err)
	}
	return p, nil
}

// plan works out the changes on the target's files (target, a commit's
// tree) and plans them; nil when there is nothing to promote.
func (p *promotion) plan(target fs.FS) (*manifest.Result, error) {
	want, err := manifest.Effective(target, p.to.path)
	if err != nil {
		return nil, err
	}
	pairs, err := promotedPairs(p.in.Workload, p.from.env.Name, p.to.env.Name, p.have, want)
	if err != nil {
		return nil, err
	}
	p.changes, p.diffs = nil, nil
	for _, pr := range pairs {
		chs, ds := promoteWorkload(pr[0], pr[1], p.in.PromoteFields())
		p.changes = append(p.changes, chs...)
		p.diffs = append(p.diffs, ds...)
	}
	if len(p.changes) == 0 {
		return nil, nil
	}
	return manifest.PlanAll(target, p.to.path, p.changes)
}

func (s *Deploy) promotionTargets(ctx context.Context, in api.PromotionInput) (*promotion, error) {
	from, err := s.catalog.Environment(in.FromEnvironmentID)
	if err != nil {
		return nil, catalog.RefErr("fromEnvironmentId", "environment", in.FromEnvironmentID)
	}
	to, err := s.catalog.Environment(in.ToEnvironmentID)
	if err != nil {
		return nil, catalog.RefErr("toEnvironmentId", "environment", in.ToEnvironmentID)
	}
	if from.ProjectID != to.ProjectID {
		fe := model.FieldErrors{}
		fe.Add("toEnvironmentId", fmt.Sprintf("environment %s belongs to project %s, %s to project %s: promote within one project",
			to.ID, to.ProjectID, from.ID, from.ProjectID))
		return nil, fe.Err()
	}
	ft, err := s.gitTarget(ctx, from.ProjectID, from.ID)
	if err != nil {
		return nil, err
	}
	tt, err := s.gitTarget(ctx, to.ProjectID, to.ID)
	if err != nil {
		return nil, err
	}
	return &promotion{from: ft, to: tt}, nil
}

// promotedPairs pairs each source workload to promote with the target's
// workload of the same kind and name.
func promotedPairs(workload, fromName, toName string, have, want []manifest.Built) ([][2]manifest.Built, error) {
	find := func(list []manifest.Built, id string) (manifest.Built, bool) {
		for _, b := range list {
			if b.ID() == id {
				return b, true
			}
		}
		return manifest.Built{}, false
	}
	ids := func(list []manifest.Built) string {
		out := make([]string, len(list))
		for i, b := range list {
			out[i] = b.ID()
		}
		return strings.Join(out, ", ")
	}
	var out [][2]manifest.Built
	if workload != "" {
		var src *manifest.Built
		for i, b := range have {
			if b.ID() == workload || b.Name == workload {
				src = &have[i]
				break
			}
		}
		fe := model.FieldErrors{}
		if src == nil {
			fe.Add("workload", fmt.Sprintf("environment %s builds no workload %q (it builds: %s)", fromName, workload, ids(have)))
			return nil, fe.Err()
		}
		dst, ok := find(want, src.ID())
		if !ok {
			fe.Add("workload", fmt.Sprintf("environment %s builds no %s (it builds: %s)", toName, src.ID(), ids(want)))
			return nil, fe.Err()
		}
		return append(out, [2]manifest.Built{*src, dst}), nil
	}
	for _, b := range have {
		if dst, ok := find(want, b.ID()); ok {
			out = append(out, [2]manifest.Built{b, dst})
		}
	}
	if len(out) == 0 {
		return nil, model.Errorf(model.CodeBadRequest, "environments %s (%s) and %s (%s) build no workload in common: nothing to promote",
			fromName, ids(have), toName, ids(want))
	}
	return out, nil
}

// promoteWorkload compares one workload's fields and returns the changes
// that make the target's match the source's.
func promoteWorkload(src, dst manifest.Built, fields []api.PromoteField) ([]manifest.Change, []api.FieldDifference) {
	var chs []manifest.Change
	var ds []api.FieldDifference
	diff := func(c string, f api.PromoteField, name string, from, to *string) {
		ds = append(ds, api.FieldDifference{Workload: src.ID(), Container: c, Field: f, Name: name, Source: from, Target: to})
	}
	var replicas *int32
	if slices.Contains(fields, api.PromoteReplicas) && src.Replicas != nil && (dst.Replicas == nil || *dst.Replicas != *src.Replicas) {
		replicas = src.Replicas
		diff("", api.PromoteReplicas, "", strPtr(fmt.Sprint(*src.Replicas)), optInt(dst.Replicas))
	}
	for _, sc := range src.Containers {
		i := slices.IndexFunc(dst.Containers, func(c manifest.BuiltContainer) bool { return c.Name == sc.Name })
		if i < 0 {
			continue
		}
		dc := dst.Containers[i]
		ch := manifest.Change{Workload: src.ID(), Container: sc.Name, Replicas: replicas}
		replicas = nil
		if slices.Contains(fields, api.PromoteImage) && sc.Image != "" && sc.Image != dc.Image {
			ch.Image = sc.Image
			diff(sc.Name, api.PromoteImage, "", strPtr(sc.Image), optStr(dc.Image))
		}
		if slices.Contains(fields, api.PromoteEnv) {
			for _, k := range shape.SortedKeys(sc.Env) {
				if v, ok := dc.Env[k]; ok && v == sc.Env[k] {
					continue
				}
				if ch.Env == nil {
					ch.Env = map[string]*string{}
				}
				ch.Env[k] = strPtr(sc.Env[k])
				var old *string
				if v, ok := dc.Env[k]; ok {
					old = strPtr(hidden(v))
				}
				diff(sc.Name, api.PromoteEnv, k, strPtr(hidden(sc.Env[k])), old)
			}
		}
		if slices.Contains(fields, api.PromoteResources) {
			ch.Resources = promoteResources(sc, dc, func(name string, from, to *string) { diff(sc.Name, api.PromoteResources, name, from, to) })
		}
		if ch.Image != "" || ch.Replicas != nil || len(ch.Env) > 0 || ch.Resources != nil {
			chs = append(chs, ch)
		}
	}
	return chs, ds
}

func promoteResources(sc, dc manifest.BuiltContainer, diff func(name string, from, to *string)) *manifest.Resources {
	var r manifest.Resources
	changed := false
	for _, q := range []struct {
		name     string
		from, to string
		set      *string
	}{
		{"requests.cpu", sc.Resources.Requests.CPU, dc.Resources.Requests.CPU, &r.Requests.CPU},
		{"requests.memory", sc.Resources.Requests.Memory, dc.Resources.Requests.Memory, &r.Requests.Memory},
		{"limits.cpu", sc.Resources.Limits.CPU, dc.Resources.Limits.CPU, &r.Limits.CPU},
		{"limits.memory", sc.Resources.Limits.Memory, dc.Resources.Limits.Memory, &r.Limits.Memory},
	} {
		if q.from != "" && q.from != q.to {
			*q.set, changed = q.from, true
			diff(q.name, strPtr(q.from), optStr(q.to))
		}
	}
	if !changed {
		return nil
	}
	return &r
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optInt(n *int32) *string {
	if n == nil {
		return nil
	}
	return strPtr(fmt.Sprint(*n))
}

// previewPromotion implements environments.previewPromotion.
func (s *Deploy) previewPromotion(ctx context.Context, in api.PromotionInput) (api.PromotionPreview, error) {
	p, err := s.readPromotion(ctx, in)
	if err != nil {
		return api.PromotionPreview{}, err
	}
	head, err := p.to.git.Snapshot(ctx, p.to.branch)
	if err != nil {
		return api.PromotionPreview{}, err
	}
	plan, err := p.plan(head.FS())
	if err != nil {
		return api.PromotionPreview{}, err
	}
	out := api.PromotionPreview{FromEnvironmentID: p.from.env.ID, ToEnvironmentID: p.to.env.ID, SourceRevision: p.srcRev,
		Differences: shape.NonNil(p.diffs)}
	if plan == nil {
		out.PreviewResult = api.PreviewResult{Summary: api.Summary{Files: []string{}}, Impact: api.Impact{EstimatedDowntime: "none", AffectedResources: []string{}},
			Warnings: []string{nothingToPromote(p).Message}, Edits: []api.Edit{}, BaseRevision: head.Head, Branch: p.to.branch}
		return out, nil
	}
	out.PreviewResult = previewOf(plan, head.Head, p.to.branch)
	if err := s.previewWarnings(&out.PreviewResult, p.to, head, plan.Files, "environments.promote"); err != nil {
		return api.PromotionPreview{}, err
	}
	return out, nil
}

func nothingToPromote(p *promotion) *model.Error {
	return model.Errorf(model.CodeBadRequest, "nothing to promote: %s already runs what %s runs", p.to.env.Name, p.from.env.Name)
}

// promote implements environments.promote: the promotion is planned on the
// target's branch head (again on a newer head if the push loses a race,
// where an upstream change to a promoted field is CONFLICT_DETECTED) and
// pushed, or pushed to a review branch with review.
func (s *Deploy) promote(ctx context.Context, in api.PromoteInput) (api.PromoteResult, error) {
	p, err := s.readPromotion(ctx, in.PromotionInput)
	if err != nil {
		return api.PromoteResult{}, err
	}
	t := p.to
	pl := &planned{s: s, ctx: ctx, sc: newScope(t.path, false), plan: func(fsys fs.FS) (*manifest.Result, error) {
		plan, err := p.plan(fsys)
		if err == nil && plan == nil {
			return nil, nothingToPromote(p)
		}
		return plan, err
	}}
	// The default message names what was copied, known once the intent
	// has planned on the head the commit is made on.
	subject, body, _ := strings.Cut(in.CommitMessage, "\n")
	body = strings.TrimSpace(body)
	if subject == "" {
		subject = fmt.Sprintf("promote(%s → %s)", p.from.env.Name, p.to.env.Name)
	}
	intent := func(head gitx.Snapshot) (gitx.Changes, error) {
		ch, err := pl.intent(head)
		if err == nil && in.CommitMessage == "" {
			ch.Subject, ch.Body = promotionMessage(p), promotionBody(p)
			subject = ch.Subject
		}
		return ch, err
	}
	id := ident.New("dep")
	res, err := s.commitOrReview(ctx, t, in.Review, id, intent, gitx.CommitMeta{Subject: subject, Body: body, Author: commitAuthor(ctx)})
	if err != nil {
		return api.PromoteResult{}, err
	}
	if res.NoOp {
		return api.PromoteResult{}, nothingToPromote(p)
	}
	return s.promoted(ctx, p, pl.last, id, res, subject)
}

// promoted records the promotion's deployment and answers.
func (s *Deploy) promoted(ctx context.Context, p *promotion, plan *manifest.Result, id string, res pushed, subject string) (api.PromoteResult, error) {
	t := p.to
	rec := api.DeployInput{ProjectID: t.env.ProjectID, EnvironmentID: t.env.ID}
	for _, c := range p.changes {
		if c.Image != "" && rec.Image == "" {
			rec.Image = c.Image
		}
		if c.Replicas != nil {
			rec.Replicas = c.Replicas
		}
	}
	pushedAt := s.now()
	d, _, err := s.recordDeployment(ctx, t, rec, id, res, subject, hideEnvDiff(plan.Diff, plan.Edits))
	if err != nil {
		return api.PromoteResult{}, err
	}
	msg, warn := s.followCommit(ctx, t, d, res, pushedAt)
	return api.PromoteResult{DeployResult: api.DeployResult{DeploymentID: d.ID, CommitSha: res.Commit, GitURL: d.GitCommitURL,
		Message: msg, Branch: t.branch, Attempts: res.Attempts,
		Warnings: appendNonEmpty(shape.NonNil(plan.Warnings), warn), ReviewBranch: res.ReviewBranch, CompareURL: res.CompareURL},
		SourceRevision: p.srcRev, Differences: p.diffs}, nil
}

// promotionMessage is the default subject: "promote(staging → production): image ghcr.io/acme/web:1.4.2".
func promotionMessage(p *promotion) string {
	var what []string
	for _, d := range p.diffs {
		switch {
		case d.Field == api.PromoteImage:
			what = append(what, "image "+*d.Source)
		case !slices.Contains(what, string(d.Field)):
			what = append(what, string(d.Field))
		}
	}
	return fmt.Sprintf("promote(%s → %s): %s", p.from.env.Name, p.to.env.Name, strings.Join(what, ", "))
}

func promotionBody(p *promotion) string {
	return fmt.Sprintf("Promoted from %s at %s (branch %s, path %s).", p.from.env.Name, p.srcRev, p.from.branch, p.from.path)
}
