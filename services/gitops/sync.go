package gitops

import (
	"cmp"
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
	"github.com/gitopstui/gitopstui/services/fluxobj"
	"github.com/gitopstui/gitopstui/services/kube"
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

// triggerSync implements gitops.triggerSync: the requestedAt annotation goes
// on the source first (waited for until the source has handled it, when a
// source-controller runs), then on the resource; it waits (bounded) for
// status.lastHandledReconcileAt to echo it. In a manual-sync environment a
// suspended resource is resumed for this one reconcile and suspended again.
func (s *GitOps) triggerSync(ctx context.Context, in api.TriggerSyncInput) (api.SyncResult, error) {
	r, err := s.liveResource(in.ID)
	if err != nil {
		return api.SyncResult{}, err
	}
	env, err := s.catalog.Environment(r.EnvironmentID)
	if err != nil {
		return api.SyncResult{}, err
	}
	k, _, err := s.kube.For(env.ClusterID)
	if err != nil {
		return api.SyncResult{}, err
	}
	gvr := fluxobj.ResourceGVR(r.Type)
	ri := k.Dyn.Resource(gvr).Namespace(r.Namespace)
	u, err := ri.Get(ctx, r.Name, metav1.GetOptions{})
	if err != nil {
		return api.SyncResult{}, kube.Error(err, "read "+r.Type+" "+r.Namespace+"/"+r.Name)
	}
	manual := !env.GitOpsConfig.AutoSync
	live := fluxobj.Observe(u, s.now())
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
	if err := syncSource(ctx, k, live, r.Namespace, requestedAt, wait, deadline); err != nil {
		return api.SyncResult{}, err
	}
	if suspended {
		if _, err := ri.Patch(ctx, r.Name, types.MergePatchType, suspendPatch(false), metav1.PatchOptions{}); err != nil {
			return api.SyncResult{}, kube.Error(err, "resume "+r.Name+" for one sync")
		}
	}
	if _, err := ri.Patch(ctx, r.Name, types.MergePatchType, annotatePatch(requestedAt), metav1.PatchOptions{}); err != nil {
		return api.SyncResult{}, kube.Error(err, "annotate "+r.Name)
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
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), kube.RequestTimeout)
		_, err := ri.Patch(sctx, r.Name, types.MergePatchType, suspendPatch(true), metav1.PatchOptions{})
		cancel()
		if err != nil {
			return api.SyncResult{}, kube.Error(err, "suspend "+r.Name+" again after the sync")
		}
		o.Suspended, o.Status = true, model.StatusSuspended
	}
	if werr != nil {
		return api.SyncResult{}, werr
	}
	if _, _, err := s.watch.Record(r.ID, o); err != nil {
		return api.SyncResult{}, err
	}
	return s.syncResult(r, o, handled, res, wait), nil
}

// waitHandled watches the object until lastHandledReconcileAt echoes
// requestedAt and the object is no longer reconciling.
func (s *GitOps) waitHandled(ctx context.Context, k kube.Kube, r model.GitOpsResource, requestedAt string, wait time.Duration) (fluxobj.Observed, bool, error) {
	ri := k.Dyn.Resource(fluxobj.ResourceGVR(r.Type)).Namespace(r.Namespace)
	deadline := time.Now().Add(wait)
	for {
		u, err := ri.Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil {
			return fluxobj.Observed{}, false, kube.Error(err, "read "+r.Name)
		}
		o := fluxobj.Observe(u, s.now())
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
			return o, false, kube.Error(err, "watch "+r.Name)
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
			return kube.Error(err, "read GitRepository "+name)
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
			return kube.Error(err, "watch GitRepository "+name)
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

// suspendResource implements gitops.suspendGitOpsResource: reason, who and
// until go on the Flux object as gitopstui.io/suspend-* annotations.
func (s *GitOps) suspendResource(ctx context.Context, in api.SuspendInput) (api.ResourceSummary, error) {
	return s.setSuspended(ctx, in.ID, true, in.Reason, in.Until)
}

// resumeResource implements gitops.resumeGitOpsResource (the suspension
// annotations are removed).
func (s *GitOps) resumeResource(ctx context.Context, in api.IDInput) (api.ResourceSummary, error) {
	return s.setSuspended(ctx, in.ID, false, "", "")
}

func (s *GitOps) setSuspended(ctx context.Context, id string, suspend bool, reason, until string) (api.ResourceSummary, error) {
	r, err := s.liveResource(id)
	if err != nil {
		return api.ResourceSummary{}, err
	}
	env, err := s.catalog.Environment(r.EnvironmentID)
	if err != nil {
		return api.ResourceSummary{}, err
	}
	k, _, err := s.kube.For(env.ClusterID)
	if err != nil {
		return api.ResourceSummary{}, err
	}
	p := fluxobj.SuspendPatch(suspend, model.CleanText(reason), actorName(ctx), s.untilTime(until))
	u, err := k.Dyn.Resource(fluxobj.ResourceGVR(r.Type)).Namespace(r.Namespace).Patch(ctx, r.Name, types.MergePatchType, p, metav1.PatchOptions{})
	if err != nil {
		return api.ResourceSummary{}, kube.Error(err, "patch "+r.Name)
	}
	o := fluxobj.Observe(u, s.now())
	updated, _, err := s.watch.Record(r.ID, o)
	if err != nil {
		return api.ResourceSummary{}, err
	}
	s.watch.Hub().Publish(api.StatusEvent{Resource: updated})
	return api.ResourceSummary{ID: updated.ID, Name: updated.Name, Type: updated.Type, Status: updated.Status, CreatedAt: updated.CreatedAt}, nil
}

// actorName is who runs the call, as suspensions record it.
func actorName(ctx context.Context) string {
	if a, ok := model.ActorIn(ctx); ok {
		return a.User
	}
	return ""
}

// untilTime is an until input (time or duration from now) in RFC 3339, "" for none.
func (s *GitOps) untilTime(v string) string {
	if t, ok := api.ParseUntil(v, s.now()); ok {
		return t.Format(time.RFC3339)
	}
	return ""
}

// RequestReconcile asks Flux to reconcile the environment's Kustomizations
// now (best effort, not waited for); it reports whether the request landed.
// Each one's GitRepository is asked first: only the source fetches the new
// commit, and kustomize-controller applies it when the source's artifact
// changes (a Kustomization reconciled alone re-applies the old artifact).
func (s *GitOps) RequestReconcile(ctx context.Context, env model.Environment, res []model.GitOpsResource) bool {
	ctx, cancel := context.WithTimeout(ctx, kube.ProbeTimeout)
	defer cancel()
	k, _, err := s.kube.For(env.ClusterID)
	if err != nil {
		return false
	}
	at := s.now().Format(time.RFC3339Nano)
	ok := true
	sources := map[string]bool{}
	for _, r := range res {
		if r.Suspended {
			continue
		}
		if !s.reconcileSource(ctx, k, env, r, at, sources) {
			ok = false
		}
		if _, err := k.Dyn.Resource(fluxobj.ResourceGVR(r.Type)).Namespace(r.Namespace).Patch(ctx, r.Name, types.MergePatchType, annotatePatch(at), metav1.PatchOptions{}); err != nil {
			ok = false
		}
	}
	return ok
}

// syncSource asks the GitRepository a resource names (its environment's
// branch) to reconcile, and with a wait, waits until it handled that.
func syncSource(ctx context.Context, k kube.Kube, live fluxobj.Observed, ns, requestedAt string, wait time.Duration, deadline time.Time) error {
	kind, source, ok := strings.Cut(live.SourceRef, "/")
	if !ok || kind != "GitRepository" || source == "" {
		return nil
	}
	src := k.Dyn.Resource(fluxobj.GitRepositoryGVR).Namespace(cmp.Or(live.SourceNamespace, ns))
	_, err := src.Patch(ctx, source, types.MergePatchType, annotatePatch(requestedAt), metav1.PatchOptions{})
	if err != nil && model.CodeOf(kube.Error(err, "")) != model.CodeNotFound {
		return kube.Error(err, "annotate GitRepository "+source)
	}
	if err == nil && wait > 0 {
		// As `flux reconcile ... --with-source`: the source fetches the new
		// commit before the resource is asked, else the resource handles the
		// request with the old artifact (and a manual-sync one is suspended
		// again before it sees the new one).
		return waitSourceHandled(ctx, src, source, requestedAt, deadline)
	}
	return nil
}

// syncResult is triggerSync's answer once the wait is over.
func (s *GitOps) syncResult(r model.GitOpsResource, o fluxobj.Observed, handled bool, res api.SyncResult, wait time.Duration) api.SyncResult {
	requestedAt := res.RequestedAt
	res.Status, res.Revision = o.Status, o.LastAppliedRevision
	switch {
	case !handled && wait == 0:
		res.Success = true
		res.Message = fmt.Sprintf("sync of %s %s triggered; Flux handles it on its next loop (deployments.get and getGitOpsResource show the result)", r.Type, r.Name)
	case !handled:
		res.Message = fmt.Sprintf("sync requested at %s; Flux did not handle it within %s (is the controller running?)", requestedAt, wait)
	default:
		res.Success, res.Handled, res.SyncedAt = true, true, s.now()
		res.Message = fmt.Sprintf("%s %s reconciled at revision %s", r.Type, r.Name, cmp.Or(o.LastAppliedRevision, "(none)"))
		if o.ErrorMessage != "" {
			res.Message += ": " + o.ErrorMessage
		}
	}
	return res
}
