package helmchart_test

import (
	"context"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/helmchart"
	"github.com/gitopstui/gitopstui/services/helmchart/helmtest"
	"github.com/gitopstui/gitopstui/services/manifest"
)

func wantBadRequest(t *testing.T, err error, contains string) {
	t.Helper()
	e := model.AsError(err)
	if e == nil || e.Code != model.CodeBadRequest || !strings.Contains(e.Message, contains) {
		t.Fatalf("want BAD_REQUEST containing %q, got %v", contains, err)
	}
}

func TestFromRepositoryResolvesAndCaches(t *testing.T) {
	ctx := context.Background()
	r := helmtest.Serve(t, "6.5.0", "6.6.0")
	f := helmchart.NewFetcher(t.TempDir(), nil)
	c, err := f.FromRepository(ctx, r.URL, "podinfo", "6.5.0")
	if err != nil {
		t.Fatal(err)
	}
	info := c.Info()
	if info.Version != "6.5.0" || info.Defaults["replicaCount"] == nil || len(info.Schema) == 0 || info.ValuesFile != "podinfo-6.5.0.tgz: podinfo/values.yaml" {
		t.Errorf("chart info %+v", info)
	}
	latest, err := f.FromRepository(ctx, r.URL, "podinfo", ">=6.0.0 <7.0.0")
	if err != nil || latest.Version() != "6.6.0" {
		t.Fatalf("range: %v %v", latest, err)
	}
	_, err = f.FromRepository(ctx, r.URL, "podinfo", "9.9.9")
	wantBadRequest(t, err, "9.9.9")
	_, err = f.FromRepository(ctx, r.URL, "nosuchchart", "")
	wantBadRequest(t, err, "nosuchchart")

	// The repository is gone: an exact version comes from the cache, a
	// range needs the index.
	r.Close()
	if c, err := f.FromRepository(ctx, r.URL, "podinfo", "6.6.0"); err != nil || c.Version() != "6.6.0" {
		t.Fatalf("cached 6.6.0: %v %v", c, err)
	}
	_, err = f.FromRepository(ctx, r.URL, "podinfo", "*")
	wantBadRequest(t, err, "index.yaml")
}

func TestFromRepositoryChecksTheDigest(t *testing.T) {
	r := helmtest.Serve(t, "6.5.0")
	r.Corrupt(t, "6.5.0")
	_, err := helmchart.NewFetcher(t.TempDir(), nil).FromRepository(context.Background(), r.URL, "podinfo", "6.5.0")
	wantBadRequest(t, err, "digest")
	_, err = helmchart.NewFetcher(t.TempDir(), nil).FromRepository(context.Background(), "oci://ghcr.io/x", "podinfo", "6.5.0")
	wantBadRequest(t, err, "not OCI")
}

func chartFS(t *testing.T) fstest.MapFS {
	fsys := fstest.MapFS{}
	for p, b := range helmtest.ChartFiles(t) {
		fsys[path.Join("charts/podinfo", p)] = &fstest.MapFile{Data: b}
	}
	fsys["charts/podinfo/.helmignore"] = &fstest.MapFile{Data: []byte("*.txt\n")}
	return fsys
}

func TestFromFSAndRender(t *testing.T) {
	ctx := context.Background()
	c, err := helmchart.FromFS(chartFS(t), "charts/podinfo", "GitRepository flux-system")
	if err != nil {
		t.Fatal(err)
	}
	if c.Info().ValuesFile != "charts/podinfo/values.yaml" || c.Version() != "6.5.0" {
		t.Errorf("chart %+v", c.Info())
	}
	_, err = helmchart.FromFS(chartFS(t), "charts/none", "GitRepository flux-system")
	wantBadRequest(t, err, "no Chart.yaml")

	rel := helmchart.Release{Name: "podinfo", Namespace: "podinfo"}
	m, err := helmchart.Render(ctx, c, rel, map[string]any{"replicaCount": 3, "image": map[string]any{"tag": "6.5.4"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Source: podinfo/templates/service.yaml\n", "kind: Deployment", "replicas: 3\n", `image: "ghcr.io/stefanprodan/podinfo:6.5.4"`} {
		if !strings.Contains(m, want) {
			t.Errorf("manifest lacks %q:\n%s", want, m)
		}
	}
	if strings.Contains(m, "NOTES") || strings.Index(m, "kind: Service") > strings.Index(m, "kind: Deployment") {
		t.Errorf("want Helm's install order (Service before Deployment), no notes:\n%s", m)
	}
	_, err = helmchart.Render(ctx, c, rel, map[string]any{"replicaCount": "three"})
	wantBadRequest(t, err, "replicaCount")
}

func TestRenderedChangeImpact(t *testing.T) {
	ctx := context.Background()
	c, err := helmchart.FromFS(chartFS(t), "charts/podinfo", "GitRepository flux-system")
	if err != nil {
		t.Fatal(err)
	}
	rel := helmchart.Release{Name: "podinfo", Namespace: "podinfo"}
	old, err := helmchart.Render(ctx, c, rel, map[string]any{"replicaCount": 2})
	if err != nil {
		t.Fatal(err)
	}
	tagged, err := helmchart.Render(ctx, c, rel, map[string]any{"replicaCount": 2, "image": map[string]any{"tag": "6.5.4"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := manifest.RenderedChange("HelmRelease/podinfo", old, tagged)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Impact.WillRestartPods || r.Impact.EstimatedDowntime != "none" || len(r.Impact.AffectedResources) != 1 || r.Impact.AffectedResources[0] != "Deployment/podinfo" {
		t.Errorf("impact %+v", r.Impact)
	}
	if !strings.Contains(r.Diff, "diff --git a/HelmRelease/podinfo/Deployment/podinfo.yaml") ||
		!strings.Contains(r.Diff, `+          image: "ghcr.io/stefanprodan/podinfo:6.5.4"`) || r.Summary.Additions != 1 || r.Summary.Deletions != 1 {
		t.Errorf("diff (%+v):\n%s", r.Summary, r.Diff)
	}
	scaled, err := helmchart.Render(ctx, c, rel, map[string]any{"replicaCount": 1})
	if err != nil {
		t.Fatal(err)
	}
	r, err = manifest.RenderedChange("HelmRelease/podinfo", old, scaled)
	if err != nil {
		t.Fatal(err)
	}
	if r.Impact.WillRestartPods || !strings.Contains(r.Impact.DowntimeReason, "only the replica count changes (2 to 1)") {
		t.Errorf("scale impact %+v", r.Impact)
	}
}
