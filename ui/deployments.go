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
// id of the last deployment seen (deployments.list's before).
type deploymentsScreen struct {
	base
	projectID, envID string
	items            []model.Deployment
	next             string
	t                table
	loaded           bool
}

func newDeployments(s *session, projectID, envID string) *deploymentsScreen {
	return &deploymentsScreen{base: newBase(s), projectID: projectID, envID: envID, t: table{cols: []column{
		{"METHOD", 10}, {"STATUS", 7}, {"COMMIT", 7}, {"WHO", 10}, {"AGE", 4}, {"IMAGE", 20}, {"MESSAGE", 0},
	}}}
}

func (d *deploymentsScreen) title() string         { return "Deployments" }
func (d *deploymentsScreen) ids() (string, string) { return d.projectID, d.envID }
func (d *deploymentsScreen) bindings() []key.Binding {
	k := d.s.keys
	return []key.Binding{k.Up, k.Down, k.Open, k.More, k.Refresh}
}

func (d *deploymentsScreen) load(cursor string) tea.Cmd {
	d.working = "loading deployments"
	in := api.ListDeploymentsInput{ProjectID: d.projectID, EnvironmentID: d.envID, Limit: pageSize, Before: cursor}
	return invoke(d.s, d.sid, cursor, api.ListDeployments, in)
}

func (d *deploymentsScreen) init() tea.Cmd { return d.load("") }

func (d *deploymentsScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if d.resize(msg) {
		d.t.setHeight(d.h - 2)
		return d, nil
	}
	switch msg := msg.(type) {
	case doneMsg[[]model.Deployment]:
		d.working = ""
		d.loaded = true
		if msg.err != nil {
			return d, fail(msg.err)
		}
		if msg.tag == "" {
			d.items = nil
		}
		d.items = append(d.items, msg.val...)
		d.next = ""
		if len(msg.val) == pageSize {
			d.next = msg.val[len(msg.val)-1].ID
		}
		d.t.setN(len(d.items))
	case statusMsg:
		if dep := msg.Deployment; dep != nil && (d.envID == "" || dep.EnvironmentID == d.envID) && (d.projectID == "" || dep.ProjectID == d.projectID) {
			for i := range d.items {
				if d.items[i].ID == dep.ID {
					d.items[i] = *dep
					return d, nil
				}
			}
			d.items = append([]model.Deployment{*dep}, d.items...)
			d.t.setN(len(d.items))
		}
	case tea.KeyPressMsg:
		k := d.s.keys
		if d.t.move(k, msg) {
			if d.t.cursor == d.t.n-1 && d.next != "" && d.working == "" {
				return d, d.load(d.next)
			}
			return d, nil
		}
		switch {
		case key.Matches(msg, k.Refresh):
			return d, d.init()
		case key.Matches(msg, k.More) && d.next != "" && d.working == "":
			return d, d.load(d.next)
		case key.Matches(msg, k.Open) && d.t.n > 0:
			return d, push(newDeploymentView(d.s, d.items[d.t.cursor]))
		}
	}
	return d, nil
}

func (d *deploymentsScreen) view(w, h int) string {
	st := d.s.styles
	more := ""
	if d.next != "" {
		more = st.Muted.Render("  n: more")
	}
	head := st.Header.Render(fmt.Sprintf("Deployments (%d)", len(d.items))) + more
	if !d.loaded {
		return head + "\n" + st.Muted.Render("loading…")
	}
	if len(d.items) == 0 {
		return head + "\n" + st.Muted.Render("No deployments yet. Deploy from an environment with D.")
	}
	d.t.setHeight(h - 2)
	now := d.s.now()
	return head + "\n" + d.t.render(st, w, h-1, func(r, c int) (string, lipgloss.Style) {
		it := d.items[r]
		switch c {
		case 0:
			b, ok := st.Badge[it.DeploymentMethod]
			if !ok {
				b = st.Muted
			}
			return it.DeploymentMethod, b
		case 1:
			return it.Status, st.statusStyle(it.Status)
		case 2:
			return shortSHA(it.GitCommitSha), st.Muted
		case 3:
			return orDash(it.DeployedBy), lipgloss.NewStyle()
		case 4:
			return age(now, it.CreatedAt), st.Muted
		case 5:
			return orDash(it.Image), lipgloss.NewStyle()
		}
		return oneLine(it.Message), st.Muted
	})
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
	head := b.String()
	ds := &diffScreen{textScreen: textScreen{base: newBase(s), name: "Deployment " + shortSHA(orDash(d.GitCommitSha)), lang: "diff", text: d.Diff}, head: head}
	return ds
}

// diffScreen is a header over a highlighted diff.
type diffScreen struct {
	textScreen
	head string
}

func (d *diffScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	_, cmd := d.textScreen.update(msg)
	return d, cmd
}

func (d *diffScreen) view(w, h int) string {
	head := strings.TrimRight(d.head, "\n")
	n := strings.Count(head, "\n") + 2
	if strings.TrimSpace(d.text) == "" {
		return clipLines(head+"\n\n"+d.s.styles.Muted.Render("no diff recorded"), w, h)
	}
	return clipLines(head, w, h) + "\n\n" + d.textScreen.view(w, max(1, h-n))
}
