package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/gitopstui/gitopstui/model"
)

// row is a list item of the component tests.
type row struct{ id, name, status, note string }

func rowList(ld *loader) list[row] {
	text := func(f func(r *row) string) func(cellCtx, *row) (string, lipgloss.Style) {
		return func(c cellCtx, r *row) (string, lipgloss.Style) { return f(r), c.st.Muted }
	}
	return newList(ld, listSpec[row]{
		noun: "Rows",
		cols: []column[row]{
			{title: "NAME", cell: text(func(r *row) string { return r.name })},
			{title: "STATUS", cell: text(func(r *row) string { return r.status })},
			{title: "ID", prio: 2, cell: text(func(r *row) string { return r.id })},
			{title: "OWNER", prio: 1, cell: text(func(*row) string { return "alice" })},
			{title: "NOTE", prio: 3, squeeze: true, cell: text(func(r *row) string { return r.note })},
		},
		empty:  "No rows here.",
		search: func(r *row) string { return r.name + " " + r.status },
		ident:  func(r *row) string { return r.id },
	})
}

func someRows() []row {
	return []row{
		{"r1", "alpha", "ready", "first"}, {"r2", "beta", "failed", "second, and a longer note"}, {"r3", "gamma", "ready", "third"},
		{"r4", "delta", "failed", "fourth"}, {"r5", "epsilon", "pending", "fifth"},
	}
}

// loaded runs a load of rows through the loader and settles its answer.
func loaded(l *list[row], ld *loader, rows []row, err error) {
	msg := ld.start("loading rows", func() tea.Msg { return doneMsg[[]row]{val: rows, err: err} })()
	if v, ok := settle(ld, msg.(doneMsg[[]row])); ok {
		l.setRows(v)
	}
}

func draw(l *list[row], w, h int) string {
	l.resize(w, h)
	return ansi.Strip(l.view(NewStyles(true), testNow, w, h, ""))
}

func TestListFilterNarrowsRows(t *testing.T) {
	ld := &loader{}
	l := rowList(ld)
	loaded(&l, ld, someRows(), nil)
	k := NewKeyMap()
	l.key(k, keyMsg("down")) // on beta, which the filter keeps
	if ok, _ := l.key(k, keyMsg("/")); !ok || !l.filtering {
		t.Fatal("/ did not open the filter")
	}
	for _, r := range "FAIL" {
		l.key(k, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	out := draw(&l, 80, 10)
	if !strings.Contains(out, "Rows (2 of 5)") || !strings.Contains(out, "beta") || !strings.Contains(out, "delta") {
		t.Fatalf("filtered list:\n%s", out)
	}
	for _, gone := range []string{"alpha", "gamma", "epsilon"} {
		if strings.Contains(out, gone) {
			t.Fatalf("%s survived the filter:\n%s", gone, out)
		}
	}
	if cur := l.current(); cur == nil || cur.id != "r2" {
		t.Fatalf("cursor left beta: %v", cur)
	}
	l.key(k, keyMsg("enter"))
	if l.filtering || l.filter.Value() != "FAIL" {
		t.Fatal("enter should keep the filter and give the keyboard back")
	}
	l.key(k, keyMsg("/"))
	l.key(k, keyMsg("esc"))
	if out := draw(&l, 80, 10); !strings.Contains(out, "Rows (5)") {
		t.Fatalf("esc did not clear the filter:\n%s", out)
	}
	l.key(k, keyMsg("/"))
	for _, r := range "zzz" {
		l.key(k, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	if out := draw(&l, 80, 10); !strings.Contains(out, "no row matches /zzz") {
		t.Fatalf("no-match state:\n%s", out)
	}
}

func header(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "NAME") {
			return line
		}
	}
	return ""
}

func TestListNarrowDropsLowestPriorityFirst(t *testing.T) {
	ld := &loader{}
	l := rowList(ld)
	loaded(&l, ld, someRows(), nil)
	// Content widths: NAME 7, STATUS 7, ID 2, OWNER 5, NOTE 25, one space
	// after each: 51. NOTE narrows to 8 before anything drops.
	steps := []struct {
		w    int
		want []string
		gone []string
		note string // the NOTE cell of beta, as drawn
	}{
		{51, []string{"NAME", "STATUS", "ID", "OWNER", "NOTE"}, nil, "second, and a longer note"},
		{40, []string{"NAME", "STATUS", "ID", "OWNER", "NOTE"}, nil, "second, and a…"},
		{34, []string{"NAME", "STATUS", "ID", "OWNER", "NOTE"}, nil, "second,…"},
		{33, []string{"NAME", "STATUS", "ID", "OWNER"}, []string{"NOTE"}, ""},
		{25, []string{"NAME", "STATUS", "ID", "OWNER"}, []string{"NOTE"}, ""},
		{24, []string{"NAME", "STATUS", "OWNER"}, []string{"NOTE", "ID"}, ""},
		{22, []string{"NAME", "STATUS", "OWNER"}, []string{"NOTE", "ID"}, ""},
		{21, []string{"NAME", "STATUS"}, []string{"NOTE", "ID", "OWNER"}, ""},
		{12, []string{"NAME"}, []string{"NOTE", "ID", "OWNER"}, ""}, // the essentials stay, cut at the edge
	}
	for _, s := range steps {
		out := draw(&l, s.w, 10)
		h := header(out)
		for _, c := range s.want {
			if !strings.Contains(h, c) {
				t.Errorf("width %d: %s missing from %q", s.w, c, h)
			}
		}
		for _, c := range s.gone {
			if strings.Contains(h, c) {
				t.Errorf("width %d: %s should have dropped: %q", s.w, c, h)
			}
		}
		if s.note != "" && !strings.Contains(out, "beta    failed  r2 alice "+s.note) {
			t.Errorf("width %d: beta's row lacks its note %q:\n%s", s.w, s.note, out)
		}
		for i, line := range strings.Split(out, "\n") {
			if ansi.StringWidth(line) > s.w {
				t.Errorf("width %d: line %d is %d wide", s.w, i, ansi.StringWidth(line))
			}
		}
	}
}

// TestListKeepEndAndFilteredTitle: a keepEnd column cuts the start of a
// long cell, and a filtered list says so in its heading and title.
func TestListKeepEndAndFilteredTitle(t *testing.T) {
	if got := padLeftCut("ghcr.io/acme/web:1.4.2", 12); got != "…e/web:1.4.2" {
		t.Fatalf("padLeftCut = %q", got)
	}
	ld := &loader{}
	l := rowList(ld)
	loaded(&l, ld, someRows(), nil)
	k := NewKeyMap()
	l.key(k, keyMsg("/"))
	for _, r := range "e" {
		l.key(k, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	l.key(k, keyMsg("enter"))
	out := draw(&l, 80, 10)
	if !strings.Contains(out, "Rows (5 of 5, filtered /e)") || l.filterNote() != " /e" {
		t.Fatalf("filtered heading:\n%s", out)
	}
	if !l.clearFilter() || l.filterNote() != "" || l.clearFilter() {
		t.Fatal("esc should clear an applied filter once")
	}
	for _, key := range []string{"G", "g", "end", "home", "pgdown", "pgup"} {
		if ok, _ := l.key(k, keyMsg(key)); !ok {
			t.Errorf("%s is not a list key", key)
		}
	}
	l.key(k, keyMsg("G"))
	if cur := l.current(); cur == nil || cur.id != "r5" {
		t.Fatalf("G: cursor on %v", cur)
	}
	l.key(k, keyMsg("home"))
	if cur := l.current(); cur == nil || cur.id != "r1" {
		t.Fatalf("home: cursor on %v", cur)
	}
}

func TestListLoadingEmptyAndErrorStates(t *testing.T) {
	ld := &loader{}
	l := rowList(ld)
	if out := draw(&l, 80, 10); !strings.Contains(out, "Rows (0)") || !strings.Contains(out, "loading…") {
		t.Fatalf("loading state:\n%s", out)
	}
	loaded(&l, ld, nil, model.Errorf(model.CodeStoreLocked, "the store is locked"))
	out := draw(&l, 80, 10)
	if !strings.Contains(out, "✗ STORE_LOCKED: the store is locked") || strings.Contains(out, "No rows here") || strings.Contains(out, "loading") {
		t.Fatalf("error state:\n%s", out)
	}
	loaded(&l, ld, []row{}, nil)
	out = draw(&l, 80, 10)
	if !strings.Contains(out, "No rows here.") || strings.Contains(out, "STORE_LOCKED") {
		t.Fatalf("empty state:\n%s", out)
	}
	// A failed refresh keeps the rows under the error line, which takes
	// a line from the table.
	loaded(&l, ld, someRows(), nil)
	loaded(&l, ld, nil, model.Errorf(model.CodeK3sNotReady, "cluster gone"))
	out = draw(&l, 80, 6)
	if !strings.Contains(out, "✗ K3S_NOT_READY: cluster gone") || !strings.Contains(out, "alpha") || strings.Count(out, "\n") != 5 {
		t.Fatalf("rows under the error line:\n%s", out)
	}
	if ld.busy != "" {
		t.Fatalf("busy text %q outlived the load", ld.busy)
	}
}

func TestLoaderDropsStaleAnswers(t *testing.T) {
	ld := &loader{}
	l := rowList(ld)
	old := ld.start("loading", func() tea.Msg { return doneMsg[[]row]{val: someRows()[:1]} })
	fresh := ld.start("refreshing", func() tea.Msg { return doneMsg[[]row]{val: someRows()} })
	if v, ok := settle(ld, fresh().(doneMsg[[]row])); ok {
		l.setRows(v)
	}
	if _, ok := settle(ld, old().(doneMsg[[]row])); ok {
		t.Fatal("an answer to a replaced request was taken")
	}
	if len(l.items) != 5 {
		t.Fatalf("rows %d, want the fresh 5", len(l.items))
	}
}
