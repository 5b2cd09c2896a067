package ui

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// paletteEntry is a top-level view to switch to, a procedure to run, or
// a command (quit).
type paletteEntry struct {
	name string
	// alias also matches exactly (":q").
	alias string
	desc  string
	open  func() screen
	run   tea.Cmd
	proc  api.Info
}

// palette is the `:` command palette.
type palette struct {
	s       *session
	sc      scopeInfo
	in      textinput.Model
	entries []paletteEntry
	shown   []int
	cursor  int
}

func newPalette(s *session, w int, sc scopeInfo) *palette {
	in := newInput()
	in.Prompt = ":"
	in.Placeholder = hint("a view or a procedure")
	in.Focus()
	in.SetWidth(max(10, w-2))
	p := &palette{s: s, sc: sc, in: in}
	p.entries = []paletteEntry{
		{name: "clusters", desc: "clusters with live Flux health", open: func() screen { return newClusters(s) }},
		{name: "projects", desc: "projects and their environments", open: func() screen { return newProjects(s) }},
		{name: "resources", desc: "every GitOps resource", open: func() screen { return newResources(s, scopeInfo{}, "", "") }},
		{name: "deployments", desc: "deployment history", open: func() screen { return newDeployments(s, "", "") }},
		{name: "fleet", desc: "every cluster's resources and revision skew", open: func() screen { return newFleet(s) }},
		{name: "quit", alias: "q", desc: "leave gitopstui", run: tea.Quit},
	}
	for _, pr := range s.procs {
		p.entries = append(p.entries, paletteEntry{name: pr.Name, desc: pr.Description, proc: pr})
	}
	p.refilter()
	return p
}

// resize fits the input to a body w cells wide.
func (p *palette) resize(w int) { p.in.SetWidth(max(10, w-2)) }

func (p *palette) bindings() []key.Binding {
	return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open/run")), key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "choose")), p.s.keys.Cancel}
}

func (p *palette) refilter() {
	q := strings.ToLower(strings.TrimSpace(p.in.Value()))
	p.shown = p.shown[:0]
	for i, e := range p.entries {
		if q == "" || strings.Contains(strings.ToLower(e.name), q) || e.alias == q {
			p.shown = append(p.shown, i)
		}
	}
	// Exact and prefix matches first.
	sort.SliceStable(p.shown, func(a, b int) bool {
		ea, eb := p.entries[p.shown[a]], p.entries[p.shown[b]]
		return min(rank(ea.name, q), rank(ea.alias, q)) < min(rank(eb.name, q), rank(eb.alias, q))
	})
	p.cursor = max(0, min(p.cursor, len(p.shown)-1))
}

func rank(name, q string) int {
	n := strings.ToLower(name)
	switch {
	case n == q:
		return 0
	case strings.HasPrefix(n, q):
		return 1
	}
	return 2
}

func (p *palette) update(msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch km.String() {
		case "up", "ctrl+p":
			p.cursor = max(0, p.cursor-1)
			return nil
		case "down", "ctrl+n", "tab":
			p.cursor = min(len(p.shown)-1, p.cursor+1)
			return nil
		case "enter":
			if len(p.shown) == 0 {
				return fail(model.Errorf(model.CodeNotFound, "no screen or procedure matches %q", p.in.Value()))
			}
			e := p.entries[p.shown[p.cursor]]
			switch {
			case e.run != nil:
				return e.run
			case e.open != nil:
				return switchTo(e.open())
			}
			return push(newProcForm(p.s, e.proc, p.sc))
		}
	}
	var cmd tea.Cmd
	p.in, cmd = p.in.Update(msg)
	p.refilter()
	return cmd
}

func (p *palette) view(w, h int) string {
	st := p.s.styles
	var b strings.Builder
	b.WriteString(st.Header.Render("Command") + "\n" + p.in.View() + "\n")
	rows := max(1, h-3)
	start := max(0, p.cursor-rows+1)
	for i := start; i < len(p.shown) && i < start+rows; i++ {
		e := p.entries[p.shown[i]]
		kind := "proc  "
		switch {
		case e.open != nil:
			kind = "screen"
		case e.run != nil:
			kind = "      "
		}
		line := fmt.Sprintf(" %s %s %s", st.Muted.Render(kind), pad(e.name, 30), st.Muted.Render(e.desc))
		if i == p.cursor {
			line = st.Selected.Render(fit(fmt.Sprintf(" %s %s %s", kind, pad(e.name, 30), e.desc), w))
		}
		b.WriteString("\n" + fit(line, w))
	}
	if len(p.shown) == 0 {
		b.WriteString("\n" + st.Muted.Render("no match"))
	}
	return b.String()
}
