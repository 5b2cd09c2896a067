package gitops

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxobj"
	"github.com/gitopstui/gitopstui/services/kube"
)

// DefaultBulkWait bounds a bulk resume or sync that names no waitSeconds.
const DefaultBulkWait = 300 * time.Second

// maxRerequests bounds how often a dependent is asked again after the
// controller still saw a dependency not ready (its cache lags the API server's).
const maxRerequests = 5

// bulkNode is one selected object of a bulk action.
type bulkNode struct {
	r           model.GitOpsResource
	name        string
	wave        int
	state       string // "", started, or a final api.Bulk* state
	requestedAt string
	rerequests  int
}

// bulkRun is one gitops.bulk call: its result so far and the progress sink.
type bulkRun struct {
	ctx   context.Context
	in    api.BulkInput
	start time.Time
	total int
	done  int
	res   api.BulkResult
}

// report records a node that started or is done and hands it to the progress sink.
func (b *bulkRun) report(n *bulkNode, state, status, msg string) {
	item := api.BulkItem{ResourceID: n.r.ID, Node: n.name, Wave: n.wave, State: state, Status: status, Message: msg,
		ElapsedMS: time.Since(b.start).Milliseconds()}
	n.state = state
	switch state {
	case api.BulkRan:
		b.res.Ran = append(b.res.Ran, item)
	case api.BulkFailed:
		b.res.Failed = append(b.res.Failed, item)
	case api.BulkSkipped:
		b.res.Skipped = append(b.res.Skipped, item)
	}
	if state != api.BulkStarted {
		b.done++
	}
	api.ReportProgress(b.ctx, api.BulkProgress{Item: item, Done: b.done, Total: b.total})
}

func final(state string) bool {
	return state == api.BulkRan || state == api.BulkFailed || state == api.BulkSkipped
}

// bulk implements gitops.bulk: resume and sync in topological waves, each
// dependent asked to reconcile as soon as its dependencies are Ready;
// suspend in reverse order. A failure skips only its own dependents.
func (s *GitOps) bulk(ctx context.Context, in api.BulkInput) (api.BulkResult, error) {
	sel, err := s.selectBulk(in.Selector)
	if err != nil {
		return api.BulkResult{}, err
	}
	if len(sel) == 0 {
		fe := model.FieldErrors{}
		fe.Add("selector", "matches no GitOps resource")
		return api.BulkResult{}, fe.Err()
	}
	b := &bulkRun{ctx: ctx, in: in, start: time.Now(), total: len(sel),
		res: api.BulkResult{Action: in.Action, Ran: []api.BulkItem{}, Failed: []api.BulkItem{}, Skipped: []api.BulkItem{}, Waves: [][]string{}}}
	wait := DefaultBulkWait
	if in.WaitSeconds > 0 {
		wait = time.Duration(in.WaitSeconds) * time.Second
	}
	deadline := time.Now().Add(wait)
	var clusters []string
	byCluster := map[string][]model.GitOpsResource{}
	for _, sc := range sel {
		if byCluster[sc.cluster] == nil {
			clusters = append(clusters, sc.cluster)
		}
		byCluster[sc.cluster] = append(byCluster[sc.cluster], sc.r)
	}
	for _, c := range clusters {
		s.bulkCluster(b, c, byCluster[c], len(clusters) > 1, deadline)
	}
	b.res.ElapsedMS = time.Since(b.start).Milliseconds()
	return b.res, nil
}

// selectBulk is the resources a selector names.
func (s *GitOps) selectBulk(sel api.BulkSelector) ([]scoped, error) {
	res, err := s.scopedResources(sel.ProjectID, sel.EnvironmentID, sel.ClusterID)
	if err != nil {
		return nil, err
	}
	var out []scoped
	named := map[string]bool{}
	for _, sc := range res {
		r := sc.r
		if len(sel.Names) > 0 {
			hit := false
			for _, n := range []string{r.Name, r.ID, nodeOf(r)} {
				if slices.Contains(sel.Names, n) {
					named[n], hit = true, true
				}
			}
			if !hit {
				continue
			}
		}
		if !api.MatchStatus(sel.Status, r.Status) || sel.Suspended != nil && *sel.Suspended != r.Suspended {
			continue
		}
		out = append(out, sc)
	}
	fe := model.FieldErrors{}
	for i, n := range sel.Names {
		if !named[n] {
			fe.Add(fmt.Sprintf("selector.names[%d]", i), fmt.Sprintf("no GitOps resource %q in the selector's scope (a name, a resource id or Kind/namespace/name)", n))
		}
	}
	return out, fe.Err()
}

// bulkCluster runs the action on the selected resources of one cluster.
func (s *GitOps) bulkCluster(b *bulkRun, cluster string, res []model.GitOpsResource, qualified bool, deadline time.Time) {
	nodes := map[string]*bulkNode{}
	var all []*bulkNode
	for _, r := range res {
		n := &bulkNode{r: r, name: nodeOf(r)}
		nodes[n.name] = n
		all = append(all, n)
	}
	k, _, err := s.kube.For(cluster)
	var sn snapshot
	if err == nil {
		sn, err = s.readSnapshot(b.ctx, cluster)
	}
	if err != nil {
		for _, n := range all {
			b.report(n, api.BulkFailed, "", model.AsError(err).Message)
		}
		return
	}
	keep := map[string]bool{}
	for name := range nodes {
		keep[name] = true
	}
	waves, level := sn.g.waves(keep)
	for i, w := range waves {
		q := make([]string, len(w))
		for j, n := range w {
			q[j] = qualify(qualified, cluster, n)
		}
		if i >= len(b.res.Waves) {
			b.res.Waves = append(b.res.Waves, nil)
		}
		b.res.Waves[i] = append(b.res.Waves[i], q...)
	}
	for _, n := range all {
		n.wave = level[n.name]
	}
	if b.in.Action == api.BulkSuspend {
		s.bulkSuspend(b, k, all)
	} else {
		s.skipCycles(b, sn, all)
		s.runWaves(b, k, sn, nodes, deadline)
	}
	s.recordBulk(b.ctx, k, all)
}

// skipCycles skips the nodes in (or behind) a dependency cycle, naming it.
func (s *GitOps) skipCycles(b *bulkRun, sn snapshot, all []*bulkNode) {
	cycles := sn.g.cycles()
	for _, n := range all {
		if n.wave >= 0 {
			continue
		}
		msg := "waits for a dependency cycle"
		for _, c := range cycles {
			if slices.Contains(c, n.name) {
				msg = cycleError(c)
				break
			}
		}
		b.report(n, api.BulkSkipped, n.r.Status, msg)
	}
}

// bulkSuspend suspends dependents before what they depend on.
func (s *GitOps) bulkSuspend(b *bulkRun, k kube.Kube, all []*bulkNode) {
	order := slices.Clone(all)
	slices.SortStableFunc(order, func(x, y *bulkNode) int {
		return waveKey(y.wave) - waveKey(x.wave)
	})
	p := fluxobj.SuspendPatch(true, model.CleanText(b.in.Reason), actorName(b.ctx), s.untilTime(b.in.Until))
	for _, n := range order {
		b.report(n, api.BulkStarted, n.r.Status, "suspending")
		u, err := k.Dyn.Resource(fluxobj.ResourceGVR(n.r.Type)).Namespace(n.r.Namespace).Patch(b.ctx, n.r.Name, types.MergePatchType, p, metav1.PatchOptions{})
		if err != nil {
			b.report(n, api.BulkFailed, n.r.Status, kube.Error(err, "suspend "+n.name).Error())
			continue
		}
		b.report(n, api.BulkRan, fluxobj.Observe(u, s.now()).Status, "suspended")
	}
}

// waveKey orders cycle members (wave -1) after every wave.
func waveKey(w int) int {
	if w < 0 {
		return 1 << 20
	}
	return w
}

// recordBulk stores the final status of every selected object.
func (s *GitOps) recordBulk(ctx context.Context, k kube.Kube, all []*bulkNode) {
	for _, n := range all {
		u, err := k.Dyn.Resource(fluxobj.ResourceGVR(n.r.Type)).Namespace(n.r.Namespace).Get(ctx, n.r.Name, metav1.GetOptions{})
		if err != nil {
			continue
		}
		if r, changed, err := s.watch.Record(n.r.ID, fluxobj.Observe(u, s.now())); err == nil && changed {
			s.watch.Hub().Publish(api.StatusEvent{Resource: r})
		}
	}
}

// watchFlux streams every Kustomization and HelmRelease of a cluster (the
// current ones first, as the API server sends them) until ctx ends; a watch
// that closes is opened again.
func watchFlux(ctx context.Context, k kube.Kube) <-chan *unstructured.Unstructured {
	out := make(chan *unstructured.Unstructured, 64)
	var wg sync.WaitGroup
	for _, gvr := range []schema.GroupVersionResource{fluxobj.KustomizationGVR, fluxobj.HelmReleaseGVR} {
		wg.Go(func() {
			for ctx.Err() == nil {
				w, err := k.Dyn.Resource(gvr).Watch(ctx, metav1.ListOptions{})
				if err != nil {
					if model.CodeOf(kube.Error(err, "")) == model.CodeNotFound {
						return // the kind is not installed
					}
					select {
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
					continue
				}
				for ev := range w.ResultChan() {
					if u, ok := ev.Object.(*unstructured.Unstructured); ok {
						select {
						case out <- u:
						case <-ctx.Done():
						}
					}
				}
				w.Stop()
			}
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// requestPatch resumes (for resume) and asks for a reconcile at requestedAt.
func requestPatch(resume bool, requestedAt string) []byte {
	if !resume {
		return annotatePatch(requestedAt)
	}
	var p map[string]any
	_ = json.Unmarshal(fluxobj.SuspendPatch(false, "", "", ""), &p)
	p["metadata"].(map[string]any)["annotations"].(map[string]any)[meta.ReconcileRequestAnnotation] = requestedAt
	out, _ := json.Marshal(p)
	return out
}

// startNode resumes or syncs one object.
func (s *GitOps) startNode(b *bulkRun, k kube.Kube, n *bulkNode) {
	n.requestedAt = time.Now().UTC().Format(time.RFC3339Nano)
	p := requestPatch(b.in.Action == api.BulkResume, n.requestedAt)
	_, err := k.Dyn.Resource(fluxobj.ResourceGVR(n.r.Type)).Namespace(n.r.Namespace).Patch(b.ctx, n.r.Name, types.MergePatchType, p, metav1.PatchOptions{})
	if err != nil {
		b.report(n, api.BulkFailed, "", kube.Error(err, string(b.in.Action)+" "+n.name).Error())
		return
	}
	if n.state != api.BulkStarted {
		b.report(n, api.BulkStarted, "", fmt.Sprintf("%s requested at %s", b.in.Action, n.requestedAt))
	}
}

// syncSources asks each distinct source of the nodes to fetch first (as
// triggerSync does), waiting until each handled it or the deadline.
func (s *GitOps) syncSources(b *bulkRun, k kube.Kube, sn snapshot, nodes map[string]*bulkNode, deadline time.Time) {
	seen := map[string]bool{}
	at := time.Now().UTC().Format(time.RFC3339Nano)
	for _, name := range sn.g.names {
		n := nodes[name]
		if n == nil || final(n.state) {
			continue
		}
		o := sn.g.nodes[name].o
		key := o.SourceRef + "@" + o.SourceNamespace + "@" + n.r.Namespace
		if o.Suspended || seen[key] {
			continue
		}
		seen[key] = true
		if err := syncSource(b.ctx, k, o, n.r.Namespace, at, time.Until(deadline), deadline); err != nil {
			s.log.Warn("bulk sync: source not asked", "node", name, "err", err)
		}
	}
}
