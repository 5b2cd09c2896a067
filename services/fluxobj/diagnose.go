package fluxobj

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// Annotations gitopstui writes on a suspended Flux object: why, by whom and
// until when (RFC 3339). Other tools and people read them with kubectl.
const (
	AnnotationSuspendReason = "gitopstui.io/suspend-reason"
	AnnotationSuspendedBy   = "gitopstui.io/suspended-by"
	AnnotationSuspendUntil  = "gitopstui.io/suspend-until"
)

// healthCheckPrefix starts kustomize-controller's Reconciling message while
// it waits for health checks.
const healthCheckPrefix = "Running health checks"

// Ref names a Flux object a dependsOn entry points at.
type Ref struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// Spec is what diagnosis reads of an object's spec.
type Spec struct {
	Timeout       time.Duration
	RetryInterval time.Duration
	HealthChecks  []string
	Wait          bool
}

// SuspendPatch is the merge patch that suspends (with reason, who and until)
// or resumes an object; resuming removes the suspension annotations.
func SuspendPatch(suspend bool, reason, by, until string) []byte {
	ann := map[string]any{AnnotationSuspendReason: nil, AnnotationSuspendedBy: nil, AnnotationSuspendUntil: nil}
	if suspend {
		for k, v := range map[string]string{AnnotationSuspendReason: reason, AnnotationSuspendedBy: by, AnnotationSuspendUntil: until} {
			if v != "" {
				ann[k] = v
			}
		}
	}
	p, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": ann}, "spec": map[string]any{"suspend": suspend}})
	return p
}

// NodeName is the graph name of a Flux object: Kind/namespace/name.
func NodeName(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

// kustomizationFacts fills what diagnosis needs of a Kustomization.
func kustomizationFacts(k *kustomizev1.Kustomization, o *Observed) {
	o.Spec = Spec{Timeout: k.GetTimeout(), RetryInterval: k.GetRetryInterval(), Wait: k.Spec.Wait}
	for _, h := range k.Spec.HealthChecks {
		o.Spec.HealthChecks = append(o.Spec.HealthChecks, NodeName(h.Kind, cmpOr(h.Namespace, k.Namespace), h.Name))
	}
	for _, d := range k.Spec.DependsOn {
		o.Deps = append(o.Deps, Ref{Namespace: cmpOr(d.Namespace, k.Namespace), Name: d.Name})
	}
	o.Generation, o.ObservedGeneration = k.Generation, k.Status.ObservedGeneration
}

// helmFacts fills what diagnosis needs of a HelmRelease.
func helmFacts(h *helmv2.HelmRelease, o *Observed) {
	o.Spec = Spec{Timeout: h.GetTimeout().Duration, RetryInterval: h.Spec.Interval.Duration}
	for _, d := range h.Spec.DependsOn {
		o.Deps = append(o.Deps, Ref{Namespace: cmpOr(d.Namespace, h.Namespace), Name: d.Name})
	}
	o.Generation, o.ObservedGeneration = h.Generation, h.Status.ObservedGeneration
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// readSuspension reads the suspension annotations.
func readSuspension(u *unstructured.Unstructured, o *Observed) {
	a := u.GetAnnotations()
	o.SuspendReason, o.SuspendedBy, o.SuspendUntil = a[AnnotationSuspendReason], a[AnnotationSuspendedBy], a[AnnotationSuspendUntil]
}

// SuspensionExpired reports whether a suspended object's until has passed.
func (o Observed) SuspensionExpired(now time.Time) bool {
	t, err := time.Parse(time.RFC3339, o.SuspendUntil)
	return o.Suspended && err == nil && !now.Before(t)
}

// Classify is the diagnosis class of an object's own conditions (no
// dependency or source read): see api.Diag*.
func Classify(o Observed) string {
	ready := FindCondition(o.Conditions, meta.ReadyCondition)
	stalled := FindCondition(o.Conditions, meta.StalledCondition)
	rec := FindCondition(o.Conditions, meta.ReconcilingCondition)
	retrying := rec != nil && rec.Status == metav1.ConditionTrue && rec.Reason == meta.ProgressingWithRetryReason
	falseWith := func(reasons ...string) bool {
		if ready == nil || ready.Status != metav1.ConditionFalse {
			return false
		}
		for _, r := range reasons {
			if ready.Reason == r {
				return true
			}
		}
		return false
	}
	switch {
	case o.Suspended:
		return api.DiagSuspended
	case ready != nil && ready.Status == metav1.ConditionTrue:
		return api.DiagReady
	case stalled != nil && stalled.Status == metav1.ConditionTrue:
		return api.DiagStalled
	case falseWith(meta.DependencyNotReadyReason):
		return api.DiagBlocked
	case falseWith(meta.ArtifactFailedReason):
		return api.DiagSourceFail
	case falseWith(meta.BuildFailedReason, helmv2.InventoryBuildFailedReason):
		return api.DiagBuildFail
	case falseWith(meta.HealthCheckFailedReason, helmv2.TestFailedReason):
		return api.DiagHealthCheck
	case rec != nil && rec.Status == metav1.ConditionTrue && strings.HasPrefix(rec.Message, healthCheckPrefix):
		return api.DiagHealthCheck
	case ready == nil || ready.Status == metav1.ConditionUnknown || rec != nil && rec.Status == metav1.ConditionTrue && !retrying:
		if o.LastAppliedRevision == "" {
			return api.DiagFirstApply
		}
		return api.DiagProgressing
	case retrying:
		return api.DiagRetrying
	}
	return api.DiagFailed
}

// EventFact is a Kubernetes event of the object, as diagnosis counts them.
type EventFact struct {
	Type   string
	Reason string
	Count  int32
	Last   time.Time
}

// Facts are what diagnosis reads beyond the object: its events, its
// source's state and (blocked) the chain of dependencies to the root cause.
type Facts struct {
	Events []EventFact
	Source *api.SourceState
	Chain  []api.ChainLink
}

// Diagnose explains an observed object: its class, the facts behind it,
// one sentence and the next action a person would take.
func Diagnose(node string, o Observed, f Facts, now time.Time) api.Diagnosis {
	d := api.Diagnosis{Class: Classify(o), Source: f.Source}
	if ready := FindCondition(o.Conditions, meta.ReadyCondition); ready != nil && ready.Status != metav1.ConditionTrue {
		d.Reason, d.Message = ready.Reason, ready.Message
	}
	if d.Class != api.DiagSuspended && d.Class != api.DiagReady && f.Source != nil && !f.Source.Ready && d.Class != api.DiagBlocked {
		// The source's failure explains an object that cannot get an artifact.
		if d.Class == api.DiagFailed || d.Class == api.DiagRetrying || d.Class == api.DiagFirstApply {
			d.Class = api.DiagSourceFail
		}
	}
	retryFacts(&d, o, f, now)
	switch d.Class {
	case api.DiagReady:
		d.Sentence = fmt.Sprintf("%s is ready at %s.", node, cmpOr(o.LastAppliedRevision, "its last revision"))
	case api.DiagFirstApply:
		d.Sentence = fmt.Sprintf("%s is being applied for the first time.", node)
		d.NextAction = "Wait: Flux is applying it; its events show each step."
	case api.DiagProgressing:
		d.Sentence = fmt.Sprintf("%s is reconciling (last applied %s).", node, o.LastAppliedRevision)
		d.NextAction = "Wait: Flux is reconciling it."
	case api.DiagRetrying:
		d.Sentence = fmt.Sprintf("%s failed (%s) and Flux retries it: %s", node, d.Reason, d.Message)
		d.NextAction = "Fix the error in Git or on the cluster, then sync to retry now instead of at the next retry."
	case api.DiagHealthCheck:
		healthFacts(&d, node, o, now)
	case api.DiagBlocked:
		blockedFacts(&d, node, f.Chain)
	case api.DiagSourceFail:
		sourceFacts(&d, node)
	case api.DiagBuildFail:
		d.Sentence = fmt.Sprintf("%s cannot be built from %s: %s", node, cmpOr(o.LastAttemptedRevision, "its source"), d.Message)
		d.NextAction = "Fix the manifests in Git (kustomize build fails on them), commit, then sync."
	case api.DiagStalled:
		st := FindCondition(o.Conditions, meta.StalledCondition)
		d.Reason, d.Message = st.Reason, st.Message
		d.Sentence = fmt.Sprintf("%s is stalled (%s): Flux will not retry it: %s", node, st.Reason, st.Message)
		d.NextAction = "Fix its spec (gitops.updateGitOpsResource) or what it refers to; Flux retries only after a change."
	case api.DiagSuspended:
		suspendedFacts(&d, node, o, now)
	default:
		d.Sentence = fmt.Sprintf("%s failed (%s): %s", node, d.Reason, d.Message)
		d.NextAction = "Read the message and the events, fix the cause, then sync."
	}
	return d
}

// retryFacts fills the attempts and the next retry of an object Flux retries:
// the count of its warning events with the Ready reason (the recorder
// aggregates them), else the attempts the retry interval allows since the
// failure began.
func retryFacts(d *api.Diagnosis, o Observed, f Facts, now time.Time) {
	rec := FindCondition(o.Conditions, meta.ReconcilingCondition)
	ready := FindCondition(o.Conditions, meta.ReadyCondition)
	if rec == nil || rec.Reason != meta.ProgressingWithRetryReason || ready == nil || ready.Status != metav1.ConditionFalse || o.Suspended {
		return
	}
	last := ready.LastTransitionTime.Time
	for _, e := range f.Events {
		if e.Type == "Warning" && e.Reason == ready.Reason && int(e.Count) > d.Attempts {
			d.Attempts = int(e.Count)
			last = e.Last
		}
	}
	if d.Attempts == 0 {
		d.Attempts = 1
		if o.Spec.RetryInterval > 0 {
			n := int(now.Sub(last) / o.Spec.RetryInterval)
			d.Attempts += n
			last = last.Add(time.Duration(n) * o.Spec.RetryInterval)
		}
	}
	if o.Spec.RetryInterval > 0 {
		next := last.Add(o.Spec.RetryInterval).UTC()
		d.NextRetryAt = &next
	}
}

// healthFacts explains waiting for, or failing, health checks.
func healthFacts(d *api.Diagnosis, node string, o Observed, now time.Time) {
	d.HealthChecks = o.Spec.HealthChecks
	if o.Spec.Wait && len(d.HealthChecks) == 0 {
		d.HealthChecks = []string{"every applied object (wait: true)"}
	}
	waiting := "its health checks"
	if len(d.HealthChecks) > 0 {
		waiting = strings.Join(d.HealthChecks, ", ")
	}
	if d.Reason != "" && d.Reason != meta.ProgressingReason {
		d.Sentence = fmt.Sprintf("%s: health checks failed within the timeout of %s: %s", node, o.Spec.Timeout, d.Message)
		d.NextAction = "Look at the unhealthy objects (kubectl describe, their pods' events), fix them in Git, then sync."
		if d.NextRetryAt != nil {
			d.NextAction += fmt.Sprintf(" Flux retries at %s.", d.NextRetryAt.Format(time.RFC3339))
		}
		return
	}
	started := now
	if h := FindCondition(o.Conditions, meta.HealthyCondition); h != nil && h.Status == metav1.ConditionUnknown {
		started = h.LastTransitionTime.Time
	} else if rec := FindCondition(o.Conditions, meta.ReconcilingCondition); rec != nil {
		started = rec.LastTransitionTime.Time
	}
	deadline := started.Add(o.Spec.Timeout).UTC()
	d.HealthDeadline = &deadline
	d.TimeLeft = max(deadline.Sub(now), 0).Round(time.Second).String()
	d.Sentence = fmt.Sprintf("%s is applied and waits for %s to be healthy (%s left of %s).", node, waiting, d.TimeLeft, o.Spec.Timeout)
	d.NextAction = "Wait, or look at the objects' rollout (kubectl rollout status) if it does not move."
}

// blockedFacts explains a dependency that is not ready, down to the root cause.
func blockedFacts(d *api.Diagnosis, node string, chain []api.ChainLink) {
	d.Chain = chain
	if len(chain) == 0 {
		d.Sentence = fmt.Sprintf("%s waits for its dependencies: %s", node, d.Message)
		d.NextAction = "Look at the dependencies it names; Flux checks them again every 30s."
		return
	}
	root := chain[len(chain)-1]
	d.RootCause = root.Node
	via := ""
	if len(chain) > 1 {
		names := make([]string, len(chain)-1)
		for i, l := range chain[:len(chain)-1] {
			names[i] = l.Node
		}
		via = " through " + strings.Join(names, " → ")
	}
	d.Sentence = fmt.Sprintf("%s is blocked by %s%s, which is %s: %s", node, root.Node, via, root.Class, cmpOr(root.Message, root.Reason))
	d.NextAction = "Fix the root cause " + root.Node + "; once it is Ready its dependents follow (bulk sync starts them at once)."
}

// sourceFacts explains a source that gives no artifact.
func sourceFacts(d *api.Diagnosis, node string) {
	src, msg := "its source", d.Message
	if d.Source != nil {
		src = d.Source.Node
		if d.Source.Message != "" {
			msg = d.Source.Message
		}
		if !d.Source.Found {
			msg = "the source does not exist"
		}
	}
	d.Sentence = fmt.Sprintf("%s has no artifact: %s failed: %s", node, src, msg)
	d.NextAction = "Check the repository URL, branch and credentials of " + src + " (repositories.getFluxStatus), then sync."
}

// suspendedFacts explains a suspension with its reason, who and until.
func suspendedFacts(d *api.Diagnosis, node string, o Observed, now time.Time) {
	d.Suspension = &api.Suspension{Reason: o.SuspendReason, By: o.SuspendedBy, Until: o.SuspendUntil, Expired: o.SuspensionExpired(now)}
	d.Sentence = node + " is suspended"
	if o.SuspendedBy != "" {
		d.Sentence += " by " + o.SuspendedBy
	}
	if o.SuspendReason != "" {
		d.Sentence += ": " + o.SuspendReason
	}
	switch {
	case d.Suspension.Expired:
		d.Sentence += " (expired at " + o.SuspendUntil + ")"
		d.NextAction = "The suspension expired: the watcher of the TUI or serve resumes it; resume it by hand otherwise."
	case o.SuspendUntil != "":
		d.Sentence += " (until " + o.SuspendUntil + ")"
		d.NextAction = "Resume it when the reason is resolved; it is resumed at " + o.SuspendUntil + "."
	default:
		d.Sentence += "."
		d.NextAction = "Resume it when the reason is resolved."
	}
}

// SourceStatus reads a Flux source (GitRepository, HelmRepository, any
// kind with status.conditions): whether it is Ready, and else the Ready
// condition's reason and message.
func SourceStatus(u *unstructured.Unstructured) (ready bool, reason, message string) {
	var st struct {
		Conditions []metav1.Condition `json:"conditions"`
	}
	if m, ok := u.Object["status"].(map[string]any); ok {
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(m, &st)
	}
	suspended, _, _ := unstructured.NestedBool(u.Object, "spec", "suspend")
	status, msg := Judge(st.Conditions, suspended)
	if status == model.StatusReady {
		return true, "", ""
	}
	if c := FindCondition(st.Conditions, meta.ReadyCondition); c != nil {
		reason = c.Reason
		if msg == "" {
			msg = c.Message
		}
	}
	return false, reason, model.CleanText(msg)
}
