package ui

import (
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/services/api"
)

// graphScreen draws the dependsOn graph (gitops.dependencyGraph) as a tree:
// each object that depends on nothing is a root, and under every object
// come the objects that depend on it, so the tree reads in the order Flux
// applies them. An object with several dependencies is drawn in full once
// and named again (↑) under its other dependencies; cycles are listed first.
type graphScreen struct {
	base
	in     api.GraphInput
	g      *api.Graph
	scroll int
}

func newGraph(s *session, in api.GraphInput) *graphScreen {
	return &graphScreen{base: newBase(s), in: in}
}

func (g *graphScreen) title() string { return "Dependencies" }
func (g *graphScreen) bindings() []key.Binding {
	k := g.s.keys
	return []key.Binding{k.Up, k.Down, k.Refresh}
}

func (g *graphScreen) init() tea.Cmd {
	return g.ld.start("dependency graph", invoke(g.s, g.sid, "", api.DependencyGraph, g.in))
}

func (g *graphScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if g.resize(msg) {
		return g, nil
	}
	switch msg := msg.(type) {
	case reloadMsg:
		return g, g.init()
	case statusMsg:
		if g.busy() == "" && g.g != nil {
			return g, g.init()
		}
	case doneMsg[api.Graph]:
		if v, ok := settle(&g.ld, msg); ok {
			g.g = &v
		}
	case tea.KeyPressMsg:
		k := g.s.keys
		if key.Matches(msg, k.Refresh) {
			return g, g.init()
		}
		if g.g != nil {
			g.scroll = scrollBy(k, msg, g.scroll, len(g.lines(g.s.styles)), g.h)
		}
	}
	return g, nil
}

func (g *graphScreen) view(w, h int) string {
	st := g.s.styles
	if g.g == nil {
		state := st.Muted.Render("loading…")
		if g.ld.err != nil {
			state = errLine(st, g.ld.err)
		}
		return clipLines(state, w, h)
	}
	return window(g.lines(st), g.scroll, w, h)
}

// lines are the errors (cycles first), then the tree.
func (g *graphScreen) lines(st Styles) []string {
	var l []string
	for _, e := range g.g.Errors {
		l = append(l, st.Error.Render("✗ "+e))
	}
	if len(l) > 0 {
		l = append(l, "")
	}
	rows := graphTree(g.g.Nodes)
	if len(rows) == 0 {
		return append(l, st.Muted.Render("No Kustomizations or HelmReleases."))
	}
	for _, r := range rows {
		line := strings.Repeat("  ", r.depth)
		if r.depth > 0 {
			line += st.Muted.Render("└ ")
		}
		line += r.n.Node
		if r.again {
			l = append(l, line+st.Muted.Render(" ↑"))
			continue
		}
		line += "  " + st.diagStyle(r.n.Class).Render(r.n.Class)
		if r.n.ClusterID != "" && g.in.ClusterID == "" {
			line += st.Muted.Render("  " + r.n.ClusterID)
		}
		if n := len(r.n.Dependents); n > 0 {
			line += st.Muted.Render("  blocks " + strconv.Itoa(n))
		}
		l = append(l, line)
	}
	return l
}

// treeRow is one line of the tree.
type treeRow struct {
	n     api.GraphNode
	depth int
	again bool // drawn in full above
}

// graphTree orders the graph's nodes as a tree of dependents under what
// they depend on, roots (wave 0) first; cycle members, which no root
// reaches, come last as roots of their own.
func graphTree(nodes []api.GraphNode) []treeRow {
	key := func(n api.GraphNode) string { return n.ClusterID + "|" + n.Node }
	byKey := map[string]api.GraphNode{}
	children := map[string][]string{}
	for _, n := range nodes {
		byKey[key(n)] = n
	}
	for _, n := range nodes {
		for _, d := range n.DependsOn {
			dk := n.ClusterID + "|" + d
			children[dk] = append(children[dk], key(n))
		}
	}
	for k := range children {
		slices.Sort(children[k])
	}
	var rows []treeRow
	done := map[string]bool{}
	var walk func(k string, depth int)
	walk = func(k string, depth int) {
		n, ok := byKey[k]
		if !ok {
			return
		}
		if done[k] {
			rows = append(rows, treeRow{n: n, depth: depth, again: true})
			return
		}
		done[k] = true
		rows = append(rows, treeRow{n: n, depth: depth})
		for _, c := range children[k] {
			walk(c, depth+1)
		}
	}
	for _, n := range nodes {
		if len(n.DependsOn) == 0 {
			walk(key(n), 0)
		}
	}
	for _, n := range nodes {
		if !done[key(n)] {
			walk(key(n), 0)
		}
	}
	return rows
}
