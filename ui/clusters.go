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
	t       table
	items   []api.ClusterView
	health  map[string]string // cluster id -> healthy/degraded/unhealthy/error code
	checked bool
	loaded  bool
}

func newClusters(s *session) *clustersScreen {
	return &clustersScreen{base: newBase(s), health: map[string]string{}, t: table{cols: []column{
		{"NAME", 12}, {"CONTEXT", 12}, {"REACH", 11}, {"K8S", 17}, {"FLUX", 8}, {"HEALTH", 0},
	}}}
}

func (c *clustersScreen) title() string { return "Clusters" }

func (c *clustersScreen) scope() scope {
	if c.t.n == 0 {
		return scope{}
	}
	return scope{cluster: c.items[c.t.cursor].Name}
}

func (c *clustersScreen) bindings() []key.Binding {
	k := c.s.keys
	return []key.Binding{k.Up, k.Down, k.Open, k.Install, k.Uninstall, k.Health, k.Refresh}
}

func (c *clustersScreen) init() tea.Cmd {
	c.working = "loading clusters"
	return invoke(c.s, c.sid, "offline", api.ListClusters, api.ClusterListInput{Live: new(false)})
}

func (c *clustersScreen) checkLive() tea.Cmd {
	c.working = "checking clusters"
	cmds := []tea.Cmd{invoke(c.s, c.sid, "live", api.ListClusters, api.ClusterListInput{Live: new(true)})}
	for _, cl := range c.items {
		c.health[cl.ID] = "checking…"
		cmds = append(cmds, invoke(c.s, c.sid, cl.ID, api.CheckFluxHealth, api.ClusterInput{ClusterID: cl.ID}))
	}
	return tea.Batch(cmds...)
}

func (c *clustersScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if c.resize(msg) {
		c.t.setHeight(c.h - 2)
		return c, nil
	}
	switch msg := msg.(type) {
	case doneMsg[[]api.ClusterView]:
		c.working = ""
		if msg.err != nil {
			return c, fail(msg.err)
		}
		c.items = msg.val
		c.t.setN(len(c.items))
		c.loaded = true
		if msg.tag == "offline" {
			return c, c.checkLive()
		}
	case doneMsg[api.FluxHealth]:
		if msg.err != nil {
			c.health[msg.tag] = codeOf(msg.err)
		} else {
			c.health[msg.tag] = string(msg.val.Overall)
		}
	case tea.KeyPressMsg:
		k := c.s.keys
		if c.t.move(k, msg) {
			return c, nil
		}
		if key.Matches(msg, k.Refresh) {
			return c, c.init()
		}
		if c.t.n == 0 {
			return c, nil
		}
		cl := c.items[c.t.cursor]
		switch {
		case key.Matches(msg, k.Open, k.Health):
			return c, push(newHealth(c.s, cl))
		case key.Matches(msg, k.Install):
			return c, push(newInstallForm(c.s, cl))
		case key.Matches(msg, k.Uninstall):
			return c, push(newUninstall(c.s, cl))
		}
	}
	return c, nil
}

func (c *clustersScreen) view(w, h int) string {
	st := c.s.styles
	head := st.Header.Render(fmt.Sprintf("Clusters (%d)", len(c.items)))
	if !c.loaded {
		return head + "\n" + st.Muted.Render("loading…")
	}
	if len(c.items) == 0 {
		return head + "\n" + st.Muted.Render("No clusters yet. Register one: `:` then clusters.register, or\ngitopstui --procedure clusters.register --input '{\"name\":\"prod\"}'")
	}
	c.t.setHeight(h - 2)
	return head + "\n" + c.t.render(st, w, h-1, func(r, col int) (string, lipgloss.Style) {
		cl := c.items[r]
		s := cl.Status
		switch col {
		case 0:
			return cl.Name, st.Header
		case 1:
			return cl.Context, st.Muted
		case 2:
			switch {
			case s == nil:
				return "checking…", st.Warn
			case s.Reachable:
				return "reachable", st.OK
			default:
				return "unreachable", st.Error
			}
		case 3:
			if s == nil || s.ServerVersion == "" {
				return "-", st.Muted
			}
			v := s.ServerVersion
			if s.K3s {
				v += " k3s"
			}
			return v, lipgloss.NewStyle()
		case 4:
			switch {
			case s == nil:
				return "-", st.Muted
			case s.FluxInstalled && s.FluxVersion != "":
				return s.FluxVersion, st.OK
			case s.FluxInstalled:
				return "installed", st.OK
			default:
				return "none", st.Muted
			}
		default:
			hs := c.health[cl.ID]
			if s != nil && !s.Reachable && s.Error != "" && (hs == "" || hs == "checking…" || strings.HasPrefix(hs, "K3S")) {
				return firstLine(s.Error), st.Error
			}
			if hs == "" {
				hs = "-"
			}
			return hs, st.statusStyle(hs)
		}
	})
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

// healthScreen shows gitops.checkFluxHealth for one cluster: every
// controller with its replicas and conditions, and the CRDs.
type healthScreen struct {
	base
	cl     api.ClusterView
	h      *api.FluxHealth
	errTxt string
	scroll int
}

func newHealth(s *session, cl api.ClusterView) *healthScreen {
	return &healthScreen{base: newBase(s), cl: cl}
}

func (h *healthScreen) title() string { return "Health " + h.cl.Name }
func (h *healthScreen) scope() scope  { return scope{cluster: h.cl.Name} }
func (h *healthScreen) bindings() []key.Binding {
	k := h.s.keys
	return []key.Binding{k.Up, k.Down, k.Refresh, k.Install, k.Uninstall}
}

func (h *healthScreen) init() tea.Cmd {
	h.working = "checking flux health"
	return invoke(h.s, h.sid, "", api.CheckFluxHealth, api.ClusterInput{ClusterID: h.cl.ID})
}

func (h *healthScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if h.resize(msg) {
		return h, nil
	}
	switch msg := msg.(type) {
	case doneMsg[api.FluxHealth]:
		h.working = ""
		if msg.err != nil {
			h.errTxt = msg.err.Error()
			return h, fail(msg.err)
		}
		v := msg.val
		h.h, h.errTxt = &v, ""
	case tea.KeyPressMsg:
		k := h.s.keys
		switch {
		case key.Matches(msg, k.Up):
			h.scroll = max(0, h.scroll-1)
		case key.Matches(msg, k.Down):
			h.scroll++
		case key.Matches(msg, k.Refresh):
			return h, h.init()
		case key.Matches(msg, k.Install):
			return h, push(newInstallForm(h.s, h.cl))
		case key.Matches(msg, k.Uninstall):
			return h, push(newUninstall(h.s, h.cl))
		}
	}
	return h, nil
}

func (h *healthScreen) view(w, ht int) string {
	st := h.s.styles
	var b strings.Builder
	b.WriteString(st.Header.Render("Flux health of "+h.cl.Name) + "\n")
	switch {
	case h.h == nil && h.errTxt != "":
		b.WriteString(st.Error.Render(h.errTxt))
		return clipLines(b.String(), w, ht)
	case h.h == nil:
		b.WriteString(st.Muted.Render("checking…"))
		return b.String()
	}
	fh := h.h
	b.WriteString(fmt.Sprintf("status %s  version %s  namespace %s\n", st.statusStyle(string(fh.Overall)).Render(string(fh.Overall)), orDash(fh.Version), orDash(fh.Namespace)))
	if fh.Message != "" {
		b.WriteString(st.Muted.Render(fh.Message) + "\n")
	}
	var body []string
	body = append(body, "", st.Header.Render("Controllers"))
	for _, c := range fh.Components {
		state := "ready"
		if !c.Ready {
			state = "not ready"
		}
		sty := st.OK
		if !c.Ready {
			sty = st.Error
		}
		body = append(body, fmt.Sprintf("  %s %s  replicas %d/%d  %s", sty.Render(pad(state, 9)), pad(c.Name, 26), c.ReadyReplicas, c.Replicas, st.Muted.Render(c.Image)))
		if c.Message != "" {
			body = append(body, "      "+st.Muted.Render(c.Message))
		}
		for _, cd := range c.Conditions {
			body = append(body, fmt.Sprintf("      %s=%s %s %s", cd.Type, st.statusStyle(string(cd.Status)).Render(string(cd.Status)), cd.Reason, st.Muted.Render(oneLine(cd.Message))))
		}
	}
	est := 0
	for _, c := range fh.CRDs {
		if c.Established {
			est++
		}
	}
	body = append(body, "", st.Header.Render(fmt.Sprintf("CRDs (%d/%d established)", est, len(fh.CRDs))))
	for _, c := range fh.CRDs {
		mark := st.OK.Render("✓")
		if !c.Established {
			mark = st.Error.Render("✗")
		}
		body = append(body, "  "+mark+" "+c.Name)
	}
	avail := max(1, ht-strings.Count(b.String(), "\n"))
	h.scroll = min(h.scroll, max(0, len(body)-avail))
	b.WriteString(strings.Join(body[h.scroll:], "\n"))
	return clipLines(b.String(), w, ht)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// newInstallForm is the install Flux form (namespace, version, registry).
func newInstallForm(s *session, cl api.ClusterView) screen {
	f := newForm(
		textIn("namespace", "namespace", "flux-system", "flux-system", checkDNSLabel),
		textIn("version", "version", "", "newest embedded", nil),
		textIn("registry", "registry", "", "ghcr.io/fluxcd (default)", nil),
	)
	var fs *formScreen
	fs = newFormScreen(s, "Install Flux on "+cl.Name, "Applies Flux's CRDs and controllers from the embedded bundle (server-side apply).", f,
		func(f *form, to int) tea.Cmd {
			in := api.InstallFluxInput{ClusterID: cl.ID, Namespace: f.value("namespace"), Version: f.value("version"), Registry: f.value("registry")}
			return invoke(s, to, "", api.InstallFlux, in)
		},
		func(msg tea.Msg) tea.Cmd {
			r := msg.(doneMsg[api.InstallFluxResult]).val
			return replace(newTextScreen(s, "Flux installed", installReport(s.styles, cl.Name, r)))
		})
	return fs
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

// textScreen shows a block of text (a result), scrollable.
type textScreen struct {
	base
	name   string
	text   string
	lang   string
	scroll int
}

func newTextScreen(s *session, name, text string) *textScreen {
	return &textScreen{base: newBase(s), name: name, text: text}
}

func (t *textScreen) title() string { return t.name }
func (t *textScreen) init() tea.Cmd { return nil }
func (t *textScreen) bindings() []key.Binding {
	k := t.s.keys
	return []key.Binding{k.Up, k.Down, k.PageDown}
}

func (t *textScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if t.resize(msg) {
		return t, nil
	}
	if km, ok := msg.(tea.KeyPressMsg); ok {
		t.scroll = scrollKeys(t.s.keys, km, t.scroll, t.h)
	}
	return t, nil
}

func (t *textScreen) view(w, h int) string {
	var lines []string
	if t.lang != "" {
		lines = t.s.hl.lines(t.lang, t.text)
	} else {
		lines = strings.Split(strings.TrimRight(t.text, "\n"), "\n")
	}
	return visible(lines, &t.scroll, w, h)
}

// scrollKeys moves a scroll offset by the list keys.
func scrollKeys(k KeyMap, km tea.KeyPressMsg, scroll, h int) int {
	switch {
	case key.Matches(km, k.Up):
		scroll--
	case key.Matches(km, k.Down):
		scroll++
	case key.Matches(km, k.PageUp):
		scroll -= max(1, h-1)
	case key.Matches(km, k.PageDown):
		scroll += max(1, h-1)
	case key.Matches(km, k.Top):
		scroll = 0
	case key.Matches(km, k.Bottom):
		scroll = 1 << 30
	}
	return max(0, scroll)
}

// visible returns the h lines from *scroll (clamped), each fit to w.
func visible(lines []string, scroll *int, w, h int) string {
	*scroll = max(0, min(*scroll, len(lines)-h))
	end := min(len(lines), *scroll+h)
	out := make([]string, 0, h)
	for _, l := range lines[*scroll:end] {
		out = append(out, fit(l, w))
	}
	return strings.Join(out, "\n")
}
