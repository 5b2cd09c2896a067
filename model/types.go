package model

import (
	"encoding/json"
	"time"
)

// Cluster is a Kubernetes (typically K3s) cluster reached through a kubeconfig context.
type Cluster struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Kubeconfig string    `json:"kubeconfig"`
	Context    string    `json:"context"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// Project groups environments, repositories and deployments of one application.
type Project struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// GitOpsConfig is an environment's GitOps settings: where in which repository its
// desired state lives and how Flux syncs it.
type GitOpsConfig struct {
	Enabled      bool   `json:"enabled"`
	AutoSync     bool   `json:"autoSync"`
	GitBranch    string `json:"gitBranch"`
	GitPath      string `json:"gitPath"`
	SyncInterval string `json:"syncInterval"`
	RepositoryID string `json:"repositoryId,omitempty"`
}

// Environment is one stage of a project (dev, staging, prod) in a namespace of a cluster.
type Environment struct {
	ID           string       `json:"id"`
	ProjectID    string       `json:"projectId"`
	Name         string       `json:"name"`
	ClusterID    string       `json:"clusterId"`
	Namespace    string       `json:"namespace"`
	GitOpsConfig GitOpsConfig `json:"gitopsConfig"`
	CreatedAt    time.Time    `json:"createdAt"`
	UpdatedAt    time.Time    `json:"updatedAt"`
}

// Auth kinds of a repository's credential reference.
const (
	AuthNone             = "none"
	AuthTokenEnv         = "token-env"
	AuthBasicEnv         = "basic-env"
	AuthSSHKey           = "ssh-key"
	AuthSSHAgent         = "ssh-agent"
	AuthCredentialHelper = "credential-helper"
)

// RepoAuth says where a repository's credentials come from. It is a
// reference only: never a secret value.
type RepoAuth struct {
	Type        string `json:"type"`
	Username    string `json:"username,omitempty"`
	UsernameEnv string `json:"usernameEnv,omitempty"`
	TokenEnv    string `json:"tokenEnv,omitempty"`
	KeyFile     string `json:"keyFile,omitempty"`
	KnownHosts  string `json:"knownHosts,omitempty"`
}

// Sync statuses of a repository's Flux GitRepository.
const (
	SyncReady       = "ready"
	SyncReconciling = "reconciling"
	SyncFailed      = "failed"
	SyncUnknown     = "unknown"
)

// RepoGitOpsConfig is a repository's Flux source settings and its last known sync status.
type RepoGitOpsConfig struct {
	Enabled          bool       `json:"enabled"`
	FluxNamespace    string     `json:"fluxNamespace,omitempty"`
	SyncInterval     string     `json:"syncInterval,omitempty"`
	SecretRef        string     `json:"secretRef,omitempty"`
	FluxResourceName string     `json:"fluxResourceName,omitempty"`
	ClusterIDs       []string   `json:"clusterIds,omitempty"`
	LastSyncStatus   string     `json:"lastSyncStatus,omitempty"`
	LastSyncCommit   string     `json:"lastSyncCommit,omitempty"`
	LastSyncMessage  string     `json:"lastSyncMessage,omitempty"`
	LastSyncAt       *time.Time `json:"lastSyncAt,omitempty"`
	// Sources lists the repository's GitRepositories, one per branch,
	// namespace and cluster that an environment follows.
	Sources []FluxSource `json:"sources,omitempty"`
}

// FluxSource is one Flux GitRepository of a repository: the branch it
// follows, in a namespace of a cluster.
type FluxSource struct {
	ClusterID string `json:"clusterId"`
	Namespace string `json:"namespace"`
	Branch    string `json:"branch"`
	Name      string `json:"name"`
}

// Repository is a Git repository holding a project's manifests.
type Repository struct {
	ID            string           `json:"id"`
	ProjectID     string           `json:"projectId"`
	FullName      string           `json:"fullName"`
	URL           string           `json:"url"`
	DefaultBranch string           `json:"defaultBranch"`
	Auth          *RepoAuth        `json:"auth,omitempty"`
	GitOpsConfig  RepoGitOpsConfig `json:"gitopsConfig"`
	CreatedAt     time.Time        `json:"createdAt"`
	UpdatedAt     time.Time        `json:"updatedAt"`
}

// GitOps resource types.
const (
	ResourceKustomization = "kustomization"
	ResourceHelm          = "helm"
)

// Resource statuses as users see them.
const (
	StatusReady       = "ready"
	StatusReconciling = "reconciling"
	StatusPending     = "pending"
	StatusFailed      = "failed"
	StatusSuspended   = "suspended"
	StatusUnknown     = "unknown"
)

// GitOpsResource is a Flux Kustomization or HelmRelease that gitopstui manages,
// with the status last seen on the cluster. Deleting it sets DeletedAt.
type GitOpsResource struct {
	ID                    string          `json:"id"`
	ProjectID             string          `json:"projectId"`
	EnvironmentID         string          `json:"environmentId"`
	RepositoryID          string          `json:"repositoryId"`
	Name                  string          `json:"name"`
	Namespace             string          `json:"namespace"`
	Type                  string          `json:"type"`
	Config                json.RawMessage `json:"config,omitempty"`
	Status                string          `json:"status"`
	Suspended             bool            `json:"suspended"`
	LastAppliedRevision   string          `json:"lastAppliedRevision,omitempty"`
	LastAttemptedRevision string          `json:"lastAttemptedRevision,omitempty"`
	ErrorMessage          string          `json:"errorMessage,omitempty"`
	ObservedAt            *time.Time      `json:"observedAt,omitempty"`
	CreatedAt             time.Time       `json:"createdAt"`
	UpdatedAt             time.Time       `json:"updatedAt"`
	DeletedAt             *time.Time      `json:"deletedAt,omitempty"`

	// Diagnosis is the class of the object's own conditions (api.Diag*).
	Diagnosis string `json:"diagnosis,omitempty"`
	// SuspendReason, SuspendedBy and SuspendUntil (RFC 3339) are the
	// gitopstui.io/suspend-* annotations of the Flux object.
	SuspendReason string `json:"suspendReason,omitempty"`
	SuspendedBy   string `json:"suspendedBy,omitempty"`
	SuspendUntil  string `json:"suspendUntil,omitempty"`
}

// Deployment methods.
const (
	MethodManual    = "manual"
	MethodGitOpsUI  = "gitops-ui"
	MethodGitOpsGit = "gitops-git"
	MethodPipeline  = "pipeline"
)

// Deployment statuses.
const (
	DeployPending = "pending"
	DeploySuccess = "success"
	DeployFailed  = "failed"
)

// DeploymentMethods lists the valid deployment methods.
var DeploymentMethods = []string{MethodManual, MethodGitOpsUI, MethodGitOpsGit, MethodPipeline}

// Deployment is one change rolled out to an environment.
type Deployment struct {
	ID               string     `json:"id"`
	ProjectID        string     `json:"projectId"`
	EnvironmentID    string     `json:"environmentId"`
	DeploymentMethod string     `json:"deploymentMethod"`
	Status           string     `json:"status"`
	Image            string     `json:"image,omitempty"`
	Replicas         *int32     `json:"replicas,omitempty"`
	GitOpsResourceID string     `json:"gitopsResourceId,omitempty"`
	GitCommitSha     string     `json:"gitCommitSha,omitempty"`
	GitCommitURL     string     `json:"gitCommitUrl,omitempty"`
	Message          string     `json:"message,omitempty"`
	Diff             string     `json:"diff,omitempty"`
	DeployedBy       string     `json:"deployedBy,omitempty"`
	ErrorMessage     string     `json:"errorMessage,omitempty"`
	CreatedAt        time.Time  `json:"createdAt"`
	UpdatedAt        time.Time  `json:"updatedAt"`
	CompletedAt      *time.Time `json:"completedAt,omitempty"`
	// RollbackOf is the deployment this one rolled back (deployments.rollback).
	RollbackOf string `json:"rollbackOf,omitempty"`
	// ReviewBranch is the branch the commit was pushed to for review instead
	// of the environment's branch, CompareURL its web page against that branch.
	ReviewBranch string `json:"reviewBranch,omitempty"`
	CompareURL   string `json:"compareUrl,omitempty"`
	// ReviewCommitSha is the reviewed commit; once a merge of it is applied,
	// GitCommitSha is the applied commit.
	ReviewCommitSha string `json:"reviewCommitSha,omitempty"`
	// ReviewPath and ReviewTree are the environment's gitPath and its tree
	// hash in the reviewed commit: a commit applied by Flux whose tree at
	// ReviewPath is ReviewTree is the review merged (merge, squash or rebase).
	ReviewPath string `json:"reviewPath,omitempty"`
	ReviewTree string `json:"reviewTree,omitempty"`
	// Timeline (an extension) is where the commit got and when: committed,
	// pushed, fetched by the source, applied, healthy or failed.
	Timeline []TimelineStage `json:"timeline,omitempty"`
}

// AuditEntry records one mutation: who called which procedure on what, and how it ended.
type AuditEntry struct {
	ID        string          `json:"id"`
	Time      time.Time       `json:"time"`
	Actor     string          `json:"actor"`
	Role      string          `json:"role,omitempty"`
	Source    string          `json:"source,omitempty"`
	Procedure string          `json:"procedure"`
	Input     json.RawMessage `json:"input,omitempty"`
	Code      Code            `json:"code,omitempty"`
	Message   string          `json:"message,omitempty"`
}
