package services_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/helmchart/helmtest"
	"github.com/gitopstui/gitopstui/services/manifest"
)

// helmPreviewChange is what both HelmRelease benchmarks preview: a new image
// tag and chart version for production.
var helmPreviewChange = map[string]any{"image": "ghcr.io/stefanprodan/podinfo:6.5.4", "chartVersion": "6.6.0"}

// BenchmarkPreviewHelmRelease is previewChanges on a HelmRelease environment:
// find the release through the overlay's patches, plan the values edit, fetch
// both chart versions (from the data dir's cache after the first call),
// render old and new with Helm's SDK and diff the rendered manifests. Compare
// with BenchmarkHelmTemplateDiff.
func BenchmarkPreviewHelmRelease(b *testing.B) {
	h := setupHelm(b)
	ctx := model.WithActor(context.Background(), model.LocalActor("bench"))
	raw, _ := json.Marshal(map[string]any{"projectId": "proj-pod", "environmentId": "env-production", "changes": helmPreviewChange})
	if _, err := h.svc.Registry().Call(ctx, "gitops.previewChanges", raw); err != nil { // warm the Git and chart caches
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.svc.Registry().Call(ctx, "gitops.previewChanges", raw); err != nil {
			b.Fatal(err)
		}
	}
}

// helmCLI returns the helm CLI that testdata/helmcontroller/build.sh builds
// (the Helm version helm-controller links), building it when missing.
func helmCLI(b *testing.B) string {
	b.Helper()
	script := filepath.Join("..", "testdata", "helmcontroller", "build.sh")
	out, err := exec.Command("bash", script).Output()
	if err != nil {
		b.Fatalf("%s: %v", script, err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "helm")
}

// BenchmarkHelmTemplateDiff is the anchor of BenchmarkPreviewHelmRelease: what
// a person does today for the same change, with the same charts and values
// on disk: `helm template` of the old chart with the old values, of the new
// chart with the new values, and `diff -u` of the two.
func BenchmarkHelmTemplateDiff(b *testing.B) {
	helm := helmCLI(b)
	charts := helmtest.Serve(b, "6.5.0", "6.6.0")
	dir := b.TempDir()
	files := helmtest.Files(b, charts.URL)
	fsys := fstest.MapFS{}
	for p, data := range files {
		fsys[p] = &fstest.MapFile{Data: data}
	}
	rel, err := manifest.FindHelmRelease(fsys, "apps/production", "")
	if err != nil {
		b.Fatal(err)
	}
	newValues := manifest.Coalesce(rel.Values, map[string]any{"image": map[string]any{"tag": "6.5.4"}})
	for name, v := range map[string]map[string]any{"old.json": rel.Values, "new.json": newValues} {
		data, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	template := func(version, values, out string) {
		cmd := exec.Command(helm, "template", rel.ReleaseName, filepath.Join(charts.Dir, "podinfo-"+version+".tgz"),
			"--namespace", rel.TargetNamespace, "-f", filepath.Join(dir, values))
		cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(dir, "cache"), "HELM_CONFIG_HOME="+filepath.Join(dir, "config"), "HELM_DATA_HOME="+filepath.Join(dir, "data"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		o, err := cmd.Output()
		if err != nil {
			b.Fatalf("helm template: %v\n%s", err, stderr.String())
		}
		if err := os.WriteFile(filepath.Join(dir, out), o, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		template("6.5.0", "old.json", "old.yaml")
		template("6.6.0", "new.json", "new.yaml")
		d, err := exec.Command("diff", "-u", filepath.Join(dir, "old.yaml"), filepath.Join(dir, "new.yaml")).Output()
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
			b.Fatalf("diff: %v", err)
		}
		if !bytes.Contains(d, []byte("podinfo:6.5.4")) {
			b.Fatalf("diff lacks the new image:\n%s", d)
		}
	}
}
