package watch

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// TestSlowSubscriberLosesNoDeployment publishes far more events than any
// buffer holds while nobody reads, then reads: every deployment event is
// there, in order, and each resource's latest status arrives (once, after
// at most the one event already on its way).
func TestSlowSubscriberLosesNoDeployment(t *testing.T) {
	h := NewHub()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := h.Subscribe(ctx)
	const resources, rounds, deployments = 50, 200, 1000
	for round := range rounds {
		for r := range resources {
			h.Publish(api.StatusEvent{Resource: model.GitOpsResource{ID: fmt.Sprint("gr-", r), Status: fmt.Sprint("round-", round)}})
		}
	}
	for i := range deployments {
		d := model.Deployment{ID: fmt.Sprint("dep-", i), Status: model.DeploySuccess}
		h.Publish(api.StatusEvent{Resource: model.GitOpsResource{ID: "gr-0"}, Deployment: &d})
	}
	seen, last, deps := map[string]int{}, map[string]string{}, 0
	timeout := time.After(30 * time.Second)
	fresh := func() bool {
		for r := range resources {
			if last[fmt.Sprint("gr-", r)] != fmt.Sprint("round-", rounds-1) {
				return false
			}
		}
		return true
	}
	for deps < deployments || !fresh() {
		select {
		case e := <-ch:
			if e.Deployment != nil {
				if want := fmt.Sprint("dep-", deps); e.Deployment.ID != want {
					t.Fatalf("deployment %s out of order, want %s", e.Deployment.ID, want)
				}
				deps++
				continue
			}
			seen[e.Resource.ID]++
			last[e.Resource.ID] = e.Resource.Status
		case <-timeout:
			t.Fatalf("got %d of %d deployments and %d of %d resources", deps, deployments, len(seen), resources)
		}
	}
	for id, n := range seen {
		// One event may already be on its way when the rest coalesce.
		if n > 2 {
			t.Fatalf("%s delivered %d times after coalescing", id, n)
		}
	}
	cancel()
	for range ch {
	}
}

// TestChangeNotesCoalescePerProcedure: while nobody reads, the notes of one
// procedure become one note naming every id (none once there are too
// many), notes of other procedures stay apart, and resource events with an
// empty id do not swallow them.
func TestChangeNotesCoalescePerProcedure(t *testing.T) {
	h := NewHub()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := h.Subscribe(ctx)
	note := func(proc string, ids ...string) {
		h.Publish(api.StatusEvent{Changed: &api.ChangeNote{Procedure: proc, Kinds: []string{api.KindProjects}, IDs: ids}})
	}
	// The first event may already be on its way when the rest are queued
	// behind it: it is a resource event, read and checked first.
	h.Publish(api.StatusEvent{Resource: model.GitOpsResource{ID: "gr-first"}})
	note("projects.create", "p1")
	note("projects.create", "p2")
	note("projects.create", "p1")
	note("clusters.register", "c1")
	h.Publish(api.StatusEvent{Resource: model.GitOpsResource{}})
	for i := range maxNoteIDs + 1 {
		note("environments.create", fmt.Sprint("e", i))
	}
	if e := <-ch; e.Resource.ID != "gr-first" {
		t.Fatalf("first event %+v", e)
	}
	var got []*api.ChangeNote
	for len(got) < 4 {
		e := <-ch
		got = append(got, e.Changed)
	}
	want := []string{"projects.create [p1 p2]", "clusters.register [c1]", "<nil>", "environments.create []"}
	for i, n := range got {
		s := "<nil>"
		if n != nil {
			s = fmt.Sprint(n.Procedure, " ", n.IDs)
		}
		if s != want[i] {
			t.Fatalf("event %d is %s, want %s", i, s, want[i])
		}
	}
}
