package ui

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// The smoke tests run the real Bubble Tea program (renderer, input, commands
// on goroutines, the subscription) through teatest.

// probe wraps the root model and keeps the last frame as plain text, so
// tests read the screen as drawn rather than the renderer's diff stream.
type probe struct {
	Model
	last *atomic.Value
}

func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := p.Model.Update(msg)
	p.Model = m.(Model)
	return p, cmd
}

func (p probe) View() tea.View {
	v := p.Model.View()
	p.last.Store(ansi.Strip(v.Content))
	return v
}

type smoke struct {
	*teatest.TestModel
	last *atomic.Value
}

func startProgram(t *testing.T, c Caller, sub chan api.StatusEvent) smoke {
	t.Helper()
	opts := Options{Caller: c, Actor: model.Actor{User: "alice", Role: model.RoleAdmin}, Dark: true, Ctx: context.Background()}
	if sub != nil {
		opts.Subscribe = func(context.Context) <-chan api.StatusEvent { return sub }
	}
	last := &atomic.Value{}
	last.Store("")
	tm := teatest.NewTestModel(t, probe{Model: New(opts), last: last}, teatest.WithInitialTermSize(120, 40))
	t.Cleanup(func() { _ = tm.Quit() })
	go func() { _, _ = io.Copy(io.Discard, tm.Output()) }()
	return smoke{tm, last}
}

// waitScreen waits until the last frame shows every one of want; it fails
// only if that never happens (the bound is generous, not a speed check).
func waitScreen(t *testing.T, tm smoke, want ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := tm.last.Load().(string)
		ok := true
		for _, w := range want {
			if !strings.Contains(s, w) {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("screen never showed %q; last frame:\n%s", want, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func keys(tm smoke, ks ...string) {
	for _, k := range ks {
		tm.Send(keyMsg(k))
	}
}

func TestSmokeDeployPreviewConfirm(t *testing.T) {
	sub := make(chan api.StatusEvent, 4)
	fc := previewFake()
	tm := startProgram(t, fc, sub)
	waitScreen(t, tm, "Clusters (2)")
	keys(tm, "2")
	waitScreen(t, tm, "Projects (2)")
	keys(tm, "enter")
	waitScreen(t, tm, "Environments of shop (2)")
	keys(tm, "D")
	waitScreen(t, tm, "Deploy to prod")
	tm.Type("ghcr.io/acme/web:1.4.2")
	keys(tm, "ctrl+s")
	waitScreen(t, tm, "newTag: 1.4.2", "restart pods")
	keys(tm, "enter")
	waitScreen(t, tm, "waiting for Flux")
	dep := model.Deployment{ID: "dep-9", Status: model.DeploySuccess, GitCommitURL: "https://git.example.com/acme/shop-config/commit/fedcba9"}
	sub <- api.StatusEvent{Deployment: &dep}
	waitScreen(t, tm, "Deployed.")
	if !fc.called("gitops.deployWithGitOps") {
		t.Fatal("deploy not called")
	}
}

func TestSmokeSync(t *testing.T) {
	fc := catalogFake().ret("gitops.triggerSync", api.SyncResult{Success: true, Message: "reconciled", Revision: "main@sha1:abcdef0"})
	tm := startProgram(t, fc, nil)
	waitScreen(t, tm, "Clusters (2)")
	keys(tm, "3")
	waitScreen(t, tm, "app-00011")
	keys(tm, "R")
	waitScreen(t, tm, "sync app-00000: reconciled")
	if in := fc.last("gitops.triggerSync"); in["id"] != "res-00000" {
		t.Fatalf("sync input %v", in)
	}
}

func TestSmokeConfigEditValidationError(t *testing.T) {
	fc := configFake()
	tm := startProgram(t, fc, nil)
	waitScreen(t, tm, "Clusters (2)")
	keys(tm, "2")
	waitScreen(t, tm, "Projects (2)")
	keys(tm, "enter")
	waitScreen(t, tm, "Environments of shop (2)")
	keys(tm, "E")
	waitScreen(t, tm, "ctrl+s validates")
	tm.Send(tea.PasteMsg{Content: "spec:\n  replica: 3\n"})
	keys(tm, "ctrl+s")
	waitScreen(t, tm, "YAML_INVALID", `unknown field "replica"`)
	if fc.called("gitops.commitConfigChanges") {
		t.Fatal("invalid YAML committed")
	}
}

func TestSmokeInstallFlux(t *testing.T) {
	fc := catalogFake().ret("gitops.installFlux", api.InstallFluxResult{Success: true, Version: "v2.6.4", Namespace: "flux-system", Applied: 42})
	tm := startProgram(t, fc, nil)
	waitScreen(t, tm, "Clusters (2)", "degraded")
	keys(tm, "i")
	waitScreen(t, tm, "Install Flux on prod")
	keys(tm, "ctrl+s")
	waitScreen(t, tm, "42 objects applied")
	if in := fc.last("gitops.installFlux"); in["namespace"] != "flux-system" {
		t.Fatalf("install input %v", in)
	}
}
