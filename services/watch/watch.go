package watch

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxobj"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/internal/ident"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/store"
)

// Watcher keeps the stored status of managed Flux objects current: one
// informer per cluster in long-running processes (Start), a relist for
// short-lived callers (RefreshResources), and the correlation of applied
// revisions with deployments. It publishes what changed on its Hub.
type Watcher struct {
	log  *slog.Logger
	db   *store.DB
	now  func() time.Time
	kube *kube.Clients
	hub  *Hub

	mu      sync.Mutex
	ctx     context.Context // set by Start
	running map[string]context.CancelFunc
	synced  map[string]bool

	reviews   reviews    // merged reviews (review.go)
	sightings sightings  // commits the clusters' sources fetched (timeline.go)
	fleet     fleet      // the clusters' reachability and informer caches (fleet.go)
	helm      helmFollow // HelmReleases a relist read (helmfollow.go)
}

// New returns the watcher of the clusters in db; it starts nothing.
func New(db *store.DB, now func() time.Time, k *kube.Clients, hub *Hub, log *slog.Logger) *Watcher {
	return &Watcher{log: log, db: db, now: func() time.Time { return now().UTC() }, kube: k, hub: hub,
		running: map[string]context.CancelFunc{}, synced: map[string]bool{}}
}

// Hub is where the watcher publishes status events.
func (w *Watcher) Hub() *Hub { return w.hub }

// Record stores what the cluster said of a resource and correlates
// its applied revision with deployments. It reports whether anything changed.
func (w *Watcher) Record(id string, o fluxobj.Observed) (model.GitOpsResource, bool, error) {
	var r model.GitOpsResource
	var changed bool
	var deps []model.Deployment
	w.prepareHelm(id)
	err := w.db.Update(func(tx *store.Tx) error {
		var err error
		r, changed, deps, err = w.recordTx(tx, id, o)
		return err
	})
	for i := range deps {
		w.hub.Publish(api.StatusEvent{Resource: r, Deployment: &deps[i]})
	}
	if err == nil {
		w.followHelm(r)
	}
	w.settleReviews()
	return r, changed, err
}

// recordTx is Record inside a transaction; the caller
// publishes the deployments it returns once the transaction committed.
func (w *Watcher) recordTx(tx *store.Tx, id string, o fluxobj.Observed) (model.GitOpsResource, bool, []model.Deployment, error) {
	r, err := store.Resources.Get(tx, id)
	if err != nil || r.DeletedAt != nil {
		return r, false, nil, err
	}
	changed := r.Status != o.Status || r.Suspended != o.Suspended || r.LastAppliedRevision != o.LastAppliedRevision ||
		r.LastAttemptedRevision != o.LastAttemptedRevision || r.ErrorMessage != o.ErrorMessage
	changed = changed || r.Diagnosis != o.Class || r.SuspendReason != o.SuspendReason || r.SuspendedBy != o.SuspendedBy ||
		r.SuspendUntil != o.SuspendUntil
	r.Diagnosis, r.SuspendReason, r.SuspendedBy, r.SuspendUntil = o.Class, o.SuspendReason, o.SuspendedBy, o.SuspendUntil
	r.Status, r.Suspended, r.ErrorMessage = o.Status, o.Suspended, o.ErrorMessage
	r.LastAppliedRevision, r.LastAttemptedRevision = o.LastAppliedRevision, o.LastAttemptedRevision
	at := o.ObservedAt
	r.ObservedAt = &at
	if changed {
		r.UpdatedAt = w.now()
	}
	if err := store.Resources.Put(tx, r); err != nil {
		return r, changed, nil, err
	}
	var deps []model.Deployment
	if r.Type == model.ResourceKustomization {
		if deps, err = w.correlate(tx, r); err == nil {
			deps, err = w.trace(tx, r, observedOf(o), deps)
		}
	}
	return r, changed, deps, err
}

// correlate turns a Kustomization's revisions into deployment history: the
// commit of a pending gitops-ui deployment completes it (success, or failed
// with Flux's message); an applied commit nobody recorded becomes a
// gitops-git deployment. The commit index makes this idempotent across relists.
func (w *Watcher) correlate(tx *store.Tx, r model.GitOpsResource) ([]model.Deployment, error) {
	var out []model.Deployment
	now := w.now()
	byCommit := func(sha string) ([]model.Deployment, error) {
		if sha == "" {
			return nil, nil
		}
		ds, _, err := store.Deployments.List(tx, store.Query[model.Deployment]{Index: "commit", Value: sha,
			Filter: func(d model.Deployment) bool { return d.EnvironmentID == r.EnvironmentID }})
		return ds, err
	}
	applied := fluxobj.RevisionSHA(r.LastAppliedRevision)
	attempted := fluxobj.RevisionSHA(r.LastAttemptedRevision)
	helm := w.helmGated(tx, r) // helm-controller completes the deployments (helmfollow.go)
	if applied != "" && (r.Status == model.StatusReady || r.Status == model.StatusSuspended || attempted == applied) {
		ds, err := byCommit(applied)
		if err != nil {
			return nil, err
		}
		deferred := false
		if len(ds) == 0 {
			if deferred, err = w.deferReview(tx, r, applied); err != nil {
				return nil, err
			}
		}
		if len(ds) == 0 && !deferred {
			d := model.Deployment{ID: ident.New("dep"), ProjectID: r.ProjectID, EnvironmentID: r.EnvironmentID,
				DeploymentMethod: model.MethodGitOpsGit, Status: model.DeploySuccess, GitOpsResourceID: r.ID, GitCommitSha: applied,
				Message: "applied by Flux from Git (" + r.LastAppliedRevision + ")", DeployedBy: "flux", CreatedAt: now, UpdatedAt: now, CompletedAt: &now}
			if repo, err := store.Repositories.Get(tx, r.RepositoryID); err == nil {
				d.GitCommitURL = gitx.CommitURL(repo.URL, applied)
			}
			if err := store.Deployments.Put(tx, d); err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		for _, d := range ds {
			if d.Status == model.DeployPending && r.Status == model.StatusReady && !helm {
				d.Status, d.UpdatedAt, d.CompletedAt, d.ErrorMessage = model.DeploySuccess, now, &now, ""
				if d.GitOpsResourceID == "" {
					d.GitOpsResourceID = r.ID
				}
				if err := store.Deployments.Put(tx, d); err != nil {
					return nil, err
				}
				out = append(out, d)
			}
		}
	}
	if attempted != "" && attempted != applied && r.Status == model.StatusFailed {
		ds, err := byCommit(attempted)
		if err == nil && len(ds) == 0 {
			_, err = w.deferReview(tx, r, attempted)
		}
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.Status == model.DeployPending {
				d.Status, d.UpdatedAt, d.CompletedAt, d.ErrorMessage = model.DeployFailed, now, &now, r.ErrorMessage
				if d.GitOpsResourceID == "" {
					d.GitOpsResourceID = r.ID
				}
				if err := store.Deployments.Put(tx, d); err != nil {
					return nil, err
				}
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// observeObject records a watched or listed Flux object of a managed resource.
func (w *Watcher) observeObject(u *unstructured.Unstructured) {
	id := u.GetLabels()[fluxobj.LabelResourceID]
	if id == "" {
		return
	}
	r, changed, err := w.Record(id, fluxobj.Observe(u, w.now()))
	switch {
	case err != nil && model.CodeOf(err) != model.CodeNotFound: // NOT_FOUND: another store's object
		w.log.Error("record watched status", "resource", id, "object", u.GetNamespace()+"/"+u.GetName(), "err", err)
	case changed:
		w.hub.Publish(api.StatusEvent{Resource: r})
	}
}

// RefreshResources brings the stored status of a project's or environment's
// resources up to date from their clusters, unless a watcher already does.
// Clusters that do not answer within the probe timeout are skipped.
func (w *Watcher) RefreshResources(ctx context.Context, projectID, envID string) error {
	clusters := map[string]bool{}
	err := w.db.View(func(tx *store.Tx) error {
		q := store.Query[model.GitOpsResource]{Index: "live"}
		if envID != "" {
			q.Index, q.Value = "environment", envID
		} else if projectID != "" {
			q.Index, q.Value = "project", projectID
		}
		res, _, err := store.Resources.List(tx, q)
		for _, r := range res {
			if e, err := store.Environments.Get(tx, r.EnvironmentID); err == nil {
				clusters[e.ClusterID] = true
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	for cid := range clusters {
		if w.watching(cid) {
			continue
		}
		// Best effort: an unreachable cluster leaves the stored status as
		// it is, so history and lists stay readable while a cluster is down.
		rctx, cancel := context.WithTimeout(ctx, kube.ProbeTimeout)
		if err := w.relist(rctx, cid); err != nil {
			w.log.Warn("status refresh skipped a cluster", "cluster", cid, "err", err)
		}
		cancel()
	}
	return nil
}

// RefreshDeployments updates pending deployments from the cluster before a
// short-lived caller reads them.
func (w *Watcher) RefreshDeployments(ctx context.Context, envID, projectID string) error {
	pending := false
	err := w.db.View(func(tx *store.Tx) error {
		q := store.Query[model.Deployment]{Index: "method", Value: model.MethodGitOpsUI, Newest: true, Limit: 1,
			Filter: func(d model.Deployment) bool {
				return d.Status == model.DeployPending && (envID == "" || d.EnvironmentID == envID) && (projectID == "" || d.ProjectID == projectID)
			}}
		ds, _, err := store.Deployments.List(tx, q)
		pending = len(ds) > 0
		return err
	})
	if err != nil || !pending {
		return err
	}
	return w.RefreshResources(ctx, projectID, envID)
}

// relist reads every managed Flux object of a cluster once and records them
// all in one transaction (one fsync, however many objects).
func (w *Watcher) relist(ctx context.Context, clusterID string) error {
	k, _, err := w.kube.For(clusterID)
	if err != nil {
		return err
	}
	type seen struct {
		id string
		o  fluxobj.Observed
	}
	var all []seen
	w.listReleases(ctx, clusterID, k)
	for _, gvr := range []schema.GroupVersionResource{fluxobj.KustomizationGVR, fluxobj.HelmReleaseGVR} {
		l, err := k.Dyn.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: fluxobj.ManagedSelector})
		if err != nil {
			e := kube.Error(err, fmt.Sprintf("list %s on cluster %s", gvr.Resource, clusterID))
			if model.CodeOf(e) == model.CodeNotFound {
				continue // Flux not installed: nothing to read
			}
			return e
		}
		now := w.now()
		for i := range l.Items {
			if id := l.Items[i].GetLabels()[fluxobj.LabelResourceID]; id != "" {
				all = append(all, seen{id: id, o: fluxobj.Observe(&l.Items[i], now)})
			}
		}
	}
	var events []api.StatusEvent
	var recorded []model.GitOpsResource
	err = w.db.Update(func(tx *store.Tx) error {
		events, recorded = events[:0], recorded[:0]
		for _, x := range all {
			r, changed, deps, err := w.recordTx(tx, x.id, x.o)
			if model.CodeOf(err) == model.CodeNotFound {
				continue // an object of another gitopstui store
			}
			if err != nil {
				return err
			}
			recorded = append(recorded, r)
			if changed {
				events = append(events, api.StatusEvent{Resource: r})
			}
			for i := range deps {
				events = append(events, api.StatusEvent{Resource: r, Deployment: &deps[i]})
			}
		}
		return nil
	})
	for _, e := range events {
		w.hub.Publish(e)
	}
	for _, r := range recorded {
		w.followHelm(r)
	}
	w.settleReviews()
	return err
}

func (w *Watcher) watching(clusterID string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.synced[clusterID]
}

// Start starts one informer-based status watcher per registered
// cluster (and for clusters registered later, through WatchCluster) until
// ctx ends. Long-running processes (the TUI, serve) call it once.
func (w *Watcher) Start(ctx context.Context) error {
	var clusters []model.Cluster
	err := w.db.View(func(tx *store.Tx) error {
		var err error
		clusters, _, err = store.Clusters.List(tx, store.Query[model.Cluster]{})
		return err
	})
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.ctx = ctx
	w.mu.Unlock()
	for _, c := range clusters {
		w.WatchCluster(c.ID)
	}
	return nil
}

// WatchCluster starts the watcher of one cluster if watchers run and it has none.
func (w *Watcher) WatchCluster(clusterID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx == nil || w.running[clusterID] != nil {
		return
	}
	ctx, cancel := context.WithCancel(w.ctx)
	w.running[clusterID] = cancel
	go w.run(ctx, clusterID)
}

// StopCluster stops the watcher of one cluster (it was removed).
func (w *Watcher) StopCluster(clusterID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if cancel := w.running[clusterID]; cancel != nil {
		cancel()
		delete(w.running, clusterID)
		delete(w.synced, clusterID)
	}
	w.sightings.forget(clusterID)
}

// Backoff of a watcher that could not start: from the first to the last
// delay, doubling.
const (
	restartFirst = time.Second
	restartLast  = 2 * time.Minute
)

// run keeps the watcher of one cluster running until ctx ends: a start that
// fails (an unreadable kubeconfig, say) is logged and retried with backoff,
// so a cluster that comes back is watched again without a restart.
func (w *Watcher) run(ctx context.Context, clusterID string) {
	delay := restartFirst
	for {
		err := w.watchOnce(ctx, clusterID)
		if ctx.Err() != nil {
			return
		}
		w.log.Warn("status watcher stopped; restarting", "cluster", clusterID, "in", delay.String(), "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, restartLast)
	}
}

// watchOnce feeds the Kustomizations, HelmReleases and GitRepositories of
// one cluster through one shared informer set until ctx ends: managed ones
// update the store and the deployments (observeObject, observeSource), every
// one feeds the fleet (fleet.go). The reflectors relist and rewatch on their
// own when the API server goes away and comes back (their errors go to the
// log, not to the terminal); correlation is idempotent, so a relist records
// nothing twice.
func (w *Watcher) watchOnce(ctx context.Context, clusterID string) error {
	k, _, err := w.kube.For(clusterID)
	if err != nil {
		return err
	}
	f := dynamicinformer.NewDynamicSharedInformerFactory(k.Dyn, 10*time.Minute)
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.observeAny(obj) },
		UpdateFunc: func(_, obj any) { w.observeAny(obj) },
	}
	var syncs []cache.InformerSynced
	var stores []cache.Store
	for _, gvr := range fleetGVRs {
		inf := f.ForResource(gvr).Informer()
		_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
			w.log.Debug("watch error", "cluster", clusterID, "resource", gvr.Resource, "err", err)
		})
		if err := inf.SetTransform(slim); err != nil {
			return err
		}
		if gvr == fluxobj.GitRepositoryGVR {
			if err := w.watchSources(inf, clusterID); err != nil {
				return err
			}
		} else if _, err := inf.AddEventHandler(handler); err != nil {
			return err
		}
		if _, err := inf.AddEventHandler(w.fleetHandler(clusterID)); err != nil {
			return err
		}
		if gvr == fluxobj.HelmReleaseGVR {
			if _, err := inf.AddEventHandler(w.helmHandler(clusterID)); err != nil {
				return err
			}
		}
		syncs, stores = append(syncs, inf.HasSynced), append(stores, inf.GetStore())
	}
	w.fleetStart(clusterID, stores)
	defer w.fleetStop(clusterID)
	go w.probeLoop(ctx, clusterID, k)
	f.Start(ctx.Done())
	if cache.WaitForCacheSync(ctx.Done(), syncs...) {
		w.mu.Lock()
		if w.running[clusterID] != nil {
			w.synced[clusterID] = true
		}
		w.mu.Unlock()
		w.fleetSynced(clusterID)
	}
	<-ctx.Done()
	f.Shutdown()
	return ctx.Err()
}

func (w *Watcher) observeAny(obj any) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		w.observeObject(u)
	}
}
