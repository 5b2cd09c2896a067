package services_test

import (
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
)

// TestBulkActionIsAnEnum: gitops.bulk's action is one of the contract's
// values, refused by the decoder (naming the field and the values) before
// anything runs; reason goes with suspend only.
func TestBulkActionIsAnEnum(t *testing.T) {
	svc := newServices(t, t.TempDir())
	e := wantCode(t, callProc(t, svc, "gitops.bulk", map[string]any{"action": "restart", "selector": map[string]any{"names": []string{"x"}}}, nil), model.CodeBadRequest)
	if !strings.Contains(e.Message, "action") || !strings.Contains(e.Message, "resume, suspend, sync") {
		t.Fatalf("unknown action: %v", e)
	}
	e = wantCode(t, callProc(t, svc, "gitops.bulk", map[string]any{"action": "resume", "reason": "why", "selector": map[string]any{"names": []string{"x"}}}, nil), model.CodeBadRequest)
	if !strings.Contains(e.Message, "reason") {
		t.Fatalf("reason with resume: %v", e)
	}
}
