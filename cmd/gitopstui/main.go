// Command gitopstui runs GitOps with Flux on K3s clusters from a terminal: the
// interactive UI (no arguments), one procedure headless (--procedure), or the
// UI and procedures over SSH (serve). main only parses flags, picks the mode
// and maps errors to exit codes; the work is in services and ui.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"sigs.k8s.io/yaml"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes of the headless contract.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

type options struct {
	dataDir   string
	procedure string
	input     string
	output    string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprint(w, `gitopstui: GitOps with Flux on K3s from a terminal

Usage:
  gitopstui [--data-dir DIR]                          start the terminal UI
  gitopstui [--data-dir DIR] --procedure NAME [--input JSON|@file|-] [--output json|yaml]
  gitopstui [--data-dir DIR] procedures               list procedures and their input fields
  gitopstui [--data-dir DIR] serve [--listen ADDR]    serve the UI and procedures over SSH (serve -h)
  gitopstui version

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
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if o.output != "json" && o.output != "yaml" {
		fmt.Fprintf(stderr, "gitopstui: --output must be json or yaml, not %q\n", o.output)
		return exitUsage
	}
	if o.dataDir == "" {
		d, err := store.DefaultDataDir()
		if err != nil {
			fmt.Fprintln(stderr, "gitopstui:", err)
			return exitUsage
		}
		o.dataDir = d
	}
	rest := fs.Args()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if o.procedure != "" {
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "gitopstui: unexpected arguments after --procedure: %s\n", strings.Join(rest, " "))
			return exitUsage
		}
		raw, err := readInput(o.input, stdin)
		if err != nil {
			fmt.Fprintln(stderr, "gitopstui:", err)
			return exitUsage
		}
		return runProcedure(ctx, o, o.procedure, raw, stdout, stderr)
	}
	if o.input != "" {
		fmt.Fprintln(stderr, "gitopstui: --input needs --procedure")
		return exitUsage
	}
	if len(rest) == 0 {
		return runTUI(ctx, o, stderr)
	}
	switch rest[0] {
	case "version":
		fmt.Fprintln(stdout, "gitopstui", version)
		return exitOK
	case "procedures":
		return listProcedures(o, rest[1:], stdout, stderr)
	case "serve":
		return runServe(ctx, o, rest[1:], stderr)
	case "help":
		fs.Usage()
		return exitOK
	}
	fmt.Fprintf(stderr, "gitopstui: unknown command %q\n", rest[0])
	fs.Usage()
	return exitUsage
}

// readInput resolves --input: inline JSON, @file, or - for stdin.
func readInput(spec string, stdin io.Reader) ([]byte, error) {
	switch {
	case spec == "":
		return []byte("{}"), nil
	case spec == "-":
		b, err := io.ReadAll(io.LimitReader(stdin, api.MaxInputBytes+1))
		if err != nil {
			return nil, fmt.Errorf("read input from stdin: %w", err)
		}
		return b, nil
	case strings.HasPrefix(spec, "@"):
		// Bounded like stdin: @/dev/zero must not eat the memory.
		b, err := readFileLimited(spec[1:], api.MaxInputBytes+1)
		if err != nil {
			return nil, fmt.Errorf("read input file: %w", err)
		}
		return b, nil
	}
	return []byte(spec), nil
}

func openServices(o options) (*services.Services, func(), error) {
	db, err := store.Open(o.dataDir, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	svc := services.New(services.Config{DataDir: o.dataDir, DB: db})
	return svc, func() { _ = svc.Close(); _ = db.Close() }, nil
}

func runProcedure(ctx context.Context, o options, name string, raw []byte, stdout, stderr io.Writer) int {
	// While `gitopstui serve` owns the store, the call runs there.
	if code, ok := forwardProcedure(ctx, o, name, raw, stdout, stderr); ok {
		return code
	}
	svc, closeFn, err := openServices(o)
	if err != nil {
		return writeError(stderr, err)
	}
	defer closeFn()
	ctx = model.WithActor(ctx, model.LocalActor("cli"))
	res, err := svc.Registry().Call(ctx, name, raw)
	if err != nil {
		return writeError(stderr, err)
	}
	if err := writeResult(stdout, o.output, res); err != nil {
		return writeError(stderr, err)
	}
	return exitOK
}

func writeResult(w io.Writer, format string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return model.Wrap(model.CodeInternal, err, "encode result")
	}
	if format == "yaml" {
		if b, err = yaml.JSONToYAML(b); err != nil {
			return model.Wrap(model.CodeInternal, err, "encode result as YAML")
		}
		_, err = w.Write(b)
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeError prints {code, message, details} on stderr and returns exit 1.
func writeError(w io.Writer, err error) int {
	b, _ := json.MarshalIndent(model.AsError(err), "", "  ")
	fmt.Fprintf(w, "%s\n", b)
	return exitError
}

func listProcedures(o options, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("procedures", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	// Describing procedures needs no store: the contract declares them.
	procs := api.Infos()
	if *asJSON || o.output == "yaml" {
		if err := writeResult(stdout, o.output, procs); err != nil {
			return writeError(stderr, err)
		}
		return exitOK
	}
	api.WriteProcedures(stdout, procs)
	return exitOK
}
