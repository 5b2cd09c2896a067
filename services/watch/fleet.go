package watch

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxobj"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/store"
)

// The fleet: every Kustomization, HelmRelease and GitRepository of every
// watched cluster, held by the cluster's one informer set (watchOnce) in a
// slimmed form, so memory grows with the fields a row shows, not with the
// objects' inventories, histories and managed fields. A probe per cluster
// says whether it answers; a cluster that does not keeps its last rows,
// marked stale, and never holds up the others.

// fleetProbeEvery is how often a watched cluster's reachability is probed.
const fleetProbeEvery = 3 * time.Second

// fleetGVRs are the kinds the fleet holds.
var fleetGVRs = []schema.GroupVersionResource{fluxobj.KustomizationGVR, fluxobj.HelmReleaseGVR, fluxobj.GitRepositoryGVR}

// fleet is the per-cluster state of the watched clusters.
type fleet struct {
	mu       sync.Mutex
	clusters map[string]*fleetCluster
}

type fleetCluster struct {
	stores    []cache.Store // of fleetGVRs, in order
	synced    bool
	reachable bool
	err       string
	checkedAt time.Time
}

func (f *fleet) get(clusterID string) *fleetCluster {
	if f.clusters == nil {
		f.clusters = map[string]*fleetCluster{}
	}
	c := f.clusters[clusterID]
	if c == nil {
		c = &fleetCluster{}
		f.clusters[clusterID] = c
	}
	return c
}

// Source is a GitRepository of the fleet: what it follows and the commit
// its artifact holds (the branch head as Flux last fetched it).
type Source struct {
	ClusterID string
	Namespace string
	Name      string
	URL       string
	Branch    string
	Revision  string
}

// FleetSnapshot is the fleet at one moment.
type FleetSnapshot struct {
	Clusters []api.FleetCluster
	Items    []api.FleetItem
	Sources  []Source
}

// slim keeps of a Flux object what the watcher and the fleet read (it is the
// informers' transform): metadata's identity and labels, the spec fields of
// suspend, dependencies, source and path, and the status revisions,
// conditions and artifact; the inventory, the history beyond its newest
// entry and the managed fields are dropped.
func slim(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	md := map[string]any{"name": u.GetName(), "namespace": u.GetNamespace(), "uid": string(u.GetUID()),
		"resourceVersion": u.GetResourceVersion(), "generation": u.GetGeneration()}
	if l := u.GetLabels(); len(l) > 0 {
		md["labels"] = u.Object["metadata"].(map[string]any)["labels"]
	}
	// The annotations gitopstui and Flux read (suspension reason, reconcile
	// requests); not kubectl's last-applied copy of the object.
	kept := map[string]any{}
	for k, v := range u.GetAnnotations() {
		if strings.HasPrefix(k, "gitopstui.io/") || strings.HasPrefix(k, "reconcile.fluxcd.io/") {
			kept[k] = v
		}
	}
	if len(kept) > 0 {
		md["annotations"] = kept
	}
	out := map[string]any{"apiVersion": u.GetAPIVersion(), "kind": u.GetKind(), "metadata": md}
	if spec, ok := u.Object["spec"].(map[string]any); ok {
		out["spec"] = pick(spec, "suspend", "dependsOn", "sourceRef", "path", "chart", "url", "ref",
			"interval", "retryInterval", "timeout", "wait", "healthChecks") // what a diagnosis reads
	}
	if st, ok := u.Object["status"].(map[string]any); ok {
		s := pick(st, "lastAppliedRevision", "lastAttemptedRevision", "lastHandledReconcileAt", "conditions", "observedGeneration")
		if a, ok := st["artifact"].(map[string]any); ok {
			s["artifact"] = pick(a, "revision", "lastUpdateTime")
		}
		if h, ok := st["history"].([]any); ok && len(h) > 0 {
			s["history"] = h[:1]
		}
		out["status"] = s
	}
	return &unstructured.Unstructured{Object: out}, nil
}

func pick(m map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

// itemOf is a Kustomization or HelmRelease as a fleet row.
func itemOf(clusterID string, u *unstructured.Unstructured) api.FleetItem {
	it := api.FleetItem{ClusterID: clusterID, Namespace: u.GetNamespace(), Name: u.GetName(), Type: model.ResourceKustomization}
	if u.GetKind() == "HelmRelease" {
		it.Type = model.ResourceHelm
	}
	l := u.GetLabels()
	it.ResourceID, it.ProjectID, it.EnvironmentID = l[fluxobj.LabelResourceID], l[fluxobj.LabelProjectID], l[fluxobj.LabelEnvID]
	it.Suspended, _, _ = unstructured.NestedBool(u.Object, "spec", "suspend")
	it.Path, _, _ = unstructured.NestedString(u.Object, "spec", "path")
	ref, _, _ := unstructured.NestedStringMap(u.Object, "spec", "sourceRef")
	if ref == nil {
		ref, _, _ = unstructured.NestedStringMap(u.Object, "spec", "chart", "spec", "sourceRef")
	}
	if ref["name"] != "" {
		ns := ref["namespace"]
		if ns == "" {
			ns = it.Namespace
		}
		it.Source = ref["kind"] + "/" + ns + "/" + ref["name"]
	}
	it.Revision, _, _ = unstructured.NestedString(u.Object, "status", "lastAppliedRevision")
	if h, _, _ := unstructured.NestedSlice(u.Object, "status", "history"); it.Type == model.ResourceHelm && len(h) > 0 {
		if m, ok := h[0].(map[string]any); ok {
			it.Revision, _ = m["chartVersion"].(string)
		}
	}
	it.AttemptedRevision, _, _ = unstructured.NestedString(u.Object, "status", "lastAttemptedRevision")
	conds := conditionsOf(u)
	if len(conds) == 0 && !it.Suspended {
		it.Status = model.StatusUnknown
	} else {
		it.Status, it.Message = fluxobj.Judge(conds, it.Suspended)
	}
	return it
}

func conditionsOf(u *unstructured.Unstructured) []metav1.Condition {
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	out := make([]metav1.Condition, 0, len(raw))
	for _, c := range raw {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		s := func(k string) string { v, _ := m[k].(string); return v }
		out = append(out, metav1.Condition{Type: s("type"), Status: metav1.ConditionStatus(s("status")), Reason: s("reason"),
			Message: model.CleanText(s("message"))})
	}
	return out
}

// sourceOf is a GitRepository as a fleet source.
func sourceOf(clusterID string, u *unstructured.Unstructured) Source {
	s := Source{ClusterID: clusterID, Namespace: u.GetNamespace(), Name: u.GetName()}
	s.URL, _, _ = unstructured.NestedString(u.Object, "spec", "url")
	s.Branch, _, _ = unstructured.NestedString(u.Object, "spec", "ref", "branch")
	s.Revision, _, _ = unstructured.NestedString(u.Object, "status", "artifact", "revision")
	return s
}

// fleetHandler publishes the fleet's changes of one cluster's informers.
func (w *Watcher) fleetHandler(clusterID string) cache.ResourceEventHandlerFuncs {
	publish := func(obj any, deleted bool) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		u, ok := obj.(*unstructured.Unstructured)
		if !ok || u.GetKind() == "GitRepository" {
			return
		}
		it := itemOf(clusterID, u)
		w.hub.Publish(api.StatusEvent{Fleet: &api.FleetEvent{Item: &it, Deleted: deleted}})
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { publish(obj, false) },
		UpdateFunc: func(_, obj any) { publish(obj, false) },
		DeleteFunc: func(obj any) { publish(obj, true) },
	}
}

// fleetKey is the key in a subscriber's latest of a fleet event.
func fleetKey(e *api.FleetEvent) string {
	if e.Item != nil {
		return "\x00fleet:" + e.Item.Key()
	}
	if e.Cluster != nil {
		return "\x00fleet-cluster:" + e.Cluster.ID
	}
	return "\x00fleet"
}

// fleetStart records the informer stores of a cluster's watcher.
func (w *Watcher) fleetStart(clusterID string, stores []cache.Store) {
	w.fleet.mu.Lock()
	defer w.fleet.mu.Unlock()
	c := w.fleet.get(clusterID)
	c.stores, c.synced = stores, false
}

// fleetSynced marks a cluster's informers synced.
func (w *Watcher) fleetSynced(clusterID string) {
	w.fleet.mu.Lock()
	defer w.fleet.mu.Unlock()
	w.fleet.get(clusterID).synced = true
}

// fleetStop forgets a cluster's informers (its watcher ended).
func (w *Watcher) fleetStop(clusterID string) {
	w.fleet.mu.Lock()
	defer w.fleet.mu.Unlock()
	delete(w.fleet.clusters, clusterID)
}

// probeLoop probes a watched cluster until ctx ends, publishing each change
// of its reachability.
func (w *Watcher) probeLoop(ctx context.Context, clusterID string, k kube.Kube) {
	t := time.NewTicker(fleetProbeEvery)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, kube.ProbeTimeout)
		_, err := kube.ServerVersion(pctx, k.CS)
		cancel()
		if ctx.Err() != nil {
			return
		}
		w.setReachable(clusterID, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// setReachable records a probe's outcome and publishes a change.
func (w *Watcher) setReachable(clusterID string, err error) {
	msg := ""
	if err != nil {
		msg = model.AsError(kube.Error(err, "probe cluster "+clusterID)).Message
	}
	w.fleet.mu.Lock()
	c := w.fleet.get(clusterID)
	changed := c.checkedAt.IsZero() || c.reachable != (err == nil) || c.err != msg
	c.reachable, c.err, c.checkedAt = err == nil, msg, w.now()
	fc := api.FleetCluster{ID: clusterID, Reachable: c.reachable, Error: c.err, Live: c.synced, CheckedAt: c.checkedAt}
	w.fleet.mu.Unlock()
	if changed {
		w.hub.Publish(api.StatusEvent{Fleet: &api.FleetEvent{Cluster: &fc}})
	}
}

// Fleet returns every cluster's Kustomizations, HelmReleases and
// GitRepositories: from the informers of clusters being watched, else read
// once from each cluster, all clusters at once, each within the probe
// timeout (one that does not answer is reported unreachable).
func (w *Watcher) Fleet(ctx context.Context) (FleetSnapshot, error) {
	var clusters []model.Cluster
	err := w.db.View(func(tx *store.Tx) error {
		var err error
		clusters, _, err = store.Clusters.List(tx, store.Query[model.Cluster]{})
		return err
	})
	if err != nil {
		return FleetSnapshot{}, err
	}
	parts := make([]FleetSnapshot, len(clusters))
	var wg sync.WaitGroup
	for i, c := range clusters {
		if w.fleetFromCache(c, &parts[i]) {
			continue
		}
		wg.Go(func() { w.fleetRead(ctx, c, &parts[i]) })
	}
	wg.Wait()
	var out FleetSnapshot
	for _, p := range parts {
		out.Clusters = append(out.Clusters, p.Clusters...)
		out.Items = append(out.Items, p.Items...)
		out.Sources = append(out.Sources, p.Sources...)
	}
	sort.Slice(out.Items, func(i, j int) bool { return out.Items[i].Key() < out.Items[j].Key() })
	return out, nil
}

// fleetFromCache fills part from a watched cluster's informers; false when
// they are not synced (and have not been: a cluster that went away keeps
// its last rows).
func (w *Watcher) fleetFromCache(c model.Cluster, part *FleetSnapshot) bool {
	w.fleet.mu.Lock()
	fc := w.fleet.clusters[c.ID]
	if fc == nil || !fc.synced {
		w.fleet.mu.Unlock()
		return false
	}
	stores, reachable, msg, at := fc.stores, fc.reachable, fc.err, fc.checkedAt
	w.fleet.mu.Unlock()
	for _, s := range stores {
		w.collect(c.ID, s.List(), part, !reachable)
	}
	part.Clusters = []api.FleetCluster{{ID: c.ID, Name: c.Name, Reachable: reachable, Error: msg, Live: true,
		Resources: len(part.Items), CheckedAt: at}}
	return true
}

func (w *Watcher) collect(clusterID string, objs []any, part *FleetSnapshot, stale bool) {
	for _, o := range objs {
		u, ok := o.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		if u.GetKind() == "GitRepository" {
			part.Sources = append(part.Sources, sourceOf(clusterID, u))
			continue
		}
		it := itemOf(clusterID, u)
		it.Stale = stale
		part.Items = append(part.Items, it)
	}
}

// fleetRead fills part from one read of a cluster.
func (w *Watcher) fleetRead(ctx context.Context, c model.Cluster, part *FleetSnapshot) {
	ctx, cancel := context.WithTimeout(ctx, kube.ProbeTimeout)
	defer cancel()
	fc := api.FleetCluster{ID: c.ID, Name: c.Name, CheckedAt: w.now()}
	defer func() { part.Clusters = []api.FleetCluster{fc} }()
	k, _, err := w.kube.For(c.ID)
	if err != nil {
		fc.Error = model.AsError(err).Message
		return
	}
	for _, gvr := range fleetGVRs {
		l, err := k.Dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
		if err != nil {
			e := kube.Error(err, fmt.Sprintf("list %s on cluster %s", gvr.Resource, c.ID))
			if model.CodeOf(e) == model.CodeNotFound {
				continue // Flux not installed
			}
			fc.Error = model.AsError(e).Message
			part.Items, part.Sources = nil, nil
			return
		}
		objs := make([]any, len(l.Items))
		for i := range l.Items {
			objs[i] = &l.Items[i]
		}
		w.collect(c.ID, objs, part, false)
	}
	fc.Reachable, fc.Resources = true, len(part.Items)
}

// Cached returns the watched cluster's objects of gvr (one of fleetGVRs) as
// the informers hold them (slimmed: what the watcher and a diagnosis read),
// so that a caller does not list the API server again. It is false when
// the cluster is not watched here, its informers have not synced, it is
// unreachable (the caller reads the API server and reports its error), or
// gvr is not cached.
func (w *Watcher) Cached(clusterID string, gvr schema.GroupVersionResource) ([]*unstructured.Unstructured, bool) {
	i := slices.Index(fleetGVRs, gvr)
	w.fleet.mu.Lock()
	fc := w.fleet.clusters[clusterID]
	if i < 0 || fc == nil || !fc.synced || !fc.reachable || i >= len(fc.stores) {
		w.fleet.mu.Unlock()
		return nil, false
	}
	store := fc.stores[i]
	w.fleet.mu.Unlock()
	objs := store.List()
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		if u, ok := o.(*unstructured.Unstructured); ok {
			out = append(out, u)
		}
	}
	return out, true
}
