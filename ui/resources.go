package ui

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"sigs.k8s.io/yaml"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

var sortModes = []string{"name", "status", "age", "type"}

// resourcesScreen lists Kustomizations and HelmReleases with live status.
type resourcesScreen struct {
	base
	sc        scopeInfo
	items     []api.ResourceView
	keys      []string // lowercased search text per item
	index     map[string]int
	shown     []int // filtered and sorted indexes into items
	t         table
	filter    textinput.Model
	filtering bool
	sortBy    int
	loaded    bool
	confirm   *confirmDialog
}

func newResources(s *session, sc scopeInfo, project, env string) *resourcesScreen {
	if project != "" {
		sc.project = project
	}
	if env != "" {
		sc.env = env
	}
	fi := newInput()
	fi.Prompt = "/"
	fi.Placeholder = "filter"
	r := &resourcesScreen{base: newBase(s), sc: sc, filter: fi, index: map[string]int{}, t: table{cols: []column{
		{"NAME", 18}, {"TYPE", 4}, {"STATUS", 11}, {"REVISION", 14}, {"AGE", 4}, {"MESSAGE", 0},
	}}}
	return r
}

func (r *resourcesScreen) title() string {
	if r.sc.env != "" {
		return "Resources " + r.sc.env
	}
	return "Resources"
}
func (r *resourcesScreen) scope() scope          { return r.sc.scope }
func (r *resourcesScreen) ids() (string, string) { return r.sc.projectID, r.sc.envID }
func (r *resourcesScreen) capturing() bool       { return r.filtering || r.confirm != nil }

func (r *resourcesScreen) bindings() []key.Binding {
	k := r.s.keys
	if r.confirm != nil {
		return r.confirm.bindings(k)
	}
	if r.filtering {
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")), key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear"))}
	}
	return []key.Binding{k.Up, k.Down, k.Filter, k.Sort, k.Sync, k.Suspend, k.Detail, k.YAML, k.Edit, k.Delete, k.Create}
}

func (r *resourcesScreen) init() tea.Cmd {
	r.working = "loading resources"
	in := api.ListResourcesInput{ProjectID: r.sc.projectID, EnvironmentID: r.sc.envID}
	return invoke(r.s, r.sid, "", api.ListGitOpsResources, in)
}

func searchKey(v *api.ResourceView) string {
	return strings.ToLower(v.Name + " " + v.Namespace + " " + v.Type + " " + v.Status + " " + v.ErrorMessage)
}

// setItems replaces the rows.
func (r *resourcesScreen) setItems(items []api.ResourceView) {
	r.items = items
	r.keys = make([]string, len(items))
	r.index = make(map[string]int, len(items))
	for i := range items {
		r.keys[i] = searchKey(&items[i])
		r.index[items[i].ID] = i
	}
	r.refilter()
}

// refilter recomputes the shown rows from the filter and sort, keeping the
// cursor on the same resource when it is still shown.
func (r *resourcesScreen) refilter() {
	var curID string
	if r.t.n > 0 && r.t.cursor < len(r.shown) {
		curID = r.items[r.shown[r.t.cursor]].ID
	}
	q := strings.ToLower(strings.TrimSpace(r.filter.Value()))
	shown := r.shown[:0]
	for i, k := range r.keys {
		if q == "" || strings.Contains(k, q) {
			shown = append(shown, i)
		}
	}
	r.shown = shown
	r.sortShown()
	r.t.setN(len(r.shown))
	if curID != "" {
		for i, idx := range r.shown {
			if r.items[idx].ID == curID {
				r.t.cursor = i
				r.t.clamp()
				break
			}
		}
	}
}

func (r *resourcesScreen) sortShown() {
	it := r.items
	var less func(a, b int) bool
	switch sortModes[r.sortBy] {
	case "status":
		less = func(a, b int) bool {
			if it[a].Status != it[b].Status {
				return statusRank(it[a].Status) < statusRank(it[b].Status)
			}
			return it[a].Name < it[b].Name
		}
	case "age":
		less = func(a, b int) bool { return it[a].CreatedAt.After(it[b].CreatedAt) }
	case "type":
		less = func(a, b int) bool {
			if it[a].Type != it[b].Type {
				return it[a].Type < it[b].Type
			}
			return it[a].Name < it[b].Name
		}
	default:
		less = func(a, b int) bool {
			if it[a].Name != it[b].Name {
				return it[a].Name < it[b].Name
			}
			return it[a].Namespace < it[b].Namespace
		}
	}
	sort.SliceStable(r.shown, func(i, j int) bool { return less(r.shown[i], r.shown[j]) })
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

func (r *resourcesScreen) current() *api.ResourceView {
	if r.t.n == 0 || r.t.cursor >= len(r.shown) {
		return nil
	}
	return &r.items[r.shown[r.t.cursor]]
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
	if i, ok := r.index[res.ID]; ok {
		if res.DeletedAt != nil {
			items := append(r.items[:i:i], r.items[i+1:]...)
			r.setItems(items)
			return
		}
		v := &r.items[i]
		*v = api.NewResourceView(res, v.Environment, v.Repository)
		r.keys[i] = searchKey(v)
		if r.filter.Value() != "" || sortModes[r.sortBy] == "status" {
			r.refilter()
		}
		return
	}
	if res.DeletedAt == nil && r.loaded {
		r.setItems(append(r.items, api.NewResourceView(res, api.EnvSummary{ID: res.EnvironmentID}, api.RepoSummary{ID: res.RepositoryID})))
	}
}

func (r *resourcesScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if r.resize(msg) {
		r.t.setHeight(r.h - 2)
		return r, nil
	}
	switch msg := msg.(type) {
	case doneMsg[[]api.ResourceView]:
		r.working = ""
		r.loaded = true
		if msg.err != nil {
			return r, fail(msg.err)
		}
		r.setItems(msg.val)
	case statusMsg:
		r.live(msg)
	case doneMsg[api.SyncResult]:
		r.working = ""
		if msg.err != nil {
			return r, fail(msg.err)
		}
		v := msg.val
		text := fmt.Sprintf("sync %s: %s", msg.tag, orDash(v.Message))
		if v.Revision != "" {
			text += " (" + v.Revision + ")"
		}
		return r, tea.Batch(notify(text), r.init())
	case doneMsg[api.ResourceSummary]:
		r.working = ""
		if msg.err != nil {
			return r, fail(msg.err)
		}
		return r, tea.Batch(notify(msg.tag+" "+msg.val.Name+": "+msg.val.Status), r.init())
	case doneMsg[api.Deleted]:
		r.working = ""
		if msg.err != nil {
			return r, fail(msg.err)
		}
		return r, tea.Batch(notify(msg.tag), r.init())
	case tea.KeyPressMsg:
		return r.key(msg)
	}
	return r, nil
}

func (r *resourcesScreen) key(msg tea.KeyPressMsg) (screen, tea.Cmd) {
	k := r.s.keys
	if r.confirm != nil {
		yes, done := r.confirm.answer(msg)
		if !done {
			return r, nil
		}
		c := r.confirm
		r.confirm = nil
		if yes {
			r.working = c.busy
			return r, c.run
		}
		return r, nil
	}
	if r.filtering {
		switch msg.String() {
		case "enter":
			r.filtering = false
			r.filter.Blur()
			return r, nil
		case "esc":
			r.filtering = false
			r.filter.Blur()
			r.filter.SetValue("")
			r.refilter()
			return r, nil
		}
		var cmd tea.Cmd
		r.filter, cmd = r.filter.Update(msg)
		r.refilter()
		return r, cmd
	}
	if r.t.move(k, msg) {
		return r, nil
	}
	switch {
	case key.Matches(msg, k.Filter):
		r.filtering = true
		return r, r.filter.Focus()
	case key.Matches(msg, k.Sort):
		r.sortBy = (r.sortBy + 1) % len(sortModes)
		r.refilter()
		return r, notify("sorted by " + sortModes[r.sortBy])
	case key.Matches(msg, k.Refresh):
		return r, r.init()
	case key.Matches(msg, k.Create):
		return r, r.create()
	}
	cur := r.current()
	if cur == nil {
		return r, nil
	}
	id, name := cur.ID, cur.Name
	switch {
	case key.Matches(msg, k.Sync):
		r.working = "syncing " + name
		return r, invoke(r.s, r.sid, name, api.TriggerSync, api.TriggerSyncInput{ID: id})
	case key.Matches(msg, k.Suspend):
		verb, proc := "suspend", api.SuspendGitOpsResource
		if cur.Suspended || cur.Status == model.StatusSuspended {
			verb, proc = "resume", api.ResumeGitOpsResource
		}
		r.confirm = &confirmDialog{
			text: fmt.Sprintf("%s %s %s/%s?", strings.ToUpper(verb[:1])+verb[1:], cur.Type, cur.Namespace, name),
			busy: verb + " " + name,
			run:  invoke(r.s, r.sid, verb, proc, api.IDInput{ID: id}),
		}
	case key.Matches(msg, k.Delete):
		r.confirm = &confirmDialog{
			text:   fmt.Sprintf("Delete %s %s/%s from the cluster? (the record stays, marked deleted)", cur.Type, cur.Namespace, name),
			busy:   "deleting " + name,
			run:    invoke(r.s, r.sid, "deleted "+name, api.DeleteGitOpsResource, api.IDInput{ID: id}),
			danger: true,
		}
	case key.Matches(msg, k.Detail, k.Open):
		return r, push(newDetail(r.s, *cur))
	case key.Matches(msg, k.YAML):
		return r, push(newYAMLScreen(r.s, *cur))
	case key.Matches(msg, k.Edit):
		return r, push(newEditLoader(r.s, *cur))
	}
	return r, nil
}

// create opens the create wizard for the scope's (or the row's) environment.
func (r *resourcesScreen) create() tea.Cmd {
	pid, eid := r.sc.projectID, r.sc.envID
	if eid == "" {
		if cur := r.current(); cur != nil {
			pid, eid = cur.ProjectID, cur.EnvironmentID
		}
	}
	if eid == "" {
		return fail(model.Errorf(model.CodeBadRequest, "open an environment first (projects → environment → enter)"))
	}
	return push(newCreateWizard(r.s, r.sid, pid, eid))
}

func (r *resourcesScreen) view(w, h int) string {
	st := r.s.styles
	head := fmt.Sprintf("%s (%d", r.title(), len(r.shown))
	if len(r.shown) != len(r.items) {
		head += fmt.Sprintf(" of %d", len(r.items))
	}
	head = st.Header.Render(head+")") + st.Muted.Render("  sort: "+sortModes[r.sortBy])
	if r.filtering || r.filter.Value() != "" {
		fi := r.filter
		fi.SetWidth(24)
		head += "  " + fi.View()
	}
	if !r.loaded {
		return head + "\n" + st.Muted.Render("loading…")
	}
	if r.confirm != nil {
		return head + "\n\n" + r.confirm.view(st, w)
	}
	if len(r.items) == 0 {
		return head + "\n" + st.Muted.Render("No GitOps resources here. Press c to create a Kustomization or HelmRelease.")
	}
	r.t.setHeight(h - 2)
	now := r.s.now()
	return fit(head, w) + "\n" + r.t.render(st, w, h-1, func(row, c int) (string, lipgloss.Style) {
		v := &r.items[r.shown[row]]
		switch c {
		case 0:
			return v.Name, st.Header
		case 1:
			if v.Type == model.ResourceHelm {
				return "helm", st.Info
			}
			return "ks", lipgloss.NewStyle()
		case 2:
			return v.Status, st.statusStyle(v.Status)
		case 3:
			return shortRev(v.LastAppliedRevision), st.Muted
		case 4:
			t := v.CreatedAt
			if v.ObservedAt != nil {
				t = *v.ObservedAt
			}
			return age(now, t), st.Muted
		}
		return oneLine(v.ErrorMessage), st.Muted
	})
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

// confirmDialog asks yes/no before a command runs.
type confirmDialog struct {
	text   string
	busy   string
	run    tea.Cmd
	danger bool
}

func (c *confirmDialog) answer(msg tea.KeyPressMsg) (yes, done bool) {
	switch msg.String() {
	case "y", "Y", "enter":
		return true, true
	case "n", "N", "esc":
		return false, true
	}
	return false, false
}

func (c *confirmDialog) bindings(k KeyMap) []key.Binding {
	return []key.Binding{key.NewBinding(key.WithKeys("y"), key.WithHelp("y/enter", "yes")), key.NewBinding(key.WithKeys("n"), key.WithHelp("n/esc", "no"))}
}

func (c *confirmDialog) view(st Styles, w int) string {
	t := st.Header
	if c.danger {
		t = st.Error
	}
	body := t.Render(c.text) + "\n\n" + st.Muted.Render("y / enter: yes    n / esc: no")
	return st.Dialog.Width(min(w-2, max(40, lipgloss.Width(c.text)+4))).Render(body)
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
