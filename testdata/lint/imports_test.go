package main

import (
	"strings"
	"testing"
)

const mod = "example.com/m"

// world is a synthetic project laid out as DESIGN.md wants it, with its
// import graph. Each case adds one import and checks the rules' verdict.
type world struct {
	pkgs []pkg
	g    graph
}

func newWorld() *world {
	w := &world{g: graph{
		"k8s.io/client-go/rest":           {"k8s.io/apimachinery/pkg/runtime"},
		"k8s.io/apimachinery/pkg/runtime": nil,
		"github.com/go-git/go-git/v5":     nil,
		"charm.land/bubbletea/v2":         nil,
	}}
	w.add("model", false)
	w.add("store", false, "model")
	w.add("services/api", false, "model")
	w.add("services/kube", false, "model", "k8s.io/client-go/rest")
	w.add("services/gate", false, "model", "services/api")
	w.add("services", false, "services/gate", "services/kube", "store")
	w.add("ui", false, "model", "services/api", "charm.land/bubbletea/v2")
	w.add("ui/sshserver", false, "ui", "services/api")
	w.add("cmd/gitopstui", false, "ui", "services", "store")
	return w
}

// full qualifies a project-relative path; others stay as they are.
func full(p string) string {
	if strings.Contains(strings.Split(p, "/")[0], ".") {
		return p
	}
	return mod + "/" + p
}

// add gives package rel the imports (test imports when test is set).
func (w *world) add(rel string, test bool, imports ...string) {
	path := full(rel)
	i := -1
	for j, p := range w.pkgs {
		if p.path == path {
			i = j
		}
	}
	if i < 0 {
		w.pkgs = append(w.pkgs, pkg{path: path, dir: rel})
		i = len(w.pkgs) - 1
	}
	for _, imp := range imports {
		file := rel + "/a.go"
		if test {
			file = rel + "/a_test.go"
		}
		w.pkgs[i].imports = append(w.pkgs[i].imports, importSite{path: full(imp), pos: file + ":3", test: test})
		if !test {
			w.g[path] = append(w.g[path], full(imp))
		}
	}
}

func (w *world) check() []violation { return checkImports(mod, rules, w.pkgs, w.g) }

func TestTheDesignedMapPasses(t *testing.T) {
	w := newWorld()
	w.add("ui", true, "services", "store", "services/testcluster")
	w.add("services/kube", true, "services/gate")
	w.add("cmd/gitopstui", true, "services/gate")
	w.add("services/procio", false, "model", "services/api")
	w.add("ui", false, "services/procio")
	if vs := w.check(); len(vs) != 0 {
		t.Fatalf("the designed map reports violations:\n%s", joinViolations(vs))
	}
}

func TestImportRulesFail(t *testing.T) {
	cases := []struct {
		name    string
		from    string
		test    bool
		imports []string
		want    []string // the violations expected, in order: a substring of each
	}{
		{"model imports store", "model", false, []string{"store"}, []string{`model/a.go:3: model imports store: rule "model"`}},
		{"model test imports store", "model", true, []string{"store"}, []string{`model/a_test.go:3: model test imports store: rule "model"`}},
		{"model links charm", "model", false, []string{"charm.land/bubbletea/v2"}, []string{"model links charm.land via charm.land/bubbletea/v2"}},
		{"store imports services", "store", false, []string{"services"}, []string{`store imports services: rule "store"`}},
		{"api imports a services package", "services/api", false, []string{"services/gate"}, []string{`services/api imports services/gate: rule "api"`, `services/api imports services/gate: rule "seams"`}},
		{"a services package imports ui", "services/gitx", false, []string{"ui"}, []string{`services/gitx imports ui: rule "services"`}},
		{"a services test imports cmd", "services/e2e", true, []string{"cmd/gitopstui"}, []string{`services/e2e test imports cmd/gitopstui: rule "services"`}},
		{"ui imports services", "ui", false, []string{"services"}, []string{
			`ui/a.go:3: ui imports services: rule "ui"`,
			`ui/a.go:3: ui links k8s.io/client-go via services → services/kube → k8s.io/client-go/rest: rule "ui"`,
			`ui/sshserver/a.go:3: ui/sshserver links k8s.io/client-go via ui → services → services/kube → k8s.io/client-go/rest: rule "ui"`,
		}},
		{"ui imports store", "ui/sshserver", false, []string{"store"}, []string{`ui/sshserver imports store: rule "ui"`}},
		{"ui test imports a seam", "ui", true, []string{"services/gate"}, []string{`ui test imports services/gate: rule "ui"`}},
		{"cmd imports a seam", "cmd/gitopstui", false, []string{"services/gate"}, []string{`cmd/gitopstui imports services/gate: rule "seams"`}},
		{"a library imports a seam", "services/manifest", false, []string{"services/flux"}, []string{`services/manifest imports services/flux: rule "seams"`}},
		{"ui links go-git", "ui", false, []string{"github.com/go-git/go-git/v5"}, []string{
			`ui/a.go:3: ui links github.com/go-git via github.com/go-git/go-git/v5: rule "ui"`,
			`ui/sshserver/a.go:3: ui/sshserver links github.com/go-git via ui → github.com/go-git/go-git/v5: rule "ui"`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld()
			w.add(c.from, c.test, c.imports...)
			vs := w.check()
			if len(vs) != len(c.want) {
				t.Fatalf("want %d violations, got %d:\n%s", len(c.want), len(vs), joinViolations(vs))
			}
			for i, s := range c.want {
				if !strings.Contains(vs[i].String(), s) {
					t.Errorf("violation %q does not contain %q", vs[i], s)
				}
			}
		})
	}
}

// ui reaching client-go through a chain of packages is named with the chain
// and at the line of ui's first import on it.
func TestUILinkingClientGoNamesTheChain(t *testing.T) {
	w := newWorld()
	w.add("services/api", false, "services/manifest")
	w.add("services/manifest", false, "k8s.io/client-go/rest")
	vs := w.check()
	var got []string
	for _, v := range vs {
		got = append(got, v.String())
	}
	want := []string{
		`services/api/a.go:3: services/api imports services/manifest: rule "api"`,
		`services/api/a.go:3: services/api links k8s.io/client-go via services/manifest → k8s.io/client-go/rest: rule "api"`,
		`ui/a.go:3: ui links k8s.io/client-go via services/api → services/manifest → k8s.io/client-go/rest: rule "ui"`,
		`ui/sshserver/a.go:3: ui/sshserver links k8s.io/client-go via services/api → services/manifest → k8s.io/client-go/rest: rule "ui"`,
	}
	if len(got) != len(want) {
		t.Fatalf("want %d violations, got %d:\n%s", len(want), len(got), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("violation %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}
}

// Test files may link anything: ui's tests run the real procedures.
func TestTestImportsDoNotCountAsLinks(t *testing.T) {
	w := newWorld()
	w.add("ui", true, "services")
	if vs := w.check(); len(vs) != 0 {
		t.Fatalf("a ui test importing services is reported:\n%s", joinViolations(vs))
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, rel string
		want         bool
	}{
		{"ui", "ui", true},
		{"ui", "ui/sshserver", false},
		{"ui/...", "ui", true},
		{"ui/...", "ui/sshserver", true},
		{"ui/...", "uikit", false},
		{"services", "services/gate", false},
		{"...", "model", true},
	} {
		if got := match(c.pattern, c.rel); got != c.want {
			t.Errorf("match(%q, %q) = %v, want %v", c.pattern, c.rel, got, c.want)
		}
	}
}

func joinViolations(vs []violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString(v.String() + "\n")
	}
	return b.String()
}

// The contract may use apimachinery's value validators, not object metadata.
func TestAPIMayUseTheValidatorsOnly(t *testing.T) {
	w := newWorld()
	w.add("services/api", false, "k8s.io/apimachinery/pkg/util/validation")
	if vs := w.check(); len(vs) != 0 {
		t.Fatalf("validators refused:\n%s", joinViolations(vs))
	}
	w = newWorld()
	w.add("services/api", false, "k8s.io/apimachinery/pkg/apis/meta/v1")
	if vs := w.check(); len(vs) != 1 {
		t.Fatalf("want object metadata refused, got %d violations", len(vs))
	}
}
