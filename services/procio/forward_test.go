package procio

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
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/store"
)

// forwardHarness serves caller (the real registry when nil) on a data dir's
// socket. uid >= 0 pretends the server runs as that user.
func forwardHarness(t *testing.T, uid int, wrap func(api.Caller) api.Caller) (dir string, db *store.DB, stop func() error) {
	t.Helper()
	dir, db, reg := registry(t)
	if wrap != nil {
		reg = wrap(reg)
	}
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
	dir, db, _ := forwardHarness(t, -1, nil)
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
	entries := auditEntries(t, db)
	if len(entries) == 0 || entries[0].Actor != model.LocalActor("cli").User || entries[0].Role != string(model.RoleAdmin) || entries[0].Source != "cli" {
		t.Errorf("audit = %+v", entries)
	}
}

func TestForwardRefusesOtherUsers(t *testing.T) {
	dir, _, _ := forwardHarness(t, os.Getuid()+4242, nil)
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
	if err := RemoveSocket(dir); err != nil {
		t.Errorf("RemoveSocket: %v", err)
	}
	if err := RemoveSocket(dir); err != nil {
		t.Errorf("RemoveSocket without a socket: %v", err)
	}
}

func TestForwardServerStopsAfterRunningCalls(t *testing.T) {
	dir, _, stop := forwardHarness(t, -1, nil)
	if err := stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := Forward(context.Background(), dir, "projects.list", nil); !errors.Is(err, ErrNoServer) {
		t.Errorf("after stop: %v, want ErrNoServer", err)
	}
}

// gatedCaller holds one procedure until released (or its ctx ends).
type gatedCaller struct {
	api.Caller
	name    string
	started chan struct{}
	release chan struct{}
}

func (g gatedCaller) Call(ctx context.Context, name string, raw []byte) (any, error) {
	if name == g.name {
		close(g.started)
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, model.Wrap(model.CodeInternal, ctx.Err(), "cancelled")
		}
	}
	return g.Caller.Call(ctx, name, raw)
}

// TestForwardCallRunningAtShutdownIsDelivered: stopping the server lets a
// running call finish and answer its client within the grace period.
func TestForwardCallRunningAtShutdownIsDelivered(t *testing.T) {
	gate := gatedCaller{name: "projects.create", started: make(chan struct{}), release: make(chan struct{})}
	dir, db, stop := forwardHarness(t, -1, func(c api.Caller) api.Caller { gate.Caller = c; return gate })
	got := make(chan error, 1)
	go func() {
		_, err := Forward(context.Background(), dir, "projects.create", []byte(`{"id":"late","name":"Late"}`))
		got <- err
	}()
	<-gate.started
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// New calls are refused once the server stopped accepting.
	for {
		if _, err := Forward(context.Background(), dir, "projects.list", nil); errors.Is(err, ErrNoServer) {
			break
		}
	}
	close(gate.release)
	if err := <-got; err != nil {
		t.Fatalf("call running at shutdown: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
	var p model.Project
	if err := db.View(func(tx *store.Tx) error {
		var err error
		p, err = store.Projects.Get(tx, "late")
		return err
	}); err != nil || p.Name != "Late" {
		t.Errorf("the call's write: %+v %v", p, err)
	}
}

// TestForwardShutdownCancelsCallsAfterGrace: a call still running when the
// grace period ends is cancelled, its client gets an error, and Serve returns.
func TestForwardShutdownCancelsCallsAfterGrace(t *testing.T) {
	dir, _, reg := registry(t)
	gate := gatedCaller{Caller: reg, name: "projects.list", started: make(chan struct{}), release: make(chan struct{})}
	ln, err := ListenForward(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- NewForwardServer(gate, nil).Serve(ctx, ln, 50*time.Millisecond) }()
	got := make(chan error, 1)
	go func() {
		_, err := Forward(context.Background(), dir, "projects.list", nil)
		got <- err
	}()
	<-gate.started
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if err := <-got; err == nil || errors.Is(err, ErrNoServer) {
		t.Errorf("cancelled call: %v, want the server's error", err)
	}
}
