package ui

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// Caller runs a procedure by name: the contract's api.Caller (the registry,
// the forwarding client, the tests' strict fake).
type Caller = api.Caller

// ProcedureLister is implemented by callers that can list their procedures
// (api.Registry does); the command palette builds forms from them.
type ProcedureLister interface {
	Procedures() []api.Info
}

// Options build one session's UI.
type Options struct {
	Caller Caller
	Actor  model.Actor
	// Dark says the terminal background is dark (until the terminal says).
	Dark bool
	// Ctx bounds every call the session makes (the SSH session's context).
	Ctx context.Context
	// Subscribe, when set, opens the live status subscription of this
	// session (api.(*Services).Subscribe); it ends with ctx.
	Subscribe func(ctx context.Context) <-chan api.StatusEvent
	// Procedures lists the procedures for the command palette; when nil and
	// Caller is a ProcedureLister, its list is used.
	Procedures []api.Info
	// Editor is the external editor command ($EDITOR) for manifests; empty
	// means the in-app editor.
	Editor string
}

// screen is one page of the stack. Screens return strings; only the root
// model returns a tea.View.
type screen interface {
	id() int
	// title is the screen's breadcrumb.
	title() string
	init() tea.Cmd
	update(msg tea.Msg) (screen, tea.Cmd)
	// view renders the body at w×h.
	view(w, h int) string
	// bindings are the screen's keys for the footer and full help.
	bindings() []key.Binding
	// busy names the running operation ("" when idle).
	busy() string
	// capturing is true while text entry has the keyboard: the root then
	// only keeps ctrl+c (and esc goes to the screen).
	capturing() bool
}

// scoper is implemented by screens that set the cluster/project/environment
// of the status line.
type scoper interface{ scope() scope }

type scope struct{ cluster, project, env string }

// base carries what every screen has: the session, the screen's id, the
// busy text of a running action, the loader of its data and its size.
type base struct {
	s       *session
	sid     int
	working string
	ld      loader
	w, h    int
}

func newBase(s *session) base { return base{s: s, sid: s.newID(), w: 80, h: 20} }
func (b *base) id() int       { return b.sid }

// busy names the running action, else the running load.
func (b *base) busy() string {
	if b.working != "" {
		return b.working
	}
	return b.ld.busy
}
func (b *base) capturing() bool { return false }
func (b *base) resize(msg tea.Msg) bool {
	if m, ok := msg.(sizeMsg); ok {
		b.w, b.h = m.w, m.h
		return true
	}
	return false
}

// Model is the root model: it owns the screen stack, the palette and help
// overlays, the one error surface, the status line and the layout.
type Model struct {
	s       *session
	stack   []screen
	help    help.Model
	spin    spinner.Model
	width   int
	height  int
	full    bool
	palette *palette
	err     *model.Error
	// errOpen shows err in full (enter on a cut error line).
	errOpen bool
	notice  string
	sub     <-chan api.StatusEvent
	follow  pendingChanges
}

// New builds the root model of one session.
func New(opts Options) Model {
	if opts.Ctx == nil {
		opts.Ctx = context.Background()
	}
	if _, ok := model.ActorIn(opts.Ctx); !ok {
		opts.Ctx = model.WithActor(opts.Ctx, opts.Actor)
	}
	procs := opts.Procedures
	if procs == nil {
		if l, ok := opts.Caller.(ProcedureLister); ok {
			procs = l.Procedures()
		}
	}
	s := &session{
		ctx: opts.Ctx, caller: opts.Caller, actor: opts.Actor, procs: procs,
		editor: opts.Editor, keys: NewKeyMap(), now: time.Now,
	}
	s.setDark(opts.Dark)
	m := Model{s: s, help: help.New(), width: 80, height: 24}
	m.help.Styles = help.DefaultStyles(opts.Dark)
	m.spin = spinner.New(spinner.WithSpinner(spinner.MiniDot))
	if opts.Subscribe != nil {
		m.sub = opts.Subscribe(opts.Ctx)
	}
	m.stack = []screen{newClusters(s)}
	return m
}

// listen waits for the next status event.
func listen(ch <-chan api.StatusEvent) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		e, ok := <-ch
		if !ok {
			return subClosedMsg{}
		}
		return statusMsg(e)
	}
}

// Init implements tea.Model.
func (m Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.top().init(), tea.RequestBackgroundColor, listen(m.sub)}
	if !m.s.static {
		cmds = append(cmds, m.spin.Tick)
	}
	return tea.Batch(cmds...)
}

func (m Model) top() screen { return m.stack[len(m.stack)-1] }

func (m Model) bodySize() (int, int) {
	return m.width, max(3, m.height-4)
}

// Update implements tea.Model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(20, msg.Width), max(6, msg.Height)
		m.help.SetWidth(m.width)
		if m.palette != nil {
			m.palette.resize(m.width)
		}
		return m, m.broadcast(m.sizeMsg())
	case tea.BackgroundColorMsg:
		m.s.setDark(msg.IsDark())
		m.help.Styles = help.DefaultStyles(m.s.dark)
		return m, m.broadcast(themeMsg{})
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case statusMsg:
		if msg.Changed != nil {
			return m, tea.Batch(m.noteChange(*msg.Changed), listen(m.sub))
		}
		return m, tea.Batch(m.broadcast(msg), listen(m.sub))
	case followMsg:
		return m, m.reloadFollowers()
	case subClosedMsg:
		m.sub = nil
		return m, nil
	case errMsg:
		m.err, m.notice, m.errOpen = model.AsError(msg.err), "", false
		return m, nil
	case noticeMsg:
		m.notice, m.err = msg.text, nil
		return m, nil
	case pushMsg:
		m.palette, m.full = nil, false
		m.stack = append(m.stack, msg.s)
		return m, tea.Batch(m.sendTop(m.sizeMsg()), msg.s.init())
	case replaceMsg:
		n := min(max(1, msg.n), len(m.stack))
		m.stack = append(m.stack[:len(m.stack)-n], msg.s)
		return m, tea.Batch(m.sendTop(m.sizeMsg()), msg.s.init())
	case switchMsg:
		m.palette, m.full = nil, false
		m.stack = []screen{msg.s}
		return m, tea.Batch(m.sendTop(m.sizeMsg()), msg.s.init())
	case popMsg:
		if len(m.stack) > 1 {
			m.stack = m.stack[:len(m.stack)-1]
		}
		if msg.notice != "" {
			m.notice, m.err = msg.notice, nil
		}
		return m, nil
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.PasteMsg:
		if m.palette != nil {
			return m, m.palette.update(msg)
		}
		return m, m.sendTop(msg)
	case targeted:
		for i, sc := range m.stack {
			if sc.id() == msg.target() {
				var cmd tea.Cmd
				m.stack[i], cmd = sc.update(msg)
				return m, cmd
			}
		}
		return m, nil // its screen is gone
	}
	return m, m.sendTop(msg)
}

func (m Model) sizeMsg() sizeMsg {
	w, h := m.bodySize()
	return sizeMsg{w, h}
}

// sendTop sends msg to the top screen.
func (m Model) sendTop(msg tea.Msg) tea.Cmd {
	i := len(m.stack) - 1
	var cmd tea.Cmd
	m.stack[i], cmd = m.stack[i].update(msg)
	return cmd
}

// broadcast sends msg to every screen of the stack.
func (m Model) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(m.stack))
	for i, sc := range m.stack {
		var cmd tea.Cmd
		m.stack[i], cmd = sc.update(msg)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

func (m Model) key(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := m.s.keys
	if msg.String() == "ctrl+c" {
		return m, tea.Quit
	}
	if m.errOpen {
		m.errOpen, m.err = false, nil
		return m, nil
	}
	if m.err != nil && msg.String() == "enter" && m.palette == nil && errMore(m.s.styles, m.err, m.width) {
		m.errOpen = true
		return m, nil
	}
	m.err, m.notice = nil, ""
	if m.palette != nil {
		if key.Matches(msg, k.Cancel) {
			m.palette = nil
			return m, nil
		}
		return m, m.palette.update(msg)
	}
	if m.full {
		m.full = false
		if key.Matches(msg, k.Help, k.Back) {
			return m, nil
		}
	}
	if m.top().capturing() {
		return m, m.sendTop(msg)
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Help):
		m.full = true
		return m, nil
	case key.Matches(msg, k.Palette):
		m.palette = newPalette(m.s, m.width, scopeFrom(m.stack))
		return m, nil
	case key.Matches(msg, k.Back):
		if e, ok := m.top().(escaper); ok && e.esc() {
			return m, nil
		}
		if len(m.stack) > 1 {
			m.stack = m.stack[:len(m.stack)-1]
		}
		return m, nil
	}
	if s := m.topLevel(msg); s != nil {
		return m, switchTo(s)
	}
	return m, m.sendTop(msg)
}

// View implements tea.Model.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	return v
}

func (m Model) render() string {
	st := m.s.styles
	w, h := m.bodySize()
	lines := make([]string, 0, m.height)
	lines = append(lines, fit(m.breadcrumbs(), m.width), fit(m.statusLine(), m.width))

	var body string
	var footer string
	switch {
	case m.errOpen:
		body = errorView(st, m.err, w, h)
		footer = m.help.ShortHelpView([]key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("any key", "close"))})
	case m.palette != nil:
		body = m.palette.view(w, h)
		footer = m.help.ShortHelpView(m.palette.bindings())
	case m.full:
		body = m.fullHelp(w, h)
		footer = m.help.ShortHelpView([]key.Binding{m.s.keys.Back})
	default:
		body = m.top().view(w, h)
		footer = m.footer(m.top().bindings())
	}
	bl := strings.Split(body, "\n")
	for i := 0; i < h; i++ {
		if i < len(bl) {
			lines = append(lines, fit(bl[i], m.width))
		} else {
			lines = append(lines, "")
		}
	}
	switch {
	case m.err != nil && !m.errOpen:
		lines = append(lines, fit(m.errorLine(st, m.err), m.width))
	case m.notice != "":
		lines = append(lines, fit(st.OK.Render("✓ "+words(oneLine(m.notice))), m.width))
	default:
		lines = append(lines, "")
	}
	lines = append(lines, fit(footer, m.width))
	return strings.Join(lines, "\n")
}

func (m Model) breadcrumbs() string {
	st := m.s.styles
	parts := []string{st.Title.Render("gitopstui")}
	start := 0
	if len(m.stack) > 4 {
		start = len(m.stack) - 4
		parts = append(parts, st.Muted.Render("…"))
	}
	for _, sc := range m.stack[start:] {
		parts = append(parts, st.Crumb.Render(sc.title()))
	}
	return strings.Join(parts, st.Muted.Render(" › "))
}

func (m Model) statusLine() string {
	st := m.s.styles
	sc := scopeFrom(m.stack)
	val := func(v string) string {
		if v == "" {
			return st.Muted.Render("-")
		}
		return v
	}
	left := st.Label.Render("cluster ") + val(sc.cluster) + st.Label.Render("  project ") + val(sc.project) +
		st.Label.Render("  env ") + val(sc.env) + st.Label.Render("  user ") + val(m.s.actor.User) + st.Muted.Render(" ("+string(m.s.actor.Role)+")")
	if b := m.top().busy(); b != "" {
		right := st.Warn.Render(m.spin.View() + " " + b)
		gap := m.width - lipgloss.Width(left) - lipgloss.Width(right)
		if gap < 2 {
			return left + "  " + right
		}
		return left + strings.Repeat(" ", gap) + right
	}
	return left
}

// scopeInfo is the context found on the stack, for the status line and for
// screens opened from the palette.
type scopeInfo struct {
	scope
	projectID, envID, clusterID string
}

func scopeFrom(stack []screen) scopeInfo {
	var out scopeInfo
	for _, sc := range stack {
		if s, ok := sc.(scoper); ok {
			v := s.scope()
			if v.cluster != "" {
				out.cluster = v.cluster
			}
			if v.project != "" {
				out.project = v.project
			}
			if v.env != "" {
				out.env = v.env
			}
		}
		if s, ok := sc.(interface{ clusterID() string }); ok && s.clusterID() != "" {
			out.clusterID = s.clusterID()
		}
		if s, ok := sc.(interface{ ids() (string, string) }); ok {
			p, e := s.ids()
			if p != "" {
				out.projectID = p
			}
			if e != "" {
				out.envID = e
			}
		}
	}
	return out
}

// fit truncates s to w cells.
func fit(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// clipLines keeps the first h lines of s, each truncated to w cells.
func clipLines(s string, w, h int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > h {
		ls = ls[:h]
	}
	for i := range ls {
		ls[i] = fit(ls[i], w)
	}
	return strings.Join(ls, "\n")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
