package ui

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"sigs.k8s.io/yaml"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// resourcesScreen lists Kustomizations and HelmReleases with live status.
type resourcesScreen struct {
	base
	sc      scopeInfo
	l       list[api.ResourceView]
	confirm *confirmDialog
	marks   map[string]bool // rows marked with space for a bulk action
}

func newResources(s *session, sc scopeInfo, project, env string) *resourcesScreen {
	if project != "" {
		sc.project = project
	}
	if env != "" {
		sc.env = env
	}
	r := &resourcesScreen{base: newBase(s), sc: sc, marks: map[string]bool{}}
	r.l = newList(&r.ld, listSpec[api.ResourceView]{
		noun:  r.noun(),
		cols:  markNames(r.marks, resourceColumns(sc.envID != "")),
		empty: "No GitOps resources here. Press c to create a Kustomization or HelmRelease.",
		search: func(v *api.ResourceView) string {
			return v.Name + " " + v.Namespace + " " + v.Type + " " + v.Status + " " + v.ErrorMessage
		},
		ident: func(v *api.ResourceView) string { return v.ID },
		sorts: resourceSorts(),
		now:   s.now,
	})
	return r
}

// resourceColumns are the resources' columns; an environment's list has
// no ENV column.
func resourceColumns(scoped bool) []column[api.ResourceView] {
	cols := []column[api.ResourceView]{
		{title: "NAME", cell: func(x cellCtx, v *api.ResourceView) (string, lipgloss.Style) { return v.Name, x.st.Header }},
		{title: "TYPE", prio: 2, cell: func(x cellCtx, v *api.ResourceView) (string, lipgloss.Style) {
			if v.Type == model.ResourceHelm {
				return "helm", x.st.Info
			}
			return "ks", lipgloss.NewStyle()
		}},
		{title: "STATUS", cell: func(x cellCtx, v *api.ResourceView) (string, lipgloss.Style) {
			return v.Status, x.st.statusStyle(v.Status)
		}},
		{title: "WHY", prio: 1, cell: func(x cellCtx, v *api.ResourceView) (string, lipgloss.Style) {
			return orDash(v.Diagnosis), x.st.diagStyle(v.Diagnosis)
		}},
		{title: "ENV", prio: 3, cell: func(x cellCtx, v *api.ResourceView) (string, lipgloss.Style) {
			return orDash(v.Environment.Name), x.st.Muted
		}},
		{title: "REVISION", prio: 3, cell: func(x cellCtx, v *api.ResourceView) (string, lipgloss.Style) {
			return shortRev(v.LastAppliedRevision), x.st.Muted
		}},
		{title: "AGE", prio: 1, cell: func(x cellCtx, v *api.ResourceView) (string, lipgloss.Style) {
			t := v.CreatedAt
			if v.ObservedAt != nil {
				t = *v.ObservedAt
			}
			return age(x.now, t), x.st.Muted
		}},
		{title: "MESSAGE", prio: 4, squeeze: true, cell: func(x cellCtx, v *api.ResourceView) (string, lipgloss.Style) {
			if v.Suspension != nil {
				return suspensionText(v.Suspension), x.st.Info
			}
			return oneLine(v.ErrorMessage), x.st.Muted
		}},
	}
	if scoped {
		return append(cols[:4:4], cols[5:]...)
	}
	return cols
}

// resourceSorts are the orders `s` cycles: name, status (failing first),
// age (newest first) and type.
func resourceSorts() []sortMode[api.ResourceView] {
	byName := func(a, b *api.ResourceView) bool {
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Namespace < b.Namespace
	}
	return []sortMode[api.ResourceView]{
		{"name", byName},
		{"status", func(a, b *api.ResourceView) bool {
			if a.Status != b.Status {
				return statusRank(a.Status) < statusRank(b.Status)
			}
			return a.Name < b.Name
		}},
		{"age", func(a, b *api.ResourceView) bool { return a.CreatedAt.After(b.CreatedAt) }},
		{"type", func(a, b *api.ResourceView) bool {
			if a.Type != b.Type {
				return a.Type < b.Type
			}
			return a.Name < b.Name
		}},
	}
}

func statusRank(s string) int {
	switch s {
	case model.StatusFailed:
		return 0
	case model.StatusReconciling, model.StatusPending:
		return 1
	case model.StatusUnknown:
		return 2
	case model.StatusSuspended:
		return 3
	}
	return 4
}

func (r *resourcesScreen) title() string { return r.noun() + r.l.filterNote() }
func (r *resourcesScreen) noun() string {
	if r.sc.env != "" {
		return "Resources " + r.sc.env
	}
	return "Resources"
}
func (r *resourcesScreen) scope() scope          { return r.sc.scope }
func (r *resourcesScreen) ids() (string, string) { return r.sc.projectID, r.sc.envID }
func (r *resourcesScreen) clusterID() string     { return r.sc.clusterID }
func (r *resourcesScreen) capturing() bool       { return r.l.filtering || r.confirm != nil }
func (r *resourcesScreen) esc() bool             { return r.l.clearFilter() }

func (r *resourcesScreen) bindings() []key.Binding {
	k := r.s.keys
	if r.confirm != nil {
		return r.confirm.bindings(k)
	}
	if r.l.filtering {
		return filterBindings()
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Filter, k.Sort, k.Sync, k.Suspend, k.Mark, k.Triage, k.Graph, k.YAML, k.Edit, k.Create, k.Delete, k.Refresh}
}

func (r *resourcesScreen) init() tea.Cmd {
	in := api.ListResourcesInput{ProjectID: r.sc.projectID, EnvironmentID: r.sc.envID}
	return r.ld.start("loading resources", invoke(r.s, r.sid, "", api.ListGitOpsResources, in))
}

func (r *resourcesScreen) inScope(res model.GitOpsResource) bool {
	return (r.sc.projectID == "" || res.ProjectID == r.sc.projectID) && (r.sc.envID == "" || res.EnvironmentID == r.sc.envID)
}

// live applies one status event.
func (r *resourcesScreen) live(e statusMsg) {
	res := e.Resource
	if res.ID == "" || !r.inScope(res) {
		return
	}
	if i, ok := r.l.find(res.ID); ok {
		if res.DeletedAt != nil {
			r.l.remove(i)
			return
		}
		v := r.l.items[i]
		r.l.setRow(i, api.NewResourceView(res, v.Environment, v.Repository))
		return
	}
	if res.DeletedAt == nil && !r.ld.loading() {
		r.l.insert(api.NewResourceView(res, api.EnvSummary{ID: res.EnvironmentID}, api.RepoSummary{ID: res.RepositoryID}), false)
	}
}

func (r *resourcesScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if r.resize(msg) {
		r.l.resize(r.w, r.h)
		return r, nil
	}
	switch msg := msg.(type) {
	case reloadMsg:
		return r, r.init()
	case doneMsg[[]api.ResourceView]:
		if v, ok := settle(&r.ld, msg); ok {
			r.l.setRows(v)
		}
	case statusMsg:
		r.live(msg)
	case doneMsg[api.SyncResult]:
		if cmd := r.acted(msg.err); cmd != nil {
			return r, cmd
		}
		text := fmt.Sprintf("sync %s: %s", msg.tag, orDash(msg.val.Message))
		if msg.val.Revision != "" {
			text += " (" + msg.val.Revision + ")"
		}
		return r, tea.Batch(notify(text), r.init())
	case doneMsg[api.ResourceSummary]:
		if cmd := r.acted(msg.err); cmd != nil {
			return r, cmd
		}
		return r, tea.Batch(notify(msg.tag+" "+msg.val.Name+": "+msg.val.Status), r.init())
	case tea.KeyPressMsg:
		return r, r.key(msg)
	}
	return r, nil
}

func (r *resourcesScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := r.s.keys
	if r.confirm != nil {
		return r.answer(msg)
	}
	if ok, cmd := r.l.key(k, msg); ok {
		return cmd
	}
	switch {
	case key.Matches(msg, k.Refresh):
		return r.init()
	case key.Matches(msg, k.Create):
		return r.create()
	case key.Matches(msg, k.Triage):
		return push(newTriage(r.s, api.TriageInput{ProjectID: r.sc.projectID, EnvironmentID: r.sc.envID}))
	case key.Matches(msg, k.Graph):
		return push(newGraph(r.s, api.GraphInput{ProjectID: r.sc.projectID}))
	}
	if cmd, ok := r.bulkKey(msg); ok {
		return cmd
	}
	if cur := r.l.current(); cur != nil {
		return r.rowKey(msg, *cur)
	}
	return nil
}

// answer takes the confirmation dialog's answer.
func (r *resourcesScreen) answer(msg tea.KeyPressMsg) tea.Cmd {
	yes, done := r.confirm.answer(msg)
	if !done {
		return nil
	}
	c := r.confirm
	r.confirm = nil
	if !yes {
		return nil
	}
	r.working = c.busy
	return c.run
}

// rowKey handles the keys acting on the selected resource.
func (r *resourcesScreen) rowKey(msg tea.KeyPressMsg, cur api.ResourceView) tea.Cmd {
	k := r.s.keys
	switch {
	case key.Matches(msg, k.Sync):
		r.working = "syncing " + cur.Name
		return invoke(r.s, r.sid, cur.Name, api.TriggerSync, api.TriggerSyncInput{ID: cur.ID})
	case key.Matches(msg, k.Suspend) && (cur.Suspended || cur.Status == model.StatusSuspended):
		r.confirm = r.resumeDialog(cur)
	case key.Matches(msg, k.Suspend):
		return push(newSuspendForm(r.s, r.sid, cur))
	case key.Matches(msg, k.Delete):
		return push(newDelete(r.s, deleteSpec{
			what: cur.Type + " " + cur.Name, name: cur.Name,
			note: fmt.Sprintf("Flux's %s %s/%s is deleted from the cluster (and with prune, what it applied); the record stays, marked deleted.",
				cur.Type, cur.Namespace, cur.Name),
			run: func(_ bool, to int) tea.Cmd {
				return invoke(r.s, to, "", api.DeleteGitOpsResource, api.IDInput{ID: cur.ID})
			},
			done: deleted(cur.Name, r.sid),
		}))
	case key.Matches(msg, k.Detail, k.Open):
		return push(newDetail(r.s, cur))
	case key.Matches(msg, k.YAML):
		return push(newYAMLScreen(r.s, cur))
	case key.Matches(msg, k.Edit):
		return push(newEditLoader(r.s, cur))
	}
	return nil
}

// resumeDialog asks before resuming a resource.
func (r *resourcesScreen) resumeDialog(cur api.ResourceView) *confirmDialog {
	return &confirmDialog{
		text: fmt.Sprintf("Resume %s %s/%s?", cur.Type, cur.Namespace, cur.Name),
		busy: "resume " + cur.Name,
		run:  invoke(r.s, r.sid, "resume", api.ResumeGitOpsResource, api.IDInput{ID: cur.ID}),
	}
}

// create opens the create wizard for the scope's (or the row's) environment.
func (r *resourcesScreen) create() tea.Cmd {
	pid, eid := r.sc.projectID, r.sc.envID
	if eid == "" {
		if cur := r.l.current(); cur != nil {
			pid, eid = cur.ProjectID, cur.EnvironmentID
		}
	}
	if eid == "" {
		return fail(model.Errorf(model.CodeBadRequest, "open an environment first: 2, enter on a project, enter on an environment"))
	}
	return push(newCreateWizard(r.s, r.sid, pid, eid))
}

func (r *resourcesScreen) view(w, h int) string {
	st := r.s.styles
	if r.confirm != nil {
		return r.l.top(st, w, "") + "\n\n" + r.confirm.view(st, w)
	}
	return r.l.view(st, r.s.now(), w, h, "")
}

// shortRev shortens "main@sha1:0123456789abcdef" to "main@0123456".
func shortRev(rev string) string {
	if rev == "" {
		return "-"
	}
	if b, sha, ok := strings.Cut(rev, "@sha1:"); ok && len(sha) > 7 {
		return b + "@" + sha[:7]
	}
	if len(rev) > 14 && !strings.Contains(rev, "@") {
		return rev[:7]
	}
	return rev
}

// age renders a duration like kubectl: 5s, 3m, 2h, 4d.
func age(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h"
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d"
}

// resourceYAML renders the Flux object of a resource: the live manifest
// from the detail when there is one, else built from the stored config.
func resourceYAML(v api.ResourceDetail) string {
	if strings.TrimSpace(v.Manifest) != "" {
		return v.Manifest
	}
	kind, api := "Kustomization", "kustomize.toolkit.fluxcd.io/v1"
	if v.Type == model.ResourceHelm {
		kind, api = "HelmRelease", "helm.toolkit.fluxcd.io/v2"
	}
	var spec any = map[string]any{}
	if len(v.Config) > 0 {
		_ = json.Unmarshal(v.Config, &spec)
	}
	obj := map[string]any{
		"apiVersion": api, "kind": kind,
		"metadata": map[string]any{"name": v.Name, "namespace": v.Namespace},
		"spec":     spec,
	}
	if v.Suspended {
		if m, ok := spec.(map[string]any); ok {
			m["suspend"] = true
		}
	}
	b, err := yaml.Marshal(obj)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
