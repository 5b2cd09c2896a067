package gitops

import (
	"context"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxobj"
	"github.com/gitopstui/gitopstui/services/kube"
)

// runWaves resumes or syncs the selected nodes of one cluster in dependency
// order, driven by a watch of the cluster's Flux objects: a node starts the
// moment every dependency is Ready (a selected one: Ready after this run
// asked it), and is done when Flux has handled its request.
func (s *GitOps) runWaves(b *bulkRun, k kube.Kube, sn snapshot, nodes map[string]*bulkNode, deadline time.Time) {
	if b.in.Action == api.BulkSync {
		for _, name := range sn.g.names {
			if n := nodes[name]; n != nil && !final(n.state) && sn.g.nodes[name].o.Suspended {
				b.report(n, api.BulkSkipped, model.StatusSuspended, "suspended: resume it to sync")
			}
		}
		s.syncSources(b, k, sn, nodes, deadline)
	}
	ctx, cancel := context.WithDeadline(b.ctx, deadline)
	defer cancel()
	cur := map[string]fluxobj.Observed{}
	for name, n := range sn.g.nodes {
		cur[name] = n.o
	}
	events := watchFlux(ctx, k)
	for {
		s.advance(b, k, sn.g, nodes, cur)
		if allFinal(nodes) {
			return
		}
		select {
		case u, ok := <-events:
			if !ok {
				s.timeOut(b, sn.g, nodes, cur)
				return
			}
			cur[fluxobj.NodeName(u.GetKind(), u.GetNamespace(), u.GetName())] = fluxobj.Observe(u, s.now())
		case <-ctx.Done():
			s.timeOut(b, sn.g, nodes, cur)
			return
		}
	}
}

func allFinal(nodes map[string]*bulkNode) bool {
	for _, n := range nodes {
		if !final(n.state) {
			return false
		}
	}
	return true
}

// advance starts every node whose dependencies are Ready, finishes every
// started node Flux has handled and skips the dependents of failures, until
// nothing more changes.
func (s *GitOps) advance(b *bulkRun, k kube.Kube, g *depGraph, nodes map[string]*bulkNode, cur map[string]fluxobj.Observed) {
	for changed := true; changed; {
		changed = false
		for _, name := range g.names {
			n := nodes[name]
			if n == nil || final(n.state) {
				continue
			}
			if n.state == api.BulkStarted {
				s.checkStarted(b, k, g, nodes, n, cur)
				changed = changed || final(n.state)
				continue
			}
			ready, skip := depsReady(g, nodes, cur, name)
			switch {
			case skip != "":
				b.report(n, api.BulkSkipped, cur[name].Status, skip)
				changed = true
			case ready:
				s.startNode(b, k, n)
				changed = changed || final(n.state)
			}
		}
	}
}

// depsReady says whether every dependency of name is Ready, or why name
// must be skipped (a dependency failed, was skipped, is missing or is
// suspended without being selected).
func depsReady(g *depGraph, nodes map[string]*bulkNode, cur map[string]fluxobj.Observed, name string) (bool, string) {
	ready := true
	for _, d := range g.nodes[name].deps {
		if dn := nodes[d]; dn != nil {
			switch dn.state {
			case api.BulkRan:
			case api.BulkFailed, api.BulkSkipped:
				return false, "dependency " + d + " " + dn.state
			default:
				ready = false
			}
			continue
		}
		if g.nodes[d].missing {
			return false, "dependency " + d + " is not on the cluster"
		}
		o := cur[d]
		if o.Suspended {
			return false, "dependency " + d + " is suspended and not selected"
		}
		ready = ready && o.Status == model.StatusReady
	}
	return ready, ""
}

// checkStarted finishes a started node once Flux handled its request: Ready
// is ran, a failure is failed; a dependency the controller still saw not
// ready (its cache lags) is asked again.
func (s *GitOps) checkStarted(b *bulkRun, k kube.Kube, g *depGraph, nodes map[string]*bulkNode, n *bulkNode, cur map[string]fluxobj.Observed) {
	o := cur[n.name]
	if o.LastHandledReconcile != n.requestedAt {
		return
	}
	switch {
	case o.Status == model.StatusReady:
		b.report(n, api.BulkRan, o.Status, "ready at "+o.LastAppliedRevision)
	case o.Class == api.DiagBlocked:
		if ready, _ := depsReady(g, nodes, cur, n.name); ready && n.rerequests < maxRerequests {
			n.rerequests++
			s.startNode(b, k, n)
		}
	case o.Status == model.StatusFailed:
		b.report(n, api.BulkFailed, o.Status, o.ErrorMessage)
	}
}

// timeOut ends the run at the deadline: started nodes failed, waiting ones skipped.
func (s *GitOps) timeOut(b *bulkRun, g *depGraph, nodes map[string]*bulkNode, cur map[string]fluxobj.Observed) {
	for _, name := range g.names {
		n := nodes[name]
		if n == nil || final(n.state) {
			continue
		}
		o := cur[name]
		if n.state == api.BulkStarted {
			b.report(n, api.BulkFailed, o.Status, "not Ready within the wait: "+o.Class+" "+o.ErrorMessage)
			continue
		}
		b.report(n, api.BulkSkipped, o.Status, "its dependencies were not Ready within the wait")
	}
}
