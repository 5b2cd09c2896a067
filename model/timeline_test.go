package model_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
)

func stages(d model.Deployment) []string {
	var out []string
	for _, s := range d.Timeline {
		out = append(out, s.Stage+"@"+s.At.Format("05"))
	}
	return out
}

func TestMarkKeepsOrderAndFirstSighting(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	var d model.Deployment
	for _, m := range []struct {
		stage string
		at    int
		want  bool
	}{
		{model.StagePushed, 1, true},
		{model.StageApplied, 5, true},
		{model.StageCommitted, 0, true},
		{model.StagePushed, 9, false}, // the first sighting wins
		{model.StageFetched, 7, true}, // seen late: not after applied
		{model.StageHealthy, 6, true},
		{model.StageFailed, 8, false}, // the timeline already ended
		{"deployed", 3, false},        // not a stage
	} {
		if got := d.Mark(m.stage, at(m.at), ""); got != m.want {
			t.Fatalf("Mark(%s) = %v, want %v", m.stage, got, m.want)
		}
	}
	want := []string{"committed@10", "pushed@11", "fetched@15", "applied@15", "healthy@16"}
	if got := stages(d); len(got) != len(want) {
		t.Fatalf("timeline %v, want %v", got, want)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("timeline %v, want %v", got, want)
			}
		}
	}
	if d.Stage(model.StageApplied) == nil || d.Stage(model.StageRequested) != nil {
		t.Fatalf("Stage lookups on %v", stages(d))
	}
	// A stage seen before the previous one's time takes that time.
	var e model.Deployment
	e.Mark(model.StagePushed, at(5), "")
	e.Mark(model.StageFetched, at(4), "")
	if got := stages(e); got[1] != "fetched@15" {
		t.Fatalf("fetched before pushed: %v", got)
	}
}

func TestTimelineIsOptionalInJSON(t *testing.T) {
	b, err := json.Marshal(model.Deployment{ID: "dep-1"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["timeline"]; ok {
		t.Fatalf("empty timeline serialised: %s", b)
	}
	var d model.Deployment
	d.Mark(model.StageFailed, time.Unix(0, 0), "boom")
	b, _ = json.Marshal(d)
	if err := json.Unmarshal(b, &m); err != nil || m["timeline"].([]any)[0].(map[string]any)["stage"] != "failed" {
		t.Fatalf("timeline JSON: %s", b)
	}
}
