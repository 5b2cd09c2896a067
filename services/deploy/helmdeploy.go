package deploy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/services/manifest"
)

// previewHelm is previewChanges on a HelmRelease environment.
func (s *Deploy) previewHelm(ctx context.Context, t gitTarget, snap gitx.Snapshot, rel *manifest.HelmRelease, in api.PreviewInput) (api.PreviewResult, error) {
	ch, err := helmChange(in.Changes, in.Workload)
	if err != nil {
		return api.PreviewResult{}, err
	}
	ch.Workload = rel.Name
	hp, err := s.planHelm(ctx, t, snap, rel, ch)
	if err != nil {
		return api.PreviewResult{}, err
	}
	res := helmPreview(hp, snap.Head, t.branch)
	return res, s.previewWarnings(&res, t, snap, hp.res.Files, "deployWithGitOps")
}

// deployHelm is deployWithGitOps on a HelmRelease environment: the chart is
// fetched and rendered with the new values before anything is committed (a
// template error or a values.schema.json violation is BAD_REQUEST), then the
// values edit is committed like any other (re-planned on a new head, three-way
// conflicts checked).
func (s *Deploy) deployHelm(ctx context.Context, t gitTarget, snap gitx.Snapshot, rel *manifest.HelmRelease, in api.DeployInput) (api.DeployResult, error) {
	ch, err := helmChange(in.Change(), in.Workload)
	if err != nil {
		return api.DeployResult{}, err
	}
	ch.Workload = rel.Name
	hp, err := s.planHelm(ctx, t, snap, rel, ch)
	if err != nil {
		return api.DeployResult{}, err
	}
	chart := hp.to.Info()
	var last *manifest.HelmResult
	p := &planned{s: s, ctx: ctx, sc: newScope(t.path, in.AllowOutsidePath),
		plan: func(fsys fs.FS) (*manifest.Result, error) {
			hr, err := manifest.PlanHelmFS(fsys, t.path, ch, chart)
			if err != nil {
				return nil, err
			}
			last = hr
			return &hr.Result, nil
		},
		check: func(head gitx.Snapshot) error { return s.checkHelmYAML(ctx, head, last) }}
	out, err := s.commitDeploy(ctx, t, in, p, helmMessage(t.env.Name, rel, in.Change(), chart.Version))
	if err != nil {
		return api.DeployResult{}, err
	}
	if out.ReviewBranch == "" {
		out.Message += fmt.Sprintf("; helm-controller then upgrades release %s/%s", rel.TargetNamespace, rel.ReleaseName)
	}
	out.Warnings = append(out.Warnings, hp.warnings...)
	return out, nil
}

// errHelmPath stops a Deployment deploy's intent on a path that builds a
// HelmRelease: deployWithGitOps then deploys the Helm way.
var errHelmPath = errors.New("the path builds a HelmRelease")

// deployHelmTarget deploys to the HelmRelease that t's path builds.
func (s *Deploy) deployHelmTarget(ctx context.Context, t gitTarget, in api.DeployInput) (api.DeployResult, error) {
	snap, err := t.git.Snapshot(ctx, t.branch)
	if err != nil {
		return api.DeployResult{}, err
	}
	rel, err := helmRelease(snap.FS(), t.path, in.Change(), in.Workload)
	if err != nil {
		return api.DeployResult{}, err
	}
	if rel == nil { // the branch moved and no longer builds one
		return api.DeployResult{}, model.Errorf(model.CodeConflictDetected, "%s stopped building a HelmRelease while deploying: try again", t.path)
	}
	return s.deployHelm(ctx, t, snap, rel, in)
}

// checkHelmYAML validates the files a HelmRelease change writes: the
// release's own file fully, a values patch as the partial document it is
// (a missing required field there is the base's to set).
func (s *Deploy) checkHelmYAML(ctx context.Context, head gitx.Snapshot, plan *manifest.HelmResult) error {
	full, patches := map[string][]byte{}, map[string][]byte{}
	for p, b := range plan.Files {
		base := path.Base(p)
		if p == plan.Before.File || base == "kustomization.yaml" || base == "kustomization.yml" {
			full[p] = b
		} else {
			patches[p] = b
		}
	}
	if err := s.checkChangedYAML(ctx, head, full); err != nil {
		return err
	}
	v, err := s.yamlValidator()
	if err != nil {
		return err
	}
	var errs []any
	for _, p := range shape.SortedKeys(patches) {
		for _, e := range v.ValidateFile(ctx, p, patches[p]).Errors {
			if strings.HasSuffix(e.Message, "Required value") || manifest.PatchDirective(e.Field) {
				continue
			}
			errs = append(errs, map[string]any{"file": p, "line": e.Line, "column": e.Column, "field": e.Field, "message": e.Message})
		}
	}
	if len(errs) > 0 {
		return model.Errorf(model.CodeYAMLInvalid, "the change would commit invalid YAML (%d error(s))", len(errs)).WithDetail("errors", errs)
	}
	return nil
}

// helmMessage is the default commit subject of a HelmRelease deploy.
func helmMessage(env string, rel *manifest.HelmRelease, c api.ChangeSet, chartVersion string) string {
	chart := ""
	if c.ChartVersion != "" {
		chart = rel.Chart + " " + chartVersion
	}
	return fmt.Sprintf("deploy(%s/%s): set %s", env, rel.Name, strings.Join(changeParts(c, chart), ", "))
}
