package api

import "github.com/gitopstui/gitopstui/model"

// ResourceType is a GitOps resource's type: 'kustomization' | 'helm'.
type ResourceType string

// Resource types.
const (
	TypeKustomization ResourceType = model.ResourceKustomization
	TypeHelm          ResourceType = model.ResourceHelm
)

// Values implements Enum.
func (ResourceType) Values() []string {
	return []string{string(TypeKustomization), string(TypeHelm)}
}

// SourceType is where a HelmRelease's chart comes from: 'GitRepository' | 'HelmRepository'.
type SourceType string

// Chart source types.
const (
	SourceGitRepository  SourceType = "GitRepository"
	SourceHelmRepository SourceType = "HelmRepository"
)

// Values implements Enum.
func (SourceType) Values() []string {
	return []string{string(SourceGitRepository), string(SourceHelmRepository)}
}

// DeploymentMethod is how a deployment reached its environment:
// 'manual' | 'gitops-ui' | 'gitops-git' | 'pipeline'.
type DeploymentMethod string

// Deployment methods.
const (
	MethodManual    DeploymentMethod = model.MethodManual
	MethodGitOpsUI  DeploymentMethod = model.MethodGitOpsUI
	MethodGitOpsGit DeploymentMethod = model.MethodGitOpsGit
	MethodPipeline  DeploymentMethod = model.MethodPipeline
)

// Values implements Enum.
func (DeploymentMethod) Values() []string { return model.DeploymentMethods }

// DeploymentStatus is a deployment's state: 'pending' | 'success' | 'failed'.
type DeploymentStatus string

// Deployment statuses.
const (
	DeployPending DeploymentStatus = model.DeployPending
	DeploySuccess DeploymentStatus = model.DeploySuccess
	DeployFailed  DeploymentStatus = model.DeployFailed
)

// Values implements Enum.
func (DeploymentStatus) Values() []string {
	return []string{model.DeployPending, model.DeploySuccess, model.DeployFailed}
}

// Health is Flux's overall health: 'healthy' | 'degraded' | 'unhealthy'.
type Health string

// Health values.
const (
	HealthHealthy   Health = "healthy"
	HealthDegraded  Health = "degraded"
	HealthUnhealthy Health = "unhealthy"
)

// Values implements Enum.
func (Health) Values() []string {
	return []string{string(HealthHealthy), string(HealthDegraded), string(HealthUnhealthy)}
}

// SyncStatus is a Flux source's sync state: 'ready' | 'reconciling' | 'failed'.
type SyncStatus string

// Sync statuses.
const (
	SyncReady       SyncStatus = model.SyncReady
	SyncReconciling SyncStatus = model.SyncReconciling
	SyncFailed      SyncStatus = model.SyncFailed
)

// Values implements Enum.
func (SyncStatus) Values() []string {
	return []string{model.SyncReady, model.SyncReconciling, model.SyncFailed}
}
