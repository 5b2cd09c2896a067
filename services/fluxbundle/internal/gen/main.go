// Command gen regenerates the Flux install bundle that package fluxbundle
// embeds. Run it from services/fluxbundle (go generate does):
//
//	go run ./internal/gen [-out bundles] [-versions v2.9.5,...]
//
// It fetches the flux2 and controller modules through the go command, so it
// needs the Go module proxy (or a warm module cache).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/gitopstui/gitopstui/services/fluxbundle/internal/generate"
)

func main() {
	out := flag.String("out", "bundles", "output directory (replaced whole)")
	versions := flag.String("versions", strings.Join(generate.DefaultVersions(), ","), "comma-separated Flux versions")
	goCmd := flag.String("go", "go", "go command")
	quiet := flag.Bool("q", false, "no progress output")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := generate.Config{OutDir: *out, Versions: strings.Split(*versions, ","), GoCmd: *goCmd, Log: os.Stderr}
	if *quiet {
		cfg.Log = nil
	}
	if err := generate.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
