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
		empty:  "No clusters yet. Press c to register one from a kubeconfig.",
		search: func(cl *api.ClusterView) string { return cl.Name + " " + cl.Context + " " + cl.ID },
		ident:  func(cl *api.ClusterView) string { return cl.ID },
		now:    s.now,
	})
	return c
}

func (c *clustersScreen) columns() []column[api.ClusterView] {
	return []column[api.ClusterView]{
		{title: "NAME", cell: func(x cellCtx, cl *api.ClusterView) (string, lipgloss.Style) { return cl.Name, x.st.Header }},
		{title: "CONTEXT", prio: 3, squeeze: true, cell: func(x cellCtx, cl *api.ClusterView) (string, lipgloss.Style) { return cl.Context, x.st.Muted }},
		{title: "REACH", cell: reachCell},
		{title: "K8S", prio: 2, cell: k8sCell},
		{title: "FLUX", prio: 1, cell: fluxCell},
		{title: "HEALTH", cell: c.healthCell},
		{title: "MESSAGE", prio: 4, squeeze: true, cell: func(x cellCtx, cl *api.ClusterView) (string, lipgloss.Style) {
			if s := cl.Status; s != nil && s.Error != "" {
				return stripCode(firstLine(s.Error)), x.st.Error
			}
			return "", x.st.Muted
		}},
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
	if s != nil && !s.Reachable && (hs == "" || hs == "checking…") {
		return "unknown", x.st.Error
	}
	if hs == "" {
		hs = "-"
	}
	return hs, x.st.statusStyle(hs)
}

func (c *clustersScreen) title() string   { return "Clusters" + c.l.filterNote() }
func (c *clustersScreen) capturing() bool { return c.l.filtering }
func (c *clustersScreen) esc() bool       { return c.l.clearFilter() }

func (c *clustersScreen) scope() scope {
	if cl := c.l.current(); cl != nil {
		return scope{cluster: cl.Name}
	}
	return scope{}
}

func (c *clustersScreen) clusterID() string {
	if cl := c.l.current(); cl != nil {
		return cl.ID
	}
	return ""
}

func (c *clustersScreen) bindings() []key.Binding {
	k := c.s.keys
	if c.l.filtering {
		return filterBindings()
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Filter, k.Create, k.Delete, k.Health, k.Install, k.Uninstall, k.Refresh}
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
	c.l.setRows(c.l.items)
	return tea.Batch(cmds...)
}

func (c *clustersScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if c.resize(msg) {
		c.l.resize(c.w, c.h)
		return c, nil
	}
	switch msg := msg.(type) {
	case reloadMsg:
		return c, c.init()
	case doneMsg[[]api.ClusterView]:
		if v, ok := settle(&c.ld, msg); ok {
			for _, cl := range v {
				c.s.names.learn(pickCluster, cl.ID, cl.Name)
			}
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
		c.l.setRows(c.l.items) // the cells changed width
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
	switch {
	case key.Matches(msg, k.Refresh):
		return c.init()
	case key.Matches(msg, k.Create):
		return push(newRegisterForm(c.s, c.sid))
	}
	cl := c.l.current()
	if cl == nil {
		return nil
	}
	switch {
	case key.Matches(msg, k.Open):
		return push(newClusterEnvironments(c.s, *cl))
	case key.Matches(msg, k.Health):
		return push(newHealth(c.s, *cl))
	case key.Matches(msg, k.Install):
		return push(newInstallForm(c.s, *cl))
	case key.Matches(msg, k.Uninstall):
		return push(newDelete(c.s, uninstallSpec(c.s, *cl)))
	case key.Matches(msg, k.Delete):
		return push(newDelete(c.s, deleteSpec{
			what: "cluster " + cl.Name, name: cl.Name,
			note:  "The cluster leaves gitopstui; nothing on the cluster changes.",
			force: "also delete its environments",
			run: func(force bool, to int) tea.Cmd {
				return invoke(c.s, to, "", api.RemoveCluster, api.RemoveInput{ID: cl.ID, Force: force})
			},
			done: deleted("cluster "+cl.Name, c.sid),
		}))
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

// stripCode drops the leading error code of a message ("K3S_NOT_READY: x"
// is x): the column next to it says it.
func stripCode(s string) string {
	code, rest, ok := strings.Cut(s, ": ")
	if ok && code != "" && strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == "" {
		return rest
	}
	return s
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

// uninstallSpec asks for the cluster's name before uninstalling Flux and
// shows what was removed.
func uninstallSpec(s *session, cl api.ClusterView) deleteSpec {
	return deleteSpec{
		what: "Flux from " + cl.Name, name: cl.Name,
		note:  "Controllers, RBAC and CRDs are removed; applied workloads keep running.",
		force: "delete the Flux namespace too",
		run: func(force bool, to int) tea.Cmd {
			return invoke(s, to, "", api.UninstallFlux, api.UninstallFluxInput{ClusterID: cl.ID, DeleteNamespace: force})
		},
		done: func(msg tea.Msg) tea.Cmd {
			r := msg.(doneMsg[api.UninstallFluxResult]).val
			var b strings.Builder
			fmt.Fprintf(&b, "Deleted %d objects, removed %d finalizers; namespace %s deleted: %v\n\n", len(r.Deleted), r.FinalizersRemoved, r.Namespace, r.NamespaceDeleted)
			for _, d := range r.Deleted {
				b.WriteString("  " + d + "\n")
			}
			return tea.Batch(replace(newTextScreen(s, "Flux uninstalled", "", b.String())),
				notify(fmt.Sprintf("Flux uninstalled from %s (%d objects deleted)", cl.Name, len(r.Deleted))))
		},
	}
}

// newRegisterForm registers a cluster from a kubeconfig context,
// generated from clusters.register's declaration; the id comes from the
// name.
func newRegisterForm(s *session, list int) screen {
	f := inputForm(api.RegisterCluster, formSpec{only: []string{"name", "kubeconfig", "context"}, fields: map[string]fieldOpt{
		"name":       {hint: "e.g. prod"},
		"kubeconfig": {hint: "$KUBECONFIG, then ~/.kube/config"},
		"context":    {hint: "the kubeconfig's current one"},
	}}, nil)
	return newFormScreen(s, "Register a cluster", "gitopstui keeps a reference to the kubeconfig and context, never a credential.", f,
		func(f *form, to int) tea.Cmd {
			in, _ := formInput[api.RegisterClusterInput](f, nil)
			return invoke(s, to, "", api.RegisterCluster, in)
		},
		func(msg tea.Msg) tea.Cmd {
			cl := msg.(doneMsg[api.ClusterView]).val
			return tea.Batch(pop("registered cluster "+cl.Name), reload(list))
		})
}
