package ui

import (
	"fmt"
	"time"

	"github.com/gitopstui/gitopstui/model"
)

// timelineLines are a deployment's timeline, one stage a line: its time,
// the time since the stage before and what reached it.
func timelineLines(st Styles, d model.Deployment) []string {
	if len(d.Timeline) == 0 {
		return nil
	}
	out := []string{st.Label.Render("timeline")}
	for i, s := range d.Timeline {
		step := ""
		if i > 0 {
			step = "+" + stepDur(s.At.Sub(d.Timeline[i-1].At))
		}
		sty := st.OK
		if s.Stage == model.StageFailed {
			sty = st.Error
		}
		out = append(out, fmt.Sprintf("  %s %s %s %s", sty.Render(pad(s.Stage, 9)), s.At.UTC().Format("15:04:05.000"),
			st.Muted.Render(pad(step, 8)), oneLine(s.Detail)))
	}
	return out
}

// stepDur is a duration between stages: milliseconds below a second.
func stepDur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// stageTime is when a stage was reached, as time since the push ("" when
// the deployment has not reached it or is not known yet).
func stageTime(d *model.Deployment, stage string) string {
	if d == nil {
		return ""
	}
	s, start := d.Stage(stage), d.Stage(model.StagePushed)
	if s == nil || start == nil {
		return ""
	}
	if stage == model.StagePushed {
		return s.At.UTC().Format("15:04:05.000")
	}
	return "+" + stepDur(s.At.Sub(start.At))
}
