package catalog

import (
	"context"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/internal/ident"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/store"
)

func RepoNotFound(id string) error {
	return model.Errorf(model.CodeRepositoryNotFound, "repository %q not found", id).WithDetail("id", id)
}

// createRepository implements repositories.create.
func (s *Catalog) createRepository(_ context.Context, in api.CreateRepositoryInput) (model.Repository, error) {
	now := s.now()
	r := model.Repository{ProjectID: in.ProjectID, FullName: in.FullName, URL: in.URL, DefaultBranch: in.DefaultBranch,
		Auth: in.Auth, CreatedAt: now, UpdatedAt: now}
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	err := s.db.Update(func(tx *store.Tx) error {
		if !store.Projects.Exists(tx, in.ProjectID) {
			return RefErr("projectId", "project", in.ProjectID)
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
		r.ID = ident.Pick(in.ID, "repo", in.FullName, func(id string) bool { return store.Repositories.Exists(tx, id) })
		return store.Repositories.Put(tx, r)
	})
	return r, err
}

// listRepositories implements repositories.list.
func (s *Catalog) listRepositories(_ context.Context, in api.ListRepositoriesInput) ([]model.Repository, error) {
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

// getRepository implements repositories.get.
func (s *Catalog) getRepository(_ context.Context, in api.IDInput) (model.Repository, error) {
	return s.Repository(in.ID)
}

func (s *Catalog) Repository(id string) (model.Repository, error) {
	r, err := store.Repositories.Read(s.db, id)
	if model.CodeOf(err) == model.CodeNotFound {
		return r, RepoNotFound(id)
	}
	return r, err
}

// updateRepository implements repositories.update.
func (s *Catalog) updateRepository(_ context.Context, in api.UpdateRepositoryInput) (model.Repository, error) {
	var r model.Repository
	err := s.db.Update(func(tx *store.Tx) error {
		var err error
		if r, err = store.Repositories.Get(tx, in.ID); err != nil {
			return RepoNotFound(in.ID)
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
		shape.SetIf(&r.FullName, in.FullName)
		shape.SetIf(&r.URL, in.URL)
		shape.SetIf(&r.DefaultBranch, in.DefaultBranch)
		if in.Auth != nil {
			r.Auth = in.Auth
		}
		r.UpdatedAt = s.now()
		return store.Repositories.Put(tx, r)
	})
	return r, err
}

// deleteRepository implements repositories.delete.
func (s *Catalog) deleteRepository(_ context.Context, in api.RemoveInput) (api.Deleted, error) {
	err := s.db.Update(func(tx *store.Tx) error {
		r, err := store.Repositories.Get(tx, in.ID)
		if err != nil {
			return RepoNotFound(in.ID)
		}
		envs, _, err := store.Environments.List(tx, store.Query[model.Environment]{Index: "project", Value: r.ProjectID,
			Filter: func(e model.Environment) bool { return e.GitOpsConfig.RepositoryID == r.ID }})
		if err != nil {
			return err
		}
		if len(envs) > 0 && !in.Force {
			return model.Errorf(model.CodeBadRequest, "repository %s is the GitOps source of environment(s) %s; reconfigure them or pass force",
				in.ID, shape.JoinIDs(envs, func(e model.Environment) string { return e.ID })).
				WithDetail("environments", shape.IDs(envs, func(e model.Environment) string { return e.ID }))
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
