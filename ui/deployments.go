package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// pageSize is how many deployments one load asks for.
const pageSize = 50

// deploymentsScreen is the deployment history, newest first, paged by the
// id of the last deployment seen (deployments.list's before), with the
// names of the projects and environments.
type deploymentsScreen struct {
	base
	projectID, envID string
	l                list[model.Deployment]
	next             string
}

func newDeployments(s *session, projectID, envID string) *deploymentsScreen {
	d := &deploymentsScreen{base: newBase(s), projectID: projectID, envID: envID}
	d.l = newList(&d.ld, listSpec[model.Deployment]{
		noun:  "Deployments",
		cols:  deploymentColumns(&s.names),
		empty: "No deployments yet. Deploy from an environment with D.",
		search: func(it *model.Deployment) string {
			return it.DeploymentMethod + " " + it.Status + " " + it.GitCommitSha + " " + it.DeployedBy + " " + it.Image + " " + it.Message +
				" " + s.names.of(pickProject, it.ProjectID) + " " + s.names.of(pickEnv, it.EnvironmentID)
		},
		ident: func(it *model.Deployment) string { return it.ID },
		now:   s.now,
	})
	return d
}

func deploymentColumns(n *names) []column[model.Deployment] {
	plain := lipgloss.NewStyle()
	return []column[model.Deployment]{
		{title: "PROJECT", prio: 3, cell: func(_ cellCtx, it *model.Deployment) (string, lipgloss.Style) {
			return n.of(pickProject, it.ProjectID), plain
		}},
		{title: "ENV", prio: 1, cell: func(x cellCtx, it *model.Deployment) (string, lipgloss.Style) {
			return n.of(pickEnv, it.EnvironmentID), x.st.Header
		}},
		{title: "STATUS", cell: func(x cellCtx, it *model.Deployment) (string, lipgloss.Style) {
			return it.Status, x.st.statusStyle(it.Status)
		}},
		{title: "METHOD", prio: 4, cell: func(x cellCtx, it *model.Deployment) (string, lipgloss.Style) {
			b, ok := x.st.Badge[it.DeploymentMethod]
			if !ok {
				b = x.st.Muted
			}
			return it.DeploymentMethod, b
		}},
		{title: "COMMIT", cell: func(x cellCtx, it *model.Deployment) (string, lipgloss.Style) {
			return shortSHA(it.GitCommitSha), x.st.Muted
		}},
		{title: "IMAGE", prio: 2, squeeze: true, keepEnd: true, cell: func(_ cellCtx, it *model.Deployment) (string, lipgloss.Style) {
			return orDash(it.Image), plain
		}},
		{title: "AGE", prio: 1, cell: func(x cellCtx, it *model.Deployment) (string, lipgloss.Style) {
			return age(x.now, it.CreatedAt), x.st.Muted
		}},
		{title: "WHO", prio: 5, cell: func(_ cellCtx, it *model.Deployment) (string, lipgloss.Style) { return orDash(it.DeployedBy), plain }},
		{title: "MESSAGE", prio: 6, squeeze: true, cell: func(x cellCtx, it *model.Deployment) (string, lipgloss.Style) {
			return oneLine(it.Message), x.st.Muted
		}},
	}
}

func (d *deploymentsScreen) title() string         { return "Deployments" + d.l.filterNote() }
func (d *deploymentsScreen) ids() (string, string) { return d.projectID, d.envID }
func (d *deploymentsScreen) capturing() bool       { return d.l.filtering }
func (d *deploymentsScreen) esc() bool             { return d.l.clearFilter() }
func (d *deploymentsScreen) bindings() []key.Binding {
	k := d.s.keys
	if d.l.filtering {
		return filterBindings()
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Rollback, k.Filter, k.More, k.Refresh}
}

// load asks for the page before cursor ("" for the newest).
func (d *deploymentsScreen) load(cursor string) tea.Cmd {
	in := api.ListDeploymentsInput{ProjectID: d.projectID, EnvironmentID: d.envID, Limit: pageSize, Before: cursor}
	return d.ld.start("loading deployments", invoke(d.s, d.sid, cursor, api.ListDeployments, in))
}

func (d *deploymentsScreen) init() tea.Cmd {
	return tea.Batch(d.load(""), loadOptions(d.s, d.sid, pickProject), loadOptions(d.s, d.sid, pickEnv))
}

// more loads the next page unless one is loading or there is none.
func (d *deploymentsScreen) more() tea.Cmd {
	if d.next == "" || d.ld.busy != "" {
		return nil
	}
	return d.load(d.next)
}

func (d *deploymentsScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if d.resize(msg) {
		d.l.resize(d.w, d.h)
		return d, nil
	}
	switch msg := msg.(type) {
	case reloadMsg:
		return d, d.init()
	case optionsMsg:
		d.s.names.learnAll(msg.kind, msg.opts)
		d.l.setRows(d.l.items) // names are as wide as they are
	case doneMsg[[]model.Deployment]:
		v, ok := settle(&d.ld, msg)
		if !ok {
			return d, nil
		}
		rows := v
		if msg.tag != "" {
			rows = append(d.l.items[:len(d.l.items):len(d.l.items)], v...)
		}
		d.next = ""
		if len(v) == pageSize {
			d.next = v[len(v)-1].ID
		}
		d.l.setRows(rows)
	case statusMsg:
		if dep := msg.Deployment; dep != nil && (d.envID == "" || dep.EnvironmentID == d.envID) && (d.projectID == "" || dep.ProjectID == d.projectID) {
			if i, ok := d.l.find(dep.ID); ok {
				d.l.setRow(i, *dep)
			} else {
				d.l.insert(*dep, true)
			}
		}
	case doneMsg[model.Environment]:
		return d, d.rollback(msg)
	case tea.KeyPressMsg:
		return d, d.key(msg)
	}
	return d, nil
}

// rollback opens the preview of rolling back the deployment whose
// environment msg brings.
func (d *deploymentsScreen) rollback(msg doneMsg[model.Environment]) tea.Cmd {
	if msg.err != nil {
		return fail(msg.err)
	}
	i, ok := d.l.find(strings.TrimPrefix(msg.tag, rollbackTag))
	if !ok {
		return nil
	}
	dep := d.l.items[i]
	p := model.Project{ID: dep.ProjectID, Name: d.s.names.of(pickProject, dep.ProjectID)}
	return push(newRollbackPreview(d.s, p, msg.val, dep))
}

func (d *deploymentsScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := d.s.keys
	if ok, cmd := d.l.key(k, msg); ok {
		if d.l.atEnd() && !d.l.filtering {
			return tea.Batch(cmd, d.more())
		}
		return cmd
	}
	switch cur := d.l.current(); {
	case key.Matches(msg, k.Refresh):
		return d.init()
	case key.Matches(msg, k.More):
		return d.more()
	case key.Matches(msg, k.Open) && cur != nil:
		return push(newDeploymentView(d.s, *cur))
	case key.Matches(msg, k.Rollback) && cur != nil:
		return startRollback(d.s, d.sid, *cur)
	}
	return nil
}

func (d *deploymentsScreen) view(w, h int) string {
	more := ""
	if d.next != "" {
		more = d.s.styles.Muted.Render("  n: more")
	}
	return d.l.view(d.s.styles, d.s.now(), w, h, more)
}

// newDeploymentView shows one deployment with its diff colorized.
func newDeploymentView(s *session, d model.Deployment) screen {
	st := s.styles
	var b strings.Builder
	badge, ok := st.Badge[d.DeploymentMethod]
	if !ok {
		badge = st.Muted
	}
	fmt.Fprintf(&b, "%s %s  %s\n", badge.Render("["+d.DeploymentMethod+"]"), st.statusStyle(d.Status).Render(d.Status), d.ID)
	fmt.Fprintf(&b, "by %s at %s", orDash(d.DeployedBy), d.CreatedAt.UTC().Format("2006-01-02 15:04:05Z"))
	if d.CompletedAt != nil {
		fmt.Fprintf(&b, ", done %s", d.CompletedAt.UTC().Format("15:04:05Z"))
	}
	b.WriteString("\n")
	if d.GitCommitSha != "" {
		fmt.Fprintf(&b, "commit %s %s\n", d.GitCommitSha, st.Info.Render(d.GitCommitURL))
	}
	if d.Image != "" {
		fmt.Fprintf(&b, "image %s\n", d.Image)
	}
	if d.Replicas != nil {
		fmt.Fprintf(&b, "replicas %d\n", *d.Replicas)
	}
	if d.Message != "" {
		fmt.Fprintf(&b, "message %s\n", d.Message)
	}
	if d.ErrorMessage != "" {
		b.WriteString(st.Error.Render("error "+oneLine(d.ErrorMessage)) + "\n")
	}
	for _, l := range timelineLines(st, d) {
		b.WriteString(l + "\n")
	}
	return newDiffScreen(s, "Deployment "+shortSHA(orDash(d.GitCommitSha)), b.String(), d.Diff)
}
