package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

// TestStoreLockedByAnotherProcess: while another process holds the store, a
// procedure answers STORE_LOCKED (exit 1, JSON naming the file) after the
// store's lock timeout instead of waiting for the file.
func TestStoreLockedByAnotherProcess(t *testing.T) {
	if store.LockTimeout >= 2*time.Second {
		t.Fatalf("store.LockTimeout is %s; a locked store must be reported within 2s", store.LockTimeout)
	}
	// The hang guard: far above the lock timeout (and the start of a -race
	// binary on a busy machine), only there to fail instead of hanging.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()

	release := startHolder(ctx, t, dir)
	defer release()

	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, lookPath(t, "gitopstui"), "--data-dir", dir, "--procedure", "projects.list")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("gitopstui hung on a locked store (killed after %s)", elapsed)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitError {
		t.Fatalf("gitopstui on a locked store: %v, want exit status 1\nstdout: %s\nstderr: %s", err, out.String(), errOut.String())
	}
	t.Logf("STORE_LOCKED after %s", elapsed)
	if out.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", out.String())
	}
	checkStoreLocked(t, errOut.Bytes(), filepath.Join(dir, store.FileName))

	// Once the holder lets go, the same command works.
	release()
	out.Reset()
	errOut.Reset()
	cmd = exec.CommandContext(ctx, lookPath(t, "gitopstui"), "--data-dir", dir, "--procedure", "projects.list")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("gitopstui after the holder exited: %v\n%s", err, errOut.String())
	}
	if got := strings.TrimSpace(out.String()); got != "[]" {
		t.Errorf("projects.list = %s, want []", got)
	}
}

// startHolder starts holdstore on the store in dir and returns once it holds
// the store; release (idempotent) lets it go and waits for it to exit.
func startHolder(ctx context.Context, t *testing.T, dir string) (release func()) {
	t.Helper()
	holder := exec.CommandContext(ctx, lookPath(t, "holdstore"), dir)
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var holderErr bytes.Buffer
	holder.Stderr = &holderErr
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	released := false
	release = func() {
		if released {
			return
		}
		released = true
		_ = stdin.Close()
		if err := holder.Wait(); err != nil {
			t.Errorf("holdstore: %v\n%s", err, holderErr.String())
		}
	}
	if line, err := readLine(stdout); line != "ready" {
		release()
		t.Fatalf("holdstore did not get the store: %q, %v\n%s", line, err, holderErr.String())
	}
	return release
}

// checkStoreLocked checks that stderr is the STORE_LOCKED error JSON naming
// the store file path.
func checkStoreLocked(t *testing.T, stderr []byte, path string) {
	t.Helper()
	var e model.Error
	if err := json.Unmarshal(stderr, &e); err != nil {
		t.Fatalf("stderr is not error JSON: %v\n%s", err, stderr)
	}
	if e.Code != model.CodeStoreLocked {
		t.Errorf("code = %s, want %s (%s)", e.Code, model.CodeStoreLocked, e.Message)
	}
	if !strings.Contains(e.Message, path) {
		t.Errorf("message %q does not name the file %s", e.Message, path)
	}
	if e.Details["path"] != path {
		t.Errorf("details.path = %v, want %s", e.Details["path"], path)
	}
}
