package gitops

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/catalog"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/store"
)

// configureEnvironmentGitOps changes the given fields of an environment's
// GitOps config and makes them take effect on its live resources first:
// autoSync=false suspends them and true resumes them; syncInterval and
// gitPath reach the resources without an interval or path of their own;
// gitBranch points them at their repository's GitRepository of that branch
// (created when missing) and collects the one they leave if nothing uses it.
// The config is stored only once every resource took it; a failure part-way
// stores nothing of the config and says which resources carry it already.
// Enabling GitOps checks the repository resolution: several GitOps-enabled
// repositories and no repositoryId is a BAD_REQUEST, none is allowed (deploy
// answers GITOPS_NOT_ENABLED until one is enabled).
func (s *GitOps) configureEnvironmentGitOps(ctx context.Context, envID string, p api.GitOpsConfigPatch) (model.Environment, error) {
	unlock := s.lock("environment/" + envID)
	defer unlock()
	env, err := s.catalog.Environment(envID)
	if err != nil {
		return env, err
	}
	if err := s.checkGitOpsPatch(env, p); err != nil {
		return env, err
	}
	next := env
	next.GitOpsConfig = patchGitOps(env.GitOpsConfig, p)
	var res []model.GitOpsResource
	if p.AutoSync != nil || p.GitBranch != nil || p.GitPath != nil || p.SyncInterval != nil {
		if res, err = s.envResources(env.ID); err != nil {
			return env, err
		}
	}
	applied, failed, applyErr := s.applyEnvironmentGitOps(ctx, next, res, p)
	var changed []model.GitOpsResource
	err = s.db.Update(func(tx *store.Tx) error {
		if applyErr == nil {
			cur, err := store.Environments.Get(tx, env.ID)
			if err != nil {
				return err
			}
			cur.GitOpsConfig = patchGitOps(cur.GitOpsConfig, p)
			cur.UpdatedAt = s.now()
			if err := store.Environments.Put(tx, cur); err != nil {
				return err
			}
			env = cur
		}
		if p.AutoSync == nil {
			return nil
		}
		changed, err = storeSuspended(tx, applied, !*p.AutoSync, s.now())
		return err
	})
	if err != nil {
		return env, err
	}
	for _, r := range changed {
		s.watch.Hub().Publish(api.StatusEvent{Resource: r})
	}
	if applyErr != nil {
		return env, configNotStoredError(env.ID, applyErr, res, applied, failed)
	}
	return env, nil
}

// patchGitOps returns c with the given fields of p.
func patchGitOps(c model.GitOpsConfig, p api.GitOpsConfigPatch) model.GitOpsConfig {
	shape.SetIf(&c.RepositoryID, p.RepositoryID)
	shape.SetIf(&c.Enabled, p.Enabled)
	shape.SetIf(&c.AutoSync, p.AutoSync)
	shape.SetIf(&c.GitBranch, p.GitBranch)
	if p.GitPath != nil {
		c.GitPath = "./" + path.Clean(strings.TrimPrefix(*p.GitPath, "./"))
	}
	shape.SetIf(&c.SyncInterval, p.SyncInterval)
	return c
}

// checkGitOpsPatch refuses a repositoryId that is missing or of another
// project, and, when the patch enables GitOps or clears the repositoryId of
// an enabled environment, an ambiguous repository resolution.
func (s *GitOps) checkGitOpsPatch(env model.Environment, p api.GitOpsConfigPatch) error {
	return s.db.View(func(tx *store.Tx) error {
		if p.RepositoryID != nil && *p.RepositoryID != "" {
			r, err := store.Repositories.Get(tx, *p.RepositoryID)
			if err != nil {
				return catalog.RepoNotFound(*p.RepositoryID)
			}
			if r.ProjectID != env.ProjectID {
				fe := model.FieldErrors{}
				fe.Add("config.repositoryId", "repository "+r.ID+" belongs to project "+r.ProjectID+", not "+env.ProjectID)
				return fe.Err()
			}
		}
		next := patchGitOps(env.GitOpsConfig, p)
		if !next.Enabled || next.RepositoryID != "" || (p.Enabled == nil && p.RepositoryID == nil) {
			return nil
		}
		_, err := resolveRepository(tx, env, "", "config.repositoryId")
		if model.CodeOf(err) == model.CodeGitOpsNotEnabled {
			return nil
		}
		return err
	})
}

func (s *GitOps) envResources(envID string) ([]model.GitOpsResource, error) {
	var res []model.GitOpsResource
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		res, _, err = store.Resources.List(tx, store.Query[model.GitOpsResource]{Index: "environment", Value: envID})
		return err
	})
	return res, err
}

// applyEnvironmentGitOps applies env's (new) GitOps config to its resources,
// repository by repository. It returns the resources applied, and on failure
// the resource whose apply failed ("" when the failure came before one).
func (s *GitOps) applyEnvironmentGitOps(ctx context.Context, env model.Environment, res []model.GitOpsResource, p api.GitOpsConfigPatch) ([]model.GitOpsResource, string, error) {
	byRepo := map[string][]model.GitOpsResource{}
	var repoIDs []string
	for _, r := range res {
		if _, ok := byRepo[r.RepositoryID]; !ok {
			repoIDs = append(repoIDs, r.RepositoryID)
		}
		byRepo[r.RepositoryID] = append(byRepo[r.RepositoryID], r)
	}
	sort.Strings(repoIDs)
	var applied []model.GitOpsResource
	for _, id := range repoIDs {
		done, failed, err := s.applyRepoResources(ctx, env, id, byRepo[id], p)
		applied = append(applied, done...)
		if err != nil {
			return applied, failed, err
		}
	}
	return applied, "", nil
}

// applyRepoResources re-applies env's resources of one repository with env's
// config: each keeps its own interval and path, points at the GitRepository
// of env's branch, and is suspended or resumed when p says autoSync. A
// changed branch then collects the GitRepositories nothing uses any more.
func (s *GitOps) applyRepoResources(ctx context.Context, env model.Environment, repoID string, res []model.GitOpsResource, p api.GitOpsConfigPatch) ([]model.GitOpsResource, string, error) {
	rc, err := s.loadResourceContext(ctx, env.ID, repoID)
	if err != nil {
		return nil, "", err
	}
	rc.env = env
	unlock := s.lockRepo(repoID)
	defer unlock()
	sources := map[string]string{} // namespace -> GitRepository
	var applied []model.GitOpsResource
	for _, r := range res {
		if sources[r.Namespace] == "" {
			name, err := s.ensureSource(ctx, rc.k, rc.repo, env.ClusterID, r.Namespace, EnvBranch(env, rc.repo))
			if err != nil {
				return applied, "", err
			}
			sources[r.Namespace] = name
		}
		rc.source = sources[r.Namespace]
		if p.AutoSync != nil {
			r.Suspended = !*p.AutoSync
		}
		var cfg api.ResourceConfig
		if err := json.Unmarshal(r.Config, &cfg); len(r.Config) > 0 && err != nil {
			return applied, r.ID, model.Wrap(model.CodeInternal, err, "stored config of "+r.ID)
		}
		if err := applyResource(ctx, r, cfg, rc); err != nil {
			return applied, r.ID, err
		}
		applied = append(applied, r)
	}
	if p.GitBranch != nil {
		// The resources follow the new branch either way; a source left
		// behind is only logged.
		s.collectSourcesLogged(ctx, rc.k, repoID, env.ClusterID)
	}
	return applied, "", nil
}

// storeSuspended records the suspend state of resources applied with it.
func storeSuspended(tx *store.Tx, applied []model.GitOpsResource, suspended bool, now time.Time) ([]model.GitOpsResource, error) {
	var out []model.GitOpsResource
	for _, a := range applied {
		r, err := store.Resources.Get(tx, a.ID)
		if err != nil {
			return nil, err
		}
		r.Suspended = suspended
		if suspended {
			r.Status = model.StatusSuspended
		} else if r.Status == model.StatusSuspended {
			r.Status = model.StatusPending
		}
		r.UpdatedAt = now
		if err := store.Resources.Put(tx, r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// configNotStoredError is the error of a configureGitOps whose config did not
// take effect on every resource: the cause's code, and details saying the
// config was not stored and which resources carry it already.
func configNotStoredError(envID string, cause error, res, applied []model.GitOpsResource, failed string) error {
	e := model.AsError(cause)
	done := map[string]bool{}
	for _, r := range applied {
		done[r.ID] = true
	}
	appliedTo, notAppliedTo := []string{}, []string{}
	for _, r := range res {
		if done[r.ID] {
			appliedTo = append(appliedTo, r.ID)
		} else {
			notAppliedTo = append(notAppliedTo, r.ID)
		}
	}
	msg := fmt.Sprintf("environment %s: GitOps config not stored, it did not take effect on the cluster: %s", envID, e.Message)
	if len(appliedTo) > 0 {
		msg += fmt.Sprintf(" (resources %s already carry it, %s do not: run environments.configureGitOps again to finish)",
			strings.Join(appliedTo, ", "), strings.Join(notAppliedTo, ", "))
	}
	out := model.Errorf(e.Code, "%s", msg)
	for k, v := range e.Details {
		out.WithDetail(k, v)
	}
	out.WithDetail("environmentId", envID).WithDetail("configStored", false).
		WithDetail("appliedTo", appliedTo).WithDetail("notAppliedTo", notAppliedTo)
	if failed != "" {
		out.WithDetail("failedResource", failed)
	}
	return out
}
