package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/helmchart"
	"github.com/gitopstui/gitopstui/services/manifest"
)

// The Helm way of previewChanges and deployWithGitOps: when the
// environment's path builds a HelmRelease, the change maps onto the chart's
// values (manifest.PlanHelmFS), the chart is fetched from the release's
// source and rendered with the old and the new values and version, and the
// impact comes from the rendered workloads.

// helmPlan is a planned HelmRelease change with its rendered manifests.
type helmPlan struct {
	res      *manifest.HelmResult
	rendered *manifest.Rendered
	from, to *helmchart.Chart
	warnings []string
}

// helmRelease returns the HelmRelease the change is for, nil when the path
// builds none or the change names a workload that is not one (the
// Deployment way then applies). values and chartVersion need a release.
func helmRelease(fsys fs.FS, gitPath string, c api.ChangeSet, workload string) (*manifest.HelmRelease, error) {
	if i := strings.IndexByte(workload, '/'); i >= 0 && workload[:i] != "HelmRelease" {
		return nil, helmOnly(c, gitPath)
	}
	rel, err := manifest.FindHelmRelease(fsys, gitPath, workload)
	if err != nil && (workload == "" || strings.HasPrefix(workload, "HelmRelease/")) {
		return nil, err
	}
	if rel == nil {
		return nil, helmOnly(c, gitPath)
	}
	return rel, nil
}

func helmOnly(c api.ChangeSet, gitPath string) error {
	if !c.IsHelm() {
		return nil
	}
	fe := model.FieldErrors{}
	field := "values"
	if len(c.Values) == 0 {
		field = "chartVersion"
	}
	fe.Add(field, "only for an environment whose path holds a HelmRelease; "+gitPath+" builds none (or the workload names another kind)")
	return fe.Err()
}

// helmChange turns the contract's change into the planner's.
func helmChange(c api.ChangeSet, workload string) (manifest.HelmChange, error) {
	ch := manifest.HelmChange{Change: manifestChange(c, workload, ""), ChartVersion: c.ChartVersion}
	if len(c.Values) > 0 {
		if err := json.Unmarshal(c.Values, &ch.Values); err != nil {
			fe := model.FieldErrors{}
			fe.Add("values", "must be an object of chart values: "+err.Error())
			return ch, fe.Err()
		}
	}
	return ch, nil
}

// planHelm plans the change on the snapshot and renders the chart before
// and after.
func (s *Deploy) planHelm(ctx context.Context, t gitTarget, snap gitx.Snapshot, rel *manifest.HelmRelease, ch manifest.HelmChange) (*helmPlan, error) {
	hp := &helmPlan{}
	if rel.ValuesFrom {
		hp.warnings = append(hp.warnings, rel.ID()+" takes values from ConfigMaps or Secrets (valuesFrom): the rendered diff leaves them out")
	}
	if rel.PostRenderers {
		hp.warnings = append(hp.warnings, rel.ID()+" has postRenderers: the rendered diff is before them")
	}
	var err error
	if hp.from, err = s.helmChart(ctx, t, snap, rel, rel.Version, "chartVersion"); err != nil {
		return nil, err
	}
	hp.to = hp.from
	if ch.ChartVersion != "" && ch.ChartVersion != rel.Version {
		if hp.to, err = s.helmChart(ctx, t, snap, rel, ch.ChartVersion, "chartVersion"); err != nil {
			return nil, err
		}
	}
	if hp.res, err = manifest.PlanHelmFS(snap.FS(), t.path, ch, hp.to.Info()); err != nil {
		return nil, err
	}
	r := helmchart.Release{Name: rel.ReleaseName, Namespace: rel.TargetNamespace}
	old, err := helmchart.Render(ctx, hp.from, r, rel.Values)
	if err != nil {
		hp.warnings = append(hp.warnings, "the release as Git has it now does not render: "+model.AsError(err).Message)
		old = ""
	}
	renderedNew, err := helmchart.Render(ctx, hp.to, r, hp.res.After.Values)
	if err != nil {
		return nil, err
	}
	if hp.rendered, err = manifest.RenderedChange(rel.ID(), old, renderedNew); err != nil {
		return nil, err
	}
	return hp, nil
}

// helmChart fetches the release's chart at version from its source: a
// HelmRepository's index (cached in the data dir), or a chart directory of
// a GitRepository (the environment's repository, or another one cloned
// into the Git cache).
func (s *Deploy) helmChart(ctx context.Context, t gitTarget, snap gitx.Snapshot, rel *manifest.HelmRelease, version, field string) (*helmchart.Chart, error) {
	src := rel.Source
	switch src.Kind {
	case "HelmRepository":
		if src.URL == "" {
			return nil, model.Errorf(model.CodeBadRequest, "%s uses HelmRepository %s/%s, which is not in the repository: its URL is unknown", rel.ID(), src.Namespace, src.Name).
				WithDetail("source", src.Namespace+"/"+src.Name)
		}
		if src.Type == "oci" {
			return nil, model.Errorf(model.CodeBadRequest, "%s uses the OCI HelmRepository %s: only HTTP Helm repositories are supported", rel.ID(), src.URL)
		}
		return s.helm.FromRepository(ctx, src.URL, rel.Chart, version)
	case "GitRepository":
		if version != rel.Version {
			fe := model.FieldErrors{}
			fe.Add(field, fmt.Sprintf("%s's chart comes from GitRepository %s: its version is the one its Chart.yaml in Git says; change the chart there", rel.ID(), src.Name))
			return nil, fe.Err()
		}
		fsys, origin, err := s.gitSource(ctx, t, snap, src)
		if err != nil {
			return nil, err
		}
		return helmchart.FromFS(fsys, strings.TrimPrefix(path.Clean(rel.Chart), "/"), origin)
	}
	return nil, model.Errorf(model.CodeBadRequest, "%s: chart source kind %q is not supported (HelmRepository or GitRepository)", rel.ID(), src.Kind)
}

// gitSource returns the files of a GitRepository source: the environment's
// own snapshot when it is the environment's repository and branch.
func (s *Deploy) gitSource(ctx context.Context, t gitTarget, snap gitx.Snapshot, src manifest.HelmSource) (fs.FS, string, error) {
	origin := "GitRepository " + src.Namespace + "/" + src.Name
	if src.Tag != "" || src.Semver != "" {
		return nil, "", model.Errorf(model.CodeBadRequest, "%s follows a tag or semver range: only a branch or commit is supported for its charts", origin)
	}
	rev := src.Branch
	if src.Commit != "" {
		rev = src.Commit
	}
	if src.URL == "" || sameRemote(src.URL, t.repo.URL) {
		if rev == "" || rev == t.branch {
			return snap.FS(), origin, nil
		}
		other, err := t.git.Snapshot(ctx, rev)
		if err != nil {
			return nil, "", err
		}
		return other.FS(), origin, nil
	}
	if err := s.policy.CheckRemoteURL(model.ActorFrom(ctx), "source.url", src.URL); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256([]byte(src.URL))
	r, err := s.git.Repo("helmsrc-"+hex.EncodeToString(sum[:8]), src.URL, gitx.Auth{NoCredentialHelper: s.policy.Serving, NoSSHAgent: s.policy.Serving})
	if err != nil {
		return nil, "", err
	}
	if rev == "" {
		rev = "main"
	}
	other, err := r.Snapshot(ctx, rev)
	if err != nil {
		return nil, "", err
	}
	return other.FS(), origin, nil
}

// sameRemote compares two Git URLs leniently (a trailing / or .git aside).
func sameRemote(a, b string) bool {
	norm := func(s string) string { return strings.TrimSuffix(strings.TrimSuffix(s, "/"), ".git") }
	return norm(a) == norm(b)
}

// helmPreview is the contract's view of a planned HelmRelease change.
func helmPreview(hp *helmPlan, head, branch string) api.PreviewResult {
	res := previewOf(&hp.res.Result, head, branch)
	im := hp.rendered.Impact
	res.Impact = api.Impact{WillRestartPods: im.WillRestartPods, EstimatedDowntime: im.EstimatedDowntime,
		AffectedResources: append([]string{hp.res.Before.ID()}, im.AffectedResources...), DowntimeReason: im.DowntimeReason, ImmutableChanges: im.ImmutableChanges}
	res.Warnings = append(append(res.Warnings, hp.warnings...), hp.rendered.Warnings...)
	rel := hp.res.Before
	res.Helm = &api.HelmPreview{Release: rel.ReleaseName, Namespace: rel.TargetNamespace, Chart: rel.Chart,
		FromVersion: hp.from.Version(), ToVersion: hp.to.Version(), RenderedDiff: hp.rendered.Diff,
		RenderedSummary: api.Summary{Additions: hp.rendered.Summary.Additions, Deletions: hp.rendered.Summary.Deletions, Files: renderedFiles(hp.rendered.Diff)}}
	return res
}

// renderedFiles lists the objects a rendered diff names.
func renderedFiles(diff string) []string {
	out := []string{}
	for _, l := range strings.Split(diff, "\n") {
		if rest, ok := strings.CutPrefix(l, "diff --git a/"); ok {
			if i := strings.Index(rest, " b/"); i >= 0 {
				out = append(out, rest[:i])
			}
		}
	}
	return out
}
