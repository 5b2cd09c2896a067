package ui

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
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

func newPalette(s *session) *palette {
	in := newInput()
	in.Prompt = ":"
	in.Placeholder = "screen or procedure"
	in.Focus()
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

func (p *palette) restyle() {}

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
	in := p.in
	in.SetWidth(max(10, w-2))
	b.WriteString(st.Header.Render("Command") + "\n" + in.View() + "\n")
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

// flatField is one leaf of a procedure's input, with its dotted path.
type flatField struct {
	path []string
	f    api.Field
}

func flatten(prefix []string, fs []api.Field) []flatField {
	var out []flatField
	for _, f := range fs {
		p := append(append([]string(nil), prefix...), f.Name)
		if f.Type == "object" && len(f.Fields) > 0 {
			out = append(out, flatten(p, f.Fields)...)
			continue
		}
		out = append(out, flatField{path: p, f: f})
	}
	return out
}

// newProcForm builds a form from a procedure's input fields and runs it.
func newProcForm(s *session, pr api.Info) screen {
	flat := flatten(nil, pr.Fields)
	// Required fields first: they are what the form cannot do without.
	sort.SliceStable(flat, func(i, j int) bool { return flat[i].f.Required && !flat[j].f.Required })
	fields := make([]field, 0, len(flat))
	for _, ff := range flat {
		k := strings.Join(ff.path, ".")
		label := k
		if ff.f.Required {
			label += "*"
		}
		switch {
		case ff.f.Type == "boolean":
			fields = append(fields, choiceIn(k, label, []string{"unset", "true", "false"}, "unset"))
		case len(ff.f.Enum) > 0:
			fields = append(fields, choiceIn(k, label, append([]string{"unset"}, ff.f.Enum...), "unset"))
		default:
			hint := ff.f.Doc
			check := checkFieldType(ff.f.Type)
			fl := textIn(k, label, "", hint, check)
			fl.required = ff.f.Required
			fields = append(fields, fl)
		}
	}
	intro := pr.Description + " (role " + string(pr.Role) + ")"
	if len(fields) == 0 {
		fields = append(fields, choiceIn("_", "no input", []string{"run"}, "run"))
	}
	return newFormScreen(s, pr.Name, intro, newForm(fields...),
		func(f *form, to int) tea.Cmd {
			in := map[string]any{}
			for _, ff := range flat {
				k := strings.Join(ff.path, ".")
				v := f.value(k)
				if v == "" || v == "unset" {
					continue
				}
				val, err := typedValue(ff.f.Type, v)
				if err != nil {
					return fail(badRequest(map[string]string{k: err.Error()}))
				}
				setPath(in, ff.path, val)
			}
			raw, err := json.Marshal(in)
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
			ts := newTextScreen(s, pr.Name+" result", text)
			ts.lang = "yaml"
			return replace(ts)
		})
}

func checkFieldType(t string) func(string) string {
	return func(v string) string {
		if v == "" {
			return ""
		}
		if _, err := typedValue(t, v); err != nil {
			return err.Error()
		}
		return ""
	}
}

// typedValue converts form text to the JSON value of a field type: numbers,
// and JSON for arrays, maps and any.
func typedValue(t, v string) (any, error) {
	switch {
	case t == "string" || t == "time":
		return v, nil
	case t == "integer":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("must be an integer")
		}
		return n, nil
	case t == "number":
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("must be a number")
		}
		return n, nil
	case t == "boolean":
		return v == "true", nil
	case t == "[]string" && !strings.HasPrefix(v, "["):
		parts := strings.Split(v, ",")
		out := make([]string, 0, len(parts))
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	}
	var out any
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return nil, fmt.Errorf("must be JSON (%s)", t)
	}
	return out, nil
}

func setPath(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}
