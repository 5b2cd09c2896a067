package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// fleetScreen is every Kustomization and HelmRelease of every registered
// cluster in one table (gitops.listFleet), kept live by the fleet events of
// the clusters' informers: a CLUSTER column, quick filters (f: one cluster
// after another, x: not ready anywhere) beside `/`, each cluster's
// reachability above the table (an unreachable cluster's rows stay, marked
// stale), and w for the revision skew of each repository path.
type fleetScreen struct {
	base
	l        list[api.FleetItem]
	clusters []api.FleetCluster
	skew     []api.Skew
	only     string // the cluster filter ("" for all)
	notReady bool
	showSkew bool
	scroll   int
}

var (
	fleetClusterKey = key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "next cluster"))
	fleetNotReady   = key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "not ready anywhere"))
	fleetSkewKey    = key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "revision skew"))
)

func newFleet(s *session) *fleetScreen {
	f := &fleetScreen{base: newBase(s)}
	f.l = newList(&f.ld, listSpec[api.FleetItem]{
		noun:  "Fleet",
		cols:  f.columns(),
		empty: "No Kustomization or HelmRelease on any registered cluster.",
		search: func(it *api.FleetItem) string {
			return f.clusterName(it.ClusterID) + " " + it.Namespace + " " + it.Name + " " + it.Type + " " + it.Status + " " +
				s.names.of(pickProject, it.ProjectID) + " " + s.names.of(pickEnv, it.EnvironmentID) + " " + it.Message
		},
		ident: func(it *api.FleetItem) string { return it.Key() },
		sorts: []sortMode[api.FleetItem]{
			{"cluster", func(a, b *api.FleetItem) bool { return a.Key() < b.Key() }},
			{"status", func(a, b *api.FleetItem) bool {
				if a.Status != b.Status {
					return statusRank(a.Status) < statusRank(b.Status)
				}
				return a.Key() < b.Key()
			}},
		},
		keep: func(it *api.FleetItem) bool {
			return (f.only == "" || it.ClusterID == f.only) && (!f.notReady || it.Status != model.StatusReady)
		},
		now: s.now,
	})
	return f
}

func (f *fleetScreen) columns() []column[api.FleetItem] {
	plain := lipgloss.NewStyle()
	return []column[api.FleetItem]{
		{title: "CLUSTER", cell: func(x cellCtx, it *api.FleetItem) (string, lipgloss.Style) {
			if it.Stale {
				return f.clusterName(it.ClusterID), x.st.Error
			}
			return f.clusterName(it.ClusterID), x.st.Header
		}},
		{title: "NAMESPACE", prio: 3, cell: func(x cellCtx, it *api.FleetItem) (string, lipgloss.Style) { return it.Namespace, x.st.Muted }},
		{title: "NAME", cell: func(_ cellCtx, it *api.FleetItem) (string, lipgloss.Style) { return it.Name, plain }},
		{title: "TYPE", prio: 4, cell: func(x cellCtx, it *api.FleetItem) (string, lipgloss.Style) {
			if it.Type == model.ResourceHelm {
				return "helm", x.st.Info
			}
			return "ks", plain
		}},
		{title: "STATUS", cell: func(x cellCtx, it *api.FleetItem) (string, lipgloss.Style) {
			if it.Stale {
				return it.Status + "?", x.st.Muted
			}
			return it.Status, x.st.statusStyle(it.Status)
		}},
		{title: "REVISION", prio: 1, cell: func(x cellCtx, it *api.FleetItem) (string, lipgloss.Style) {
			return shortRev(it.Revision), x.st.Muted
		}},
		{title: "ENV", prio: 2, cell: func(x cellCtx, it *api.FleetItem) (string, lipgloss.Style) {
			if it.EnvironmentID == "" {
				return "-", x.st.Muted
			}
			return f.s.names.of(pickEnv, it.EnvironmentID), plain
		}},
		{title: "MESSAGE", prio: 5, squeeze: true, cell: func(x cellCtx, it *api.FleetItem) (string, lipgloss.Style) {
			return oneLine(it.Message), x.st.Muted
		}},
	}
}

func (f *fleetScreen) clusterName(id string) string {
	for _, c := range f.clusters {
		if c.ID == id && c.Name != "" {
			return c.Name
		}
	}
	return f.s.names.of(pickCluster, id)
}

func (f *fleetScreen) title() string   { return "Fleet" + f.l.filterNote() }
func (f *fleetScreen) capturing() bool { return f.l.filtering }
func (f *fleetScreen) esc() bool {
	if f.showSkew {
		f.showSkew = false
		return true
	}
	return f.l.clearFilter()
}

func (f *fleetScreen) bindings() []key.Binding {
	k := f.s.keys
	if f.l.filtering {
		return filterBindings()
	}
	return []key.Binding{k.Up, k.Down, k.Filter, fleetClusterKey, fleetNotReady, fleetSkewKey, k.Sort, k.Refresh}
}

func (f *fleetScreen) init() tea.Cmd {
	return tea.Batch(f.ld.start("reading every cluster", invoke(f.s, f.sid, "", api.ListFleet, api.FleetInput{})),
		loadOptions(f.s, f.sid, pickProject), loadOptions(f.s, f.sid, pickEnv))
}

func (f *fleetScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if f.resize(msg) {
		f.l.resize(f.w, f.h)
		return f, nil
	}
	switch msg := msg.(type) {
	case reloadMsg:
		return f, f.init()
	case optionsMsg:
		f.s.names.learnAll(msg.kind, msg.opts)
		f.l.setRows(f.l.items)
	case doneMsg[api.FleetResult]:
		if v, ok := settle(&f.ld, msg); ok {
			f.clusters, f.skew = v.Clusters, v.Skew
			f.l.setRows(v.Resources)
			f.sub()
		}
	case statusMsg:
		if msg.Fleet != nil {
			f.live(*msg.Fleet)
		}
	case tea.KeyPressMsg:
		return f, f.key(msg)
	}
	return f, nil
}

// live applies one fleet event.
func (f *fleetScreen) live(e api.FleetEvent) {
	if c := e.Cluster; c != nil {
		f.setCluster(*c)
		return
	}
	it := e.Item
	if it == nil {
		return
	}
	i, ok := f.l.find(it.Key())
	switch {
	case ok && e.Deleted:
		f.l.remove(i)
	case ok:
		f.l.setRow(i, *it)
	case !e.Deleted && !f.ld.loading():
		f.l.insert(*it, false)
	}
}

// setCluster records a cluster's reachability; its rows turn stale (or
// live again) with it.
func (f *fleetScreen) setCluster(c api.FleetCluster) {
	found := false
	for i := range f.clusters {
		if f.clusters[i].ID == c.ID {
			c.Name, c.Resources, c.Live = f.clusters[i].Name, f.clusters[i].Resources, f.clusters[i].Live || c.Live
			f.clusters[i], found = c, true
		}
	}
	if !found {
		return // a cluster the loaded fleet does not know: the next load shows it
	}
	for i := range f.l.items {
		if it := &f.l.items[i]; it.ClusterID == c.ID && it.Stale == c.Reachable {
			it.Stale = !c.Reachable
		}
	}
	f.l.refilter()
	f.sub()
}

// sub is the line of clusters above the table.
func (f *fleetScreen) sub() {
	var up, down []string
	for _, c := range f.clusters {
		if c.Reachable {
			up = append(up, c.Name+" reachable")
			continue
		}
		state := c.Name + " UNREACHABLE"
		if c.Error != "" {
			state += " (" + ansi.Truncate(firstLine(stripCode(c.Error)), 48, "…") + ")"
		}
		down = append(down, state)
	}
	f.l.sub = strings.Join(append(up, down...), " · ")
}

// filters is what the quick filters show beside the heading.
func (f *fleetScreen) filters() string {
	var parts []string
	if f.only != "" {
		parts = append(parts, "only "+f.clusterName(f.only))
	}
	if f.notReady {
		parts = append(parts, "not ready anywhere")
	}
	if len(parts) == 0 {
		return ""
	}
	return f.s.styles.Warn.Render("  " + strings.Join(parts, " · "))
}

func (f *fleetScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := f.s.keys
	if f.showSkew {
		switch {
		case key.Matches(msg, fleetSkewKey):
			f.showSkew = false
		case key.Matches(msg, k.Refresh):
			return f.init()
		default:
			f.scroll = scrollBy(k, msg, f.scroll, len(f.skewLines(f.s.styles)), max(1, f.h-1))
		}
		return nil
	}
	if ok, cmd := f.l.key(k, msg); ok {
		return cmd
	}
	switch {
	case key.Matches(msg, fleetClusterKey):
		f.only = f.nextCluster()
	case key.Matches(msg, fleetNotReady):
		f.notReady = !f.notReady
	case key.Matches(msg, fleetSkewKey):
		f.showSkew, f.scroll = true, 0
		return nil
	case key.Matches(msg, k.Refresh):
		return f.init()
	default:
		return nil
	}
	f.l.refilter()
	f.sub()
	return nil
}

// nextCluster is the cluster filter after the current one ("" after the last).
func (f *fleetScreen) nextCluster() string {
	for i, c := range f.clusters {
		if c.ID == f.only {
			if i+1 < len(f.clusters) {
				return f.clusters[i+1].ID
			}
			return ""
		}
	}
	if f.only == "" && len(f.clusters) > 0 {
		return f.clusters[0].ID
	}
	return ""
}

func (f *fleetScreen) view(w, h int) string {
	if f.showSkew {
		st := f.s.styles
		head := st.Header.Render("Revision skew") + st.Muted.Render("  (w or esc: back to the table)")
		return clipLines(head+"\n"+window(f.skewLines(st), f.scroll, w, max(1, h-1)), w, h)
	}
	return f.l.view(f.s.styles, f.s.now(), w, h, f.filters())
}

// skewLines are the revision skew: per repository, branch and path, each
// cluster's Kustomization with its revision and how far behind the head.
func (f *fleetScreen) skewLines(st Styles) []string {
	if len(f.skew) == 0 {
		return []string{st.Muted.Render("No Kustomization of a known GitRepository.")}
	}
	var out []string
	for _, g := range f.skew {
		mark := st.OK.Render("in step")
		if g.Skewed {
			mark = st.Warn.Render("skewed")
		}
		out = append(out, st.Header.Render(g.URL)+" "+g.Branch+" "+st.Label.Render(g.Path)+"  head "+shortSHA(g.Head)+"  "+mark)
		for _, r := range g.Runs {
			behind := st.OK.Render("at head")
			switch {
			case r.Behind < 0:
				behind = st.Muted.Render("not on the branch history")
			case r.Behind > 0:
				behind = st.Warn.Render(fmt.Sprintf("%d behind", r.Behind))
			}
			env := "-"
			if r.EnvironmentID != "" {
				env = f.s.names.of(pickEnv, r.EnvironmentID)
			}
			out = append(out, fmt.Sprintf("  %s  %s  %s  %s  %s", pad(f.clusterName(r.ClusterID), 12), pad(env, 10), pad(r.Resource, 28), shortSHA(r.Revision), behind))
		}
	}
	return out
}
