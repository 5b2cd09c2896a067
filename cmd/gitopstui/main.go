// Command gitopstui runs GitOps with Flux on K3s clusters from a terminal: the
// interactive UI (no arguments), one procedure headless (--procedure), or the
// UI and procedures over SSH (serve); doctor reports the log, the store and
// who owns it. main parses flags, picks the mode, sets up the log (a rotated
// file for the TUI and headless, stderr for serve) and maps errors to exit
// codes; the work is in services and ui.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/procio"
	"github.com/gitopstui/gitopstui/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type options struct {
	dataDir   string
	procedure string
	input     string
	output    string
	format    procio.Format
	progress  bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `gitopstui: GitOps with Flux on K3s from a terminal

Usage:
  gitopstui [--data-dir DIR]                          start the terminal UI
  gitopstui [--data-dir DIR] --procedure NAME [--input JSON|@file|-] [--output json|yaml] [--progress]
  gitopstui [--data-dir DIR] procedures               list procedures and their input fields
  gitopstui [--data-dir DIR] serve [--listen ADDR]    serve the UI and procedures over SSH (serve -h)
  gitopstui [--data-dir DIR] doctor                   the log file, the data dir, who owns the store, recent errors
  gitopstui version

The TUI and headless calls log to $XDG_STATE_HOME/gitopstui/gitopstui.log
(default ~/.local/state/gitopstui/gitopstui.log); serve logs to stderr.
While a TUI or serve owns the data dir, --procedure calls and a second TUI
on it go through that process.

Flags:
`)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("gitopstui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(stderr); fs.PrintDefaults() }
	fs.StringVar(&o.dataDir, "data-dir", "", "data directory (default $GITOPSTUI_DATA_DIR, then $XDG_DATA_HOME/gitopstui)")
	fs.StringVar(&o.procedure, "procedure", "", "run one procedure headless and print its result")
	fs.StringVar(&o.input, "input", "", "procedure input: JSON, @file.json, or - for stdin")
	fs.StringVar(&o.output, "output", "json", "result format: json or yaml")
	fs.BoolVar(&o.progress, "progress", false, "with --procedure: per-object progress of gitops.bulk as JSON lines on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return procio.ExitOK
		}
		return procio.ExitUsage
	}
	format, err := procio.ParseFormat(o.output)
	if err != nil {
		fmt.Fprintln(stderr, "gitopstui:", err)
		return procio.ExitUsage
	}
	o.format = format
	if o.dataDir == "" {
		d, err := store.DefaultDataDir()
		if err != nil {
			fmt.Fprintln(stderr, "gitopstui:", err)
			return procio.ExitUsage
		}
		o.dataDir = d
	}
	rest := fs.Args()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if o.procedure != "" {
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "gitopstui: unexpected arguments after --procedure: %s\n", strings.Join(rest, " "))
			return procio.ExitUsage
		}
		raw, err := procio.ReadInput(o.input, stdin, true)
		if err != nil {
			fmt.Fprintln(stderr, "gitopstui:", err)
			return procio.ExitUsage
		}
		log, closeLog := fileLogger(stderr)
		defer closeLog()
		return runProcedure(ctx, o, log, o.procedure, raw, stdout, stderr)
	}
	if o.input != "" {
		fmt.Fprintln(stderr, "gitopstui: --input needs --procedure")
		return procio.ExitUsage
	}
	if len(rest) == 0 {
		log, closeLog := fileLogger(stderr)
		defer closeLog()
		return runTUI(ctx, o, log, stderr)
	}
	switch rest[0] {
	case "version":
		fmt.Fprintln(stdout, "gitopstui", version)
		return procio.ExitOK
	case "procedures":
		return listProcedures(o, rest[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, o, rest[1:], stderr)
	case "doctor":
		return runDoctor(ctx, o, rest[1:], stdout, stderr)
	case "help":
		fs.Usage()
		return procio.ExitOK
	}
	fmt.Fprintf(stderr, "gitopstui: unknown command %q\n", rest[0])
	fs.Usage()
	return procio.ExitUsage
}

// openServices opens the data dir's store (holding its lock) and wires the
// services over it, logging to log.
func openServices(o options, log *slog.Logger) (*services.Services, func(), error) {
	db, err := store.Open(o.dataDir, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	svc := services.New(services.Config{DataDir: o.dataDir, DB: db, Logger: log})
	return svc, func() { _ = svc.Close(); _ = db.Close() }, nil
}

func listProcedures(o options, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("procedures", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return procio.ExitUsage
	}
	// Describing procedures needs no store: the contract declares them.
	procs := api.Infos()
	if *asJSON || o.format == procio.YAML {
		if err := procio.WriteResult(stdout, o.format, procs); err != nil {
			return procio.WriteError(stderr, err)
		}
		return procio.ExitOK
	}
	api.WriteProcedures(stdout, procs)
	return procio.ExitOK
}
