package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// column is one column of a table; width 0 takes the remaining space.
type column struct {
	title string
	width int
}

// table is a cursor over n rows that renders only the visible ones, so a
// list of 10,000 resources costs what a screenful costs.
type table struct {
	cols   []column
	n      int
	cursor int
	offset int
	height int // visible rows, set by the screen from its body size
}

// move handles the list keys; it reports whether msg was one.
func (t *table) move(keys KeyMap, msg tea.KeyPressMsg) bool {
	switch {
	case key.Matches(msg, keys.Up):
		t.cursor--
	case key.Matches(msg, keys.Down):
		t.cursor++
	case key.Matches(msg, keys.PageUp):
		t.cursor -= max(1, t.height)
	case key.Matches(msg, keys.PageDown):
		t.cursor += max(1, t.height)
	case key.Matches(msg, keys.Top):
		t.cursor = 0
	case key.Matches(msg, keys.Bottom):
		t.cursor = t.n - 1
	default:
		return false
	}
	t.clamp()
	return true
}

// setN sets the row count, keeping the cursor in range.
func (t *table) setN(n int) {
	t.n = n
	t.clamp()
}

func (t *table) setHeight(h int) {
	t.height = max(1, h)
	t.clamp()
}

func (t *table) clamp() {
	t.cursor = max(0, min(t.cursor, t.n-1))
	h := max(1, t.height)
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+h {
		t.offset = t.cursor - h + 1
	}
	t.offset = max(0, min(t.offset, t.n-h))
}

// widths resolves the column widths for a total width w.
func (t *table) widths(w int) []int {
	out := make([]int, len(t.cols))
	used := 0
	flex := -1
	for i, c := range t.cols {
		out[i] = c.width
		if c.width == 0 {
			flex = i
		}
		used += c.width + 1
	}
	if flex >= 0 {
		out[flex] = max(4, w-used)
	}
	return out
}

// render draws the header and the visible rows at w×h. cell returns the
// plain text of a cell and the style to draw it with.
func (t *table) render(st Styles, w, h int, cell func(row, col int) (string, lipgloss.Style)) string {
	ws := t.widths(w)
	var b strings.Builder
	hdr := make([]string, len(t.cols))
	for i, c := range t.cols {
		hdr[i] = pad(c.title, ws[i])
	}
	b.WriteString(st.Header.Render(fit(strings.Join(hdr, " "), w)))
	rows := max(1, h-1)
	end := min(t.n, t.offset+rows)
	for r := t.offset; r < end; r++ {
		b.WriteByte('\n')
		parts := make([]string, len(t.cols))
		for c := range t.cols {
			text, style := cell(r, c)
			text = pad(text, ws[c])
			if r == t.cursor {
				parts[c] = text
			} else {
				parts[c] = style.Render(text)
			}
		}
		line := strings.Join(parts, " ")
		if r == t.cursor {
			line = st.Selected.Render(fit(line, w))
		}
		b.WriteString(line)
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
