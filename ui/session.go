package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/formatters"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// session is what every screen of one program shares: the caller, the actor,
// styles and keys for its background, and the memoised highlighter. It is
// only mutated from the root model's Update.
type session struct {
	ctx    context.Context
	caller Caller
	actor  model.Actor
	procs  []api.Info
	editor string
	keys   KeyMap
	styles Styles
	dark   bool
	hl     *highlighter
	now    func() time.Time
	// static turns off timers (spinner, polling) so tests can run every
	// command to completion.
	static bool
	lastID int

	// names are the display names of the records the session has listed.
	names names
}

func (s *session) newID() int {
	s.lastID++
	return s.lastID
}

func (s *session) setDark(dark bool) {
	s.dark = dark
	s.styles = NewStyles(dark)
	s.hl = newHighlighter(dark)
}

// Messages every screen may send to the root.
type (
	// errMsg puts an error on the one error surface.
	errMsg struct{ err error }
	// noticeMsg reports a finished action.
	noticeMsg struct{ text string }
	// pushMsg opens a screen on top of the stack.
	pushMsg struct{ s screen }
	// popMsg closes the top screen; then, if notice is set, shows it.
	popMsg struct{ notice string }
	// replaceMsg swaps the top n screens (at least one) for another.
	replaceMsg struct {
		s screen
		n int
	}
	// statusMsg is one event of the status subscription.
	statusMsg api.StatusEvent
	// subClosedMsg says the subscription ended.
	subClosedMsg struct{}
	// sizeMsg tells screens the size of the body.
	sizeMsg struct{ w, h int }
	// themeMsg tells screens the background changed.
	themeMsg struct{}
)

func fail(err error) tea.Cmd       { return func() tea.Msg { return errMsg{err} } }
func notify(text string) tea.Cmd   { return func() tea.Msg { return noticeMsg{text} } }
func push(s screen) tea.Cmd        { return func() tea.Msg { return pushMsg{s} } }
func pop(notice string) tea.Cmd    { return func() tea.Msg { return popMsg{notice} } }
func replace(s screen) tea.Cmd     { return func() tea.Msg { return replaceMsg{s: s} } }
func (e errMsg) Error() string     { return e.err.Error() }
func (n noticeMsg) String() string { return n.text }

// targeted messages go to the screen with that id wherever it is in the stack.
type targeted interface{ target() int }

// doneMsg is the typed result of one procedure call made for screen `to`.
// A loader stamps seq with the number of its request.
type doneMsg[T any] struct {
	to  int
	tag string
	seq int
	val T
	err error
}

func (d doneMsg[T]) target() int { return d.to }

func (d doneMsg[T]) stamped(seq int) tea.Msg {
	d.seq = seq
	return d
}

// invoke returns a command that runs procedure p with input in through the
// typed contract and delivers its typed result to screen to.
func invoke[I, O any](s *session, to int, tag string, p api.Proc[I, O], in I) tea.Cmd {
	ctx, c := s.ctx, s.caller
	return func() tea.Msg {
		if c == nil {
			return doneMsg[O]{to: to, tag: tag, err: model.Errorf(model.CodeInternal, "no caller")}
		}
		out, err := api.Invoke(ctx, c, p, in)
		return doneMsg[O]{to: to, tag: tag, val: out, err: err}
	}
}

// invokeRaw runs the procedure info names with a JSON input a palette form
// built from the procedure's own field declarations.
func invokeRaw(s *session, to int, info api.Info, raw json.RawMessage) tea.Cmd {
	ctx, c := s.ctx, s.caller
	return func() tea.Msg {
		if c == nil {
			return doneMsg[any]{to: to, err: model.Errorf(model.CodeInternal, "no caller")}
		}
		res, err := c.Call(ctx, info.Name, raw)
		return doneMsg[any]{to: to, val: res, err: err}
	}
}

// highlighter memoises chroma lexers, the style and the formatter of one
// session, and the highlighted lines of the last few texts.
type highlighter struct {
	style  *chroma.Style
	format chroma.Formatter
	lexers map[string]chroma.Lexer
	cache  map[string][]string
	order  []string
}

func newHighlighter(dark bool) *highlighter {
	name := "github"
	if dark {
		name = "monokai"
	}
	return &highlighter{
		style:  styles.Get(name),
		format: formatters.Get("terminal256"),
		lexers: map[string]chroma.Lexer{},
		cache:  map[string][]string{},
	}
}

// lines returns text highlighted by the named lexer, split into lines.
func (h *highlighter) lines(lang, text string) []string {
	k := lang + "\x00" + text
	if l, ok := h.cache[k]; ok {
		return l
	}
	out := h.highlight(lang, text)
	if len(h.order) >= 16 {
		delete(h.cache, h.order[0])
		h.order = h.order[1:]
	}
	h.cache[k] = out
	h.order = append(h.order, k)
	return out
}

func (h *highlighter) highlight(lang, text string) []string {
	plain := strings.Split(strings.TrimRight(text, "\n"), "\n")
	lx, ok := h.lexers[lang]
	if !ok {
		lx = lexers.Get(lang)
		if lx != nil {
			lx = chroma.Coalesce(lx)
		}
		h.lexers[lang] = lx
	}
	if lx == nil || h.style == nil || h.format == nil {
		return plain
	}
	it, err := lx.Tokenise(nil, text)
	if err != nil {
		return plain
	}
	var buf bytes.Buffer
	if err := h.format.Format(&buf, h.style, it); err != nil {
		return plain
	}
	out := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(out) != len(plain) {
		return plain
	}
	return out
}

func (d doneMsg[T]) failure() error { return d.err }

// resultErr returns the error of a doneMsg (nil for other messages).
func resultErr(msg tea.Msg) error {
	if f, ok := msg.(interface{ failure() error }); ok {
		return f.failure()
	}
	return nil
}

// badRequest turns form problems into the BAD_REQUEST the server would give.
func badRequest(p map[string]string) error {
	fe := model.FieldErrors{}
	for k, v := range p {
		fe.Add(k, v)
	}
	return fe.Err()
}
