package api

import (
	"encoding/json"
	"time"

	"github.com/gitopstui/gitopstui/model"
)

// EnableGitOpsInput is repositories.enableGitOps's input.
type EnableGitOpsInput struct {
	RepositoryID string             `json:"repositoryId" required:"true" doc:"repository id"`
	Config       EnableGitOpsConfig `json:"config" doc:"Flux source settings"`
	ClusterID    string             `json:"clusterId,omitempty" doc:"cluster to create the GitRepository on (default every cluster of the project's environments)"`
}

// Validate checks the input beyond types and required fields.
func (in *EnableGitOpsInput) Validate(fe model.FieldErrors) {
	checkDNSLabel(fe, "config.fluxNamespace", in.Config.FluxNamespace)
	checkDuration(fe, "config.syncInterval", in.Config.SyncInterval)
	if in.Config.SecretRef != "" {
		checkDNSLabel(fe, "config.secretRef", in.Config.SecretRef)
	}
}

// EnableGitOpsConfig is the Flux source configuration of a repository.
type EnableGitOpsConfig struct {
	FluxNamespace string `json:"fluxNamespace,omitempty" doc:"namespace of Flux (default flux-system)"`
	SyncInterval  string `json:"syncInterval,omitempty" doc:"how often Flux fetches (default 1m)"`
	SecretRef     string `json:"secretRef,omitempty" doc:"Secret with the Git credentials, in the Flux namespace"`
}

// EnableGitOpsResult is repositories.enableGitOps's result.
type EnableGitOpsResult struct {
	Success          bool     `json:"success"`
	FluxResourceName string   `json:"fluxResourceName"`
	Namespace        string   `json:"namespace"`
	Clusters         []string `json:"clusters"`
}

// FluxStatusInput is repositories.getFluxStatus's input.
type FluxStatusInput struct {
	RepositoryID string `json:"repositoryId" required:"true" doc:"repository id"`
}

// FluxStatus is repositories.getFluxStatus's result.
type FluxStatus struct {
	SyncStatus       SyncStatus `json:"syncStatus"`
	LastSyncCommit   string     `json:"lastSyncCommit"`
	LastSyncTime     string     `json:"lastSyncTime"`
	ErrorMessage     string     `json:"errorMessage,omitempty"`
	RepositoryID     string     `json:"repositoryId"`
	FluxResourceName string     `json:"fluxResourceName"`
}

// HealthCheck names an object a Kustomization waits for.
type HealthCheck struct {
	APIVersion string `json:"apiVersion" required:"true" doc:"e.g. apps/v1"`
	Kind       string `json:"kind" required:"true" doc:"e.g. Deployment"`
	Name       string `json:"name" required:"true" doc:"object name"`
	Namespace  string `json:"namespace,omitempty" doc:"object namespace (default the environment's)"`
}

// DependsOnRef names a Flux object this one waits for.
type DependsOnRef struct {
	Name      string `json:"name" required:"true" doc:"name of the Kustomization or HelmRelease"`
	Namespace string `json:"namespace,omitempty" doc:"its namespace (default the same)"`
}

// ValuesFromRef is a HelmRelease's values source.
type ValuesFromRef struct {
	Kind       string `json:"kind" required:"true" doc:"ConfigMap or Secret"`
	Name       string `json:"name" required:"true" doc:"its name"`
	ValuesKey  string `json:"valuesKey,omitempty" doc:"key holding the values (default values.yaml)"`
	TargetPath string `json:"targetPath,omitempty" doc:"values path to set the key's value at"`
}

// InstallRemediation is a HelmRelease's install remediation.
type InstallRemediation struct {
	Retries *int `json:"retries" required:"true" doc:"retries before giving up (-1: forever)"`
}

// InstallConfig is a HelmRelease's install settings.
type InstallConfig struct {
	Remediation     *InstallRemediation `json:"remediation,omitempty" doc:"install remediation"`
	CreateNamespace *bool               `json:"createNamespace,omitempty" doc:"create the target namespace"`
	// DisableWait is a gitopstui extension: spec.install.disableWait.
	DisableWait *bool `json:"disableWait,omitempty" doc:"do not wait for the installed objects to be ready"`
}

// UpgradeRemediation is a HelmRelease's upgrade remediation.
type UpgradeRemediation struct {
	Retries              *int  `json:"retries" required:"true" doc:"retries before giving up (-1: forever)"`
	RemediateLastFailure *bool `json:"remediateLastFailure" required:"true" doc:"remediate the last failure"`
}

// UpgradeConfig is a HelmRelease's upgrade settings.
type UpgradeConfig struct {
	Remediation   *UpgradeRemediation `json:"remediation,omitempty" doc:"upgrade remediation"`
	CleanupOnFail *bool               `json:"cleanupOnFail,omitempty" doc:"delete new resources of a failed upgrade"`
	// DisableWait is a gitopstui extension: spec.upgrade.disableWait.
	DisableWait *bool `json:"disableWait,omitempty" doc:"do not wait for the upgraded objects to be ready"`
}

// ChartSource names a HelmRelease's chart source beyond sourceType (an
// extension: by default a GitRepository chart comes from the environment's
// repository and branch).
type ChartSource struct {
	Name      string `json:"name,omitempty" doc:"source name (default the environment's GitRepository, or the release name for a HelmRepository with url)"`
	URL       string `json:"url,omitempty" doc:"HelmRepository URL: gitopstui creates the HelmRepository"`
	Namespace string `json:"namespace,omitempty" doc:"source namespace (default the Flux namespace)"`
}

// ResourceConfig is a Kustomization's or HelmRelease's settings. Durations
// and references are checked by the API server against Flux's CRDs, so what
// gitopstui accepts is what Flux accepts.
type ResourceConfig struct {
	Path          string         `json:"path,omitempty" doc:"kustomization: path in the repository (default the environment's gitPath)"`
	Prune         *bool          `json:"prune,omitempty" doc:"kustomization: delete what leaves Git (default true)"`
	HealthChecks  []HealthCheck  `json:"healthChecks,omitempty" doc:"kustomization: objects to wait for"`
	DependsOn     []DependsOnRef `json:"dependsOn,omitempty" doc:"objects to wait for first"`
	Interval      string         `json:"interval,omitempty" doc:"reconcile interval (default the environment's syncInterval)"`
	Timeout       string         `json:"timeout,omitempty" doc:"timeout of apply and health checks"`
	RetryInterval string         `json:"retryInterval,omitempty" doc:"interval between retries after a failure"`
	Wait          *bool          `json:"wait,omitempty" doc:"kustomization: wait for every applied object to be ready"`

	ChartName    string          `json:"chartName,omitempty" doc:"helm: chart name (HelmRepository) or path in the repository (GitRepository)"`
	ChartVersion string          `json:"chartVersion,omitempty" doc:"helm: chart version (semver range)"`
	SourceType   SourceType      `json:"sourceType,omitempty" doc:"helm: chart source kind (default GitRepository: the environment's repository)"`
	Values       json.RawMessage `json:"values,omitempty" doc:"helm: values" audit:"digest"`
	ValuesFrom   []ValuesFromRef `json:"valuesFrom,omitempty" doc:"helm: values from ConfigMaps/Secrets"`
	Install      *InstallConfig  `json:"install,omitempty" doc:"helm: install settings"`
	Upgrade      *UpgradeConfig  `json:"upgrade,omitempty" doc:"helm: upgrade settings"`
	Source       *ChartSource    `json:"source,omitempty" doc:"helm: chart source name, URL or namespace"`
	ReleaseName  string          `json:"releaseName,omitempty" doc:"helm: release name (default the resource name)"`
}

// CreateResourceInput is gitops.createGitOpsResource's input.
type CreateResourceInput struct {
	ProjectID     string         `json:"projectId" required:"true" doc:"project id"`
	EnvironmentID string         `json:"environmentId" required:"true" doc:"environment id"`
	RepositoryID  string         `json:"repositoryId,omitempty" doc:"repository (default the environment's)"`
	Type          ResourceType   `json:"type" required:"true" doc:"kustomization or helm"`
	Name          string         `json:"name" required:"true" doc:"name of the Flux object"`
	Namespace     string         `json:"namespace,omitempty" doc:"namespace of the Flux object (default the Flux namespace)"`
	Config        ResourceConfig `json:"config" doc:"settings"`
}

// Validate checks the input beyond types and required fields.
func (in *CreateResourceInput) Validate(fe model.FieldErrors) {
	checkDNSLabel(fe, "name", in.Name)
	checkDNSLabel(fe, "namespace", in.Namespace)
	in.Config.Check(fe, "config.", in.Type)
}

// Check reports the settings that do not fit a resource of type typ, each
// under prefix+field.
func (c *ResourceConfig) Check(fe model.FieldErrors, prefix string, typ ResourceType) {
	if c.Path != "" {
		checkGitPath(fe, prefix+"path", c.Path)
	}
	if typ == TypeHelm {
		if c.ChartName == "" {
			fe.Add(prefix+"chartName", "required for a helm resource")
		}
		if c.Path != "" || c.Prune != nil || len(c.HealthChecks) > 0 || c.Wait != nil {
			fe.Add(prefix[:len(prefix)-1], "path, prune, healthChecks and wait are kustomization settings")
		}
		if c.Source != nil && c.Source.URL != "" && c.SourceType != SourceHelmRepository {
			fe.Add(prefix+"source.url", "only for sourceType HelmRepository")
		}
	} else if c.ChartName != "" || c.ChartVersion != "" || c.SourceType != "" || c.Source != nil || c.Values != nil ||
		len(c.ValuesFrom) > 0 || c.Install != nil || c.Upgrade != nil || c.ReleaseName != "" {
		fe.Add(prefix[:len(prefix)-1], "chartName, values and the other helm settings need type helm")
	}
	if len(c.Values) > 0 && c.Values[0] != '{' {
		fe.Add(prefix+"values", "must be an object")
	}
	for _, d := range []struct{ field, v string }{{"interval", c.Interval}, {"timeout", c.Timeout}, {"retryInterval", c.RetryInterval}} {
		checkDuration(fe, prefix+d.field, d.v)
	}
}

// ResourceSummary is gitops.createGitOpsResource's result.
type ResourceSummary struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Status    string    `json:"status" doc:"pending | ready | reconciling | failed"`
	CreatedAt time.Time `json:"createdAt"`
}

// ListResourcesInput filters gitops.listGitOpsResources.
type ListResourcesInput struct {
	ProjectID     string       `json:"projectId,omitempty" doc:"only this project (the reference requires it; without it every project is listed)"`
	ClusterID     string       `json:"clusterId,omitempty" doc:"only resources of environments on this cluster"`
	EnvironmentID string       `json:"environmentId,omitempty" doc:"only this environment"`
	Type          ResourceType `json:"type,omitempty" doc:"only this type"`
	Status        string       `json:"status,omitempty" doc:"only this status; !status for every other"`
	Suspended     *bool        `json:"suspended,omitempty" doc:"only suspended (true) or running (false) resources"`
}

// Validate checks the input beyond types and required fields.
func (in *ListResourcesInput) Validate(fe model.FieldErrors) {
	checkStatusFilter(fe, "status", in.Status)
}

// EnvSummary is the short form of a resource's environment.
type EnvSummary struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	ClusterID string `json:"clusterId"`
}

// RepoSummary is the short form of a resource's repository.
type RepoSummary struct {
	ID       string `json:"id"`
	FullName string `json:"fullName"`
	URL      string `json:"url"`
}

// ResourceView is one item of gitops.listGitOpsResources.
type ResourceView struct {
	ID                    string      `json:"id"`
	Name                  string      `json:"name"`
	Type                  string      `json:"type"`
	Status                string      `json:"status"`
	LastAppliedRevision   string      `json:"lastAppliedRevision"`
	ErrorMessage          string      `json:"errorMessage,omitempty"`
	Environment           EnvSummary  `json:"environment"`
	Repository            RepoSummary `json:"repository"`
	CreatedAt             time.Time   `json:"createdAt"`
	UpdatedAt             time.Time   `json:"updatedAt"`
	Namespace             string      `json:"namespace"`
	ProjectID             string      `json:"projectId"`
	EnvironmentID         string      `json:"environmentId"`
	RepositoryID          string      `json:"repositoryId"`
	Suspended             bool        `json:"suspended"`
	LastAttemptedRevision string      `json:"lastAttemptedRevision"`
	ObservedAt            *time.Time  `json:"observedAt,omitempty"`
	DeletedAt             *time.Time  `json:"deletedAt,omitempty"`
	// Extensions: the diagnosis class and the suspension's annotations.
	Diagnosis  string      `json:"diagnosis,omitempty"`
	Suspension *Suspension `json:"suspension,omitempty"`
}

// NewResourceView is resource r as listGitOpsResources returns it, with
// its environment's and repository's short forms.
func NewResourceView(r model.GitOpsResource, e EnvSummary, rp RepoSummary) ResourceView {
	return ResourceView{ID: r.ID, Name: r.Name, Type: r.Type, Status: r.Status, LastAppliedRevision: r.LastAppliedRevision,
		ErrorMessage: r.ErrorMessage, Environment: e, Repository: rp, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Namespace: r.Namespace, ProjectID: r.ProjectID, EnvironmentID: r.EnvironmentID, RepositoryID: r.RepositoryID,
		Suspended: r.Suspended, LastAttemptedRevision: r.LastAttemptedRevision, ObservedAt: r.ObservedAt, DeletedAt: r.DeletedAt,
		Diagnosis: r.Diagnosis, Suspension: suspensionOf(r)}
}

// Event is a Kubernetes event of a resource.
type Event struct {
	Type      string    `json:"type"`
	Reason    string    `json:"reason"`
	Message   string    `json:"message"`
	Timestamp time.Time `json:"timestamp"`
	Count     int32     `json:"count"`
}

// ResourceDetail is gitops.getGitOpsResource's result.
type ResourceDetail struct {
	ResourceView
	Config     json.RawMessage `json:"config"`
	Conditions []Condition     `json:"conditions"`
	Events     []Event         `json:"events"`
	// Extensions: what the cluster says beyond the conditions.
	DependsOn              []string   `json:"dependsOn,omitempty"`
	SourceRef              string     `json:"sourceRef,omitempty"`
	LastHandledReconcileAt string     `json:"lastHandledReconcileAt,omitempty"`
	LiveObservedAt         *time.Time `json:"liveObservedAt,omitempty"`
	Chain                  []string   `json:"chain,omitempty"`
	LiveErr                string     `json:"liveError,omitempty"`
	Manifest               string     `json:"manifest,omitempty"`
	Diagnosis              *Diagnosis `json:"diagnosis,omitempty"`
}

// UpdateResourceInput is gitops.updateGitOpsResource's input.
type UpdateResourceInput struct {
	ID     string          `json:"id" required:"true" doc:"resource id"`
	Config json.RawMessage `json:"config" required:"true" doc:"settings to merge into the current config (JSON merge patch)"`
}

// UpdateResult is gitops.updateGitOpsResource's result.
type UpdateResult struct {
	ID        string    `json:"id"`
	UpdatedAt time.Time `json:"updatedAt"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Status    string    `json:"status"`
}

// TriggerSyncInput is gitops.triggerSync's input.
type TriggerSyncInput struct {
	ID          string `json:"id" required:"true" doc:"resource id"`
	WaitSeconds int    `json:"waitSeconds,omitempty" doc:"wait up to this many seconds for Flux to handle it (default 0: trigger and return)"`
}

// Validate checks the input beyond types and required fields.
func (in *TriggerSyncInput) Validate(fe model.FieldErrors) {
	if in.WaitSeconds < 0 || in.WaitSeconds > 600 {
		fe.Add("waitSeconds", "must be between 0 and 600")
	}
}

// SyncResult is gitops.triggerSync's result. SyncedAt is when the sync was
// requested, or when Flux handled it if the call waited for that.
type SyncResult struct {
	Success     bool      `json:"success"`
	Message     string    `json:"message"`
	SyncedAt    time.Time `json:"syncedAt"`
	RequestedAt string    `json:"requestedAt"`
	Handled     bool      `json:"handled"`
	Revision    string    `json:"revision,omitempty"`
	Status      string    `json:"status,omitempty"`
}

// StatusEvent tells subscribers that a resource's stored status changed,
// that a deployment was recorded or completed, or (Changed) that a
// mutation changed stored records.
type StatusEvent struct {
	Resource   model.GitOpsResource `json:"resource"`
	Deployment *model.Deployment    `json:"deployment,omitempty"`
	Changed    *ChangeNote          `json:"changed,omitempty"`
	Fleet      *FleetEvent          `json:"fleet,omitempty"`
}

// Kinds of stored records a ChangeNote names.
const (
	KindClusters     = "clusters"
	KindProjects     = "projects"
	KindEnvironments = "environments"
	KindRepositories = "repositories"
	KindResources    = "resources"
	KindDeployments  = "deployments"
)

// ChangeNote says that a successful mutation changed stored records: the
// procedure that ran, the kinds of records it may have changed (Kind*
// constants; none when it changed nothing in the store, as a commit to Git
// alone) and the ids it named or created (empty when unknown: any record of
// those kinds may have changed).
type ChangeNote struct {
	Procedure string   `json:"procedure"`
	Kinds     []string `json:"kinds,omitempty"`
	IDs       []string `json:"ids,omitempty"`
}

// Procedures of Flux sources and GitOps resources.
var (
	EnableGitOps = mutation[EnableGitOpsInput, EnableGitOpsResult]("repositories.enableGitOps", model.RoleAdmin,
		"Create or update the Flux GitRepository of a repository")
	GetFluxStatus = query[FluxStatusInput, FluxStatus]("repositories.getFluxStatus",
		"Get the Flux sync status of a repository")
	CreateGitOpsResource = mutation[CreateResourceInput, ResourceSummary]("gitops.createGitOpsResource", model.RoleOperator,
		"Create a Flux Kustomization or HelmRelease for an environment")
	ListGitOpsResources = query[ListResourcesInput, []ResourceView]("gitops.listGitOpsResources",
		"List GitOps resources with their live status")
	GetGitOpsResource = query[IDInput, ResourceDetail]("gitops.getGitOpsResource",
		"Get a GitOps resource with conditions, events and revisions")
	UpdateGitOpsResource = mutation[UpdateResourceInput, UpdateResult]("gitops.updateGitOpsResource", model.RoleOperator,
		"Change a GitOps resource's config and re-apply it")
	DeleteGitOpsResource = mutation[IDInput, Deleted]("gitops.deleteGitOpsResource", model.RoleOperator,
		"Delete a GitOps resource (soft: its record stays with deletedAt)")
	TriggerSync = mutation[TriggerSyncInput, SyncResult]("gitops.triggerSync", model.RoleOperator,
		"Ask Flux to reconcile the source and the resource now")
	SuspendGitOpsResource = mutation[SuspendInput, ResourceSummary]("gitops.suspendGitOpsResource", model.RoleOperator,
		"Suspend a resource's reconciliation")
	ResumeGitOpsResource = mutation[IDInput, ResourceSummary]("gitops.resumeGitOpsResource", model.RoleOperator,
		"Resume a resource's reconciliation")
)
