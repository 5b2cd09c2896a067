package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

type fieldKind int

const (
	textField fieldKind = iota
	boolField
	choiceField
)

// field is one input of a form.
type field struct {
	key      string
	label    string
	kind     fieldKind
	input    textinput.Model
	on       bool
	choices  []string
	choice   int
	required bool
	hint     string
	// check returns a problem with the value ("" when fine); it runs as you type.
	check func(string) string
}

// form is a column of fields with validation as you type.
type form struct {
	fields []field
	focus  int
}

func textIn(key, label, value, hint string, check func(string) string) field {
	ti := newInput()
	ti.Prompt = ""
	ti.SetValue(value)
	ti.Placeholder = hint
	ti.CharLimit = 4096
	return field{key: key, label: label, kind: textField, input: ti, check: check, hint: hint}
}

func boolIn(key, label string, on bool) field {
	return field{key: key, label: label, kind: boolField, on: on}
}

func choiceIn(key, label string, choices []string, cur string) field {
	f := field{key: key, label: label, kind: choiceField, choices: choices}
	for i, c := range choices {
		if c == cur {
			f.choice = i
		}
	}
	return f
}

func newForm(fields ...field) form {
	f := form{fields: append([]field(nil), fields...)}
	f.setFocus(0)
	return f
}

func (f *form) setFocus(i int) {
	if len(f.fields) == 0 {
		return
	}
	f.focus = (i + len(f.fields)) % len(f.fields)
	for j := range f.fields {
		if f.fields[j].kind != textField {
			continue
		}
		if j == f.focus {
			f.fields[j].input.Focus()
		} else {
			f.fields[j].input.Blur()
		}
	}
}

// value returns a text or choice field's value.
func (f *form) value(key string) string {
	for _, fl := range f.fields {
		if fl.key == key {
			switch fl.kind {
			case textField:
				return strings.TrimSpace(fl.input.Value())
			case choiceField:
				return fl.choices[fl.choice]
			case boolField:
				if fl.on {
					return "true"
				}
				return "false"
			}
		}
	}
	return ""
}

// set changes a text field's value.
func (f *form) set(key, v string) {
	for i := range f.fields {
		if f.fields[i].key == key {
			f.fields[i].input.SetValue(v)
		}
	}
}

func (f *form) flag(key string) bool { return f.value(key) == "true" }

// problems returns every field's current problem.
func (f *form) problems() map[string]string {
	out := map[string]string{}
	for _, fl := range f.fields {
		if fl.kind != textField {
			continue
		}
		v := strings.TrimSpace(fl.input.Value())
		if fl.required && v == "" {
			out[fl.key] = "required"
		} else if fl.check != nil {
			if p := fl.check(v); p != "" {
				out[fl.key] = p
			}
		}
	}
	return out
}

func (f *form) valid() bool { return len(f.problems()) == 0 }

// update handles navigation and editing; submit reports enter on the last
// field or ctrl+s.
func (f *form) update(keys KeyMap, msg tea.Msg) (cmd tea.Cmd, submit bool) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		if len(f.fields) > 0 && f.fields[f.focus].kind == textField {
			f.fields[f.focus].input, cmd = f.fields[f.focus].input.Update(msg)
		}
		return cmd, false
	}
	cur := &f.fields[f.focus]
	switch {
	case key.Matches(km, keys.Submit):
		return nil, true
	case km.String() == "enter":
		if f.focus == len(f.fields)-1 {
			return nil, true
		}
		f.setFocus(f.focus + 1)
		return nil, false
	case key.Matches(km, keys.Next):
		f.setFocus(f.focus + 1)
		return nil, false
	case key.Matches(km, keys.Prev):
		f.setFocus(f.focus - 1)
		return nil, false
	}
	switch cur.kind {
	case boolField:
		if km.String() == "space" || km.String() == "x" || km.String() == "left" || km.String() == "right" {
			cur.on = !cur.on
		}
	case choiceField:
		switch km.String() {
		case "space", "right", "l":
			cur.choice = (cur.choice + 1) % len(cur.choices)
		case "left", "h":
			cur.choice = (cur.choice + len(cur.choices) - 1) % len(cur.choices)
		}
	default:
		cur.input, cmd = cur.input.Update(msg)
	}
	return cmd, false
}

// view renders the form at width w.
func (f *form) view(st Styles, w int) string {
	labelW := 4
	for _, fl := range f.fields {
		labelW = max(labelW, len(fl.label))
	}
	labelW = min(labelW, 22)
	probs := f.problems()
	var b strings.Builder
	for i, fl := range f.fields {
		mark := "  "
		lab := st.Label.Render(pad(fl.label, labelW))
		if i == f.focus {
			mark = st.Focused.Render("▸ ")
			lab = st.Focused.Render(pad(fl.label, labelW))
		}
		var val string
		switch fl.kind {
		case boolField:
			box := "[ ]"
			if fl.on {
				box = "[x]"
			}
			val = box
		case choiceField:
			parts := make([]string, len(fl.choices))
			for j, c := range fl.choices {
				if j == fl.choice {
					parts[j] = st.Focused.Render("(•) " + c)
				} else {
					parts[j] = st.Muted.Render("( ) " + c)
				}
			}
			val = strings.Join(parts, "  ")
		default:
			in := fl.input
			in.SetWidth(max(8, w-labelW-6))
			val = in.View()
		}
		b.WriteString(fit(mark+lab+"  "+val, w) + "\n")
		if p, bad := probs[fl.key]; bad && (fl.input.Value() != "" || i < f.focus) {
			b.WriteString(fit(strings.Repeat(" ", labelW+4)+st.Error.Render("✗ "+p), w) + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// formBindings are the keys of a form.
func formBindings(k KeyMap) []key.Binding {
	return []key.Binding{k.Next, k.Prev, k.Toggle, k.Submit, k.Cancel}
}

// formScreen is a screen holding one form whose submit makes a call.
type formScreen struct {
	base
	name   string
	intro  string
	f      form
	submit func(f *form, to int) tea.Cmd
	// done handles the call's result (a targeted message without error).
	done func(msg tea.Msg) tea.Cmd
	// extra checks the whole form before submit ("" when fine).
	extra string
}

func newFormScreen(s *session, name, intro string, f form, submit func(f *form, to int) tea.Cmd, done func(tea.Msg) tea.Cmd) *formScreen {
	return &formScreen{base: newBase(s), name: name, intro: intro, f: f, submit: submit, done: done}
}

func (fs *formScreen) title() string           { return fs.name }
func (fs *formScreen) init() tea.Cmd           { return nil }
func (fs *formScreen) capturing() bool         { return true }
func (fs *formScreen) bindings() []key.Binding { return formBindings(fs.s.keys) }

func (fs *formScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if fs.resize(msg) {
		return fs, nil
	}
	if t, ok := msg.(targeted); ok && t.target() == fs.sid {
		fs.working = ""
		if err := resultErr(msg); err != nil {
			return fs, fail(err)
		}
		return fs, fs.done(msg)
	}
	if km, ok := msg.(tea.KeyPressMsg); ok && key.Matches(km, fs.s.keys.Cancel) {
		return fs, pop("")
	}
	if fs.working != "" {
		return fs, nil
	}
	cmd, submit := fs.f.update(fs.s.keys, msg)
	if submit {
		if !fs.f.valid() {
			return fs, fail(badRequest(fs.f.problems()))
		}
		fs.working = fs.name + "…"
		return fs, fs.submit(&fs.f, fs.sid)
	}
	return fs, cmd
}

func (fs *formScreen) view(w, h int) string {
	st := fs.s.styles
	var b strings.Builder
	b.WriteString(st.Header.Render(fs.name) + "\n")
	if fs.intro != "" {
		b.WriteString(st.Muted.Render(fs.intro) + "\n")
	}
	b.WriteString("\n" + fs.f.view(st, w) + "\n\n")
	if fs.working != "" {
		b.WriteString(st.Warn.Render(fs.working))
	} else {
		b.WriteString(st.Muted.Render("enter on the last field or ctrl+s submits · esc cancels"))
	}
	return clipLines(b.String(), w, h)
}

// newInput is a text input with a steady cursor: no blink timer re-renders
// the screen twice a second, and tests can run every command.
func newInput() textinput.Model {
	ti := textinput.New()
	st := ti.Styles()
	st.Cursor.Blink = false
	ti.SetStyles(st)
	return ti
}
