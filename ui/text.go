package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// textScreen shows a block of text (a result), scrollable; with lang set
// the text is highlighted when it is set, not while it is drawn.
type textScreen struct {
	base
	name   string
	text   string
	lang   string
	lines  []string // the text as drawn
	scroll int
	// reserve counts the body lines drawn above the text (a header).
	reserve int
}

func newTextScreen(s *session, name, lang, text string) *textScreen {
	t := &textScreen{base: newBase(s), name: name, lang: lang}
	t.setText(text)
	return t
}

func (t *textScreen) title() string { return t.name }
func (t *textScreen) init() tea.Cmd { return nil }
func (t *textScreen) bindings() []key.Binding {
	k := t.s.keys
	return []key.Binding{k.Up, k.Down, k.PageDown}
}

// setText sets the text and the lines it is drawn as.
func (t *textScreen) setText(text string) {
	t.text = text
	if t.lang != "" {
		t.lines = t.s.hl.lines(t.lang, text)
	} else {
		t.lines = strings.Split(strings.TrimRight(text, "\n"), "\n")
	}
}

func (t *textScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if t.resize(msg) {
		return t, nil
	}
	switch msg := msg.(type) {
	case themeMsg:
		t.setText(t.text)
	case tea.KeyPressMsg:
		t.scroll = scrollBy(t.s.keys, msg, t.scroll, len(t.lines), max(1, t.h-t.reserve))
	}
	return t, nil
}

func (t *textScreen) view(w, h int) string {
	return window(t.lines, t.scroll, w, h)
}

// diffScreen is a header over a highlighted diff.
type diffScreen struct {
	textScreen
	head string
}

func newDiffScreen(s *session, name, head, diff string) *diffScreen {
	d := &diffScreen{textScreen: *newTextScreen(s, name, "diff", diff), head: strings.TrimRight(head, "\n")}
	d.reserve = strings.Count(d.head, "\n") + 2
	return d
}

func (d *diffScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	_, cmd := d.textScreen.update(msg)
	return d, cmd
}

func (d *diffScreen) view(w, h int) string {
	if strings.TrimSpace(d.text) == "" {
		return clipLines(d.head+"\n\n"+d.s.styles.Muted.Render("no diff recorded"), w, h)
	}
	return clipLines(d.head, w, h) + "\n\n" + d.textScreen.view(w, max(1, h-d.reserve))
}

// scrollBy moves a scroll offset by the list keys over total lines shown h
// at a time, and keeps it where the last line stays in view.
func scrollBy(k KeyMap, km tea.KeyPressMsg, scroll, total, h int) int {
	switch {
	case key.Matches(km, k.Up):
		scroll--
	case key.Matches(km, k.Down):
		scroll++
	case key.Matches(km, k.PageUp):
		scroll -= max(1, h-1)
	case key.Matches(km, k.PageDown):
		scroll += max(1, h-1)
	case key.Matches(km, k.Top):
		scroll = 0
	case key.Matches(km, k.Bottom):
		scroll = total
	}
	return clampScroll(scroll, total, h)
}

func clampScroll(scroll, total, h int) int {
	return max(0, min(scroll, total-h))
}

// window returns the h lines of lines from scroll (clamped for drawing,
// not stored), each fit to w.
func window(lines []string, scroll, w, h int) string {
	scroll = clampScroll(scroll, len(lines), h)
	end := min(len(lines), scroll+h)
	out := make([]string, 0, h)
	for _, l := range lines[scroll:end] {
		out = append(out, fit(l, w))
	}
	return strings.Join(out, "\n")
}
