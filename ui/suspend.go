package ui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/services/api"
)

// Suspending asks why and until when: T on a running resource (or on marked
// rows that are not all suspended) opens a form of the reason and the
// expiry, stored on the Flux objects for other tools and people to see;
// submitting it suspends, esc leaves everything running.

var suspendFields = map[string]fieldOpt{
	"reason": {hint: "why, e.g. database migration (shown to everyone)"},
	"until":  {hint: "resume after: 2h, or 2026-12-24T08:00:00Z (default: until resumed)"},
}

// newSuspendForm suspends cur with a reason; the result goes to screen parent.
func newSuspendForm(s *session, parent int, cur api.ResourceView) screen {
	fill := func(in *api.SuspendInput) { in.ID = cur.ID }
	f := inputForm(api.SuspendGitOpsResource, formSpec{only: []string{"reason", "until"}, fields: suspendFields}, fill)
	name := fmt.Sprintf("Suspend %s %s/%s", cur.Type, cur.Namespace, cur.Name)
	return newFormScreen(s, name, "Flux stops reconciling it until it is resumed (T again) or until passes.", f,
		func(f *form, to int) tea.Cmd {
			in, _ := formInput(f, fill)
			return invoke(s, to, "suspend", api.SuspendGitOpsResource, in)
		},
		func(msg tea.Msg) tea.Cmd {
			d := msg.(doneMsg[api.ResourceSummary])
			d.to = parent
			return tea.Batch(pop(""), func() tea.Msg { return d })
		})
}

// newBulkSuspendForm asks the reason for suspending the marked resources,
// then runs the bulk suspension (dependents first).
func newBulkSuspendForm(s *session, in api.BulkInput) screen {
	fill := func(b *api.BulkInput) { b.Action, b.Selector = in.Action, in.Selector }
	f := inputForm(api.Bulk, formSpec{only: []string{"reason", "until"}, fields: suspendFields}, fill)
	name := fmt.Sprintf("Suspend %d marked resources, dependents first", len(in.Selector.Names))
	return newFormScreen(s, name, "Flux stops reconciling them until they are resumed or until passes.", f,
		func(f *form, to int) tea.Cmd {
			b, _ := formInput(f, fill)
			return replace(newBulk(s, b))
		}, nil)
}
