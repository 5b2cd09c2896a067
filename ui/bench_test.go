package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/store"
)

// The UI benchmarks run the real registry over a real bbolt file holding
// 10,000 GitOps resources: the resources screen loads them through the
// same invoke path the app uses (api.Invoke → gate.Registry.Call →
// gitops.listGitOpsResources → bbolt), and the root model's Update and
// View do the rest. The store's clusters are unreachable (127.0.0.1:1), as
// on a laptop off the VPN: each list tries them once and keeps the stored
// statuses.

const benchResources = 10000

// benchServices seeds a real store in one transaction with n resources
// spread over four environments of two projects on two clusters (with
// their repositories), and wires the real services over it.
func benchServices(b *testing.B, n int) *services.Services {
	b.Helper()
	dir := b.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(kubeconfigUnreachable), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := db.Update(func(tx *store.Tx) error { return seedBench(tx, kc, n) }); err != nil {
		b.Fatal(err)
	}
	svc := services.New(services.Config{DataDir: dir, DB: db})
	b.Cleanup(func() { _ = svc.Close() })
	return svc
}

// seedBench writes the catalog records and n resources in tx.
func seedBench(tx *store.Tx, kubeconfig string, n int) error {
	t0 := testNow.Add(-30 * 24 * time.Hour)
	var envs []model.Environment
	for _, c := range []string{"lab-a", "lab-b"} {
		if err := store.Clusters.Put(tx, model.Cluster{ID: c, Name: c, Kubeconfig: kubeconfig, Context: "lab", CreatedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
	}
	for _, p := range []string{"shop", "blog"} {
		if err := store.Projects.Put(tx, model.Project{ID: p, Name: p, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		repo := model.Repository{ID: "repo-" + p, ProjectID: p, FullName: "acme/" + p + "-config", URL: "https://git.example.com/acme/" + p + "-config.git",
			DefaultBranch: "main", CreatedAt: t0, UpdatedAt: t0}
		if err := store.Repositories.Put(tx, repo); err != nil {
			return err
		}
		for i, e := range []string{"prod", "dev"} {
			env := model.Environment{ID: p + "-" + e, ProjectID: p, Name: e, ClusterID: []string{"lab-a", "lab-b"}[i], Namespace: p + "-" + e, CreatedAt: t0, UpdatedAt: t0}
			env.GitOpsConfig = model.GitOpsConfig{Enabled: true, AutoSync: true, GitBranch: "main", GitPath: "./k8s/overlays/" + e, SyncInterval: "5m", RepositoryID: repo.ID}
			if err := store.Environments.Put(tx, env); err != nil {
				return err
			}
			envs = append(envs, env)
		}
	}
	for i := range n {
		if err := store.Resources.Put(tx, benchResource(i, envs[i%len(envs)], t0)); err != nil {
			return err
		}
	}
	return nil
}

// benchResource is resource i: a Kustomization or (every third) a
// HelmRelease with its config, in one of five statuses.
func benchResource(i int, env model.Environment, t0 time.Time) model.GitOpsResource {
	statuses := []string{model.StatusReady, model.StatusReady, model.StatusFailed, model.StatusReconciling, model.StatusSuspended}
	st := statuses[i%len(statuses)]
	typ, cfg := model.ResourceKustomization, map[string]any{"path": fmt.Sprintf("./apps/app-%05d", i), "interval": "5m", "prune": true,
		"sourceRef": map[string]any{"kind": "GitRepository", "name": env.GitOpsConfig.RepositoryID}}
	if i%3 == 2 {
		typ, cfg = model.ResourceHelm, map[string]any{"chartName": "podinfo", "chartVersion": "6.x", "interval": "5m",
			"sourceType": "HelmRepository", "source": map[string]any{"name": "podinfo"}}
	}
	raw, _ := json.Marshal(cfg)
	created := t0.Add(time.Duration(i) * time.Minute)
	r := model.GitOpsResource{
		ID: fmt.Sprintf("res-%05d", i), ProjectID: env.ProjectID, EnvironmentID: env.ID, RepositoryID: env.GitOpsConfig.RepositoryID,
		Name: fmt.Sprintf("app-%05d", i), Namespace: "flux-system", Type: typ, Config: raw, Status: st, Suspended: st == model.StatusSuspended,
		LastAppliedRevision: fmt.Sprintf("main@sha1:%08x%032x", uint32((i+1)*2654435761), i), CreatedAt: created, UpdatedAt: created,
	}
	if st == model.StatusFailed {
		r.ErrorMessage = "kustomize build failed: accumulating resources: missing file deployment.yaml"
	}
	return r
}

// resourcesSession is a new session over svc's registry whose screen is
// the resources list, initialised at 120×40: its load has run through the
// registry and settled in Update.
func resourcesSession(b *testing.B, svc *services.Services) *harness {
	opts := Options{Caller: svc.Registry(), Actor: model.Actor{User: "alice", Role: model.RoleAdmin, Source: "bench"}, Dark: true, Ctx: context.Background()}
	m := New(opts)
	m.s.static = true
	m.s.now = func() time.Time { return testNow }
	m.stack = []screen{newResources(m.s, scopeInfo{}, "", "")}
	h := &harness{t: b, m: m, w: 120, h: 40}
	h.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	h.run(h.m.Init())
	return h
}

// wantFrame fails unless the frame shows every one of want.
func wantFrame(b *testing.B, v tea.View, want ...string) {
	b.Helper()
	s := ansi.Strip(v.Content)
	for _, w := range want {
		if !strings.Contains(s, w) {
			b.Fatalf("frame lacks %q:\n%s", w, s)
		}
	}
}

// BenchmarkListGitOpsResources10kRealStore: the registry call alone that the
// resources screen makes — the store's share of the first frame.
func BenchmarkListGitOpsResources10kRealStore(b *testing.B) {
	svc := benchServices(b, benchResources)
	ctx := model.WithActor(context.Background(), model.Actor{User: "alice", Role: model.RoleAdmin, Source: "bench"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Registry().Call(ctx, "gitops.listGitOpsResources", []byte(`{}`)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResourcesFirstFrame10kRealStore: a new session, its resources
// screen loading 10,000 resources through the real registry, and the first
// frame drawn.
func BenchmarkResourcesFirstFrame10kRealStore(b *testing.B) {
	svc := benchServices(b, benchResources)
	wantFrame(b, resourcesSession(b, svc).m.View(), "Resources (10000)", "app-")
	b.ReportAllocs()
	for b.Loop() {
		if v := resourcesSession(b, svc).m.View(); len(v.Content) == 0 {
			b.Fatal("empty frame")
		}
	}
}

// BenchmarkResourcesFilterKeystroke10kRealStore: one keystroke in the `/`
// filter over the 10,000 loaded resources: Update refilters, View redraws.
func BenchmarkResourcesFilterKeystroke10kRealStore(b *testing.B) {
	h := resourcesSession(b, benchServices(b, benchResources))
	h.press("/")
	h.typ("app-0001")
	wantFrame(b, h.m.View(), "(10 of 10000)", "app-00019")
	for range 8 {
		h.press("backspace")
	}
	keys := []string{"a", "p", "p", "-", "0", "1", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace"}
	msgs := make([]tea.KeyPressMsg, len(keys))
	for i, k := range keys {
		msgs[i] = keyMsg(k)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h.send(msgs[i%len(msgs)])
		_ = h.m.View()
		i++
	}
}

// BenchmarkResourcesRedraw10kRealStore: View alone of the resources screen
// holding the 10,000 loaded resources (a redraw with nothing changed).
func BenchmarkResourcesRedraw10kRealStore(b *testing.B) {
	h := resourcesSession(b, benchServices(b, benchResources))
	b.ReportAllocs()
	for b.Loop() {
		_ = h.m.View()
	}
}
