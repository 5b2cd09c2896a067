package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
)

// Caller runs a procedure by name; services.Registry is one.
type Caller interface {
	Call(ctx context.Context, name string, raw []byte) (any, error)
}

// Options build one session's UI.
type Options struct {
	Caller Caller
	Actor  model.Actor
	// Dark says the terminal background is dark.
	Dark bool
	// Ctx bounds every call the session makes (the SSH session's context).
	Ctx context.Context
}

// Model is the root model: it owns the panes, focus, help and layout.
type Model struct {
	opts     Options
	styles   Styles
	keys     KeyMap
	help     help.Model
	width    int
	height   int
	focus    int
	cursor   [2]int
	clusters []services.ClusterView
	projects []model.Project
	loading  bool
	err      error
}

// New builds the root model of one session.
func New(opts Options) Model {
	if opts.Ctx == nil {
		opts.Ctx = context.Background()
	}
	h := help.New()
	return Model{opts: opts, styles: NewStyles(opts.Dark), keys: NewKeyMap(), help: h, width: 80, height: 24, loading: true}
}

type catalogMsg struct {
	clusters []services.ClusterView
	projects []model.Project
	err      error
}

// loadCatalog reads clusters (without live checks) and projects off the UI goroutine.
func loadCatalog(ctx context.Context, c Caller) tea.Cmd {
	return func() tea.Msg {
		var msg catalogMsg
		if msg.err = call(ctx, c, "clusters.list", map[string]any{"live": false}, &msg.clusters); msg.err != nil {
			return msg
		}
		msg.err = call(ctx, c, "projects.list", map[string]any{}, &msg.projects)
		return msg
	}
}

// call runs a procedure and decodes its result into out.
func call(ctx context.Context, c Caller, name string, in any, out any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	res, err := c.Call(ctx, name, raw)
	if err != nil {
		return err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// Init implements tea.Model.
func (m Model) Init() tea.Cmd {
	return tea.Batch(loadCatalog(m.opts.Ctx, m.opts.Caller), tea.RequestBackgroundColor)
}

// Update implements tea.Model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
	case tea.BackgroundColorMsg:
		m.opts.Dark = msg.IsDark()
		m.styles = NewStyles(m.opts.Dark)
	case catalogMsg:
		m.loading = false
		m.err = msg.err
		m.clusters, m.projects = msg.clusters, msg.projects
		m.clampCursor()
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, m.keys.Quit):
			return m, tea.Quit
		case key.Matches(msg, m.keys.Help):
			m.help.ShowAll = !m.help.ShowAll
		case key.Matches(msg, m.keys.Switch):
			m.focus = 1 - m.focus
		case key.Matches(msg, m.keys.Up):
			m.cursor[m.focus]--
			m.clampCursor()
		case key.Matches(msg, m.keys.Down):
			m.cursor[m.focus]++
			m.clampCursor()
		case key.Matches(msg, m.keys.Refresh):
			m.loading = true
			return m, loadCatalog(m.opts.Ctx, m.opts.Caller)
		}
	}
	return m, nil
}

func (m *Model) clampCursor() {
	n := [2]int{len(m.clusters), len(m.projects)}
	for i := range m.cursor {
		m.cursor[i] = max(0, min(m.cursor[i], n[i]-1))
	}
}

// View implements tea.Model.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	return v
}

func (m Model) render() string {
	var b strings.Builder
	b.WriteString(m.styles.Title.Render("gitopstui") + m.styles.Muted.Render("  "+m.opts.Actor.User+" ("+string(m.opts.Actor.Role)+")") + "\n\n")
	helpView := m.help.View(m.keys)
	bodyHeight := max(3, m.height-3-lipgloss.Height(helpView)-1)
	switch {
	case m.err != nil:
		e := model.AsError(m.err)
		b.WriteString(m.styles.Error.Render(fmt.Sprintf("%s: %s", e.Code, e.Message)) + "\n")
	case m.loading:
		b.WriteString(m.styles.Muted.Render("loading…") + "\n")
	default:
		half := max(20, (m.width-1)/2)
		left := m.pane(0, "Clusters", m.clusterRows(), half, bodyHeight)
		right := m.pane(1, "Projects", m.projectRows(), m.width-half-1, bodyHeight)
		b.WriteString(lipgloss.JoinHorizontal(lipgloss.Top, left, " ", right) + "\n")
	}
	out := b.String()
	pad := m.height - lipgloss.Height(out) - lipgloss.Height(helpView)
	if pad > 0 {
		out += strings.Repeat("\n", pad)
	}
	return out + helpView
}

func (m Model) clusterRows() []string {
	rows := make([]string, len(m.clusters))
	for i, c := range m.clusters {
		rows[i] = fmt.Sprintf("%s  %s", c.Name, m.styles.Muted.Render(c.Context))
	}
	return rows
}

func (m Model) projectRows() []string {
	rows := make([]string, len(m.projects))
	for i, p := range m.projects {
		rows[i] = fmt.Sprintf("%s  %s", p.Name, m.styles.Muted.Render(p.ID))
	}
	return rows
}

func (m Model) pane(idx int, title string, rows []string, width, height int) string {
	var b strings.Builder
	head := m.styles.Header.Render(fmt.Sprintf("%s (%d)", title, len(rows)))
	if m.focus == idx {
		head = m.styles.Title.Render("▸ ") + head
	} else {
		head = "  " + head
	}
	b.WriteString(head + "\n")
	if len(rows) == 0 {
		b.WriteString(m.styles.Muted.Render("  none yet: see README quick start"))
	}
	inner := max(1, height-3)
	start := max(0, m.cursor[idx]-inner+1)
	for i := start; i < len(rows) && i < start+inner; i++ {
		line := truncate(rows[i], width-6)
		if i == m.cursor[idx] && m.focus == idx {
			line = m.styles.Selected.Render(line)
		}
		b.WriteString("  " + line + "\n")
	}
	return m.styles.Box.Width(width).Render(strings.TrimRight(b.String(), "\n"))
}

func truncate(s string, w int) string {
	if w <= 1 || lipgloss.Width(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && lipgloss.Width(string(r)) > w-1 {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
