package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/procio"
)

// runProcedure is `gitopstui --procedure NAME`: one call as the local user
// (admin, source "cli"), its result or error written by procio.
func runProcedure(ctx context.Context, o options, log *slog.Logger, name string, raw []byte, stdout, stderr io.Writer) int {
	c := &headlessCaller{o: o, log: log}
	defer c.close()
	ctx = model.WithActor(ctx, model.LocalActor("cli"))
	if o.progress {
		ctx = api.WithProgress(ctx, progressLines(stderr))
	}
	return procio.Run(ctx, c, name, raw, o.format, stdout, stderr)
}

// progressLines writes each progress report as one JSON line (--progress).
// Reports come from the process that runs the call: a call forwarded to a
// TUI or serve prints its result only.
func progressLines(w io.Writer) func(api.BulkProgress) {
	var mu sync.Mutex
	return func(p api.BulkProgress) {
		b, _ := json.Marshal(p)
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(append(b, '\n'))
	}
}

// headlessCaller runs a call in the process that owns the data dir's store
// (`gitopstui serve` or a TUI), through its forwarding socket, and opens
// the store itself only when no server answers (none running, or a stale
// socket): a lock held by anything else then stays STORE_LOCKED.
type headlessCaller struct {
	o       options
	log     *slog.Logger
	closeFn func()
}

// Call implements api.Caller.
func (c *headlessCaller) Call(ctx context.Context, name string, raw []byte) (any, error) {
	res, err := procio.Forward(ctx, c.o.dataDir, name, raw)
	if !errors.Is(err, procio.ErrNoServer) {
		return res, err
	}
	svc, closeFn, err := openServices(c.o, c.log)
	if err != nil {
		return nil, err
	}
	c.closeFn = closeFn
	return svc.Registry().Call(ctx, name, raw)
}

// close releases the store when Call opened it.
func (c *headlessCaller) close() {
	if c.closeFn != nil {
		c.closeFn()
	}
}
