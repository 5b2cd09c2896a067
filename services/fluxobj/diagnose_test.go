package fluxobj_test

import (
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxobj"
)

// shopKustomization is the Kustomization the diagnosis cases observe: a
// 30s timeout, a 1m retry interval, one health check.
func shopKustomization(t *testing.T, applied string, ann map[string]string, suspend bool, conds ...metav1.Condition) fluxobj.Observed {
	t.Helper()
	k := &kustomizev1.Kustomization{
		TypeMeta:   metav1.TypeMeta{APIVersion: kustomizev1.GroupVersion.String(), Kind: kustomizev1.KustomizationKind},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "flux-system", Annotations: ann},
		Spec: kustomizev1.KustomizationSpec{
			Suspend: suspend, Path: "./web", Interval: metav1.Duration{Duration: 10 * time.Minute},
			Timeout:       &metav1.Duration{Duration: 30 * time.Second},
			RetryInterval: &metav1.Duration{Duration: time.Minute},
			HealthChecks:  []meta.NamespacedObjectKindReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", Namespace: "shop"}},
			SourceRef:     kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "shop"},
		},
		Status: kustomizev1.KustomizationStatus{LastAppliedRevision: applied, Conditions: conds},
	}
	return fluxobj.Observe(toUnstructured(t, k), observedAt)
}

// at is a condition whose last transition was d before observedAt.
func at(c metav1.Condition, d time.Duration) metav1.Condition {
	c.LastTransitionTime = metav1.NewTime(observedAt.Add(-d))
	return c
}

// diagCase is one situation kustomize-controller reports and the diagnosis
// it must get.
type diagCase struct {
	name    string
	applied string
	ann     map[string]string
	suspend bool
	conds   []metav1.Condition
	facts   fluxobj.Facts
	class   string
	check   func(t *testing.T, d api.Diagnosis)
}

// diagnosisCases are what kustomize-controller v1.9 writes in each
// situation (reasons and message formats from its reconciler).
//
//lint:table
func diagnosisCases() []diagCase {
	const rev = "main@sha1:1f2e3d"
	var (
		T, F, U   = metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown
		retrying  = condition(meta.ReconcilingCondition, T, meta.ProgressingWithRetryReason, "Fetching manifests for revision "+rev+" with a timeout of 30s")
		inFlight  = condition(meta.ReadyCondition, U, meta.ProgressingReason, "Reconciliation in progress")
		fetching  = condition(meta.ReconcilingCondition, T, meta.ProgressingReason, "Fetching manifests for revision "+rev+" with a timeout of 30s")
		healthMsg = "Running health checks for revision " + rev + " with a timeout of 30s"
	)
	srcFailed := &api.SourceState{Node: "GitRepository/flux-system/shop", Found: true, Reason: "GitOperationFailed",
		Message: "failed to checkout and determine revision: unable to clone 'http://127.0.0.1:1/x.git': connection refused"}
	chain := []api.ChainLink{{Node: "Kustomization/flux-system/infra", Class: api.DiagBlocked}, {Node: "Kustomization/flux-system/db", Class: api.DiagBuildFail, Message: "kustomize build failed"}}
	return []diagCase{
		{name: "ready", applied: rev, conds: []metav1.Condition{condition(meta.ReadyCondition, T, meta.ReconciliationSucceededReason, "Applied revision: "+rev)},
			class: api.DiagReady},
		{name: "never reconciled", class: api.DiagFirstApply},
		{name: "first apply", conds: []metav1.Condition{inFlight, fetching}, class: api.DiagFirstApply},
		{name: "progressing", applied: "main@sha1:000", conds: []metav1.Condition{inFlight, fetching}, class: api.DiagProgressing},
		{name: "retrying an apply failure", applied: rev,
			conds: []metav1.Condition{at(condition(meta.ReadyCondition, F, meta.ReconciliationFailedReason, "ConfigMap/shop/x dry-run failed: namespaces \"shop\" not found"), 5*time.Minute), retrying},
			facts: fluxobj.Facts{Events: []fluxobj.EventFact{{Type: "Warning", Reason: meta.ReconciliationFailedReason, Count: 4, Last: observedAt.Add(-20 * time.Second)}}},
			class: api.DiagRetrying, check: func(t *testing.T, d api.Diagnosis) {
				if d.Attempts != 4 || d.NextRetryAt == nil || !d.NextRetryAt.Equal(observedAt.Add(40*time.Second)) {
					t.Errorf("attempts %d, next retry %v; want 4 and 40s from now", d.Attempts, d.NextRetryAt)
				}
			}},
		{name: "retrying without events counts retry intervals", applied: rev,
			conds: []metav1.Condition{at(condition(meta.ReadyCondition, F, meta.ReconciliationFailedReason, "apply failed"), 150*time.Second), retrying},
			class: api.DiagRetrying, check: func(t *testing.T, d api.Diagnosis) {
				if d.Attempts != 3 || !d.NextRetryAt.Equal(observedAt.Add(30*time.Second)) {
					t.Errorf("attempts %d, next retry %v; want 3 and 30s from now", d.Attempts, d.NextRetryAt)
				}
			}},
		{name: "waiting for health checks", applied: "main@sha1:000",
			conds: []metav1.Condition{inFlight, condition(meta.ReconcilingCondition, T, meta.ProgressingReason, healthMsg),
				at(condition(meta.HealthyCondition, U, meta.ProgressingReason, healthMsg), 10*time.Second)},
			class: api.DiagHealthCheck, check: func(t *testing.T, d api.Diagnosis) {
				if d.TimeLeft != "20s" || len(d.HealthChecks) != 1 || d.HealthChecks[0] != "Deployment/shop/web" {
					t.Errorf("time left %q, checks %v", d.TimeLeft, d.HealthChecks)
				}
			}},
		{name: "health checks timed out", applied: "main@sha1:000",
			conds: []metav1.Condition{condition(meta.ReadyCondition, F, meta.HealthCheckFailedReason, "timeout waiting for: [Deployment/shop/web status: 'InProgress']"),
				condition(meta.HealthyCondition, F, meta.HealthCheckFailedReason, "timeout waiting for: [Deployment/shop/web status: 'InProgress']"), retrying},
			class: api.DiagHealthCheck, check: func(t *testing.T, d api.Diagnosis) {
				if !strings.Contains(d.Sentence, "health checks failed") || !strings.Contains(d.Sentence, "Deployment/shop/web") || d.Attempts < 1 {
					t.Errorf("sentence %q attempts %d", d.Sentence, d.Attempts)
				}
			}},
		{name: "blocked by a dependency", conds: []metav1.Condition{condition(meta.ReadyCondition, F, meta.DependencyNotReadyReason, "dependency 'flux-system/infra' is not ready")},
			facts: fluxobj.Facts{Chain: chain}, class: api.DiagBlocked, check: func(t *testing.T, d api.Diagnosis) {
				if d.RootCause != "Kustomization/flux-system/db" || len(d.Chain) != 2 || !strings.Contains(d.Sentence, "through Kustomization/flux-system/infra") {
					t.Errorf("root %q chain %v sentence %q", d.RootCause, d.Chain, d.Sentence)
				}
			}},
		{name: "source failed", conds: []metav1.Condition{condition(meta.ReadyCondition, F, meta.ArtifactFailedReason, "Source artifact not found, retrying in 30s")},
			facts: fluxobj.Facts{Source: srcFailed}, class: api.DiagSourceFail, check: func(t *testing.T, d api.Diagnosis) {
				if !strings.Contains(d.Sentence, "connection refused") || !strings.Contains(d.NextAction, "GitRepository/flux-system/shop") {
					t.Errorf("sentence %q next %q", d.Sentence, d.NextAction)
				}
			}},
		{name: "build failed", applied: "main@sha1:000",
			conds: []metav1.Condition{condition(meta.ReadyCondition, F, meta.BuildFailedReason, "kustomize build failed: accumulating resources: 'missing.yaml' does not exist"), retrying},
			class: api.DiagBuildFail, check: func(t *testing.T, d api.Diagnosis) {
				if !strings.Contains(d.Sentence, "missing.yaml") || d.Attempts != 1 {
					t.Errorf("sentence %q attempts %d", d.Sentence, d.Attempts)
				}
			}},
		{name: "stalled", conds: []metav1.Condition{condition(meta.ReadyCondition, F, meta.InvalidCELExpressionReason, "terminal error: bad expr"),
			condition(meta.StalledCondition, T, meta.InvalidCELExpressionReason, "terminal error: bad expr")}, class: api.DiagStalled},
		{name: "suspended, expired", suspend: true, applied: rev,
			ann: map[string]string{fluxobj.AnnotationSuspendReason: "db migration", fluxobj.AnnotationSuspendedBy: "ana",
				fluxobj.AnnotationSuspendUntil: observedAt.Add(-time.Minute).Format(time.RFC3339)},
			conds: []metav1.Condition{condition(meta.ReadyCondition, T, meta.ReconciliationSucceededReason, "Applied revision: "+rev)},
			class: api.DiagSuspended, check: func(t *testing.T, d api.Diagnosis) {
				if d.Suspension == nil || d.Suspension.Reason != "db migration" || d.Suspension.By != "ana" || !d.Suspension.Expired {
					t.Errorf("suspension %+v", d.Suspension)
				}
			}},
	}
}

func TestDiagnoseClassesFromFluxConditions(t *testing.T) {
	for _, tc := range diagnosisCases() {
		t.Run(tc.name, func(t *testing.T) {
			o := shopKustomization(t, tc.applied, tc.ann, tc.suspend, tc.conds...)
			d := fluxobj.Diagnose("Kustomization/flux-system/web", o, tc.facts, observedAt)
			if d.Class != tc.class || o.Class != fluxobj.Classify(o) {
				t.Fatalf("class %q (observed %q), want %q: %+v", d.Class, o.Class, tc.class, d)
			}
			if d.Sentence == "" || tc.class != api.DiagReady && d.NextAction == "" {
				t.Errorf("no sentence or next action: %+v", d)
			}
			if tc.check != nil {
				tc.check(t, d)
			}
		})
	}
}

func TestSuspendPatchAddsAndRemovesAnnotations(t *testing.T) {
	on := string(fluxobj.SuspendPatch(true, "freeze", "ana", "2026-01-02T03:04:05Z"))
	for _, want := range []string{`"suspend":true`, `"gitopstui.io/suspend-reason":"freeze"`, `"gitopstui.io/suspended-by":"ana"`, `"gitopstui.io/suspend-until":"2026-01-02T03:04:05Z"`} {
		if !strings.Contains(on, want) {
			t.Errorf("suspend patch %s lacks %s", on, want)
		}
	}
	off := string(fluxobj.SuspendPatch(false, "", "", ""))
	if !strings.Contains(off, `"suspend":false`) || !strings.Contains(off, `"gitopstui.io/suspend-reason":null`) {
		t.Errorf("resume patch %s", off)
	}
}

func TestSourceStatusOfAFailingGitRepository(t *testing.T) {
	g := &sourcev1.GitRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.GitRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Name: "nowhere", Namespace: "flux-system"},
		Spec:       sourcev1.GitRepositorySpec{URL: "http://127.0.0.1:1/acme/nowhere.git"},
		Status: sourcev1.GitRepositoryStatus{Conditions: []metav1.Condition{
			condition(sourcev1.FetchFailedCondition, metav1.ConditionTrue, sourcev1.GitOperationFailedReason, "failed to checkout and determine revision: repository not found"),
			condition(meta.ReadyCondition, metav1.ConditionFalse, sourcev1.GitOperationFailedReason, "failed to checkout and determine revision: repository not found"),
			condition(meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingWithRetryReason, "retrying"),
		}},
	}
	ready, reason, msg := fluxobj.SourceStatus(toUnstructured(t, g))
	if ready || reason != sourcev1.GitOperationFailedReason || !strings.Contains(msg, "repository not found") {
		t.Fatalf("SourceStatus: %v %q %q", ready, reason, msg)
	}
	g.Status.Conditions = []metav1.Condition{condition(meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason, "stored artifact")}
	if ready, _, _ := fluxobj.SourceStatus(toUnstructured(t, g)); !ready {
		t.Fatal("a Ready GitRepository reads as not ready")
	}
}
