package services

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/store"
)

// hub fans status events out to subscribers without ever blocking the
// publisher: a subscriber that falls behind loses the oldest events.
type hub struct {
	mu   sync.Mutex
	subs map[chan api.StatusEvent]struct{}
}

func newHub() *hub { return &hub{subs: map[chan api.StatusEvent]struct{}{}} }

func (h *hub) publish(e api.StatusEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
			select {
			case <-ch:
			default:
			}
			select {
			case ch <- e:
			default:
			}
		}
	}
}

// Subscribe returns a channel of status events until ctx ends.
func (s *Services) Subscribe(ctx context.Context) <-chan api.StatusEvent {
	ch := make(chan api.StatusEvent, 256)
	s.hub.mu.Lock()
	s.hub.subs[ch] = struct{}{}
	s.hub.mu.Unlock()
	go func() {
		<-ctx.Done()
		s.hub.mu.Lock()
		delete(s.hub.subs, ch)
		s.hub.mu.Unlock()
		close(ch)
	}()
	return ch
}

// recordObserved stores what the cluster said of a resource and correlates
// its applied revision with deployments. It reports whether anything changed.
func (s *Services) recordObserved(id string, o Observed) (model.GitOpsResource, bool, error) {
	var r model.GitOpsResource
	var changed bool
	var deps []model.Deployment
	err := s.db.Update(func(tx *store.Tx) error {
		var err error
		r, changed, deps, err = s.recordObservedTx(tx, id, o)
		return err
	})
	for i := range deps {
		s.hub.publish(api.StatusEvent{Resource: r, Deployment: &deps[i]})
	}
	return r, changed, err
}

// recordObservedTx is recordObserved inside a transaction; the caller
// publishes the deployments it returns once the transaction committed.
func (s *Services) recordObservedTx(tx *store.Tx, id string, o Observed) (model.GitOpsResource, bool, []model.Deployment, error) {
	r, err := store.Resources.Get(tx, id)
	if err != nil || r.DeletedAt != nil {
		return r, false, nil, err
	}
	changed := r.Status != o.Status || r.Suspended != o.Suspended || r.LastAppliedRevision != o.LastAppliedRevision ||
		r.LastAttemptedRevision != o.LastAttemptedRevision || r.ErrorMessage != o.ErrorMessage
	r.Status, r.Suspended, r.ErrorMessage = o.Status, o.Suspended, o.ErrorMessage
	r.LastAppliedRevision, r.LastAttemptedRevision = o.LastAppliedRevision, o.LastAttemptedRevision
	at := o.ObservedAt
	r.ObservedAt = &at
	if changed {
		r.UpdatedAt = s.now()
	}
	if err := store.Resources.Put(tx, r); err != nil {
		return r, changed, nil, err
	}
	var deps []model.Deployment
	if r.Type == model.ResourceKustomization {
		deps, err = s.correlate(tx, r)
	}
	return r, changed, deps, err
}

// correlate turns a Kustomization's revisions into deployment history: the
// commit of a pending gitops-ui deployment completes it (success, or failed
// with Flux's message); an applied commit nobody recorded becomes a
// gitops-git deployment. The commit index makes this idempotent across relists.
func (s *Services) correlate(tx *store.Tx, r model.GitOpsResource) ([]model.Deployment, error) {
	var out []model.Deployment
	now := s.now()
	byCommit := func(sha string) ([]model.Deployment, error) {
		if sha == "" {
			return nil, nil
		}
		ds, _, err := store.Deployments.List(tx, store.Query[model.Deployment]{Index: "commit", Value: sha,
			Filter: func(d model.Deployment) bool { return d.EnvironmentID == r.EnvironmentID }})
		return ds, err
	}
	applied := revisionSHA(r.LastAppliedRevision)
	attempted := revisionSHA(r.LastAttemptedRevision)
	if applied != "" && (r.Status == model.StatusReady || r.Status == model.StatusSuspended || attempted == applied) {
		ds, err := byCommit(applied)
		if err != nil {
			return nil, err
		}
		if len(ds) == 0 {
			d := model.Deployment{ID: newID("dep"), ProjectID: r.ProjectID, EnvironmentID: r.EnvironmentID,
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
			if d.Status == model.DeployPending && r.Status == model.StatusReady {
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
func (s *Services) observeObject(u *unstructured.Unstructured) {
	id := u.GetLabels()[labelResourceID]
	if id == "" {
		return
	}
	r, changed, err := s.recordObserved(id, observe(u, s.now()))
	if err == nil && changed {
		s.hub.publish(api.StatusEvent{Resource: r})
	}
}

// refreshResources brings the stored status of a project's or environment's
// resources up to date from their clusters, unless a watcher already does.
// Clusters that do not answer within the probe timeout are skipped.
func (s *Services) refreshResources(ctx context.Context, projectID, envID string) error {
	clusters := map[string]bool{}
	err := s.db.View(func(tx *store.Tx) error {
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
		if s.watching(cid) {
			continue
		}
		// Best effort: an unreachable cluster leaves the stored status as
		// it is, so history and lists stay readable while a cluster is down.
		rctx, cancel := context.WithTimeout(ctx, probeTimeout)
		_ = s.relist(rctx, cid)
		cancel()
	}
	return nil
}

// refreshDeployments updates pending deployments from the cluster before a
// short-lived caller reads them.
func (s *Services) refreshDeployments(ctx context.Context, envID, projectID string) error {
	pending := false
	err := s.db.View(func(tx *store.Tx) error {
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
	return s.refreshResources(ctx, projectID, envID)
}

// relist reads every managed Flux object of a cluster once and records them
// all in one transaction (one fsync, however many objects).
func (s *Services) relist(ctx context.Context, clusterID string) error {
	k, _, err := s.kubeFor(clusterID)
	if err != nil {
		return err
	}
	type seen struct {
		id string
		o  Observed
	}
	var all []seen
	for _, gvr := range []schema.GroupVersionResource{kustomizationGVR, helmReleaseGVR} {
		l, err := k.dyn.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: managedSelector})
		if err != nil {
			e := kubeError(err, fmt.Sprintf("list %s on cluster %s", gvr.Resource, clusterID))
			if model.CodeOf(e) == model.CodeNotFound {
				continue // Flux not installed: nothing to read
			}
			return e
		}
		now := s.now()
		for i := range l.Items {
			if id := l.Items[i].GetLabels()[labelResourceID]; id != "" {
				all = append(all, seen{id: id, o: observe(&l.Items[i], now)})
			}
		}
	}
	var events []api.StatusEvent
	err = s.db.Update(func(tx *store.Tx) error {
		events = events[:0]
		for _, x := range all {
			r, changed, deps, err := s.recordObservedTx(tx, x.id, x.o)
			if model.CodeOf(err) == model.CodeNotFound {
				continue // an object of another gitopstui store
			}
			if err != nil {
				return err
			}
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
		s.hub.publish(e)
	}
	return err
}

// watchers tracks the running per-cluster informers.
type watchers struct {
	mu      sync.Mutex
	running map[string]context.CancelFunc
	synced  map[string]bool
}

func (s *Services) watching(clusterID string) bool {
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	return s.watch.synced[clusterID]
}

// StartWatchers starts one informer-based status watcher per registered
// cluster (and for clusters registered later, through WatchCluster) until
// ctx ends. Long-running processes (the TUI, serve) call it once.
func (s *Services) StartWatchers(ctx context.Context) error {
	var clusters []model.Cluster
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		clusters, _, err = store.Clusters.List(tx, store.Query[model.Cluster]{})
		return err
	})
	if err != nil {
		return err
	}
	s.watch.mu.Lock()
	s.watchCtx = ctx
	s.watch.mu.Unlock()
	for _, c := range clusters {
		s.WatchCluster(c.ID)
	}
	return nil
}

// WatchCluster starts the watcher of one cluster if watchers run and it has none.
func (s *Services) WatchCluster(clusterID string) {
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	if s.watchCtx == nil || s.watch.running[clusterID] != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.watchCtx)
	s.watch.running[clusterID] = cancel
	go s.runWatcher(ctx, clusterID)
}

func (s *Services) stopWatcher(clusterID string) {
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	if cancel := s.watch.running[clusterID]; cancel != nil {
		cancel()
		delete(s.watch.running, clusterID)
		delete(s.watch.synced, clusterID)
	}
}

// runWatcher feeds managed Kustomizations and HelmReleases of one cluster
// through shared informers. The reflectors relist and rewatch on their own
// when the API server goes away and comes back; correlation is idempotent, so
// a relist records nothing twice.
func (s *Services) runWatcher(ctx context.Context, clusterID string) {
	k, _, err := s.kubeFor(clusterID)
	if err != nil {
		return
	}
	f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(k.dyn, 10*time.Minute, metav1.NamespaceAll,
		func(o *metav1.ListOptions) { o.LabelSelector = managedSelector })
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.observeAny(obj) },
		UpdateFunc: func(_, obj any) { s.observeAny(obj) },
	}
	var syncs []cache.InformerSynced
	for _, gvr := range []schema.GroupVersionResource{kustomizationGVR, helmReleaseGVR} {
		inf := f.ForResource(gvr).Informer()
		_, _ = inf.AddEventHandler(handler)
		syncs = append(syncs, inf.HasSynced)
	}
	f.Start(ctx.Done())
	if cache.WaitForCacheSync(ctx.Done(), syncs...) {
		s.watch.mu.Lock()
		if s.watch.running[clusterID] != nil {
			s.watch.synced[clusterID] = true
		}
		s.watch.mu.Unlock()
	}
	<-ctx.Done()
	f.Shutdown()
}

func (s *Services) observeAny(obj any) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		s.observeObject(u)
	}
}
