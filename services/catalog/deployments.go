package catalog

import (
	"context"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gate"
	"github.com/gitopstui/gitopstui/services/internal/ident"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/store"
)

func (s *Catalog) registerDeployments(r *gate.Registry) {
	gate.Bind(r, api.CreateDeployment, s.createDeployment)
	gate.Bind(r, api.ListDeployments, s.listDeployments)
	gate.Bind(r, api.GetDeployment, s.getDeployment)
	gate.Bind(r, api.ListAudit, s.listAudit)
}

// createDeployment implements deployments.create.
func (s *Catalog) createDeployment(ctx context.Context, in api.CreateDeploymentInput) (model.Deployment, error) {
	now := s.now()
	d := model.Deployment{
		ID: ident.New("dep"), ProjectID: in.ProjectID, EnvironmentID: in.EnvironmentID, DeploymentMethod: string(in.DeploymentMethod),
		Status: string(in.Status), Image: in.Image, Replicas: in.Replicas, GitCommitSha: in.GitCommitSha, GitCommitURL: in.GitCommitURL,
		GitOpsResourceID: in.GitOpsResourceID, Message: in.Message, ErrorMessage: in.ErrorMessage,
		DeployedBy: model.ActorFrom(ctx).User, CreatedAt: now, UpdatedAt: now,
	}
	if d.Status == "" {
		d.Status = model.DeployPending
	}
	if d.Status != model.DeployPending {
		d.CompletedAt = &now
	}
	err := s.db.Update(func(tx *store.Tx) error {
		if !store.Projects.Exists(tx, in.ProjectID) {
			return RefErr("projectId", "project", in.ProjectID)
		}
		e, err := store.Environments.Get(tx, in.EnvironmentID)
		if err != nil {
			return RefErr("environmentId", "environment", in.EnvironmentID)
		}
		if e.ProjectID != in.ProjectID {
			fe := model.FieldErrors{}
			fe.Add("environmentId", "environment "+e.ID+" belongs to project "+e.ProjectID)
			return fe.Err()
		}
		if in.GitOpsResourceID != "" && !store.Resources.Exists(tx, in.GitOpsResourceID) {
			return RefErr("gitopsResourceId", "gitops resource", in.GitOpsResourceID)
		}
		return store.Deployments.Put(tx, d)
	})
	return d, err
}

// listDeployments implements deployments.list: it reads through the most
// selective index (environment, then project, then method, then time) and
// filters the rest.
func (s *Catalog) listDeployments(ctx context.Context, in api.ListDeploymentsInput) ([]model.Deployment, error) {
	if err := s.watch.RefreshDeployments(ctx, in.EnvironmentID, in.ProjectID); err != nil {
		return nil, err
	}
	method, status := string(in.DeploymentMethod), string(in.Status)
	q := store.Query[model.Deployment]{Newest: true, Limit: in.Limit}
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
	case method != "":
		q.Index, q.Value = "method", method
	}
	q.Filter = func(d model.Deployment) bool {
		return (in.ProjectID == "" || d.ProjectID == in.ProjectID) &&
			(in.EnvironmentID == "" || d.EnvironmentID == in.EnvironmentID) &&
			(method == "" || d.DeploymentMethod == method) &&
			(status == "" || d.Status == status)
	}
	var items []model.Deployment
	err := s.db.View(func(tx *store.Tx) error {
		if in.Before != "" {
			cursor, err := store.Deployments.CursorAt(tx, q.Value, in.Before)
			if err != nil {
				fe := model.FieldErrors{}
				fe.Add("before", "deployment "+in.Before+" not found")
				return fe.Err()
			}
			q.Cursor = cursor
		}
		var err error
		items, _, err = store.Deployments.List(tx, q)
		return err
	})
	return shape.NonNil(items), err
}

// getDeployment implements deployments.get.
func (s *Catalog) getDeployment(ctx context.Context, in api.IDInput) (model.Deployment, error) {
	d, err := s.deployment(in.ID)
	if err != nil {
		return d, err
	}
	if d.Status == model.DeployPending {
		if err := s.watch.RefreshDeployments(ctx, d.EnvironmentID, d.ProjectID); err != nil {
			return d, err
		}
		return s.deployment(in.ID)
	}
	return d, nil
}

func (s *Catalog) deployment(id string) (model.Deployment, error) {
	return store.Deployments.Read(s.db, id)
}

// listAudit implements audit.list.
func (s *Catalog) listAudit(_ context.Context, in api.PageInput) (api.Page[model.AuditEntry], error) {
	q := store.Query[model.AuditEntry]{Newest: true, Limit: in.Limit, Cursor: in.Cursor}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 50
	}
	var p api.Page[model.AuditEntry]
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
