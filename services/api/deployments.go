package api

import "github.com/gitopstui/gitopstui/model"

// CreateDeploymentInput is deployments.create's input.
type CreateDeploymentInput struct {
	ProjectID        string           `json:"projectId" required:"true" doc:"project id"`
	EnvironmentID    string           `json:"environmentId" required:"true" doc:"environment id"`
	DeploymentMethod DeploymentMethod `json:"deploymentMethod" required:"true" doc:"how it was deployed"`
	Image            string           `json:"image,omitempty" doc:"image deployed"`
	Replicas         *int32           `json:"replicas,omitempty" doc:"replicas deployed"`
	GitCommitSha     string           `json:"gitCommitSha,omitempty" doc:"commit deployed"`
	GitCommitURL     string           `json:"gitCommitUrl,omitempty" doc:"web URL of the commit"`
	GitOpsResourceID string           `json:"gitopsResourceId,omitempty" doc:"GitOps resource that applied it"`
	Status           DeploymentStatus `json:"status,omitempty" doc:"status (default pending)"`
	Message          string           `json:"message,omitempty" doc:"what was deployed and why"`
	ErrorMessage     string           `json:"errorMessage,omitempty" doc:"why it failed"`
}

// Validate checks the input beyond types and required fields.
func (in *CreateDeploymentInput) Validate(fe model.FieldErrors) {
	if in.Replicas != nil && *in.Replicas < 0 {
		fe.Add("replicas", "must be 0 or more")
	}
	if in.GitCommitSha != "" && !isHexSHA(in.GitCommitSha) {
		fe.Add("gitCommitSha", "must be a hex commit id of 7 to 64 characters")
	}
	if (in.DeploymentMethod == MethodGitOpsUI || in.DeploymentMethod == MethodGitOpsGit) && in.GitCommitSha == "" {
		fe.Add("gitCommitSha", "required for deploymentMethod "+string(in.DeploymentMethod))
	}
}

// ListDeploymentsInput filters deployments.list, newest first. Paging keeps
// the result an array: pass the id of the last item seen as before.
type ListDeploymentsInput struct {
	ProjectID        string           `json:"projectId,omitempty" doc:"only this project"`
	EnvironmentID    string           `json:"environmentId,omitempty" doc:"only this environment"`
	DeploymentMethod DeploymentMethod `json:"deploymentMethod,omitempty" doc:"only this method"`
	Status           DeploymentStatus `json:"status,omitempty" doc:"only this status"`
	GitOpsResourceID string           `json:"gitopsResourceId,omitempty" doc:"only deployments applied by this resource"`
	Limit            int              `json:"limit,omitempty" doc:"at most this many (default 50, at most 1000)"`
	Before           string           `json:"before,omitempty" doc:"only deployments older than this deployment id (the last one of the previous page)"`
}

// Validate checks the input beyond types and required fields.
func (in *ListDeploymentsInput) Validate(fe model.FieldErrors) {
	checkLimit(fe, in.Limit)
}

func checkLimit(fe model.FieldErrors, limit int) {
	if limit < 0 || limit > 1000 {
		fe.Add("limit", "must be between 1 and 1000")
	}
}

// Page is one page of a paged list.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// PageInput pages a list.
type PageInput struct {
	Limit  int    `json:"limit,omitempty" doc:"page size (default 50, at most 1000)"`
	Cursor string `json:"cursor,omitempty" doc:"nextCursor of the previous page"`
}

// Validate checks the input beyond types and required fields.
func (in *PageInput) Validate(fe model.FieldErrors) { checkLimit(fe, in.Limit) }

// Procedures of the deployment history and the audit log.
var (
	CreateDeployment = mutation[CreateDeploymentInput, model.Deployment]("deployments.create", model.RoleOperator,
		"Record a deployment (manual, pipeline, ...)")
	ListDeployments = query[ListDeploymentsInput, []model.Deployment]("deployments.list",
		"List deployments, newest first (filters project, environment, method, status; limit and before page)")
	GetDeployment = query[IDInput, model.Deployment]("deployments.get", "Get a deployment")
	ListAudit     = Proc[PageInput, Page[model.AuditEntry]]{Name: "audit.list", Role: model.RoleAdmin,
		Description: "List the audit log, newest first (paged)"}
)
