package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/services/api"
)

// healthScreen shows gitops.checkFluxHealth for one cluster: every
// controller with its replicas and conditions, and the CRDs.
type healthScreen struct {
	base
	cl     api.ClusterView
	rep    *api.FluxHealth
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
	return h.ld.start("checking flux health", invoke(h.s, h.sid, "", api.CheckFluxHealth, api.ClusterInput{ClusterID: h.cl.ID}))
}

func (h *healthScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if h.resize(msg) {
		return h, nil
	}
	switch msg := msg.(type) {
	case doneMsg[api.FluxHealth]:
		if v, ok := settle(&h.ld, msg); ok {
			h.rep = &v
		}
	case tea.KeyPressMsg:
		k := h.s.keys
		switch {
		case key.Matches(msg, k.Refresh):
			return h, h.init()
		case key.Matches(msg, k.Install):
			return h, push(newInstallForm(h.s, h.cl))
		case key.Matches(msg, k.Uninstall):
			return h, push(newDelete(h.s, uninstallSpec(h.s, h.cl)))
		case h.rep != nil:
			head, body := h.lines(h.s.styles)
			h.scroll = scrollBy(k, msg, h.scroll, len(body), max(1, h.base.h-len(head)))
		}
	}
	return h, nil
}

func (h *healthScreen) view(w, ht int) string {
	st := h.s.styles
	title := st.Header.Render("Flux health of " + h.cl.Name)
	switch {
	case h.rep == nil && h.ld.err != nil:
		return clipLines(title+"\n"+errLine(st, h.ld.err), w, ht)
	case h.rep == nil:
		return title + "\n" + st.Muted.Render("checking…")
	}
	head, body := h.lines(st)
	if h.ld.err != nil {
		head = append(head, errLine(st, h.ld.err))
	}
	return clipLines(strings.Join(head, "\n")+"\n"+window(body, h.scroll, w, max(1, ht-len(head))), w, ht)
}

// lines are the report's fixed head and its scrolling body.
func (h *healthScreen) lines(st Styles) (head, body []string) {
	fh := h.rep
	head = append(head, st.Header.Render("Flux health of "+h.cl.Name),
		fmt.Sprintf("status %s  version %s  namespace %s", st.statusStyle(string(fh.Overall)).Render(string(fh.Overall)), orDash(fh.Version), orDash(fh.Namespace)))
	if fh.Message != "" {
		head = append(head, st.Muted.Render(fh.Message))
	}
	body = append(body, "", st.Header.Render("Controllers"))
	for _, c := range fh.Components {
		state, sty := "ready", st.OK
		if !c.Ready {
			state, sty = "not ready", st.Error
		}
		body = append(body, fmt.Sprintf("  %s %s  replicas %d/%d  %s", sty.Render(pad(state, 9)), pad(c.Name, 26), c.ReadyReplicas, c.Replicas, st.Muted.Render(c.Image)))
		if c.Message != "" {
			body = append(body, "      "+st.Muted.Render(c.Message))
		}
		for _, cd := range c.Conditions {
			body = append(body, fmt.Sprintf("      %s=%s %s %s", cd.Type, st.statusStyle(cd.Status).Render(cd.Status), cd.Reason, st.Muted.Render(oneLine(cd.Message))))
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
	return head, body
}
