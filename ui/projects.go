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

// projectsScreen lists projects.
type projectsScreen struct {
	base
	t      table
	items  []model.Project
	loaded bool
}

func newProjects(s *session) *projectsScreen {
	return &projectsScreen{base: newBase(s), t: table{cols: []column{{"NAME", 24}, {"ID", 24}, {"CREATED", 0}}}}
}

func (p *projectsScreen) title() string { return "Projects" }
func (p *projectsScreen) bindings() []key.Binding {
	k := p.s.keys
	return []key.Binding{k.Up, k.Down, k.Open, k.Resources, k.Deployments, k.Refresh}
}

func (p *projectsScreen) init() tea.Cmd {
	p.working = "loading projects"
	return invoke(p.s, p.sid, "", api.ListProjects, api.Empty{})
}

func (p *projectsScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if p.resize(msg) {
		p.t.setHeight(p.h - 2)
		return p, nil
	}
	switch msg := msg.(type) {
	case doneMsg[[]model.Project]:
		p.working = ""
		p.loaded = true
		if msg.err != nil {
			return p, fail(msg.err)
		}
		p.items = msg.val
		p.t.setN(len(p.items))
	case tea.KeyPressMsg:
		k := p.s.keys
		if p.t.move(k, msg) {
			return p, nil
		}
		switch {
		case key.Matches(msg, k.Refresh):
			return p, p.init()
		case key.Matches(msg, k.Open) && p.t.n > 0:
			return p, push(newEnvironments(p.s, p.items[p.t.cursor]))
		}
	}
	return p, nil
}

func (p *projectsScreen) view(w, h int) string {
	st := p.s.styles
	head := st.Header.Render(fmt.Sprintf("Projects (%d)", len(p.items)))
	if !p.loaded {
		return head + "\n" + st.Muted.Render("loading…")
	}
	if len(p.items) == 0 {
		return head + "\n" + st.Muted.Render("No projects yet: `:` then projects.create.")
	}
	p.t.setHeight(h - 2)
	return head + "\n" + p.t.render(st, w, h-1, func(r, c int) (string, lipgloss.Style) {
		it := p.items[r]
		switch c {
		case 0:
			return it.Name, st.Header
		case 1:
			return it.ID, st.Muted
		}
		return age(p.s.now(), it.CreatedAt), st.Muted
	})
}

// envScreen lists a project's environments with their GitOps config.
type envScreen struct {
	base
	p     model.Project
	view_ *api.ProjectView
	t     table
}

func newEnvironments(s *session, p model.Project) *envScreen {
	return &envScreen{base: newBase(s), p: p, t: table{cols: []column{
		{"ENV", 9}, {"CLUSTER", 8}, {"NAMESPACE", 12}, {"GITOPS", 6}, {"SYNC", 6}, {"BRANCH", 7}, {"PATH", 0}, {"EVERY", 5},
	}}}
}

func (e *envScreen) title() string { return e.p.Name }
func (e *envScreen) scope() scope {
	sc := scope{project: e.p.Name}
	if env := e.current(); env != nil {
		sc.env = env.Name
		sc.cluster = env.ClusterID
	}
	return sc
}
func (e *envScreen) ids() (string, string) {
	if env := e.current(); env != nil {
		return e.p.ID, env.ID
	}
	return e.p.ID, ""
}

func (e *envScreen) current() *model.Environment {
	if e.view_ == nil || e.t.n == 0 {
		return nil
	}
	return &e.view_.Environments[e.t.cursor]
}

func (e *envScreen) bindings() []key.Binding {
	k := e.s.keys
	return []key.Binding{k.Up, k.Down, k.Open, k.GitOps, k.Deploy, k.ConfigEditor, k.History}
}

func (e *envScreen) init() tea.Cmd {
	e.working = "loading environments"
	return invoke(e.s, e.sid, "", api.GetProject, api.IDInput{ID: e.p.ID})
}

func (e *envScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if e.resize(msg) {
		e.t.setHeight(e.h - 2)
		return e, nil
	}
	switch msg := msg.(type) {
	case doneMsg[api.ProjectView]:
		e.working = ""
		if msg.err != nil {
			return e, fail(msg.err)
		}
		v := msg.val
		e.view_ = &v
		e.t.setN(len(v.Environments))
	case doneMsg[api.ConfigureGitOpsResult]:
		if msg.err == nil && e.view_ != nil {
			c := msg.val.Config
			for i := range e.view_.Environments {
				if e.view_.Environments[i].ID == c.EnvironmentID {
					e.view_.Environments[i].GitOpsConfig = model.GitOpsConfig{Enabled: c.Enabled, AutoSync: c.AutoSync,
						GitBranch: c.GitBranch, GitPath: c.GitPath, SyncInterval: c.SyncInterval, RepositoryID: c.RepositoryID}
				}
			}
		}
	case tea.KeyPressMsg:
		k := e.s.keys
		if e.t.move(k, msg) {
			return e, nil
		}
		if key.Matches(msg, k.Refresh) {
			return e, e.init()
		}
		env := e.current()
		if env == nil {
			return e, nil
		}
		switch {
		case key.Matches(msg, k.Open):
			return e, push(newResources(e.s, scopeInfo{scope: e.scope(), projectID: e.p.ID, envID: env.ID}, e.p.Name, env.Name))
		case key.Matches(msg, k.GitOps):
			return e, push(newGitOpsForm(e.s, e.sid, e.p, *env))
		case key.Matches(msg, k.Deploy):
			return e, push(newDeployForm(e.s, e.p, *env))
		case key.Matches(msg, k.ConfigEditor):
			return e, push(newConfigEditor(e.s, e.p, *env))
		case key.Matches(msg, k.History):
			return e, push(newDeployments(e.s, e.p.ID, env.ID))
		}
	}
	return e, nil
}

func (e *envScreen) view(w, h int) string {
	st := e.s.styles
	if e.view_ == nil {
		return st.Header.Render("Environments of "+e.p.Name) + "\n" + st.Muted.Render("loading…")
	}
	v := e.view_
	head := st.Header.Render(fmt.Sprintf("Environments of %s (%d)", e.p.Name, len(v.Environments)))
	repos := make([]string, 0, len(v.Repositories))
	for _, r := range v.Repositories {
		repos = append(repos, r.FullName)
	}
	sub := st.Muted.Render("repositories: " + orDash(strings.Join(repos, ", ")))
	if len(v.Environments) == 0 {
		return head + "\n" + sub + "\n" + st.Muted.Render("No environments: `:` then environments.create.")
	}
	e.t.setHeight(h - 3)
	return head + "\n" + sub + "\n" + e.t.render(st, w, h-2, func(r, c int) (string, lipgloss.Style) {
		env := v.Environments[r]
		g := env.GitOpsConfig
		switch c {
		case 0:
			return env.Name, st.Header
		case 1:
			return env.ClusterID, lipgloss.NewStyle()
		case 2:
			return env.Namespace, lipgloss.NewStyle()
		case 3:
			if g.Enabled {
				return "on", st.OK
			}
			return "off", st.Muted
		case 4:
			if g.AutoSync {
				return "auto", st.OK
			}
			return "manual", st.Warn
		case 5:
			return orDash(g.GitBranch), lipgloss.NewStyle()
		case 6:
			return orDash(g.GitPath), lipgloss.NewStyle()
		}
		return orDash(g.SyncInterval), lipgloss.NewStyle()
	})
}

// newGitOpsForm edits an environment's GitOps config with validation as you type.
func newGitOpsForm(s *session, parent int, p model.Project, env model.Environment) screen {
	g := env.GitOpsConfig
	f := newForm(
		boolIn("enabled", "enabled", g.Enabled),
		boolIn("autoSync", "autoSync", g.AutoSync),
		textIn("gitBranch", "branch", g.GitBranch, "main", nonEmpty(checkBranch)),
		textIn("gitPath", "path", g.GitPath, "./k8s/overlays/"+env.Name, nonEmpty(checkGitPath)),
		textIn("syncInterval", "interval", g.SyncInterval, "5m", nonEmpty(checkDuration)),
	)
	return newFormScreen(s, "GitOps config of "+env.Name, "Project "+p.Name+", namespace "+env.Namespace+" on "+env.ClusterID+".", f,
		func(f *form, to int) tea.Cmd {
			cfg := api.GitOpsConfigPatch{Enabled: new(f.flag("enabled")), AutoSync: new(f.flag("autoSync")),
				GitBranch: new(f.value("gitBranch")), GitPath: new(f.value("gitPath")), SyncInterval: new(f.value("syncInterval"))}
			return invoke(s, to, "", api.ConfigureGitOps, api.ConfigureGitOpsInput{EnvironmentID: env.ID, Config: cfg})
		},
		func(msg tea.Msg) tea.Cmd {
			d := msg.(doneMsg[api.ConfigureGitOpsResult])
			d.to = parent
			return tea.Batch(pop("GitOps config of "+env.Name+" saved"), func() tea.Msg { return d })
		})
}
