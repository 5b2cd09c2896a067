package generate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
)

func TestControllerVersionFromFluxManifests(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "manifests", "bases", "source-controller")
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	k := `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- https://github.com/fluxcd/source-controller/releases/download/v1.9.5/source-controller.crds.yaml
- https://github.com/fluxcd/source-controller/releases/download/v1.9.5/source-controller.deployment.yaml
- account.yaml
`
	if err := os.WriteFile(filepath.Join(base, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := controllerVersion(dir, "source-controller")
	if err != nil || v != "v1.9.5" {
		t.Fatalf("controllerVersion = %q, %v", v, err)
	}
	if _, err := controllerVersion(dir, "helm-controller"); err == nil {
		t.Fatal("missing base: no error")
	}
	if err := os.WriteFile(filepath.Join(base, "kustomization.yaml"), []byte("resources:\n- account.yaml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := controllerVersion(dir, "source-controller"); err == nil || !strings.Contains(err.Error(), "no source-controller CRD release asset") {
		t.Fatalf("no asset: %v", err)
	}
}

func TestNotServed(t *testing.T) {
	for msg, want := range map[string]bool{
		"github.com/fluxcd/helm-controller@v1.6.5: reading https://proxy.golang.org/...: 403 Forbidden\n\tserver response: This module version is not available.": true,
		"github.com/x/y@v1.0.0: reading https://proxy.golang.org/...: 404 Not Found":                                                                              true,
		"github.com/x/y@v1.0.0: verifying module: checksum mismatch":                                                                                              false,
		"dial tcp: lookup proxy.golang.org: no such host":                                                                                                         false,
	} {
		if got := notServed(msg); got != want {
			t.Errorf("notServed(%q) = %v, want %v", msg, got, want)
		}
	}
}

// TestRenderedManifestsAreClean checks that the typed structs' empty fields
// do not reach the YAML and that every object carries the install labels.
func TestRenderedManifestsAreClean(t *testing.T) {
	comps := []componentVersion{}
	for _, c := range components() {
		comps = append(comps, componentVersion{Component: c, Version: "v0.0.1", Image: DefaultRegistry + "/" + c.Name + ":v0.0.1"})
	}
	objs, err := controllerManifests("v9.9.9", comps)
	if err != nil {
		t.Fatal(err)
	}
	data, err := renderObjects(objs, "v9.9.9")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"creationTimestamp", "status:", "strategy: {}", "divisor", "spec: {}", "null"} {
		if strings.Contains(string(data), bad) {
			t.Errorf("rendered manifests contain %q", bad)
		}
	}
	if n := strings.Count(string(data), "\n---\n"); n != len(objs) {
		t.Errorf("%d documents for %d objects", n, len(objs))
	}
	for _, o := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			t.Fatal(err)
		}
		labels, _ := m["metadata"].(map[string]any)["labels"].(map[string]any)
		if labels[labelPartOf] != "flux" || labels[labelInstance] != DefaultNamespace || labels[labelVersion] != "v9.9.9" {
			t.Errorf("%s labels %v", o.GetObjectKind().GroupVersionKind().Kind, labels)
		}
	}
	if _, err := controllerManifests("v9.9.9", []componentVersion{{Component: Component{Name: "image-reflector-controller"}}}); err == nil {
		t.Error("unknown component: no error")
	}
}
