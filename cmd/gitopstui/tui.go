package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/procio"
	"github.com/gitopstui/gitopstui/ui"
)

// tuiGrace is how long a quitting TUI lets forwarded calls finish.
const tuiGrace = 10 * time.Second

// runTUI is the terminal UI. The first TUI (or serve) on a data dir owns
// its store: it holds the lock and answers the forwarding socket, so that
// `gitopstui --procedure` and a second TUI on the same data dir run through
// it. A TUI that finds an owner answering attaches to it instead.
func runTUI(ctx context.Context, o options, log *slog.Logger, stderr io.Writer) int {
	if owner, err := procio.Ping(ctx, o.dataDir); err == nil {
		return runAttachedTUI(ctx, o, log, owner, stderr)
	}
	svc, closeFn, err := openServices(o, log)
	if err != nil {
		// An owner may have started between the ping and the open.
		if model.CodeOf(err) == model.CodeStoreLocked {
			if owner, perr := procio.Ping(ctx, o.dataDir); perr == nil {
				return runAttachedTUI(ctx, o, log, owner, stderr)
			}
		}
		return procio.WriteError(stderr, err)
	}
	defer closeFn()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The socket first, so that a second TUI or a script that found the
	// store locked finds its owner answering as soon as possible.
	stopSocket := serveSocket(ctx, o, log, svc)
	defer stopSocket()
	// Live status: informers per cluster feed the subscription of the UI.
	if err := svc.StartWatchers(ctx); err != nil {
		return procio.WriteError(stderr, err)
	}
	log.Info("tui started: owns the store", procio.LogKeyDataDir, o.dataDir, procio.LogKeyPID, os.Getpid(), procio.LogKeyVersion, version)
	code := runProgram(ctx, ui.Options{Caller: svc.Registry(), Subscribe: svc.Subscribe}, stderr)
	log.Info("tui stopped", procio.LogKeyDataDir, o.dataDir)
	return code
}

// serveSocket answers forwarded calls, pings and subscriptions for svc on
// the data dir's socket until ctx ends; the function it returns waits for
// that (forwarded calls still running get tuiGrace to finish) and removes
// the socket. Call it while holding the store's lock: that proves no other
// process owns the socket. A socket that cannot be made (a data dir path
// too long for one, say) is logged, and the TUI runs without it: scripts
// then find the store locked, as before.
func serveSocket(ctx context.Context, o options, log *slog.Logger, svc *services.Services) (stop func()) {
	ln, err := procio.ListenForward(o.dataDir)
	if err != nil {
		log.Error("no forwarding socket: --procedure calls and other TUIs on this data dir will find the store locked",
			procio.LogKeyDataDir, o.dataDir, procio.LogKeyErr, err)
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	fwd := procio.NewForwardServer(svc.Registry(), log).Describe("tui").WithSubscribe(svc.Subscribe)
	served := make(chan error, 1)
	go func() { served <- fwd.Serve(ctx, ln, tuiGrace) }()
	return func() {
		cancel()
		if err := <-served; err != nil {
			log.Error("forwarding socket", procio.LogKeyErr, err)
		}
		if err := procio.RemoveSocket(o.dataDir); err != nil {
			log.Warn("remove the forwarding socket", procio.LogKeyErr, err)
		}
	}
}

// runAttachedTUI is a TUI on a data dir that another process (a TUI or
// serve) owns: every call is forwarded to that process, and the screens
// follow its status subscription, so they see its changes, its watchers'
// statuses and every other client's calls live.
func runAttachedTUI(ctx context.Context, o options, log *slog.Logger, owner procio.ServerInfo, stderr io.Writer) int {
	log.Info("tui attached to the store's owner", procio.LogKeyDataDir, o.dataDir, procio.LogKeyPID, owner.PID,
		procio.LogKeyMode, owner.Mode, procio.LogKeyVersion, version)
	if !owner.Streams {
		log.Warn("the store's owner offers no status subscription: screens do not follow the store (ctrl-r reloads)",
			procio.LogKeyPID, owner.PID)
	}
	c := procio.Client{DataDir: o.dataDir, Log: log}
	opts := ui.Options{Caller: c}
	if owner.Streams {
		opts.Subscribe = c.Subscribe
	}
	code := runProgram(ctx, opts, stderr)
	log.Info("tui detached", procio.LogKeyDataDir, o.dataDir)
	return code
}

// runProgram runs the UI over opts's caller and subscription as the local
// user until it quits.
func runProgram(ctx context.Context, opts ui.Options, stderr io.Writer) int {
	actor := model.LocalActor("tui")
	ctx = model.WithActor(ctx, actor)
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	opts.Actor, opts.Dark, opts.Ctx, opts.Editor = actor, true, ctx, editor
	if _, err := tea.NewProgram(ui.New(opts), tea.WithContext(ctx)).Run(); err != nil {
		fmt.Fprintln(stderr, "gitopstui:", err)
		return procio.ExitError
	}
	return procio.ExitOK
}
