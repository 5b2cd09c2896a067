package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/helmchart"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/services/manifest"
	"github.com/gitopstui/gitopstui/store"
)

// originLabels are the labels helm-controller's post-renderer adds to every
// object it installs; the Git side's render has none.
var originLabels = []string{"helm.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/namespace"}

// diffHelmRelease implements gitops.diffHelmRelease: the release as the
// environment's path defines it in Git at the branch head (else the
// HelmRelease object in the cluster) is rendered with its chart and values
// and compared, object by object, with the manifest of the deployed Helm
// release that helm-controller stored in the cluster.
func (s *Deploy) diffHelmRelease(ctx context.Context, in api.DiffHelmReleaseInput) (api.HelmReleaseDiff, error) {
	envID, name, ns := in.EnvironmentID, in.Name, in.Namespace
	if in.ID != "" {
		r, err := store.Resources.Read(s.db, in.ID)
		if err != nil || r.DeletedAt != nil {
			return api.HelmReleaseDiff{}, model.Errorf(model.CodeNotFound, "GitOps resource %s not found", in.ID).WithDetail("id", in.ID)
		}
		if r.Type != model.ResourceHelm {
			fe := model.FieldErrors{}
			fe.Add("id", "resource "+r.ID+" is a "+r.Type+", not a helm resource")
			return api.HelmReleaseDiff{}, fe.Err()
		}
		envID, name, ns = r.EnvironmentID, r.Name, r.Namespace
	}
	env, err := s.catalog.Environment(envID)
	if err != nil {
		return api.HelmReleaseDiff{}, err
	}
	t, err := s.gitTarget(ctx, env.ProjectID, env.ID)
	if err != nil {
		return api.HelmReleaseDiff{}, err
	}
	snap, err := t.git.Snapshot(ctx, t.branch)
	if err != nil {
		return api.HelmReleaseDiff{}, err
	}
	var warnings []string
	rel, err := manifest.FindHelmRelease(snap.FS(), t.path, "HelmRelease/"+name)
	if err != nil || rel == nil || (ns != "" && rel.Namespace != ns) {
		rel, err = s.clusterRelease(ctx, env, ns, name, t.path)
		if err != nil {
			return api.HelmReleaseDiff{}, err
		}
		warnings = append(warnings, fmt.Sprintf("%s is not in %s at %s: rendered from the HelmRelease object in the cluster", rel.ID(), t.path, shortSHA(snap.Head)))
	}
	chart, err := s.helmChart(ctx, t, snap, rel, rel.Version, "id")
	if err != nil {
		return api.HelmReleaseDiff{}, err
	}
	gitManifest, err := helmchart.Render(ctx, chart, helmchart.Release{Name: rel.ReleaseName, Namespace: rel.TargetNamespace}, rel.Values)
	if err != nil {
		return api.HelmReleaseDiff{}, err
	}
	stored, err := s.gitops.DeployedHelmRelease(ctx, env, rel.StorageNamespace, rel.ReleaseName)
	if err != nil {
		return api.HelmReleaseDiff{}, err
	}
	out := api.HelmReleaseDiff{Release: rel.ReleaseName, Namespace: rel.TargetNamespace, Chart: rel.Chart, GitVersion: chart.Version()}
	live := ""
	if stored == nil {
		warnings = append(warnings, fmt.Sprintf("no deployed revision of Helm release %s/%s in the cluster: everything Git renders is new", rel.StorageNamespace, rel.ReleaseName))
	} else {
		live, out.DeployedRevision, out.DeployedVersion = stored.Manifest, stored.Revision, stored.Version
	}
	r, err := renderedDiff(rel.ID(), live, gitManifest)
	if err != nil {
		return api.HelmReleaseDiff{}, err
	}
	out.InSync = stored != nil && r.Diff == "" && out.DeployedVersion == out.GitVersion
	out.Diff, out.Summary = r.Diff, api.Summary{Additions: r.Summary.Additions, Deletions: r.Summary.Deletions, Files: renderedFiles(r.Diff)}
	out.Impact = api.Impact{WillRestartPods: r.Impact.WillRestartPods, EstimatedDowntime: r.Impact.EstimatedDowntime,
		AffectedResources: shape.NonNil(r.Impact.AffectedResources), DowntimeReason: r.Impact.DowntimeReason, ImmutableChanges: r.Impact.ImmutableChanges}
	out.Warnings = shape.NonNil(append(warnings, r.Warnings...))
	return out, nil
}

// renderedDiff compares a stored and a rendered manifest by content.
func renderedDiff(prefix, live, rendered string) (*manifest.Rendered, error) {
	a, err := manifest.NormalizeRendered(live, originLabels...)
	if err != nil {
		return nil, err
	}
	b, err := manifest.NormalizeRendered(rendered, originLabels...)
	if err != nil {
		return nil, err
	}
	return manifest.RenderedChange(prefix, a, b)
}

// clusterRelease reads the HelmRelease and its chart source from the cluster.
func (s *Deploy) clusterRelease(ctx context.Context, env model.Environment, ns, name, gitPath string) (*manifest.HelmRelease, error) {
	if ns == "" {
		return nil, model.Errorf(model.CodeNotFound, "HelmRelease %s is not in %s; give its namespace to read it from the cluster", name, gitPath).WithDetail("name", name)
	}
	obj, err := s.gitops.FluxObject(ctx, env, "HelmRelease", ns, name)
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, model.Errorf(model.CodeNotFound, "HelmRelease %s/%s is neither in %s nor in the cluster of environment %s", ns, name, gitPath, env.Name).
			WithDetail("name", name).WithDetail("namespace", ns)
	}
	rel, err := manifest.ParseHelmRelease(obj, nil)
	if err != nil {
		return nil, err
	}
	src, err := s.gitops.FluxObject(ctx, env, rel.Source.Kind, rel.Source.Namespace, rel.Source.Name)
	if err != nil && !strings.Contains(err.Error(), "not a Flux object") {
		return nil, err
	}
	if src != nil {
		return manifest.ParseHelmRelease(obj, src)
	}
	return rel, nil
}
