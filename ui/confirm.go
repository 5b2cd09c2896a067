package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/gitopstui/gitopstui/model"
)

// Confirmations: a yes/no dialog for actions that can be undone (suspend,
// resume), and the typed-name screen for destructive ones (every delete,
// from a list or from the palette, and uninstalling Flux).

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

// deleteSpec declares a destructive action and its confirmation.
type deleteSpec struct {
	// what names the record ("project shop"); name is what to type.
	what, name string
	// note says what the action does and what stays.
	note string
	// force, when set, is offered as a box tab toggles.
	force string
	// run makes the call for screen to; done takes its successful result.
	run  func(force bool, to int) tea.Cmd
	done func(msg tea.Msg) tea.Cmd
}

// deleteScreen asks for the record's name before a destructive call.
type deleteScreen struct {
	base
	spec  deleteSpec
	in    textinput.Model
	force bool
}

func newDelete(s *session, spec deleteSpec) *deleteScreen {
	ti := newInput()
	ti.Prompt = "> "
	ti.Placeholder = hint("type " + spec.name)
	ti.CharLimit = 256
	ti.SetWidth(max(24, len(spec.name)+8))
	ti.Focus()
	return &deleteScreen{base: newBase(s), spec: spec, in: ti}
}

func (d *deleteScreen) title() string   { return "Delete " + d.spec.what }
func (d *deleteScreen) init() tea.Cmd   { return nil }
func (d *deleteScreen) capturing() bool { return true }
func (d *deleteScreen) bindings() []key.Binding {
	k := d.s.keys
	bs := []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "delete"))}
	if d.spec.force != "" {
		bs = append(bs, key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "toggle "+d.spec.force)))
	}
	return append(bs, k.Cancel)
}

func (d *deleteScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if d.resize(msg) {
		return d, nil
	}
	if t, ok := msg.(targeted); ok && t.target() == d.sid {
		if cmd := d.acted(resultErr(msg)); cmd != nil {
			return d, cmd
		}
		return d, d.spec.done(msg)
	}
	km, ok := msg.(tea.KeyPressMsg)
	if ok && km.String() == "esc" {
		return d, pop("")
	}
	if d.working != "" {
		return d, nil
	}
	if ok {
		switch km.String() {
		case "tab":
			d.force = !d.force && d.spec.force != ""
			return d, nil
		case "enter":
			if strings.TrimSpace(d.in.Value()) != d.spec.name {
				return d, fail(badRequest(map[string]string{"confirmation": fmt.Sprintf("type %q to delete %s", d.spec.name, d.spec.what)}))
			}
			d.working = "deleting " + d.spec.what
			return d, d.spec.run(d.force, d.sid)
		}
	}
	var cmd tea.Cmd
	d.in, cmd = d.in.Update(msg)
	return d, cmd
}

func (d *deleteScreen) view(w, h int) string {
	st := d.s.styles
	var b strings.Builder
	b.WriteString(st.Error.Render("Delete "+d.spec.what) + "\n\n")
	if d.spec.note != "" {
		b.WriteString(ansi.Wrap(d.spec.note, max(20, w-1), " ") + "\n")
	}
	if d.spec.force != "" {
		box := "[ ]"
		if d.force {
			box = "[x]"
		}
		b.WriteString(strings.ToUpper(d.spec.force[:1]) + d.spec.force[1:] + ": " + box + st.Muted.Render("  (tab)") + "\n")
	}
	b.WriteString("\n" + fmt.Sprintf("Type %s to confirm:", st.Header.Render(d.spec.name)) + "\n")
	b.WriteString(d.in.View() + "\n")
	if d.working != "" {
		b.WriteString("\n" + st.Warn.Render(d.working+"…"))
	} else {
		b.WriteString("\n" + st.Muted.Render("enter deletes · esc cancels"))
	}
	return clipLines(b.String(), w, h)
}

// deleted is the done of a list's delete: back to the list, which loads
// again, with a notice.
func deleted(what string, list int) func(tea.Msg) tea.Cmd {
	return func(tea.Msg) tea.Cmd {
		return tea.Batch(pop("deleted "+what), reload(list))
	}
}

// errNone is the error of a key that needs a selected row.
func errNone(what string) tea.Cmd {
	return fail(model.Errorf(model.CodeBadRequest, "select a %s first", what))
}
