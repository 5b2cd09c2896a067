package ui

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"sigs.k8s.io/yaml"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// paletteEntry is a screen to jump to or a procedure to run.
type paletteEntry struct {
	name string
	desc string
	open func() screen
	proc api.Info
}

// palette is the `:` command palette.
type palette struct {
	s       *session
	in      textinput.Model
	entries []paletteEntry
	shown   []int
	cursor  int
}

func newPalette(s *session, w int) *palette {
	in := newInput()
	in.Prompt = ":"
	in.Placeholder = "screen or procedure"
	in.Focus()
	in.SetWidth(max(10, w-2))
	p := &palette{s: s, in: in}
	p.entries = []paletteEntry{
		{name: "clusters", desc: "clusters with live Flux health", open: func() screen { return newClusters(s) }},
		{name: "projects", desc: "projects and their environments", open: func() screen { return newProjects(s) }},
		{name: "resources", desc: "every GitOps resource", open: func() screen { return newResources(s, scopeInfo{}, "", "") }},
		{name: "deployments", desc: "deployment history", open: func() screen { return newDeployments(s, "", "") }},
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
		if q == "" || strings.Contains(strings.ToLower(e.name), q) {
			p.shown = append(p.shown, i)
		}
	}
	// Exact and prefix matches first.
	sort.SliceStable(p.shown, func(a, b int) bool {
		ra, rb := rank(p.entries[p.shown[a]].name, q), rank(p.entries[p.shown[b]].name, q)
		return ra < rb
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
			if e.open != nil {
				return push(e.open())
			}
			return push(newProcForm(p.s, e.proc))
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
		if e.open != nil {
			kind = "screen"
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

// newProcForm builds a form from a procedure's input fields and runs it:
// the one place a procedure is called by its name.
func newProcForm(s *session, pr api.Info) screen {
	f := fieldsForm(pr.Fields, formSpec{requiredFirst: true})
	if pr.Input != nil {
		f.verify = func(f *form) map[string]string {
			return decodeInto(f, reflect.New(pr.Input).Interface(), nil)
		}
		f.recheck()
	}
	if len(f.fields) == 0 {
		f = newForm(field{label: "no input", kind: choiceField, choices: []string{"run"}})
	}
	intro := pr.Description + " (role " + string(pr.Role) + ")"
	return newFormScreen(s, pr.Name, intro, f,
		func(f *form, to int) tea.Cmd {
			raw, err := json.Marshal(f.object(model.FieldErrors{}))
			if err != nil {
				return fail(err)
			}
			return invokeRaw(s, to, pr, raw)
		},
		func(msg tea.Msg) tea.Cmd {
			res := msg.(doneMsg[any]).val
			b, err := json.Marshal(res)
			text := ""
			if err == nil {
				if y, err := yaml.JSONToYAML(b); err == nil {
					text = string(y)
				}
			}
			return replace(newTextScreen(s, pr.Name+" result", "yaml", text))
		})
}
