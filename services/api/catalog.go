package api

import (
	"time"

	"github.com/gitopstui/gitopstui/model"
)

// CreateProjectInput is projects.create's input.
type CreateProjectInput struct {
	ID   string `json:"id,omitempty" doc:"project id (generated from the name when empty)"`
	Name string `json:"name" required:"true" doc:"display name"`
}

// Validate checks the input beyond types and required fields.
func (in *CreateProjectInput) Validate(fe model.FieldErrors) {
	checkID(fe, "id", in.ID)
	checkDisplayName(fe, "name", &in.Name)
}

// ProjectView is a project with its environments and repositories.
type ProjectView struct {
	model.Project
	Environments []model.Environment `json:"environments"`
	Repositories []model.Repository  `json:"repositories"`
}

// Empty is the input of procedures that take none.
type Empty struct{}

// CreateEnvironmentInput is environments.create's input.
type CreateEnvironmentInput struct {
	ID        string `json:"id,omitempty" doc:"environment id (generated when empty)"`
	ProjectID string `json:"projectId" required:"true" doc:"project id"`
	Name      string `json:"name" required:"true" doc:"environment name (RFC 1123 label, e.g. prod)"`
	ClusterID string `json:"clusterId" required:"true" doc:"cluster id"`
	Namespace string `json:"namespace" required:"true" doc:"Kubernetes namespace"`
}

// Validate checks the input beyond types and required fields.
func (in *CreateEnvironmentInput) Validate(fe model.FieldErrors) {
	checkID(fe, "id", in.ID)
	checkDNSLabel(fe, "name", in.Name)
	checkDNSLabel(fe, "namespace", in.Namespace)
}

// ListEnvironmentsInput filters environments.list.
type ListEnvironmentsInput struct {
	ProjectID string `json:"projectId,omitempty" doc:"only this project's environments"`
	ClusterID string `json:"clusterId,omitempty" doc:"only environments on this cluster"`
}

// UpdateEnvironmentInput is environments.update's input: absent fields stay.
type UpdateEnvironmentInput struct {
	ID        string  `json:"id" required:"true" doc:"environment id"`
	Name      *string `json:"name,omitempty" doc:"new name"`
	ClusterID *string `json:"clusterId,omitempty" doc:"new cluster id"`
	Namespace *string `json:"namespace,omitempty" doc:"new namespace"`
}

// Validate checks the input beyond types and required fields.
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

// Validate checks the input beyond types and required fields.
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

// GitOpsConfigView is environments.getGitOpsConfig's result: the
// environment's GitOps config (repositoryId and environmentId are extensions).
type GitOpsConfigView struct {
	Enabled       bool   `json:"enabled"`
	AutoSync      bool   `json:"autoSync"`
	GitBranch     string `json:"gitBranch"`
	GitPath       string `json:"gitPath"`
	SyncInterval  string `json:"syncInterval"`
	RepositoryID  string `json:"repositoryId"`
	EnvironmentID string `json:"environmentId"`
}

// ConfigureGitOpsResult is environments.configureGitOps's result.
type ConfigureGitOpsResult struct {
	Success bool             `json:"success"`
	Message string           `json:"message"`
	Config  GitOpsConfigView `json:"config"`
}

// GetGitOpsConfigInput is environments.getGitOpsConfig's input.
type GetGitOpsConfigInput struct {
	EnvironmentID string `json:"environmentId" required:"true" doc:"environment id"`
}

// RegisterClusterInput is clusters.register's input.
type RegisterClusterInput struct {
	ID         string `json:"id,omitempty" doc:"cluster id (generated from the name when empty)"`
	Name       string `json:"name" required:"true" doc:"display name"`
	Kubeconfig string `json:"kubeconfig,omitempty" doc:"kubeconfig file (default $KUBECONFIG, then ~/.kube/config)"`
	Context    string `json:"context,omitempty" doc:"kubeconfig context (default the current one)"`
}

// Validate checks the input beyond types and required fields.
func (in *RegisterClusterInput) Validate(fe model.FieldErrors) {
	checkID(fe, "id", in.ID)
	checkDisplayName(fe, "name", &in.Name)
}

// ClusterView is a cluster with, when asked, its live status.
type ClusterView struct {
	model.Cluster
	Status *ClusterStatus `json:"status,omitempty"`
}

// ClusterStatus is what a live check of a cluster found.
type ClusterStatus struct {
	Reachable     bool      `json:"reachable"`
	ServerVersion string    `json:"serverVersion,omitempty"`
	K3s           bool      `json:"k3s"`
	Nodes         int       `json:"nodes"`
	NodesReady    int       `json:"nodesReady"`
	FluxInstalled bool      `json:"fluxInstalled"`
	FluxVersion   string    `json:"fluxVersion,omitempty"`
	Error         string    `json:"error,omitempty"`
	CheckedAt     time.Time `json:"checkedAt"`
}

// IDInput selects one record.
type IDInput struct {
	ID string `json:"id" required:"true" doc:"record id"`
}

// ClusterGetInput is clusters.get's input.
type ClusterGetInput struct {
	ID   string `json:"id" required:"true" doc:"cluster id"`
	Live *bool  `json:"live,omitempty" doc:"check the cluster live (default true)"`
}

// ClusterListInput is clusters.list's input.
type ClusterListInput struct {
	Live *bool `json:"live,omitempty" doc:"check each cluster live (default true)"`
}

// RemoveInput deletes a record; force also removes what depends on it.
type RemoveInput struct {
	ID    string `json:"id" required:"true" doc:"record id"`
	Force bool   `json:"force,omitempty" doc:"also remove what depends on it"`
}

// ImportKubeconfigInput is clusters.importKubeconfig's input.
type ImportKubeconfigInput struct {
	Kubeconfig string `json:"kubeconfig,omitempty" doc:"kubeconfig file (default $KUBECONFIG, then ~/.kube/config)"`
}

// ImportResult lists the clusters made and the contexts already registered.
type ImportResult struct {
	Imported []ClusterView   `json:"imported"`
	Skipped  []model.Cluster `json:"skipped"`
}

// Deleted is the result of a delete.
type Deleted struct {
	Success bool   `json:"success"`
	ID      string `json:"id"`
}

// CreateRepositoryInput is repositories.create's input.
type CreateRepositoryInput struct {
	ID            string          `json:"id,omitempty" doc:"repository id (generated when empty)"`
	ProjectID     string          `json:"projectId" required:"true" doc:"project id"`
	FullName      string          `json:"fullName" required:"true" doc:"owner/name, e.g. acme/shop-config"`
	URL           string          `json:"url" required:"true" doc:"clone URL (https://, ssh:// or git@host:path)"`
	DefaultBranch string          `json:"defaultBranch,omitempty" doc:"default branch (main)"`
	Auth          *model.RepoAuth `json:"auth,omitempty" doc:"where credentials come from (a reference, never a secret)"`
}

// Validate checks the input beyond types and required fields.
func (in *CreateRepositoryInput) Validate(fe model.FieldErrors) {
	checkID(fe, "id", in.ID)
	checkFullName(fe, in.FullName)
	checkGitURL(fe, "url", in.URL)
	checkBranch(fe, "defaultBranch", in.DefaultBranch)
	checkAuth(fe, in.Auth)
}

// ListRepositoriesInput filters repositories.list.
type ListRepositoriesInput struct {
	ProjectID string `json:"projectId,omitempty" doc:"only this project's repositories"`
}

// UpdateRepositoryInput is repositories.update's input: absent fields stay.
type UpdateRepositoryInput struct {
	ID            string          `json:"id" required:"true" doc:"repository id"`
	FullName      *string         `json:"fullName,omitempty" doc:"owner/name"`
	URL           *string         `json:"url,omitempty" doc:"clone URL"`
	DefaultBranch *string         `json:"defaultBranch,omitempty" doc:"default branch"`
	Auth          *model.RepoAuth `json:"auth,omitempty" doc:"credential reference"`
}

// Validate checks the input beyond types and required fields.
func (in *UpdateRepositoryInput) Validate(fe model.FieldErrors) {
	if in.FullName != nil {
		if *in.FullName == "" {
			fe.Add("fullName", "must not be empty")
		}
		checkFullName(fe, *in.FullName)
	}
	if in.URL != nil {
		if *in.URL == "" {
			fe.Add("url", "must not be empty")
		}
		checkGitURL(fe, "url", *in.URL)
	}
	if in.DefaultBranch != nil {
		if *in.DefaultBranch == "" {
			fe.Add("defaultBranch", "must not be empty")
		}
		checkBranch(fe, "defaultBranch", *in.DefaultBranch)
	}
	checkAuth(fe, in.Auth)
}

// Procedures of the catalog: clusters, projects, environments, repositories.
var (
	RegisterCluster = mutation[RegisterClusterInput, ClusterView]("clusters.register", model.RoleAdmin,
		"Register a cluster by kubeconfig context (works offline; reachability is reported separately)")
	ImportKubeconfig = mutation[ImportKubeconfigInput, ImportResult]("clusters.importKubeconfig", model.RoleAdmin,
		"Register one cluster per context of a kubeconfig")
	ListClusters  = query[ClusterListInput, []ClusterView]("clusters.list", "List clusters with their live status")
	GetCluster    = query[ClusterGetInput, ClusterView]("clusters.get", "Get a cluster with its live status")
	RemoveCluster = mutation[RemoveInput, Deleted]("clusters.remove", model.RoleAdmin,
		"Remove a cluster from the catalog (refused while environments use it, unless force)")

	CreateProject = mutation[CreateProjectInput, model.Project]("projects.create", model.RoleAdmin, "Create a project")
	ListProjects  = query[Empty, []model.Project]("projects.list", "List projects")
	GetProject    = query[IDInput, ProjectView]("projects.get", "Get a project with its environments and repositories")
	DeleteProject = mutation[RemoveInput, Deleted]("projects.delete", model.RoleAdmin,
		"Delete a project (refused while it has environments, unless force)")

	CreateEnvironment = mutation[CreateEnvironmentInput, model.Environment]("environments.create", model.RoleAdmin,
		"Create an environment of a project on a cluster namespace")
	ListEnvironments  = query[ListEnvironmentsInput, []model.Environment]("environments.list", "List environments")
	GetEnvironment    = query[IDInput, model.Environment]("environments.get", "Get an environment")
	UpdateEnvironment = mutation[UpdateEnvironmentInput, model.Environment]("environments.update", model.RoleAdmin,
		"Update an environment's name, cluster or namespace")
	DeleteEnvironment = mutation[RemoveInput, Deleted]("environments.delete", model.RoleAdmin,
		"Delete an environment (refused while it has GitOps resources, unless force)")
	ConfigureGitOps = mutation[ConfigureGitOpsInput, ConfigureGitOpsResult]("environments.configureGitOps", model.RoleOperator,
		"Set an environment's GitOps config (branch, path, interval, autoSync, repository)")
	GetGitOpsConfig = query[GetGitOpsConfigInput, GitOpsConfigView]("environments.getGitOpsConfig",
		"Get an environment's GitOps config")

	CreateRepository = mutation[CreateRepositoryInput, model.Repository]("repositories.create", model.RoleAdmin,
		"Register a Git repository of a project")
	ListRepositories = query[ListRepositoriesInput, []model.Repository]("repositories.list", "List repositories")
	GetRepository    = query[IDInput, model.Repository]("repositories.get", "Get a repository")
	UpdateRepository = mutation[UpdateRepositoryInput, model.Repository]("repositories.update", model.RoleAdmin,
		"Update a repository's URL, branch or auth reference")
	DeleteRepository = mutation[RemoveInput, Deleted]("repositories.delete", model.RoleAdmin,
		"Delete a repository (refused while environments use it, unless force)")
)
