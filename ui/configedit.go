package ui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

type editMode int

const (
	editLoading editMode = iota
	editInApp
	editExternal
	editReview
	editMessage
	editCommitting
	editConflict
	editDone
	editPick
)

// Messages of the external editor round trip.
type (
	editorFileMsg struct {
		to   int
		path string
		err  error
	}
	editorDoneMsg struct {
		to   int
		path string
		err  error
	}
	editorTextMsg struct {
		to   int
		text string
		err  error
	}
)

func (m editorFileMsg) target() int { return m.to }
func (m editorDoneMsg) target() int { return m.to }
func (m editorTextMsg) target() int { return m.to }

// configEditor edits a file of the environment's path: read at the branch
// head (the manifest by default, any other from the file picker), edit in
// $EDITOR or in-app, validate as that file with errors and warnings marked
// at their lines and columns, commit with the base revision; a conflict
// shows base/ours/theirs.
type configEditor struct {
	base
	p        model.Project
	env      model.Environment
	mode     editMode
	file     *api.ConfigFile
	text     string
	lines    []string // text highlighted, for the review
	area     textarea.Model
	msg      textinput.Model
	res      *api.ValidateResult
	conflict []map[string]any
	commit   *api.CommitConfigResult
	scroll   int
	pick     list[string] // the file picker
	prev     editMode     // the mode the picker returns to
}

func newConfigEditor(s *session, p model.Project, env model.Environment) *configEditor {
	ta := textarea.New()
	tst := ta.Styles()
	tst.Cursor.Blink = false
	ta.SetStyles(tst)
	ta.ShowLineNumbers = true
	ta.CharLimit = 0
	ta.MaxHeight = 0
	mi := newInput()
	mi.Prompt = "commit message: "
	return &configEditor{base: newBase(s), p: p, env: env, area: ta, msg: mi}
}

func (c *configEditor) title() string { return "Manifest " + c.env.Name }
func (c *configEditor) scope() scope {
	return scope{project: c.p.Name, env: c.env.Name, cluster: c.env.ClusterID}
}
func (c *configEditor) capturing() bool {
	return c.mode == editInApp || c.mode == editMessage || c.mode == editPick
}

func (c *configEditor) bindings() []key.Binding {
	k := c.s.keys
	switch c.mode {
	case editInApp:
		return []key.Binding{key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "validate")), filesKeyEdit, key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "discard"))}
	case editReview:
		return []key.Binding{k.Up, k.Down, key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit again")), key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "commit")), filesKey}
	case editPick:
		if c.pick.filtering {
			return filterBindings()
		}
		return []key.Binding{k.Up, k.Down, k.Open, k.Filter, k.Cancel}
	case editMessage:
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "commit")), k.Cancel}
	}
	return []key.Binding{k.Up, k.Down}
}

func (c *configEditor) init() tea.Cmd { return c.read("") }

// edit opens the text in the external editor or the in-app one.
func (c *configEditor) edit() tea.Cmd {
	if c.s.editor == "" {
		c.mode = editInApp
		c.area.SetValue(c.text)
		c.area.SetWidth(max(20, c.w))
		c.area.SetHeight(max(3, c.h-3))
		return c.area.Focus()
	}
	c.mode = editExternal
	c.working = "editing in " + c.s.editor
	to, text, name := c.sid, c.text, "manifest.yaml"
	if c.file != nil {
		name = filepath.Base(c.file.File)
	}
	return func() tea.Msg {
		dir, err := os.MkdirTemp("", "gitopstui-edit-")
		if err != nil {
			return editorFileMsg{to: to, err: err}
		}
		p := filepath.Join(dir, name)
		return editorFileMsg{to: to, path: p, err: os.WriteFile(p, []byte(text), 0o600)}
	}
}

func (c *configEditor) validate() tea.Cmd {
	c.working = "validating"
	c.lines = c.s.hl.lines("yaml", c.text)
	in := api.ValidateYAMLInput{YAML: c.text}
	if c.file != nil {
		in.File = c.file.File // a kustomization.yaml is checked as kustomize reads it
	}
	return invoke(c.s, c.sid, "", api.ValidateYAML, in)
}

func (c *configEditor) update(msg tea.Msg) (screen, tea.Cmd) {
	if c.resize(msg) {
		c.area.SetWidth(max(20, c.w))
		c.area.SetHeight(max(3, c.h-3))
		c.pick.resize(c.w, max(3, c.h-1))
		return c, nil
	}
	switch msg := msg.(type) {
	case doneMsg[api.ConfigFile]:
		return c, c.opened(msg)
	case editorFileMsg, editorDoneMsg, editorTextMsg:
		return c, c.editorMsg(msg)
	case themeMsg:
		if c.lines != nil {
			c.lines = c.s.hl.lines("yaml", c.text)
		}
	case doneMsg[api.ValidateResult]:
		c.mode = editReview
		if cmd := c.acted(msg.err); cmd != nil {
			return c, cmd
		}
		r := msg.val
		c.res = &r
		if !r.Valid {
			c.scroll = c.firstMark()
			return c, fail(model.Errorf(model.CodeYAMLInvalid, "%d error(s): fix them before committing (e edits again)", len(r.Errors)))
		}
	case doneMsg[api.CommitConfigResult]:
		return c, c.committed(msg)
	case tea.KeyPressMsg:
		return c.key(msg)
	}
	if c.mode == editInApp {
		var cmd tea.Cmd
		c.area, cmd = c.area.Update(msg)
		return c, cmd
	}
	return c, nil
}

// editorMsg follows the external editor's round trip: write the file,
// run the editor, read the file back, validate.
func (c *configEditor) editorMsg(msg tea.Msg) tea.Cmd {
	to := c.sid
	switch msg := msg.(type) {
	case editorFileMsg:
		if msg.err != nil {
			c.working, c.mode = "", editReview
			return fail(msg.err)
		}
		args := strings.Fields(c.s.editor)
		cmd := exec.Command(args[0], append(args[1:], msg.path)...) //nolint:gosec // the user's own editor
		p := msg.path
		return tea.ExecProcess(cmd, func(err error) tea.Msg { return editorDoneMsg{to: to, path: p, err: err} })
	case editorDoneMsg:
		p := msg.path
		if msg.err != nil {
			c.working, c.mode = "", editReview
			_ = os.RemoveAll(filepath.Dir(p))
			return fail(model.Wrap(model.CodeInternal, msg.err, "editor "+c.s.editor))
		}
		return func() tea.Msg {
			b, err := os.ReadFile(p)
			_ = os.RemoveAll(filepath.Dir(p))
			return editorTextMsg{to: to, text: string(b), err: err}
		}
	case editorTextMsg:
		if msg.err != nil {
			c.working, c.mode = "", editReview
			return fail(msg.err)
		}
		c.text = msg.text
		return c.validate()
	}
	return nil
}

// opened takes a read's result: the file's text goes to the editor; a
// refusal that lists the path's files (several, no kustomization.yaml)
// opens the picker; a failed read of a picked file returns to the picker.
func (c *configEditor) opened(msg doneMsg[api.ConfigFile]) tea.Cmd {
	f, ok := settle(&c.ld, msg)
	switch {
	case ok:
		c.file, c.text, c.res, c.lines, c.scroll = &f, f.YAML, nil, nil, 0
		return c.edit()
	case msg.seq != c.ld.seq:
		return nil // a stale answer
	case len(filesOf(msg.err)) > 0:
		c.ld.err = nil
		return c.openPicker(filesOf(msg.err))
	case len(c.pick.items) > 0:
		c.mode = editPick
		return fail(msg.err)
	}
	return nil
}

// committed takes the commit's result; a conflict shows base/ours/theirs.
func (c *configEditor) committed(msg doneMsg[api.CommitConfigResult]) tea.Cmd {
	c.working = ""
	if msg.err != nil {
		e := model.AsError(msg.err)
		if e.Code == model.CodeConflictDetected {
			c.mode = editConflict
			c.conflict = conflictsOf(e)
		} else {
			c.mode = editReview
		}
		return fail(msg.err)
	}
	r := msg.val
	c.commit = &r
	c.mode = editDone
	return notify("committed " + shortSHA(r.CommitSha) + " to " + r.Branch)
}

func (c *configEditor) key(msg tea.KeyPressMsg) (screen, tea.Cmd) {
	switch c.mode {
	case editPick:
		return c, c.pickKey(msg)
	case editInApp:
		switch msg.String() {
		case "ctrl+o":
			if c.files() != nil {
				return c, c.openPicker(c.files())
			}
		case "ctrl+s":
			c.text = c.area.Value()
			c.area.Blur()
			return c, c.validate()
		case "esc":
			return c, pop("edit discarded")
		}
		var cmd tea.Cmd
		c.area, cmd = c.area.Update(msg)
		return c, cmd
	case editMessage:
		switch msg.String() {
		case "esc":
			c.mode = editReview
			c.msg.Blur()
			return c, nil
		case "enter":
			m := strings.TrimSpace(c.msg.Value())
			if m == "" {
				return c, fail(badRequest(map[string]string{"commitMessage": "required"}))
			}
			c.mode = editCommitting
			c.working = "committing"
			in := api.CommitConfigInput{ProjectID: c.p.ID, EnvironmentID: c.env.ID, YAML: c.text, CommitMessage: m}
			if c.file != nil {
				in.File, in.BaseRevision = c.file.File, c.file.Revision
			}
			return c, invoke(c.s, c.sid, "", api.CommitConfigChanges, in)
		}
		var cmd tea.Cmd
		c.msg, cmd = c.msg.Update(msg)
		return c, cmd
	case editReview, editConflict:
		switch msg.String() {
		case "e":
			return c, c.edit()
		case "f":
			return c, c.openPicker(c.files())
		case "c":
			if c.mode == editReview && c.res != nil && c.res.Valid {
				c.mode = editMessage
				return c, c.msg.Focus()
			}
		case "r":
			if c.mode == editConflict {
				c.mode = editLoading
				return c, c.init()
			}
		}
	}
	if c.mode == editReview || c.mode == editMessage || c.mode == editCommitting {
		top, body := c.review(c.s.styles)
		c.scroll = scrollBy(c.s.keys, msg, c.scroll, len(body), max(1, c.h-len(top)))
	}
	return c, nil
}

func conflictsOf(e *model.Error) []map[string]any {
	raw, _ := e.Details["conflicts"].([]any)
	var out []map[string]any
	for _, r := range raw {
		if m, ok := r.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func (c *configEditor) view(w, h int) string {
	st := c.s.styles
	head := c.head(st)
	switch c.mode {
	case editLoading:
		if c.ld.err != nil {
			return clipLines(head+"\n"+errLine(st, c.ld.err), w, h)
		}
		return head + "\n" + st.Muted.Render("reading…")
	case editInApp:
		return head + "\n" + st.Muted.Render("ctrl+s validates · esc discards") + "\n" + c.area.View()
	case editExternal:
		return head + "\n" + st.Muted.Render("editing in "+c.s.editor+"…")
	case editConflict:
		return clipLines(head+"\n"+c.conflictView(), w, h)
	case editPick:
		return head + "\n" + c.pick.view(st, c.s.now(), w, max(1, h-1), "")
	case editDone:
		r := c.commit
		return clipLines(head+"\n\n"+st.OK.Render("Committed ")+shortSHA(r.CommitSha)+" to "+r.Branch+" ("+r.File+")\n"+st.Info.Render(r.GitURL), w, h)
	}
	top, body := c.review(st)
	return strings.Join(top, "\n") + "\n" + window(body, c.scroll, w, max(1, h-len(top)))
}

func (c *configEditor) head(st Styles) string {
	head := "Manifest of " + c.env.Name
	if c.file != nil {
		head += st.Muted.Render(fmt.Sprintf("  %s @ %s (%s)", c.file.File, shortSHA(c.file.Revision), c.file.Branch))
	}
	return st.Header.Render(head)
}

// review is the review's head and its body: the text highlighted, the
// issues marked at their lines.
func (c *configEditor) review(st Styles) (top, body []string) {
	top = append(top, c.head(st))
	if c.res != nil {
		sum := st.OK.Render("valid")
		if !c.res.Valid {
			sum = st.Error.Render("invalid")
		}
		top = append(top, fmt.Sprintf("%s · %d document(s) · %d error(s) · %d warning(s)", sum, c.res.Documents, len(c.res.Errors), len(c.res.Warnings)))
	}
	if c.mode == editMessage || c.mode == editCommitting {
		top = append(top, c.msg.View())
	} else {
		top = append(top, st.Muted.Render("e: edit again · c: commit · f: files · ↑/↓ scroll"))
	}
	return top, c.markedText(st)
}

func issueText(line, column int, field, message, suggestion string) string {
	t := fmt.Sprintf("%d:%d ", line, column)
	if field != "" {
		t += field + ": "
	}
	t += message
	if suggestion != "" {
		t += " (" + suggestion + ")"
	}
	return t
}

func (c *configEditor) conflictView() string {
	st := c.s.styles
	var l []string
	l = append(l, st.Error.Render("Conflict: the branch changed the same fields since you started."), "")
	str := func(v any) string {
		if v == nil {
			return "(absent)"
		}
		return fmt.Sprint(v)
	}
	for _, cf := range c.conflict {
		l = append(l, st.Header.Render(fmt.Sprintf("%v  %v", cf["path"], cf["field"])),
			"  "+st.Label.Render("base   ")+str(cf["base"]),
			"  "+st.OK.Render("ours   ")+str(cf["ours"]),
			"  "+st.Warn.Render("theirs ")+str(cf["theirs"]), "")
	}
	l = append(l, st.Muted.Render("e: edit again (keeps your text) · r: reload from the branch head · esc: back"))
	return strings.Join(l, "\n")
}
