package catalog

import (
	"context"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gate"
	"github.com/gitopstui/gitopstui/services/internal/ident"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/store"
)

func (s *Catalog) registerProjects(r *gate.Registry) {
	gate.Bind(r, api.CreateProject, s.createProject)
	gate.Bind(r, api.ListProjects, s.listProjects)
	gate.Bind(r, api.GetProject, s.getProject)
	gate.Bind(r, api.DeleteProject, s.deleteProject)

	gate.Bind(r, api.CreateEnvironment, s.createEnvironment)
	gate.Bind(r, api.ListEnvironments, s.listEnvironments)
	gate.Bind(r, api.GetEnvironment, s.getEnvironment)
	gate.Bind(r, api.UpdateEnvironment, s.updateEnvironment)
	gate.Bind(r, api.DeleteEnvironment, s.deleteEnvironment)

	gate.Bind(r, api.CreateRepository, s.createRepository)
	gate.Bind(r, api.ListRepositories, s.listRepositories)
	gate.Bind(r, api.GetRepository, s.getRepository)
	gate.Bind(r, api.UpdateRepository, s.updateRepository)
	gate.Bind(r, api.DeleteRepository, s.deleteRepository)
}

// createProject implements projects.create.
func (s *Catalog) createProject(_ context.Context, in api.CreateProjectInput) (model.Project, error) {
	now := s.now()
	p := model.Project{Name: in.Name, CreatedAt: now, UpdatedAt: now}
	err := s.db.Update(func(tx *store.Tx) error {
		fe := model.FieldErrors{}
		if in.ID != "" && store.Projects.Exists(tx, in.ID) {
			fe.Add("id", "project "+in.ID+" already exists")
		}
		all, _, err := store.Projects.List(tx, store.Query[model.Project]{})
		if err != nil {
			return err
		}
		for _, o := range all {
			if strings.EqualFold(o.Name, in.Name) {
				fe.Add("name", "project "+o.ID+" already has the name "+o.Name)
			}
		}
		if err := fe.Err(); err != nil {
			return err
		}
		p.ID = ident.Pick(in.ID, "proj", in.Name, func(id string) bool { return store.Projects.Exists(tx, id) })
		return store.Projects.Put(tx, p)
	})
	return p, err
}

// listProjects implements projects.list.
func (s *Catalog) listProjects(_ context.Context, _ api.Empty) ([]model.Project, error) {
	var out []model.Project
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		out, _, err = store.Projects.List(tx, store.Query[model.Project]{})
		return err
	})
	if out == nil {
		out = []model.Project{}
	}
	return out, err
}

// getProject implements projects.get.
func (s *Catalog) getProject(_ context.Context, in api.IDInput) (api.ProjectView, error) {
	var v api.ProjectView
	err := s.db.View(func(tx *store.Tx) error {
		p, err := store.Projects.Get(tx, in.ID)
		if err != nil {
			return err
		}
		v.Project = p
		if v.Environments, _, err = store.Environments.List(tx, store.Query[model.Environment]{Index: "project", Value: p.ID}); err != nil {
			return err
		}
		v.Repositories, _, err = store.Repositories.List(tx, store.Query[model.Repository]{Index: "project", Value: p.ID})
		return err
	})
	if v.Environments == nil {
		v.Environments = []model.Environment{}
	}
	if v.Repositories == nil {
		v.Repositories = []model.Repository{}
	}
	return v, err
}

// deleteProject implements projects.delete. With force it also deletes the
// project's environments, repositories, resource records and deployment history
// from the catalog (objects on clusters and in Git are left alone).
func (s *Catalog) deleteProject(_ context.Context, in api.RemoveInput) (api.Deleted, error) {
	err := s.db.Update(func(tx *store.Tx) error {
		if _, err := store.Projects.Get(tx, in.ID); err != nil {
			return err
		}
		envs, _, err := store.Environments.List(tx, store.Query[model.Environment]{Index: "project", Value: in.ID})
		if err != nil {
			return err
		}
		if len(envs) > 0 && !in.Force {
			return model.Errorf(model.CodeBadRequest, "project %s has %d environment(s): %s; delete them first or pass force",
				in.ID, len(envs), shape.JoinIDs(envs, func(e model.Environment) string { return e.ID })).
				WithDetail("environments", shape.IDs(envs, func(e model.Environment) string { return e.ID }))
		}
		for _, e := range envs {
			if err := s.deleteEnvironmentTx(tx, e.ID); err != nil {
				return err
			}
		}
		repos, _, err := store.Repositories.List(tx, store.Query[model.Repository]{Index: "project", Value: in.ID})
		if err != nil {
			return err
		}
		for _, r := range repos {
			if err := store.Repositories.Delete(tx, r.ID); err != nil {
				return err
			}
		}
		deps, _, err := store.Deployments.List(tx, store.Query[model.Deployment]{Index: "project", Value: in.ID})
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := store.Deployments.Delete(tx, d.ID); err != nil {
				return err
			}
		}
		return store.Projects.Delete(tx, in.ID)
	})
	return api.Deleted{Success: err == nil, ID: in.ID}, err
}

// defaultGitOps is a new environment's GitOps config.
func defaultGitOps(envName string) model.GitOpsConfig {
	return model.GitOpsConfig{AutoSync: true, GitBranch: "main", GitPath: "./k8s/overlays/" + envName, SyncInterval: "5m"}
}

// RefErr is the NOT_FOUND of an input field that names a missing record.
func RefErr(field, kind, id string) error {
	msg := kind + " " + id + " does not exist"
	return model.Errorf(model.CodeNotFound, "%s: %s", field, msg).
		WithDetail("fields", map[string]any{field: msg}).WithDetail("kind", kind).WithDetail("id", id)
}

// createEnvironment implements environments.create.
func (s *Catalog) createEnvironment(_ context.Context, in api.CreateEnvironmentInput) (model.Environment, error) {
	now := s.now()
	e := model.Environment{ProjectID: in.ProjectID, Name: in.Name, ClusterID: in.ClusterID, Namespace: in.Namespace,
		GitOpsConfig: defaultGitOps(in.Name), CreatedAt: now, UpdatedAt: now}
	err := s.db.Update(func(tx *store.Tx) error {
		if !store.Projects.Exists(tx, in.ProjectID) {
			return RefErr("projectId", "project", in.ProjectID)
		}
		if !store.Clusters.Exists(tx, in.ClusterID) {
			return RefErr("clusterId", "cluster", in.ClusterID)
		}
		fe := model.FieldErrors{}
		if in.ID != "" && store.Environments.Exists(tx, in.ID) {
			fe.Add("id", "environment "+in.ID+" already exists")
		}
		if err := s.checkEnvNameFree(tx, in.ProjectID, in.Name, "", fe); err != nil {
			return err
		}
		if err := fe.Err(); err != nil {
			return err
		}
		e.ID = ident.Pick(in.ID, "env", in.ProjectID+"-"+in.Name, func(id string) bool { return store.Environments.Exists(tx, id) })
		return store.Environments.Put(tx, e)
	})
	return e, err
}

func (s *Catalog) checkEnvNameFree(tx *store.Tx, projectID, name, self string, fe model.FieldErrors) error {
	envs, _, err := store.Environments.List(tx, store.Query[model.Environment]{Index: "project", Value: projectID})
	if err != nil {
		return err
	}
	for _, o := range envs {
		if o.Name == name && o.ID != self {
			fe.Add("name", "project "+projectID+" already has an environment named "+name+" ("+o.ID+")")
		}
	}
	return nil
}

// listEnvironments implements environments.list.
func (s *Catalog) listEnvironments(_ context.Context, in api.ListEnvironmentsInput) ([]model.Environment, error) {
	q := store.Query[model.Environment]{}
	switch {
	case in.ProjectID != "":
		q.Index, q.Value = "project", in.ProjectID
		if in.ClusterID != "" {
			q.Filter = func(e model.Environment) bool { return e.ClusterID == in.ClusterID }
		}
	case in.ClusterID != "":
		q.Index, q.Value = "cluster", in.ClusterID
	}
	var out []model.Environment
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		out, _, err = store.Environments.List(tx, q)
		return err
	})
	if out == nil {
		out = []model.Environment{}
	}
	return out, err
}

// getEnvironment implements environments.get.
func (s *Catalog) getEnvironment(_ context.Context, in api.IDInput) (model.Environment, error) {
	return s.Environment(in.ID)
}

func (s *Catalog) Environment(id string) (model.Environment, error) {
	return store.Environments.Read(s.db, id)
}

// updateEnvironment implements environments.update.
func (s *Catalog) updateEnvironment(_ context.Context, in api.UpdateEnvironmentInput) (model.Environment, error) {
	var e model.Environment
	err := s.db.Update(func(tx *store.Tx) error {
		var err error
		if e, err = store.Environments.Get(tx, in.ID); err != nil {
			return err
		}
		fe := model.FieldErrors{}
		if in.Name != nil && *in.Name != e.Name {
			if err := s.checkEnvNameFree(tx, e.ProjectID, *in.Name, e.ID, fe); err != nil {
				return err
			}
			if e.GitOpsConfig.GitPath == defaultGitOps(e.Name).GitPath {
				e.GitOpsConfig.GitPath = defaultGitOps(*in.Name).GitPath
			}
			e.Name = *in.Name
		}
		if in.ClusterID != nil {
			if !store.Clusters.Exists(tx, *in.ClusterID) {
				return RefErr("clusterId", "cluster", *in.ClusterID)
			}
			e.ClusterID = *in.ClusterID
		}
		if in.Namespace != nil {
			e.Namespace = *in.Namespace
		}
		if err := fe.Err(); err != nil {
			return err
		}
		e.UpdatedAt = s.now()
		return store.Environments.Put(tx, e)
	})
	return e, err
}

// deleteEnvironment implements environments.delete.
func (s *Catalog) deleteEnvironment(_ context.Context, in api.RemoveInput) (api.Deleted, error) {
	err := s.db.Update(func(tx *store.Tx) error {
		if _, err := store.Environments.Get(tx, in.ID); err != nil {
			return err
		}
		res, _, err := store.Resources.List(tx, store.Query[model.GitOpsResource]{Index: "environment", Value: in.ID})
		if err != nil {
			return err
		}
		if len(res) > 0 && !in.Force {
			return model.Errorf(model.CodeBadRequest, "environment %s has %d GitOps resource(s): %s; delete them first or pass force",
				in.ID, len(res), shape.JoinIDs(res, func(r model.GitOpsResource) string { return r.ID })).
				WithDetail("resources", shape.IDs(res, func(r model.GitOpsResource) string { return r.ID }))
		}
		return s.deleteEnvironmentTx(tx, in.ID)
	})
	return api.Deleted{Success: err == nil, ID: in.ID}, err
}

// deleteEnvironmentTx removes an environment and the records of its GitOps resources.
func (s *Catalog) deleteEnvironmentTx(tx *store.Tx, id string) error {
	res, _, err := store.Resources.List(tx, store.Query[model.GitOpsResource]{Index: "environment", Value: id})
	if err != nil {
		return err
	}
	now := s.now()
	for _, r := range res {
		r.DeletedAt = &now
		if err := store.Resources.Put(tx, r); err != nil {
			return err
		}
	}
	return store.Environments.Delete(tx, id)
}
