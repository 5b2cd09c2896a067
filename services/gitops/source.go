package gitops

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/catalog"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/services/fluxobj"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/store"
)

// An environment's Git source: which repository, which branch, and the Flux
// GitRepository on its cluster that follows them. One GitRepository exists
// per (repository, branch, namespace, cluster); environments on the same
// branch share it, and configuring one environment never moves another's.

// The branch of a GitRepository gitopstui made: exact in the annotation, as a
// label value (which cannot hold every branch name) in the label.
const (
	labelBranch      = "gitopstui.dev/branch"
	annotationBranch = "gitopstui.dev/branch"
)

// lock takes the in-process lock of key and returns its release.
func (s *GitOps) lock(key string) (unlock func()) { return s.locks.Lock(key) }

// lockRepo serialises what creates, repoints and deletes a repository's GitRepositories.
func (s *GitOps) lockRepo(repoID string) func() { return s.lock("repository/" + repoID) }

// EnvRepository resolves an environment's repository: the one its
// gitopsConfig.repositoryId names, else its project's only GitOps-enabled
// repository. With none it is GITOPS_NOT_ENABLED naming
// repositories.enableGitOps; with several, a BAD_REQUEST whose
// details.fields[field] and details.repositories name the candidates.
func (s *GitOps) EnvRepository(env model.Environment, field string) (model.Repository, error) {
	var r model.Repository
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		r, err = resolveRepository(tx, env, env.GitOpsConfig.RepositoryID, field)
		return err
	})
	return r, err
}

func resolveRepository(tx *store.Tx, env model.Environment, named, field string) (model.Repository, error) {
	if named != "" {
		r, err := store.Repositories.Get(tx, named)
		if model.CodeOf(err) == model.CodeNotFound {
			return r, catalog.RepoNotFound(named)
		}
		return r, err
	}
	repos, _, err := store.Repositories.List(tx, store.Query[model.Repository]{Index: "project", Value: env.ProjectID})
	if err != nil {
		return model.Repository{}, err
	}
	var enabled []model.Repository
	for _, r := range repos {
		if r.GitOpsConfig.Enabled {
			enabled = append(enabled, r)
		}
	}
	repoID := func(r model.Repository) string { return r.ID }
	switch len(enabled) {
	case 1:
		return enabled[0], nil
	case 0:
		msg := fmt.Sprintf("environment %s names no repository and project %s has no GitOps-enabled repository: run repositories.enableGitOps", env.ID, env.ProjectID)
		if len(repos) > 0 {
			msg += " for one of " + shape.JoinIDs(repos, repoID)
		}
		return model.Repository{}, model.Errorf(model.CodeGitOpsNotEnabled, "%s (or name one with environments.configureGitOps config.repositoryId)", msg).
			WithDetail("environmentId", env.ID).WithDetail("projectId", env.ProjectID).WithDetail("repositories", shape.IDs(repos, repoID))
	}
	names := shape.JoinIDs(enabled, repoID)
	return model.Repository{}, model.Errorf(model.CodeBadRequest,
		"environment %s names no repository and project %s has %d GitOps-enabled repositories (%s): name one with environments.configureGitOps config.repositoryId",
		env.ID, env.ProjectID, len(enabled), names).
		WithDetail("fields", map[string]any{field: "environment " + env.ID + " needs a repositoryId: one of " + names}).
		WithDetail("repositories", shape.IDs(enabled, repoID))
}

// EnvBranch is the branch an environment follows in repo: its gitBranch,
// else the repository's default branch.
func EnvBranch(env model.Environment, repo model.Repository) string {
	return cmp.Or(env.GitOpsConfig.GitBranch, cmp.Or(repo.DefaultBranch, "main"))
}

// dnsSlug keeps lowercase letters and digits and turns every other run of
// characters into one dash, trimmed at both ends.
func dnsSlug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}

func shortHash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])[:8]
}

// boundedName returns name when it is at most 63 characters and hashed is
// false, else name cut to fit and followed by a dash and hash.
func boundedName(name string, hashed bool, hash string) string {
	if !hashed && len(name) <= 63 {
		return name
	}
	if limit := 63 - 1 - len(hash); len(name) > limit {
		name = name[:limit]
	}
	if name = strings.TrimRight(name, "-"); name == "" {
		return hash
	}
	return name + "-" + hash
}

// FluxSourceName is the name of a repository's GitRepository for a branch
// other than its default one: FluxName(fullName), a dash and the branch. A
// branch that is not already lowercase letters, digits and single dashes
// (release/1.x, Feature), or a name over 63 characters, ends in a hash of
// repository and branch instead, so that two branches never share a name.
func FluxSourceName(fullName, branch string) string { return sourceName(fullName, branch, false) }

func sourceName(fullName, branch string, hashed bool) string {
	name := FluxName(fullName)
	if sl := dnsSlug(branch); sl != "" {
		name += "-" + sl
		hashed = hashed || sl != branch
	} else {
		hashed = true
	}
	return boundedName(name, hashed, shortHash(fullName, branch))
}

// branchLabel is a branch as a label value: itself when it is one, else its
// slug with a hash.
func branchLabel(branch string) string {
	sl := dnsSlug(branch)
	return boundedName(sl, sl != branch, shortHash(branch))
}

// baseSourceName is the name of the GitRepository repositories.enableGitOps
// creates for the default branch.
func baseSourceName(r model.Repository) string {
	return cmp.Or(r.GitOpsConfig.FluxResourceName, FluxName(r.FullName))
}

// sourceObject is the GitRepository of src with the repository's URL and settings.
func sourceObject(r model.Repository, src model.FluxSource) *unstructured.Unstructured {
	g := r.GitOpsConfig
	spec := map[string]any{
		"url":      r.URL,
		"interval": cmp.Or(g.SyncInterval, "1m"),
		"ref":      map[string]any{"branch": src.Branch},
	}
	if g.SecretRef != "" {
		spec["secretRef"] = map[string]any{"name": g.SecretRef}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": fluxobj.GitRepositoryGVR.GroupVersion().String(), "kind": "GitRepository",
		"metadata": map[string]any{"name": src.Name, "namespace": src.Namespace,
			"labels":      map[string]any{fluxobj.LabelManagedBy: "gitopstui", fluxobj.LabelRepoID: r.ID, fluxobj.LabelProjectID: r.ProjectID, labelBranch: branchLabel(src.Branch)},
			"annotations": map[string]any{annotationBranch: src.Branch}},
		"spec": spec,
	}}
}

// repoSources returns a repository's recorded GitRepositories, with those of
// installs made before they were recorded: the default-branch one on each
// cluster of gitopsConfig.clusterIds.
func repoSources(r model.Repository) []model.FluxSource {
	g := r.GitOpsConfig
	out := slices.Clone(g.Sources)
	if g.FluxResourceName == "" {
		return out
	}
	ns := cmp.Or(g.FluxNamespace, fluxbundle.DefaultNamespace)
	for _, cid := range g.ClusterIDs {
		if !slices.ContainsFunc(out, func(s model.FluxSource) bool { return s.ClusterID == cid && s.Name == g.FluxResourceName }) {
			out = append(out, model.FluxSource{ClusterID: cid, Namespace: ns, Branch: r.DefaultBranch, Name: g.FluxResourceName})
		}
	}
	return out
}

func sortSources(srcs []model.FluxSource) {
	sort.Slice(srcs, func(i, j int) bool {
		a, b := srcs[i], srcs[j]
		if a.ClusterID != b.ClusterID {
			return a.ClusterID < b.ClusterID
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Branch < b.Branch
	})
}

// ensureSource makes sure repo has a GitRepository that follows branch in
// namespace ns of cluster cid: it is applied (server-side) with the
// repository's settings and recorded on the repository; its name comes back.
// The default branch's is the one repositories.enableGitOps creates;
// another branch's is FluxSourceName (hashed when that name is taken). The
// caller holds lockRepo(repo.ID).
func (s *GitOps) ensureSource(ctx context.Context, k kube.Kube, repo model.Repository, cid, ns, branch string) (string, error) {
	cur, err := s.catalog.Repository(repo.ID)
	if err != nil {
		return "", err
	}
	srcs := repoSources(cur)
	i := slices.IndexFunc(srcs, func(s model.FluxSource) bool { return s.ClusterID == cid && s.Namespace == ns && s.Branch == branch })
	var src model.FluxSource
	if i >= 0 {
		src = srcs[i]
	} else {
		name, err := pickSourceName(ctx, k, repo, srcs, cid, ns, branch)
		if err != nil {
			return "", err
		}
		src = model.FluxSource{ClusterID: cid, Namespace: ns, Branch: branch, Name: name}
	}
	if err := kube.Apply(ctx, k.Dyn, sourceObject(repo, src)); err != nil {
		return "", err
	}
	if !slices.Contains(cur.GitOpsConfig.Sources, src) {
		err := s.db.Update(func(tx *store.Tx) error {
			cur, err := store.Repositories.Get(tx, repo.ID)
			if err != nil {
				return err
			}
			g := &cur.GitOpsConfig
			g.Sources = repoSources(cur)
			if !slices.Contains(g.Sources, src) {
				g.Sources = append(g.Sources, src)
			}
			sortSources(g.Sources)
			if src.Name == baseSourceName(cur) {
				g.ClusterIDs = shape.MergeSorted(g.ClusterIDs, []string{cid})
			}
			return store.Repositories.Put(tx, cur)
		})
		if err != nil {
			return "", err
		}
	}
	return src.Name, nil
}

// pickSourceName chooses the name of a new GitRepository: one no other
// recorded source of the repository uses on that cluster and namespace, and
// that is free on the cluster or already this repository's for this branch.
func pickSourceName(ctx context.Context, k kube.Kube, repo model.Repository, srcs []model.FluxSource, cid, ns, branch string) (string, error) {
	var candidates []string
	if branch == repo.DefaultBranch {
		candidates = append(candidates, baseSourceName(repo))
	}
	candidates = append(candidates, sourceName(repo.FullName, branch, false), sourceName(repo.FullName, branch, true))
	ri := k.Dyn.Resource(fluxobj.GitRepositoryGVR).Namespace(ns)
	for _, name := range candidates {
		if slices.ContainsFunc(srcs, func(s model.FluxSource) bool { return s.ClusterID == cid && s.Namespace == ns && s.Name == name }) {
			continue
		}
		u, err := ri.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return name, nil
		}
		if err != nil {
			return "", kube.Error(err, "read GitRepository "+ns+"/"+name)
		}
		if b := u.GetAnnotations()[annotationBranch]; u.GetLabels()[fluxobj.LabelRepoID] == repo.ID && (b == "" || b == branch) {
			return name, nil
		}
	}
	return "", model.Errorf(model.CodeConflictDetected, "no free name for the GitRepository of repository %s branch %s in %s on cluster %s: %s belong to other objects",
		repo.ID, branch, ns, cid, strings.Join(candidates, ", ")).WithDetail("repositoryId", repo.ID).WithDetail("branch", branch)
}

// withSource runs apply with rc.source set to the GitRepository of rc's
// environment branch in namespace ns, made sure of first; the repository's
// lock is held throughout, so no collection removes the source in between.
func (s *GitOps) withSource(ctx context.Context, rc resourceContext, ns string, apply func(resourceContext) error) error {
	unlock := s.lockRepo(rc.repo.ID)
	defer unlock()
	name, err := s.ensureSource(ctx, rc.k, rc.repo, rc.env.ClusterID, ns, EnvBranch(rc.env, rc.repo))
	if err != nil {
		return err
	}
	rc.source = name
	return apply(rc)
}

// collectSources deletes the GitRepositories of repository repoID on cluster
// cid that no Kustomization or HelmRelease references any more, and forgets
// them; the default one (repositories.enableGitOps's) stays. It returns the
// names deleted. The caller holds lockRepo(repoID).
func (s *GitOps) collectSources(ctx context.Context, k kube.Kube, repoID, cid string) ([]string, error) {
	repo, err := s.catalog.Repository(repoID)
	if err != nil {
		return nil, err
	}
	base := baseSourceName(repo)
	var candidates []model.FluxSource
	for _, src := range repoSources(repo) {
		if src.ClusterID == cid && src.Name != base {
			candidates = append(candidates, src)
		}
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	used, err := referencedSources(ctx, k)
	if err != nil {
		return nil, err
	}
	var gone []model.FluxSource
	var delErr error
	for _, src := range candidates {
		if used[src.Namespace+"/"+src.Name] {
			continue
		}
		err := k.Dyn.Resource(fluxobj.GitRepositoryGVR).Namespace(src.Namespace).Delete(ctx, src.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			delErr = kube.Error(err, "delete GitRepository "+src.Namespace+"/"+src.Name)
			break
		}
		gone = append(gone, src)
	}
	if len(gone) > 0 {
		err := s.db.Update(func(tx *store.Tx) error {
			cur, err := store.Repositories.Get(tx, repoID)
			if err != nil {
				return err
			}
			cur.GitOpsConfig.Sources = slices.DeleteFunc(repoSources(cur), func(s model.FluxSource) bool { return slices.Contains(gone, s) })
			return store.Repositories.Put(tx, cur)
		})
		if err != nil {
			return nil, err
		}
	}
	names := shape.IDs(gone, func(s model.FluxSource) string { return s.Name })
	return names, delErr
}

// referencedSources returns "namespace/name" of every GitRepository that a
// Kustomization or a HelmRelease's chart on the cluster references; objects
// being deleted do not count.
func referencedSources(ctx context.Context, k kube.Kube) (map[string]bool, error) {
	used := map[string]bool{}
	for _, kind := range []struct {
		gvr  schema.GroupVersionResource
		path []string
	}{{fluxobj.KustomizationGVR, []string{"spec", "sourceRef"}}, {fluxobj.HelmReleaseGVR, []string{"spec", "chart", "spec", "sourceRef"}}} {
		l, err := k.Dyn.Resource(kind.gvr).List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, kube.Error(err, "list "+kind.gvr.Resource)
		}
		for _, o := range l.Items {
			ref, _, _ := unstructured.NestedStringMap(o.Object, kind.path...)
			if o.GetDeletionTimestamp() != nil || ref["kind"] != "GitRepository" {
				continue
			}
			used[cmp.Or(ref["namespace"], o.GetNamespace())+"/"+ref["name"]] = true
		}
	}
	return used, nil
}

// reconcileSource makes sure a resource's GitRepository (its repository's,
// for env's branch) exists and asks it to reconcile at `at`, once per
// source in done; it reports whether that worked.
func (s *GitOps) reconcileSource(ctx context.Context, k kube.Kube, env model.Environment, r model.GitOpsResource, at string, done map[string]bool) bool {
	repo, err := s.catalog.Repository(r.RepositoryID)
	if err != nil || !repo.GitOpsConfig.Enabled {
		return false
	}
	unlock := s.lockRepo(repo.ID)
	defer unlock()
	name, err := s.ensureSource(ctx, k, repo, env.ClusterID, r.Namespace, EnvBranch(env, repo))
	if err != nil {
		return false
	}
	if done[r.Namespace+"/"+name] {
		return true
	}
	done[r.Namespace+"/"+name] = true
	_, err = k.Dyn.Resource(fluxobj.GitRepositoryGVR).Namespace(r.Namespace).Patch(ctx, name, types.MergePatchType, annotatePatch(at), metav1.PatchOptions{})
	return err == nil
}

// collectSourcesLogged collects the repository's unused GitRepositories on a
// cluster after the caller's change took effect: a failure only leaves a
// source behind, so it is logged rather than returned.
func (s *GitOps) collectSourcesLogged(ctx context.Context, k kube.Kube, repoID, clusterID string) {
	if _, err := s.collectSources(ctx, k, repoID, clusterID); err != nil {
		s.log.Warn("collect unused GitRepositories", "repository", repoID, "cluster", clusterID, "error", err)
	}
}
