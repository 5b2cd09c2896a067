package ui

import (
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/services/api"
)

// Screens follow the store: every successful mutation of the process's
// registry (made by this UI, by a forwarded call or by another session)
// arrives on the status subscription as a change note; the screens of the
// stack that show a kind it names reload through their loader, so the
// newest answer wins and a failure lands on the screen's error line. Notes
// are gathered for followDelay, so a burst of changes costs each screen one
// reload.

// followDelay is how long notes are gathered before the screens reload.
const followDelay = 120 * time.Millisecond

// follower is a screen that shows stored records: follows reports whether
// a change note concerns them, and init reloads them.
type follower interface {
	follows(n api.ChangeNote) bool
}

// followMsg ends the gathering of change notes.
type followMsg struct{}

// pendingChanges are the change notes gathered since the last reload.
type pendingChanges struct {
	notes []api.ChangeNote
	// armed says a followMsg is on its way.
	armed bool
}

// noteChange gathers n and, unless one is on its way, schedules the reload
// (at once when timers are off).
func (m *Model) noteChange(n api.ChangeNote) tea.Cmd {
	m.follow.notes = append(m.follow.notes, n)
	if m.follow.armed {
		return nil
	}
	m.follow.armed = true
	if m.s.static {
		return func() tea.Msg { return followMsg{} }
	}
	return tea.Tick(followDelay, func(time.Time) tea.Msg { return followMsg{} })
}

// reloadFollowers reloads, once each, the screens of the stack that follow
// a gathered note.
func (m *Model) reloadFollowers() tea.Cmd {
	notes := m.follow.notes
	m.follow = pendingChanges{}
	var cmds []tea.Cmd
	for _, sc := range m.stack {
		f, ok := sc.(follower)
		if !ok {
			continue
		}
		if slices.ContainsFunc(notes, f.follows) {
			cmds = append(cmds, sc.init())
		}
	}
	return tea.Batch(cmds...)
}

// touches reports whether n may have changed a record of one of kinds.
func touches(n api.ChangeNote, kinds ...string) bool {
	for _, k := range n.Kinds {
		if slices.Contains(kinds, k) {
			return true
		}
	}
	return false
}

// namesID reports whether n may have changed the record id: it names id, or
// no id at all.
func namesID(n api.ChangeNote, id string) bool {
	return len(n.IDs) == 0 || slices.Contains(n.IDs, id)
}

func (c *clustersScreen) follows(n api.ChangeNote) bool { return touches(n, api.KindClusters) }

func (p *projectsScreen) follows(n api.ChangeNote) bool { return touches(n, api.KindProjects) }

// An environment list shows its project's environments and repositories.
func (e *envScreen) follows(n api.ChangeNote) bool {
	return touches(n, api.KindProjects, api.KindEnvironments, api.KindRepositories)
}

// A resource list shows each resource with its environment.
func (r *resourcesScreen) follows(n api.ChangeNote) bool {
	return touches(n, api.KindResources, api.KindEnvironments)
}

func (d *deploymentsScreen) follows(n api.ChangeNote) bool {
	return touches(n, api.KindDeployments)
}

// A resource's detail follows that resource alone.
func (d *detailScreen) follows(n api.ChangeNote) bool {
	return touches(n, api.KindResources) && namesID(n, d.v.ID)
}
