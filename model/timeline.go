package model

import "time"

// Stages of a deployment's timeline, in the order a commit passes them.
const (
	StageCommitted = "committed" // the commit was built
	StagePushed    = "pushed"    // the branch on the Git server has it
	StageRequested = "requested" // gitopstui asked the GitRepository to fetch now (the fast path)
	StageFetched   = "fetched"   // the GitRepository's artifact revision is the commit
	StageApplied   = "applied"   // the Kustomization (or HelmRelease) applied it
	StageHealthy   = "healthy"   // Ready after the health checks (with HelmReleases: helm-controller released it): the deployment succeeded
	StageFailed    = "failed"    // Flux gave up on it: the deployment failed
)

// TimelineStages lists the stages in order; healthy and failed both end a
// timeline, and one timeline holds at most one of them.
var TimelineStages = []string{StageCommitted, StagePushed, StageRequested, StageFetched, StageApplied, StageHealthy, StageFailed}

// TimelineStage is one step a deployment's commit reached, with when
// gitopstui saw it reach it and what reached it (a GitRepository, a
// Kustomization, Flux's message of a failure).
type TimelineStage struct {
	Stage  string    `json:"stage"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail,omitempty"`
}

func stageRank(stage string) int {
	for i, s := range TimelineStages {
		if s == stage {
			return i
		}
	}
	return -1
}

// Stage returns the timeline's entry of stage, nil when it has not reached it.
func (d *Deployment) Stage(stage string) *TimelineStage {
	for i := range d.Timeline {
		if d.Timeline[i].Stage == stage {
			return &d.Timeline[i]
		}
	}
	return nil
}

// Mark records that the deployment's commit reached stage at the given time
// and reports whether the timeline changed. A stage is recorded once (the
// first sighting wins); an unknown stage, or healthy or failed when the
// timeline already ended, changes nothing. The timeline stays in stage order
// with times that never go backwards: a stage seen late (a watcher that
// started after the fact) takes at most the time of the next stage recorded,
// and at least that of the previous one.
func (d *Deployment) Mark(stage string, at time.Time, detail string) bool {
	rank := stageRank(stage)
	if rank < 0 || d.Stage(stage) != nil {
		return false
	}
	if (stage == StageHealthy || stage == StageFailed) && (d.Stage(StageHealthy) != nil || d.Stage(StageFailed) != nil) {
		return false
	}
	i := 0
	for i < len(d.Timeline) && stageRank(d.Timeline[i].Stage) < rank {
		i++
	}
	if i > 0 && at.Before(d.Timeline[i-1].At) {
		at = d.Timeline[i-1].At
	}
	if i < len(d.Timeline) && at.After(d.Timeline[i].At) {
		at = d.Timeline[i].At
	}
	d.Timeline = append(d.Timeline, TimelineStage{})
	copy(d.Timeline[i+1:], d.Timeline[i:])
	d.Timeline[i] = TimelineStage{Stage: stage, At: at, Detail: detail}
	return true
}
