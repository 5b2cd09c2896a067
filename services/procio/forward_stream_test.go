package procio

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/store"
)

// ownerHarness serves the real services of a fresh data dir on its socket
// the way a TUI does: described, with the status subscription.
func ownerHarness(t *testing.T, grace time.Duration) (dir string, db *store.DB, stop func() error) {
	t.Helper()
	dir = t.TempDir()
	var err error
	db, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	svc := services.New(services.Config{DataDir: dir, DB: db})
	ln, err := ListenForward(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := NewForwardServer(svc.Registry(), nil).Describe("tui").WithSubscribe(svc.Subscribe)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Serve(ctx, ln, grace) }()
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

func TestPingNamesTheOwner(t *testing.T) {
	dir, _, _ := ownerHarness(t, time.Minute)
	before := time.Now()
	info, err := Ping(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.PID != os.Getpid() || info.Mode != "tui" || !info.Streams || info.Since.IsZero() || info.Since.After(before) {
		t.Errorf("ping = %+v, want this process, mode tui, streaming, started before %s", info, before)
	}
	// Without Describe and WithSubscribe a server says less.
	plain, _, _ := forwardHarness(t, -1, nil)
	if info, err := Ping(context.Background(), plain); err != nil || info.Mode != "" || info.Streams || info.PID != os.Getpid() {
		t.Errorf("plain ping = %+v, %v", info, err)
	}
	if _, err := Subscribe(context.Background(), plain); model.CodeOf(err) != model.CodeNotFound {
		t.Errorf("subscribe to a server without a subscription: %v, want NOT_FOUND", err)
	}
	if _, err := Ping(context.Background(), t.TempDir()); !errors.Is(err, ErrNoServer) {
		t.Errorf("ping without a server: %v, want ErrNoServer", err)
	}
	// Another user's ping is refused like its calls.
	other, _, _ := forwardHarness(t, os.Getuid()+4242, nil)
	if _, err := Ping(context.Background(), other); model.CodeOf(err) != model.CodeInsufficientPermission {
		t.Errorf("ping from another uid: %v, want INSUFFICIENT_PERMISSIONS", err)
	}
}

func TestUnknownOpIsABadRequest(t *testing.T) {
	dir, _, _ := ownerHarness(t, time.Minute)
	x, err := dial(context.Background(), dir, ForwardRequest{Op: "shout"})
	if err == nil {
		x.close()
	}
	if e := model.AsError(err); e.Code != model.CodeBadRequest || e.Details["field"] != "op" {
		t.Errorf("unknown op: %v, want BAD_REQUEST naming op", err)
	}
}

// TestSubscribeFollowsForwardedCalls: a subscriber on the socket receives
// the change note of a call another client forwarded, and its channel
// closes when the server shuts down, without waiting for the grace period.
func TestSubscribeFollowsForwardedCalls(t *testing.T) {
	dir, _, stop := ownerHarness(t, time.Hour)
	ctx := context.Background()
	events, err := Subscribe(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Forward(ctx, dir, "projects.create", []byte(`{"id":"p1","name":"One"}`)); err != nil {
		t.Fatal(err)
	}
	e, ok := <-events
	if !ok || e.Changed == nil || e.Changed.Procedure != "projects.create" ||
		!slices.Contains(e.Changed.Kinds, api.KindProjects) || !slices.Contains(e.Changed.IDs, "p1") {
		t.Fatalf("event = %+v (open %v), want the change note of projects.create p1", e, ok)
	}
	if err := stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	for range events {
	}
}

// TestClientCallsTheOwner: the Client is a Caller whose typed results
// arrive through the contract, audited with source tui (any other source a
// client claims is cli), and whose error says what to do once the owner is
// gone.
func TestClientCallsTheOwner(t *testing.T) {
	dir, db, stop := ownerHarness(t, time.Minute)
	c := Client{DataDir: dir}
	ctx := model.WithActor(context.Background(), model.LocalActor("tui"))
	p, err := api.Invoke(ctx, c, api.CreateProject, api.CreateProjectInput{ID: "shop", Name: "Shop"})
	if err != nil || p.ID != "shop" {
		t.Fatalf("create through the client: %+v, %v", p, err)
	}
	list, err := api.Invoke(ctx, c, api.ListProjects, api.Empty{})
	if err != nil || len(list) != 1 || list[0].Name != "Shop" {
		t.Fatalf("list through the client: %+v, %v", list, err)
	}
	ssh := model.WithActor(context.Background(), model.Actor{User: "mallory", Role: model.RoleAdmin, Source: "ssh"})
	if _, err := Forward(ssh, dir, "projects.create", []byte(`{"id":"web","name":"Web"}`)); err != nil {
		t.Fatal(err)
	}
	// The user is the peer's whatever the client claims.
	entries := auditEntries(t, db)
	if len(entries) != 2 || entries[0].Actor != entries[1].Actor || entries[0].Actor == "mallory" ||
		!slices.ContainsFunc(entries, func(e model.AuditEntry) bool { return e.Source == "tui" }) ||
		!slices.ContainsFunc(entries, func(e model.AuditEntry) bool { return e.Source == "cli" }) {
		t.Errorf("audit sources: %+v, want one tui (the client) and one cli (a claimed ssh)", entries)
	}
	if procs := c.Procedures(); len(procs) != len(api.Infos()) ||
		!slices.IsSortedFunc(procs, func(a, b api.Info) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("client procedures: %d, want all %d sorted by name", len(procs), len(api.Infos()))
	}
	sub := c.Subscribe(ctx)
	if sub == nil {
		t.Fatal("client subscription: nil")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for range sub {
	}
	_, err = c.Call(ctx, "projects.list", []byte(`{}`))
	if e := model.AsError(err); e.Code != model.CodeInternal || !errors.Is(err, ErrNoServer) ||
		!strings.HasPrefix(e.Message, "the gitopstui that owned the store has quit: start gitopstui again ("+dir+"): ") {
		t.Errorf("call after the owner ended: %v", err)
	}
	if c.Subscribe(ctx) != nil {
		t.Error("subscription without an owner: want nil")
	}
}
