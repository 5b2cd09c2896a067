package services_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/gate"
	"github.com/gitopstui/gitopstui/store"
)

// catalogHarness runs procedures through the Registry over a real bbolt file
// in a temporary data dir, with a clock that ticks one second per reading.
type catalogHarness struct {
	t   testing.TB
	dir string
	db  *store.DB
	svc *services.Services
	reg *gate.Registry
	ctx context.Context
}

// catalogClock advances one second each time it is read, so that records
// created one after another have distinct, ordered timestamps.
type catalogClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *catalogClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func newCatalogHarness(t testing.TB) *catalogHarness {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	clk := &catalogClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	svc := services.New(services.Config{DataDir: dir, DB: db, Now: clk.now})
	return &catalogHarness{
		t: t, dir: dir, db: db, svc: svc, reg: svc.Registry(),
		ctx: model.WithActor(context.Background(), model.Actor{User: "alice", Role: model.RoleAdmin, Source: "test"}),
	}
}

// as returns ctx carrying an actor with role.
func (h *catalogHarness) as(user string, role model.Role) context.Context {
	return model.WithActor(context.Background(), model.Actor{User: user, Role: role, Source: "test"})
}

func catalogRaw(input any) []byte {
	switch v := input.(type) {
	case nil:
		return nil
	case string:
		return []byte(v)
	case []byte:
		return v
	}
	raw, err := json.Marshal(input)
	if err != nil {
		panic(err)
	}
	return raw
}

// callCtx runs procedure name with input (a string is raw JSON, anything else
// is marshalled) and returns the result as generic JSON (what a script sees).
func (h *catalogHarness) callCtx(ctx context.Context, name string, input any) (any, error) {
	h.t.Helper()
	res, err := h.reg.Call(ctx, name, catalogRaw(input))
	if err != nil {
		return nil, err
	}
	out, merr := json.Marshal(res)
	if merr != nil {
		h.t.Fatalf("%s: marshal result: %v", name, merr)
	}
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		h.t.Fatalf("%s: result is not JSON: %v", name, err)
	}
	return v, nil
}

func (h *catalogHarness) call(name string, input any) (any, error) {
	h.t.Helper()
	return h.callCtx(h.ctx, name, input)
}

// ok runs a procedure that must succeed.
func (h *catalogHarness) ok(name string, input any) any {
	h.t.Helper()
	v, err := h.call(name, input)
	if err != nil {
		h.t.Fatalf("%s %s: unexpected error: %v", name, catalogRaw(input), err)
	}
	return v
}

// fail runs a procedure that must fail with code; when fields are given,
// details.fields must name exactly those fields.
func (h *catalogHarness) fail(name string, input any, code model.Code, fields ...string) *model.Error {
	h.t.Helper()
	return h.failCtx(h.ctx, name, input, code, fields...)
}

func (h *catalogHarness) failCtx(ctx context.Context, name string, input any, code model.Code, fields ...string) *model.Error {
	h.t.Helper()
	v, err := h.callCtx(ctx, name, input)
	if err == nil {
		h.t.Fatalf("%s %s: want %s, got result %v", name, catalogRaw(input), code, v)
	}
	return wantCatalogErr(h.t, err, code, fields...)
}

// wantCatalogErr checks that err is a typed *model.Error of code whose
// details.fields names exactly fields (when any are given).
func wantCatalogErr(t testing.TB, err error, code model.Code, fields ...string) *model.Error {
	t.Helper()
	var me *model.Error
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T) is not a *model.Error", err, err)
	}
	if got := model.CodeOf(err); got != code {
		t.Fatalf("code = %s, want %s (error: %v, details %v)", got, code, err, me.Details)
	}
	if me.Message == "" {
		t.Fatalf("error %s has no message", code)
	}
	if len(fields) > 0 {
		got := catalogErrFields(me)
		want := append([]string(nil), fields...)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("details.fields = %v, want %v (error: %v)", got, want, err)
		}
		// The wire shape scripts see: {code, message, details: {fields: {...}}}.
		raw, _ := json.Marshal(me)
		var wire struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Details struct {
				Fields map[string]string `json:"fields"`
			} `json:"details"`
		}
		if err := json.Unmarshal(raw, &wire); err != nil || wire.Code != string(code) || len(wire.Details.Fields) != len(want) {
			t.Fatalf("error JSON %s does not carry code and details.fields (%v)", raw, err)
		}
	}
	return me
}

func catalogErrFields(me *model.Error) []string {
	m, _ := me.Details["fields"].(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// catJ walks generic JSON along a dotted path ("items.0.id").
func catJ(t testing.TB, v any, path string) any {
	t.Helper()
	cur := v
	if path == "" {
		return cur
	}
	for _, part := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				t.Fatalf("path %q: no element %q in array of %d", path, part, len(c))
			}
			cur = c[i]
		default:
			t.Fatalf("path %q: cannot descend into %T at %q", path, cur, part)
		}
	}
	return cur
}

func catS(t testing.TB, v any, path string) string {
	t.Helper()
	s, ok := catJ(t, v, path).(string)
	if !ok {
		t.Fatalf("path %q is %#v, not a string", path, catJ(t, v, path))
	}
	return s
}

func catA(t testing.TB, v any, path string) []any {
	t.Helper()
	a, ok := catJ(t, v, path).([]any)
	if !ok {
		t.Fatalf("path %q is %#v, not an array", path, catJ(t, v, path))
	}
	return a
}

// catIDs lists the "id" of every element of the array at path.
func catIDs(t testing.TB, v any, path string) []string {
	t.Helper()
	var out []string
	for _, it := range catA(t, v, path) {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

func catEq[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// kubeconfig writes a kubeconfig whose contexts all point at 127.0.0.1:1,
// where nothing listens.
func (h *catalogHarness) kubeconfig(current string, contexts ...string) string {
	h.t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\nclusters:\n- name: offline\n  cluster:\n    server: https://127.0.0.1:1\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: not-a-secret\ncontexts:\n")
	for _, c := range contexts {
		fmt.Fprintf(&b, "- name: %s\n  context:\n    cluster: offline\n    user: u\n", c)
	}
	if current != "" {
		fmt.Fprintf(&b, "current-context: %s\n", current)
	}
	p := filepath.Join(h.t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *catalogHarness) mkCluster(id string) {
	h.t.Helper()
	h.ok("clusters.register", map[string]any{"id": id, "name": id, "kubeconfig": h.kubeconfig("dev", "dev")})
}

func (h *catalogHarness) mkProject(id string) {
	h.t.Helper()
	h.ok("projects.create", map[string]any{"id": id, "name": id})
}

func (h *catalogHarness) mkEnv(id, project, name, cluster string) {
	h.t.Helper()
	h.ok("environments.create", map[string]any{"id": id, "projectId": project, "name": name, "clusterId": cluster, "namespace": name})
}

func (h *catalogHarness) mkRepo(id, project, fullName string) {
	h.t.Helper()
	h.ok("repositories.create", map[string]any{"id": id, "projectId": project, "fullName": fullName, "url": "https://git.example.com/" + fullName + ".git"})
}

// putResource stores a GitOps resource record of env directly.
func (h *catalogHarness) putResource(id, project, env string) {
	h.t.Helper()
	now := time.Now().UTC()
	err := h.db.Update(func(tx *store.Tx) error {
		return store.Resources.Put(tx, model.GitOpsResource{ID: id, ProjectID: project, EnvironmentID: env,
			Name: id, Namespace: "flux-system", Type: model.ResourceKustomization, Status: model.StatusReady, CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// catErrCase is one error row of a table test.
type catErrCase struct {
	name   string
	input  string
	code   model.Code
	fields []string
}

func (h *catalogHarness) runErrCases(t *testing.T, proc string, cases []catErrCase) {
	t.Helper()
	outer := h.t
	defer func() { h.t = outer }()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			h.fail(proc, tc.input, tc.code, tc.fields...)
		})
	}
}

// okAs runs a procedure as the actor in ctx; it must succeed.
func (h *catalogHarness) okAs(ctx context.Context, name string, input any) any {
	h.t.Helper()
	v, err := h.callCtx(ctx, name, input)
	if err != nil {
		h.t.Fatalf("%s %s: unexpected error: %v", name, catalogRaw(input), err)
	}
	return v
}

// configured checks configureGitOps's {success, message, config} and returns config.
func configured(t *testing.T, res any) any {
	t.Helper()
	catEq(t, "success", catJ(t, res, "success"), any(true))
	if catS(t, res, "message") == "" {
		t.Fatalf("configureGitOps without a message: %v", res)
	}
	return catJ(t, res, "config")
}
