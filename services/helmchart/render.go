package helmchart

import (
	"context"
	"fmt"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"

	"github.com/gitopstui/gitopstui/model"
)

// Release names what a render installs: the Helm release's name and
// namespace as helm-controller derives them from the HelmRelease.
type Release struct {
	Name      string
	Namespace string
}

// Render renders c with values as helm-controller's install does, without
// a cluster: the steps of Helm's install action in client-only mode (the
// chart's kubeVersion checked against Helm's default capabilities,
// dependencies enabled by their conditions, values checked against the
// chart's values.schema.json, the templates rendered by Helm's engine, NOTES
// and hooks set aside, the rest sorted in Helm's install order). It returns
// the manifest Helm stores with the release (each object led by its
// "# Source:" comment). A template error or a schema violation is
// BAD_REQUEST. helm-controller's post-renderers (the HelmRelease's
// postRenderers and its helm.toolkit.fluxcd.io origin labels) are not
// applied. The action package itself is not used: it links Helm's cluster
// client (kubectl's libraries), which a render does not need.
func Render(ctx context.Context, c *Chart, rel Release, values map[string]any) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	fail := func(err error) (string, error) {
		return "", model.Errorf(model.CodeBadRequest, "render chart %s %s (%s): %s", c.Name(), c.Version(), c.Origin, strings.TrimSpace(err.Error())).
			WithDetail("chart", c.Name()).WithDetail("version", c.Version())
	}
	if values == nil {
		values = map[string]any{}
	}
	caps := common.DefaultCapabilities.Copy()
	if kv := c.c.Metadata.KubeVersion; kv != "" && !chartutil.IsCompatibleRange(kv, caps.KubeVersion.String()) {
		return fail(fmt.Errorf("chart requires kubeVersion %s, which is incompatible with Kubernetes %s", kv, caps.KubeVersion.Version))
	}
	if err := chartutil.ProcessDependencies(c.c, values); err != nil {
		return fail(err)
	}
	opts := common.ReleaseOptions{Name: rel.Name, Namespace: rel.Namespace, Revision: 1, IsInstall: true}
	vals, err := commonutil.ToRenderValuesWithSchemaValidation(c.c, values, opts, caps, false)
	if err != nil {
		return fail(err)
	}
	var e engine.Engine
	files, err := e.Render(c.c, vals)
	if err != nil {
		return fail(err)
	}
	for k := range files {
		if strings.HasSuffix(k, "NOTES.txt") {
			delete(files, k)
		}
	}
	_, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return fail(err)
	}
	var b strings.Builder
	for _, m := range manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.Name, m.Content)
	}
	return b.String(), nil
}
