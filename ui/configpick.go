package ui

import (
	"path"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// The config editor's file picker: every YAML file of the environment's
// path at the branch head (gitops.readConfig's files), filtered with `/`;
// enter reads the chosen one, esc returns to what was on screen.

var (
	filesKey     = key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "files"))
	filesKeyEdit = key.NewBinding(key.WithKeys("ctrl+o"), key.WithHelp("ctrl+o", "files"))
)

// newFileList is the picker's list; the file being edited is marked.
func (c *configEditor) newFileList(files []string) list[string] {
	l := newList[string](nil, listSpec[string]{
		noun: "Files of " + c.env.Name,
		cols: []column[string]{{title: "FILE", cell: func(x cellCtx, f *string) (string, lipgloss.Style) {
			if c.file != nil && *f == c.file.File {
				return "• " + *f, x.st.Header
			}
			return "  " + *f, lipgloss.NewStyle()
		}}},
		empty:  "No YAML file in " + c.env.GitOpsConfig.GitPath + " at the branch head.",
		search: func(f *string) string { return *f },
		ident:  func(f *string) string { return *f },
	})
	l.setRows(files)
	if c.file != nil {
		if i, ok := l.find(c.file.File); ok {
			for j, idx := range l.shown {
				if idx == i {
					l.cursor = j
				}
			}
		}
	}
	return l
}

// openPicker shows the files; esc goes back to the mode it was opened from.
func (c *configEditor) openPicker(files []string) tea.Cmd {
	if c.mode == editInApp {
		c.text = c.area.Value()
		c.area.Blur()
	}
	if c.mode != editPick {
		c.prev = c.mode
	}
	c.mode = editPick
	c.pick = c.newFileList(files)
	c.pick.sub = "enter opens · / filters · esc goes back"
	if c.modified() {
		c.pick.sub = "enter opens (your edits to " + path.Base(c.file.File) + " are discarded) · / filters · esc goes back"
	}
	c.pick.resize(c.w, max(3, c.h-1))
	return nil
}

// modified reports that the text differs from the file as read.
func (c *configEditor) modified() bool {
	return c.file != nil && c.text != c.file.YAML
}

// pickKey handles the picker's keys.
func (c *configEditor) pickKey(msg tea.KeyPressMsg) tea.Cmd {
	k := c.s.keys
	if ok, cmd := c.pick.key(k, msg); ok {
		return cmd
	}
	switch {
	case key.Matches(msg, k.Cancel):
		return c.closePicker()
	case key.Matches(msg, k.Open):
		f := c.pick.current()
		if f == nil {
			return nil
		}
		c.mode, c.res, c.lines, c.scroll = editLoading, nil, nil, 0
		return c.read(*f)
	}
	return nil
}

// closePicker returns to the mode the picker was opened from; with nothing
// read yet, the editor closes.
func (c *configEditor) closePicker() tea.Cmd {
	switch c.prev {
	case editLoading:
		return pop("")
	case editInApp:
		c.mode = editInApp
		return c.area.Focus()
	}
	c.mode = c.prev
	return nil
}

// filesOf returns the files a readConfig refusal lists (several files and
// no kustomization.yaml in the path: the user picks one).
func filesOf(err error) []string {
	switch v := model.AsError(err).Details["files"].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, f := range v {
			if s, ok := f.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// read reads file ("" for the environment's default) at the branch head.
func (c *configEditor) read(file string) tea.Cmd {
	in := api.ReadConfigInput{EnvironmentID: c.env.ID, File: file}
	busy := "reading manifest"
	if file != "" {
		busy = "reading " + path.Base(file)
	}
	return c.ld.start(busy, invoke(c.s, c.sid, "", api.ReadConfig, in))
}

// files are the environment's files as last read.
func (c *configEditor) files() []string {
	if c.file == nil {
		return nil
	}
	return c.file.Files
}
