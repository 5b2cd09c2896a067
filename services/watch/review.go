package watch

import (
	"context"
	"sync"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/store"
)

// TreeFunc returns the hash of the tree at path in commit sha of
// repository repositoryID ("" when path is absent there). The deploy
// services provide it (they own the Git clones and their credentials).
type TreeFunc func(ctx context.Context, repositoryID, sha, path string) (string, error)

// treeTimeout bounds the Git reads of one review check.
const treeTimeout = 30 * time.Second

// reviews recognises merged reviews: a commit Flux applied that no
// deployment names, in an environment with pending reviews, is checked
// outside the store's transaction (it may need a fetch) for a tree at a
// review's path equal to the reviewed one.
type reviews struct {
	mu      sync.Mutex
	trees   TreeFunc
	queue   []reviewCheck
	settled map[reviewCheck]bool // checked in the running settle transaction
}

// reviewCheck is one applied or attempted commit to compare with reviews.
type reviewCheck struct {
	resourceID, repositoryID, environmentID, sha string
}

// SetTreeFunc lets the watcher recognise a review branch merged by any
// means (merge, squash, rebase): the deployment pushed for review becomes
// the deployment of the commit Flux applies whose tree at the
// environment's gitPath equals the reviewed commit's.
func (w *Watcher) SetTreeFunc(f TreeFunc) {
	w.reviews.mu.Lock()
	defer w.reviews.mu.Unlock()
	w.reviews.trees = f
}

// pendingReviews lists the environment's reviews not yet tied to an
// applied commit.
func pendingReviews(tx *store.Tx, envID string) ([]model.Deployment, error) {
	ds, _, err := store.Deployments.List(tx, store.Query[model.Deployment]{Index: "environment", Value: envID,
		Filter: func(d model.Deployment) bool {
			return d.Status == model.DeployPending && d.ReviewTree != "" && d.GitCommitSha == d.ReviewCommitSha
		}})
	return ds, err
}

// deferReview queues sha, a commit of resource r that no deployment names,
// for a review check when r's environment has pending reviews; it reports
// whether it did (the caller then records nothing for sha yet).
func (w *Watcher) deferReview(tx *store.Tx, r model.GitOpsResource, sha string) (bool, error) {
	c := reviewCheck{resourceID: r.ID, repositoryID: r.RepositoryID, environmentID: r.EnvironmentID, sha: sha}
	w.reviews.mu.Lock()
	skip := w.reviews.trees == nil || w.reviews.settled[c]
	w.reviews.mu.Unlock()
	if skip {
		return false, nil
	}
	ds, err := pendingReviews(tx, r.EnvironmentID)
	if err != nil || len(ds) == 0 {
		return false, err
	}
	w.reviews.mu.Lock()
	w.reviews.queue = append(w.reviews.queue, c)
	w.reviews.mu.Unlock()
	return true, nil
}

// settleReviews runs the queued review checks: each pending review whose
// tree matches the commit's becomes that commit's deployment, then the
// resource is correlated again (success or failure as Flux says; a commit
// no review matched is recorded as gitops-git).
func (w *Watcher) settleReviews() {
	w.reviews.mu.Lock()
	queue, trees := w.reviews.queue, w.reviews.trees
	w.reviews.queue = nil
	w.reviews.mu.Unlock()
	done := map[reviewCheck]bool{}
	for _, c := range queue {
		if done[c] {
			continue
		}
		done[c] = true
		if err := w.settleReview(c, trees); err != nil {
			w.log.Error("match applied commit with reviews", "resource", c.resourceID, "commit", c.sha, "err", err)
		}
	}
}

func (w *Watcher) settleReview(c reviewCheck, trees TreeFunc) error {
	var ds []model.Deployment
	if err := w.db.View(func(tx *store.Tx) error {
		var err error
		ds, err = pendingReviews(tx, c.environmentID)
		return err
	}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), treeTimeout)
	defer cancel()
	byPath := map[string]string{}
	var matched []string
	for _, d := range ds {
		tree, ok := byPath[d.ReviewPath]
		if !ok {
			var err error
			if tree, err = trees(ctx, c.repositoryID, c.sha, d.ReviewPath); err != nil {
				w.log.Warn("read the tree of an applied commit; recording it without matching reviews", "commit", c.sha, "err", err)
			}
			byPath[d.ReviewPath] = tree
		}
		if tree != "" && tree == d.ReviewTree {
			matched = append(matched, d.ID)
		}
	}
	var events []api.StatusEvent
	err := w.db.Update(func(tx *store.Tx) error {
		events = events[:0]
		url := ""
		if repo, err := store.Repositories.Get(tx, c.repositoryID); err == nil {
			url = gitx.CommitURL(repo.URL, c.sha)
		}
		for _, id := range matched {
			d, err := store.Deployments.Get(tx, id)
			if err != nil || d.Status != model.DeployPending || d.GitCommitSha != d.ReviewCommitSha {
				continue // gone or settled meanwhile
			}
			d.GitCommitSha, d.GitCommitURL, d.UpdatedAt = c.sha, url, w.now()
			if err := store.Deployments.Put(tx, d); err != nil {
				return err
			}
		}
		r, err := store.Resources.Get(tx, c.resourceID)
		if err != nil {
			return err
		}
		w.markSettled(c, true)
		defer w.markSettled(c, false)
		deps, err := w.correlate(tx, r)
		for i := range deps {
			events = append(events, api.StatusEvent{Resource: r, Deployment: &deps[i]})
		}
		return err
	})
	for _, e := range events {
		w.hub.Publish(e)
	}
	return err
}

func (w *Watcher) markSettled(c reviewCheck, on bool) {
	w.reviews.mu.Lock()
	defer w.reviews.mu.Unlock()
	if w.reviews.settled == nil {
		w.reviews.settled = map[reviewCheck]bool{}
	}
	if on {
		w.reviews.settled[c] = true
	} else {
		delete(w.reviews.settled, c)
	}
}
