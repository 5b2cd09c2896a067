package services

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// DefaultSyncWait bounds how long triggerSync waits for Flux to handle the
// request of a manual-sync (suspended) resource, which it suspends again after.
const DefaultSyncWait = 30 * time.Second

func annotatePatch(requestedAt string) []byte {
	p, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{meta.ReconcileRequestAnnotation: requestedAt}}})
	return p
}

func suspendPatch(suspend bool) []byte {
	p, _ := json.Marshal(map[string]any{"spec": map[string]any{"suspend": suspend}})
	return p
}

// TriggerSync implements gitops.triggerSync: the requestedAt annotation goes
// on the source first (waited for until the source has handled it, when a
// source-controller runs), then on the resource; it waits (bounded) for
// status.lastHandledReconcileAt to echo it. In a manual-sync environment a
// suspended resource is resumed for this one reconcile and suspended again.
func (s *Services) TriggerSync(ctx context.Context, in api.TriggerSyncInput) (api.SyncResult, error) {
	r, err := s.liveResource(in.ID)
	if err != nil {
		return api.SyncResult{}, err
	}
	env, err := s.environment(r.EnvironmentID)
	if err != nil {
		return api.SyncResult{}, err
	}
	k, _, err := s.kubeFor(env.ClusterID)
	if err != nil {
		return api.SyncResult{}, err
	}
	gvr := resourceGVR(r.Type)
	ri := k.dyn.Resource(gvr).Namespace(r.Namespace)
	u, err := ri.Get(ctx, r.Name, metav1.GetOptions{})
	if err != nil {
		return api.SyncResult{}, kubeError(err, "read "+r.Type+" "+r.Namespace+"/"+r.Name)
	}
	manual := !env.GitOpsConfig.AutoSync
	live := observe(u, s.now())
	suspended := live.Suspended
	if suspended && !manual {
		return api.SyncResult{}, model.Errorf(model.CodeBadRequest, "%s %s is suspended: resume it (gitops.resumeGitOpsResource) before syncing", r.Type, r.Name).
			WithDetail("id", r.ID).WithDetail("suspended", true)
	}
	now := s.now()
	requestedAt := now.Format(time.RFC3339Nano)
	wait := time.Duration(in.WaitSeconds) * time.Second
	if suspended && wait == 0 {
		// A manual-sync resource is resumed for this one reconcile: it must
		// be suspended again once Flux has handled it, so the call waits.
		wait = DefaultSyncWait
	}
	deadline := time.Now().Add(wait)
	// The source is the one the object names: its environment's branch.
	if kind, source, ok := strings.Cut(live.SourceRef, "/"); ok && kind == "GitRepository" && source != "" {
		src := k.dyn.Resource(gitRepositoryGVR).Namespace(orDefault(live.SourceNamespace, r.Namespace))
		_, err := src.Patch(ctx, source, types.MergePatchType, annotatePatch(requestedAt), metav1.PatchOptions{})
		if err != nil && model.CodeOf(kubeError(err, "")) != model.CodeNotFound {
			return api.SyncResult{}, kubeError(err, "annotate GitRepository "+source)
		}
		if err == nil && wait > 0 {
			// As `flux reconcile ... --with-source`: the source fetches the new
			// commit before the resource is asked, else the resource handles the
			// request with the old artifact (and a manual-sync one is suspended
			// again before it sees the new one).
			if err := waitSourceHandled(ctx, src, source, requestedAt, deadline); err != nil {
				return api.SyncResult{}, err
			}
		}
	}
	if suspended {
		if _, err := ri.Patch(ctx, r.Name, types.MergePatchType, suspendPatch(false), metav1.PatchOptions{}); err != nil {
			return api.SyncResult{}, kubeError(err, "resume "+r.Name+" for one sync")
		}
	}
	if _, err := ri.Patch(ctx, r.Name, types.MergePatchType, annotatePatch(requestedAt), metav1.PatchOptions{}); err != nil {
		return api.SyncResult{}, kubeError(err, "annotate "+r.Name)
	}
	res := api.SyncResult{RequestedAt: requestedAt, SyncedAt: now}
	remaining := wait
	if wait > 0 {
		remaining = max(time.Until(deadline), time.Millisecond)
	}
	o, handled, werr := s.waitHandled(ctx, k, r, requestedAt, remaining)
	if suspended {
		// Suspend again even when the wait failed: a manual-sync environment
		// must not keep syncing on its own.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RequestTimeout)
		_, err := ri.Patch(sctx, r.Name, types.MergePatchType, suspendPatch(true), metav1.PatchOptions{})
		cancel()
		if err != nil {
			return api.SyncResult{}, kubeError(err, "suspend "+r.Name+" again after the sync")
		}
		o.Suspended, o.Status = true, model.StatusSuspended
	}
	if werr != nil {
		return api.SyncResult{}, werr
	}
	if _, _, err := s.recordObserved(r.ID, o); err != nil {
		return api.SyncResult{}, err
	}
	res.Status, res.Revision = o.Status, o.LastAppliedRevision
	switch {
	case !handled && wait == 0:
		res.Success = true
		res.Message = fmt.Sprintf("sync of %s %s triggered; Flux handles it on its next loop (deployments.get and getGitOpsResource show the result)", r.Type, r.Name)
	case !handled:
		res.Message = fmt.Sprintf("sync requested at %s; Flux did not handle it within %s (is the controller running?)", requestedAt, wait)
	default:
		res.Success, res.Handled, res.SyncedAt = true, true, s.now()
		res.Message = fmt.Sprintf("%s %s reconciled at revision %s", r.Type, r.Name, orDefault(o.LastAppliedRevision, "(none)"))
		if o.ErrorMessage != "" {
			res.Message += ": " + o.ErrorMessage
		}
	}
	return res, nil
}

// waitHandled watches the object until lastHandledReconcileAt echoes
// requestedAt and the object is no longer reconciling.
func (s *Services) waitHandled(ctx context.Context, k kube, r model.GitOpsResource, requestedAt string, wait time.Duration) (Observed, bool, error) {
	ri := k.dyn.Resource(resourceGVR(r.Type)).Namespace(r.Namespace)
	deadline := time.Now().Add(wait)
	for {
		u, err := ri.Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil {
			return Observed{}, false, kubeError(err, "read "+r.Name)
		}
		o := observe(u, s.now())
		// Flux echoes the request when it starts on it; the outcome comes
		// when it stops reconciling (as `flux reconcile` waits for Ready).
		handled := o.LastHandledReconcile == requestedAt
		if handled && o.Status != model.StatusReconciling {
			return o, true, nil
		}
		if wait == 0 || time.Now().After(deadline) {
			return o, handled, nil
		}
		remaining := time.Until(deadline)
		wctx, cancel := context.WithTimeout(ctx, remaining)
		w, err := ri.Watch(wctx, metav1.ListOptions{FieldSelector: "metadata.name=" + r.Name, ResourceVersion: u.GetResourceVersion()})
		if err != nil {
			cancel()
			return o, false, kubeError(err, "watch "+r.Name)
		}
		for range w.ResultChan() {
			break
		}
		w.Stop()
		cancel()
		if ctx.Err() != nil {
			return o, false, nil
		}
	}
}

// waitSourceHandled waits until a source's status.lastHandledReconcileAt
// echoes requestedAt or the deadline passes (then the sync goes on anyway).
// A source no controller has ever reconciled (no observedGeneration) is not
// waited for.
func waitSourceHandled(ctx context.Context, ri dynamic.ResourceInterface, name, requestedAt string, deadline time.Time) error {
	for {
		u, err := ri.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return kubeError(err, "read GitRepository "+name)
		}
		got, _, _ := unstructured.NestedString(u.Object, "status", "lastHandledReconcileAt")
		// observedGeneration defaults to -1: below 1, no source-controller
		// has looked at the object, and none will echo the request.
		seen, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		if got == requestedAt || seen < 1 || time.Now().After(deadline) {
			return nil
		}
		wctx, cancel := context.WithDeadline(ctx, deadline)
		w, err := ri.Watch(wctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: u.GetResourceVersion()})
		if err != nil {
			cancel()
			return kubeError(err, "watch GitRepository "+name)
		}
		for range w.ResultChan() {
			break
		}
		w.Stop()
		cancel()
		if ctx.Err() != nil {
			return nil
		}
	}
}

// SuspendResource implements gitops.suspendGitOpsResource.
func (s *Services) SuspendResource(ctx context.Context, in api.IDInput) (api.ResourceSummary, error) {
	return s.setSuspended(ctx, in.ID, true)
}

// ResumeResource implements gitops.resumeGitOpsResource.
func (s *Services) ResumeResource(ctx context.Context, in api.IDInput) (api.ResourceSummary, error) {
	return s.setSuspended(ctx, in.ID, false)
}

func (s *Services) setSuspended(ctx context.Context, id string, suspend bool) (api.ResourceSummary, error) {
	r, err := s.liveResource(id)
	if err != nil {
		return api.ResourceSummary{}, err
	}
	env, err := s.environment(r.EnvironmentID)
	if err != nil {
		return api.ResourceSummary{}, err
	}
	k, _, err := s.kubeFor(env.ClusterID)
	if err != nil {
		return api.ResourceSummary{}, err
	}
	u, err := k.dyn.Resource(resourceGVR(r.Type)).Namespace(r.Namespace).Patch(ctx, r.Name, types.MergePatchType, suspendPatch(suspend), metav1.PatchOptions{})
	if err != nil {
		return api.ResourceSummary{}, kubeError(err, "patch "+r.Name)
	}
	o := observe(u, s.now())
	updated, _, err := s.recordObserved(r.ID, o)
	if err != nil {
		return api.ResourceSummary{}, err
	}
	s.hub.publish(api.StatusEvent{Resource: updated})
	return api.ResourceSummary{ID: updated.ID, Name: updated.Name, Type: updated.Type, Status: updated.Status, CreatedAt: updated.CreatedAt}, nil
}
