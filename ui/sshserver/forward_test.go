package sshserver

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/store"
)

// forwardHarness serves a real registry on a data dir's socket.
func forwardHarness(t *testing.T, uid int) (dir string, db *store.DB, stop func() error) {
	t.Helper()
	dir = t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	reg := services.New(services.Config{DataDir: dir, DB: db}).Registry()
	ln, err := ListenForward(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := NewForwardServer(reg, nil)
	if uid >= 0 {
		f.uid = uid
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Serve(ctx, ln, 5*time.Second) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	return dir, db, stop
}

func TestForwardRunsInTheServerAsTheLocalAdmin(t *testing.T) {
	dir, db, _ := forwardHarness(t, -1)
	fi, err := os.Stat(SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, want a 0600 socket", fi.Mode())
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, ".sock-*")); len(entries) != 0 {
		t.Errorf("temporary bind dirs left behind: %v", entries)
	}

	ctx := context.Background()
	res, err := Forward(ctx, dir, "projects.create", []byte(`{"id":"p1","name":"One"}`))
	if err != nil {
		t.Fatal(err)
	}
	var p model.Project
	if err := json.Unmarshal(res, &p); err != nil || p.ID != "p1" {
		t.Fatalf("result %s: %v", res, err)
	}
	// Errors come back typed; input is forwarded verbatim, even when invalid.
	_, err = Forward(ctx, dir, "projects.create", []byte(`{"name":`))
	var me *model.Error
	if !errors.As(err, &me) || me.Code != model.CodeBadRequest {
		t.Errorf("invalid input: %v", err)
	}
	_, err = Forward(ctx, dir, "no.such", nil)
	if model.CodeOf(err) != model.CodeNotFound {
		t.Errorf("unknown procedure: %v", err)
	}
	// The audit names the local user, through the CLI, as admin.
	var entries []model.AuditEntry
	_ = db.View(func(tx *store.Tx) error {
		entries, _, err = store.Audit.List(tx, store.Query[model.AuditEntry]{})
		return err
	})
	if len(entries) == 0 || entries[0].Actor != model.LocalActor("cli").User || entries[0].Role != string(model.RoleAdmin) || entries[0].Source != "cli" {
		t.Errorf("audit = %+v", entries)
	}
}

func TestForwardRefusesOtherUsers(t *testing.T) {
	dir, _, _ := forwardHarness(t, os.Getuid()+4242)
	_, err := Forward(context.Background(), dir, "projects.list", []byte(`{}`))
	if model.CodeOf(err) != model.CodeInsufficientPermission {
		t.Fatalf("peer with another uid: %v, want INSUFFICIENT_PERMISSIONS", err)
	}
}

func TestForwardWithoutServer(t *testing.T) {
	dir := t.TempDir()
	if _, err := Forward(context.Background(), dir, "projects.list", nil); !errors.Is(err, ErrNoServer) {
		t.Errorf("no socket: %v, want ErrNoServer", err)
	}
	// A stale socket (the server died) is no server either.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: SocketPath(dir), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	_ = ln.Close()
	if _, err := Forward(context.Background(), dir, "projects.list", nil); !errors.Is(err, ErrNoServer) {
		t.Errorf("stale socket: %v, want ErrNoServer", err)
	}
	// A new server replaces the stale socket.
	if ln, err := ListenForward(dir); err != nil {
		t.Errorf("listen over a stale socket: %v", err)
	} else {
		_ = ln.Close()
	}
}

func TestForwardServerStopsAfterRunningCalls(t *testing.T) {
	dir, _, stop := forwardHarness(t, -1)
	if err := stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := Forward(context.Background(), dir, "projects.list", nil); !errors.Is(err, ErrNoServer) {
		t.Errorf("after stop: %v, want ErrNoServer", err)
	}
}
