package deploy

import (
	"context"
	"testing"

	"github.com/gitopstui/gitopstui/services/api"
)

// TestValidateYAMLAsFile: gitops.validateYAML with the file's name reads an
// overlay's kustomization.yaml as kustomize does (no apiVersion or kind
// needed, misspelt fields at their line); without it the same text is no
// Kubernetes object.
func TestValidateYAMLAsFile(t *testing.T) {
	s := &Deploy{}
	ctx := context.Background()
	overlay := "resources:\n  - ../../base\nimages:\n  - name: web\n    newTag: \"1.2\"\n"
	res, err := s.validateYAML(ctx, api.ValidateYAMLInput{YAML: overlay, File: "k8s/overlays/prod/kustomization.yaml"})
	if err != nil || !res.Valid || len(res.Warnings) != 0 {
		t.Fatalf("overlay as kustomization.yaml: %+v, %v", res, err)
	}
	if res, _ := s.validateYAML(ctx, api.ValidateYAMLInput{YAML: overlay}); res.Valid {
		t.Fatal("without the file name, a document without apiVersion and kind passed")
	}
	res, _ = s.validateYAML(ctx, api.ValidateYAMLInput{YAML: overlay + "namePrefx: shop-\n", File: "k8s/overlays/prod/kustomization.yaml"})
	if res.Valid || len(res.Errors) != 1 || res.Errors[0].Line != 6 || res.Errors[0].Field != "namePrefx" {
		t.Fatalf("misspelt field: %+v", res.Errors)
	}
}
