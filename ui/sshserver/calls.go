package sshserver

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/procio"
)

// openSession is a session in progress: its key is looked up again before
// every procedure call and on every change of the authorized keys file.
type openSession struct {
	key  gossh.PublicKey
	fp   string
	sess ssh.Session
	once sync.Once
}

// track records sess, opened by id's key, until untrack.
func (s *Server) track(sess ssh.Session, id Identity) *openSession {
	o := &openSession{key: sess.PublicKey(), fp: id.Fingerprint, sess: sess}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open[o] = struct{}{}
	return o
}

func (s *Server) untrack(o *openSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.open, o)
}

// identityOf is who o's key is now. A key no longer in the file closes
// its session and the call is refused.
func (s *Server) identityOf(o *openSession) (Identity, error) {
	if id, ok := s.keys.Lookup(o.key); ok {
		return id, nil
	}
	s.revoke(o)
	return Identity{}, model.Errorf(model.CodeInsufficientPermission, "key %s is no longer authorized (not in %s)", o.fp, s.keys.Path()).
		WithDetail("fingerprint", o.fp)
}

// revoke ends o: a line to the client, exit status 1, and the connection
// closed, which ends every other session on it (all of the same key) and
// cancels the calls they run.
func (s *Server) revoke(o *openSession) {
	o.once.Do(func() {
		s.log.Warn("closing session: its key was removed from the authorized keys", "fingerprint", o.fp,
			"remote", o.sess.RemoteAddr().String())
		fmt.Fprint(o.sess.Stderr(), "\r\ngitopstui: your key is no longer authorized; closing the session\r\n")
		_ = o.sess.Exit(procio.ExitError)
		if conn, ok := o.sess.Context().Value(ssh.ContextKeyConn).(gossh.Conn); ok {
			_ = conn.Close()
		}
	})
}

// watchKeys closes, until ctx ends, the open sessions of keys removed from
// the authorized keys file, checking it every Config.KeysCheckInterval.
func (s *Server) watchKeys(ctx context.Context) {
	defer func() {
		if v := recover(); v != nil {
			s.recovered("authorized keys watch", v)
		}
	}()
	t := time.NewTicker(s.cfg.KeysCheckInterval)
	defer t.Stop()
	seen := s.keys.Generation()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if g := s.keys.Generation(); g != seen {
			seen = g
			s.sweep()
		}
	}
}

// sweep revokes the open sessions whose key is no longer authorized.
func (s *Server) sweep() {
	s.mu.Lock()
	open := make([]*openSession, 0, len(s.open))
	for o := range s.open {
		open = append(open, o)
	}
	s.mu.Unlock()
	for _, o := range open {
		if _, ok := s.keys.Lookup(o.key); !ok {
			s.revoke(o)
		}
	}
}

// trackedCaller runs procedures through the registry for one session: it
// looks the session's key up again before each call (a removed key is
// refused and its session closed, a changed role applies at once), counts
// the call so that shutdown can wait for it, and turns a panic into
// INTERNAL for that call and a log entry.
type trackedCaller struct {
	s   *Server
	o   *openSession
	own *inflight
}

// Call implements api.Caller.
func (c trackedCaller) Call(ctx context.Context, name string, raw []byte) (res any, err error) {
	id, err := c.s.identityOf(c.o)
	if err != nil {
		return nil, err
	}
	ctx = model.WithActor(ctx, id.Actor())
	c.s.ops.begin()
	defer c.s.ops.end()
	if c.own != nil {
		c.own.begin()
		defer c.own.end()
	}
	defer func() {
		if v := recover(); v != nil {
			c.s.recovered("procedure call", v, "procedure", name, "user", id.User)
			res, err = nil, model.Errorf(model.CodeInternal, "%s failed with an internal error (logged on the server)", name).WithDetail("procedure", name)
		}
	}()
	return c.s.reg.Call(ctx, name, raw)
}

// recovered logs a recovered panic with its stack.
func (s *Server) recovered(what string, v any, attrs ...any) {
	s.log.Error(what+" panicked", append(attrs, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))...)
}

// recoverSession ends a session whose handler panicked: a log entry, a line
// to the client and exit status 1; the server and its other sessions go on.
func (s *Server) recoverSession(sess ssh.Session) {
	v := recover()
	if v == nil {
		return
	}
	s.recovered("session", v, "remote", sess.RemoteAddr().String(), "user", sess.Permissions().Extensions[extUser])
	fmt.Fprint(sess.Stderr(), "\r\ngitopstui: internal error (logged on the server); the session ends\r\n")
	_ = sess.Exit(procio.ExitError)
}

// inflight counts running operations and lets others wait for none.
type inflight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{}
}

func (f *inflight) begin() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.idle = make(chan struct{})
	}
	f.n++
}

func (f *inflight) end() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 {
		close(f.idle)
	}
}

// wait returns when nothing runs, or ctx's error when it ends first.
func (f *inflight) wait(ctx context.Context) error {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return nil
	}
	ch := f.idle
	f.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
