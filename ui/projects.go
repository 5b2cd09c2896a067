package ui

import (
	"strconv"
	"strings"

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
			{"NAME", 24, 0, func(x cellCtx, it *model.Project) (string, lipgloss.Style) { return it.Name, x.st.Header }},
			{"ID", 24, 1, func(x cellCtx, it *model.Project) (string, lipgloss.Style) { return it.ID, x.st.Muted }},
			{"CREATED", 0, 2, func(x cellCtx, it *model.Project) (string, lipgloss.Style) {
				return age(x.now, it.CreatedAt), x.st.Muted
			}},
		},
		empty:  "No projects yet: `:` then projects.create.",
		search: func(it *model.Project) string { return it.Name + " " + it.ID },
		ident:  func(it *model.Project) string { return it.ID },
	})
	return p
}

func (p *projectsScreen) title() string   { return "Projects" }
func (p *projectsScreen) capturing() bool { return p.l.filtering }
func (p *projectsScreen) bindings() []key.Binding {
	k := p.s.keys
	if p.l.filtering {
		return filterBindings()
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Filter, k.Resources, k.Deployments, k.Refresh}
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
	case doneMsg[[]model.Project]:
		if v, ok := settle(&p.ld, msg); ok {
			p.l.setRows(v)
		}
	case tea.KeyPressMsg:
		k := p.s.keys
		if ok, cmd := p.l.key(k, msg); ok {
			return p, cmd
		}
		switch cur := p.l.current(); {
		case key.Matches(msg, k.Refresh):
			return p, p.init()
		case key.Matches(msg, k.Open) && cur != nil:
			return p, push(newEnvironments(p.s, *cur))
		}
	}
	return p, nil
}

func (p *projectsScreen) view(w, h int) string {
	return p.l.view(p.s.styles, p.s.now(), w, h, "")
}

// envScreen lists a project's environments with their GitOps config.
type envScreen struct {
	base
	p model.Project
	l list[model.Environment]
}

func newEnvironments(s *session, p model.Project) *envScreen {
	e := &envScreen{base: newBase(s), p: p}
	e.l = newList(&e.ld, listSpec[model.Environment]{
		noun:  "Environments of " + p.Name,
		cols:  envColumns(),
		empty: "No environments: `:` then environments.create.",
		search: func(env *model.Environment) string {
			return env.Name + " " + env.ClusterID + " " + env.Namespace + " " + env.GitOpsConfig.GitPath
		},
		ident: func(env *model.Environment) string { return env.ID },
	})
	return e
}

func envColumns() []column[model.Environment] {
	plain := lipgloss.NewStyle()
	text := func(f func(env *model.Environment) string) func(cellCtx, *model.Environment) (string, lipgloss.Style) {
		return func(_ cellCtx, env *model.Environment) (string, lipgloss.Style) { return f(env), plain }
	}
	return []column[model.Environment]{
		{"ENV", 9, 0, func(x cellCtx, env *model.Environment) (string, lipgloss.Style) { return env.Name, x.st.Header }},
		{"CLUSTER", 8, 2, text(func(env *model.Environment) string { return env.ClusterID })},
		{"NAMESPACE", 12, 3, text(func(env *model.Environment) string { return env.Namespace })},
		{"GITOPS", 6, 1, func(x cellCtx, env *model.Environment) (string, lipgloss.Style) {
			if env.GitOpsConfig.Enabled {
				return "on", x.st.OK
			}
			return "off", x.st.Muted
		}},
		{"SYNC", 6, 1, func(x cellCtx, env *model.Environment) (string, lipgloss.Style) {
			if env.GitOpsConfig.AutoSync {
				return "auto", x.st.OK
			}
			return "manual", x.st.Warn
		}},
		{"BRANCH", 7, 3, text(func(env *model.Environment) string { return orDash(env.GitOpsConfig.GitBranch) })},
		{"PATH", 0, 2, text(func(env *model.Environment) string { return orDash(env.GitOpsConfig.GitPath) })},
		{"EVERY", 5, 4, text(func(env *model.Environment) string { return orDash(env.GitOpsConfig.SyncInterval) })},
	}
}

func (e *envScreen) title() string   { return e.p.Name }
func (e *envScreen) capturing() bool { return e.l.filtering }
func (e *envScreen) scope() scope {
	sc := scope{project: e.p.Name}
	if env := e.l.current(); env != nil {
		sc.env = env.Name
		sc.cluster = env.ClusterID
	}
	return sc
}
func (e *envScreen) ids() (string, string) {
	if env := e.l.current(); env != nil {
		return e.p.ID, env.ID
	}
	return e.p.ID, ""
}

func (e *envScreen) bindings() []key.Binding {
	k := e.s.keys
	if e.l.filtering {
		return filterBindings()
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Filter, k.GitOps, k.Deploy, k.ConfigEditor, k.History}
}

func (e *envScreen) init() tea.Cmd {
	return e.ld.start("loading environments", invoke(e.s, e.sid, "", api.GetProject, api.IDInput{ID: e.p.ID}))
}

func (e *envScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if e.resize(msg) {
		e.l.resize(e.w, e.h)
		return e, nil
	}
	switch msg := msg.(type) {
	case doneMsg[api.ProjectView]:
		if v, ok := settle(&e.ld, msg); ok {
			names := make([]string, 0, len(v.Repositories))
			for _, r := range v.Repositories {
				names = append(names, r.FullName)
			}
			e.l.sub = "repositories: " + orDash(strings.Join(names, ", "))
			e.l.setRows(v.Environments)
		}
	case doneMsg[api.ConfigureGitOpsResult]:
		if msg.err == nil {
			e.configured(msg.val.Config)
		}
	case tea.KeyPressMsg:
		return e, e.key(msg)
	}
	return e, nil
}

// configured shows a saved GitOps config in its row.
func (e *envScreen) configured(c api.GitOpsConfigView) {
	i, ok := e.l.find(c.EnvironmentID)
	if !ok {
		return
	}
	env := e.l.items[i]
	env.GitOpsConfig = model.GitOpsConfig{Enabled: c.Enabled, AutoSync: c.AutoSync,
		GitBranch: c.GitBranch, GitPath: c.GitPath, SyncInterval: c.SyncInterval, RepositoryID: c.RepositoryID}
	e.l.setRow(i, env)
}

func (e *envScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := e.s.keys
	if ok, cmd := e.l.key(k, msg); ok {
		return cmd
	}
	if key.Matches(msg, k.Refresh) {
		return e.init()
	}
	env := e.l.current()
	if env == nil {
		return nil
	}
	switch {
	case key.Matches(msg, k.Open):
		return push(newResources(e.s, scopeInfo{scope: e.scope(), projectID: e.p.ID, envID: env.ID}, e.p.Name, env.Name))
	case key.Matches(msg, k.GitOps):
		return push(newGitOpsForm(e.s, e.sid, e.p, *env))
	case key.Matches(msg, k.Deploy):
		return push(newDeployForm(e.s, e.p, *env))
	case key.Matches(msg, k.ConfigEditor):
		return push(newConfigEditor(e.s, e.p, *env))
	case key.Matches(msg, k.History):
		return push(newDeployments(e.s, e.p.ID, env.ID))
	}
	return nil
}

func (e *envScreen) view(w, h int) string {
	return e.l.view(e.s.styles, e.s.now(), w, h, "")
}

// newGitOpsForm edits an environment's GitOps config, generated from
// environments.configureGitOps's declaration.
func newGitOpsForm(s *session, parent int, p model.Project, env model.Environment) screen {
	g := env.GitOpsConfig
	fill := func(in *api.ConfigureGitOpsInput) { in.EnvironmentID = env.ID }
	f := inputForm(api.ConfigureGitOps, formSpec{
		only:  []string{"config.enabled", "config.autoSync", "config.gitBranch", "config.gitPath", "config.syncInterval"},
		strip: "config.",
		fields: map[string]fieldOpt{
			"config.enabled":      {value: strconv.FormatBool(g.Enabled)},
			"config.autoSync":     {value: strconv.FormatBool(g.AutoSync)},
			"config.gitBranch":    {label: "branch", value: g.GitBranch, hint: "main", required: true},
			"config.gitPath":      {label: "path", value: g.GitPath, hint: "./k8s/overlays/" + env.Name, required: true},
			"config.syncInterval": {label: "interval", value: g.SyncInterval, hint: "5m", required: true},
		},
	}, fill)
	return newFormScreen(s, "GitOps config of "+env.Name, "Project "+p.Name+", namespace "+env.Namespace+" on "+env.ClusterID+".", f,
		func(f *form, to int) tea.Cmd {
			in, _ := formInput(f, fill)
			return invoke(s, to, "", api.ConfigureGitOps, in)
		},
		func(msg tea.Msg) tea.Cmd {
			d := msg.(doneMsg[api.ConfigureGitOpsResult])
			d.to = parent
			return tea.Batch(pop("GitOps config of "+env.Name+" saved"), func() tea.Msg { return d })
		})
}
