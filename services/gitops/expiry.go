package gitops

import (
	"context"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

// ExpiryCheck is how often ResumeExpired looks for suspensions whose until
// has passed (besides every status event of a suspension with an until).
const ExpiryCheck = 5 * time.Second

// expiryRetry is how long a resume that failed waits before the next try.
const expiryRetry = time.Minute

// ResumeExpired resumes, until ctx ends, every suspended resource whose
// gitopstui.io/suspend-until has passed. The long-running processes (the
// TUI, serve) run it beside their status watchers; headless reads only show
// such a suspension as expired.
func (s *GitOps) ResumeExpired(ctx context.Context) {
	events := s.watch.Hub().Subscribe(ctx)
	tick := time.NewTicker(ExpiryCheck)
	defer tick.Stop()
	failed := map[string]time.Time{}
	s.resumeExpiredOnce(ctx, failed)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case e, ok := <-events:
			if !ok {
				return
			}
			if e.Resource.SuspendUntil == "" {
				// Only a suspension with an until can be due before the next tick.
				continue
			}
		}
		s.resumeExpiredOnce(ctx, failed)
	}
}

// resumeExpiredOnce resumes the expired suspensions the store knows of;
// failed holds when each failed resume may be tried again.
func (s *GitOps) resumeExpiredOnce(ctx context.Context, failed map[string]time.Time) {
	now := s.now()
	var due []model.GitOpsResource
	_ = s.db.View(func(tx *store.Tx) error {
		res, _, err := store.Resources.List(tx, store.Query[model.GitOpsResource]{Index: "live", Filter: func(r model.GitOpsResource) bool {
			t, err := time.Parse(time.RFC3339, r.SuspendUntil)
			return r.Suspended && err == nil && !now.Before(t) && !now.Before(failed[r.ID])
		}})
		due = res
		return err
	})
	for _, r := range due {
		if _, err := s.setSuspended(ctx, r.ID, false, "", ""); err != nil {
			failed[r.ID] = now.Add(expiryRetry)
			s.log.Warn("resume of an expired suspension failed", "resource", r.ID, "until", r.SuspendUntil, "err", err)
			continue
		}
		delete(failed, r.ID)
		s.log.Info("resumed: suspension expired", "resource", r.ID, "name", r.Name, "until", r.SuspendUntil, "reason", r.SuspendReason)
	}
}
