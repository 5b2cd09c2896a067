package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// projectsScreen lists projects.
type projectsScreen struct {
	base
	l list[model.Project]
}

func newProjects(s *session) *projectsScreen {
	p := &projectsScreen{base: newBase(s)}
	p.l = newList(&p.ld, listSpec[model.Project]{
		noun: "Projects",
		cols: []column[model.Project]{
			{title: "NAME", cell: func(x cellCtx, it *model.Project) (string, lipgloss.Style) { return it.Name, x.st.Header }},
			{title: "ID", prio: 1, cell: func(x cellCtx, it *model.Project) (string, lipgloss.Style) { return it.ID, x.st.Muted }},
			{title: "AGE", prio: 2, cell: func(x cellCtx, it *model.Project) (string, lipgloss.Style) {
				return age(x.now, it.CreatedAt), x.st.Muted
			}},
		},
		empty:  "No projects yet. Press c to create one.",
		search: func(it *model.Project) string { return it.Name + " " + it.ID },
		ident:  func(it *model.Project) string { return it.ID },
		now:    s.now,
	})
	return p
}

func (p *projectsScreen) title() string   { return "Projects" + p.l.filterNote() }
func (p *projectsScreen) capturing() bool { return p.l.filtering }
func (p *projectsScreen) esc() bool       { return p.l.clearFilter() }
func (p *projectsScreen) bindings() []key.Binding {
	k := p.s.keys
	if p.l.filtering {
		return filterBindings()
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Filter, k.Create, k.Delete, k.Refresh}
}

func (p *projectsScreen) ids() (string, string) {
	if cur := p.l.current(); cur != nil {
		return cur.ID, ""
	}
	return "", ""
}

func (p *projectsScreen) init() tea.Cmd {
	return p.ld.start("loading projects", invoke(p.s, p.sid, "", api.ListProjects, api.Empty{}))
}

func (p *projectsScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if p.resize(msg) {
		p.l.resize(p.w, p.h)
		return p, nil
	}
	switch msg := msg.(type) {
	case reloadMsg:
		return p, p.init()
	case doneMsg[[]model.Project]:
		if v, ok := settle(&p.ld, msg); ok {
			for _, it := range v {
				p.s.names.learn(pickProject, it.ID, it.Name)
			}
			p.l.setRows(v)
		}
	case tea.KeyPressMsg:
		return p, p.key(msg)
	}
	return p, nil
}

func (p *projectsScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := p.s.keys
	if ok, cmd := p.l.key(k, msg); ok {
		return cmd
	}
	cur := p.l.current()
	switch {
	case key.Matches(msg, k.Refresh):
		return p.init()
	case key.Matches(msg, k.Create):
		return push(newProjectForm(p.s, p.sid))
	case cur == nil:
		return nil
	case key.Matches(msg, k.Open):
		return push(newEnvironments(p.s, *cur))
	case key.Matches(msg, k.Delete):
		return push(newDelete(p.s, deleteSpec{
			what: "project " + cur.Name, name: cur.Name,
			note:  "The project leaves gitopstui with its history; nothing in Git or on a cluster changes.",
			force: "also delete its environments and repositories",
			run: func(force bool, to int) tea.Cmd {
				return invoke(p.s, to, "", api.DeleteProject, api.RemoveInput{ID: cur.ID, Force: force})
			},
			done: deleted("project "+cur.Name, p.sid),
		}))
	}
	return nil
}

func (p *projectsScreen) view(w, h int) string {
	return p.l.view(p.s.styles, p.s.now(), w, h, "")
}

// newProjectForm creates a project, generated from projects.create's
// declaration; the id comes from the name.
func newProjectForm(s *session, list int) screen {
	f := inputForm(api.CreateProject, formSpec{only: []string{"name"}, fields: map[string]fieldOpt{
		"name": {hint: "e.g. shop"},
	}}, nil)
	return newFormScreen(s, "Create a project", "A project groups the environments, repositories and deployments of one application.", f,
		func(f *form, to int) tea.Cmd {
			in, _ := formInput[api.CreateProjectInput](f, nil)
			return invoke(s, to, "", api.CreateProject, in)
		},
		func(msg tea.Msg) tea.Cmd {
			p := msg.(doneMsg[model.Project]).val
			return tea.Batch(pop("created project "+p.Name), reload(list))
		})
}
