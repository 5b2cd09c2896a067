package ui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// overlayFiles is the prod overlay of the fake repository.
var overlayFiles = map[string]string{
	"k8s/overlays/prod/kustomization.yaml": "resources:\n  - ../../base\npatches:\n  - path: replicas.yaml\n",
	"k8s/overlays/prod/replicas.yaml":      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
	"k8s/overlays/prod/service.yaml":       "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n",
}

// pickerFake reads any file of overlayFiles (the kustomization by default)
// and lists them all; validateYAML reports an error at line 2 column 5, a
// warning at line 1 and an error past the last line of replicas.yaml.
func pickerFake() *fakeCaller {
	files := []string{"k8s/overlays/prod/kustomization.yaml", "k8s/overlays/prod/replicas.yaml", "k8s/overlays/prod/service.yaml"}
	return configFake().
		on("gitops.readConfig", func(in map[string]any) (any, error) {
			f, _ := in["file"].(string)
			if f == "" {
				f = files[0]
			}
			y, ok := overlayFiles[f]
			if !ok {
				return nil, model.Errorf(model.CodeNotFound, "no file %s", f)
			}
			return api.ConfigFile{File: f, YAML: y, Revision: "0123456789abcdef0123456789abcdef01234567", Branch: "main", Files: files}, nil
		}).
		on("gitops.validateYAML", func(in map[string]any) (any, error) {
			if in["file"] != "k8s/overlays/prod/replicas.yaml" {
				return api.ValidateResult{Valid: true, Documents: 1}, nil
			}
			return api.ValidateResult{Valid: false, Documents: 1,
				Errors: []api.YAMLError{{Document: 1, Line: 2, Column: 7, Field: "kind", Message: `no kind "Deploymnet" in apps/v1`},
					{Document: 1, Line: 9, Column: 1, Message: "did not find expected key"}},
				Warnings: []api.YAMLWarning{{Document: 1, Line: 1, Column: 1, Message: "no resource limits", Suggestion: "set resources.limits"}}}, nil
		})
}

// TestConfigEditorOpensAnyFile: ctrl+o in the editor lists the path's
// files with the open one marked; enter reads the picked file, which is
// validated as that file and committed to it; issues are marked in the
// gutter at their lines, with a caret at their column, and an issue past
// the last line follows the text.
func TestConfigEditorOpensAnyFile(t *testing.T) {
	eachSize(t, pickerFake, func(h *harness, fc *fakeCaller) {
		h.press("2", "enter", "E")
		h.contains("kustomization.yaml @ 0123456", "../../base")
		h.press("ctrl+o")
		h.contains("Files of prod (3)", "• k8s/overlays/prod/kustomization.yaml", "k8s/overlays/prod/service.yaml")
		h.golden("editor_files")
		h.press("/")
		h.typ("repl")
		h.press("enter", "enter")
		if in := fc.last("gitops.readConfig"); in["file"] != "k8s/overlays/prod/replicas.yaml" {
			t.Fatalf("readConfig input %v", in)
		}
		h.contains("replicas.yaml @ 0123456", "replicas: 3")
		h.typ("x")
		h.press("ctrl+s")
		if in := fc.last("gitops.validateYAML"); in["file"] != "k8s/overlays/prod/replicas.yaml" {
			t.Fatalf("validateYAML input %v", in)
		}
		h.contains(`2:7 kind: no kind "Deploymnet"`, "9:1 did not find expected key", "(end of input)")
		h.golden("editor_marks")
		// The review offers the picker too; esc returns to the review.
		h.press("f")
		h.contains("• k8s/overlays/prod/replicas.yaml", "your edits to replicas.yaml are discarded")
		h.press("esc")
		h.contains("invalid · 1 document(s) · 2 error(s)")
	})
}

// TestConfigEditorMarksScrollToFirstError: in a long file the review
// opens scrolled to the first error's line.
func TestConfigEditorMarksScrollToFirstError(t *testing.T) {
	var long strings.Builder
	long.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n")
	for i := range 60 {
		fmt.Fprintf(&long, "  key%02d: value%02d\n", i, i)
	}
	fc := configFake().
		ret("gitops.readConfig", api.ConfigFile{File: "k8s/overlays/prod/big.yaml", YAML: long.String(), Revision: "0123456789abcdef", Branch: "main"}).
		ret("gitops.validateYAML", api.ValidateResult{Valid: false, Documents: 1,
			Errors: []api.YAMLError{{Document: 1, Line: 50, Column: 3, Field: "data.key44", Message: "duplicate key"}}})
	h := newHarness(t, fc, 80, 24)
	h.press("2", "enter", "E", "ctrl+s")
	s := h.screen()
	if !strings.Contains(s, "✗  50   key44: value44") || !strings.Contains(s, "    ^ ✗ 50:3 data.key44: duplicate key") || strings.Contains(s, "   1 apiVersion") {
		t.Fatalf("the review is not at the first error:\n%s", s)
	}
}

// TestConfigEditorRealOverlay: over the real registry, store and a real
// Git server, the overlay's own kustomization.yaml (no apiVersion or kind)
// validates clean; the picker opens the overlay's patch, whose misspelt
// field is marked at its line.
func TestConfigEditorRealOverlay(t *testing.T) {
	server := gittest.NewHTTPServer(t)
	server.CreateRepo(t, "acme/shop.git", map[string]string{
		"k8s/base/kustomization.yaml":          "resources:\n  - deployment.yaml\n",
		"k8s/base/deployment.yaml":             "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
		"k8s/overlays/prod/kustomization.yaml": "# production overlay\nresources:\n  - ../../base\npatches:\n  - path: replicas.yaml\n",
		"k8s/overlays/prod/replicas.yaml":      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replica: 3\n",
	})
	t.Setenv("SHOP_GIT_TOKEN", server.Password)
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	svc := realServices(t)
	ctx := model.WithActor(context.Background(), model.Actor{User: "alice", Role: model.RoleAdmin, Source: "test"})
	for _, c := range []struct{ name, in string }{
		{"repositories.create", `{"id":"repo-456","projectId":"shop","fullName":"acme/shop","url":"` + server.RepoURL("acme/shop.git") +
			`","auth":{"type":"basic-env","username":"` + server.User + `","tokenEnv":"SHOP_GIT_TOKEN"}}`},
		{"environments.configureGitOps", `{"environmentId":"env-prod","config":{"enabled":true,"repositoryId":"repo-456","gitPath":"./k8s/overlays/prod"}}`},
	} {
		if _, err := svc.Registry().Call(ctx, c.name, []byte(c.in)); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	h := newHarness(t, svc.Registry(), 100, 30, func(o *Options) { o.Ctx = ctx })
	h.press("2", "enter", "E")
	h.contains("k8s/overlays/prod/kustomization.yaml @", "production overlay")
	h.press("ctrl+s")
	h.contains("valid · 1 document(s) · 0 error(s) · 0 warning(s)")
	h.press("f")
	h.contains("Files of prod (2)", "k8s/overlays/prod/replicas.yaml")
	h.press("down", "enter")
	h.contains("k8s/overlays/prod/replicas.yaml @", "replica: 3")
	h.press("ctrl+s")
	h.contains("invalid", "✗   6   replica: 3", `^ ✗ 6:3 spec.replica: unknown field "spec.replica"`)
}
