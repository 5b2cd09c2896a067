package services

import (
	"context"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

// CreateProjectInput is projects.create's input.
type CreateProjectInput struct {
	ID   string `json:"id,omitempty" doc:"project id (generated from the name when empty)"`
	Name string `json:"name" required:"true" doc:"display name"`
}

// Validate implements Validator.
func (in *CreateProjectInput) Validate(fe model.FieldErrors) {
	checkID(fe, "id", in.ID)
	checkDisplayName(fe, "name", in.Name)
}

// ProjectView is a project with its environments and repositories.
type ProjectView struct {
	model.Project
	Environments []model.Environment `json:"environments"`
	Repositories []model.Repository  `json:"repositories"`
}

// Empty is the input of procedures that take none.
type Empty struct{}

func (s *Services) registerCatalog(r *Registry) {
	register(r, "projects.create", model.RoleAdmin, true, "Create a project", s.CreateProject)
	register(r, "projects.list", model.RoleViewer, false, "List projects", s.ListProjects)
	register(r, "projects.get", model.RoleViewer, false, "Get a project with its environments and repositories", s.GetProject)
	register(r, "projects.delete", model.RoleAdmin, true, "Delete a project (refused while it has environments, unless force)", s.DeleteProject)

	register(r, "environments.create", model.RoleAdmin, true, "Create an environment of a project on a cluster namespace", s.CreateEnvironment)
	register(r, "environments.list", model.RoleViewer, false, "List environments", s.ListEnvironments)
	register(r, "environments.get", model.RoleViewer, false, "Get an environment", s.GetEnvironment)
	register(r, "environments.update", model.RoleAdmin, true, "Update an environment's name, cluster or namespace", s.UpdateEnvironment)
	register(r, "environments.delete", model.RoleAdmin, true, "Delete an environment (refused while it has GitOps resources, unless force)", s.DeleteEnvironment)
	register(r, "environments.configureGitOps", model.RoleOperator, true, "Set an environment's GitOps config (branch, path, interval, autoSync, repository)", s.ConfigureGitOps)
	register(r, "environments.getGitOpsConfig", model.RoleViewer, false, "Get an environment's GitOps config", s.GetGitOpsConfig)

	register(r, "repositories.create", model.RoleAdmin, true, "Register a Git repository of a project", s.CreateRepository)
	register(r, "repositories.list", model.RoleViewer, false, "List repositories", s.ListRepositories)
	register(r, "repositories.get", model.RoleViewer, false, "Get a repository", s.GetRepository)
	register(r, "repositories.update", model.RoleAdmin, true, "Update a repository's URL, branch or auth reference", s.UpdateRepository)
	register(r, "repositories.delete", model.RoleAdmin, true, "Delete a repository (refused while environments use it, unless force)", s.DeleteRepository)
	register(r, "repositories.getFluxStatus", model.RoleViewer, false, "Get the Flux sync status of a repository", s.GetFluxStatus)
}

// CreateProject implements projects.create.
func (s *Services) CreateProject(_ context.Context, in CreateProjectInput) (model.Project, error) {
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
		p.ID = pickID(in.ID, "proj", in.Name, func(id string) bool { return store.Projects.Exists(tx, id) })
		return store.Projects.Put(tx, p)
	})
	return p, err
}

// ListProjects implements projects.list.
func (s *Services) ListProjects(_ context.Context, _ Empty) ([]model.Project, error) {
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

// GetProject implements projects.get.
func (s *Services) GetProject(_ context.Context, in IDInput) (ProjectView, error) {
	var v ProjectView
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

// DeleteProject implements projects.delete. With force it also deletes the
// project's environments, repositories, resource records and deployment history
// from the catalog (objects on clusters and in Git are left alone).
func (s *Services) DeleteProject(_ context.Context, in RemoveInput) (Deleted, error) {
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
				in.ID, len(envs), joinIDs(envs, func(e model.Environment) string { return e.ID })).
				WithDetail("environments", ids(envs, func(e model.Environment) string { return e.ID }))
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
	return Deleted{Success: err == nil, ID: in.ID}, err
}

// CreateEnvironmentInput is environments.create's input.
type CreateEnvironmentInput struct {
	ID        string `json:"id,omitempty" doc:"environment id (generated when empty)"`
	ProjectID string `json:"projectId" required:"true" doc:"project id"`
	Name      string `json:"name" required:"true" doc:"environment name (RFC 1123 label, e.g. prod)"`
	ClusterID string `json:"clusterId" required:"true" doc:"cluster id"`
	Namespace string `json:"namespace" required:"true" doc:"Kubernetes namespace"`
}

// Validate implements Validator.
func (in *CreateEnvironmentInput) Validate(fe model.FieldErrors) {
	checkID(fe, "id", in.ID)
	checkDNSLabel(fe, "name", in.Name)
	checkDNSLabel(fe, "namespace", in.Namespace)
}

// defaultGitOps is a new environment's GitOps config.
func defaultGitOps(envName string) model.GitOpsConfig {
	return model.GitOpsConfig{AutoSync: true, GitBranch: "main", GitPath: "./k8s/overlays/" + envName, SyncInterval: "5m"}
}

// refErr is the NOT_FOUND of an input field that names a missing record.
func refErr(field, kind, id string) error {
	msg := kind + " " + id + " does not exist"
	return model.Errorf(model.CodeNotFound, "%s: %s", field, msg).
		WithDetail("fields", map[string]any{field: msg}).WithDetail("kind", kind).WithDetail("id", id)
}

// CreateEnvironment implements environments.create.
func (s *Services) CreateEnvironment(_ context.Context, in CreateEnvironmentInput) (model.Environment, error) {
	now := s.now()
	e := model.Environment{ProjectID: in.ProjectID, Name: in.Name, ClusterID: in.ClusterID, Namespace: in.Namespace,
		GitOpsConfig: defaultGitOps(in.Name), CreatedAt: now, UpdatedAt: now}
	err := s.db.Update(func(tx *store.Tx) error {
		if !store.Projects.Exists(tx, in.ProjectID) {
			return refErr("projectId", "project", in.ProjectID)
		}
		if !store.Clusters.Exists(tx, in.ClusterID) {
			return refErr("clusterId", "cluster", in.ClusterID)
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
		e.ID = pickID(in.ID, "env", in.ProjectID+"-"+in.Name, func(id string) bool { return store.Environments.Exists(tx, id) })
		return store.Environments.Put(tx, e)
	})
	return e, err
}

func (s *Services) checkEnvNameFree(tx *store.Tx, projectID, name, self string, fe model.FieldErrors) error {
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

// ListEnvironmentsInput filters environments.list.
type ListEnvironmentsInput struct {
	ProjectID string `json:"projectId,omitempty" doc:"only this project's environments"`
	ClusterID string `json:"clusterId,omitempty" doc:"only environments on this cluster"`
}

// ListEnvironments implements environments.list.
func (s *Services) ListEnvironments(_ context.Context, in ListEnvironmentsInput) ([]model.Environment, error) {
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

// GetEnvironment implements environments.get.
func (s *Services) GetEnvironment(_ context.Context, in IDInput) (model.Environment, error) {
	return s.environment(in.ID)
}

func (s *Services) environment(id string) (model.Environment, error) {
	var e model.Environment
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		e, err = store.Environments.Get(tx, id)
		return err
	})
	return e, err
}

// UpdateEnvironmentInput is environments.update's input: absent fields stay.
type UpdateEnvironmentInput struct {
	ID        string  `json:"id" required:"true" doc:"environment id"`
	Name      *string `json:"name,omitempty" doc:"new name"`
	ClusterID *string `json:"clusterId,omitempty" doc:"new cluster id"`
	Namespace *string `json:"namespace,omitempty" doc:"new namespace"`
}

// Validate implements Validator.
func (in *UpdateEnvironmentInput) Validate(fe model.FieldErrors) {
	if in.Name != nil {
		if *in.Name == "" {
			fe.Add("name", "must not be empty")
		}
		checkDNSLabel(fe, "name", *in.Name)
	}
	if in.Namespace != nil {
		if *in.Namespace == "" {
			fe.Add("namespace", "must not be empty")
		}
		checkDNSLabel(fe, "namespace", *in.Namespace)
	}
}

// UpdateEnvironment implements environments.update.
func (s *Services) UpdateEnvironment(_ context.Context, in UpdateEnvironmentInput) (model.Environment, error) {
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
				return refErr("clusterId", "cluster", *in.ClusterID)
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

// DeleteEnvironment implements environments.delete.
func (s *Services) DeleteEnvironment(_ context.Context, in RemoveInput) (Deleted, error) {
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
				in.ID, len(res), joinIDs(res, func(r model.GitOpsResource) string { return r.ID })).
				WithDetail("resources", ids(res, func(r model.GitOpsResource) string { return r.ID }))
		}
		return s.deleteEnvironmentTx(tx, in.ID)
	})
	return Deleted{Success: err == nil, ID: in.ID}, err
}

// deleteEnvironmentTx removes an environment and the records of its GitOps resources.
func (s *Services) deleteEnvironmentTx(tx *store.Tx, id string) error {
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

// GitOpsConfigPatch is the part of a GitOps config to change; absent fields stay.
type GitOpsConfigPatch struct {
	Enabled      *bool   `json:"enabled,omitempty" doc:"GitOps on for this environment"`
	AutoSync     *bool   `json:"autoSync,omitempty" doc:"Flux applies commits on its own (false: only on triggerSync)"`
	GitBranch    *string `json:"gitBranch,omitempty" doc:"branch Flux follows (default main)"`
	GitPath      *string `json:"gitPath,omitempty" doc:"path of the environment's manifests (default ./k8s/overlays/<env>)"`
	SyncInterval *string `json:"syncInterval,omitempty" doc:"Flux interval, e.g. 5m"`
	RepositoryID *string `json:"repositoryId,omitempty" doc:"repository holding the manifests"`
}

// ConfigureGitOpsInput is environments.configureGitOps's input.
type ConfigureGitOpsInput struct {
	EnvironmentID string            `json:"environmentId" required:"true" doc:"environment id"`
	Config        GitOpsConfigPatch `json:"config" doc:"settings to change"`
}

// Validate implements Validator.
func (in *ConfigureGitOpsInput) Validate(fe model.FieldErrors) {
	c := in.Config
	if c.GitBranch != nil {
		if *c.GitBranch == "" {
			fe.Add("config.gitBranch", "must not be empty")
		}
		checkBranch(fe, "config.gitBranch", *c.GitBranch)
	}
	if c.GitPath != nil {
		if *c.GitPath == "" {
			fe.Add("config.gitPath", "must not be empty")
		}
		checkGitPath(fe, "config.gitPath", *c.GitPath)
	}
	if c.SyncInterval != nil {
		if *c.SyncInterval == "" {
			fe.Add("config.syncInterval", "must not be empty")
		}
		checkDuration(fe, "config.syncInterval", *c.SyncInterval)
	}
}

// GitOpsConfigView is an environment's GitOps config with the environment id.
type GitOpsConfigView struct {
	EnvironmentID string `json:"environmentId"`
	model.GitOpsConfig
}

// ConfigureGitOps implements environments.configureGitOps (configureEnvironmentGitOps).
func (s *Services) ConfigureGitOps(ctx context.Context, in ConfigureGitOpsInput) (GitOpsConfigView, error) {
	e, err := s.configureEnvironmentGitOps(ctx, in.EnvironmentID, in.Config)
	if err != nil {
		return GitOpsConfigView{}, err
	}
	return GitOpsConfigView{EnvironmentID: e.ID, GitOpsConfig: e.GitOpsConfig}, nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// GetGitOpsConfigInput is environments.getGitOpsConfig's input.
type GetGitOpsConfigInput struct {
	EnvironmentID string `json:"environmentId" required:"true" doc:"environment id"`
}

// GetGitOpsConfig implements environments.getGitOpsConfig.
func (s *Services) GetGitOpsConfig(_ context.Context, in GetGitOpsConfigInput) (GitOpsConfigView, error) {
	e, err := s.environment(in.EnvironmentID)
	if err != nil {
		return GitOpsConfigView{}, err
	}
	return GitOpsConfigView{EnvironmentID: e.ID, GitOpsConfig: e.GitOpsConfig}, nil
}
