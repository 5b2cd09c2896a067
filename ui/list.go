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

// column is one column of a list of T. A column is as wide as its widest
// cell (or its title); when the row is wider than the body, squeezable
// columns give up width first and then the least important columns drop,
// so names and statuses stay whole and paths and messages are cut.
type column[T any] struct {
	title string
	// prio 0 is essential and never dropped; 1, 2, 3… are less and less
	// important: on a narrow terminal the highest number drops first.
	prio int
	// squeeze lets the column narrow (down to minSqueeze or its title)
	// before any column drops: paths, messages, images.
	squeeze bool
	// keepEnd cuts a long cell at its start, so its end (a tag) stays.
	keepEnd bool
	// cell returns the plain text of the item's cell and its style.
	cell func(c cellCtx, it *T) (string, lipgloss.Style)
}

// cellCtx is what a cell reads while it is drawn (or measured, with
// unset styles).
type cellCtx struct {
	st  *Styles
	now time.Time
}

// noStyles are the styles cells are measured with.
var noStyles Styles

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
	// now is the clock cells are measured with (time.Now when nil).
	now func() time.Time
	// keep, when set, is a filter beyond `/` (a screen's quick filters):
	// only rows it keeps are shown, and a changed row is filtered again.
	keep func(*T) bool
}

// minSqueeze is the least width a squeezable column narrows to.
const minSqueeze = 8

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
	nat    []int    // each column's content width over every item
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
	fi.Placeholder = hint("type to filter")
	fi.SetWidth(24)
	return list[T]{listSpec: spec, ld: ld, filter: fi, index: map[string]int{}, w: 80, h: 20}
}

// setRows replaces the rows.
func (l *list[T]) setRows(items []T) {
	cur := l.currentID()
	l.items = items
	l.keys = make([]string, len(items))
	l.index = make(map[string]int, len(items))
	l.nat = make([]int, len(l.cols))
	for j, c := range l.cols {
		l.nat[j] = ansi.StringWidth(c.title)
	}
	c := l.measuring()
	for i := range items {
		l.keys[i] = l.searchKey(&items[i])
		if l.ident != nil {
			l.index[l.ident(&items[i])] = i
		}
		l.measure(c, &items[i])
	}
	l.refilterAt(cur)
}

// currentID is the identity of the selected row ("" for none).
func (l *list[T]) currentID() string {
	if it := l.current(); it != nil && l.ident != nil {
		return l.ident(it)
	}
	return ""
}

// measuring is the context cells are measured in.
func (l *list[T]) measuring() cellCtx {
	c := cellCtx{st: &noStyles, now: time.Now()}
	if l.now != nil {
		c.now = l.now()
	}
	return c
}

// measure widens the columns to fit the item's cells.
func (l *list[T]) measure(c cellCtx, it *T) {
	for j := range l.cols {
		text, _ := l.cols[j].cell(c, it)
		if len(text) > l.nat[j] { // a cell is never wider than its bytes
			l.nat[j] = max(l.nat[j], cellWidth(text))
		}
	}
}

// cellWidth is the width of plain text: its length when it is ASCII.
func cellWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
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
	l.measure(l.measuring(), &l.items[i])
	if l.filterText() != "" || l.sortBy != 0 || l.keep != nil {
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
func (l *list[T]) refilter() { l.refilterAt(l.currentID()) }

// refilterAt is refilter keeping the cursor on the row with identity cur.
func (l *list[T]) refilterAt(cur string) {
	q := l.filterText()
	shown := l.shown[:0]
	for i, k := range l.keys {
		if (q == "" || strings.Contains(k, q)) && (l.keep == nil || l.keep(&l.items[i])) {
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

// chrome counts the lines above the table: heading, sub line, error lines.
func (l *list[T]) chrome() int {
	n := 1
	if l.sub != "" {
		n++
	}
	if l.ld != nil && l.ld.err != nil {
		n += len(errLines(Styles{}, l.ld.err, l.w, listErrLines))
	}
	return n
}

// listErrLines is how many lines a list's load error may wrap to.
const listErrLines = 3

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

// layout picks the columns that fit in w and their widths: each column
// is as wide as its content (nat). While the row is too wide, the least
// important column (highest prio, then the rightmost) gives way: a
// squeezable one narrows first, down to its least width, and then it is
// dropped, unless it is essential (prio 0); the rest is laid out again
// from their content widths.
func layout[T any](cols []column[T], nat []int, w int) (idx, widths []int) {
	idx = make([]int, len(cols))
	for i := range cols {
		idx[i] = i
	}
	for {
		widths = make([]int, len(idx))
		// Every column is followed by one space: the last cell of a line
		// stays empty, so no terminal wraps it.
		over := len(idx) - w
		for j, i := range idx {
			widths[j] = nat[i]
			over += nat[i]
		}
		drop := giveWay(cols, idx, widths, over)
		if drop < 0 {
			return idx, widths
		}
		idx = append(idx[:drop:drop], idx[drop+1:]...)
	}
}

// giveWay narrows the columns, least important first, by over cells; it
// returns the column to drop when narrowing is not enough (-1 when the
// row fits or nothing can drop).
func giveWay[T any](cols []column[T], idx, widths []int, over int) int {
	order := make([]int, len(idx))
	for j := range order {
		order[j] = len(idx) - 1 - j
	}
	sort.SliceStable(order, func(a, b int) bool { return cols[idx[order[a]]].prio > cols[idx[order[b]]].prio })
	for _, j := range order {
		if over <= 0 {
			return -1
		}
		c := cols[idx[j]]
		if c.squeeze {
			cut := min(over, max(0, widths[j]-max(minSqueeze, ansi.StringWidth(c.title))))
			widths[j] -= cut
			over -= cut
		}
		if over > 0 && c.prio > 0 {
			return j
		}
	}
	return -1
}

// heading renders the heading line: the noun with the count, the sort,
// suffix and the filter.
func (l *list[T]) heading(st Styles, suffix string) string {
	head := fmt.Sprintf("%s (%d", l.noun, len(l.shown))
	if len(l.shown) != len(l.items) || l.filter.Value() != "" {
		head += fmt.Sprintf(" of %d", len(l.items))
	}
	if l.filter.Value() != "" && !l.filtering {
		head += ", filtered /" + l.filter.Value()
	}
	head = st.Header.Render(head + ")")
	if len(l.sorts) > 0 {
		head += st.Muted.Render("  sort: " + l.sorts[l.sortBy].name)
	}
	head += suffix
	switch {
	case l.filtering:
		head += "  " + l.filter.View()
	case l.filter.Value() != "":
		head += st.Muted.Render("  esc clears the filter")
	}
	return head
}

// filterNote is what a screen's title adds while a filter is applied.
func (l *list[T]) filterNote() string {
	if v := l.filter.Value(); v != "" {
		return " /" + v
	}
	return ""
}

// clearFilter drops an applied filter; it reports whether there was one
// (then esc clears the filter instead of going back).
func (l *list[T]) clearFilter() bool {
	if l.filter.Value() == "" || l.filtering {
		return false
	}
	l.filter.SetValue("")
	l.refilter()
	return true
}

// top renders the heading, the sub line and the error line.
func (l *list[T]) top(st Styles, w int, suffix string) string {
	lines := []string{fit(l.heading(st, suffix), w)}
	if l.sub != "" {
		lines = append(lines, fit(st.Muted.Render(l.sub), w))
	}
	if l.ld != nil && l.ld.err != nil {
		lines = append(lines, errLines(st, l.ld.err, w, listErrLines)...)
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
	return top + "\n" + l.table(cellCtx{st: &st, now: now}, w, max(1, h-l.chrome()))
}

// table draws the column titles and the visible rows in h lines.
func (l *list[T]) table(c cellCtx, w, h int) string {
	st := c.st
	idx, ws := layout(l.cols, l.nat, w)
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
			if l.cols[i].keepEnd {
				text = padLeftCut(text, ws[j])
			} else {
				text = pad(text, ws[j])
			}
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

// padLeftCut is pad that cuts the start of a long s, keeping its end.
func padLeftCut(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return "…" + ansi.TruncateLeft(s, sw-w+1, "")
	}
	return s + strings.Repeat(" ", w-sw)
}
