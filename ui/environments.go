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

// envScreen lists environments with their GitOps config: a project's
// (projects.get, with its repositories) or a cluster's (environments.list,
// enter on a cluster), with the names of their clusters and projects.
type envScreen struct {
	base
	p  model.Project    // the project, when listing a project's
	cl *api.ClusterView // the cluster, when listing a cluster's
	l  list[model.Environment]
	// names loads the names of the clusters (or projects) the rows show.
	names loader
}

func newEnvironments(s *session, p model.Project) *envScreen {
	return newEnvScreen(s, p, nil, "Environments of "+p.Name)
}

func newClusterEnvironments(s *session, cl api.ClusterView) *envScreen {
	return newEnvScreen(s, model.Project{}, &cl, "Environments on "+cl.Name)
}

func newEnvScreen(s *session, p model.Project, cl *api.ClusterView, noun string) *envScreen {
	e := &envScreen{base: newBase(s), p: p, cl: cl}
	e.l = newList(&e.ld, listSpec[model.Environment]{
		noun:  noun,
		cols:  e.columns(),
		empty: "No environments here yet. Press c to create one.",
		search: func(env *model.Environment) string {
			return env.Name + " " + s.names.of(pickCluster, env.ClusterID) + " " + s.names.of(pickProject, env.ProjectID) +
				" " + env.Namespace + " " + env.GitOpsConfig.GitPath
		},
		ident: func(env *model.Environment) string { return env.ID },
		now:   s.now,
	})
	return e
}

func (e *envScreen) columns() []column[model.Environment] {
	plain := lipgloss.NewStyle()
	text := func(f func(env *model.Environment) string) func(cellCtx, *model.Environment) (string, lipgloss.Style) {
		return func(_ cellCtx, env *model.Environment) (string, lipgloss.Style) { return f(env), plain }
	}
	names := &e.s.names
	owner := column[model.Environment]{title: "CLUSTER", prio: 1, cell: text(func(env *model.Environment) string { return names.of(pickCluster, env.ClusterID) })}
	if e.cl != nil {
		owner = column[model.Environment]{title: "PROJECT", prio: 1, cell: text(func(env *model.Environment) string { return names.of(pickProject, env.ProjectID) })}
	}
	return []column[model.Environment]{
		{title: "ENV", cell: func(x cellCtx, env *model.Environment) (string, lipgloss.Style) { return env.Name, x.st.Header }},
		owner,
		{title: "GITOPS", cell: func(x cellCtx, env *model.Environment) (string, lipgloss.Style) {
			if env.GitOpsConfig.Enabled {
				return "on", x.st.OK
			}
			return "off", x.st.Muted
		}},
		{title: "SYNC", prio: 1, cell: func(x cellCtx, env *model.Environment) (string, lipgloss.Style) {
			if env.GitOpsConfig.AutoSync {
				return "auto", x.st.OK
			}
			return "manual", x.st.Warn
		}},
		{title: "NAMESPACE", prio: 3, cell: text(func(env *model.Environment) string { return env.Namespace })},
		{title: "BRANCH", prio: 4, cell: text(func(env *model.Environment) string { return orDash(env.GitOpsConfig.GitBranch) })},
		{title: "EVERY", prio: 5, cell: text(func(env *model.Environment) string { return orDash(env.GitOpsConfig.SyncInterval) })},
		{title: "PATH", prio: 2, squeeze: true, cell: text(func(env *model.Environment) string { return orDash(env.GitOpsConfig.GitPath) })},
	}
}

func (e *envScreen) title() string {
	if e.cl != nil {
		return "Environments on " + e.cl.Name + e.l.filterNote()
	}
	return e.p.Name + e.l.filterNote()
}
func (e *envScreen) capturing() bool { return e.l.filtering }
func (e *envScreen) esc() bool       { return e.l.clearFilter() }

// project is the project of env.
func (e *envScreen) project(env *model.Environment) model.Project {
	if e.cl == nil {
		return e.p
	}
	return model.Project{ID: env.ProjectID, Name: e.s.names.of(pickProject, env.ProjectID)}
}

func (e *envScreen) scope() scope {
	sc := scope{project: e.p.Name}
	if e.cl != nil {
		sc.cluster = e.cl.Name
	}
	if env := e.l.current(); env != nil {
		sc.env = env.Name
		sc.cluster = e.s.names.of(pickCluster, env.ClusterID)
		sc.project = e.project(env).Name
	}
	return sc
}

func (e *envScreen) ids() (string, string) {
	if env := e.l.current(); env != nil {
		return env.ProjectID, env.ID
	}
	return e.p.ID, ""
}

func (e *envScreen) clusterID() string {
	if env := e.l.current(); env != nil {
		return env.ClusterID
	}
	if e.cl != nil {
		return e.cl.ID
	}
	return ""
}

func (e *envScreen) bindings() []key.Binding {
	k := e.s.keys
	if e.l.filtering {
		return filterBindings()
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Filter, k.Deploy, k.GitOps, k.ConfigEditor, k.History, k.Repos, k.Promote, k.Create, k.Delete, k.Refresh}
}

func (e *envScreen) init() tea.Cmd {
	if e.cl != nil {
		return tea.Batch(
			e.ld.start("loading environments", invoke(e.s, e.sid, "", api.ListEnvironments, api.ListEnvironmentsInput{ClusterID: e.cl.ID})),
			e.names.start("", invoke(e.s, e.sid, "names", api.ListProjects, api.Empty{})))
	}
	return tea.Batch(
		e.ld.start("loading environments", invoke(e.s, e.sid, "", api.GetProject, api.IDInput{ID: e.p.ID})),
		e.names.start("", invoke(e.s, e.sid, "names", api.ListClusters, api.ClusterListInput{Live: new(false)})))
}

func (e *envScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if e.resize(msg) {
		e.l.resize(e.w, e.h)
		return e, nil
	}
	switch msg := msg.(type) {
	case reloadMsg:
		return e, e.init()
	case doneMsg[api.ProjectView]:
		if v, ok := settle(&e.ld, msg); ok {
			names := make([]string, 0, len(v.Repositories))
			for _, r := range v.Repositories {
				names = append(names, r.FullName)
			}
			e.l.sub = "repositories: " + orDash(strings.Join(names, ", "))
			e.l.setRows(v.Environments)
		}
	case doneMsg[[]model.Environment]:
		if v, ok := settle(&e.ld, msg); ok {
			e.l.setRows(v)
		}
	case doneMsg[[]api.ClusterView]:
		if v, ok := settle(&e.names, msg); ok {
			for _, cl := range v {
				e.s.names.learn(pickCluster, cl.ID, cl.Name)
			}
			e.l.setRows(e.l.items) // the names are wider or narrower than the ids
		}
	case doneMsg[[]model.Project]:
		if v, ok := settle(&e.names, msg); ok {
			for _, p := range v {
				e.s.names.learn(pickProject, p.ID, p.Name)
			}
			e.l.setRows(e.l.items)
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
	switch {
	case key.Matches(msg, k.Refresh):
		return e.init()
	case key.Matches(msg, k.Create):
		return push(newEnvironmentForm(e.s, e.sid, e.p.ID, e.clusterID()))
	case key.Matches(msg, k.Repos) && e.cl == nil:
		return push(newRepositories(e.s, e.p))
	}
	env := e.l.current()
	if env == nil {
		return nil
	}
	p := e.project(env)
	switch {
	case key.Matches(msg, k.Open):
		return push(newResources(e.s, scopeInfo{scope: e.scope(), projectID: p.ID, envID: env.ID, clusterID: env.ClusterID}, p.Name, env.Name))
	case key.Matches(msg, k.GitOps):
		return push(newGitOpsForm(e.s, e.sid, p, *env))
	case key.Matches(msg, k.Deploy):
		return push(newDeployForm(e.s, p, *env))
	case key.Matches(msg, k.Promote):
		return push(newPromoteForm(e.s, p, *env))
	case key.Matches(msg, k.ConfigEditor):
		return push(newConfigEditor(e.s, p, *env))
	case key.Matches(msg, k.History):
		return push(newDeployments(e.s, p.ID, env.ID))
	case key.Matches(msg, k.Repos):
		return push(newRepositories(e.s, p))
	case key.Matches(msg, k.Delete):
		return push(newDelete(e.s, deleteSpec{
			what: "environment " + env.Name, name: env.Name,
			note:  "The environment leaves gitopstui; its manifests in Git and its workloads stay.",
			force: "also delete its GitOps resources",
			run: func(force bool, to int) tea.Cmd {
				return invoke(e.s, to, "", api.DeleteEnvironment, api.RemoveInput{ID: env.ID, Force: force})
			},
			done: deleted("environment "+env.Name, e.sid),
		}))
	}
	return nil
}

func (e *envScreen) view(w, h int) string {
	return e.l.view(e.s.styles, e.s.now(), w, h, "")
}

// newEnvironmentForm creates an environment, generated from
// environments.create's declaration, with the project and cluster picked.
func newEnvironmentForm(s *session, list int, projectID, clusterID string) screen {
	f := inputForm(api.CreateEnvironment, formSpec{only: []string{"projectId", "name", "clusterId", "namespace"}, fields: map[string]fieldOpt{
		"projectId": {label: "project", value: projectID},
		"name":      {hint: "e.g. prod"},
		"clusterId": {label: "cluster", value: clusterID},
		"namespace": {hint: "e.g. shop-prod"},
	}}, nil)
	return newFormScreen(s, "Create an environment", "An environment is a namespace on a cluster that one path of a repository describes.", f,
		func(f *form, to int) tea.Cmd {
			in, _ := formInput[api.CreateEnvironmentInput](f, nil)
			return invoke(s, to, "", api.CreateEnvironment, in)
		},
		func(msg tea.Msg) tea.Cmd {
			env := msg.(doneMsg[model.Environment]).val
			return tea.Batch(pop("created environment "+env.Name), reload(list))
		})
}

// newGitOpsForm edits an environment's GitOps config, generated from
// environments.configureGitOps's declaration, with the repository picked.
func newGitOpsForm(s *session, parent int, p model.Project, env model.Environment) screen {
	g := env.GitOpsConfig
	fill := func(in *api.ConfigureGitOpsInput) { in.EnvironmentID = env.ID }
	f := inputForm(api.ConfigureGitOps, formSpec{
		only:  []string{"config.enabled", "config.autoSync", "config.gitBranch", "config.gitPath", "config.syncInterval", "config.repositoryId"},
		strip: "config.",
		fields: map[string]fieldOpt{
			"config.enabled":      {value: strconv.FormatBool(g.Enabled)},
			"config.autoSync":     {value: strconv.FormatBool(g.AutoSync)},
			"config.repositoryId": {label: "repository", value: g.RepositoryID, hint: "the project's GitOps repository"},
			"config.gitBranch":    {label: "branch", value: g.GitBranch, hint: "main", required: true},
			"config.gitPath":      {label: "path", value: g.GitPath, hint: "./k8s/overlays/" + env.Name, required: true},
			"config.syncInterval": {label: "interval", value: g.SyncInterval, hint: "5m", required: true},
		},
	}, fill)
	f.fields[5].pick.project = p.ID
	intro := "Project " + p.Name + ", namespace " + env.Namespace + " on " + s.names.of(pickCluster, env.ClusterID) + "."
	return newFormScreen(s, "GitOps config of "+env.Name, intro, f,
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
