package watch

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxobj"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/store"
)

// Following helm-controller: when a Kustomization applies HelmReleases, a
// deployment of the commit it applied is not done when the Kustomization is
// Ready, only when helm-controller has released what the commit asks for.
// correlate leaves such a deployment pending (its timeline reaches applied,
// from the Kustomization); followHelm then reads the HelmReleases live from
// the API server (a read made after the Kustomization reported the commit
// applied, so each object's generation is at least the one the apply
// wrote) and completes the deployment from helm-controller's verdict: success
// with the healthy stage once every release is Ready for its generation,
// failed once one reports a terminal failure of its generation. A
// HelmRelease's informer events (and the Kustomization's) call followHelm
// again until it decides; a relist does the same for short-lived callers.

// Labels kustomize-controller sets on every object a Kustomization applies.
const (
	ksNameLabel      = "kustomize.toolkit.fluxcd.io/name"
	ksNamespaceLabel = "kustomize.toolkit.fluxcd.io/namespace"
)

// terminalHelmReasons are the Ready=False reasons with which helm-controller
// reports that a release of the HelmRelease's generation failed.
var terminalHelmReasons = []string{"InstallFailed", "UpgradeFailed", "ArtifactFailed", "TestFailed", "RollbackSucceeded",
	"RollbackFailed", "UninstallFailed", meta.InvalidCELExpressionReason}

// helmFollow is what followHelm keeps between calls.
type helmFollow struct {
	mu     sync.Mutex
	listed map[string][]*unstructured.Unstructured // cluster -> its HelmReleases at the last relist (slimmed)
}

// setListed records the HelmReleases a relist read of a cluster.
func (h *helmFollow) setListed(clusterID string, objs []*unstructured.Unstructured) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.listed == nil {
		h.listed = map[string][]*unstructured.Unstructured{}
	}
	h.listed[clusterID] = objs
}

// appliedBy reports whether u carries the labels of Kustomization ns/name.
func appliedBy(u *unstructured.Unstructured, ns, name string) bool {
	l := u.GetLabels()
	return l[ksNameLabel] == name && l[ksNamespaceLabel] == ns
}

// appliesReleases reports whether Kustomization ns/name on a cluster applies
// a HelmRelease, as the cluster's HelmRelease informer holds them (else as
// its last relist read them).
func (w *Watcher) appliesReleases(clusterID, ns, name string) bool {
	var objs []any
	w.fleet.mu.Lock()
	if fc := w.fleet.clusters[clusterID]; fc != nil {
		if i := slices.Index(fleetGVRs, fluxobj.HelmReleaseGVR); i < len(fc.stores) {
			objs = fc.stores[i].List()
		}
	}
	w.fleet.mu.Unlock()
	if objs == nil {
		w.helm.mu.Lock()
		for _, u := range w.helm.listed[clusterID] {
			objs = append(objs, u)
		}
		w.helm.mu.Unlock()
	}
	for _, o := range objs {
		if u, ok := o.(*unstructured.Unstructured); ok && appliedBy(u, ns, name) {
			return true
		}
	}
	return false
}

// helmGated reports whether a Kustomization's deployments wait for
// helm-controller (correlate leaves them pending).
func (w *Watcher) helmGated(tx *store.Tx, r model.GitOpsResource) bool {
	e, err := store.Environments.Get(tx, r.EnvironmentID)
	return err == nil && w.appliesReleases(e.ClusterID, r.Namespace, r.Name)
}

// helmVerdict is what helm-controller says of a deployment's releases:
// Status is pending (undecided), success or failed; Detail names the
// release and chart (success) or carries helm-controller's message (failed).
type helmVerdict struct {
	Status string
	Detail string
}

// releaseVerdict judges HelmReleases (as slim keeps them, read after the
// Kustomization applied the commit): failed when one reports a terminal
// failure of its generation (Stalled, or Ready=False with a terminal
// reason, the condition observed at the object's generation); success when
// every one is Ready for its generation (status.observedGeneration and the
// Ready condition's at least metadata.generation) with its newest release
// deployed; pending otherwise.
func releaseVerdict(hrs []*unstructured.Unstructured) helmVerdict {
	var done []string
	for _, u := range hrs {
		id := "HelmRelease " + u.GetNamespace() + "/" + u.GetName()
		gen := u.GetGeneration()
		conds := rawConditions(u)
		if c := conds[meta.StalledCondition]; c.status == "True" && c.gen >= gen {
			return helmVerdict{Status: model.DeployFailed, Detail: id + ": " + model.CleanText(c.message)}
		}
		ready := conds[meta.ReadyCondition]
		if ready.status == "False" && ready.gen >= gen && slices.Contains(terminalHelmReasons, ready.reason) {
			return helmVerdict{Status: model.DeployFailed, Detail: fmt.Sprintf("%s: %s: %s", id, ready.reason, model.CleanText(ready.message))}
		}
		og, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		last := latestRelease(u)
		if ready.status != "True" || ready.gen < gen || og < gen || last["status"] != "deployed" {
			return helmVerdict{Status: model.DeployPending}
		}
		done = append(done, fmt.Sprintf("%s: release %v chart %v@%v", id, last["version"], last["chartName"], last["chartVersion"]))
	}
	if len(done) == 0 {
		return helmVerdict{Status: model.DeployPending}
	}
	return helmVerdict{Status: model.DeploySuccess, Detail: strings.Join(done, "; ")}
}

// rawCondition is a status condition with the generation it was observed at.
type rawCondition struct {
	status, reason, message string
	gen                     int64
}

func rawConditions(u *unstructured.Unstructured) map[string]rawCondition {
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	out := map[string]rawCondition{}
	for _, c := range raw {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		s := func(k string) string { v, _ := m[k].(string); return v }
		g, _, _ := unstructured.NestedInt64(m, "observedGeneration")
		out[s("type")] = rawCondition{status: s("status"), reason: s("reason"), message: s("message"), gen: g}
	}
	return out
}

// latestRelease is status.history[0], the newest release snapshot.
func latestRelease(u *unstructured.Unstructured) map[string]any {
	h, _, _ := unstructured.NestedSlice(u.Object, "status", "history")
	if len(h) == 0 {
		return nil
	}
	m, _ := h[0].(map[string]any)
	return m
}

// waitingForHelm returns the pending deployments of the commit a Ready
// Kustomization applied: those correlate left to helm-controller (it
// completes every other one).
func (w *Watcher) waitingForHelm(r model.GitOpsResource) (string, []model.Deployment, error) {
	sha := fluxobj.RevisionSHA(r.LastAppliedRevision)
	if r.Type != model.ResourceKustomization || r.Status != model.StatusReady || sha == "" {
		return "", nil, nil
	}
	var clusterID string
	var ds []model.Deployment
	err := w.db.View(func(tx *store.Tx) error {
		e, err := store.Environments.Get(tx, r.EnvironmentID)
		if err != nil {
			return err
		}
		clusterID = e.ClusterID
		ds, _, err = store.Deployments.List(tx, store.Query[model.Deployment]{Index: "commit", Value: sha,
			Filter: func(d model.Deployment) bool {
				return d.EnvironmentID == r.EnvironmentID && d.Status == model.DeployPending
			}})
		return err
	})
	return clusterID, ds, err
}

// followHelm completes the deployments a Kustomization's HelmReleases hold
// pending, from a live read of those HelmReleases (see the top of the file).
func (w *Watcher) followHelm(r model.GitOpsResource) {
	clusterID, waiting, err := w.waitingForHelm(r)
	if err != nil || len(waiting) == 0 {
		return
	}
	hrs, err := w.readReleases(clusterID, r.Namespace, r.Name)
	if err != nil {
		w.log.Warn("read the HelmReleases of a deployment", "kustomization", r.Namespace+"/"+r.Name, "err", err)
		return
	}
	v := releaseVerdict(hrs)
	if v.Status == model.DeployPending {
		return
	}
	var out []model.Deployment
	err = w.db.Update(func(tx *store.Tx) error {
		out = out[:0]
		now := w.now()
		for _, x := range waiting {
			d, err := store.Deployments.Get(tx, x.ID)
			if err != nil || d.Status != model.DeployPending {
				continue
			}
			d.Status, d.UpdatedAt, d.CompletedAt, d.ErrorMessage = v.Status, now, &now, ""
			d.GitOpsResourceID = cmp.Or(d.GitOpsResourceID, r.ID)
			d.Mark(model.StageApplied, now, "Kustomization "+r.Namespace+"/"+r.Name)
			if v.Status == model.DeploySuccess {
				d.Mark(model.StageHealthy, now, v.Detail)
			} else {
				d.ErrorMessage = v.Detail
				d.Mark(model.StageFailed, now, v.Detail)
			}
			if err := store.Deployments.Put(tx, d); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		w.log.Error("record helm-controller's verdict", "kustomization", r.Namespace+"/"+r.Name, "err", err)
		return
	}
	for i := range out {
		w.hub.Publish(api.StatusEvent{Resource: r, Deployment: &out[i]})
	}
}

// readReleases lists, live, the HelmReleases Kustomization ns/name applied
// on a cluster, slimmed.
func (w *Watcher) readReleases(clusterID, ns, name string) ([]*unstructured.Unstructured, error) {
	k, _, err := w.kube.For(clusterID)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	parent := w.ctx
	w.mu.Unlock()
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, kube.ProbeTimeout)
	defer cancel()
	l, err := k.Dyn.Resource(fluxobj.HelmReleaseGVR).List(ctx, metav1.ListOptions{LabelSelector: ksNameLabel + "=" + name + "," + ksNamespaceLabel + "=" + ns})
	if err != nil {
		return nil, kube.Error(err, "list the HelmReleases of Kustomization "+ns+"/"+name)
	}
	return slimAll(l.Items), nil
}

func slimAll(items []unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, 0, len(items))
	for i := range items {
		s, _ := slim(&items[i])
		out = append(out, s.(*unstructured.Unstructured))
	}
	return out
}

// listReleases records, for correlate, the HelmReleases Kustomizations
// applied on a cluster (a relist, without informers).
func (w *Watcher) listReleases(ctx context.Context, clusterID string, k kube.Kube) {
	l, err := k.Dyn.Resource(fluxobj.HelmReleaseGVR).List(ctx, metav1.ListOptions{LabelSelector: ksNameLabel})
	if err != nil {
		w.helm.setListed(clusterID, nil)
		return
	}
	w.helm.setListed(clusterID, slimAll(l.Items))
}

// helmHandler follows, on a HelmRelease's events, the deployments of the
// Kustomization that applied it.
func (w *Watcher) helmHandler(clusterID string) cache.ResourceEventHandlerFuncs {
	observe := func(obj any) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok || u.GetLabels()[ksNameLabel] == "" {
			return
		}
		if r, ok := w.kustomizationOf(clusterID, u); ok {
			w.followHelm(r)
		}
	}
	return cache.ResourceEventHandlerFuncs{AddFunc: observe, UpdateFunc: func(_, obj any) { observe(obj) }}
}

// kustomizationOf finds the stored Kustomization that applied u.
func (w *Watcher) kustomizationOf(clusterID string, u *unstructured.Unstructured) (model.GitOpsResource, bool) {
	l := u.GetLabels()
	var found []model.GitOpsResource
	_ = w.db.View(func(tx *store.Tx) error {
		var err error
		found, _, err = store.Resources.List(tx, store.Query[model.GitOpsResource]{Index: "type", Value: model.ResourceKustomization,
			Filter: func(r model.GitOpsResource) bool {
				if r.Name != l[ksNameLabel] || r.Namespace != l[ksNamespaceLabel] {
					return false
				}
				e, err := store.Environments.Get(tx, r.EnvironmentID)
				return err == nil && e.ClusterID == clusterID
			}})
		return err
	})
	if len(found) == 0 {
		return model.GitOpsResource{}, false
	}
	return found[0], true
}

// prepareHelm, before Record stores a Kustomization of a cluster without a
// running watcher, reads the cluster's HelmReleases for correlate.
func (w *Watcher) prepareHelm(id string) {
	r, err := store.Resources.Read(w.db, id)
	if err != nil || r.Type != model.ResourceKustomization {
		return
	}
	e, err := store.Environments.Read(w.db, r.EnvironmentID)
	if err != nil {
		return
	}
	w.fleet.mu.Lock()
	informed := w.fleet.clusters[e.ClusterID] != nil
	w.fleet.mu.Unlock()
	if informed {
		return
	}
	k, _, err := w.kube.For(e.ClusterID)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), kube.ProbeTimeout)
	defer cancel()
	w.listReleases(ctx, e.ClusterID, k)
}
