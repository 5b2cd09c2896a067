package ui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/model"
)

// loader runs the loads of one screen's data and settles their results in
// one place: the newest request wins (a result of an older one is dropped,
// so a refresh can never be overwritten by the answer it replaced), a
// failure becomes the screen's error line, and the busy text clears.
type loader struct {
	// seq numbers the newest request.
	seq int
	// busy names the running load ("" when idle).
	busy string
	// err is the newest load's failure, kept until a load succeeds.
	err *model.Error
	// done says a load has settled (successfully or not).
	done bool
}

// stamper is implemented by doneMsg: it returns the message marked as the
// answer to request seq.
type stamper interface{ stamped(seq int) tea.Msg }

// start runs cmd (an invoke of the screen's load) as the newest request.
func (l *loader) start(busy string, cmd tea.Cmd) tea.Cmd {
	l.seq++
	l.busy = busy
	seq := l.seq
	return func() tea.Msg {
		msg := cmd()
		if s, ok := msg.(stamper); ok {
			return s.stamped(seq)
		}
		return msg
	}
}

// settle is the prologue of every result of l: it reports the value and
// true when msg answers the newest request and succeeded. A stale result
// changes nothing; a failure is kept as the error line.
func settle[V any](l *loader, msg doneMsg[V]) (V, bool) {
	var zero V
	if msg.seq != l.seq {
		return zero, false
	}
	l.busy, l.done = "", true
	if msg.err != nil {
		l.err = model.AsError(msg.err)
		return zero, false
	}
	l.err = nil
	return msg.val, true
}

// loading reports that no load has settled yet.
func (l *loader) loading() bool { return !l.done }

// errLine renders an error as the one-line error surface does.
func errLine(st Styles, e *model.Error) string {
	return st.Error.Render("✗ "+string(e.Code)+": ") + st.Error.UnsetBold().Render(words(oneLine(e.Message)))
}

// acted is the prologue of an action's result: the busy text clears and a
// failure goes to the error surface (the returned command; nil on success).
func (b *base) acted(err error) tea.Cmd {
	b.working = ""
	if err != nil {
		return fail(err)
	}
	return nil
}
