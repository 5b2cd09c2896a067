package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// reposScreen lists a project's Git repositories (r on an environment):
// create, delete, and enable GitOps (a Flux GitRepository) on one.
type reposScreen struct {
	base
	p model.Project
	l list[model.Repository]
}

func newRepositories(s *session, p model.Project) *reposScreen {
	r := &reposScreen{base: newBase(s), p: p}
	plain := lipgloss.NewStyle()
	r.l = newList(&r.ld, listSpec[model.Repository]{
		noun: "Repositories of " + p.Name,
		cols: []column[model.Repository]{
			{title: "NAME", cell: func(x cellCtx, it *model.Repository) (string, lipgloss.Style) { return it.FullName, x.st.Header }},
			{title: "GITOPS", cell: func(x cellCtx, it *model.Repository) (string, lipgloss.Style) {
				if it.GitOpsConfig.Enabled {
					return "on", x.st.OK
				}
				return "off", x.st.Muted
			}},
			{title: "BRANCH", prio: 2, cell: func(_ cellCtx, it *model.Repository) (string, lipgloss.Style) { return orDash(it.DefaultBranch), plain }},
			{title: "AUTH", prio: 3, cell: func(x cellCtx, it *model.Repository) (string, lipgloss.Style) {
				if it.Auth == nil {
					return "-", x.st.Muted
				}
				return it.Auth.Type, x.st.Muted
			}},
			{title: "URL", prio: 1, squeeze: true, cell: func(x cellCtx, it *model.Repository) (string, lipgloss.Style) { return it.URL, x.st.Muted }},
		},
		empty:  "No repositories yet. Press c to add the Git repository holding this project's manifests.",
		search: func(it *model.Repository) string { return it.FullName + " " + it.URL },
		ident:  func(it *model.Repository) string { return it.ID },
		now:    s.now,
	})
	return r
}

func (r *reposScreen) title() string         { return "Repositories" + r.l.filterNote() }
func (r *reposScreen) capturing() bool       { return r.l.filtering }
func (r *reposScreen) esc() bool             { return r.l.clearFilter() }
func (r *reposScreen) scope() scope          { return scope{project: r.p.Name} }
func (r *reposScreen) ids() (string, string) { return r.p.ID, "" }
func (r *reposScreen) view(w, h int) string  { return r.l.view(r.s.styles, r.s.now(), w, h, "") }
func (r *reposScreen) bindings() []key.Binding {
	k := r.s.keys
	if r.l.filtering {
		return filterBindings()
	}
	return []key.Binding{k.Up, k.Down, k.Filter, k.GitOps, k.Create, k.Delete, k.Refresh}
}

func (r *reposScreen) init() tea.Cmd {
	return r.ld.start("loading repositories", invoke(r.s, r.sid, "", api.ListRepositories, api.ListRepositoriesInput{ProjectID: r.p.ID}))
}

func (r *reposScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if r.resize(msg) {
		r.l.resize(r.w, r.h)
		return r, nil
	}
	switch msg := msg.(type) {
	case reloadMsg:
		return r, r.init()
	case doneMsg[[]model.Repository]:
		if v, ok := settle(&r.ld, msg); ok {
			r.l.setRows(v)
		}
	case tea.KeyPressMsg:
		return r, r.key(msg)
	}
	return r, nil
}

func (r *reposScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := r.s.keys
	if ok, cmd := r.l.key(k, msg); ok {
		return cmd
	}
	cur := r.l.current()
	switch {
	case key.Matches(msg, k.Refresh):
		return r.init()
	case key.Matches(msg, k.Create):
		return push(newRepositoryForm(r.s, r.sid, r.p.ID))
	case cur == nil:
		return nil
	case key.Matches(msg, k.GitOps):
		return push(newEnableGitOpsForm(r.s, r.sid, *cur))
	case key.Matches(msg, k.Delete):
		return push(newDelete(r.s, deleteSpec{
			what: "repository " + cur.FullName, name: cur.FullName,
			note:  "The repository leaves gitopstui; nothing in Git changes.",
			force: "also delete its GitOps resources",
			run: func(force bool, to int) tea.Cmd {
				return invoke(r.s, to, "", api.DeleteRepository, api.RemoveInput{ID: cur.ID, Force: force})
			},
			done: deleted("repository "+cur.FullName, r.sid),
		}))
	}
	return nil
}

// newRepositoryForm adds a repository, generated from repositories.create's
// declaration, with the project picked; the id is generated.
func newRepositoryForm(s *session, list int, projectID string) screen {
	f := inputForm(api.CreateRepository, formSpec{
		only: []string{"projectId", "fullName", "url", "defaultBranch", "auth.type", "auth.username", "auth.tokenEnv", "auth.keyFile"},
		fields: map[string]fieldOpt{
			"projectId":     {label: "project", value: projectID},
			"fullName":      {label: "name", hint: "e.g. acme/shop-config"},
			"url":           {hint: "e.g. https://github.com/acme/shop-config.git"},
			"defaultBranch": {label: "branch", hint: "main"},
			"auth.type": {label: "credentials", choices: []string{model.AuthNone, model.AuthTokenEnv, model.AuthBasicEnv, model.AuthSSHKey,
				model.AuthSSHAgent, model.AuthCredentialHelper}},
			"auth.username": {label: "user", hint: "for basic-env"},
			"auth.tokenEnv": {label: "token variable", hint: "e.g. GITHUB_TOKEN, for token-env and basic-env"},
			"auth.keyFile":  {label: "key file", hint: "for ssh-key"},
		},
	}, nil)
	return newFormScreen(s, "Add a repository", "Credentials are a reference (a variable or a file), never a secret.", f,
		func(f *form, to int) tea.Cmd {
			in, _ := formInput[api.CreateRepositoryInput](f, nil)
			return invoke(s, to, "", api.CreateRepository, in)
		},
		func(msg tea.Msg) tea.Cmd {
			r := msg.(doneMsg[model.Repository]).val
			return tea.Batch(pop("added repository "+r.FullName), reload(list))
		})
}

// newEnableGitOpsForm creates the repository's Flux GitRepository on the
// clusters of the project's environments (or the one picked).
func newEnableGitOpsForm(s *session, list int, repo model.Repository) screen {
	fill := func(in *api.EnableGitOpsInput) { in.RepositoryID = repo.ID }
	g := repo.GitOpsConfig
	f := inputForm(api.EnableGitOps, formSpec{
		only: []string{"clusterId", "config.fluxNamespace", "config.syncInterval", "config.secretRef"}, strip: "config.",
		fields: map[string]fieldOpt{
			"clusterId":            {label: "cluster", hint: "every cluster of the project's environments"},
			"config.fluxNamespace": {label: "flux namespace", value: g.FluxNamespace, hint: "flux-system"},
			"config.syncInterval":  {label: "fetch every", value: g.SyncInterval, hint: "1m"},
			"config.secretRef":     {label: "secret", value: g.SecretRef, hint: "a Secret with the Git credentials"},
		},
	}, fill)
	return newFormScreen(s, "Enable GitOps on "+repo.FullName, "Flux fetches the repository from a GitRepository it creates on the cluster.", f,
		func(f *form, to int) tea.Cmd {
			in, _ := formInput(f, fill)
			return invoke(s, to, "", api.EnableGitOps, in)
		},
		func(msg tea.Msg) tea.Cmd {
			r := msg.(doneMsg[api.EnableGitOpsResult]).val
			return tea.Batch(pop("GitOps enabled on "+repo.FullName+" ("+r.Namespace+"/"+r.FluxResourceName+")"), reload(list))
		})
}
