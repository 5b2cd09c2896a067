package watch

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxobj"
	"github.com/gitopstui/gitopstui/store"
)

// The commit tracer: every deployment with a commit carries a timeline of the
// stages the commit reached (model.TimelineStages). The deploy records
// committed, pushed and requested (Trace); the watcher adds fetched when a
// GitRepository's artifact is the commit, and applied, healthy or failed from
// the Kustomization, as it correlates revisions with deployments; on an
// environment whose Kustomization applies HelmReleases, healthy or failed
// come from helm-controller instead (helmfollow.go).

// maxSightings bounds the commits remembered per cluster as fetched by a
// source: enough for every environment's recent heads.
const maxSightings = 256

// sightings remembers, per cluster, when a GitRepository first had a commit
// as its artifact, so a deployment recorded later (gitops-git, made when the
// Kustomization applies the commit) starts its timeline from that moment.
type sightings struct {
	mu   sync.Mutex
	seen map[string]map[string]sighting // cluster -> commit -> when and where
}

type sighting struct {
	at     time.Time
	source string
}

// note records the first sighting of commit on a cluster and returns it.
func (s *sightings) note(clusterID, commit, source string, at time.Time) sighting {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]map[string]sighting{}
	}
	m := s.seen[clusterID]
	if m == nil {
		m = map[string]sighting{}
		s.seen[clusterID] = m
	}
	if old, ok := m[commit]; ok {
		return old
	}
	if len(m) >= maxSightings {
		oldest := ""
		for c, x := range m {
			if oldest == "" || x.at.Before(m[oldest].at) {
				oldest = c
			}
		}
		delete(m, oldest)
	}
	m[commit] = sighting{at: at, source: source}
	return m[commit]
}

// lookup returns the first sighting of commit on a cluster.
func (s *sightings) lookup(clusterID, commit string) (sighting, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.seen[clusterID][commit]
	return x, ok
}

// forget drops a cluster's sightings (its watcher stopped).
func (s *sightings) forget(clusterID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.seen, clusterID)
}

// Trace adds stages to a deployment's timeline (stages already recorded
// keep their first time) and publishes the deployment when it changed.
func (w *Watcher) Trace(depID string, stages ...model.TimelineStage) (model.Deployment, error) {
	var d model.Deployment
	changed := false
	err := w.db.Update(func(tx *store.Tx) error {
		var err error
		if d, err = store.Deployments.Get(tx, depID); err != nil {
			return err
		}
		for _, s := range stages {
			if d.Mark(s.Stage, s.At, s.Detail) {
				changed = true
			}
		}
		if !changed {
			return nil
		}
		d.UpdatedAt = w.now()
		return store.Deployments.Put(tx, d)
	})
	if err == nil && changed {
		w.hub.Publish(api.StatusEvent{Deployment: &d})
	}
	return d, err
}

// watchSources observes a cluster's GitRepository informer: an artifact
// revision is the fetched stage of a commit.
func (w *Watcher) watchSources(inf cache.SharedIndexInformer, clusterID string) error {
	observe := func(obj any) {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			w.observeSource(clusterID, u)
		}
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: observe, UpdateFunc: func(_, obj any) { observe(obj) }})
	return err
}

// observeSource records the fetched stage of the pending deployments of the
// commit a GitRepository's artifact now holds, on environments of its cluster.
func (w *Watcher) observeSource(clusterID string, u *unstructured.Unstructured) {
	rev, _, _ := unstructured.NestedString(u.Object, "status", "artifact", "revision")
	sha := fluxobj.RevisionSHA(rev)
	if sha == "" {
		return
	}
	x := w.sightings.note(clusterID, sha, "GitRepository "+u.GetNamespace()+"/"+u.GetName(), w.now())
	q := store.Query[model.Deployment]{Index: "commit", Value: sha,
		Filter: func(d model.Deployment) bool { return len(d.Timeline) > 0 && d.Stage(model.StageFetched) == nil }}
	var waiting []model.Deployment
	if err := w.db.View(func(tx *store.Tx) error {
		var err error
		waiting, _, err = store.Deployments.List(tx, q)
		return err
	}); err != nil {
		w.log.Error("read deployments of a fetched commit", "cluster", clusterID, "commit", sha, "err", err)
		return
	}
	if len(waiting) == 0 {
		return // no write (and no sync to disk) for a commit nobody waits for
	}
	var out []model.Deployment
	err := w.db.Update(func(tx *store.Tx) error {
		out = out[:0]
		ds, _, err := store.Deployments.List(tx, q)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if e, err := store.Environments.Get(tx, d.EnvironmentID); err != nil || e.ClusterID != clusterID {
				continue
			}
			d.Mark(model.StageFetched, x.at, x.source)
			d.UpdatedAt = w.now()
			if err := store.Deployments.Put(tx, d); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		w.log.Error("record fetched commit", "cluster", clusterID, "commit", sha, "err", err)
		return
	}
	for i := range out {
		w.hub.Publish(api.StatusEvent{Deployment: &out[i]})
	}
}

// trace brings the timelines of the deployments of a Kustomization's
// attempted and applied commits up to date, after correlate (whose changed
// deployments are deps) settled their status; it returns every deployment
// changed, deps included, at its latest. Only deployments that already have
// a timeline, or that correlate just recorded or completed, are traced: an
// old deployment is not given stages it passed long ago.
func (w *Watcher) trace(tx *store.Tx, r model.GitOpsResource, o observedRevs, deps []model.Deployment) ([]model.Deployment, error) {
	shas := []string{fluxobj.RevisionSHA(r.LastAttemptedRevision), fluxobj.RevisionSHA(r.LastAppliedRevision)}
	if shas[0] == shas[1] {
		shas = shas[:1]
	}
	clusterID := ""
	if e, err := store.Environments.Get(tx, r.EnvironmentID); err == nil {
		clusterID = e.ClusterID
	}
	now := w.now()
	for _, sha := range shas {
		if sha == "" {
			continue
		}
		ds, _, err := store.Deployments.List(tx, store.Query[model.Deployment]{Index: "commit", Value: sha,
			Filter: func(d model.Deployment) bool {
				return d.EnvironmentID == r.EnvironmentID &&
					(len(d.Timeline) > 0 || slices.ContainsFunc(deps, func(x model.Deployment) bool { return x.ID == d.ID }))
			}})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if !w.stamp(&d, r, o, sha, clusterID, now) {
				continue
			}
			d.UpdatedAt = now
			if err := store.Deployments.Put(tx, d); err != nil {
				return nil, err
			}
			deps = upsert(deps, d)
		}
	}
	return deps, nil
}

// observedRevs is what trace needs of an observation beyond the stored resource.
type observedRevs struct {
	healthReason string // the Ready condition's reason when False
	checking     string // the revision whose health checks are running
}

// observedOf reads the Ready condition and the running health checks.
func observedOf(o fluxobj.Observed) observedRevs {
	var x observedRevs
	if c := fluxobj.FindCondition(o.Conditions, meta.ReadyCondition); c != nil && c.Status == "False" {
		x.healthReason = c.Reason
	}
	if c := fluxobj.FindCondition(o.Conditions, meta.ReconcilingCondition); c != nil && c.Status == "True" &&
		strings.HasPrefix(c.Message, "Running health checks for revision ") {
		x.checking = strings.Fields(strings.TrimPrefix(c.Message, "Running health checks for revision "))[0]
	}
	return x
}

// stamp marks what the resource says of commit sha on d: the source fetched
// it once the Kustomization attempted it; it was applied once it is the
// applied revision, its health checks run or fail; the deployment's outcome
// is healthy or failed.
func (w *Watcher) stamp(d *model.Deployment, r model.GitOpsResource, o observedRevs, sha, clusterID string, now time.Time) bool {
	attempted := fluxobj.RevisionSHA(r.LastAttemptedRevision)
	applied := fluxobj.RevisionSHA(r.LastAppliedRevision)
	ks := "Kustomization " + r.Namespace + "/" + r.Name
	changed := false
	if attempted == sha || applied == sha {
		x, ok := w.sightings.lookup(clusterID, sha)
		if !ok {
			x = sighting{at: now, source: "source of " + ks}
		}
		changed = d.Mark(model.StageFetched, x.at, x.source) || changed
	}
	wasApplied := applied == sha || (attempted == sha && (fluxobj.RevisionSHA(o.checking) == sha || o.healthReason == meta.HealthCheckFailedReason))
	if wasApplied || d.Status == model.DeploySuccess {
		changed = d.Mark(model.StageApplied, now, ks) || changed
	}
	switch d.Status {
	case model.DeploySuccess:
		changed = d.Mark(model.StageHealthy, now, ks) || changed
	case model.DeployFailed:
		changed = d.Mark(model.StageFailed, now, d.ErrorMessage) || changed
	}
	return changed
}

// upsert replaces the deployment of d's id in ds, or appends d.
func upsert(ds []model.Deployment, d model.Deployment) []model.Deployment {
	for i := range ds {
		if ds[i].ID == d.ID {
			ds[i] = d
			return ds
		}
	}
	return append(ds, d)
}
