package ui

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
)

// startReal runs the real program over the real registry of svc with its
// live subscription, as `gitopstui` does.
func startReal(t *testing.T, svc *services.Services) smoke {
	t.Helper()
	ctx, cancel := context.WithCancel(model.WithActor(context.Background(), model.Actor{User: "alice", Role: model.RoleAdmin, Source: "test"}))
	t.Cleanup(cancel)
	opts := Options{Caller: svc.Registry(), Actor: model.Actor{User: "alice", Role: model.RoleAdmin}, Dark: true, Ctx: ctx, Subscribe: svc.Subscribe}
	last := &atomic.Value{}
	last.Store("")
	tm := teatest.NewTestModel(t, probe{Model: New(opts), last: last}, teatest.WithInitialTermSize(120, 40))
	t.Cleanup(func() { _ = tm.Quit() })
	go func() { _, _ = io.Copy(io.Discard, tm.Output()) }()
	return smoke{tm, last}
}

// callElsewhere runs a procedure through the registry from another
// goroutine, as a call forwarded to the running TUI is run, and waits for it.
func callElsewhere(t *testing.T, svc *services.Services, name, in string) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		ctx := model.WithActor(context.Background(), model.Actor{User: "bob", Role: model.RoleAdmin, Source: "forward"})
		_, err := svc.Registry().Call(ctx, name, []byte(in))
		errc <- err
	}()
	if err := <-errc; err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestScreensFollowMutationsFromOutside: mutations made through the real
// registry outside the UI appear on the open screen and on the screens
// under it, without a key press.
func TestScreensFollowMutationsFromOutside(t *testing.T) {
	svc := realServices(t)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(kubeconfigUnreachable), 0o600); err != nil {
		t.Fatal(err)
	}
	tm := startReal(t, svc)
	waitScreen(t, tm, "Clusters (1)", "lab")
	callElsewhere(t, svc, "clusters.register", `{"name":"edge","id":"edge","kubeconfig":"`+kc+`","context":"lab"}`)
	waitScreen(t, tm, "Clusters (2)", "edge")

	keys(tm, "2")
	waitScreen(t, tm, "Projects (1)", "shop")
	callElsewhere(t, svc, "projects.create", `{"name":"blog","id":"blog"}`)
	waitScreen(t, tm, "Projects (2)", "blog")

	// The cursor stays on the row it was on (shop); blog sorts first.
	keys(tm, "g", "enter")
	waitScreen(t, tm, "Environments of blog (0)")
	callElsewhere(t, svc, "environments.create", `{"projectId":"blog","name":"dev","id":"env-dev","clusterId":"edge","namespace":"blog"}`)
	waitScreen(t, tm, "Environments of blog (1)", "dev")

	// The screen under the top one followed too: back on the projects
	// list, and on the clusters list, a removal shows without a key press.
	keys(tm, "esc")
	waitScreen(t, tm, "Projects (2)", "blog")
	callElsewhere(t, svc, "projects.delete", `{"id":"blog","force":true}`)
	waitScreen(t, tm, "Projects (1)")
	// Number keys switch the top-level view (they do not stack).
	keys(tm, "1")
	waitScreen(t, tm, "Clusters (2)", "edge")
	callElsewhere(t, svc, "clusters.remove", `{"id":"edge"}`)
	waitScreen(t, tm, "Clusters (1)")
}

// TestPaletteMutationUpdatesTheListUnderIt: a project created through the
// palette is on the projects list when its result closes (the issue's
// "6 while the store has 7").
func TestPaletteMutationUpdatesTheListUnderIt(t *testing.T) {
	svc := realServices(t)
	tm := startReal(t, svc)
	waitScreen(t, tm, "Clusters (1)")
	keys(tm, "2")
	waitScreen(t, tm, "Projects (1)")
	keys(tm, ":")
	tm.Type("projects.create")
	keys(tm, "enter")
	waitScreen(t, tm, "name")
	tm.Type("blog")
	keys(tm, "ctrl+s")
	waitScreen(t, tm, "projects.create result", "name: blog")
	keys(tm, "esc")
	waitScreen(t, tm, "Projects (2)", "blog")
}

// TestChangeBurstReloadsEachScreenOnce: notes arriving together schedule
// one reload, and it reloads each following screen once; a note of another
// kind reloads nothing.
func TestChangeBurstReloadsEachScreenOnce(t *testing.T) {
	fc := catalogFake()
	h := newHarness(t, fc, 80, 24)
	h.press("2")
	before := fc.count("projects.list")
	h.m.s.static = false // the gathering is timed in a real program
	note := func(kind, id string) statusMsg {
		return statusMsg(api.StatusEvent{Changed: &api.ChangeNote{Procedure: kind + ".x", Kinds: []string{kind}, IDs: []string{id}}})
	}
	scheduled := 0
	for i := range 5 {
		nm, cmd := h.m.Update(note(api.KindProjects, string(rune('a'+i))))
		h.m = nm.(Model)
		if cmd != nil {
			scheduled++
		}
	}
	if scheduled != 1 {
		t.Fatalf("a burst of 5 notes scheduled %d reloads, want 1", scheduled)
	}
	h.m.s.static = true
	h.send(followMsg{})
	if n := fc.count("projects.list") - before; n != 1 {
		t.Fatalf("projects.list ran %d times for a burst, want 1", n)
	}
	h.send(note(api.KindDeployments, "dep-1"))
	if n := fc.count("projects.list") - before; n != 1 {
		t.Fatalf("a deployments note reloaded the projects list (%d loads)", n)
	}
	if n := fc.count("clusters.list"); n != 2 { // the root's offline and live loads
		t.Fatalf("the clusters list under it reloaded on a projects note: clusters.list ran %d times", n)
	}
}

// count says how often procedure name was called.
func (f *fakeCaller) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == name {
			n++
		}
	}
	return n
}
