package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// -update rewrites the golden files under testdata/golden. The flag is
// shared with charmbracelet/x/exp/golden (imported by teatest) when present.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/golden")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// testNow is the fixed clock of the golden tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeCaller is a test double of the procedure registry: canned results per
// procedure name. The real services are tested in package services.
type fakeCaller struct {
	mu    sync.Mutex
	fns   map[string]func(in map[string]any) (any, error)
	calls []string
	input map[string]map[string]any
}

func newFake() *fakeCaller {
	return &fakeCaller{fns: map[string]func(map[string]any) (any, error){}, input: map[string]map[string]any{}}
}

func (f *fakeCaller) on(name string, fn func(in map[string]any) (any, error)) *fakeCaller {
	f.fns[name] = fn
	return f
}

func (f *fakeCaller) ret(name string, v any) *fakeCaller {
	return f.on(name, func(map[string]any) (any, error) { return v, nil })
}

// Call answers like the registry would: the procedure must be declared in
// the contract, the input must decode strictly into its declared input type,
// and the canned result must have its declared result type, so a contract
// change cannot pass the UI tests unnoticed.
func (f *fakeCaller) Call(_ context.Context, name string, raw []byte) (any, error) {
	info, ok := declared(name)
	if !ok {
		return nil, fmt.Errorf("fake: %s is not a declared procedure", name)
	}
	typed := reflect.New(info.Input).Interface()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(typed); err != nil {
		return nil, fmt.Errorf("fake: input of %s does not fit %s: %v", name, info.Input, err)
	}
	var in map[string]any
	_ = json.Unmarshal(raw, &in)
	f.mu.Lock()
	f.calls = append(f.calls, name)
	f.input[name] = in
	fn, ok := f.fns[name]
	f.mu.Unlock()
	if !ok {
		return nil, model.Errorf(model.CodeNotFound, "fake: no result for %s", name)
	}
	res, err := fn(in)
	if err == nil && reflect.TypeOf(res) != info.Result {
		return nil, fmt.Errorf("fake: canned result of %s is %T, the contract declares %s", name, res, info.Result)
	}
	return res, err
}

// declared finds procedure name in the contract.
func declared(name string) (api.Info, bool) {
	for _, i := range api.Infos() {
		if i.Name == name {
			return i, true
		}
	}
	return api.Info{}, false
}

func (f *fakeCaller) called(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls {
		if c == name {
			return true
		}
	}
	return false
}

func (f *fakeCaller) last(name string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.input[name]
}

// harness drives the root model's Update and runs every command it returns
// to completion, synchronously (timers are off in static mode).
type harness struct {
	t    testing.TB
	m    Model
	w, h int
	quit bool
}

func newHarness(t testing.TB, c Caller, w, h int, tweak ...func(*Options)) *harness {
	opts := Options{Caller: c, Actor: model.Actor{User: "alice", Role: model.RoleAdmin, Source: "test"}, Dark: true, Ctx: context.Background()}
	for _, f := range tweak {
		f(&opts)
	}
	m := New(opts)
	m.s.static = true
	m.s.now = func() time.Time { return testNow }
	hs := &harness{t: t, m: m, w: w, h: h}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.run(hs.m.Init())
	return hs
}

func (h *harness) send(msg tea.Msg) {
	nm, cmd := h.m.Update(msg)
	h.m = nm.(Model)
	h.run(cmd)
}

func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	msg := cmd()
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
	case tea.QuitMsg:
		h.quit = true
	default:
		if strings.Contains(fmt.Sprintf("%T", msg), "execMsg") {
			return
		}
		h.send(msg)
	}
}

// press sends keys: named keys ("enter", "ctrl+d", "esc") or text typed rune by rune.
func (h *harness) press(keys ...string) {
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

func (h *harness) typ(s string) {
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	named := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "up": tea.KeyUp, "down": tea.KeyDown,
		"space": tea.KeySpace, "backspace": tea.KeyBackspace, "pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp,
		"left": tea.KeyLeft, "right": tea.KeyRight, "home": tea.KeyHome, "end": tea.KeyEnd,
	}
	if k == "shift+tab" {
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	}
	if c, ok := named[k]; ok {
		return tea.KeyPressMsg{Code: c}
	}
	if rest, ok := strings.CutPrefix(k, "ctrl+"); ok {
		return tea.KeyPressMsg{Code: rune(rest[0]), Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// screen returns the view as plain text; rendering it must change no state.
func (h *harness) screen() string {
	return ansi.Strip(viewPure(h.t, h.m))
}

// golden compares the plain view with testdata/golden/<name>_<w>x<h>.golden.
func (h *harness) golden(name string) {
	h.t.Helper()
	got := h.screen()
	lines := strings.Split(got, "\n")
	if len(lines) != h.h {
		h.t.Errorf("%s: view has %d lines, want %d", name, len(lines), h.h)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > h.w {
			h.t.Errorf("%s: line %d is %d cells wide, over %d: %q", name, i+1, w, h.w, l)
		}
	}
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	got = strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "golden", fmt.Sprintf("%s_%dx%d.golden", name, h.w, h.h))
	if updating() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatalf("%s: %v (run go test ./ui -update)", name, err)
	}
	if string(want) != got {
		h.t.Errorf("%s: view differs from %s\n--- got ---\n%s\n--- want ---\n%s", name, path, got, want)
	}
}

func (h *harness) contains(want ...string) {
	h.t.Helper()
	s := h.screen()
	for _, w := range want {
		if !strings.Contains(s, w) {
			h.t.Errorf("screen lacks %q:\n%s", w, s)
		}
	}
}

// sizes are the fixed sizes of every golden test.
var sizes = [][2]int{{80, 24}, {120, 40}}

// eachSize runs a scenario at every golden size.
func eachSize(t *testing.T, c func() *fakeCaller, f func(h *harness, fc *fakeCaller)) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			fc := c()
			f(newHarness(t, fc, sz[0], sz[1]), fc)
		})
	}
}

// Canned data.

func ptr[T any](v T) *T { return &v }

func cannedClusters() []api.ClusterView {
	return []api.ClusterView{
		{Cluster: model.Cluster{ID: "prod", Name: "prod", Context: "k3s-prod"}, Status: &api.ClusterStatus{
			Reachable: true, ServerVersion: "v1.31.4+k3s1", K3s: true, Nodes: 3, NodesReady: 3, FluxInstalled: true, FluxVersion: "v2.6.4"}},
		{Cluster: model.Cluster{ID: "edge", Name: "edge", Context: "k3s-edge"}, Status: &api.ClusterStatus{
			Reachable: false, Error: "K3S_NOT_READY: dial tcp 10.0.0.9:6443: connect: connection refused"}},
	}
}

func cannedHealth() api.FluxHealth {
	return api.FluxHealth{Overall: api.HealthDegraded, Version: "v2.6.4", Namespace: "flux-system", CheckedAt: testNow,
		Components: []api.ComponentHealth{
			{Name: "source-controller", Image: "ghcr.io/fluxcd/source-controller:v1.6.2", Replicas: 1, ReadyReplicas: 1, Ready: true, Status: "Current",
				Conditions: []api.Condition{{Type: "Available", Status: "True", Reason: "MinimumReplicasAvailable", Message: "Deployment has minimum availability."}}},
			{Name: "kustomize-controller", Image: "ghcr.io/fluxcd/kustomize-controller:v1.6.1", Replicas: 1, ReadyReplicas: 0, Ready: false, Status: "InProgress",
				Message:    "Deployment does not have minimum availability.",
				Conditions: []api.Condition{{Type: "Available", Status: "False", Reason: "MinimumReplicasUnavailable", Message: "Deployment does not have minimum availability."}}},
		},
		CRDs: []api.CRDHealth{{Name: "gitrepositories.source.toolkit.fluxcd.io", Established: true}, {Name: "kustomizations.kustomize.toolkit.fluxcd.io", Established: true}},
	}
}

func cannedProject() api.ProjectView {
	return api.ProjectView{
		Project: model.Project{ID: "shop", Name: "shop", CreatedAt: testNow.Add(-72 * time.Hour)},
		Environments: []model.Environment{
			{ID: "env-prod", ProjectID: "shop", Name: "prod", ClusterID: "prod", Namespace: "shop",
				GitOpsConfig: model.GitOpsConfig{Enabled: true, AutoSync: true, GitBranch: "main", GitPath: "./k8s/overlays/prod", SyncInterval: "5m", RepositoryID: "repo-456"}},
			{ID: "env-staging", ProjectID: "shop", Name: "staging", ClusterID: "edge", Namespace: "shop-staging",
				GitOpsConfig: model.GitOpsConfig{Enabled: false, GitBranch: "main", GitPath: "./k8s/overlays/staging", SyncInterval: "1m"}},
		},
		Repositories: []model.Repository{{ID: "repo-456", ProjectID: "shop", FullName: "acme/shop-config", URL: "https://git.example.com/acme/shop-config.git"}},
	}
}

func cannedResources(n int) []api.ResourceView {
	out := make([]api.ResourceView, 0, n)
	statuses := []string{model.StatusReady, model.StatusReady, model.StatusFailed, model.StatusReconciling, model.StatusSuspended}
	env := api.EnvSummary{ID: "env-prod", Name: "prod", Namespace: "shop", ClusterID: "prod"}
	for i := 0; i < n; i++ {
		st := statuses[i%len(statuses)]
		typ := model.ResourceKustomization
		if i%3 == 2 {
			typ = model.ResourceHelm
		}
		r := model.GitOpsResource{
			ID: fmt.Sprintf("res-%05d", i), ProjectID: "shop", EnvironmentID: "env-prod", RepositoryID: "repo-456",
			Name: fmt.Sprintf("app-%05d", i), Namespace: "flux-system", Type: typ, Status: st, Suspended: st == model.StatusSuspended,
			LastAppliedRevision: fmt.Sprintf("main@sha1:%08x%032x", uint32((i+1)*2654435761), i), CreatedAt: testNow.Add(-time.Duration(i+1) * time.Hour),
		}
		if st == model.StatusFailed {
			r.ErrorMessage = "kustomize build failed: accumulating resources: missing file deployment.yaml"
		}
		out = append(out, api.NewResourceView(r, env, api.RepoSummary{ID: "repo-456", FullName: "acme/shop-config"}))
	}
	return out
}

func cannedDetail() api.ResourceDetail {
	v := cannedResources(3)[2]
	v.Status, v.LastAppliedRevision, v.LastAttemptedRevision = model.StatusFailed, "6.7.0", "6.7.1"
	return api.ResourceDetail{ResourceView: v, Events: []api.Event{
		{Type: "Warning", Reason: "InstallFailed", Message: "Helm install failed: timed out waiting for the condition", Count: 3, Timestamp: testNow.Add(-10 * time.Minute)},
		{Type: "Normal", Reason: "ArtifactUpToDate", Message: "artifact up-to-date with remote revision", Count: 1, Timestamp: testNow.Add(-time.Hour)},
	},
		Config:    json.RawMessage(`{"chartName":"podinfo","chartVersion":"6.x","interval":"5m","sourceType":"HelmRepository","source":{"name":"podinfo"}}`),
		SourceRef: "HelmRepository/flux-system/podinfo", DependsOn: []string{"infra"},
		Manifest: "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app-00002\n  namespace: flux-system\nspec:\n" +
			"  chart:\n    spec:\n      chart: podinfo\n      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n      version: 6.x\n  interval: 5m\n",
		Conditions: []api.Condition{{Type: "Ready", Status: "False", Reason: "InstallFailed", Message: "Helm install failed"}},
		Chain:      []string{"dependsOn infra: not ready", "source HelmRepository/flux-system/podinfo: fetch failed", "Ready=False: Helm install failed"},
	}
}

func cannedDeployments() []model.Deployment {
	mk := func(i int, method, status string) model.Deployment {
		return model.Deployment{ID: fmt.Sprintf("dep-%d", i), ProjectID: "shop", EnvironmentID: "env-prod", DeploymentMethod: method, Status: status,
			Image: "ghcr.io/acme/web:1.4." + fmt.Sprint(i), GitCommitSha: fmt.Sprintf("abc%d%036d", i, 0), GitCommitURL: "https://git.example.com/acme/shop-config/commit/abc",
			DeployedBy: "alice", Message: "deploy web 1.4." + fmt.Sprint(i), CreatedAt: testNow.Add(-time.Duration(i) * time.Hour),
			Diff: "--- a/k8s/overlays/prod/kustomization.yaml\n+++ b/k8s/overlays/prod/kustomization.yaml\n@@ -3,2 +3,2 @@\n images:\n-  - name: web\n-    newTag: 1.4.1\n+  - name: web\n+    newTag: 1.4.2\n"}
	}
	out := []model.Deployment{
		mk(1, model.MethodGitOpsUI, model.DeploySuccess), mk(2, model.MethodGitOpsGit, model.DeploySuccess),
		mk(3, model.MethodPipeline, model.DeployFailed), mk(4, model.MethodManual, model.DeployPending),
	}
	// A full first page (deployments.list's default limit), so the screen offers more.
	for i := 5; i <= 50; i++ {
		out = append(out, mk(i, model.MethodGitOpsUI, model.DeploySuccess))
	}
	return out
}

// catalogFake answers the catalog and list procedures.
func catalogFake() *fakeCaller {
	pv := cannedProject()
	return newFake().
		on("clusters.list", func(in map[string]any) (any, error) {
			if in["live"] == false {
				cs := cannedClusters()
				for i := range cs {
					cs[i].Status = nil
				}
				return cs, nil
			}
			return cannedClusters(), nil
		}).
		on("gitops.checkFluxHealth", func(in map[string]any) (any, error) {
			if in["clusterId"] == "edge" {
				return nil, model.Errorf(model.CodeK3sNotReady, "cluster edge is not reachable")
			}
			return cannedHealth(), nil
		}).
		ret("projects.list", []model.Project{pv.Project, {ID: "blog", Name: "blog", CreatedAt: testNow.Add(-time.Hour)}}).
		ret("projects.get", pv).
		ret("environments.list", pv.Environments).
		ret("repositories.list", pv.Repositories).
		ret("gitops.listGitOpsResources", cannedResources(12)).
		ret("gitops.getGitOpsResource", cannedDetail()).
		ret("deployments.list", cannedDeployments())
}
