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

// jv walks generic JSON along a dotted path ("items.0.id").
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

// jids lists the "id" of every element of the array at path.
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

func TestProjectsCreate(t *testing.T) {
	h := newCatalogHarness(t)
	p := h.ok("projects.create", `{"name":"Web Shop"}`)
	catEq(t, "generated id", catS(t, p, "id"), "proj-web-shop")
	catEq(t, "name", catS(t, p, "name"), "Web Shop")
	if catS(t, p, "createdAt") == "" {
		t.Fatal("no createdAt")
	}
	p = h.ok("projects.create", `{"id":"project-1","name":"Billing"}`)
	catEq(t, "given id", catS(t, p, "id"), "project-1")
	// A name without any slug-able character still gets an id.
	p = h.ok("projects.create", `{"name":"日本"}`)
	if id := catS(t, p, "id"); !strings.HasPrefix(id, "proj-") || len(id) <= len("proj-") {
		t.Fatalf("generated id %q", id)
	}

	h.runErrCases(t, "projects.create", []catErrCase{
		{"missing name", `{}`, model.CodeBadRequest, []string{"name"}},
		{"empty input", ``, model.CodeBadRequest, []string{"name"}},
		{"name wrong type", `{"name":5}`, model.CodeBadRequest, []string{"name"}},
		{"id wrong type", `{"id":true,"name":"x"}`, model.CodeBadRequest, []string{"id"}},
		{"unknown field", `{"name":"x","owner":"bob"}`, model.CodeBadRequest, []string{"owner"}},
		{"bad id", `{"id":"-bad id","name":"x"}`, model.CodeBadRequest, []string{"id"}},
		{"control char in name", `{"name":"a\u0007b"}`, model.CodeBadRequest, []string{"name"}},
		{"leading space", `{"name":" x"}`, model.CodeBadRequest, []string{"name"}},
		{"name too long", `{"name":"` + strings.Repeat("n", 254) + `"}`, model.CodeBadRequest, []string{"name"}},
		{"duplicate name", `{"name":"web shop"}`, model.CodeBadRequest, []string{"name"}},
		{"duplicate id", `{"id":"project-1","name":"Other"}`, model.CodeBadRequest, []string{"id"}},
		{"every bad field named", `{"id":"!","name":"","extra":1}`, model.CodeBadRequest, []string{"id", "name", "extra"}},
		{"not JSON", `{"name":`, model.CodeBadRequest, nil},
		{"not an object", `["x"]`, model.CodeBadRequest, []string{"(input)"}},
	})

	h.failCtx(h.as("val", model.RoleViewer), "projects.create", `{"name":"V"}`, model.CodeInsufficientPermission)
	h.failCtx(h.as("otto", model.RoleOperator), "projects.create", `{"name":"O"}`, model.CodeInsufficientPermission)
	list := h.ok("projects.list", nil)
	if n := len(catA(t, list, "")); n != 3 {
		t.Fatalf("projects.list has %d projects after refused creates, want 3", n)
	}
}

func TestProjectsListGet(t *testing.T) {
	h := newCatalogHarness(t)
	if l := h.ok("projects.list", `{}`); len(catA(t, l, "")) != 0 {
		t.Fatalf("empty store lists %v", l)
	}
	h.mkCluster("cluster-123")
	h.mkProject("shop")
	h.mkProject("blog")
	h.mkEnv("env-prod", "shop", "prod", "cluster-123")
	h.mkEnv("env-blog", "blog", "prod", "cluster-123")
	h.mkRepo("repo-456", "shop", "acme/shop-config")

	l := h.ok("projects.list", `{}`)
	got := catIDs(t, l, "")
	sort.Strings(got)
	catEq(t, "projects", strings.Join(got, ","), "blog,shop")
	// A viewer may read.
	if _, err := h.callCtx(h.as("val", model.RoleViewer), "projects.list", nil); err != nil {
		t.Fatalf("viewer projects.list: %v", err)
	}

	p := h.ok("projects.get", `{"id":"shop"}`)
	catEq(t, "id", catS(t, p, "id"), "shop")
	catEq(t, "environments", strings.Join(catIDs(t, p, "environments"), ","), "env-prod")
	catEq(t, "repositories", strings.Join(catIDs(t, p, "repositories"), ","), "repo-456")
	p = h.ok("projects.get", `{"id":"blog"}`)
	if n := len(catA(t, p, "repositories")); n != 0 {
		t.Fatalf("blog has %d repositories", n)
	}

	h.runErrCases(t, "projects.list", []catErrCase{
		{"unknown field", `{"projectId":"shop"}`, model.CodeBadRequest, []string{"projectId"}},
	})
	h.runErrCases(t, "projects.get", []catErrCase{
		{"missing id", `{}`, model.CodeBadRequest, []string{"id"}},
		{"id wrong type", `{"id":7}`, model.CodeBadRequest, []string{"id"}},
		{"unknown field", `{"id":"shop","x":1}`, model.CodeBadRequest, []string{"x"}},
		{"not found", `{"id":"nope"}`, model.CodeNotFound, nil},
	})
}

func TestProjectsDelete(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("c1")
	h.mkProject("shop")
	h.mkProject("empty")
	h.mkEnv("env-dev", "shop", "dev", "c1")
	h.mkEnv("env-prod", "shop", "prod", "c1")
	h.mkRepo("repo-1", "shop", "acme/shop")
	h.putResource("res-1", "shop", "env-prod")
	h.ok("deployments.create", `{"projectId":"shop","environmentId":"env-prod","deploymentMethod":"manual","image":"shop:1"}`)

	e := h.fail("projects.delete", `{"id":"shop"}`, model.CodeBadRequest)
	envs, _ := e.Details["environments"].([]string)
	sort.Strings(envs)
	catEq(t, "details.environments", strings.Join(envs, ","), "env-dev,env-prod")
	if !strings.Contains(e.Message, "force") {
		t.Fatalf("refusal does not say how to proceed: %s", e.Message)
	}
	// Nothing was removed.
	h.ok("environments.get", `{"id":"env-dev"}`)

	h.runErrCases(t, "projects.delete", []catErrCase{
		{"missing id", `{}`, model.CodeBadRequest, []string{"id"}},
		{"force wrong type", `{"id":"shop","force":"yes"}`, model.CodeBadRequest, []string{"force"}},
		{"not found", `{"id":"nope"}`, model.CodeNotFound, nil},
	})

	d := h.ok("projects.delete", `{"id":"empty"}`)
	catEq(t, "success", catJ(t, d, "success"), any(true))
	catEq(t, "id", catS(t, d, "id"), "empty")
	h.fail("projects.get", `{"id":"empty"}`, model.CodeNotFound)

	h.ok("projects.delete", `{"id":"shop","force":true}`)
	h.fail("projects.get", `{"id":"shop"}`, model.CodeNotFound)
	h.fail("environments.get", `{"id":"env-prod"}`, model.CodeNotFound)
	h.fail("repositories.get", `{"id":"repo-1"}`, model.CodeRepositoryNotFound)
	if l := h.ok("environments.list", nil); len(catA(t, l, "")) != 0 {
		t.Fatalf("environments left: %v", l)
	}
	if l := h.ok("deployments.list", `{"projectId":"shop"}`); len(catA(t, l, "")) != 0 {
		t.Fatalf("deployments left: %v", l)
	}
	// The resource record is soft-deleted, not gone.
	err := h.db.View(func(tx *store.Tx) error {
		r, err := store.Resources.Get(tx, "res-1")
		if err == nil && r.DeletedAt == nil {
			return fmt.Errorf("resource not marked deleted")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The cluster stays.
	h.ok("clusters.get", `{"id":"c1","live":false}`)
}

func TestEnvironmentsCreate(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("cluster-123")
	h.mkProject("shop")
	h.mkProject("blog")

	e := h.ok("environments.create", `{"id":"env-prod","projectId":"shop","name":"prod","clusterId":"cluster-123","namespace":"shop-prod"}`)
	catEq(t, "id", catS(t, e, "id"), "env-prod")
	catEq(t, "projectId", catS(t, e, "projectId"), "shop")
	catEq(t, "clusterId", catS(t, e, "clusterId"), "cluster-123")
	catEq(t, "namespace", catS(t, e, "namespace"), "shop-prod")
	catEq(t, "gitBranch", catS(t, e, "gitopsConfig.gitBranch"), "main")
	catEq(t, "gitPath", catS(t, e, "gitopsConfig.gitPath"), "./k8s/overlays/prod")
	catEq(t, "syncInterval", catS(t, e, "gitopsConfig.syncInterval"), "5m")
	catEq(t, "enabled", catJ(t, e, "gitopsConfig.enabled"), any(false))

	e = h.ok("environments.create", `{"projectId":"shop","name":"staging","clusterId":"cluster-123","namespace":"shop-staging"}`)
	catEq(t, "generated id", catS(t, e, "id"), "env-shop-staging")
	// The same name in another project is fine.
	h.ok("environments.create", `{"projectId":"blog","name":"prod","clusterId":"cluster-123","namespace":"blog"}`)
	// A 63-character name is the longest RFC 1123 label.
	h.ok("environments.create", map[string]any{"projectId": "blog", "name": strings.Repeat("a", 63), "clusterId": "cluster-123", "namespace": "blog"})

	ok := `"projectId":"shop","clusterId":"cluster-123"`
	h.runErrCases(t, "environments.create", []catErrCase{
		{"all required missing", `{}`, model.CodeBadRequest, []string{"projectId", "name", "clusterId", "namespace"}},
		{"uppercase name", `{` + ok + `,"name":"Prod","namespace":"x"}`, model.CodeBadRequest, []string{"name"}},
		{"underscore name", `{` + ok + `,"name":"my_env","namespace":"x"}`, model.CodeBadRequest, []string{"name"}},
		{"leading dash namespace", `{` + ok + `,"name":"qa","namespace":"-x"}`, model.CodeBadRequest, []string{"namespace"}},
		{"dotted namespace", `{` + ok + `,"name":"qa","namespace":"a.b"}`, model.CodeBadRequest, []string{"namespace"}},
		{"64-char name", `{` + ok + `,"name":"` + strings.Repeat("a", 64) + `","namespace":"x"}`, model.CodeBadRequest, []string{"name"}},
		{"bad name and namespace", `{` + ok + `,"name":"A B","namespace":"Z"}`, model.CodeBadRequest, []string{"name", "namespace"}},
		{"bad id", `{` + ok + `,"id":"env prod","name":"qa","namespace":"x"}`, model.CodeBadRequest, []string{"id"}},
		{"unknown field", `{` + ok + `,"name":"qa","namespace":"x","cluster":"c"}`, model.CodeBadRequest, []string{"cluster"}},
		{"namespace wrong type", `{` + ok + `,"name":"qa","namespace":["x"]}`, model.CodeBadRequest, []string{"namespace"}},
		{"unknown project", `{"projectId":"nope","clusterId":"cluster-123","name":"qa","namespace":"x"}`, model.CodeNotFound, []string{"projectId"}},
		{"unknown cluster", `{"projectId":"shop","clusterId":"nope","name":"qa","namespace":"x"}`, model.CodeNotFound, []string{"clusterId"}},
		{"duplicate name", `{` + ok + `,"name":"prod","namespace":"x"}`, model.CodeBadRequest, []string{"name"}},
		{"duplicate id", `{` + ok + `,"id":"env-prod","name":"qa","namespace":"x"}`, model.CodeBadRequest, []string{"id"}},
	})
	h.failCtx(h.as("val", model.RoleViewer), "environments.create", `{`+ok+`,"name":"qa","namespace":"x"}`, model.CodeInsufficientPermission)
	h.failCtx(h.as("otto", model.RoleOperator), "environments.create", `{`+ok+`,"name":"qa","namespace":"x"}`, model.CodeInsufficientPermission)
}

func TestEnvironmentsListGet(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("c1")
	h.mkCluster("c2")
	h.mkProject("shop")
	h.mkProject("blog")
	h.mkEnv("env-dev", "shop", "dev", "c1")
	h.mkEnv("env-prod", "shop", "prod", "c2")
	h.mkEnv("env-blog", "blog", "prod", "c1")

	for _, tc := range []struct{ input, want string }{
		{`{}`, "env-blog,env-dev,env-prod"},
		{``, "env-blog,env-dev,env-prod"},
		{`{"projectId":"shop"}`, "env-dev,env-prod"},
		{`{"clusterId":"c1"}`, "env-blog,env-dev"},
		{`{"projectId":"shop","clusterId":"c1"}`, "env-dev"},
		{`{"projectId":"nope"}`, ""},
	} {
		l := h.ok("environments.list", tc.input)
		got := catIDs(t, l, "")
		sort.Strings(got)
		catEq(t, "environments.list "+tc.input, strings.Join(got, ","), tc.want)
	}
	h.runErrCases(t, "environments.list", []catErrCase{
		{"unknown field", `{"project":"shop"}`, model.CodeBadRequest, []string{"project"}},
		{"wrong type", `{"projectId":1}`, model.CodeBadRequest, []string{"projectId"}},
	})

	e := h.ok("environments.get", `{"id":"env-prod"}`)
	catEq(t, "clusterId", catS(t, e, "clusterId"), "c2")
	h.runErrCases(t, "environments.get", []catErrCase{
		{"missing id", `{}`, model.CodeBadRequest, []string{"id"}},
		{"not found", `{"id":"env-nope"}`, model.CodeNotFound, nil},
	})
}

func TestEnvironmentsUpdate(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("c1")
	h.mkCluster("c2")
	h.mkProject("shop")
	h.mkEnv("env-dev", "shop", "dev", "c1")
	h.mkEnv("env-qa", "shop", "qa", "c1")

	e := h.ok("environments.update", `{"id":"env-dev","name":"development","clusterId":"c2","namespace":"shop-dev"}`)
	catEq(t, "name", catS(t, e, "name"), "development")
	catEq(t, "clusterId", catS(t, e, "clusterId"), "c2")
	catEq(t, "namespace", catS(t, e, "namespace"), "shop-dev")
	catEq(t, "default gitPath follows the name", catS(t, e, "gitopsConfig.gitPath"), "./k8s/overlays/development")
	// Absent fields stay.
	e = h.ok("environments.update", `{"id":"env-dev","namespace":"shop-dev2"}`)
	catEq(t, "name kept", catS(t, e, "name"), "development")
	catEq(t, "cluster kept", catS(t, e, "clusterId"), "c2")
	// A custom gitPath is not touched by a rename.
	h.ok("environments.configureGitOps", `{"environmentId":"env-dev","config":{"gitPath":"./clusters/dev"}}`)
	e = h.ok("environments.update", `{"id":"env-dev","name":"dev"}`)
	catEq(t, "custom gitPath kept", catS(t, e, "gitopsConfig.gitPath"), "./clusters/dev")
	// The cluster index follows the move.
	l := h.ok("environments.list", `{"clusterId":"c2"}`)
	catEq(t, "on c2", strings.Join(catIDs(t, l, ""), ","), "env-dev")

	h.runErrCases(t, "environments.update", []catErrCase{
		{"missing id", `{"name":"x"}`, model.CodeBadRequest, []string{"id"}},
		{"empty name", `{"id":"env-dev","name":""}`, model.CodeBadRequest, []string{"name"}},
		{"bad name", `{"id":"env-dev","name":"Dev!"}`, model.CodeBadRequest, []string{"name"}},
		{"empty namespace", `{"id":"env-dev","namespace":""}`, model.CodeBadRequest, []string{"namespace"}},
		{"bad namespace", `{"id":"env-dev","namespace":"ns_1"}`, model.CodeBadRequest, []string{"namespace"}},
		{"unknown field", `{"id":"env-dev","projectId":"blog"}`, model.CodeBadRequest, []string{"projectId"}},
		{"wrong type", `{"id":"env-dev","clusterId":3}`, model.CodeBadRequest, []string{"clusterId"}},
		{"not found", `{"id":"env-nope","name":"x"}`, model.CodeNotFound, nil},
		{"unknown cluster", `{"id":"env-dev","clusterId":"c9"}`, model.CodeNotFound, []string{"clusterId"}},
		{"duplicate name", `{"id":"env-dev","name":"qa"}`, model.CodeBadRequest, []string{"name"}},
	})
	h.failCtx(h.as("otto", model.RoleOperator), "environments.update", `{"id":"env-dev","namespace":"x"}`, model.CodeInsufficientPermission)
	e = h.ok("environments.get", `{"id":"env-dev"}`)
	catEq(t, "unchanged by refused updates", catS(t, e, "namespace"), "shop-dev2")
}

func TestEnvironmentsDelete(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("c1")
	h.mkProject("shop")
	h.mkEnv("env-dev", "shop", "dev", "c1")
	h.mkEnv("env-prod", "shop", "prod", "c1")
	h.putResource("res-web", "shop", "env-prod")

	d := h.ok("environments.delete", `{"id":"env-dev"}`)
	catEq(t, "success", catJ(t, d, "success"), any(true))
	h.fail("environments.get", `{"id":"env-dev"}`, model.CodeNotFound)

	e := h.fail("environments.delete", `{"id":"env-prod"}`, model.CodeBadRequest)
	catEq(t, "details.resources", fmt.Sprint(e.Details["resources"]), "[res-web]")
	h.ok("environments.get", `{"id":"env-prod"}`)

	h.runErrCases(t, "environments.delete", []catErrCase{
		{"missing id", `{}`, model.CodeBadRequest, []string{"id"}},
		{"not found", `{"id":"env-dev"}`, model.CodeNotFound, nil},
		{"unknown field", `{"id":"env-prod","cascade":true}`, model.CodeBadRequest, []string{"cascade"}},
	})
	h.ok("environments.delete", `{"id":"env-prod","force":true}`)
	h.fail("environments.get", `{"id":"env-prod"}`, model.CodeNotFound)
	p := h.ok("projects.get", `{"id":"shop"}`)
	if n := len(catA(t, p, "environments")); n != 0 {
		t.Fatalf("project still lists %d environments", n)
	}
	// The project can now be deleted without force.
	h.ok("projects.delete", `{"id":"shop"}`)
}

func TestEnvironmentsGitOpsConfig(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("c1")
	h.mkProject("shop")
	h.mkProject("blog")
	h.mkEnv("env-prod", "shop", "prod", "c1")
	h.mkEnv("env-dev", "shop", "dev", "c1")
	h.mkRepo("repo-456", "shop", "acme/shop-config")
	h.mkRepo("repo-blog", "blog", "acme/blog-config")

	// Defaults before and after enabling.
	g := h.ok("environments.getGitOpsConfig", `{"environmentId":"env-prod"}`)
	catEq(t, "environmentId", catS(t, g, "environmentId"), "env-prod")
	catEq(t, "gitBranch", catS(t, g, "gitBranch"), "main")
	catEq(t, "gitPath", catS(t, g, "gitPath"), "./k8s/overlays/prod")
	catEq(t, "syncInterval", catS(t, g, "syncInterval"), "5m")
	g = configured(t, h.ok("environments.configureGitOps", `{"environmentId":"env-prod","config":{"enabled":true,"repositoryId":"repo-456"}}`))
	catEq(t, "enabled", catJ(t, g, "enabled"), any(true))
	catEq(t, "autoSync default", catJ(t, g, "autoSync"), any(true))
	catEq(t, "gitBranch default", catS(t, g, "gitBranch"), "main")
	catEq(t, "gitPath default", catS(t, g, "gitPath"), "./k8s/overlays/prod")
	catEq(t, "syncInterval default", catS(t, g, "syncInterval"), "5m")
	catEq(t, "repositoryId", catS(t, g, "repositoryId"), "repo-456")

	// The spec's example, and the durations Flux accepts.
	for _, iv := range []string{"1m", "10m", "1h30m", "30s", "1.5h", "500ms"} {
		g = configured(t, h.ok("environments.configureGitOps", map[string]any{"environmentId": "env-prod",
			"config": map[string]any{"enabled": true, "autoSync": false, "gitBranch": "release/1.x", "gitPath": "k8s/overlays/prod/", "syncInterval": iv}}))
		catEq(t, "syncInterval", catS(t, g, "syncInterval"), iv)
	}
	catEq(t, "autoSync", catJ(t, g, "autoSync"), any(false))
	catEq(t, "gitBranch", catS(t, g, "gitBranch"), "release/1.x")
	catEq(t, "gitPath normalised", catS(t, g, "gitPath"), "./k8s/overlays/prod")
	// Stored: getGitOpsConfig and environments.get agree; absent fields stay.
	g = configured(t, h.ok("environments.configureGitOps", `{"environmentId":"env-prod","config":{"gitPath":"./apps/../apps/prod"}}`))
	catEq(t, "gitPath cleaned", catS(t, g, "gitPath"), "./apps/prod")
	g = h.ok("environments.getGitOpsConfig", `{"environmentId":"env-prod"}`)
	catEq(t, "syncInterval kept", catS(t, g, "syncInterval"), "500ms")
	catEq(t, "branch kept", catS(t, g, "gitBranch"), "release/1.x")
	e := h.ok("environments.get", `{"id":"env-prod"}`)
	catEq(t, "environment's gitPath", catS(t, e, "gitopsConfig.gitPath"), "./apps/prod")
	// The other environment keeps its defaults.
	g = h.ok("environments.getGitOpsConfig", `{"environmentId":"env-dev"}`)
	catEq(t, "dev gitPath", catS(t, g, "gitPath"), "./k8s/overlays/dev")
	// An empty repositoryId clears it.
	g = configured(t, h.ok("environments.configureGitOps", `{"environmentId":"env-prod","config":{"repositoryId":""}}`))
	catEq(t, "repositoryId cleared", catS(t, g, "repositoryId"), "")
	// An operator may configure GitOps; a viewer may only read it.
	h.okAs(h.as("otto", model.RoleOperator), "environments.configureGitOps", `{"environmentId":"env-dev","config":{"syncInterval":"10m"}}`)
	h.okAs(h.as("val", model.RoleViewer), "environments.getGitOpsConfig", `{"environmentId":"env-dev"}`)
	h.failCtx(h.as("val", model.RoleViewer), "environments.configureGitOps", `{"environmentId":"env-dev","config":{"syncInterval":"1m"}}`, model.CodeInsufficientPermission)

	h.runErrCases(t, "environments.configureGitOps", []catErrCase{
		{"missing environmentId", `{"config":{}}`, model.CodeBadRequest, []string{"environmentId"}},
		{"bad duration 5x", `{"environmentId":"env-prod","config":{"syncInterval":"5x"}}`, model.CodeBadRequest, []string{"config.syncInterval"}},
		{"bad duration 5", `{"environmentId":"env-prod","config":{"syncInterval":"5"}}`, model.CodeBadRequest, []string{"config.syncInterval"}},
		{"bad duration m5", `{"environmentId":"env-prod","config":{"syncInterval":"m5"}}`, model.CodeBadRequest, []string{"config.syncInterval"}},
		{"empty duration", `{"environmentId":"env-prod","config":{"syncInterval":""}}`, model.CodeBadRequest, []string{"config.syncInterval"}},
		{"duration wrong type", `{"environmentId":"env-prod","config":{"syncInterval":300}}`, model.CodeBadRequest, []string{"config.syncInterval"}},
		{"bad branch", `{"environmentId":"env-prod","config":{"gitBranch":"a..b"}}`, model.CodeBadRequest, []string{"config.gitBranch"}},
		{"branch with space", `{"environmentId":"env-prod","config":{"gitBranch":"my branch"}}`, model.CodeBadRequest, []string{"config.gitBranch"}},
		{"empty branch", `{"environmentId":"env-prod","config":{"gitBranch":""}}`, model.CodeBadRequest, []string{"config.gitBranch"}},
		{"absolute path", `{"environmentId":"env-prod","config":{"gitPath":"/etc"}}`, model.CodeBadRequest, []string{"config.gitPath"}},
		{"path escapes", `{"environmentId":"env-prod","config":{"gitPath":"./a/../../b"}}`, model.CodeBadRequest, []string{"config.gitPath"}},
		{"enabled wrong type", `{"environmentId":"env-prod","config":{"enabled":"yes"}}`, model.CodeBadRequest, []string{"config.enabled"}},
		{"unknown config field", `{"environmentId":"env-prod","config":{"interval":"5m"}}`, model.CodeBadRequest, []string{"config.interval"}},
		{"config not an object", `{"environmentId":"env-prod","config":"5m"}`, model.CodeBadRequest, []string{"config"}},
		{"unknown top field", `{"environmentId":"env-prod","gitBranch":"main"}`, model.CodeBadRequest, []string{"gitBranch"}},
		{"several bad fields", `{"environmentId":"env-prod","config":{"syncInterval":"5x","gitBranch":"a b","gitPath":"/x"}}`, model.CodeBadRequest, []string{"config.syncInterval", "config.gitBranch", "config.gitPath"}},
		{"environment not found", `{"environmentId":"env-nope","config":{"enabled":true}}`, model.CodeNotFound, nil},
		{"repository not found", `{"environmentId":"env-prod","config":{"repositoryId":"repo-nope"}}`, model.CodeRepositoryNotFound, nil},
		{"repository of another project", `{"environmentId":"env-prod","config":{"repositoryId":"repo-blog"}}`, model.CodeBadRequest, []string{"config.repositoryId"}},
	})
	g = h.ok("environments.getGitOpsConfig", `{"environmentId":"env-prod"}`)
	catEq(t, "unchanged by refused calls", catS(t, g, "syncInterval"), "500ms")

	h.runErrCases(t, "environments.getGitOpsConfig", []catErrCase{
		{"missing environmentId", `{}`, model.CodeBadRequest, []string{"environmentId"}},
		{"unknown field", `{"environmentId":"env-prod","id":"x"}`, model.CodeBadRequest, []string{"id"}},
		{"not found", `{"environmentId":"env-nope"}`, model.CodeNotFound, nil},
	})
}

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
