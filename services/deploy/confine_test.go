package deploy

import (
	"context"
	"testing"

	"github.com/gitopstui/gitopstui/model"
)

func TestScopeContains(t *testing.T) {
	prod := newScope("./k8s/overlays/prod", false)
	for p, want := range map[string]bool{
		"k8s/overlays/prod/kustomization.yaml": true,
		"k8s/overlays/prod/sub/patch.yaml":     true,
		"k8s/overlays/production/x.yaml":       false, // same prefix, another directory
		"k8s/overlays/x.yaml":                  false,
		"k8s/base/deployment.yaml":             false,
		"other/evil.yaml":                      false,
		"flux-system/gotk-sync.yaml":           false,
	} {
		if got := prod.contains(p); got != want {
			t.Errorf("contains(%s) = %v, want %v", p, got, want)
		}
		err := prod.checkWrites(map[string][]byte{"k8s/overlays/prod/a.yaml": nil, p: nil})
		if (err == nil) != want {
			t.Errorf("checkWrites(%s): %v", p, err)
		} else if err != nil {
			if e := model.AsError(err); e.Code != model.CodeBadRequest || e.Details["file"] != p {
				t.Errorf("checkWrites(%s): %v %v", p, e, e.Details)
			}
		}
	}
	if whole := newScope(".", false); !whole.contains("flux-system/gotk-sync.yaml") {
		t.Error("gitPath . confines")
	}
	if wide := newScope("k8s/overlays/prod", true); !wide.contains("other/evil.yaml") || wide.checkFile("../evil.yaml") == nil || wide.checkFile("/etc/x") == nil {
		t.Error("allowOutsidePath scope")
	}
	err := prod.checkFile("other/evil.yaml")
	if fields, _ := model.AsError(err).Details["fields"].(map[string]any); fields["file"] == nil {
		t.Fatalf("checkFile: %v", err)
	}
}

func TestCheckWide(t *testing.T) {
	for role, want := range map[model.Role]model.Code{model.RoleAdmin: "", model.RoleOperator: model.CodeInsufficientPermission, model.RoleViewer: model.CodeInsufficientPermission} {
		ctx := model.WithActor(context.Background(), model.Actor{User: "u", Role: role, Source: "ssh"})
		if got := model.CodeOf(checkWide(ctx, true)); got != want {
			t.Errorf("%s with allowOutsidePath: %q, want %q", role, got, want)
		}
		if err := checkWide(ctx, false); err != nil {
			t.Errorf("%s without allowOutsidePath: %v", role, err)
		}
	}
}
