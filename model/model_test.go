package model_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/gitopstui/gitopstui/model"
)

func TestFieldErrorsNameEveryField(t *testing.T) {
	fe := model.FieldErrors{}
	if fe.Err() != nil {
		t.Fatal("no problems must be no error")
	}
	fe.Add("name", "required")
	fe.Add("name", "second problem is dropped")
	fe.Add("config.syncInterval", `"5x" is not a duration`)
	e := model.AsError(fe.Err())
	if e.Code != model.CodeBadRequest {
		t.Fatalf("code %s", e.Code)
	}
	b, _ := json.Marshal(e)
	var out struct {
		Code    string
		Message string
		Details struct{ Fields map[string]string }
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Details.Fields["name"] != "required" || out.Details.Fields["config.syncInterval"] == "" || len(out.Details.Fields) != 2 {
		t.Fatalf("details: %s", b)
	}
	if out.Message != `invalid input: config.syncInterval: "5x" is not a duration; name: required` {
		t.Fatalf("message: %s", out.Message)
	}
}

func TestCodesSurviveWrapping(t *testing.T) {
	base := model.Errorf(model.CodeFluxNotInstalled, "no Flux on %s", "cluster-123")
	wrapped := fmt.Errorf("check health: %w", base)
	if model.CodeOf(wrapped) != model.CodeFluxNotInstalled {
		t.Fatalf("code lost in wrapping: %s", model.CodeOf(wrapped))
	}
	if model.CodeOf(errors.New("boom")) != model.CodeInternal || model.CodeOf(nil) != "" {
		t.Fatal("untyped errors are INTERNAL, nil has no code")
	}
	cause := errors.New("dial tcp: refused")
	w := model.Wrap(model.CodeK3sNotReady, cause, "cluster unreachable")
	if !errors.Is(w, cause) || w.Message != "cluster unreachable: dial tcp: refused" {
		t.Fatalf("wrap: %v", w)
	}
}

func TestRoles(t *testing.T) {
	for _, tc := range []struct {
		have, need model.Role
		ok         bool
	}{
		{model.RoleAdmin, model.RoleOperator, true},
		{model.RoleOperator, model.RoleOperator, true},
		{model.RoleViewer, model.RoleOperator, false},
		{model.RoleOperator, model.RoleAdmin, false},
		{"", model.RoleViewer, false},
	} {
		if got := tc.have.Allows(tc.need); got != tc.ok {
			t.Errorf("%q allows %q = %v", tc.have, tc.need, got)
		}
	}
	if _, ok := model.ParseRole("root"); ok {
		t.Error("unknown role parsed")
	}
	if r, ok := model.ParseRole("operator"); !ok || r != model.RoleOperator {
		t.Error("operator not parsed")
	}
}
