package ui

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// diagStyle colors a diagnosis class: failures red, waiting yellow, the
// rest by their status.
func (s Styles) diagStyle(class string) lipgloss.Style {
	switch class {
	case api.DiagReady:
		return s.statusStyle(model.StatusReady)
	case api.DiagBlocked, api.DiagHealthCheck, api.DiagRetrying, api.DiagProgressing, api.DiagFirstApply:
		return s.Warn
	case api.DiagSuspended:
		return s.Info
	case "":
		return s.Muted
	}
	return s.Error
}

// diagnosisLines are the diagnosis section of the detail screen: the class,
// the sentence, the next action and the facts behind them.
func diagnosisLines(st Styles, d *api.Diagnosis) []string {
	if d == nil {
		return nil
	}
	l := []string{st.Header.Render("Diagnosis") + "  " + st.diagStyle(d.Class).Render(d.Class), "  " + oneLine(d.Sentence)}
	if d.NextAction != "" {
		l = append(l, "  "+st.Label.Render("next  ")+oneLine(d.NextAction))
	}
	if d.Attempts > 0 {
		s := fmt.Sprintf("  attempts %d", d.Attempts)
		if d.NextRetryAt != nil {
			s += ", next retry " + d.NextRetryAt.Format("15:04:05")
		}
		l = append(l, st.Muted.Render(s))
	}
	if len(d.HealthChecks) > 0 {
		s := "  waits for " + strings.Join(d.HealthChecks, ", ")
		if d.TimeLeft != "" {
			s += " (" + d.TimeLeft + " left)"
		}
		l = append(l, st.Muted.Render(s))
	}
	for i, c := range d.Chain {
		l = append(l, "  "+strings.Repeat("  ", i)+st.Warn.Render("→ ")+c.Node+" "+st.diagStyle(c.Class).Render(c.Class)+" "+st.Muted.Render(oneLine(c.Message)))
	}
	if src := d.Source; src != nil && !src.Ready {
		l = append(l, "  "+st.Label.Render("source ")+src.Node+" "+st.Error.Render(orDash(oneLine(src.Message))))
	}
	if sp := d.Suspension; sp != nil {
		l = append(l, "  "+st.Label.Render("suspended ")+suspensionText(sp))
	}
	return append(l, "")
}

// suspensionText is a suspension on one line: reason, who, until.
func suspensionText(sp *api.Suspension) string {
	var parts []string
	if sp.Reason != "" {
		parts = append(parts, sp.Reason)
	}
	if sp.By != "" {
		parts = append(parts, "by "+sp.By)
	}
	if sp.Until != "" {
		until := "until " + sp.Until
		if sp.Expired {
			until = "expired " + sp.Until
		}
		parts = append(parts, until)
	}
	return strings.Join(parts, ", ")
}

// triageScreen lists every non-ready resource of a scope under its root
// cause, worst first (gitops.triage).
type triageScreen struct {
	base
	in  api.TriageInput
	res *api.TriageResult
	l   list[api.TriageEntry]
}

func newTriage(s *session, in api.TriageInput) *triageScreen {
	t := &triageScreen{base: newBase(s), in: in}
	t.l = newList(&t.ld, listSpec[api.TriageEntry]{
		noun:  "Triage",
		cols:  triageColumns(),
		empty: "Everything in scope is Ready.",
		search: func(e *api.TriageEntry) string {
			return e.Root.Node + " " + e.Diagnosis.Class + " " + e.Diagnosis.Sentence
		},
		ident: func(e *api.TriageEntry) string { return e.Root.ClusterID + "|" + e.Root.Node },
		now:   s.now,
	})
	return t
}

func triageColumns() []column[api.TriageEntry] {
	return []column[api.TriageEntry]{
		{title: "ROOT CAUSE", cell: func(x cellCtx, e *api.TriageEntry) (string, lipgloss.Style) { return e.Root.Node, x.st.Header }},
		{title: "CLASS", cell: func(x cellCtx, e *api.TriageEntry) (string, lipgloss.Style) {
			return e.Diagnosis.Class, x.st.diagStyle(e.Diagnosis.Class)
		}},
		{title: "BLOCKS", prio: 1, cell: func(x cellCtx, e *api.TriageEntry) (string, lipgloss.Style) {
			return strconv.Itoa(len(e.Dependents)), x.st.Muted
		}},
		{title: "WHY", prio: 2, squeeze: true, cell: func(x cellCtx, e *api.TriageEntry) (string, lipgloss.Style) {
			return oneLine(e.Diagnosis.Sentence), x.st.Muted
		}},
		{title: "NEXT", prio: 3, squeeze: true, cell: func(x cellCtx, e *api.TriageEntry) (string, lipgloss.Style) {
			return oneLine(e.Diagnosis.NextAction), x.st.Muted
		}},
	}
}

func (t *triageScreen) title() string { return "Triage" + t.l.filterNote() }
func (t *triageScreen) capturing() bool {
	return t.l.filtering
}
func (t *triageScreen) esc() bool { return t.l.clearFilter() }
func (t *triageScreen) bindings() []key.Binding {
	k := t.s.keys
	if t.l.filtering {
		return filterBindings()
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Filter, k.Refresh}
}

func (t *triageScreen) init() tea.Cmd {
	return t.ld.start("triage", invoke(t.s, t.sid, "", api.Triage, t.in))
}

func (t *triageScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if t.resize(msg) {
		t.l.resize(t.w, t.h)
		return t, nil
	}
	switch msg := msg.(type) {
	case reloadMsg:
		return t, t.init()
	case doneMsg[api.TriageResult]:
		if v, ok := settle(&t.ld, msg); ok {
			t.res = &v
			t.l.setRows(v.Entries)
		}
	case tea.KeyPressMsg:
		k := t.s.keys
		if ok, cmd := t.l.key(k, msg); ok {
			return t, cmd
		}
		switch {
		case key.Matches(msg, k.Refresh):
			return t, t.init()
		case key.Matches(msg, k.Open):
			if cur := t.l.current(); cur != nil && cur.Root.ResourceID != "" {
				return t, push(newDetail(t.s, api.ResourceView{ID: cur.Root.ResourceID, Name: cur.Root.Node}))
			}
		}
	}
	return t, nil
}

func (t *triageScreen) view(w, h int) string {
	st := t.s.styles
	suffix := ""
	if t.res != nil {
		suffix = st.Muted.Render(fmt.Sprintf("  %d of %d not ready", t.res.NotReady, t.res.Total))
		for _, e := range t.res.Errors {
			suffix += "  " + st.Error.Render(oneLine(e))
		}
	}
	return t.l.view(st, t.s.now(), w, h, suffix)
}
