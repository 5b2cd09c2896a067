package gitops

import (
	"fmt"
	"slices"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxobj"
)

// gnode is one Kustomization or HelmRelease of a cluster's dependency graph.
type gnode struct {
	name       string // Kind/namespace/name
	kind       string
	namespace  string
	objName    string
	resourceID string // the managed resource, "" for others
	o          fluxobj.Observed
	missing    bool     // named by a dependsOn, not on the cluster
	deps       []string // node names, sorted
}

// depGraph is the dependsOn graph of one cluster's Flux objects.
type depGraph struct {
	cluster string
	nodes   map[string]*gnode
	names   []string // sorted
	rdeps   map[string][]string
}

// newDepGraph builds the graph of observed objects (kind, namespace and name
// each); a dependsOn naming an absent object adds a missing node.
func newDepGraph(cluster string, objs []graphObject) *depGraph {
	g := &depGraph{cluster: cluster, nodes: map[string]*gnode{}, rdeps: map[string][]string{}}
	for _, ob := range objs {
		n := &gnode{name: fluxobj.NodeName(ob.kind, ob.namespace, ob.name), kind: ob.kind, namespace: ob.namespace, objName: ob.name,
			resourceID: ob.resourceID, o: ob.o}
		for _, d := range ob.o.Deps {
			n.deps = append(n.deps, fluxobj.NodeName(ob.kind, d.Namespace, d.Name))
		}
		slices.Sort(n.deps)
		n.deps = slices.Compact(n.deps)
		g.nodes[n.name] = n
	}
	for _, n := range g.sortedNodes() {
		for _, d := range n.deps {
			if g.nodes[d] == nil {
				kind, rest, _ := strings.Cut(d, "/")
				ns, name, _ := strings.Cut(rest, "/")
				g.nodes[d] = &gnode{name: d, kind: kind, namespace: ns, objName: name, missing: true}
			}
			g.rdeps[d] = append(g.rdeps[d], n.name)
		}
	}
	for name := range g.nodes {
		g.names = append(g.names, name)
	}
	slices.Sort(g.names)
	return g
}

// graphObject is one object newDepGraph reads.
type graphObject struct {
	kind, namespace, name, resourceID string
	o                                 fluxobj.Observed
}

func (g *depGraph) sortedNodes() []*gnode {
	names := make([]string, 0, len(g.nodes))
	for n := range g.nodes {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]*gnode, len(names))
	for i, n := range names {
		out[i] = g.nodes[n]
	}
	return out
}

// cycles returns every dependency cycle as a path that starts and ends at
// its smallest node (a → b → a), sorted.
func (g *depGraph) cycles() [][]string {
	var out [][]string
	for _, scc := range g.sccs() {
		if len(scc) == 1 && !slices.Contains(g.nodes[scc[0]].deps, scc[0]) {
			continue
		}
		out = append(out, g.cyclePath(scc))
	}
	return out
}

// sccs is Tarjan's strongly connected components, each sorted.
func (g *depGraph) sccs() [][]string {
	index, low := map[string]int{}, map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var out [][]string
	next := 0
	var visit func(v string)
	visit = func(v string) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range g.nodes[v].deps {
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var scc []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				scc = append(scc, w)
				if w == v {
					break
				}
			}
			slices.Sort(scc)
			out = append(out, scc)
		}
	}
	for _, v := range g.names {
		if _, seen := index[v]; !seen {
			visit(v)
		}
	}
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return out
}

// cyclePath is the shortest way from the smallest node of a component back
// to itself, as a path naming the start twice.
func (g *depGraph) cyclePath(scc []string) []string {
	start := scc[0]
	in := map[string]bool{}
	for _, n := range scc {
		in[n] = true
	}
	parent := map[string]string{}
	queue := []string{start}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range g.nodes[v].deps {
			if !in[w] {
				continue
			}
			if w == start {
				path := []string{start}
				for x := v; x != start; x = parent[x] {
					path = append(path, x)
				}
				path = append(path, start)
				slices.Reverse(path[1 : len(path)-1])
				return path
			}
			if _, seen := parent[w]; !seen {
				parent[w] = v
				queue = append(queue, w)
			}
		}
	}
	return append(slices.Clone(scc), start)
}

// cycleError names a cycle as errors report it.
func cycleError(c []string) string {
	return "dependency cycle: " + strings.Join(c, " → ")
}

// waves are the topological levels of the nodes in keep (nil: all), counting
// only edges between them: wave 0 depends on nothing kept, wave n on wave
// n-1 at most. Nodes in or behind a cycle get wave -1 and no wave.
func (g *depGraph) waves(keep map[string]bool) ([][]string, map[string]int) {
	kept := func(n string) bool { return keep == nil || keep[n] }
	level := map[string]int{}
	pending := map[string]int{}
	for _, n := range g.names {
		if !kept(n) {
			continue
		}
		for _, d := range g.nodes[n].deps {
			if kept(d) {
				pending[n]++
			}
		}
	}
	var out [][]string
	var current []string
	for _, n := range g.names {
		if kept(n) && pending[n] == 0 {
			current = append(current, n)
		}
	}
	for w := 0; len(current) > 0; w++ {
		out = append(out, current)
		var next []string
		for _, n := range current {
			level[n] = w
			for _, r := range g.rdeps[n] {
				if !kept(r) {
					continue
				}
				if pending[r]--; pending[r] == 0 {
					next = append(next, r)
				}
			}
		}
		slices.Sort(next)
		current = next
	}
	for _, n := range g.names {
		if _, ok := level[n]; kept(n) && !ok {
			level[n] = -1
		}
	}
	return out, level
}

// dependents is every node that waits for n, directly or not, sorted.
func (g *depGraph) dependents(n string) []string {
	seen := map[string]bool{}
	queue := []string{n}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, r := range g.rdeps[v] {
			if !seen[r] && r != n {
				seen[r] = true
				queue = append(queue, r)
			}
		}
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// class is a node's own diagnosis class (api.DiagMissing when absent).
func (n *gnode) class() string {
	if n.missing {
		return api.DiagMissing
	}
	return n.o.Class
}

// chain follows dependencies that are not ready from n down to the root
// cause: at each step the first such dependency, until one that is not
// itself blocked (or a cycle comes back).
func (g *depGraph) chain(n string) []api.ChainLink {
	var out []api.ChainLink
	seen := map[string]bool{n: true}
	cur := g.nodes[n]
	for cur != nil && (cur.class() == api.DiagBlocked || cur.name == n) {
		var next *gnode
		for _, d := range cur.deps {
			dn := g.nodes[d]
			if dn.class() != api.DiagReady {
				next = dn
				break
			}
		}
		if next == nil {
			break
		}
		link := api.ChainLink{Node: next.name, Class: next.class(), Message: next.o.ErrorMessage}
		if next.missing {
			link.Message = "not on the cluster"
		}
		if seen[next.name] {
			link.Message = "back to " + next.name + ": dependency cycle"
			out = append(out, link)
			break
		}
		if rc := fluxobj.FindCondition(next.o.Conditions, "Ready"); rc != nil {
			link.Reason = rc.Reason
		}
		seen[next.name] = true
		out = append(out, link)
		cur = next
	}
	return out
}

// graphNodes is the contract's form of the graph's nodes.
func (g *depGraph) graphNodes(level map[string]int) []api.GraphNode {
	out := make([]api.GraphNode, 0, len(g.names))
	for _, name := range g.names {
		n := g.nodes[name]
		status := n.o.Status
		if n.missing {
			status = model.StatusUnknown
		}
		out = append(out, api.GraphNode{Node: name, ClusterID: g.cluster, ResourceID: n.resourceID, Kind: n.kind, Namespace: n.namespace,
			Name: n.objName, Status: status, Class: n.class(), Suspended: n.o.Suspended, DependsOn: append([]string{}, n.deps...),
			Dependents: g.dependents(name), Wave: level[name], Missing: n.missing})
	}
	return out
}

// graphText draws nodes in dot or mermaid, each labelled with its status.
func graphText(nodes []api.GraphNode, format string) string {
	var b strings.Builder
	id := func(n string) string {
		return "n" + strings.NewReplacer("/", "_", "-", "_", ".", "_").Replace(n)
	}
	switch format {
	case api.GraphDot:
		b.WriteString("digraph dependsOn {\n  rankdir=LR;\n")
		for _, n := range nodes {
			fmt.Fprintf(&b, "  %q [label=%q];\n", n.ClusterID+"/"+n.Node, n.Node+"\\n"+n.Status)
		}
		for _, n := range nodes {
			for _, d := range n.DependsOn {
				fmt.Fprintf(&b, "  %q -> %q;\n", n.ClusterID+"/"+n.Node, n.ClusterID+"/"+d)
			}
		}
		b.WriteString("}\n")
	case api.GraphMermaid:
		b.WriteString("graph LR\n")
		for _, n := range nodes {
			fmt.Fprintf(&b, "  %s[\"%s<br/>%s\"]\n", id(n.ClusterID+"/"+n.Node), n.Node, n.Status)
		}
		for _, n := range nodes {
			for _, d := range n.DependsOn {
				fmt.Fprintf(&b, "  %s --> %s\n", id(n.ClusterID+"/"+n.Node), id(n.ClusterID+"/"+d))
			}
		}
	}
	return b.String()
}

// kindOf is the Flux kind of a resource type.
func kindOf(typ string) string {
	if typ == model.ResourceHelm {
		return helmv2.HelmReleaseKind
	}
	return kustomizev1.KustomizationKind
}
