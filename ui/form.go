package ui

import (
	"sort"
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
	// pickField chooses a record by name and sends its id (picker.go).
	pickField
)

// unset is the choice that leaves an optional field out of the input.
const unset = "unset"

// field is one input of a form; forms are generated from the contract's
// field declarations (formgen.go).
type field struct {
	// key is the field's dotted JSON path in the procedure's input; path
	// is the same split (nil for a field that is not part of the input).
	key      string
	path     []string
	label    string
	kind     fieldKind
	typ      string // the contract's type name ("string", "integer", "[]string", …)
	input    textinput.Model
	on       bool
	omitOff  bool // an unticked box is left out of the input
	choices  []string
	choice   int
	pick     *picker
	required bool
	// check returns a problem with the text ("" when fine); parse turns the
	// text into the input's JSON value (default: by the field's type).
	check func(string) string
	parse func(string) (any, error)
}

// form is a column of fields with validation as you type: each field's own
// check, its type, and the contract's checks of the whole input (verify).
type form struct {
	fields []field
	focus  int
	labelW int
	// verify returns the contract's problems with the form's input by key.
	verify func(f *form) map[string]string
	// probs are the problems by field key, general the ones about several
	// fields; both are recomputed on every change.
	probs   map[string]string
	general []string
	// tried is set by a refused submit: then every problem shows.
	tried bool
}

func newForm(fields ...field) form {
	f := form{fields: append([]field(nil), fields...), labelW: 4}
	for _, fl := range f.fields {
		f.labelW = max(f.labelW, len(fl.label))
	}
	f.labelW = min(f.labelW, 22)
	f.setFocus(0)
	f.setWidth(80)
	f.recheck()
	return f
}

func (f *form) setFocus(i int) {
	if len(f.fields) == 0 {
		return
	}
	f.focus = (i + len(f.fields)) % len(f.fields)
	for j := range f.fields {
		in := &f.fields[j].input
		switch f.fields[j].kind {
		case pickField:
			in = &f.fields[j].pick.query
		case textField:
		default:
			continue
		}
		if j == f.focus {
			in.Focus()
		} else {
			in.Blur()
		}
	}
}

// setWidth fits the text inputs to a body w cells wide.
func (f *form) setWidth(w int) {
	for i := range f.fields {
		f.fields[i].input.SetWidth(max(8, w-f.labelW-6))
	}
}

// value returns a field's value as text: the trimmed text, the choice, or
// "true"/"false" for a box.
func (f *form) value(key string) string {
	for _, fl := range f.fields {
		if fl.key == key {
			return fl.text()
		}
	}
	return ""
}

func (fl *field) text() string {
	switch fl.kind {
	case pickField:
		return fl.pick.value()
	case choiceField:
		return fl.choices[fl.choice]
	case boolField:
		if fl.on {
			return "true"
		}
		return "false"
	}
	return strings.TrimSpace(fl.input.Value())
}

// problem is the field's own problem ("" when fine).
func (fl *field) problem() string {
	if fl.kind == pickField {
		switch {
		case fl.pick.value() != "":
			return ""
		case len(fl.pick.opts) > 0 && fl.pick.query.Value() != "":
			return "no " + string(fl.pick.kind) + " matches " + fl.pick.query.Value()
		case fl.required && fl.pick.loaded:
			return "required"
		case fl.required:
			return "loading"
		}
		return ""
	}
	if fl.kind != textField {
		return ""
	}
	v := fl.text()
	switch {
	case v == "" && fl.required:
		return "required"
	case fl.check != nil:
		if p := fl.check(v); p != "" {
			return p
		}
	}
	if v == "" || fl.path == nil {
		return ""
	}
	if _, err := fl.jsonValue(v); err != nil {
		return err.Error()
	}
	return ""
}

// recheck recomputes the problems after a change.
func (f *form) recheck() {
	f.link()
	f.probs, f.general = map[string]string{}, nil
	for i := range f.fields {
		if p := f.fields[i].problem(); p != "" {
			f.probs[f.fields[i].key] = p
		}
	}
	if f.verify == nil {
		return
	}
	for k, p := range f.verify(f) {
		switch {
		case f.has(k):
			if _, ok := f.probs[k]; !ok {
				f.probs[k] = p
			}
		case k == "" || f.under(k):
			f.general = append(f.general, strings.TrimPrefix(k+": ", ": ")+p)
		}
		// Other problems concern what the screen fills in: the server has
		// the last word on those.
	}
	sort.Strings(f.general)
}

// link narrows the pickers to the form's chosen project and environment.
func (f *form) link() {
	var project, env *string
	for _, fl := range f.fields {
		if fl.kind == pickField && fl.pick.kind == pickProject {
			v := fl.pick.value()
			project = &v
		}
		if fl.kind == pickField && fl.pick.kind == pickEnv {
			v := fl.pick.value()
			env = &v
		}
	}
	for _, fl := range f.fields {
		if fl.kind != pickField {
			continue
		}
		if project != nil && fl.pick.kind != pickProject {
			fl.pick.project = *project
		}
		if env != nil && fl.pick.kind == pickResource {
			fl.pick.env = *env
		}
	}
}

// loads lists the records of the form's pickers, one call per kind.
func (f *form) loads(s *session, to int) tea.Cmd {
	seen := map[pickKind]bool{}
	var cmds []tea.Cmd
	for _, fl := range f.fields {
		if fl.kind == pickField && !seen[fl.pick.kind] {
			seen[fl.pick.kind] = true
			cmds = append(cmds, loadOptions(s, to, fl.pick.kind))
		}
	}
	return tea.Batch(cmds...)
}

// setOptions gives the loaded options to the pickers of their kind.
func (f *form) setOptions(msg optionsMsg) {
	for _, fl := range f.fields {
		if fl.kind == pickField && fl.pick.kind == msg.kind {
			fl.pick.set(msg)
		}
	}
	f.recheck()
}

// picked returns the name chosen in the picker of key ("" when none).
func (f *form) picked(key string) string {
	for _, fl := range f.fields {
		if fl.key == key && fl.kind == pickField {
			return fl.pick.label()
		}
	}
	return ""
}

// has reports a field with key k; under reports fields inside object k.
func (f *form) has(k string) bool {
	for _, fl := range f.fields {
		if fl.key == k {
			return true
		}
	}
	return false
}

func (f *form) under(k string) bool {
	for _, fl := range f.fields {
		if strings.HasPrefix(fl.key, k+".") {
			return true
		}
	}
	return false
}

// problems returns every current problem, by key.
func (f *form) problems() map[string]string {
	out := make(map[string]string, len(f.probs)+len(f.general))
	for k, v := range f.probs {
		out[k] = v
	}
	if len(f.general) > 0 {
		out["(form)"] = strings.Join(f.general, "; ")
	}
	return out
}

func (f *form) valid() bool { return len(f.probs) == 0 && len(f.general) == 0 }

// update handles navigation and editing; submit reports enter on the last
// field or ctrl+s.
func (f *form) update(keys KeyMap, msg tea.Msg) (cmd tea.Cmd, submit bool) {
	defer f.recheck()
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		if len(f.fields) > 0 && f.fields[f.focus].kind == textField {
			f.fields[f.focus].input, cmd = f.fields[f.focus].input.Update(msg)
		}
		return cmd, false
	}
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
	return f.fields[f.focus].edit(km), false
}

// edit applies a key to the field.
func (fl *field) edit(km tea.KeyPressMsg) tea.Cmd {
	switch fl.kind {
	case pickField:
		return fl.pick.key(km)
	case boolField:
		switch km.String() {
		case "space", "x", "left", "right":
			fl.on = !fl.on
		}
	case choiceField:
		switch km.String() {
		case "space", "right", "l":
			fl.choice = (fl.choice + 1) % len(fl.choices)
		case "left", "h":
			fl.choice = (fl.choice + len(fl.choices) - 1) % len(fl.choices)
		}
	default:
		var cmd tea.Cmd
		fl.input, cmd = fl.input.Update(km)
		return cmd
	}
	return nil
}

// view renders the form at width w.
func (f *form) view(st Styles, w int) string {
	var b strings.Builder
	for i, fl := range f.fields {
		mark, lab := "  ", st.Label.Render(pad(fl.label, f.labelW))
		if i == f.focus {
			mark, lab = st.Focused.Render("▸ "), st.Focused.Render(pad(fl.label, f.labelW))
		}
		b.WriteString(fit(mark+lab+"  "+fl.show(st, i == f.focus), w) + "\n")
		if p, bad := f.probs[fl.key]; bad && p != "loading" && (fl.typed() || i < f.focus || f.tried) {
			b.WriteString(fit(strings.Repeat(" ", f.labelW+4)+st.Error.Render("✗ "+p), w) + "\n")
		}
	}
	for _, g := range f.general {
		b.WriteString(fit(st.Error.Render("✗ "+g), w) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// typed reports text typed in the field.
func (fl *field) typed() bool {
	if fl.kind == pickField {
		return fl.pick.query.Value() != ""
	}
	return fl.input.Value() != ""
}

// show renders the field's value.
func (fl *field) show(st Styles, focused bool) string {
	switch fl.kind {
	case pickField:
		return fl.pick.view(st, focused)
	case boolField:
		if fl.on {
			return "[x]"
		}
		return "[ ]"
	case choiceField:
		parts := make([]string, len(fl.choices))
		for j, c := range fl.choices {
			if j == fl.choice {
				parts[j] = st.Focused.Render("(•) " + c)
			} else {
				parts[j] = st.Muted.Render("( ) " + c)
			}
		}
		return strings.Join(parts, "  ")
	}
	return fl.input.View()
}

// formBindings are the keys of a form.
func formBindings(k KeyMap) []key.Binding {
	return []key.Binding{k.Submit, k.Cancel, k.Next, k.Prev, k.Toggle}
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
}

func newFormScreen(s *session, name, intro string, f form, submit func(f *form, to int) tea.Cmd, done func(tea.Msg) tea.Cmd) *formScreen {
	return &formScreen{base: newBase(s), name: name, intro: intro, f: f, submit: submit, done: done}
}

func (fs *formScreen) title() string           { return fs.name }
func (fs *formScreen) init() tea.Cmd           { return fs.f.loads(fs.s, fs.sid) }
func (fs *formScreen) capturing() bool         { return true }
func (fs *formScreen) bindings() []key.Binding { return formBindings(fs.s.keys) }

func (fs *formScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if fs.resize(msg) {
		fs.f.setWidth(fs.w)
		return fs, nil
	}
	if o, ok := msg.(optionsMsg); ok {
		fs.s.names.learnAll(o.kind, o.opts)
		fs.f.setOptions(o)
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
			fs.f.tried = true
			return fs, fail(badRequest(fs.f.problems()))
		}
		if fs.done != nil { // the submit makes a call: wait for it
			fs.working = fs.name + "…"
		}
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
// the screen twice a second, and tests can run every command. Its
// placeholder is dim; set it with hint so it reads as one without color.
func newInput() textinput.Model {
	ti := textinput.New()
	st := ti.Styles()
	st.Cursor.Blink = false
	st.Focused.Placeholder = st.Focused.Placeholder.Faint(true)
	st.Blurred.Placeholder = st.Blurred.Placeholder.Faint(true)
	ti.SetStyles(st)
	return ti
}
