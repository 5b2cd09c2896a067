package gitops

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxobj"
)

// ks is a Kustomization of namespace ns with a class and dependencies
// ("name" in ns, or "other/name").
func ks(ns, name, class string, deps ...string) graphObject {
	o := fluxobj.Observed{Class: class, Status: map[string]string{api.DiagReady: "ready", api.DiagBlocked: "pending"}[class]}
	if o.Status == "" {
		o.Status = "failed"
	}
	for _, d := range deps {
		dns, dn, ok := strings.Cut(d, "/")
		if !ok {
			dns, dn = ns, d
		}
		o.Deps = append(o.Deps, fluxobj.Ref{Namespace: dns, Name: dn})
	}
	return graphObject{kind: "Kustomization", namespace: ns, name: name, o: o}
}

func k(ns, name string) string { return "Kustomization/" + ns + "/" + name }

func TestGraphWavesAcrossNamespaces(t *testing.T) {
	g := newDepGraph("c1", []graphObject{
		ks("apps", "web", api.DiagReady, "infra/db", "cache"),
		ks("apps", "cache", api.DiagReady, "infra/net"),
		ks("infra", "db", api.DiagReady, "net"),
		ks("infra", "net", api.DiagReady),
		ks("apps", "docs", api.DiagReady),
	})
	waves, level := g.waves(nil)
	want := [][]string{{k("apps", "docs"), k("infra", "net")}, {k("apps", "cache"), k("infra", "db")}, {k("apps", "web")}}
	if !reflect.DeepEqual(waves, want) {
		t.Fatalf("waves %v, want %v", waves, want)
	}
	if level[k("apps", "web")] != 2 || len(g.cycles()) != 0 {
		t.Errorf("level of web %d, cycles %v", level[k("apps", "web")], g.cycles())
	}
	if got := g.dependents(k("infra", "net")); !reflect.DeepEqual(got, []string{k("apps", "cache"), k("apps", "web"), k("infra", "db")}) {
		t.Errorf("dependents of net: %v", got)
	}
	// Restricted to web and net, web waits for net only through unselected
	// objects: both are wave 0.
	waves, _ = g.waves(map[string]bool{k("apps", "web"): true, k("infra", "net"): true})
	if len(waves) != 1 || len(waves[0]) != 2 {
		t.Errorf("restricted waves %v", waves)
	}
}

func TestGraphCycleNamedAndOutOfTheWaves(t *testing.T) {
	g := newDepGraph("c1", []graphObject{
		ks("ns", "a", api.DiagBlocked, "b"),
		ks("ns", "b", api.DiagBlocked, "c"),
		ks("ns", "c", api.DiagBlocked, "a"),
		ks("ns", "d", api.DiagBlocked, "a"),
		ks("ns", "self", api.DiagBlocked, "self"),
		ks("ns", "free", api.DiagReady),
	})
	cycles := g.cycles()
	want := [][]string{{k("ns", "a"), k("ns", "b"), k("ns", "c"), k("ns", "a")}, {k("ns", "self"), k("ns", "self")}}
	if !reflect.DeepEqual(cycles, want) {
		t.Fatalf("cycles %v, want %v", cycles, want)
	}
	if e := cycleError(cycles[0]); e != "dependency cycle: Kustomization/ns/a → Kustomization/ns/b → Kustomization/ns/c → Kustomization/ns/a" {
		t.Errorf("cycle error %q", e)
	}
	waves, level := g.waves(nil)
	if !reflect.DeepEqual(waves, [][]string{{k("ns", "free")}}) || level[k("ns", "d")] != -1 || level[k("ns", "a")] != -1 {
		t.Errorf("waves %v levels %v", waves, level)
	}
	// The chain of d goes round the cycle once and says so.
	ch := g.chain(k("ns", "d"))
	if len(ch) != 4 || ch[3].Node != k("ns", "a") || !strings.Contains(ch[3].Message, "cycle") {
		t.Errorf("chain of d %+v", ch)
	}
}

func TestGraphChainToRootCauseAndMissing(t *testing.T) {
	g := newDepGraph("c1", []graphObject{
		ks("ns", "l5", api.DiagBlocked, "l4"),
		ks("ns", "l4", api.DiagBlocked, "l3", "ok"),
		ks("ns", "l3", api.DiagBuildFail),
		ks("ns", "ok", api.DiagReady),
		ks("ns", "orphan", api.DiagBlocked, "gone"),
	})
	ch := g.chain(k("ns", "l5"))
	if len(ch) != 2 || ch[0].Node != k("ns", "l4") || ch[1].Node != k("ns", "l3") || ch[1].Class != api.DiagBuildFail {
		t.Fatalf("chain %+v", ch)
	}
	ch = g.chain(k("ns", "orphan"))
	if len(ch) != 1 || ch[0].Class != api.DiagMissing {
		t.Fatalf("chain to a missing dependency %+v", ch)
	}
	nodes := g.graphNodes(map[string]int{})
	text := graphText(nodes, api.GraphDot)
	if !strings.Contains(text, `"c1/Kustomization/ns/l5" -> "c1/Kustomization/ns/l4";`) {
		t.Errorf("dot:\n%s", text)
	}
	if m := graphText(nodes, api.GraphMermaid); !strings.Contains(m, "nc1_Kustomization_ns_l5 --> nc1_Kustomization_ns_l4") {
		t.Errorf("mermaid:\n%s", m)
	}
}

// A failed node skips only what depends on it; a missing or suspended
// unselected dependency skips at once; an unselected one that is Ready
// does not hold its dependent back.
func TestBulkDependencyGate(t *testing.T) {
	g := newDepGraph("c1", []graphObject{
		ks("ns", "a", api.DiagReady), ks("ns", "b", api.DiagReady, "a"), ks("ns", "c", api.DiagReady, "a"),
		ks("ns", "d", api.DiagReady, "outside"), ks("ns", "outside", api.DiagReady),
		ks("ns", "e", api.DiagReady, "gone"), ks("ns", "f", api.DiagReady, "paused"), ks("ns", "paused", api.DiagSuspended),
	})
	cur := map[string]fluxobj.Observed{}
	for name, n := range g.nodes {
		cur[name] = n.o
	}
	paused := cur[k("ns", "paused")]
	paused.Suspended = true
	cur[k("ns", "paused")] = paused
	nodes := map[string]*bulkNode{}
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		nodes[k("ns", n)] = &bulkNode{name: k("ns", n)}
	}
	if ready, skip := depsReady(g, nodes, cur, k("ns", "b")); ready || skip != "" {
		t.Fatalf("b before a is done: ready %v skip %q", ready, skip)
	}
	nodes[k("ns", "a")].state = api.BulkFailed
	for _, n := range []string{"b", "c"} {
		if _, skip := depsReady(g, nodes, cur, k("ns", n)); skip != "dependency Kustomization/ns/a failed" {
			t.Fatalf("%s after a failed: %q", n, skip)
		}
	}
	if ready, skip := depsReady(g, nodes, cur, k("ns", "d")); !ready || skip != "" {
		t.Fatalf("d with a Ready unselected dependency: %v %q", ready, skip)
	}
	if _, skip := depsReady(g, nodes, cur, k("ns", "e")); !strings.Contains(skip, "not on the cluster") {
		t.Fatalf("e: %q", skip)
	}
	if _, skip := depsReady(g, nodes, cur, k("ns", "f")); !strings.Contains(skip, "suspended and not selected") {
		t.Fatalf("f: %q", skip)
	}
}
