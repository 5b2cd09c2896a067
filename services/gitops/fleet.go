package gitops

import (
	"context"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/watch"
)

// Trace adds stages to a deployment's timeline (see watch.Watcher.Trace).
func (s *GitOps) Trace(depID string, stages ...model.TimelineStage) (model.Deployment, error) {
	return s.watch.Trace(depID, stages...)
}

// Fleet returns every cluster's Flux objects (see watch.Watcher.Fleet).
func (s *GitOps) Fleet(ctx context.Context) (watch.FleetSnapshot, error) {
	return s.watch.Fleet(ctx)
}
