package helmchart

import (
	"context"
	"log/slog"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	release "helm.sh/helm/v4/pkg/release/v1"

	"github.com/gitopstui/gitopstui/model"
)

// Release names what a render installs: the Helm release's name and
// namespace as helm-controller derives them from the HelmRelease.
type Release struct {
	Name      string
	Namespace string
}

// Render renders c with values as helm-controller's install does, without
// a cluster: Helm's install action in client-only dry-run mode, values
// checked against the chart's values.schema.json, CRDs and hooks left out.
// It returns the manifest Helm stores with the release (objects in Helm's
// install order, each led by its "# Source:" comment). A template error or
// a schema violation is BAD_REQUEST. helm-controller's post-renderers (the
// HelmRelease's postRenderers and its helm.toolkit.fluxcd.io origin
// labels) are not applied.
func Render(ctx context.Context, c *Chart, rel Release, values map[string]any) (string, error) {
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
	in := action.NewInstall(cfg)
	in.DryRunStrategy = action.DryRunClient
	in.ReleaseName, in.Namespace = rel.Name, rel.Namespace
	in.Replace = true
	in.SkipCRDs = true
	in.Devel = true
	if values == nil {
		values = map[string]any{}
	}
	r, err := in.RunWithContext(ctx, c.c, values)
	if err != nil {
		return "", model.Errorf(model.CodeBadRequest, "render chart %s %s (%s): %s", c.Name(), c.Version(), c.Origin, strings.TrimSpace(err.Error())).
			WithDetail("chart", c.Name()).WithDetail("version", c.Version())
	}
	rr, ok := r.(*release.Release)
	if !ok {
		return "", model.Errorf(model.CodeInternal, "render chart %s: unexpected release type %T", c.Name(), r)
	}
	return rr.Manifest, nil
}
