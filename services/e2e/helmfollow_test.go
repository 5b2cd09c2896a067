package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/fluxobj"
)

// releasedAt reports whether the HelmRelease ns/name is Ready for its
// generation with chartVersion as its newest deployed release, and when its
// Ready condition last changed.
func (l *loop) releasedAt(t *testing.T, ns, name, chartVersion string) (bool, time.Time, string) {
	t.Helper()
	u, err := l.dyn.Resource(fluxobj.HelmReleaseGVR).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get HelmRelease %s/%s: %v", ns, name, err)
	}
	og, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	h, _, _ := unstructured.NestedSlice(u.Object, "status", "history")
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var last map[string]any
	if len(h) > 0 {
		last, _ = h[0].(map[string]any)
	}
	seen := fmt.Sprintf("generation %d observed %d history[0] %v conditions %v", u.GetGeneration(), og, last, conds)
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] != "Ready" {
			continue
		}
		at, _ := time.Parse(time.RFC3339, fmt.Sprint(m["lastTransitionTime"]))
		ok := m["status"] == "True" && og >= u.GetGeneration() && last["chartVersion"] == chartVersion && last["status"] == "deployed"
		return ok, at, seen
	}
	return false, time.Time{}, seen
}

// helmDeploymentFollowsRelease: the deployment of a HelmRelease
// environment stays pending until helm-controller released the new chart
// version (read after the deployment completed, the HelmRelease is Ready for
// its generation with chart 6.6.0), and its timeline has applied (from the
// Kustomization) then healthy (from the HelmRelease, no earlier than its
// Ready transition).
func (l *loop) helmDeploymentFollowsRelease(t *testing.T, depID string) {
	t.Helper()
	var dep model.Deployment
	waitUntil(t, waitLimit, "production's deployment completes", func() (bool, string) {
		dep = model.Deployment{}
		mustCall(t, l.svc, "deployments.get", map[string]any{"id": depID}, &dep)
		if dep.Status == model.DeployPending {
			return false, fmt.Sprintf("%s %+v", dep.Status, dep.Timeline)
		}
		if ok, _, seen := l.releasedAt(t, "podinfo-production", "podinfo", "6.6.0"); !ok {
			t.Fatalf("deployment %s before helm-controller released chart 6.6.0: HelmRelease %s; timeline %+v", dep.Status, seen, dep.Timeline)
		}
		return true, ""
	})
	if dep.Status != model.DeploySuccess || dep.CompletedAt == nil {
		t.Fatalf("deployment %s (%s)", dep.Status, dep.ErrorMessage)
	}
	var stages []string
	for _, s := range dep.Timeline {
		stages = append(stages, s.Stage)
	}
	applied, healthy := dep.Stage(model.StageApplied), dep.Stage(model.StageHealthy)
	if applied == nil || healthy == nil || dep.Stage(model.StageFailed) != nil || stages[len(stages)-1] != model.StageHealthy || healthy.At.Before(applied.At) {
		t.Fatalf("timeline %+v", dep.Timeline)
	}
	if !strings.HasPrefix(applied.Detail, "Kustomization ") ||
		!strings.Contains(healthy.Detail, "HelmRelease podinfo-production/podinfo: release 2 chart podinfo@6.6.0") {
		t.Fatalf("stage details: applied %q, healthy %q", applied.Detail, healthy.Detail)
	}
	_, readyAt, seen := l.releasedAt(t, "podinfo-production", "podinfo", "6.6.0")
	if healthy.At.Before(readyAt) {
		t.Fatalf("healthy at %s, before the HelmRelease turned Ready at %s (%s)", healthy.At, readyAt, seen)
	}
}
