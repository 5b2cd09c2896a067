package main

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/ui/sshserver"
)

// forwardProcedure runs a --procedure call in the `gitopstui serve` process
// that owns the data dir's store, through its unix socket. ok is false when
// no server answers (none running, or a stale socket): the caller then opens
// the store itself, and a lock held by anything else stays STORE_LOCKED.
func forwardProcedure(ctx context.Context, o options, name string, raw []byte, stdout, stderr io.Writer) (code int, ok bool) {
	if _, err := os.Stat(sshserver.SocketPath(o.dataDir)); err != nil {
		return 0, false
	}
	ctx = model.WithActor(ctx, model.LocalActor("cli"))
	res, err := sshserver.Forward(ctx, o.dataDir, name, raw)
	if errors.Is(err, sshserver.ErrNoServer) {
		return 0, false
	}
	if err != nil {
		return writeError(stderr, err), true
	}
	if err := writeResult(stdout, o.output, res); err != nil {
		return writeError(stderr, err), true
	}
	return exitOK, true
}

func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}
