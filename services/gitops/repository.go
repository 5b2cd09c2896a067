package gitops

import (
	"cmp"
	"context"
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/catalog"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/services/fluxobj"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/store"
)

// FluxName derives a stable, valid Kubernetes name (RFC 1123 label) from a
// repository's full name: lowercase, every other character a dash, dashes
// collapsed, at most 63 characters (long names keep a hash suffix so that two
// long names do not collide).
func FluxName(fullName string) string {
	name := dnsSlug(fullName)
	if name == "" {
		name = "repo"
	}
	if len(name) > 63 {
		name = boundedName(name, true, shortHash(fullName))
	}
	return name
}

// repoClusters returns the clusters a repository's GitRepository lives on:
// the given one, else those of the project's environments.
func (s *GitOps) repoClusters(r model.Repository, given string) ([]string, error) {
	if given != "" {
		if _, err := s.kube.Cluster(given); err != nil {
			return nil, catalog.RefErr("clusterId", "cluster", given)
		}
		return []string{given}, nil
	}
	set := map[string]bool{}
	for _, c := range r.GitOpsConfig.ClusterIDs {
		set[c] = true
	}
	err := s.db.View(func(tx *store.Tx) error {
		envs, _, err := store.Environments.List(tx, store.Query[model.Environment]{Index: "project", Value: r.ProjectID})
		for _, e := range envs {
			set[e.ClusterID] = true
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	if len(out) == 0 {
		fe := model.FieldErrors{}
		fe.Add("clusterId", "project "+r.ProjectID+" has no environment yet: name the cluster or create an environment first")
		return nil, fe.Err()
	}
	return out, nil
}

// enableGitOps implements repositories.enableGitOps: the default branch's
// GitRepository (named FluxName of the repository) on each cluster, and the
// settings re-applied to the repository's other branches' GitRepositories there.
func (s *GitOps) enableGitOps(ctx context.Context, in api.EnableGitOpsInput) (api.EnableGitOpsResult, error) {
	r, err := s.catalog.Repository(in.RepositoryID)
	if err != nil {
		return api.EnableGitOpsResult{}, err
	}
	cfg := in.Config
	if cfg.FluxNamespace == "" {
		cfg.FluxNamespace = cmp.Or(r.GitOpsConfig.FluxNamespace, fluxbundle.DefaultNamespace)
	}
	if cfg.SyncInterval == "" {
		cfg.SyncInterval = cmp.Or(r.GitOpsConfig.SyncInterval, "1m")
	}
	clusters, err := s.repoClusters(r, in.ClusterID)
	if err != nil {
		return api.EnableGitOpsResult{}, err
	}
	name := baseSourceName(r)
	g := &r.GitOpsConfig
	g.FluxNamespace, g.SyncInterval, g.SecretRef, g.FluxResourceName = cfg.FluxNamespace, cfg.SyncInterval, cfg.SecretRef, name
	unlock := s.lockRepo(r.ID)
	defer unlock()
	for _, cid := range clusters {
		if err := s.applyRepoSources(ctx, r, cid); err != nil {
			return api.EnableGitOpsResult{}, err
		}
	}
	err = s.db.Update(func(tx *store.Tx) error {
		cur, err := store.Repositories.Get(tx, r.ID)
		if err != nil {
			return catalog.RepoNotFound(r.ID)
		}
		g := &cur.GitOpsConfig
		g.Enabled, g.FluxNamespace, g.SyncInterval, g.SecretRef, g.FluxResourceName = true, cfg.FluxNamespace, cfg.SyncInterval, cfg.SecretRef, name
		g.ClusterIDs = shape.MergeSorted(g.ClusterIDs, clusters)
		if g.LastSyncStatus == "" {
			g.LastSyncStatus = model.SyncReconciling
		}
		cur.UpdatedAt = s.now()
		return store.Repositories.Put(tx, cur)
	})
	if err != nil {
		return api.EnableGitOpsResult{}, err
	}
	return api.EnableGitOpsResult{Success: true, FluxResourceName: name, Namespace: cfg.FluxNamespace, Clusters: clusters}, nil
}

// applyRepoSources applies r's default-branch GitRepository on cluster cid
// and re-applies the others recorded there, with r's settings. The caller
// holds lockRepo(r.ID).
func (s *GitOps) applyRepoSources(ctx context.Context, r model.Repository, cid string) error {
	k, c, err := s.kube.For(cid)
	if err != nil {
		return err
	}
	if err := kube.RequireFlux(ctx, k, c); err != nil {
		return err
	}
	name, err := s.ensureSource(ctx, k, r, cid, r.GitOpsConfig.FluxNamespace, r.DefaultBranch)
	if err != nil {
		return err
	}
	cur, err := s.catalog.Repository(r.ID)
	if err != nil {
		return err
	}
	for _, src := range repoSources(cur) {
		if src.ClusterID == cid && src.Name != name {
			if err := kube.Apply(ctx, k.Dyn, sourceObject(r, src)); err != nil {
				return err
			}
		}
	}
	return nil
}

// liveFluxStatus reads the repository's GitRepository on its first cluster and stores what it found.
func (s *GitOps) liveFluxStatus(ctx context.Context, r model.Repository) (model.RepoGitOpsConfig, error) {
	g := r.GitOpsConfig
	if !g.Enabled || g.FluxResourceName == "" || len(g.ClusterIDs) == 0 {
		return g, nil
	}
	cid := g.ClusterIDs[0]
	k, _, err := s.kube.For(cid)
	if err != nil {
		return g, err
	}
	u, err := k.Dyn.Resource(fluxobj.GitRepositoryGVR).Namespace(g.FluxNamespace).Get(ctx, g.FluxResourceName, metav1.GetOptions{})
	if err != nil {
		e := kube.Error(err, fmt.Sprintf("read GitRepository %s/%s", g.FluxNamespace, g.FluxResourceName))
		if model.CodeOf(e) == model.CodeNotFound {
			g.LastSyncStatus, g.LastSyncMessage = model.SyncFailed, "GitRepository "+g.FluxNamespace+"/"+g.FluxResourceName+" is missing on cluster "+cid
		} else {
			return g, e
		}
	} else {
		g.LastSyncStatus, g.LastSyncCommit, g.LastSyncMessage = fluxobj.JudgeSource(u)
	}
	now := s.now()
	g.LastSyncAt = &now
	err = s.db.Update(func(tx *store.Tx) error {
		cur, err := store.Repositories.Get(tx, r.ID)
		if err != nil {
			return err
		}
		cur.GitOpsConfig.LastSyncStatus, cur.GitOpsConfig.LastSyncCommit = g.LastSyncStatus, g.LastSyncCommit
		cur.GitOpsConfig.LastSyncMessage, cur.GitOpsConfig.LastSyncAt = g.LastSyncMessage, g.LastSyncAt
		return store.Repositories.Put(tx, cur)
	})
	return g, err
}
