package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/sync/errgroup"

	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/policy"
	"github.com/gitopstui/gitopstui/services/procio"
	"github.com/gitopstui/gitopstui/store"
	"github.com/gitopstui/gitopstui/ui/sshserver"
)

const serveUsage = `Usage: gitopstui [--data-dir DIR] serve [flags]

Serves the UI (ssh -p PORT HOST) and procedures (ssh -p PORT HOST procedure NAME '<json>')
to the keys of an OpenSSH authorized_keys file. Each line:
  [role=admin|operator|viewer][,email=ADDR] ssh-ed25519 AAAA... USERNAME
(viewer when role is absent; the file is re-read when it changes). Client environment
variables are ignored. While serving, 'gitopstui --procedure' on this machine (same user)
is forwarded to this process through DATA_DIR/gitopstui.sock.

SSH users borrow nothing of this process by default: no environment variable (a
repository's tokenEnv/usernameEnv), no file (key files, known_hosts, kubeconfigs), no
ssh-agent (agent forwarding is refused), no git credential helper, no file:// remote and
no kubeconfig exec plugin. --credential-env, --allow-file, --allow-file-remotes and
--allow-exec-plugins lend what you name. Local --procedure calls may still name any
variable and file.

The data dir and authorized_keys must be owned by this user (or root) and not writable
by group or others, as OpenSSH's StrictModes requires.

Flags:
`

// runServe is `gitopstui serve`: the UI and the procedures over SSH, plus the
// unix socket through which local --procedure calls reach this process while
// it holds the store.
func runServe(ctx context.Context, o options, args []string, stderr io.Writer) int {
	f, code, ok := parseServeFlags(args, o.dataDir, stderr)
	if !ok {
		return code
	}
	log := stderrLogger(stderr)
	// Before the store is opened: a data dir others can write is refused.
	if err := sshserver.CheckDataDir(o.dataDir); err != nil {
		fmt.Fprintln(stderr, "gitopstui:", err)
		return procio.ExitError
	}
	// Holding the store's lock makes this process the data dir's only server.
	db, err := store.Open(o.dataDir, store.Options{})
	if err != nil {
		return procio.WriteError(stderr, err)
	}
	defer db.Close()
	lend := f.lend
	lend.Serving = true
	logLending(log, lend)
	svc := services.New(services.Config{DataDir: o.dataDir, DB: db, Logger: log, Policy: lend})
	defer svc.Close()
	// Live status for every session: informers per cluster, one subscription per UI.
	if err := svc.StartWatchers(ctx); err != nil {
		return procio.WriteError(stderr, err)
	}
	cfg := f.cfg
	cfg.DataDir = o.dataDir
	cfg.Registry = svc.Registry()
	cfg.Subscribe = svc.Subscribe
	cfg.Logger = log
	if err := serveSSHAndSocket(ctx, cfg, f.addr); err != nil {
		fmt.Fprintln(stderr, "gitopstui:", err)
		return procio.ExitError
	}
	log.Info("stopped")
	return procio.ExitOK
}

// logLending says what SSH users may borrow from this process, and warns
// about what the operator named but this process does not have.
func logLending(log *slog.Logger, p policy.Policy) {
	log.Info("lending to SSH users", "credential_env", p.Env, "allow_file", p.Files,
		"file_remotes", p.FileRemotes, "exec_plugins", p.ExecPlugins, "agent_forwarding", false)
	for _, name := range p.Env {
		if _, ok := os.LookupEnv(name); !ok {
			log.Warn("--credential-env names a variable this process does not have", "name", name)
		}
	}
	for _, path := range p.Files {
		if _, err := os.Stat(path); err != nil {
			log.Warn("--allow-file names a path this process cannot see", "path", path, "err", err)
		}
	}
}

// serveFlags is what serve's command line sets.
type serveFlags struct {
	cfg  sshserver.Config
	addr string
	rate string
	lend policy.Policy
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// parseServeFlags reads serve's flags; ok is false when the command line is
// wrong or asked for help, and code is then the exit status.
func parseServeFlags(args []string, dataDir string, stderr io.Writer) (f serveFlags, code int, ok bool) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
	}
	defineServeFlags(fs, &f)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, procio.ExitOK, false
		}
		return f, procio.ExitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gitopstui: unexpected arguments to serve: %s\n", strings.Join(fs.Args(), " "))
		return f, procio.ExitUsage, false
	}
	if err := checkServeFlags(&f, dataDir); err != nil {
		fmt.Fprintln(stderr, "gitopstui:", err)
		return f, procio.ExitUsage, false
	}
	return f, procio.ExitOK, true
}

func defineServeFlags(fs *flag.FlagSet, f *serveFlags) {
	cfg := &f.cfg
	fs.StringVar(&f.addr, "listen", sshserver.DefaultAddr, "TCP address to listen on")
	fs.StringVar(&cfg.AuthorizedKeys, "authorized-keys", "", "authorized_keys file (default DATA_DIR/authorized_keys)")
	fs.IntVar(&cfg.MaxSessions, "max-sessions", sshserver.DefaultMaxSessions, fmt.Sprintf("maximum concurrent sessions (1 to %d)", sshserver.MaxSessionsLimit))
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", sshserver.DefaultIdleTimeout, "close connections idle this long (at least 1s)")
	fs.DurationVar(&cfg.MaxSessionTime, "max-session", sshserver.DefaultMaxSessionTime, "close connections open this long (at least 1s)")
	fs.StringVar(&f.rate, "rate", strconv.FormatFloat(sshserver.DefaultRatePerIP, 'g', -1, 64)+"/s",
		fmt.Sprintf("new connections per second per IP (N or N/s, above 0 and at most %g)", sshserver.MaxRatePerIP))
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", sshserver.DefaultShutdownTimeout, "how long shutdown waits for running operations")
	fs.Var((*listFlag)(&f.lend.Env), "credential-env", "an environment variable SSH users may name as a repository's tokenEnv or usernameEnv (repeatable)")
	fs.Var((*listFlag)(&f.lend.Files), "allow-file", "a file or directory SSH users may name: SSH keys, known_hosts, kubeconfigs, Flux manifests (repeatable)")
	fs.BoolVar(&f.lend.FileRemotes, "allow-file-remotes", false, "let SSH users use file:// and local-path Git remotes (this machine's repositories)")
	fs.BoolVar(&f.lend.ExecPlugins, "allow-exec-plugins", false, "let kubeconfigs run exec and auth-provider plugins as this user while serving")
}

// checkServeFlags validates the limits and the lending flags, and makes
// the allowed paths absolute.
func checkServeFlags(f *serveFlags, dataDir string) error {
	rate, err := parseRate(f.rate)
	if err != nil {
		return fmt.Errorf("--rate: %w", err)
	}
	f.cfg.RatePerIP = rate
	if n := f.cfg.MaxSessions; n < 1 || n > sshserver.MaxSessionsLimit {
		return fmt.Errorf("--max-sessions: %d is not between 1 and %d", n, sshserver.MaxSessionsLimit)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
		min  time.Duration
	}{{"--idle-timeout", f.cfg.IdleTimeout, time.Second}, {"--max-session", f.cfg.MaxSessionTime, time.Second}, {"--shutdown-timeout", f.cfg.ShutdownTimeout, time.Nanosecond}} {
		if d.v < d.min {
			return fmt.Errorf("%s: %v is not a duration of at least %v", d.flag, d.v, d.min)
		}
	}
	for _, name := range f.lend.Env {
		if !envName.MatchString(name) {
			return fmt.Errorf("--credential-env: %q is not an environment variable name", name)
		}
	}
	for i, path := range f.lend.Files {
		abs, err := allowedPath(path, dataDir)
		if err != nil {
			return fmt.Errorf("--allow-file: %w", err)
		}
		f.lend.Files[i] = abs
	}
	return nil
}

// envName is a portable environment variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// allowedPath is path made absolute. The data dir, anything in it and any
// folder holding it are refused: lending them would lend the host key, the
// store and the Git cache's credentials.
func allowedPath(path, dataDir string) (string, error) {
	if path == "" {
		return "", errors.New("the path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	data, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("data dir %s: %w", dataDir, err)
	}
	if within(resolved(abs), resolved(data)) || within(resolved(data), resolved(abs)) {
		return "", fmt.Errorf("%s would lend the server's data dir %s (host key, store)", path, dataDir)
	}
	return abs, nil
}

// resolved is path with its symbolic links resolved, when it exists.
func resolved(path string) string {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	return path
}

// within says whether path is dir or under it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// serveSSHAndSocket runs the SSH server on addr and the forwarding socket
// in cfg.DataDir until ctx ends, then shuts both down gracefully and
// removes the socket.
func serveSSHAndSocket(ctx context.Context, cfg sshserver.Config, addr string) error {
	log := cfg.Logger
	srv, err := sshserver.New(cfg)
	if err != nil {
		return err
	}
	if srv.AuthorizedKeys().Len() == 0 {
		log.Warn("no authorized keys yet: add lines to the file to let people in", "path", srv.AuthorizedKeys().Path())
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fln, err := procio.ListenForward(cfg.DataDir)
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer func() { _ = procio.RemoveSocket(cfg.DataDir) }()
	log.Info("serving", "addr", ln.Addr().String(), "host_key", hostKeyFingerprint(srv.HostKeyPath()),
		"authorized_keys", srv.AuthorizedKeys().Path(), "socket", procio.SocketPath(cfg.DataDir))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(gctx, ln) })
	g.Go(func() error {
		return procio.NewForwardServer(cfg.Registry, log).Describe("serve").WithSubscribe(cfg.Subscribe).Serve(gctx, fln, cfg.ShutdownTimeout)
	})
	return g.Wait()
}

// parseRate reads "N" or "N/s": a number above 0 and at most
// sshserver.MaxRatePerIP (NaN and infinities would switch the limit off).
func parseRate(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "/s"), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 || v > sshserver.MaxRatePerIP {
		return 0, fmt.Errorf("%q is not a number of new connections per second above 0 and at most %g", s, sshserver.MaxRatePerIP)
	}
	return v, nil
}

func hostKeyFingerprint(path string) string {
	pub, err := readPublicKey(path + ".pub")
	if err != nil {
		return "unknown"
	}
	return gossh.FingerprintSHA256(pub)
}

func readPublicKey(path string) (gossh.PublicKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, err
	}
	pub, _, _, _, err := gossh.ParseAuthorizedKey(b)
	return pub, err
}
