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

// bulkProgressMsg is one progress report of a running gitops.bulk.
type bulkProgressMsg struct {
	to int
	p  api.BulkProgress
}

func (b bulkProgressMsg) target() int { return b.to }

// bulkScreen runs gitops.bulk on the marked resources and draws its
// progress: a bar of objects done, then one line per object as it starts,
// runs, fails or is skipped; the result lists each group at the end.
type bulkScreen struct {
	base
	in    api.BulkInput
	ch    chan api.BulkProgress
	order []string
	items map[string]api.BulkItem
	done  int
	total int
	res   *api.BulkResult
}

func newBulk(s *session, in api.BulkInput) *bulkScreen {
	return &bulkScreen{base: newBase(s), in: in, items: map[string]api.BulkItem{}, total: len(in.Selector.Names)}
}

func (b *bulkScreen) title() string { return "Bulk " + string(b.in.Action) }
func (b *bulkScreen) bindings() []key.Binding {
	return []key.Binding{b.s.keys.Back}
}

// init starts the call; its progress comes through a channel the screen
// reads one report at a time (reports beyond the buffer are dropped, the
// result still lists every object).
func (b *bulkScreen) init() tea.Cmd {
	b.ch = make(chan api.BulkProgress, 256)
	ch, to, in := b.ch, b.sid, b.in
	ctx := api.WithProgress(b.s.ctx, func(p api.BulkProgress) {
		select {
		case ch <- p:
		default:
		}
	})
	c := b.s.caller
	b.working = string(in.Action) + " " + fmt.Sprint(b.total) + " resources"
	run := func() tea.Msg {
		defer close(ch)
		if c == nil {
			return doneMsg[api.BulkResult]{to: to, err: model.Errorf(model.CodeInternal, "no caller")}
		}
		out, err := api.Invoke(ctx, c, api.Bulk, in)
		return doneMsg[api.BulkResult]{to: to, val: out, err: err}
	}
	return tea.Batch(run, b.next())
}

// next waits for the next progress report.
func (b *bulkScreen) next() tea.Cmd {
	ch, to := b.ch, b.sid
	return func() tea.Msg {
		p, ok := <-ch
		if !ok {
			return nil
		}
		return bulkProgressMsg{to: to, p: p}
	}
}

func (b *bulkScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if b.resize(msg) {
		return b, nil
	}
	switch msg := msg.(type) {
	case bulkProgressMsg:
		b.track(msg.p.Item)
		b.done, b.total = msg.p.Done, max(b.total, msg.p.Total)
		return b, b.next()
	case doneMsg[api.BulkResult]:
		b.working = ""
		if msg.err != nil {
			return b, fail(msg.err)
		}
		b.res = &msg.val
		for _, group := range [][]api.BulkItem{msg.val.Ran, msg.val.Failed, msg.val.Skipped} {
			for _, it := range group {
				b.track(it)
			}
		}
		b.done = len(b.order)
		b.total = max(b.total, b.done)
		return b, notify(fmt.Sprintf("%s: %d ran, %d failed, %d skipped", b.in.Action, len(msg.val.Ran), len(msg.val.Failed), len(msg.val.Skipped)))
	}
	return b, nil
}

// track keeps the latest state of each object, in the order they started.
func (b *bulkScreen) track(it api.BulkItem) {
	if _, ok := b.items[it.Node]; !ok {
		b.order = append(b.order, it.Node)
	}
	b.items[it.Node] = it
}

func (b *bulkScreen) view(w, h int) string {
	st := b.s.styles
	l := []string{st.Header.Render(fmt.Sprintf("%s %d resources", b.in.Action, b.total)), progressBar(st, b.done, b.total, min(40, w-12)), ""}
	for _, n := range b.order {
		it := b.items[n]
		style := st.Muted
		switch it.State {
		case api.BulkRan:
			style = st.statusStyle(model.StatusReady)
		case api.BulkFailed:
			style = st.Error
		case api.BulkSkipped:
			style = st.Warn
		case api.BulkStarted:
			style = st.Info
		}
		wave := ""
		if it.Wave >= 0 {
			wave = fmt.Sprintf("w%d ", it.Wave)
		}
		l = append(l, fmt.Sprintf("  %s%s %s %s", st.Muted.Render(wave), style.Render(pad(it.State, 8)), n, st.Muted.Render(oneLine(it.Message))))
	}
	if b.res != nil {
		l = append(l, "", st.Muted.Render(fmt.Sprintf("done in %.1fs: %d ran, %d failed, %d skipped", float64(b.res.ElapsedMS)/1000,
			len(b.res.Ran), len(b.res.Failed), len(b.res.Skipped))))
	}
	return clipLines(strings.Join(l, "\n"), w, h)
}

// progressBar draws done of total as a bar width cells wide.
func progressBar(st Styles, done, total, width int) string {
	width = max(width, 10)
	filled := 0
	if total > 0 {
		filled = min(width, done*width/total)
	}
	return "[" + st.statusStyle(model.StatusReady).Render(strings.Repeat("█", filled)) + st.Muted.Render(strings.Repeat("░", width-filled)) +
		fmt.Sprintf("] %d/%d", done, total)
}

// bulkConfirm asks before resuming or syncing the marked resources
// (suspending asks for a reason instead: newBulkSuspendForm).
func bulkConfirm(s *session, action api.BulkAction, marked []api.ResourceView) *confirmDialog {
	return &confirmDialog{
		text: fmt.Sprintf("%s %d marked resources, in dependency order?", strings.ToUpper(string(action[:1]))+string(action[1:]), len(marked)),
		busy: "",
		run:  push(newBulk(s, bulkInput(action, marked))),
	}
}

// bulkInput is gitops.bulk's input for action on the marked resources.
func bulkInput(action api.BulkAction, marked []api.ResourceView) api.BulkInput {
	in := api.BulkInput{Action: action}
	for _, v := range marked {
		in.Selector.Names = append(in.Selector.Names, v.ID)
	}
	return in
}

// bulkAction is the action T applies to marked rows.
func bulkAction(marked []api.ResourceView) api.BulkAction {
	for _, v := range marked {
		if !v.Suspended {
			return api.BulkSuspend
		}
	}
	return api.BulkResume
}

// markNames puts a mark before the NAME (the first column) of the rows
// marked for a bulk action.
func markNames(marks map[string]bool, cols []column[api.ResourceView]) []column[api.ResourceView] {
	name := cols[0].cell
	cols[0].cell = func(x cellCtx, v *api.ResourceView) (string, lipgloss.Style) {
		text, style := name(x, v)
		if marks[v.ID] {
			return "● " + text, x.st.Info
		}
		return text, style
	}
	return cols
}

// bulkKey handles space (mark the row and move down) and, with rows
// marked, T and R as bulk actions on them.
func (r *resourcesScreen) bulkKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := r.s.keys
	switch {
	case key.Matches(msg, k.Mark):
		if cur := r.l.current(); cur != nil {
			if r.marks[cur.ID] {
				delete(r.marks, cur.ID)
			} else {
				r.marks[cur.ID] = true
			}
			if i, ok := r.l.find(cur.ID); ok {
				r.l.setRow(i, *cur) // widens NAME for the mark
			}
			r.l.key(k, tea.KeyPressMsg{Code: tea.KeyDown})
		}
		return nil, true
	case len(r.marks) == 0:
		return nil, false
	case key.Matches(msg, k.Suspend):
		marked := r.marked()
		if action := bulkAction(marked); action == api.BulkSuspend {
			return push(newBulkSuspendForm(r.s, bulkInput(action, marked))), true
		}
		r.confirm = bulkConfirm(r.s, api.BulkResume, marked)
		return nil, true
	case key.Matches(msg, k.Sync):
		r.confirm = bulkConfirm(r.s, api.BulkSync, r.marked())
		return nil, true
	}
	return nil, false
}

// marked are the marked rows, clearing the marks (the action takes them).
func (r *resourcesScreen) marked() []api.ResourceView {
	var out []api.ResourceView
	for _, v := range r.l.items {
		if r.marks[v.ID] {
			out = append(out, v)
		}
	}
	clear(r.marks)
	return out
}
