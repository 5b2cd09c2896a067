package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/sync/errgroup"

	"github.com/gitopstui/gitopstui/services"
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

Flags:
`

// runServe is `gitopstui serve`: the UI and the procedures over SSH, plus the
// unix socket through which local --procedure calls reach this process while
// it holds the store.
func runServe(ctx context.Context, o options, args []string, stderr io.Writer) int {
	cfg, addr, code, ok := parseServeFlags(args, stderr)
	if !ok {
		return code
	}
	// Holding the store's lock makes this process the data dir's only server.
	db, err := store.Open(o.dataDir, store.Options{})
	if err != nil {
		return procio.WriteError(stderr, err)
	}
	defer db.Close()
	svc := services.New(services.Config{DataDir: o.dataDir, DB: db, Logger: stderrLogger(stderr)})
	defer svc.Close()
	// Live status for every session: informers per cluster, one subscription per UI.
	if err := svc.StartWatchers(ctx); err != nil {
		return procio.WriteError(stderr, err)
	}
	cfg.DataDir = o.dataDir
	cfg.Registry = svc.Registry()
	cfg.Subscribe = svc.Subscribe
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := serveSSHAndSocket(ctx, cfg, addr); err != nil {
		fmt.Fprintln(stderr, "gitopstui:", err)
		return procio.ExitError
	}
	cfg.Logger.Info("stopped")
	return procio.ExitOK
}

// parseServeFlags reads serve's flags into a server config and the listen
// address; ok is false when the command line is wrong or asked for help,
// and code is then the exit status.
func parseServeFlags(args []string, stderr io.Writer) (cfg sshserver.Config, addr string, code int, ok bool) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
	}
	var rateF string
	fs.StringVar(&addr, "listen", sshserver.DefaultAddr, "TCP address to listen on")
	fs.StringVar(&cfg.AuthorizedKeys, "authorized-keys", "", "authorized_keys file (default DATA_DIR/authorized_keys)")
	fs.IntVar(&cfg.MaxSessions, "max-sessions", sshserver.DefaultMaxSessions, "maximum concurrent sessions")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", sshserver.DefaultIdleTimeout, "close connections idle this long")
	fs.DurationVar(&cfg.MaxSessionTime, "max-session", sshserver.DefaultMaxSessionTime, "close connections open this long")
	fs.StringVar(&rateF, "rate", strconv.FormatFloat(sshserver.DefaultRatePerIP, 'g', -1, 64)+"/s", "new connections per second per IP (N or N/s)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", sshserver.DefaultShutdownTimeout, "how long shutdown waits for running operations")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, addr, procio.ExitOK, false
		}
		return cfg, addr, procio.ExitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gitopstui: unexpected arguments to serve: %s\n", strings.Join(fs.Args(), " "))
		return cfg, addr, procio.ExitUsage, false
	}
	rate, err := parseRate(rateF)
	if err != nil {
		fmt.Fprintln(stderr, "gitopstui: --rate:", err)
		return cfg, addr, procio.ExitUsage, false
	}
	cfg.RatePerIP = rate
	if cfg.MaxSessions <= 0 || cfg.IdleTimeout <= 0 || cfg.MaxSessionTime <= 0 || cfg.ShutdownTimeout <= 0 {
		fmt.Fprintln(stderr, "gitopstui: --max-sessions, --idle-timeout, --max-session and --shutdown-timeout must be positive")
		return cfg, addr, procio.ExitUsage, false
	}
	return cfg, addr, procio.ExitOK, true
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
		return procio.NewForwardServer(cfg.Registry, log).Serve(gctx, fln, cfg.ShutdownTimeout)
	})
	return g.Wait()
}

// parseRate reads "N" or "N/s".
func parseRate(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "/s"), 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%q is not a positive number per second", s)
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
