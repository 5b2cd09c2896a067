package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// detailScreen shows one resource: conditions, events, revisions and the
// chain of why it is not ready.
type detailScreen struct {
	base
	v      api.ResourceView
	d      *api.ResourceDetail
	scroll int
}

func newDetail(s *session, v api.ResourceView) *detailScreen {
	return &detailScreen{base: newBase(s), v: v}
}

func (d *detailScreen) title() string { return d.v.Name }
func (d *detailScreen) bindings() []key.Binding {
	k := d.s.keys
	return []key.Binding{k.Up, k.Down, k.YAML, k.Sync, k.Edit, k.Refresh}
}

func (d *detailScreen) init() tea.Cmd {
	return d.ld.start("loading "+d.v.Name, invoke(d.s, d.sid, "", api.GetGitOpsResource, api.IDInput{ID: d.v.ID}))
}

func (d *detailScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if d.resize(msg) {
		return d, nil
	}
	switch msg := msg.(type) {
	case doneMsg[api.ResourceDetail]:
		if v, ok := settle(&d.ld, msg); ok {
			d.d = &v
		}
	case doneMsg[api.SyncResult]:
		if cmd := d.acted(msg.err); cmd != nil {
			return d, cmd
		}
		return d, tea.Batch(notify("sync "+d.v.Name+": "+msg.val.Message), d.init())
	case statusMsg:
		if msg.Resource.ID == d.v.ID && d.busy() == "" {
			return d, d.init()
		}
	case tea.KeyPressMsg:
		return d, d.key(msg)
	}
	return d, nil
}

func (d *detailScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := d.s.keys
	switch {
	case key.Matches(msg, k.YAML):
		det := api.ResourceDetail{ResourceView: d.v}
		if d.d != nil {
			det = *d.d
		}
		ys := newYAMLScreen(d.s, det.ResourceView)
		ys.setText(resourceYAML(det))
		return push(ys)
	case key.Matches(msg, k.Sync):
		d.working = "syncing " + d.v.Name
		return invoke(d.s, d.sid, "", api.TriggerSync, api.TriggerSyncInput{ID: d.v.ID})
	case key.Matches(msg, k.Edit):
		if d.d != nil {
			return push(newEditResource(d.s, *d.d))
		}
		return push(newEditLoader(d.s, d.v))
	case key.Matches(msg, k.Refresh):
		return d.init()
	case d.d != nil:
		d.scroll = scrollBy(k, msg, d.scroll, len(d.lines(d.s.styles)), d.h)
	}
	return nil
}

func (d *detailScreen) view(w, h int) string {
	st := d.s.styles
	if d.d == nil {
		state := st.Muted.Render("loading…")
		if d.ld.err != nil {
			state = errLine(st, d.ld.err)
		}
		return clipLines(st.Header.Render(d.v.Name)+"\n"+state, w, h)
	}
	return window(d.lines(st), d.scroll, w, h)
}

// lines is the whole report; the view shows the part scrolled to.
func (d *detailScreen) lines(st Styles) []string {
	r := d.d
	kind := "Kustomization"
	if r.Type == model.ResourceHelm {
		kind = "HelmRelease"
	}
	l := []string{st.Header.Render(fmt.Sprintf("%s %s/%s", kind, r.Namespace, r.Name)) + "  " + st.statusStyle(r.Status).Render(r.Status)}
	if d.ld.err != nil {
		l = append(l, errLine(st, d.ld.err))
	}
	l = append(l, diagnosisLines(st, r.Diagnosis)...)
	if r.Environment.Name != "" {
		l = append(l, st.Label.Render("environment ")+r.Environment.Name+st.Label.Render("  cluster ")+r.Environment.ClusterID)
	}
	if r.Repository.FullName != "" {
		l = append(l, st.Label.Render("repository  ")+r.Repository.FullName+st.Muted.Render(" "+r.Repository.URL))
	}
	l = append(l, "", st.Header.Render("Revisions"),
		"  applied    "+orDash(r.LastAppliedRevision),
		"  attempted  "+orDash(r.LastAttemptedRevision))
	if r.SourceRef != "" {
		l = append(l, "  source     "+r.SourceRef)
	}
	if len(r.DependsOn) > 0 {
		l = append(l, "  dependsOn  "+strings.Join(r.DependsOn, ", "))
	}
	if r.Suspended {
		l = append(l, "  "+st.Info.Render("suspended"))
	}
	if r.LiveErr != "" {
		l = append(l, "", st.Error.Render("live: "+oneLine(r.LiveErr)))
	}
	if len(r.Chain) > 0 {
		l = append(l, "", st.Header.Render("Why not ready"))
		for i, c := range r.Chain {
			l = append(l, "  "+strings.Repeat("  ", i)+st.Warn.Render("→ ")+oneLine(c))
		}
	}
	return append(l, d.status(st)...)
}

// status is the report's conditions and events.
func (d *detailScreen) status(st Styles) []string {
	r := d.d
	l := []string{"", st.Header.Render("Conditions")}
	if len(r.Conditions) == 0 {
		l = append(l, st.Muted.Render("  none"))
	}
	for _, c := range r.Conditions {
		l = append(l, fmt.Sprintf("  %s %s %s %s", pad(c.Type, 12), st.statusStyle(c.Status).Render(pad(c.Status, 7)),
			pad(c.Reason, 22), st.Muted.Render(oneLine(c.Message))))
	}
	l = append(l, "", st.Header.Render("Events"))
	if len(r.Events) == 0 {
		l = append(l, st.Muted.Render("  none"))
	}
	now := d.s.now()
	for _, e := range r.Events {
		sty := st.Muted
		if e.Type == "Warning" {
			sty = st.Warn
		}
		l = append(l, fmt.Sprintf("  %s %s %s %s", pad(age(now, e.Timestamp), 4), sty.Render(pad(e.Type, 8)), pad(e.Reason, 20), oneLine(e.Message)))
	}
	return l
}

// yamlScreen shows a resource's YAML highlighted by chroma.
type yamlScreen struct {
	textScreen
	v api.ResourceView
}

func newYAMLScreen(s *session, v api.ResourceView) *yamlScreen {
	return &yamlScreen{textScreen: textScreen{base: newBase(s), name: "YAML " + v.Name, lang: "yaml"}, v: v}
}

func (y *yamlScreen) init() tea.Cmd {
	if y.text != "" {
		return nil
	}
	return y.ld.start("loading "+y.v.Name, invoke(y.s, y.sid, "", api.GetGitOpsResource, api.IDInput{ID: y.v.ID}))
}

func (y *yamlScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if d, ok := msg.(doneMsg[api.ResourceDetail]); ok {
		v, ok := settle(&y.ld, d)
		switch {
		case ok:
			y.reserve = 0
			y.setText(resourceYAML(v))
		case y.ld.err != nil: // what the list knows, under the error
			y.reserve = 1
			y.setText(resourceYAML(api.ResourceDetail{ResourceView: y.v}))
		}
		return y, nil
	}
	_, cmd := y.textScreen.update(msg)
	return y, cmd
}

func (y *yamlScreen) view(w, h int) string {
	switch {
	case y.text == "":
		return y.s.styles.Muted.Render("loading…")
	case y.ld.err != nil:
		return fit(errLine(y.s.styles, y.ld.err), w) + "\n" + y.textScreen.view(w, max(1, h-1))
	}
	return y.textScreen.view(w, h)
}

// editLoader reads a resource's config (lists carry none), then opens the
// edit form in its place.
type editLoader struct {
	base
	v api.ResourceView
}

func newEditLoader(s *session, v api.ResourceView) *editLoader {
	return &editLoader{base: newBase(s), v: v}
}

func (e *editLoader) title() string           { return "Edit " + e.v.Name }
func (e *editLoader) bindings() []key.Binding { return []key.Binding{e.s.keys.Cancel} }

func (e *editLoader) init() tea.Cmd {
	return e.ld.start("loading "+e.v.Name, invoke(e.s, e.sid, "", api.GetGitOpsResource, api.IDInput{ID: e.v.ID}))
}

func (e *editLoader) update(msg tea.Msg) (screen, tea.Cmd) {
	e.resize(msg)
	if d, ok := msg.(doneMsg[api.ResourceDetail]); ok {
		if v, ok := settle(&e.ld, d); ok {
			return e, replace(newEditResource(e.s, v))
		}
		if e.ld.err != nil {
			return e, tea.Batch(pop(""), fail(e.ld.err))
		}
	}
	return e, nil
}

func (e *editLoader) view(w, h int) string {
	return e.s.styles.Muted.Render("loading " + e.v.Name + "…")
}
