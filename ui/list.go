package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// column is one column of a list of T.
type column[T any] struct {
	title string
	// width in cells; 0 takes the remaining space (at least minFlex).
	width int
	// prio 0 is essential and never dropped; 1, 2, 3… are less and less
	// important: on a narrow terminal the highest number drops first.
	prio int
	// cell returns the plain text of the item's cell and its style.
	cell func(c cellCtx, it *T) (string, lipgloss.Style)
}

// cellCtx is what a cell reads while it is drawn.
type cellCtx struct {
	st  Styles
	now time.Time
}

// sortMode is one order of a list's rows.
type sortMode[T any] struct {
	name string
	less func(a, b *T) bool
}

// listSpec declares a list: what it is called, its columns, its empty
// state, what the `/` filter matches and how rows are identified.
type listSpec[T any] struct {
	// noun heads the list: "Clusters (2)".
	noun string
	cols []column[T]
	// empty is shown when the loaded list has no rows.
	empty string
	// search returns the text the filter matches (any case).
	search func(*T) string
	// ident identifies a row, so the cursor stays on it across reloads
	// and live updates can find it.
	ident func(*T) string
	// sorts, when set, are cycled by the sort key; the first is the default.
	sorts []sortMode[T]
}

// minFlex is the least width of the column that takes the remaining space.
const minFlex = 8

// list is the body every list screen shares: a heading with the count,
// the loading, empty and error states, the `/` filter, an optional sort,
// columns dropped by priority when narrow and a cursor over the rows that
// draws only the visible ones, so 10,000 rows cost what a screenful costs.
type list[T any] struct {
	listSpec[T]
	ld *loader
	// sub is a muted line under the heading ("" for none).
	sub string

	items  []T
	keys   []string // lowercased search text per item
	index  map[string]int
	shown  []int // filtered and sorted indexes into items
	sortBy int

	cursor, offset int
	filter         textinput.Model
	filtering      bool
	w, h           int
}

// newList builds a list whose load state is ld (the screen's loader).
func newList[T any](ld *loader, spec listSpec[T]) list[T] {
	fi := newInput()
	fi.Prompt = "/"
	fi.Placeholder = "filter"
	fi.SetWidth(24)
	return list[T]{listSpec: spec, ld: ld, filter: fi, index: map[string]int{}, w: 80, h: 20}
}

// setRows replaces the rows.
func (l *list[T]) setRows(items []T) {
	l.items = items
	l.keys = make([]string, len(items))
	l.index = make(map[string]int, len(items))
	for i := range items {
		l.keys[i] = l.searchKey(&items[i])
		if l.ident != nil {
			l.index[l.ident(&items[i])] = i
		}
	}
	l.refilter()
}

func (l *list[T]) searchKey(it *T) string {
	if l.search == nil {
		return ""
	}
	return strings.ToLower(l.search(it))
}

// find returns the index of the row with identity id.
func (l *list[T]) find(id string) (int, bool) {
	i, ok := l.index[id]
	return i, ok
}

// setRow replaces row i in place.
func (l *list[T]) setRow(i int, it T) {
	l.items[i] = it
	l.keys[i] = l.searchKey(&l.items[i])
	if l.filterText() != "" || l.sortBy != 0 {
		l.refilter()
	}
}

// insert adds a row at the top (front) or the bottom.
func (l *list[T]) insert(it T, front bool) {
	if front {
		l.setRows(append([]T{it}, l.items...))
		return
	}
	l.setRows(append(l.items, it))
}

// remove deletes row i.
func (l *list[T]) remove(i int) {
	l.setRows(append(l.items[:i:i], l.items[i+1:]...))
}

func (l *list[T]) filterText() string {
	return strings.ToLower(strings.TrimSpace(l.filter.Value()))
}

// refilter recomputes the shown rows from the filter and the sort,
// keeping the cursor on the same row when it is still shown.
func (l *list[T]) refilter() {
	cur := ""
	if it := l.current(); it != nil && l.ident != nil {
		cur = l.ident(it)
	}
	q := l.filterText()
	shown := l.shown[:0]
	for i, k := range l.keys {
		if q == "" || strings.Contains(k, q) {
			shown = append(shown, i)
		}
	}
	l.shown = shown
	if l.sortBy < len(l.sorts) {
		less, it := l.sorts[l.sortBy].less, l.items
		sort.SliceStable(l.shown, func(a, b int) bool { return less(&it[l.shown[a]], &it[l.shown[b]]) })
	}
	if cur != "" {
		for i, idx := range l.shown {
			if l.ident(&l.items[idx]) == cur {
				l.cursor = i
				break
			}
		}
	}
	l.clamp()
}

// current returns the selected row (nil when none is shown).
func (l *list[T]) current() *T {
	if l.cursor < 0 || l.cursor >= len(l.shown) {
		return nil
	}
	return &l.items[l.shown[l.cursor]]
}

// atEnd reports that the cursor is on the last shown row.
func (l *list[T]) atEnd() bool { return len(l.shown) > 0 && l.cursor == len(l.shown)-1 }

// resize sets the body size the list draws in.
func (l *list[T]) resize(w, h int) {
	l.w, l.h = w, h
	l.clamp()
}

// chrome counts the lines above the table: heading, sub line, error line.
func (l *list[T]) chrome() int {
	n := 1
	if l.sub != "" {
		n++
	}
	if l.ld != nil && l.ld.err != nil {
		n++
	}
	return n
}

// rows is how many rows fit under the heading and the column titles.
func (l *list[T]) rows() int { return max(1, l.h-l.chrome()-1) }

func (l *list[T]) clamp() {
	n, h := len(l.shown), l.rows()
	l.cursor = max(0, min(l.cursor, n-1))
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+h {
		l.offset = l.cursor - h + 1
	}
	l.offset = max(0, min(l.offset, n-h))
}

// key handles the list's keys: the filter while it has the keyboard, `/`,
// the sort and the cursor keys. It reports whether msg was one of them.
func (l *list[T]) key(k KeyMap, msg tea.KeyPressMsg) (bool, tea.Cmd) {
	if l.filtering {
		return true, l.filterKey(msg)
	}
	switch {
	case key.Matches(msg, k.Filter):
		l.filtering = true
		return true, l.filter.Focus()
	case key.Matches(msg, k.Sort) && len(l.sorts) > 0:
		l.sortBy = (l.sortBy + 1) % len(l.sorts)
		l.refilter()
		return true, notify("sorted by " + l.sorts[l.sortBy].name)
	}
	return l.move(k, msg), nil
}

func (l *list[T]) filterKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "enter":
		l.filtering = false
		l.filter.Blur()
		return nil
	case "esc":
		l.filtering = false
		l.filter.Blur()
		l.filter.SetValue("")
		l.refilter()
		return nil
	}
	var cmd tea.Cmd
	l.filter, cmd = l.filter.Update(msg)
	l.refilter()
	return cmd
}

// move handles the cursor keys; it reports whether msg was one.
func (l *list[T]) move(k KeyMap, msg tea.KeyPressMsg) bool {
	switch {
	case key.Matches(msg, k.Up):
		l.cursor--
	case key.Matches(msg, k.Down):
		l.cursor++
	case key.Matches(msg, k.PageUp):
		l.cursor -= l.rows()
	case key.Matches(msg, k.PageDown):
		l.cursor += l.rows()
	case key.Matches(msg, k.Top):
		l.cursor = 0
	case key.Matches(msg, k.Bottom):
		l.cursor = len(l.shown) - 1
	default:
		return false
	}
	l.clamp()
	return true
}

// filterBindings are the keys while the filter has the keyboard.
func filterBindings() []key.Binding {
	return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")), key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear"))}
}

// layout picks the columns that fit in w, dropping the least important
// first, and their widths.
func layout[T any](cols []column[T], w int) (idx, widths []int) {
	idx = make([]int, len(cols))
	for i := range cols {
		idx[i] = i
	}
	// Every column is followed by one space: the last cell of a line stays
	// empty, so no terminal wraps it.
	need := func() int {
		n := len(idx)
		for _, i := range idx {
			n += max(cols[i].width, flexWidth(cols[i]))
		}
		return n
	}
	for need() > w {
		drop := -1
		for j, i := range idx {
			if p := cols[i].prio; p > 0 && (drop < 0 || p >= cols[idx[drop]].prio) {
				drop = j
			}
		}
		if drop < 0 {
			break
		}
		idx = append(idx[:drop:drop], idx[drop+1:]...)
	}
	widths = make([]int, len(idx))
	used, flex := len(idx), -1
	for j, i := range idx {
		widths[j] = cols[i].width
		if cols[i].width == 0 {
			flex = j
		}
		used += cols[i].width
	}
	if flex >= 0 {
		widths[flex] = max(flexWidth(cols[idx[flex]]), w-used)
	}
	return idx, widths
}

// flexWidth is the least width of a column that takes the remaining space
// (0 for a fixed one).
func flexWidth[T any](c column[T]) int {
	if c.width > 0 {
		return 0
	}
	return max(minFlex, ansi.StringWidth(c.title))
}

// heading renders the heading line: the noun with the count, the sort,
// suffix and the filter.
func (l *list[T]) heading(st Styles, suffix string) string {
	head := fmt.Sprintf("%s (%d", l.noun, len(l.shown))
	if len(l.shown) != len(l.items) {
		head += fmt.Sprintf(" of %d", len(l.items))
	}
	head = st.Header.Render(head + ")")
	if len(l.sorts) > 0 {
		head += st.Muted.Render("  sort: " + l.sorts[l.sortBy].name)
	}
	head += suffix
	if l.filtering || l.filter.Value() != "" {
		head += "  " + l.filter.View()
	}
	return head
}

// top renders the heading, the sub line and the error line.
func (l *list[T]) top(st Styles, w int, suffix string) string {
	lines := []string{fit(l.heading(st, suffix), w)}
	if l.sub != "" {
		lines = append(lines, fit(st.Muted.Render(l.sub), w))
	}
	if l.ld != nil && l.ld.err != nil {
		lines = append(lines, fit(errLine(st, l.ld.err), w))
	}
	return strings.Join(lines, "\n")
}

// view renders the list at w×h; suffix follows the heading's count.
func (l *list[T]) view(st Styles, now time.Time, w, h int, suffix string) string {
	top := l.top(st, w, suffix)
	switch {
	case len(l.items) == 0 && l.ld != nil && l.ld.loading():
		return top + "\n" + st.Muted.Render("loading…")
	case len(l.items) == 0 && (l.ld == nil || l.ld.err == nil):
		return clipLines(top+"\n"+st.Muted.Render(l.empty), w, h)
	case len(l.items) == 0:
		return top
	case len(l.shown) == 0:
		return top + "\n" + st.Muted.Render("no row matches /"+l.filter.Value())
	}
	return top + "\n" + l.table(cellCtx{st: st, now: now}, w, max(1, h-l.chrome()))
}

// table draws the column titles and the visible rows in h lines.
func (l *list[T]) table(c cellCtx, w, h int) string {
	st := c.st
	idx, ws := layout(l.cols, w)
	var b strings.Builder
	hdr := make([]string, len(idx))
	for j, i := range idx {
		hdr[j] = pad(l.cols[i].title, ws[j])
	}
	b.WriteString(st.Header.Render(fit(strings.Join(hdr, " "), w)))
	end := min(len(l.shown), l.offset+max(1, h-1))
	parts := make([]string, len(idx))
	lineW := len(ws) - 1 // cells are padded to their widths: a row is this wide
	for _, cw := range ws {
		lineW += cw
	}
	for r := l.offset; r < end; r++ {
		it := &l.items[l.shown[r]]
		for j, i := range idx {
			text, style := l.cols[i].cell(c, it)
			text = pad(text, ws[j])
			if r != l.cursor {
				text = style.Render(text)
			}
			parts[j] = text
		}
		line := strings.Join(parts, " ")
		if lineW > w {
			line = fit(line, w)
		}
		if r == l.cursor {
			line = st.Selected.Render(line)
		}
		b.WriteString("\n" + line)
	}
	return b.String()
}

// pad truncates or pads plain text s to exactly w cells.
func pad(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-sw)
}
