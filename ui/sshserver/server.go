package sshserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	bm "charm.land/wish/v2/bubbletea"
	"github.com/charmbracelet/colorprofile"
	uv "github.com/charmbracelet/ultraviolet"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/procio"
	"github.com/gitopstui/gitopstui/ui"
)

// File names inside the data dir.
const (
	// HostKeyFile is the server's ed25519 host key, generated on first start (mode 0600).
	HostKeyFile = "ssh_host_ed25519_key"
	// AuthorizedKeysFile is the default authorized_keys file.
	AuthorizedKeysFile = "authorized_keys"
)

// Defaults for the zero values of Config.
const (
	DefaultAddr             = "127.0.0.1:23234"
	DefaultMaxSessions      = 32
	DefaultIdleTimeout      = 15 * time.Minute
	DefaultMaxSessionTime   = 12 * time.Hour
	DefaultRatePerIP        = 5.0
	DefaultHandshakeTimeout = 20 * time.Second
	DefaultShutdownTimeout  = 30 * time.Second
	// DefaultKeysCheckInterval is how often open sessions are checked
	// against the authorized keys file.
	DefaultKeysCheckInterval = time.Second
)

// Upper bounds of Config's limits: beyond them a limit no longer limits.
const (
	// MaxSessionsLimit bounds Config.MaxSessions.
	MaxSessionsLimit = 10000
	// MaxRatePerIP bounds Config.RatePerIP (new connections per second).
	MaxRatePerIP = 10000.0
)

// Config configures a Server. Zero values take the defaults above.
type Config struct {
	// DataDir holds the host key and, by default, the authorized_keys file.
	DataDir string
	// AuthorizedKeys is the authorized_keys file (default DataDir/authorized_keys).
	AuthorizedKeys string
	// Registry runs the procedures; it checks roles and writes audit records.
	Registry Registry
	// Subscribe, when set, opens one UI session's live status subscription
	// (services.(*Services).Subscribe; the caller starts the watchers).
	Subscribe func(ctx context.Context) <-chan api.StatusEvent
	// MaxSessions bounds concurrent sessions (interactive and exec) over all
	// connections; unauthenticated connections are bounded at 4× this.
	MaxSessions int
	// IdleTimeout closes a connection without traffic for this long.
	IdleTimeout time.Duration
	// MaxSessionTime closes a connection this long after it opened.
	MaxSessionTime time.Duration
	// RatePerIP is how many new connections per second one IP may open, with
	// bursts of RateBurst (default: RatePerIP rounded up, at least 1).
	RatePerIP float64
	RateBurst int
	// HandshakeTimeout bounds key exchange and authentication.
	HandshakeTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown after Serve's ctx ends.
	ShutdownTimeout time.Duration
	// KeysCheckInterval is how often the authorized keys file is checked
	// while sessions are open: the sessions of a key no longer in it are
	// closed. (Every procedure call also looks its key up first.)
	KeysCheckInterval time.Duration
	// Logger receives connection and session events (discarded when nil).
	Logger *slog.Logger
}

// validate refuses limits that would switch a protection off or make it
// meaningless: a rate that is NaN, infinite, negative or above MaxRatePerIP,
// negative or oversized counts, negative durations. Zero values are left to
// setDefaults.
func (c *Config) validate() error {
	var bad []string
	if r := c.RatePerIP; math.IsNaN(r) || math.IsInf(r, 0) || r < 0 || r > MaxRatePerIP {
		bad = append(bad, fmt.Sprintf("RatePerIP %v is not a number of connections per second in (0, %g]", r, MaxRatePerIP))
	}
	if c.RateBurst < 0 || c.RateBurst > int(MaxRatePerIP) {
		bad = append(bad, fmt.Sprintf("RateBurst %d is not in [1, %d]", c.RateBurst, int(MaxRatePerIP)))
	}
	if c.MaxSessions < 0 || c.MaxSessions > MaxSessionsLimit {
		bad = append(bad, fmt.Sprintf("MaxSessions %d is not in [1, %d]", c.MaxSessions, MaxSessionsLimit))
	}
	for name, d := range map[string]time.Duration{
		"IdleTimeout": c.IdleTimeout, "MaxSessionTime": c.MaxSessionTime, "HandshakeTimeout": c.HandshakeTimeout,
		"ShutdownTimeout": c.ShutdownTimeout, "KeysCheckInterval": c.KeysCheckInterval,
	} {
		if d < 0 {
			bad = append(bad, fmt.Sprintf("%s %v is negative", name, d))
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return errors.New("sshserver: " + strings.Join(bad, "; "))
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.AuthorizedKeys == "" {
		c.AuthorizedKeys = filepath.Join(c.DataDir, AuthorizedKeysFile)
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxSessionTime == 0 {
		c.MaxSessionTime = DefaultMaxSessionTime
	}
	if c.RatePerIP == 0 {
		c.RatePerIP = DefaultRatePerIP
	}
	if c.RateBurst <= 0 {
		c.RateBurst = max(1, int(c.RatePerIP+0.999))
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.KeysCheckInterval == 0 {
		c.KeysCheckInterval = DefaultKeysCheckInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Registry is what the server needs of services.Registry: running a
// procedure as the actor in ctx, and describing them all.
type Registry interface {
	Call(ctx context.Context, name string, raw []byte) (any, error)
	Procedures() []api.Info
}

// Server is gitopstui's SSH server. Build it with New and run it with Serve.
type Server struct {
	cfg      Config
	reg      Registry
	keys     *AuthorizedKeys
	log      *slog.Logger
	ssh      *ssh.Server
	rate     *ipRateLimiter
	conns    *slots
	sessions *slots
	ops      inflight // procedure calls running on behalf of any session

	mu       sync.Mutex
	draining bool
	programs map[*tea.Program]struct{}
	open     map[*openSession]struct{}
}

// New builds a server: it loads the host key (generating an ed25519 key in
// DataDir on first use) and prepares authentication against the authorized
// keys file, which need not exist yet (every key is refused until it does).
func New(cfg Config) (*Server, error) {
	if cfg.Registry == nil {
		return nil, errors.New("sshserver: Config.Registry is required")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("sshserver: Config.DataDir is required")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if err := CheckDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	if !hasFileModes {
		cfg.Logger.Warn("this platform has no unix file modes: the data dir's owner and permissions are not checked", "path", cfg.DataDir)
	}
	s := &Server{
		cfg:      cfg,
		reg:      cfg.Registry,
		log:      cfg.Logger,
		keys:     NewAuthorizedKeys(cfg.AuthorizedKeys, cfg.Logger),
		rate:     newIPRateLimiter(cfg.RatePerIP, cfg.RateBurst),
		conns:    newSlots(4 * cfg.MaxSessions),
		sessions: newSlots(cfg.MaxSessions),
		programs: map[*tea.Program]struct{}{},
		open:     map[*openSession]struct{}{},
	}
	srv, err := wish.NewServer(
		wish.WithHostKeyPath(filepath.Join(cfg.DataDir, HostKeyFile)),
		// Public keys only: with no password or keyboard-interactive
		// handler the library refuses those methods, and because a handler
		// is set it never falls back to "none".
		wish.WithPublicKeyAuth(s.publicKeyHandler),
		wish.WithIdleTimeout(cfg.IdleTimeout),
		wish.WithMaxTimeout(cfg.MaxSessionTime),
		wish.WithVersion("gitopstui"),
		func(srv *ssh.Server) error {
			srv.HandshakeTimeout = cfg.HandshakeTimeout
			srv.ConnCallback = s.connCallback
			srv.Handler = s.handle
			return nil
		},
		s.forwardingOff,
	)
	if err != nil {
		return nil, fmt.Errorf("ssh server: %w", err)
	}
	if srv.PublicKeyHandler == nil || srv.PasswordHandler != nil || srv.KeyboardInteractiveHandler != nil {
		return nil, errors.New("sshserver: authentication must be public-key only")
	}
	if len(srv.ChannelHandlers) != 1 || len(srv.RequestHandlers) != 0 || len(srv.SubsystemHandlers) != 0 {
		return nil, errors.New("sshserver: only session channels, no forwarding and no subsystems")
	}
	s.ssh = srv
	return s, nil
}

// HostKeyPath is the host key file.
func (s *Server) HostKeyPath() string { return filepath.Join(s.cfg.DataDir, HostKeyFile) }

// AuthorizedKeys is the authorized keys file the server reads.
func (s *Server) AuthorizedKeys() *AuthorizedKeys { return s.keys }

// Sessions is the number of sessions open now.
func (s *Server) Sessions() int { return s.sessions.inUse() }

// Serve accepts connections on ln until ctx ends, then shuts down
// gracefully: no new connections or sessions, running procedure calls
// finish, every UI is asked to quit, and connections still open after
// Config.ShutdownTimeout are closed. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	sl := &signalListener{Listener: ln, accepting: make(chan struct{})}
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go s.watchKeys(wctx)
	errc := make(chan error, 1)
	go func() { errc <- s.ssh.Serve(sl) }()
	select {
	case err := <-errc:
		return fmt.Errorf("ssh serve: %w", err)
	case <-ctx.Done():
	}
	// The library registers the listener before its first Accept; shutting
	// down before that would race with the registration and miss it.
	select {
	case <-sl.accepting:
	case err := <-errc:
		return fmt.Errorf("ssh serve: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, ssh.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// signalListener closes accepting when Accept is first called.
type signalListener struct {
	net.Listener
	once      sync.Once
	accepting chan struct{}
}

func (l *signalListener) Accept() (net.Conn, error) {
	l.once.Do(func() { close(l.accepting) })
	return l.Listener.Accept()
}

func (s *Server) shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	progs := make([]*tea.Program, 0, len(s.programs))
	for p := range s.programs {
		progs = append(progs, p)
	}
	s.mu.Unlock()
	s.log.Info("shutting down", "sessions", s.sessions.inUse())

	done := make(chan error, 1)
	go func() { done <- s.ssh.Shutdown(ctx) }() // closes the listener, waits for connections
	// Running operations finish before their UIs are asked to quit.
	if err := s.ops.wait(ctx); err != nil {
		s.log.Warn("shutdown: operations still running at the deadline")
	}
	for _, p := range progs {
		go p.Quit() // Quit blocks until the program reads it; the program is running
	}
	err := <-done
	if err != nil {
		s.log.Warn("shutdown deadline passed: closing remaining connections", "err", err)
		_ = s.ssh.Close()
		return fmt.Errorf("ssh shutdown: %w", err)
	}
	return nil
}

// connCallback applies the per-IP connection rate and the bound on open
// connections before any SSH work is done.
func (s *Server) connCallback(_ ssh.Context, c net.Conn) net.Conn {
	ip := remoteIP(c.RemoteAddr())
	if !s.rate.allow(ip, time.Now()) {
		s.log.Warn("connection refused: rate limit", "remote", ip)
		refuse(c, "too many connections from your address; try again later")
		return nil
	}
	if !s.conns.take() {
		s.log.Warn("connection refused: too many connections", "remote", ip)
		refuse(c, "server busy; try again later")
		return nil
	}
	return &countedConn{Conn: c, release: s.conns.put}
}

// refuse writes a line before the SSH version string (RFC 4253 §4.2 allows
// it; OpenSSH shows it) and closes c.
func refuse(c net.Conn, msg string) {
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = fmt.Fprintf(c, "gitopstui: %s\r\n", msg)
	_ = c.Close()
}

// handle runs one session: the UI with a pty, a command otherwise.
func (s *Server) handle(sess ssh.Session) {
	defer s.recoverSession(sess)
	remote := sess.RemoteAddr().String()
	id, err := s.sessionIdentity(sess)
	if err != nil {
		s.log.Warn("session refused", "remote", remote, "err", err)
		fmt.Fprintln(sess.Stderr(), "gitopstui: permission denied")
		_ = sess.Exit(procio.ExitError)
		return
	}
	if s.isDraining() {
		fmt.Fprintln(sess.Stderr(), "gitopstui: the server is shutting down")
		_ = sess.Exit(procio.ExitError)
		return
	}
	if !s.sessions.take() {
		s.log.Warn("session refused: limit", "user", id.User, "remote", remote, "max", s.cfg.MaxSessions)
		fmt.Fprintf(sess.Stderr(), "gitopstui: too many sessions (%d open); try again later\n", s.cfg.MaxSessions)
		_ = sess.Exit(procio.ExitError)
		return
	}
	defer s.sessions.put()
	o := s.track(sess, id)
	defer s.untrack(o)
	start := time.Now()
	log := s.log.With("user", id.User, "role", id.Role, "remote", remote)
	// The client's environment (sess.Environ) is never read: nothing a client
	// sends as env reaches the UI, a procedure or a child process.
	if cmd := sess.RawCommand(); cmd != "" {
		log.Info("exec", "command", commandForLog(cmd))
		code := s.exec(sess, id, o)
		log.Info("exec done", "exit", code, "took", time.Since(start))
		_ = sess.Exit(code)
		return
	}
	if _, _, ok := sess.Pty(); !ok {
		fmt.Fprint(sess.Stderr(), "gitopstui: the UI needs a terminal (ssh -t); or run a command:\n"+execUsage)
		_ = sess.Exit(procio.ExitUsage)
		return
	}
	log.Info("ui session start")
	s.interactive(sess, id, o)
	log.Info("ui session end", "took", time.Since(start))
}

func (s *Server) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

// interactive runs the UI for one pty session: its own model, styles, keys,
// window size and color profile (from the pty's TERM only).
func (s *Server) interactive(sess ssh.Session, id Identity, o *openSession) {
	pty, _, _ := sess.Pty()
	env := []string{"TERM=" + pty.Term}
	actor := id.Actor()
	var mine inflight
	ctx := model.WithActor(sess.Context(), actor)
	m := ui.New(ui.Options{
		Caller: trackedCaller{s: s, o: o, own: &mine}, Actor: actor, Dark: true, Ctx: ctx,
		Subscribe: s.cfg.Subscribe, Procedures: s.reg.Procedures(),
		// Never an external editor: it would be a process on the server.
		Editor: "",
	})
	p := tea.NewProgram(m,
		// Input is pumped by pumpInput, not by the program's own reader.
		tea.WithInput(nil),
		tea.WithOutput(sess),
		tea.WithEnvironment(env),
		tea.WithColorProfile(colorprofile.Env(env)),
		tea.WithWindowSize(pty.Window.Width, pty.Window.Height),
		// Signals belong to the server process, not to one session.
		tea.WithoutSignalHandler(),
		tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
			if _, ok := msg.(tea.SuspendMsg); ok {
				return tea.ResumeMsg{}
			}
			return msg
		}),
	)
	if !s.addProgram(p) {
		fmt.Fprintln(sess.Stderr(), "gitopstui: the server is shutting down")
		return
	}
	defer s.removeProgram(p)
	pumpCtx, stopPump := context.WithCancel(sess.Context())
	defer stopPump()
	go s.pumpInput(pumpCtx, sess, pty.Term, p)
	bm.MiddlewareWithProgramHandler(func(ssh.Session) *tea.Program { return p })(func(ssh.Session) {})(sess)
	// Calls the UI started keep the session open until they finish (or the
	// client goes away, which cancels them).
	_ = mine.wait(sess.Context())
}

// pumpInput parses the session's input into terminal events and hands them
// to p. bubbletea's own reader would block for ever on a send once its
// program has stopped (ultraviolet's TerminalReader.sendEvents is not
// cancellable), leaking a goroutine for every client that disconnects while
// typing; p.Send gives up once the program has ended, and this loop drains
// the reader until the session's input closes. A panic while reading
// input ends the session's input and is logged.
func (s *Server) pumpInput(ctx context.Context, in io.Reader, term string, p *tea.Program) {
	defer func() {
		if v := recover(); v != nil {
			s.recovered("session input", v)
		}
	}()
	events := make(chan uv.Event)
	go func() {
		defer close(events)
		defer func() {
			if v := recover(); v != nil {
				s.recovered("terminal reader", v)
			}
		}()
		_ = uv.NewTerminalReader(in, term).StreamEvents(ctx, events)
	}()
	for ev := range events {
		p.Send(ev)
	}
}

func (s *Server) addProgram(p *tea.Program) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false
	}
	s.programs[p] = struct{}{}
	return true
}

func (s *Server) removeProgram(p *tea.Program) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.programs, p)
}

// commandForLog keeps the command and procedure name, never the input,
// which may carry values that do not belong in a log.
func commandForLog(cmd string) string {
	verb, rest := cutWord(cmd)
	if verb == "procedure" {
		if pc, err := parseProcedureCommand(rest); err == nil {
			return truncate(verb+" "+pc.name, 120)
		}
	}
	return truncate(verb, 120)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
