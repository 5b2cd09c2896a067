package fluxobj

import (
	"strings"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitopstui/gitopstui/model"
)

// Observed is what the cluster says of one Flux object.
type Observed struct {
	Status                string             `json:"status"`
	Suspended             bool               `json:"suspended"`
	LastAppliedRevision   string             `json:"lastAppliedRevision,omitempty"`
	LastAttemptedRevision string             `json:"lastAttemptedRevision,omitempty"`
	LastHandledReconcile  string             `json:"lastHandledReconcileAt,omitempty"`
	ErrorMessage          string             `json:"errorMessage,omitempty"`
	Conditions            []metav1.Condition `json:"conditions"`
	DependsOn             []string           `json:"dependsOn,omitempty"`
	SourceRef             string             `json:"sourceRef,omitempty"`
	SourceNamespace       string             `json:"sourceNamespace,omitempty"`
	ObservedAt            time.Time          `json:"observedAt"`

	// Class is the diagnosis class of the conditions (Classify); the
	// suspension annotations (diagnose.go) say why, by whom and until when.
	Class         string `json:"class,omitempty"`
	SuspendReason string `json:"suspendReason,omitempty"`
	SuspendedBy   string `json:"suspendedBy,omitempty"`
	SuspendUntil  string `json:"suspendUntil,omitempty"`
	// Deps (dependsOn with namespaces), Spec and the generations feed the
	// dependency graph and diagnosis.
	Deps               []Ref `json:"-"`
	Spec               Spec  `json:"-"`
	Generation         int64 `json:"-"`
	ObservedGeneration int64 `json:"-"`
}

// Observe reads a Kustomization or HelmRelease with Flux's API types and
// judges it: Ready=True is ready; Reconciling (or Ready=Unknown while
// progressing) is reconciling; DependencyNotReady is pending, not failed;
// Stalled or Ready=False otherwise is failed with Flux's message; suspended
// objects are suspended.
func Observe(u *unstructured.Unstructured, now time.Time) Observed {
	o := Observed{ObservedAt: now, Conditions: []metav1.Condition{}}
	switch u.GetKind() {
	case kustomizev1.KustomizationKind:
		var k kustomizev1.Kustomization
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &k)
		o.Suspended = k.Spec.Suspend
		o.LastAppliedRevision, o.LastAttemptedRevision = k.Status.LastAppliedRevision, k.Status.LastAttemptedRevision
		o.LastHandledReconcile = k.Status.LastHandledReconcileAt
		o.Conditions = append(o.Conditions, k.Status.Conditions...)
		for _, d := range k.Spec.DependsOn {
			o.DependsOn = append(o.DependsOn, d.Name)
		}
		o.SourceRef, o.SourceNamespace = k.Spec.SourceRef.Kind+"/"+k.Spec.SourceRef.Name, k.Spec.SourceRef.Namespace
		kustomizationFacts(&k, &o)
	case helmv2.HelmReleaseKind:
		var h helmv2.HelmRelease
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &h)
		o.Suspended = h.Spec.Suspend
		o.LastAttemptedRevision = h.Status.LastAttemptedRevision
		if len(h.Status.History) > 0 {
			o.LastAppliedRevision = h.Status.History[0].ChartVersion
		}
		o.LastHandledReconcile = h.Status.LastHandledReconcileAt
		o.Conditions = append(o.Conditions, h.Status.Conditions...)
		for _, d := range h.Spec.DependsOn {
			o.DependsOn = append(o.DependsOn, d.Name)
		}
		if h.Spec.Chart != nil {
			o.SourceRef = h.Spec.Chart.Spec.SourceRef.Kind + "/" + h.Spec.Chart.Spec.SourceRef.Name
			o.SourceNamespace = h.Spec.Chart.Spec.SourceRef.Namespace
		}
		helmFacts(&h, &o)
	}
	for i := range o.Conditions {
		o.Conditions[i].Message = model.CleanText(o.Conditions[i].Message)
	}
	o.Status, o.ErrorMessage = Judge(o.Conditions, o.Suspended)
	readSuspension(u, &o)
	o.Class = Classify(o)
	return o
}

// FindCondition returns the condition of type typ, nil when absent.
func FindCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// Judge maps Flux conditions to a resource status and its message.
func Judge(conds []metav1.Condition, suspended bool) (string, string) {
	ready := FindCondition(conds, meta.ReadyCondition)
	stalled := FindCondition(conds, meta.StalledCondition)
	reconciling := FindCondition(conds, meta.ReconcilingCondition)
	switch {
	case suspended:
		msg := ""
		if ready != nil && ready.Status == metav1.ConditionFalse {
			msg = ready.Message
		}
		return model.StatusSuspended, msg
	case stalled != nil && stalled.Status == metav1.ConditionTrue:
		return model.StatusFailed, stalled.Message
	case ready == nil:
		return model.StatusPending, ""
	case ready.Status == metav1.ConditionTrue:
		return model.StatusReady, ""
	case ready.Reason == meta.DependencyNotReadyReason:
		return model.StatusPending, ready.Message
	case reconciling != nil && reconciling.Status == metav1.ConditionTrue && reconciling.Reason != meta.ProgressingWithRetryReason,
		ready.Status == metav1.ConditionUnknown:
		// Reconciling=True with ProgressingWithRetry and Ready=False is Flux
		// retrying a failure (a build that fails, say): that is failed.
		return model.StatusReconciling, ""
	}
	return model.StatusFailed, ready.Message
}

// JudgeSource maps a GitRepository's conditions to a repository sync status.
func JudgeSource(u *unstructured.Unstructured) (status, commit, message string) {
	var g sourcev1.GitRepository
	_ = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &g)
	if g.Status.Artifact != nil {
		commit = RevisionSHA(g.Status.Artifact.Revision)
	}
	st, msg := Judge(g.Status.Conditions, g.Spec.Suspend)
	msg = model.CleanText(msg)
	switch st {
	case model.StatusReady:
		return model.SyncReady, commit, ""
	case model.StatusReconciling, model.StatusPending:
		return model.SyncReconciling, commit, msg
	}
	return model.SyncFailed, commit, msg
}

// RevisionSHA takes the commit out of a Flux revision ("main@sha1:abc…" or "abc…").
func RevisionSHA(rev string) string {
	if i := strings.LastIndex(rev, ":"); i >= 0 && strings.Contains(rev, "@") {
		return rev[i+1:]
	}
	if i := strings.LastIndex(rev, "/"); i >= 0 {
		return rev[i+1:]
	}
	return rev
}
