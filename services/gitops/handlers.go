package gitops

import (
	"cmp"
	"context"
	"fmt"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/internal/shape"
)

// configureGitOps implements environments.configureGitOps.
func (s *GitOps) configureGitOps(ctx context.Context, in api.ConfigureGitOpsInput) (api.ConfigureGitOpsResult, error) {
	e, err := s.configureEnvironmentGitOps(ctx, in.EnvironmentID, in.Config)
	if err != nil {
		return api.ConfigureGitOpsResult{}, err
	}
	return configuredResult(e), nil
}

// configuredResult is configureGitOps's answer for the environment as stored.
func configuredResult(e model.Environment) api.ConfigureGitOpsResult {
	v := gitopsView(e)
	state := "disabled"
	if v.Enabled {
		state = "enabled"
		if !v.AutoSync {
			state += ", manual sync"
		}
	}
	msg := fmt.Sprintf("GitOps %s for environment %s: branch %s, path %s, interval %s", state, e.ID,
		cmp.Or(v.GitBranch, "(repository default)"), v.GitPath, v.SyncInterval)
	return api.ConfigureGitOpsResult{Success: true, Message: msg, Config: v}
}

// gitopsView is an environment's GitOps config as the contract returns it.
func gitopsView(e model.Environment) api.GitOpsConfigView {
	g := e.GitOpsConfig
	return api.GitOpsConfigView{Enabled: g.Enabled, AutoSync: g.AutoSync, GitBranch: g.GitBranch, GitPath: g.GitPath,
		SyncInterval: g.SyncInterval, RepositoryID: g.RepositoryID, EnvironmentID: e.ID}
}

// getGitOpsConfig implements environments.getGitOpsConfig.
func (s *GitOps) getGitOpsConfig(_ context.Context, in api.GetGitOpsConfigInput) (api.GitOpsConfigView, error) {
	e, err := s.catalog.Environment(in.EnvironmentID)
	if err != nil {
		return api.GitOpsConfigView{}, err
	}
	return gitopsView(e), nil
}

// getFluxStatus implements repositories.getFluxStatus: it reads the
// repository's GitRepository live (Ready → ready, in progress → reconciling,
// otherwise failed with the condition message; lastSyncCommit from the artifact).
func (s *GitOps) getFluxStatus(ctx context.Context, in api.FluxStatusInput) (api.FluxStatus, error) {
	r, err := s.catalog.Repository(in.RepositoryID)
	if err != nil {
		return api.FluxStatus{}, err
	}
	if !r.GitOpsConfig.Enabled {
		return api.FluxStatus{}, model.Errorf(model.CodeGitOpsNotEnabled, "repository %s is not enabled for GitOps: run repositories.enableGitOps", r.ID).
			WithDetail("repositoryId", r.ID)
	}
	g, err := s.liveFluxStatus(ctx, r)
	if err != nil {
		return api.FluxStatus{}, err
	}
	if g.LastSyncStatus == "" || g.LastSyncStatus == model.SyncUnknown {
		g.LastSyncStatus = model.SyncReconciling // not seen by Flux yet
	}
	st := api.FluxStatus{SyncStatus: api.SyncStatus(g.LastSyncStatus), LastSyncCommit: g.LastSyncCommit,
		RepositoryID: r.ID, FluxResourceName: g.FluxResourceName}
	if g.LastSyncAt != nil {
		st.LastSyncTime = shape.Time(*g.LastSyncAt)
	}
	if st.SyncStatus != api.SyncReady {
		st.ErrorMessage = g.LastSyncMessage
	}
	return st, nil
}
