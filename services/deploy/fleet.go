package deploy

import (
	"cmp"
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/catalog"
	"github.com/gitopstui/gitopstui/services/fluxobj"
	"github.com/gitopstui/gitopstui/services/watch"
	"github.com/gitopstui/gitopstui/store"
)

// skewGitWait bounds the Git reads of one repository's revision skew.
const skewGitWait = 5 * time.Second

// skewWalkLimit bounds how far back a revision is looked for on its branch.
const skewWalkLimit = 1000

// listFleet implements gitops.listFleet: every Kustomization and
// HelmRelease of every registered cluster (from the running informers, else
// read once from every cluster at the same time), filtered, with each
// cluster's reachability and, for each repository, branch and path the
// Kustomizations apply, the revision each runs and how many commits it is
// behind the branch head (read from Git for the catalog's repositories).
func (s *Deploy) listFleet(ctx context.Context, in api.FleetInput) (api.FleetResult, error) {
	snap, err := s.gitops.Fleet(ctx)
	if err != nil {
		return api.FleetResult{}, err
	}
	out := api.FleetResult{Clusters: []api.FleetCluster{}, Resources: []api.FleetItem{}, Skew: []api.Skew{}}
	for _, c := range snap.Clusters {
		if in.ClusterID == "" || c.ID == in.ClusterID {
			out.Clusters = append(out.Clusters, c)
		}
	}
	if in.ClusterID != "" && len(out.Clusters) == 0 {
		return api.FleetResult{}, catalog.RefErr("clusterId", "cluster", in.ClusterID)
	}
	var scoped []api.FleetItem
	for _, it := range snap.Items {
		if (in.ClusterID == "" || it.ClusterID == in.ClusterID) && (in.ProjectID == "" || it.ProjectID == in.ProjectID) &&
			(in.EnvironmentID == "" || it.EnvironmentID == in.EnvironmentID) && (in.Type == "" || it.Type == string(in.Type)) {
			scoped = append(scoped, it)
		}
	}
	for _, it := range scoped {
		if (in.Status == "" || it.Status == in.Status) && (!in.NotReady || it.Status != model.StatusReady) {
			out.Resources = append(out.Resources, it)
		}
	}
	out.Skew = s.skew(ctx, scoped, snap.Sources)
	return out, nil
}

// skewKey is one repository, branch and path.
type skewKey struct{ url, branch, path string }

// skew groups the Kustomizations by the repository, branch and path they
// apply and tells, per group, which revision each runs against the head.
func (s *Deploy) skew(ctx context.Context, items []api.FleetItem, sources []watch.Source) []api.Skew {
	src := map[string]watch.Source{}
	for _, x := range sources {
		src[x.ClusterID+"/GitRepository/"+x.Namespace+"/"+x.Name] = x
	}
	groups := map[skewKey]*api.Skew{}
	for _, it := range items {
		x, ok := src[it.ClusterID+"/"+it.Source]
		if it.Type != model.ResourceKustomization || !ok {
			continue
		}
		k := skewKey{url: x.URL, branch: x.Branch, path: strings.TrimPrefix(cmp.Or(strings.TrimPrefix(it.Path, "./"), "."), "/")}
		g := groups[k]
		if g == nil {
			g = &api.Skew{URL: k.url, Branch: k.branch, Path: k.path, Runs: []api.SkewRun{}}
			groups[k] = g
		}
		g.Runs = append(g.Runs, api.SkewRun{ClusterID: it.ClusterID, EnvironmentID: it.EnvironmentID, Resource: it.Namespace + "/" + it.Name,
			Revision: fluxobj.RevisionSHA(it.Revision), Behind: -1})
		if g.Head == "" {
			g.Head = fluxobj.RevisionSHA(x.Revision) // Flux's head until Git says
		}
	}
	// One fetch and one history walk per repository branch, for all its paths.
	type branchKey struct{ url, branch string }
	byBranch := map[branchKey][]*api.Skew{}
	for k, g := range groups {
		bk := branchKey{k.url, k.branch}
		byBranch[bk] = append(byBranch[bk], g)
	}
	repos := s.catalogRepos()
	var wg sync.WaitGroup
	for bk, gs := range byBranch {
		wg.Go(func() { s.behind(ctx, repos[bk.url], bk.branch, gs) })
	}
	wg.Wait()
	out := make([]api.Skew, 0, len(groups))
	for _, g := range groups {
		for _, r := range g.Runs {
			g.Skewed = g.Skewed || r.Revision != g.Runs[0].Revision
		}
		sort.Slice(g.Runs, func(i, j int) bool {
			return g.Runs[i].ClusterID+g.Runs[i].Resource < g.Runs[j].ClusterID+g.Runs[j].Resource
		})
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].URL+out[i].Branch+out[i].Path < out[j].URL+out[j].Branch+out[j].Path
	})
	return out
}

// catalogRepos maps the URLs of the catalog's repositories to them.
func (s *Deploy) catalogRepos() map[string]model.Repository {
	out := map[string]model.Repository{}
	_ = s.db.View(func(tx *store.Tx) error {
		rs, _, err := store.Repositories.List(tx, store.Query[model.Repository]{})
		for _, r := range rs {
			out[r.URL] = r
		}
		return err
	})
	return out
}

// behind sets the head of branch in each of gs (the paths of one
// repository branch) and each run's distance from it: from Git for a
// catalog repository (within skewGitWait), else only whether a run is at
// Flux's head.
func (s *Deploy) behind(ctx context.Context, repo model.Repository, branch string, gs []*api.Skew) {
	dists := s.gitBehind(ctx, repo, branch, gs)
	for _, g := range gs {
		for i, r := range g.Runs {
			n, ok := dists[r.Revision]
			switch {
			case ok:
				g.Runs[i].Behind = n
			case r.Revision != "" && r.Revision == g.Head:
				g.Runs[i].Behind = 0
			default:
				g.Runs[i].Behind = -1
			}
		}
	}
}

// gitBehind reads every run's distance from branch's head in Git, setting
// the head in gs; nil when Git cannot answer.
func (s *Deploy) gitBehind(ctx context.Context, repo model.Repository, branch string, gs []*api.Skew) map[string]int {
	if repo.ID == "" || branch == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, skewGitWait)
	defer cancel()
	auth, err := s.gitAuth(ctx, repo)
	if err != nil {
		return nil
	}
	gr, err := s.git.Repo(repo.ID, repo.URL, auth)
	if err != nil {
		return nil
	}
	var revs []string
	for _, g := range gs {
		for _, r := range g.Runs {
			revs = append(revs, r.Revision)
		}
	}
	dists, head, err := gr.Behind(ctx, branch, revs, skewWalkLimit)
	if err != nil {
		return nil
	}
	if head != "" {
		for _, g := range gs {
			g.Head = head
		}
	}
	return dists
}
