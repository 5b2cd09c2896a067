package services

import (
	"context"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/store"
)

func repoNotFound(id string) error {
	return model.Errorf(model.CodeRepositoryNotFound, "repository %q not found", id).WithDetail("id", id)
}

// CreateRepository implements repositories.create.
func (s *Services) CreateRepository(_ context.Context, in api.CreateRepositoryInput) (model.Repository, error) {
	now := s.now()
	r := model.Repository{ProjectID: in.ProjectID, FullName: in.FullName, URL: in.URL, DefaultBranch: in.DefaultBranch,
		Auth: in.Auth, CreatedAt: now, UpdatedAt: now}
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	err := s.db.Update(func(tx *store.Tx) error {
		if !store.Projects.Exists(tx, in.ProjectID) {
			return refErr("projectId", "project", in.ProjectID)
		}
		fe := model.FieldErrors{}
		if in.ID != "" && store.Repositories.Exists(tx, in.ID) {
			fe.Add("id", "repository "+in.ID+" already exists")
		}
		repos, _, err := store.Repositories.List(tx, store.Query[model.Repository]{Index: "project", Value: in.ProjectID})
		if err != nil {
			return err
		}
		for _, o := range repos {
			if o.FullName == in.FullName {
				fe.Add("fullName", "project "+in.ProjectID+" already has repository "+in.FullName+" ("+o.ID+")")
			}
		}
		if err := fe.Err(); err != nil {
			return err
		}
		r.ID = pickID(in.ID, "repo", in.FullName, func(id string) bool { return store.Repositories.Exists(tx, id) })
		return store.Repositories.Put(tx, r)
	})
	return r, err
}

// ListRepositories implements repositories.list.
func (s *Services) ListRepositories(_ context.Context, in api.ListRepositoriesInput) ([]model.Repository, error) {
	q := store.Query[model.Repository]{}
	if in.ProjectID != "" {
		q.Index, q.Value = "project", in.ProjectID
	}
	var out []model.Repository
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		out, _, err = store.Repositories.List(tx, q)
		return err
	})
	if out == nil {
		out = []model.Repository{}
	}
	return out, err
}

// GetRepository implements repositories.get.
func (s *Services) GetRepository(_ context.Context, in api.IDInput) (model.Repository, error) {
	return s.repository(in.ID)
}

func (s *Services) repository(id string) (model.Repository, error) {
	var r model.Repository
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		r, err = store.Repositories.Get(tx, id)
		return err
	})
	if model.CodeOf(err) == model.CodeNotFound {
		return r, repoNotFound(id)
	}
	return r, err
}

// UpdateRepository implements repositories.update.
func (s *Services) UpdateRepository(_ context.Context, in api.UpdateRepositoryInput) (model.Repository, error) {
	var r model.Repository
	err := s.db.Update(func(tx *store.Tx) error {
		var err error
		if r, err = store.Repositories.Get(tx, in.ID); err != nil {
			return repoNotFound(in.ID)
		}
		if in.FullName != nil && *in.FullName != r.FullName {
			repos, _, err := store.Repositories.List(tx, store.Query[model.Repository]{Index: "project", Value: r.ProjectID})
			if err != nil {
				return err
			}
			for _, o := range repos {
				if o.FullName == *in.FullName && o.ID != r.ID {
					fe := model.FieldErrors{}
					fe.Add("fullName", "project "+r.ProjectID+" already has repository "+o.FullName+" ("+o.ID+")")
					return fe.Err()
				}
			}
		}
		setIf(&r.FullName, in.FullName)
		setIf(&r.URL, in.URL)
		setIf(&r.DefaultBranch, in.DefaultBranch)
		if in.Auth != nil {
			r.Auth = in.Auth
		}
		r.UpdatedAt = s.now()
		return store.Repositories.Put(tx, r)
	})
	return r, err
}

// DeleteRepository implements repositories.delete.
func (s *Services) DeleteRepository(_ context.Context, in api.RemoveInput) (api.Deleted, error) {
	err := s.db.Update(func(tx *store.Tx) error {
		r, err := store.Repositories.Get(tx, in.ID)
		if err != nil {
			return repoNotFound(in.ID)
		}
		envs, _, err := store.Environments.List(tx, store.Query[model.Environment]{Index: "project", Value: r.ProjectID,
			Filter: func(e model.Environment) bool { return e.GitOpsConfig.RepositoryID == r.ID }})
		if err != nil {
			return err
		}
		if len(envs) > 0 && !in.Force {
			return model.Errorf(model.CodeBadRequest, "repository %s is the GitOps source of environment(s) %s; reconfigure them or pass force",
				in.ID, joinIDs(envs, func(e model.Environment) string { return e.ID })).
				WithDetail("environments", ids(envs, func(e model.Environment) string { return e.ID }))
		}
		for _, e := range envs {
			e.GitOpsConfig.RepositoryID = ""
			e.GitOpsConfig.Enabled = false
			if err := store.Environments.Put(tx, e); err != nil {
				return err
			}
		}
		return store.Repositories.Delete(tx, in.ID)
	})
	return api.Deleted{Success: err == nil, ID: in.ID}, err
}

// GetFluxStatus implements repositories.getFluxStatus: it reads the
// repository's GitRepository live (Ready → ready, in progress → reconciling,
// otherwise failed with the condition message; lastSyncCommit from the artifact).
func (s *Services) GetFluxStatus(ctx context.Context, in api.FluxStatusInput) (api.FluxStatus, error) {
	r, err := s.repository(in.RepositoryID)
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
		st.LastSyncTime = timeString(*g.LastSyncAt)
	}
	if st.SyncStatus != api.SyncReady {
		st.ErrorMessage = g.LastSyncMessage
	}
	return st, nil
}
