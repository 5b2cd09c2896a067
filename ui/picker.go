package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// Pickers replace typed ids in forms: a field naming a cluster, project,
// environment, repository or resource offers the records a real list call
// returns (through invoke), shows their names, pre-selects the one of the
// current context, narrows as you type and sends the chosen id. When the
// list cannot be loaded the field takes a typed id.

// pickKind names what a picker lists.
type pickKind string

const (
	pickCluster  pickKind = "cluster"
	pickProject  pickKind = "project"
	pickEnv      pickKind = "environment"
	pickRepo     pickKind = "repository"
	pickResource pickKind = "resource"
)

// option is one record a picker offers; project and env are the ids it
// belongs to, so an environment picker follows the form's project.
type option struct {
	id, label    string
	project, env string
}

// optionsMsg delivers a picker's options to screen to.
type optionsMsg struct {
	to   int
	kind pickKind
	opts []option
	err  error
}

func (o optionsMsg) target() int { return o.to }

// picker is the state of a picker field.
type picker struct {
	kind    pickKind
	opts    []option
	loaded  bool
	err     *model.Error
	want    string // the id to select (pre-filled, or the last chosen)
	query   textinput.Model
	project string // the form's project: only its records are offered
	env     string // the form's environment (resources)
	not     string // a record not offered (the target of a promotion)
	// none, when set, names the choice of no record (an optional field).
	none string
}

func newPicker(kind pickKind, want string) *picker {
	q := newInput()
	q.Prompt = ""
	q.CharLimit = 256
	return &picker{kind: kind, want: want, query: q}
}

// matches are the options of the form's project (and environment) that
// the typed query finds.
func (p *picker) matches() []option {
	q := strings.ToLower(strings.TrimSpace(p.query.Value()))
	var out []option
	for _, o := range p.opts {
		if p.project != "" && o.project != "" && o.project != p.project {
			continue
		}
		if p.env != "" && o.env != "" && o.env != p.env || o.id != "" && o.id == p.not {
			continue
		}
		if q == "" || strings.Contains(strings.ToLower(o.label+" "+o.id), q) {
			out = append(out, o)
		}
	}
	return out
}

// selected returns the chosen option's index in matches (-1 for none).
func (p *picker) selected(ms []option) int {
	for i, o := range ms {
		if o.id == p.want {
			return i
		}
	}
	if len(ms) > 0 {
		return 0
	}
	return -1
}

// value is the chosen id; a picker without options takes a typed id.
func (p *picker) value() string {
	if len(p.opts) == 0 {
		return strings.TrimSpace(p.query.Value())
	}
	ms := p.matches()
	if i := p.selected(ms); i >= 0 {
		return ms[i].id
	}
	return ""
}

// label is the chosen record's name ("" when none).
func (p *picker) label() string {
	ms := p.matches()
	if i := p.selected(ms); i >= 0 && ms[i].id != "" {
		return ms[i].label
	}
	return ""
}

// set takes the loaded options.
func (p *picker) set(msg optionsMsg) {
	p.loaded = true
	if msg.err != nil {
		p.err = model.AsError(msg.err)
		if p.query.Value() == "" {
			p.query.SetValue(p.want)
		}
		return
	}
	p.opts = msg.opts
	if p.none != "" {
		p.opts = append([]option{{label: hint(p.none)}}, msg.opts...)
	}
}

// key cycles with ←/→ and narrows with typed text.
func (p *picker) key(km tea.KeyPressMsg) tea.Cmd {
	ms := p.matches()
	if n := len(ms); n > 0 && len(p.opts) > 0 {
		switch km.String() {
		case "right", "ctrl+n":
			p.want = ms[(p.selected(ms)+1)%n].id
			return nil
		case "left", "ctrl+p":
			p.want = ms[(p.selected(ms)+n-1)%n].id
			return nil
		}
	}
	var cmd tea.Cmd
	p.query, cmd = p.query.Update(km)
	if ms := p.matches(); len(ms) > 0 && p.selected(ms) >= 0 {
		p.want = ms[p.selected(ms)].id
	}
	return cmd
}

// view renders the picker: the chosen name and how many there are, the
// query while one is typed, and the loading or failure state.
func (p *picker) view(st Styles, focused bool) string {
	switch {
	case !p.loaded:
		return st.Muted.Render(hint("loading " + string(p.kind) + "s"))
	case len(p.opts) == 0:
		note := "none yet: type an id"
		if p.err != nil {
			note = "could not list " + string(p.kind) + "s (" + string(p.err.Code) + "): type an id"
		}
		return p.query.View() + " " + st.Muted.Render(hint(note))
	}
	ms := p.matches()
	i := p.selected(ms)
	var b strings.Builder
	if q := p.query.Value(); q != "" || focused {
		b.WriteString(st.Muted.Render("/") + p.query.Value() + " ")
	}
	if i < 0 {
		b.WriteString(st.Error.Render("no " + string(p.kind) + " matches"))
		return b.String()
	}
	b.WriteString(st.Header.Render(ms[i].label))
	if ms[i].id != "" && ms[i].label != ms[i].id {
		b.WriteString(st.Muted.Render(" " + ms[i].id))
	}
	if focused {
		b.WriteString(st.Muted.Render(fmt.Sprintf("  %d/%d ←/→", i+1, len(ms))))
	}
	return b.String()
}

// loadOptions lists the records of kind through the typed contract and
// delivers them as options to screen to.
func loadOptions(s *session, to int, kind pickKind) tea.Cmd {
	switch kind {
	case pickCluster:
		return optionsOf(s, to, kind, api.ListClusters, api.ClusterListInput{Live: new(false)}, func(c *api.ClusterView) option {
			return option{id: c.ID, label: c.Name}
		})
	case pickProject:
		return optionsOf(s, to, kind, api.ListProjects, api.Empty{}, func(p *model.Project) option {
			return option{id: p.ID, label: p.Name}
		})
	case pickEnv:
		return optionsOf(s, to, kind, api.ListEnvironments, api.ListEnvironmentsInput{}, func(e *model.Environment) option {
			return option{id: e.ID, label: e.Name, project: e.ProjectID}
		})
	case pickRepo:
		return optionsOf(s, to, kind, api.ListRepositories, api.ListRepositoriesInput{}, func(r *model.Repository) option {
			return option{id: r.ID, label: r.FullName, project: r.ProjectID}
		})
	case pickResource:
		return optionsOf(s, to, kind, api.ListGitOpsResources, api.ListResourcesInput{}, func(r *api.ResourceView) option {
			return option{id: r.ID, label: r.Name, project: r.ProjectID, env: r.EnvironmentID}
		})
	}
	return nil
}

func optionsOf[I, T any](s *session, to int, kind pickKind, p api.Proc[I, []T], in I, conv func(*T) option) tea.Cmd {
	call := invoke(s, to, string(kind), p, in)
	return func() tea.Msg {
		d := call().(doneMsg[[]T])
		if d.err != nil {
			return optionsMsg{to: to, kind: kind, err: d.err}
		}
		out := make([]option, len(d.val))
		for i := range d.val {
			out[i] = conv(&d.val[i])
		}
		return optionsMsg{to: to, kind: kind, opts: out}
	}
}

// names maps ids to display names, learned from every list the session
// loads, so columns and the status line show names, not ids.
type names struct {
	m map[pickKind]map[string]string
}

func (n *names) learn(kind pickKind, id, name string) {
	if id == "" || name == "" {
		return
	}
	if n.m == nil {
		n.m = map[pickKind]map[string]string{}
	}
	if n.m[kind] == nil {
		n.m[kind] = map[string]string{}
	}
	n.m[kind][id] = name
}

func (n *names) learnAll(kind pickKind, opts []option) {
	for _, o := range opts {
		n.learn(kind, o.id, o.label)
	}
}

// of returns the name of id, else id itself.
func (n *names) of(kind pickKind, id string) string {
	if name, ok := n.m[kind][id]; ok {
		return name
	}
	return id
}

// hint renders a placeholder so that it cannot pass for a value, even
// without color: in angle brackets (and dim where the terminal can).
func hint(text string) string {
	if text == "" {
		return ""
	}
	return "‹" + text + "›"
}
