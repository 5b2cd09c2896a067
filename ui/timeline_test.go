package ui

import (
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
)

// The deployment view shows the timeline: each stage with its time and the
// time since the stage before.
func TestDeploymentViewTimeline(t *testing.T) {
	t0 := testNow.Add(-time.Hour)
	d := cannedDeployments()[0]
	d.Timeline = nil
	for _, s := range []struct {
		stage string
		after time.Duration
	}{{model.StageCommitted, 0}, {model.StagePushed, 180 * time.Millisecond}, {model.StageRequested, 200 * time.Millisecond},
		{model.StageFetched, 900 * time.Millisecond}, {model.StageApplied, 1900 * time.Millisecond}, {model.StageHealthy, 4100 * time.Millisecond}} {
		d.Mark(s.stage, t0.Add(s.after), "")
	}
	fc := catalogFake().ret("deployments.list", []model.Deployment{d})
	h := newHarness(t, fc, 120, 40)
	h.press("4", "enter")
	h.contains("timeline", "committed 11:00:00.000", "pushed    11:00:00.180 +180ms", "fetched   11:00:00.900 +700ms",
		"applied   11:00:01.900 +1.0s", "healthy   11:00:04.100 +2.2s")
}
