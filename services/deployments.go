package services

import (
	"context"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

// CreateDeploymentInput is deployments.create's input.
type CreateDeploymentInput struct {
	ProjectID        string `json:"projectId" required:"true" doc:"project id"`
	EnvironmentID    string `json:"environmentId" required:"true" doc:"environment id"`
	DeploymentMethod string `json:"deploymentMethod" required:"true" enum:"manual|gitops-ui|gitops-git|pipeline" doc:"how it was deployed"`
	Image            string `json:"image,omitempty" doc:"image deployed"`
	Replicas         *int32 `json:"replicas,omitempty" doc:"replicas deployed"`
	GitCommitSha     string `json:"gitCommitSha,omitempty" doc:"commit deployed"`
	GitCommitURL     string `json:"gitCommitUrl,omitempty" doc:"web URL of the commit"`
	GitOpsResourceID string `json:"gitopsResourceId,omitempty" doc:"GitOps resource that applied it"`
	Status           string `json:"status,omitempty" enum:"pending|success|failed" doc:"status (default pending)"`
	Message          string `json:"message,omitempty" doc:"what was deployed and why"`
	ErrorMessage     string `json:"errorMessage,omitempty" doc:"why it failed"`
}

// Validate implements Validator.
func (in *CreateDeploymentInput) Validate(fe model.FieldErrors) {
	checkEnum(fe, "deploymentMethod", in.DeploymentMethod, model.DeploymentMethods...)
	checkEnum(fe, "status", in.Status, model.DeployPending, model.DeploySuccess, model.DeployFailed)
	if in.Replicas != nil && *in.Replicas < 0 {
		fe.Add("replicas", "must be 0 or more")
	}
	if in.GitCommitSha != "" && !isHexSHA(in.GitCommitSha) {
		fe.Add("gitCommitSha", "must be a hex commit id of 7 to 64 characters")
	}
	if (in.DeploymentMethod == model.MethodGitOpsUI || in.DeploymentMethod == model.MethodGitOpsGit) && in.GitCommitSha == "" {
		fe.Add("gitCommitSha", "required for deploymentMethod "+in.DeploymentMethod)
	}
}

func isHexSHA(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

func (s *Services) registerDeployments(r *Registry) {
	register(r, "deployments.create", model.RoleOperator, true, "Record a deployment (manual, pipeline, ...)", s.CreateDeployment)
	register(r, "deployments.list", model.RoleViewer, false, "List deployments, newest first (filters project, environment, method; paged)", s.ListDeployments)
	register(r, "deployments.get", model.RoleViewer, false, "Get a deployment", s.GetDeployment)
	register(r, "audit.list", model.RoleAdmin, false, "List the audit log, newest first (paged)", s.ListAudit)
}

// CreateDeployment implements deployments.create.
func (s *Services) CreateDeployment(ctx context.Context, in CreateDeploymentInput) (model.Deployment, error) {
	now := s.now()
	d := model.Deployment{
		ID: newID("dep"), ProjectID: in.ProjectID, EnvironmentID: in.EnvironmentID, DeploymentMethod: in.DeploymentMethod,
		Status: in.Status, Image: in.Image, Replicas: in.Replicas, GitCommitSha: in.GitCommitSha, GitCommitURL: in.GitCommitURL,
		GitOpsResourceID: in.GitOpsResourceID, Message: in.Message, ErrorMessage: in.ErrorMessage,
		DeployedBy: ActorFrom(ctx).User, CreatedAt: now, UpdatedAt: now,
	}
	if d.Status == "" {
		d.Status = model.DeployPending
	}
	if d.Status != model.DeployPending {
		d.CompletedAt = &now
	}
	err := s.db.Update(func(tx *store.Tx) error {
		if !store.Projects.Exists(tx, in.ProjectID) {
			return refErr("projectId", "project", in.ProjectID)
		}
		e, err := store.Environments.Get(tx, in.EnvironmentID)
		if err != nil {
			return refErr("environmentId", "environment", in.EnvironmentID)
		}
		if e.ProjectID != in.ProjectID {
			fe := model.FieldErrors{}
			fe.Add("environmentId", "environment "+e.ID+" belongs to project "+e.ProjectID)
			return fe.Err()
		}
		if in.GitOpsResourceID != "" && !store.Resources.Exists(tx, in.GitOpsResourceID) {
			return refErr("gitopsResourceId", "gitops resource", in.GitOpsResourceID)
		}
		return store.Deployments.Put(tx, d)
	})
	return d, err
}

// ListDeploymentsInput filters deployments.list.
type ListDeploymentsInput struct {
	ProjectID        string `json:"projectId,omitempty" doc:"only this project"`
	EnvironmentID    string `json:"environmentId,omitempty" doc:"only this environment"`
	DeploymentMethod string `json:"deploymentMethod,omitempty" enum:"manual|gitops-ui|gitops-git|pipeline" doc:"only this method"`
	Status           string `json:"status,omitempty" enum:"pending|success|failed" doc:"only this status"`
	GitOpsResourceID string `json:"gitopsResourceId,omitempty" doc:"only deployments applied by this resource"`
	Limit            int    `json:"limit,omitempty" doc:"page size (default 50, at most 1000)"`
	Cursor           string `json:"cursor,omitempty" doc:"nextCursor of the previous page"`
}

// Validate implements Validator.
func (in *ListDeploymentsInput) Validate(fe model.FieldErrors) {
	checkEnum(fe, "deploymentMethod", in.DeploymentMethod, model.DeploymentMethods...)
	checkEnum(fe, "status", in.Status, model.DeployPending, model.DeploySuccess, model.DeployFailed)
	if in.Limit < 0 || in.Limit > 1000 {
		fe.Add("limit", "must be between 1 and 1000")
	}
}

// Page is one page of a paged list.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// ListDeployments implements deployments.list: it reads through the most
// selective index (environment, then project, then method, then time) and
// filters the rest.
func (s *Services) ListDeployments(ctx context.Context, in ListDeploymentsInput) (Page[model.Deployment], error) {
	if err := s.refreshDeployments(ctx, in.EnvironmentID, in.ProjectID); err != nil {
		return Page[model.Deployment]{}, err
	}
	q := store.Query[model.Deployment]{Newest: true, Limit: in.Limit, Cursor: in.Cursor}
	if q.Limit == 0 {
		q.Limit = 50
	}
	switch {
	case in.GitOpsResourceID != "":
		q.Index, q.Value = "resource", in.GitOpsResourceID
	case in.EnvironmentID != "":
		q.Index, q.Value = "environment", in.EnvironmentID
	case in.ProjectID != "":
		q.Index, q.Value = "project", in.ProjectID
	case in.DeploymentMethod != "":
		q.Index, q.Value = "method", in.DeploymentMethod
	}
	q.Filter = func(d model.Deployment) bool {
		return (in.ProjectID == "" || d.ProjectID == in.ProjectID) &&
			(in.EnvironmentID == "" || d.EnvironmentID == in.EnvironmentID) &&
			(in.DeploymentMethod == "" || d.DeploymentMethod == in.DeploymentMethod) &&
			(in.Status == "" || d.Status == in.Status)
	}
	var p Page[model.Deployment]
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		p.Items, p.NextCursor, err = store.Deployments.List(tx, q)
		return err
	})
	if p.Items == nil {
		p.Items = []model.Deployment{}
	}
	return p, err
}

// GetDeployment implements deployments.get.
func (s *Services) GetDeployment(ctx context.Context, in IDInput) (model.Deployment, error) {
	d, err := s.deployment(in.ID)
	if err != nil {
		return d, err
	}
	if d.Status == model.DeployPending {
		if err := s.refreshDeployments(ctx, d.EnvironmentID, d.ProjectID); err != nil {
			return d, err
		}
		return s.deployment(in.ID)
	}
	return d, nil
}

func (s *Services) deployment(id string) (model.Deployment, error) {
	var d model.Deployment
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		d, err = store.Deployments.Get(tx, id)
		return err
	})
	return d, err
}

// PageInput pages a list.
type PageInput struct {
	Limit  int    `json:"limit,omitempty" doc:"page size (default 50, at most 1000)"`
	Cursor string `json:"cursor,omitempty" doc:"nextCursor of the previous page"`
}

// ListAudit implements audit.list.
func (s *Services) ListAudit(_ context.Context, in PageInput) (Page[model.AuditEntry], error) {
	q := store.Query[model.AuditEntry]{Newest: true, Limit: in.Limit, Cursor: in.Cursor}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 50
	}
	var p Page[model.AuditEntry]
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		p.Items, p.NextCursor, err = store.Audit.List(tx, q)
		return err
	})
	if p.Items == nil {
		p.Items = []model.AuditEntry{}
	}
	return p, err
}
