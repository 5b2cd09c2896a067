package e2e_test

import (
	"fmt"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// promoteToProduction promotes development's image to production on the
// reference's two-branch setup: the preview names the image each side runs,
// the promotion is a commit on main that production's Kustomization applies
// on triggerSync, development keeps running what it ran, and the promotion's
// deployment is recorded as applied.
func promoteToProduction(t *testing.T, l *loop, ids map[string]string, image func(ns string) string) {
	t.Helper()
	devImage := image("shop-development")
	in := map[string]any{"fromEnvironmentId": "env-dev", "toEnvironmentId": "env-prod"}
	var p api.PromotionPreview
	mustCall(t, l.svc, "environments.previewPromotion", in, &p)
	if len(p.Differences) != 1 || *p.Differences[0].Source != devImage || *p.Differences[0].Target != image("shop-production") {
		t.Fatalf("promotion preview: %+v", p.Differences)
	}
	var r api.PromoteResult
	mustCall(t, l.svc, "environments.promote", in, &r)
	if r.Branch != "main" {
		t.Fatalf("promotion committed to %s", r.Branch)
	}
	var sync api.SyncResult
	mustCall(t, l.svc, "gitops.triggerSync", map[string]any{"id": ids["env-prod"], "waitSeconds": 60}, &sync)
	if !sync.Success || sync.Revision != rev(r.CommitSha) || image("shop-production") != devImage {
		t.Fatalf("production after the promotion: %+v, image %s", sync, image("shop-production"))
	}
	if image("shop-development") != devImage {
		t.Fatalf("development changed: %s", image("shop-development"))
	}
	waitUntil(t, waitLimit, "promotion "+r.DeploymentID+" success", func() (bool, string) {
		var d model.Deployment
		mustCall(t, l.svc, "deployments.get", map[string]any{"id": r.DeploymentID}, &d)
		return d.Status == model.DeploySuccess, fmt.Sprintf("%+v", d)
	})
}
