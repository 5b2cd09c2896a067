package deploy

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/store"
)

// followCommit starts a pushed deployment's timeline (committed, pushed)
// and takes the fast path: unless the environment is on manual sync, the
// GitRepository of each of its live Kustomizations and HelmReleases is
// asked to fetch now (what a webhook Receiver does on a push, without an
// ingress), and the resources to reconcile, so Flux does not wait for its
// interval; the request is the timeline's requested stage. A commit pushed
// for review waits for its merge instead. It returns the deploy's message,
// and a warning when the timeline could not be stored.
func (s *Deploy) followCommit(ctx context.Context, t gitTarget, d model.Deployment, res pushed, pushedAt time.Time) (string, string) {
	branch := cmp.Or(res.ReviewBranch, t.branch)
	stages := []model.TimelineStage{
		{Stage: model.StageCommitted, At: res.CommittedAt, Detail: shortSHA(res.Commit) + " on " + branch},
		{Stage: model.StagePushed, At: pushedAt, Detail: t.repo.FullName},
	}
	msg := fmt.Sprintf("committed %s to %s (%s); Flux applies it on its next sync", shortSHA(res.Commit), t.branch, t.path)
	if res.ReviewBranch != "" {
		msg = fmt.Sprintf("pushed %s to review branch %s (not to %s); the deployment stays pending until Flux applies its merge", shortSHA(res.Commit), res.ReviewBranch, t.branch)
		if res.CompareURL != "" {
			msg += ": open " + res.CompareURL
		}
	} else if !t.env.GitOpsConfig.AutoSync {
		msg += " (manual sync: run gitops.triggerSync)"
	} else if live, err := s.liveResources(t.env.ID); err == nil && len(live) > 0 && s.gitops.RequestReconcile(ctx, t.env, live) {
		msg = fmt.Sprintf("committed %s to %s (%s); asked Flux to apply it now", shortSHA(res.Commit), t.branch, t.path)
		stages = append(stages, model.TimelineStage{Stage: model.StageRequested, At: s.now(), Detail: "GitRepository reconcile requested"})
	}
	if _, err := s.gitops.Trace(d.ID, stages...); err != nil {
		return msg, "the deployment's timeline was not stored: " + model.AsError(err).Message
	}
	return msg, ""
}

// liveResources are the environment's Kustomizations and HelmReleases
// that follow its Git repository (not a HelmRelease whose chart comes from a
// HelmRepository) and are neither deleted nor suspended.
func (s *Deploy) liveResources(envID string) ([]model.GitOpsResource, error) {
	var out []model.GitOpsResource
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		out, _, err = store.Resources.List(tx, store.Query[model.GitOpsResource]{Index: "environment", Value: envID,
			Filter: func(r model.GitOpsResource) bool { return r.DeletedAt == nil && !r.Suspended && followsGit(r) }})
		return err
	})
	return out, err
}

// followsGit reports whether a resource applies what its environment's
// GitRepository fetches.
func followsGit(r model.GitOpsResource) bool {
	if r.Type != model.ResourceHelm {
		return true
	}
	var c api.ResourceConfig
	if len(r.Config) > 0 && json.Unmarshal(r.Config, &c) != nil {
		return false
	}
	return c.SourceType != api.SourceHelmRepository
}
