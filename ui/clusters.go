package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// clustersScreen lists clusters with reachability, versions and live Flux health.
type clustersScreen struct {
	base
	l      list[api.ClusterView]
	health map[string]string // cluster id -> healthy/degraded/unhealthy/error code
}

func newClusters(s *session) *clustersScreen {
	c := &clustersScreen{base: newBase(s), health: map[string]string{}}
	c.l = newList(&c.ld, listSpec[api.ClusterView]{
		noun:   "Clusters",
		cols:   c.columns(),
		empty:  "No clusters yet. Register one: `:` then clusters.register, or\ngitopstui --procedure clusters.register --input '{\"name\":\"prod\"}'",
		search: func(cl *api.ClusterView) string { return cl.Name + " " + cl.Context + " " + cl.ID },
		ident:  func(cl *api.ClusterView) string { return cl.ID },
	})
	return c
}

func (c *clustersScreen) columns() []column[api.ClusterView] {
	return []column[api.ClusterView]{
		{"NAME", 12, 0, func(x cellCtx, cl *api.ClusterView) (string, lipgloss.Style) { return cl.Name, x.st.Header }},
		{"CONTEXT", 12, 3, func(x cellCtx, cl *api.ClusterView) (string, lipgloss.Style) { return cl.Context, x.st.Muted }},
		{"REACH", 11, 0, reachCell},
		{"K8S", 17, 2, k8sCell},
		{"FLUX", 8, 1, fluxCell},
		{"HEALTH", 0, 0, c.healthCell},
	}
}

func reachCell(x cellCtx, cl *api.ClusterView) (string, lipgloss.Style) {
	switch s := cl.Status; {
	case s == nil:
		return "checking…", x.st.Warn
	case s.Reachable:
		return "reachable", x.st.OK
	}
	return "unreachable", x.st.Error
}

func k8sCell(x cellCtx, cl *api.ClusterView) (string, lipgloss.Style) {
	s := cl.Status
	if s == nil || s.ServerVersion == "" {
		return "-", x.st.Muted
	}
	v := s.ServerVersion
	if s.K3s {
		v += " k3s"
	}
	return v, lipgloss.NewStyle()
}

func fluxCell(x cellCtx, cl *api.ClusterView) (string, lipgloss.Style) {
	switch s := cl.Status; {
	case s == nil:
		return "-", x.st.Muted
	case s.FluxInstalled && s.FluxVersion != "":
		return s.FluxVersion, x.st.OK
	case s.FluxInstalled:
		return "installed", x.st.OK
	}
	return "none", x.st.Muted
}

func (c *clustersScreen) healthCell(x cellCtx, cl *api.ClusterView) (string, lipgloss.Style) {
	hs, s := c.health[cl.ID], cl.Status
	if s != nil && !s.Reachable && s.Error != "" && (hs == "" || hs == "checking…" || strings.HasPrefix(hs, "K3S")) {
		return firstLine(s.Error), x.st.Error
	}
	if hs == "" {
		hs = "-"
	}
	return hs, x.st.statusStyle(hs)
}

func (c *clustersScreen) title() string   { return "Clusters" }
func (c *clustersScreen) capturing() bool { return c.l.filtering }

func (c *clustersScreen) scope() scope {
	if cl := c.l.current(); cl != nil {
		return scope{cluster: cl.Name}
	}
	return scope{}
}

func (c *clustersScreen) bindings() []key.Binding {
	k := c.s.keys
	if c.l.filtering {
		return filterBindings()
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Filter, k.Install, k.Uninstall, k.Health, k.Refresh}
}

func (c *clustersScreen) init() tea.Cmd {
	return c.ld.start("loading clusters", invoke(c.s, c.sid, "offline", api.ListClusters, api.ClusterListInput{Live: new(false)}))
}

func (c *clustersScreen) checkLive() tea.Cmd {
	cmds := []tea.Cmd{c.ld.start("checking clusters", invoke(c.s, c.sid, "live", api.ListClusters, api.ClusterListInput{Live: new(true)}))}
	for _, cl := range c.l.items {
		c.health[cl.ID] = "checking…"
		cmds = append(cmds, invoke(c.s, c.sid, cl.ID, api.CheckFluxHealth, api.ClusterInput{ClusterID: cl.ID}))
	}
	return tea.Batch(cmds...)
}

func (c *clustersScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if c.resize(msg) {
		c.l.resize(c.w, c.h)
		return c, nil
	}
	switch msg := msg.(type) {
	case doneMsg[[]api.ClusterView]:
		if v, ok := settle(&c.ld, msg); ok {
			c.l.setRows(v)
			if msg.tag == "offline" {
				return c, c.checkLive()
			}
		}
	case doneMsg[api.FluxHealth]:
		if msg.err != nil {
			c.health[msg.tag] = codeOf(msg.err)
		} else {
			c.health[msg.tag] = string(msg.val.Overall)
		}
	case tea.KeyPressMsg:
		return c, c.key(msg)
	}
	return c, nil
}

func (c *clustersScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := c.s.keys
	if ok, cmd := c.l.key(k, msg); ok {
		return cmd
	}
	if key.Matches(msg, k.Refresh) {
		return c.init()
	}
	cl := c.l.current()
	if cl == nil {
		return nil
	}
	switch {
	case key.Matches(msg, k.Open, k.Health):
		return push(newHealth(c.s, *cl))
	case key.Matches(msg, k.Install):
		return push(newInstallForm(c.s, *cl))
	case key.Matches(msg, k.Uninstall):
		return push(newUninstall(c.s, *cl))
	}
	return nil
}

func (c *clustersScreen) view(w, h int) string {
	return c.l.view(c.s.styles, c.s.now(), w, h, "")
}

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	return string(model.AsError(err).Code)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// newInstallForm is the install Flux form (namespace, version, registry),
// generated from gitops.installFlux's declaration.
func newInstallForm(s *session, cl api.ClusterView) screen {
	fill := func(in *api.InstallFluxInput) { in.ClusterID = cl.ID }
	f := inputForm(api.InstallFlux, formSpec{hide: []string{"clusterId", "manifestsPath"}, fields: map[string]fieldOpt{
		"namespace": {value: "flux-system", hint: "flux-system"},
		"version":   {hint: "newest embedded"},
		"registry":  {hint: "ghcr.io/fluxcd (default)"},
	}}, fill)
	return newFormScreen(s, "Install Flux on "+cl.Name, "Applies Flux's CRDs and controllers from the embedded bundle (server-side apply).", f,
		func(f *form, to int) tea.Cmd {
			in, _ := formInput(f, fill)
			return invoke(s, to, "", api.InstallFlux, in)
		},
		func(msg tea.Msg) tea.Cmd {
			r := msg.(doneMsg[api.InstallFluxResult]).val
			return replace(newTextScreen(s, "Flux installed", "", installReport(s.styles, cl.Name, r)))
		})
}

func installReport(st Styles, name string, r api.InstallFluxResult) string {
	var b strings.Builder
	ok := st.OK.Render("success")
	if !r.Success {
		ok = st.Error.Render("incomplete")
	}
	fmt.Fprintf(&b, "Flux %s on %s: %s, %d objects applied in %s\n\n", r.Version, name, ok, r.Applied, r.Namespace)
	for _, c := range r.Components {
		fmt.Fprintf(&b, "  %s %s %s %s\n", st.statusStyle(c.Status).Render(pad(c.Status, 11)), pad(c.Name, 26), c.Version, st.Muted.Render(c.Message))
	}
	return b.String()
}

// uninstallScreen asks for the cluster's name before uninstalling Flux.
type uninstallScreen struct {
	base
	cl     api.ClusterView
	in     textinput.Model
	delNS  bool
	result *api.UninstallFluxResult
}

func newUninstall(s *session, cl api.ClusterView) *uninstallScreen {
	ti := newInput()
	ti.Prompt = "> "
	ti.Placeholder = cl.Name
	ti.Focus()
	return &uninstallScreen{base: newBase(s), cl: cl, in: ti}
}

func (u *uninstallScreen) title() string   { return "Uninstall Flux" }
func (u *uninstallScreen) init() tea.Cmd   { return nil }
func (u *uninstallScreen) capturing() bool { return u.result == nil }
func (u *uninstallScreen) scope() scope    { return scope{cluster: u.cl.Name} }
func (u *uninstallScreen) bindings() []key.Binding {
	k := u.s.keys
	return []key.Binding{k.Confirm, key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "toggle delete namespace")), k.Cancel}
}

func (u *uninstallScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if u.resize(msg) {
		return u, nil
	}
	switch msg := msg.(type) {
	case doneMsg[api.UninstallFluxResult]:
		u.working = ""
		if msg.err != nil {
			return u, fail(msg.err)
		}
		r := msg.val
		u.result = &r
		return u, notify(fmt.Sprintf("Flux uninstalled from %s (%d objects deleted)", u.cl.Name, len(r.Deleted)))
	case tea.KeyPressMsg:
		if u.result != nil || u.working != "" {
			if key.Matches(msg, u.s.keys.Cancel) && u.working == "" {
				return u, pop("")
			}
			return u, nil
		}
		switch msg.String() {
		case "esc":
			return u, pop("")
		case "tab":
			u.delNS = !u.delNS
			return u, nil
		case "enter":
			if strings.TrimSpace(u.in.Value()) != u.cl.Name {
				return u, fail(badRequest(map[string]string{"confirmation": fmt.Sprintf("type %q to confirm", u.cl.Name)}))
			}
			u.working = "uninstalling flux"
			return u, invoke(u.s, u.sid, "", api.UninstallFlux, api.UninstallFluxInput{ClusterID: u.cl.ID, DeleteNamespace: u.delNS})
		}
	}
	var cmd tea.Cmd
	u.in, cmd = u.in.Update(msg)
	return u, cmd
}

func (u *uninstallScreen) view(w, h int) string {
	st := u.s.styles
	var b strings.Builder
	b.WriteString(st.Error.Render("Uninstall Flux from "+u.cl.Name) + "\n\n")
	if u.result != nil {
		r := u.result
		fmt.Fprintf(&b, "Deleted %d objects, removed %d finalizers; namespace %s deleted: %v\n", len(r.Deleted), r.FinalizersRemoved, r.Namespace, r.NamespaceDeleted)
		for _, d := range r.Deleted {
			b.WriteString("  " + d + "\n")
		}
		b.WriteString("\n" + st.Muted.Render("esc to go back"))
		return clipLines(b.String(), w, h)
	}
	b.WriteString("Controllers, RBAC and CRDs are removed; applied workloads keep running.\n")
	box := "[ ]"
	if u.delNS {
		box = "[x]"
	}
	b.WriteString("Delete the Flux namespace too: " + box + st.Muted.Render("  (tab)") + "\n\n")
	b.WriteString(fmt.Sprintf("Type the cluster name %s to confirm:\n", st.Header.Render(u.cl.Name)))
	b.WriteString(u.in.View() + "\n")
	if u.working != "" {
		b.WriteString("\n" + st.Warn.Render(u.working+"…"))
	}
	return clipLines(b.String(), w, h)
}
