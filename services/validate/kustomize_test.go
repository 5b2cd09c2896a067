package validate

import (
	"context"
	"strings"
	"testing"
)

// TestKustomizeKindsAreKnown: kustomize's own kinds are read as kustomize
// reads them, in any file, not flagged as unknown kinds; a kustomization
// file without apiVersion and kind gets the same checks, with each problem
// at its line.
func TestKustomizeKindsAreKnown(t *testing.T) {
	v, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	typed := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deployment.yaml]\n"
	component := "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - path: p.yaml\n"
	for name, in := range map[string]string{"typed": typed, "component": component} {
		res := v.Validate(ctx, []byte(in))
		if !res.Valid || len(res.Warnings) != 0 {
			t.Errorf("%s: %+v", name, res)
		}
	}
	overlay := "# overlay\nresources:\n  - ../../base\nimges:\n  - name: web\n    newTag: \"1.2\"\n"
	res := v.ValidateFile(ctx, "k8s/overlays/prod/kustomization.yaml", []byte(overlay))
	if res.Valid || len(res.Errors) != 1 {
		t.Fatalf("a misspelt field passed or gave several errors: %+v", res)
	}
	if e := res.Errors[0]; e.Line != 4 || e.Field != "imges" || !strings.Contains(e.Suggestion, `"images"`) {
		t.Fatalf("error %+v, want line 4 field imges suggesting images", e)
	}
	// kustomize matches field names in any case: so does the check.
	if res := v.ValidateFile(ctx, "kustomization.yaml", []byte("Resources: [a.yaml]\n")); !res.Valid {
		t.Fatalf("a field in another case: %+v", res.Errors)
	}
	// Outside a kustomization file, a document without apiVersion is no kustomization.
	if res := v.ValidateFile(ctx, "k8s/overlays/prod/extra.yaml", []byte("resources: [a.yaml]\n")); res.Valid {
		t.Fatal("a plain file without apiVersion and kind passed")
	}
}
