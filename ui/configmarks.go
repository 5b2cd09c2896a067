package ui

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The review's validation marks: a gutter of line numbers with a marker on
// every line an issue is at (✗ an error, ⚠ a warning only), and under that
// line each issue with a caret at its column. Issues of no line head the
// text; issues past its last line (the end of the input) follow it.

// gutterW is the width of the gutter: a marker, four digits, a space.
const gutterW = 6

// mark is one issue at a line.
type mark struct {
	err    bool
	column int
	text   string
}

// marks groups the issues of the last validation by line.
func (c *configEditor) marks() map[int][]mark {
	out := map[int][]mark{}
	if c.res == nil {
		return out
	}
	for _, is := range c.res.Errors {
		out[is.Line] = append(out[is.Line], mark{true, is.Column, issueText(is.Line, is.Column, is.Field, is.Message, "")})
	}
	for _, is := range c.res.Warnings {
		out[is.Line] = append(out[is.Line], mark{false, is.Column, issueText(is.Line, is.Column, is.Field, is.Message, is.Suggestion)})
	}
	return out
}

// gutter renders line n's gutter ("end" past the text) with its marker.
func gutter(st Styles, n string, ms []mark) string {
	sym, style := " ", st.Muted
	for _, m := range ms {
		switch {
		case m.err:
			sym, style = "✗", st.Error
		case sym == " ":
			sym, style = "⚠", st.Warn
		}
	}
	return style.Render(sym + fmt.Sprintf("%4s ", n))
}

// markLines renders the issues of one line, each with a caret at its
// column (kept within the left half of the body so the message shows).
func (c *configEditor) markLines(st Styles, ms []mark, caret bool) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		sym, style := "⚠ ", st.Warn
		if m.err {
			sym, style = "✗ ", st.Error
		}
		lead := strings.Repeat(" ", gutterW)
		if caret {
			lead += strings.Repeat(" ", min(max(0, m.column-1), max(0, c.w/2-gutterW))) + "^ "
		}
		out = append(out, lead+style.Render(sym+m.text))
	}
	return out
}

// markedText is the reviewed text with its gutter and marks.
func (c *configEditor) markedText(st Styles) []string {
	ms := c.marks()
	body := c.markLines(st, ms[0], false)
	for i, l := range c.lines {
		n := i + 1
		body = append(body, gutter(st, fmt.Sprint(n), ms[n])+l)
		body = append(body, c.markLines(st, ms[n], true)...)
	}
	var past []mark
	for _, n := range slices.Sorted(maps.Keys(ms)) {
		if n > len(c.lines) {
			past = append(past, ms[n]...)
		}
	}
	if len(past) > 0 {
		body = append(body, gutter(st, "end", past)+st.Muted.Render("(end of input)"))
		body = append(body, c.markLines(st, past, false)...)
	}
	return body
}

// firstMark is the scroll that shows the first line with an error, with
// two lines above it for context.
func (c *configEditor) firstMark() int {
	first := -1
	for _, is := range c.res.Errors {
		if is.Line > 0 && (first < 0 || is.Line < first) {
			first = is.Line
		}
	}
	if first < 0 {
		return 0
	}
	ms := c.marks()
	row := len(ms[0])
	for n := 1; n < first && n <= len(c.lines); n++ {
		row += 1 + len(ms[n])
	}
	return max(0, row-2)
}
