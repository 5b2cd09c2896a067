package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gitopstui/gitopstui/model"
	yaml "go.yaml.in/yaml/v3"
)

// helmFixtureDir holds the fixture shared with the Helm tests of other
// packages (helmtest serves its chart from a loopback Helm repository).
const helmFixtureDir = "../helmchart/helmtest/fixture"

// helmFixture is the test repository laid out like Flux's official example
// (apps/base/podinfo with the HelmRelease, staging and production overlays
// with values patches) and the chart's values and schema.
func helmFixture(t *testing.T) (map[string][]byte, HelmChart) {
	t.Helper()
	files := map[string][]byte{}
	root := filepath.Join(helmFixtureDir, "repo")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	chartDir := filepath.Join(helmFixtureDir, "charts", "podinfo")
	vb, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var defaults map[string]any
	if err := yaml.Unmarshal(vb, &defaults); err != nil {
		t.Fatal(err)
	}
	schema, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files, HelmChart{Name: "podinfo", Version: "6.5.0", Defaults: defaults, Schema: schema, ValuesFile: "podinfo/values.yaml"}
}

func helmFS(files map[string][]byte) fstest.MapFS {
	m := fstest.MapFS{}
	for p, b := range files {
		m[p] = &fstest.MapFile{Data: b}
	}
	return m
}

func planHelm(t *testing.T, files map[string][]byte, gitPath string, ch HelmChange, c HelmChart) *HelmResult {
	t.Helper()
	res, err := PlanHelmFS(helmFS(files), gitPath, ch, c)
	if err != nil {
		t.Fatalf("PlanHelmFS: %v", err)
	}
	return res
}

func TestFindHelmReleaseThroughPatches(t *testing.T) {
	files, _ := helmFixture(t)
	rel, err := FindHelmRelease(helmFS(files), "apps/production", "")
	if err != nil || rel == nil {
		t.Fatalf("FindHelmRelease: %v %v", rel, err)
	}
	if rel.Name != "podinfo" || rel.Namespace != "podinfo" || rel.ReleaseName != "podinfo" || rel.Chart != "podinfo" || rel.Version != "6.5.0" {
		t.Errorf("release: %+v", rel)
	}
	if rel.Source.Kind != "HelmRepository" || rel.Source.URL != "http://127.0.0.1:8879/charts" || rel.Source.File != "apps/base/podinfo/repository.yaml" {
		t.Errorf("source: %+v", rel.Source)
	}
	if rel.Values["replicaCount"] != 2 || rel.File != "apps/base/podinfo/release.yaml" {
		t.Errorf("values from the production patch: %v (file %s)", rel.Values, rel.File)
	}
	if _, ok := rel.Values["redis"]; !ok {
		t.Errorf("base values lost: %v", rel.Values)
	}
	// A path of Deployments has no HelmRelease: nil, no error.
	files["plain/app.yaml"] = []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n")
	if rel, err := FindHelmRelease(helmFS(files), "plain", ""); rel != nil || err != nil {
		t.Errorf("plain path: %v %v", rel, err)
	}
	// A remote base cannot be built offline: no HelmRelease known, the
	// Deployment planner reports on the path.
	files["remote/kustomization.yaml"] = []byte("resources:\n  - https://github.com/acme/web//base?ref=v1\n")
	if rel, err := FindHelmRelease(helmFS(files), "remote", ""); rel != nil || err != nil {
		t.Errorf("remote base: %v %v", rel, err)
	}
}

func TestPlanHelmImageAndChartVersionInProductionPatch(t *testing.T) {
	files, chart := helmFixture(t)
	res := planHelm(t, files, "apps/production", HelmChange{Change: Change{Image: "ghcr.io/stefanprodan/podinfo:6.5.4"}, ChartVersion: "6.6.0"}, chart)
	if len(res.Files) != 1 {
		t.Fatalf("files: %v", sortedKeys(res.Files))
	}
	got := string(res.Files["apps/production/podinfo-values.yaml"])
	want := `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: podinfo
spec:
  chart:
    spec:
      version: "6.6.0" # pinned for production
  values:
    # production keeps two replicas
    replicaCount: 2
    env:
      - name: PODINFO_UI_COLOR
        value: "#34577c"
    ingress:
      hosts:
        - host: podinfo.production
    image:
      tag: 6.5.4
`
	if got != want {
		t.Errorf("production values patch:\n%s\nwant:\n%s", got, want)
	}
	if res.After.Version != "6.6.0" || res.After.Values["image"].(map[string]any)["tag"] != "6.5.4" {
		t.Errorf("after: %+v", res.After)
	}
	if !strings.Contains(res.Diff, "+    image:\n+      tag: 6.5.4") || !strings.Contains(res.Diff, `-      version: "6.5.0" # pinned for production`) {
		t.Errorf("diff:\n%s", res.Diff)
	}
	if res.Workload != "HelmRelease/podinfo" {
		t.Errorf("workload %q", res.Workload)
	}
	// Staging is untouched.
	for p := range res.Files {
		if strings.HasPrefix(p, "apps/staging") || strings.HasPrefix(p, "apps/base") {
			t.Errorf("wrote %s", p)
		}
	}
}

func TestPlanHelmReplicasEnvResourcesValues(t *testing.T) {
	files, chart := helmFixture(t)
	two := int32(3)
	red := "red"
	res := planHelm(t, files, "apps/production", HelmChange{Change: Change{Replicas: &two,
		Env:       map[string]*string{"PODINFO_UI_COLOR": nil, "LEVEL": &red},
		Resources: &Resources{Limits: ResourceValues{Memory: "256Mi"}}},
		Values: map[string]any{"ingress": map[string]any{"enabled": true}, "service": map[string]any{"port": float64(8080)}}}, chart)
	got := string(res.Files["apps/production/podinfo-values.yaml"])
	for _, want := range []string{
		"    # production keeps two replicas\n    replicaCount: 3\n",
		"    env:\n      - name: LEVEL\n        value: red\n    ingress:\n",
		"      enabled: true\n",
		"    resources:\n      limits:\n        memory: 256Mi\n",
		"    service:\n      port: 8080\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "PODINFO_UI_COLOR") {
		t.Errorf("env not removed:\n%s", got)
	}
	v := res.After.Values
	if v["replicaCount"] != 3 || v["ingress"].(map[string]any)["enabled"] != true {
		t.Errorf("after values %v", v)
	}
}

func TestPlanHelmNewPatchWhenOverlayHasNone(t *testing.T) {
	files, chart := helmFixture(t)
	files["apps/dev/kustomization.yaml"] = []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n# dev uses the base as it is\nresources:\n  - ../base/podinfo\n")
	res := planHelm(t, files, "apps/dev", HelmChange{Change: Change{Image: "ghcr.io/acme/podinfo:7.0.0"}}, chart)
	patch := string(res.Files["apps/dev/podinfo-values.yaml"])
	want := "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: podinfo\nspec:\n  values:\n    image:\n      repository: ghcr.io/acme/podinfo\n      tag: 7.0.0\n"
	if patch != want {
		t.Errorf("new patch:\n%s\nwant:\n%s", patch, want)
	}
	k := string(res.Files["apps/dev/kustomization.yaml"])
	if !strings.Contains(k, "# dev uses the base as it is\n") || !strings.Contains(k, "patches:\n  - path: podinfo-values.yaml\n") {
		t.Errorf("kustomization:\n%s", k)
	}
	if res.After.Values["image"].(map[string]any)["repository"] != "ghcr.io/acme/podinfo" {
		t.Errorf("after %v", res.After.Values)
	}
}

func TestPlanHelmDirectRelease(t *testing.T) {
	files, chart := helmFixture(t)
	res := planHelm(t, files, "apps/base/podinfo", HelmChange{Change: Change{Replicas: new(int32(4))}}, chart)
	got := string(res.Files["apps/base/podinfo/release.yaml"])
	if !strings.Contains(got, "  # Default values\n") || !strings.Contains(got, "  values:\n    redis:\n      enabled: false\n    ingress:\n      enabled: false\n    replicaCount: 4\n") {
		t.Errorf("release:\n%s", got)
	}
}

func TestPlanHelmChartWithoutTheValue(t *testing.T) {
	files, chart := helmFixture(t)
	delete(chart.Defaults, "replicaCount")
	chart.Schema = nil
	_, err := PlanHelmFS(helmFS(files), "apps/production", HelmChange{Change: Change{Replicas: new(int32(2))}}, chart)
	e := model.AsError(err)
	if e == nil || e.Code != model.CodeBadRequest || !strings.Contains(e.Message, "podinfo/values.yaml") || !strings.Contains(e.Message, "replicas") {
		t.Fatalf("want BAD_REQUEST naming replicas and the values file, got %v", err)
	}
	// The schema alone is enough to know the chart has the value.
	_, chart2 := helmFixture(t)
	delete(chart2.Defaults, "replicaCount")
	if _, err := PlanHelmFS(helmFS(files), "apps/production", HelmChange{Change: Change{Replicas: new(int32(2))}}, chart2); err != nil {
		t.Errorf("schema has replicaCount: %v", err)
	}
}

func TestPlanHelmOverriddenByLaterPatch(t *testing.T) {
	files, chart := helmFixture(t)
	files["apps/production/kustomization.yaml"] = append(files["apps/production/kustomization.yaml"],
		[]byte("  - patch: |-\n      - op: replace\n        path: /spec/values/replicaCount\n        value: 2\n    target:\n      kind: HelmRelease\n")...)
	_, err := PlanHelmFS(helmFS(files), "apps/production", HelmChange{Change: Change{Replicas: new(int32(5))}}, chart)
	if e := model.AsError(err); e == nil || e.Code != model.CodeBadRequest || !strings.Contains(e.Message, "values.replicaCount = 2, not 5") {
		t.Fatalf("want the override named, got %v", err)
	}
}

func TestPlanHelmValuesReplaceListsAndKinds(t *testing.T) {
	files, chart := helmFixture(t)
	files["apps/production/podinfo-values.yaml"] = []byte(`apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  values:
    ingress:
      hosts: # one host per region
        - host: podinfo.production
        - host: podinfo.eu
      tls: [a, b]
    podAnnotations: none # set below
    tolerations: []
`)
	res := planHelm(t, files, "apps/production", HelmChange{Values: map[string]any{
		"ingress":        map[string]any{"hosts": []any{map[string]any{"host": "podinfo.example"}}, "tls": []any{}},
		"podAnnotations": map[string]any{"team": "web"},
		"tolerations":    []any{map[string]any{"key": "spot", "operator": "Exists"}},
	}}, chart)
	want := `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  values:
    ingress:
      hosts: # one host per region
        - host: podinfo.example
      tls: []
    podAnnotations: # set below
      team: web
    tolerations:
      - key: spot
        operator: Exists
`
	if got := string(res.Files["apps/production/podinfo-values.yaml"]); got != want {
		t.Errorf("values patch:\n%s\nwant:\n%s", got, want)
	}
	hosts, _ := valueAt(res.After.Values, "ingress.hosts")
	if !sameValue(hosts, []any{map[string]any{"host": "podinfo.example"}}) {
		t.Errorf("hosts after: %v", hosts)
	}
}

func TestRenderedChangeObjects(t *testing.T) {
	old := `---
# Source: web/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
data: {a: "1"}
---
# Source: web/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]
`
	new := `---
# Source: web/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: s
---
# Source: web/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web2}
  template:
    metadata: {labels: {app: web2}}
    spec:
      containers: [{name: web, image: "web:1"}]
`
	r, err := RenderedChange("HelmRelease/web", old, new)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.Impact.AffectedResources, ",") != "ConfigMap/cm,Deployment/web,Secret/s" ||
		len(r.Impact.ImmutableChanges) != 1 || r.Impact.ImmutableChanges[0] != "Deployment/web spec.selector" {
		t.Errorf("impact %+v", r.Impact)
	}
	if !r.Impact.WillRestartPods || r.Impact.EstimatedDowntime != "none" || !strings.Contains(r.Impact.DowntimeReason, "Deployment/web: RollingUpdate keeps at least 1 of 1") {
		t.Errorf("the pod template changes, maxSurge keeps one pod up: %+v", r.Impact)
	}
	if !strings.Contains(r.Diff, "diff --git a/HelmRelease/web/Secret/s.yaml b/HelmRelease/web/Secret/s.yaml\nnew file mode") ||
		!strings.Contains(r.Diff, "-data: {a: \"1\"}") || r.Summary.Files != 3 {
		t.Errorf("diff (%+v):\n%s", r.Summary, r.Diff)
	}
	same, err := RenderedChange("HelmRelease/web", old, old)
	if err != nil || same.Diff != "" || same.Impact.DowntimeReason != "the rendered manifest does not change" {
		t.Errorf("no change: %+v %v", same, err)
	}
}

func TestNormalizeRenderedDropsOriginLabels(t *testing.T) {
	a := "---\n# Source: x\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels:\n    helm.toolkit.fluxcd.io/name: web\ndata:\n  b: \"2\"\n  a: \"1\"\n"
	b := "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: \"1\", b: \"2\"}\n"
	na, err1 := NormalizeRendered(a, "helm.toolkit.fluxcd.io/name")
	nb, err2 := NormalizeRendered(b, "helm.toolkit.fluxcd.io/name")
	if err1 != nil || err2 != nil || na != nb {
		t.Errorf("normalized differ:\n%s\n%s\n%v %v", na, nb, err1, err2)
	}
}
