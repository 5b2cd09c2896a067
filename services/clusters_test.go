package services_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
)

// catOffline checks that a cluster view carries a live status that found
// nothing listening.
func catOffline(t *testing.T, v any, path string) {
	t.Helper()
	prefix := ""
	if path != "" {
		prefix = path + "."
	}
	catEq(t, "status.reachable", catJ(t, v, prefix+"status.reachable"), any(false))
	if catS(t, v, prefix+"status.error") == "" {
		t.Fatalf("unreachable cluster reports no error: %v", catJ(t, v, path))
	}
	if catS(t, v, prefix+"status.checkedAt") == "" {
		t.Fatal("status has no checkedAt")
	}
}

func TestClustersRegister(t *testing.T) {
	h := newCatalogHarness(t)
	kc := h.kubeconfig("dev", "dev", "prod")

	c := h.ok("clusters.register", map[string]any{"id": "cluster-123", "name": "Production", "kubeconfig": kc, "context": "prod"})
	catEq(t, "id", catS(t, c, "id"), "cluster-123")
	catEq(t, "name", catS(t, c, "name"), "Production")
	catEq(t, "kubeconfig", catS(t, c, "kubeconfig"), kc)
	catEq(t, "context", catS(t, c, "context"), "prod")
	catOffline(t, c, "")

	// Default context: the current one; generated id from the name.
	c = h.ok("clusters.register", map[string]any{"name": "Dev K3s", "kubeconfig": kc})
	catEq(t, "generated id", catS(t, c, "id"), "cluster-dev-k3s")
	catEq(t, "current context", catS(t, c, "context"), "dev")
	// A name whose slug is taken gets a random id.
	c = h.ok("clusters.register", map[string]any{"name": "Dev K3s!", "kubeconfig": kc})
	if id := catS(t, c, "id"); id == "cluster-dev-k3s" || !strings.HasPrefix(id, "cluster-") {
		t.Fatalf("id %q", id)
	}

	// Default kubeconfig: $KUBECONFIG (its first entry), then ~/.kube/config.
	t.Setenv("KUBECONFIG", kc+string(os.PathListSeparator)+"/nonexistent")
	c = h.ok("clusters.register", `{"name":"from-env"}`)
	catEq(t, "kubeconfig from $KUBECONFIG", catS(t, c, "kubeconfig"), kc)
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".kube"), 0o700); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(kc)
	if err := os.WriteFile(filepath.Join(home, ".kube", "config"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", home)
	c = h.ok("clusters.register", `{"name":"from-home","context":"prod"}`)
	catEq(t, "kubeconfig from ~/.kube/config", catS(t, c, "kubeconfig"), filepath.Join(home, ".kube", "config"))
	// A relative path is stored absolute.
	t.Chdir(filepath.Join(home, ".kube"))
	c = h.ok("clusters.register", `{"name":"relative","kubeconfig":"config"}`)
	catEq(t, "absolute kubeconfig", catS(t, c, "kubeconfig"), filepath.Join(home, ".kube", "config"))

	noCurrent := h.kubeconfig("", "a", "b")
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("clusters: [this is: not a kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	q := func(s string) string { return `"` + s + `"` }
	h.runErrCases(t, "clusters.register", []catErrCase{
		{"missing name", `{"kubeconfig":` + q(kc) + `}`, model.CodeBadRequest, []string{"name"}},
		{"name wrong type", `{"name":{},"kubeconfig":` + q(kc) + `}`, model.CodeBadRequest, []string{"name"}},
		{"bad id", `{"id":"a/b","name":"x","kubeconfig":` + q(kc) + `}`, model.CodeBadRequest, []string{"id"}},
		{"unknown field", `{"name":"x","kubeconfig":` + q(kc) + `,"server":"https://1.2.3.4"}`, model.CodeBadRequest, []string{"server"}},
		{"kubeconfig wrong type", `{"name":"x","kubeconfig":1}`, model.CodeBadRequest, []string{"kubeconfig"}},
		{"missing file", `{"name":"x","kubeconfig":` + q(missing) + `}`, model.CodeBadRequest, []string{"kubeconfig"}},
		{"not a kubeconfig", `{"name":"x","kubeconfig":` + q(garbage) + `}`, model.CodeBadRequest, []string{"kubeconfig"}},
		{"unknown context", `{"name":"x","kubeconfig":` + q(kc) + `,"context":"staging"}`, model.CodeBadRequest, []string{"context"}},
		{"no current context", `{"name":"x","kubeconfig":` + q(noCurrent) + `}`, model.CodeBadRequest, []string{"context"}},
		{"duplicate name", `{"name":"Production","kubeconfig":` + q(kc) + `}`, model.CodeBadRequest, []string{"name"}},
		{"duplicate id", `{"id":"cluster-123","name":"other","kubeconfig":` + q(kc) + `}`, model.CodeBadRequest, []string{"id"}},
	})
	// The messages say what to do.
	e := h.fail("clusters.register", `{"name":"x","kubeconfig":`+q(kc)+`,"context":"staging"}`, model.CodeBadRequest, "context")
	if !strings.Contains(e.Message, "dev, prod") {
		t.Fatalf("unknown-context message does not list the contexts: %s", e.Message)
	}
	e = h.fail("clusters.register", `{"name":"x","kubeconfig":`+q(missing)+`}`, model.CodeBadRequest, "kubeconfig")
	if !strings.Contains(e.Message, missing) {
		t.Fatalf("missing-file message does not name the file: %s", e.Message)
	}
	// With a context named, a kubeconfig without current context is fine.
	h.ok("clusters.register", map[string]any{"name": "named-context", "kubeconfig": noCurrent, "context": "b"})

	h.failCtx(h.as("val", model.RoleViewer), "clusters.register", map[string]any{"name": "v", "kubeconfig": kc}, model.CodeInsufficientPermission)
	h.failCtx(h.as("otto", model.RoleOperator), "clusters.register", map[string]any{"name": "o", "kubeconfig": kc}, model.CodeInsufficientPermission)
	if n := len(catA(t, h.ok("clusters.list", `{"live":false}`), "")); n != 7 {
		t.Fatalf("%d clusters registered, want 7", n)
	}
}

func TestClustersImportKubeconfig(t *testing.T) {
	h := newCatalogHarness(t)
	kc := h.kubeconfig("dev", "staging", "dev", "prod")

	res := h.ok("clusters.importKubeconfig", map[string]any{"kubeconfig": kc})
	imported := catA(t, res, "imported")
	if len(imported) != 3 {
		t.Fatalf("imported %d clusters, want 3: %v", len(imported), res)
	}
	for i, ctx := range []string{"dev", "prod", "staging"} {
		p := "imported." + string(rune('0'+i))
		catEq(t, p+".context", catS(t, res, p+".context"), ctx)
		catEq(t, p+".name", catS(t, res, p+".name"), ctx)
		catEq(t, p+".id", catS(t, res, p+".id"), "cluster-"+ctx)
		catEq(t, p+".kubeconfig", catS(t, res, p+".kubeconfig"), kc)
		catOffline(t, res, p)
	}
	if n := len(catA(t, res, "skipped")); n != 0 {
		t.Fatalf("skipped %d on first import", n)
	}

	// Importing again registers nothing new.
	res = h.ok("clusters.importKubeconfig", map[string]any{"kubeconfig": kc})
	catEq(t, "imported again", len(catA(t, res, "imported")), 0)
	catEq(t, "skipped", strings.Join(catIDs(t, res, "skipped"), ","), "cluster-dev,cluster-prod,cluster-staging")

	// Another file with a context named like a registered cluster: the name
	// gets a suffix, the id a fresh value.
	other := h.kubeconfig("dev", "dev")
	res = h.ok("clusters.importKubeconfig", map[string]any{"kubeconfig": other})
	catEq(t, "suffixed name", catS(t, res, "imported.0.name"), "dev-2")
	if id := catS(t, res, "imported.0.id"); id == "cluster-dev" || !strings.HasPrefix(id, "cluster-") {
		t.Fatalf("id %q", id)
	}

	// Default: $KUBECONFIG.
	third := h.kubeconfig("", "edge")
	t.Setenv("KUBECONFIG", third)
	res = h.ok("clusters.importKubeconfig", `{}`)
	catEq(t, "from $KUBECONFIG", catS(t, res, "imported.0.context"), "edge")

	list := h.ok("clusters.list", `{"live":false}`)
	catEq(t, "clusters", len(catA(t, list, "")), 5)

	missing := filepath.Join(t.TempDir(), "nope")
	h.runErrCases(t, "clusters.importKubeconfig", []catErrCase{
		{"missing file", `{"kubeconfig":"` + missing + `"}`, model.CodeBadRequest, []string{"kubeconfig"}},
		{"unknown field", `{"kubeconfig":"` + kc + `","context":"dev"}`, model.CodeBadRequest, []string{"context"}},
		{"wrong type", `{"kubeconfig":["` + kc + `"]}`, model.CodeBadRequest, []string{"kubeconfig"}},
	})
	h.failCtx(h.as("val", model.RoleViewer), "clusters.importKubeconfig", map[string]any{"kubeconfig": kc}, model.CodeInsufficientPermission)
}

func TestClustersListGet(t *testing.T) {
	h := newCatalogHarness(t)
	if l := h.ok("clusters.list", nil); len(catA(t, l, "")) != 0 {
		t.Fatalf("empty store lists %v", l)
	}
	kc := h.kubeconfig("dev", "dev")
	for _, n := range []string{"zeta", "alpha", "mid"} {
		h.ok("clusters.register", map[string]any{"id": "c-" + n, "name": n, "kubeconfig": kc})
	}

	l := h.ok("clusters.list", `{"live":false}`)
	catEq(t, "ordered by name", strings.Join(catIDs(t, l, ""), ","), "c-alpha,c-mid,c-zeta")
	for i := range 3 {
		if _, has := catJ(t, l, string(rune('0'+i))).(map[string]any)["status"]; has {
			t.Fatalf("live:false still probed: %v", l)
		}
	}
	l = h.okAs(h.as("val", model.RoleViewer), "clusters.list", `{}`)
	for i := range 3 {
		catOffline(t, l, string(rune('0'+i)))
	}

	c := h.ok("clusters.get", `{"id":"c-mid"}`)
	catEq(t, "name", catS(t, c, "name"), "mid")
	catOffline(t, c, "")
	c = h.ok("clusters.get", `{"id":"c-mid","live":false}`)
	if _, has := c.(map[string]any)["status"]; has {
		t.Fatalf("live:false still probed: %v", c)
	}

	h.runErrCases(t, "clusters.list", []catErrCase{
		{"live wrong type", `{"live":"no"}`, model.CodeBadRequest, []string{"live"}},
		{"unknown field", `{"name":"x"}`, model.CodeBadRequest, []string{"name"}},
	})
	h.runErrCases(t, "clusters.get", []catErrCase{
		{"missing id", `{}`, model.CodeBadRequest, []string{"id"}},
		{"live wrong type", `{"id":"c-mid","live":1}`, model.CodeBadRequest, []string{"live"}},
		{"not found", `{"id":"c-nope"}`, model.CodeNotFound, nil},
	})
}

func TestClustersRemove(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("c1")
	h.mkCluster("c2")
	h.mkProject("shop")
	h.mkEnv("env-dev", "shop", "dev", "c1")
	h.mkEnv("env-prod", "shop", "prod", "c1")
	h.mkEnv("env-other", "shop", "other", "c2")

	d := h.ok("clusters.remove", `{"id":"c2","force":true}`)
	catEq(t, "success", catJ(t, d, "success"), any(true))
	h.fail("environments.get", `{"id":"env-other"}`, model.CodeNotFound)

	e := h.fail("clusters.remove", `{"id":"c1"}`, model.CodeBadRequest)
	catEq(t, "details.environments", strings.Join(e.Details["environments"].([]string), ","), "env-dev,env-prod")
	h.ok("clusters.get", `{"id":"c1","live":false}`)

	h.runErrCases(t, "clusters.remove", []catErrCase{
		{"missing id", `{}`, model.CodeBadRequest, []string{"id"}},
		{"not found", `{"id":"c2"}`, model.CodeNotFound, nil},
		{"unknown field", `{"id":"c1","now":true}`, model.CodeBadRequest, []string{"now"}},
	})
	h.failCtx(h.as("otto", model.RoleOperator), "clusters.remove", `{"id":"c1","force":true}`, model.CodeInsufficientPermission)

	h.ok("environments.delete", `{"id":"env-dev"}`)
	h.ok("environments.delete", `{"id":"env-prod"}`)
	h.ok("clusters.remove", `{"id":"c1"}`)
	if l := h.ok("clusters.list", `{"live":false}`); len(catA(t, l, "")) != 0 {
		t.Fatalf("clusters left: %v", l)
	}
	h.ok("projects.delete", `{"id":"shop"}`)
}
