package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/gitopstui/gitopstui/model"
)

// The root's chrome around the body: the footer of key hints, the full
// help, the error line and the switch between top-level views.

// switchMsg makes s the only screen: the top-level views (clusters,
// projects, resources, deployments) replace the stack instead of stacking,
// as k9s does.
type switchMsg struct{ s screen }

func switchTo(s screen) tea.Cmd { return func() tea.Msg { return switchMsg{s} } }

// reloadMsg asks screen to to load its data again (after an action
// elsewhere changed it).
type reloadMsg struct{ to int }

func (r reloadMsg) target() int { return r.to }

// reload asks screen to to load its data again.
func reload(to int) tea.Cmd { return func() tea.Msg { return reloadMsg{to} } }

// replaceTop swaps the top n screens for s.
func replaceTop(s screen, n int) tea.Cmd { return func() tea.Msg { return replaceMsg{s: s, n: n} } }

// escaper is implemented by screens that use esc themselves before it goes
// back (a list clears its applied filter); esc reports whether it did.
type escaper interface{ esc() bool }

// topLevel returns the top-level view a jump key names (nil for none).
func (m Model) topLevel(msg tea.KeyPressMsg) screen {
	k := m.s.keys
	switch {
	case key.Matches(msg, k.Clusters):
		return newClusters(m.s)
	case key.Matches(msg, k.Projects):
		return newProjects(m.s)
	case key.Matches(msg, k.Resources):
		return newResources(m.s, scopeFrom(m.stack), "", "")
	case key.Matches(msg, k.Deployments):
		sc := scopeFrom(m.stack)
		return newDeployments(m.s, sc.projectID, sc.envID)
	case key.Matches(msg, k.Fleet):
		return newFleet(m.s)
	}
	return nil
}

// uniqueKeys drops the bindings whose key was listed before (seen is
// updated), so no key shows twice.
func uniqueKeys(seen map[string]bool, bs []key.Binding) []key.Binding {
	out := make([]key.Binding, 0, len(bs))
	for _, b := range bs {
		k := b.Help().Key
		if k == "" || seen[k] || !b.Enabled() {
			continue
		}
		seen[k] = true
		out = append(out, b)
	}
	return out
}

// navHelp are the cursor keys of a screen that moves with ↑/↓.
func (k KeyMap) navHelp(bs []key.Binding) []key.Binding {
	for _, b := range bs {
		if b.Help().Key == k.Up.Help().Key {
			return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
		}
	}
	return nil
}

// footer renders the key hints in the width: the screen's keys that fit,
// in order (but the cursor keys, which help lists), then esc and q when
// they fit, and always `:` and `?` (unless
// the screen takes typed text, when they would be typed).
func (m Model) footer(bindings []key.Binding) string {
	k := m.s.keys
	st := m.help.Styles
	sep := st.ShortSeparator.Render(" • ")
	item := func(b key.Binding) string {
		return st.ShortKey.Render(b.Help().Key) + " " + st.ShortDesc.Render(b.Help().Desc)
	}
	// The cursor keys are in the full help; the footer names the actions.
	seen := map[string]bool{k.Up.Help().Key: true, k.Down.Help().Key: true}
	// While text entry has the keyboard, `:` and `?` are typed: only the
	// screen's keys are offered.
	var fixed []key.Binding
	if !m.top().capturing() {
		fixed = uniqueKeys(seen, []key.Binding{k.Palette, k.Help})
	}
	tail := make([]string, 0, len(fixed))
	for _, b := range fixed {
		tail = append(tail, item(b))
	}
	end := strings.Join(tail, sep)
	room := m.width - ansi.StringWidth(end) - ansi.StringWidth(sep) - 1
	var extra []key.Binding
	if len(m.stack) > 1 {
		extra = append(extra, k.Back)
	}
	if !m.top().capturing() {
		extra = append(extra, k.Quit)
	}
	parts := []string{}
	used := 0
	for _, b := range uniqueKeys(seen, append(append([]key.Binding(nil), bindings...), extra...)) {
		w := ansi.StringWidth(item(b)) + ansi.StringWidth(sep)
		if used+w > room {
			break
		}
		used += w
		parts = append(parts, item(b))
	}
	if end != "" {
		parts = append(parts, end)
	}
	return strings.Join(parts, sep)
}

// fullHelp lists every key of the screen once: its own, the cursor keys,
// the global ones and the jumps.
func (m Model) fullHelp(w, h int) string {
	k := m.s.keys
	own := m.top().bindings()
	seen := map[string]bool{}
	var groups [][]key.Binding
	for _, g := range [][]key.Binding{own, k.navHelp(own), k.globalHelp(), k.jumpHelp()} {
		if g = uniqueKeys(seen, g); len(g) > 0 {
			groups = append(groups, g)
		}
	}
	hm := m.help
	hm.ShowAll = true
	out := m.s.styles.Header.Render("Keys: "+m.top().title()) + "\n\n" + hm.FullHelpView(groups)
	return clipLines(out, w, h)
}

// errorLine is the one-line error surface; a cut error says enter opens it.
func (m Model) errorLine(st Styles, e *model.Error) string {
	if !errMore(st, e, m.width) {
		return errLine(st, e)
	}
	hint := st.Muted.Render("  enter: full error")
	return fit(errLine(st, e), m.width-lipgloss.Width(hint)) + hint
}
