package gitops

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxobj"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/store"
)

// scoped is a managed resource with the cluster of its environment.
type scoped struct {
	r       model.GitOpsResource
	cluster string
}

// scopedResources lists the live resources of a project, environment and
// cluster (each optional), grouped by cluster in a stable order.
func (s *GitOps) scopedResources(projectID, envID, clusterID string) ([]scoped, error) {
	var out []scoped
	err := s.db.View(func(tx *store.Tx) error {
		q := store.Query[model.GitOpsResource]{Index: "live"}
		switch {
		case envID != "":
			q.Index, q.Value = "environment", envID
		case projectID != "":
			q.Index, q.Value = "project", projectID
		}
		res, _, err := store.Resources.List(tx, q)
		if err != nil {
			return err
		}
		envs := map[string]string{}
		for _, r := range res {
			if projectID != "" && r.ProjectID != projectID {
				continue
			}
			c, ok := envs[r.EnvironmentID]
			if !ok {
				if e, err := store.Environments.Get(tx, r.EnvironmentID); err == nil {
					c = e.ClusterID
				}
				envs[r.EnvironmentID] = c
			}
			if c == "" || clusterID != "" && c != clusterID {
				continue
			}
			out = append(out, scoped{r: r, cluster: c})
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b scoped) int {
		return cmp.Or(strings.Compare(a.cluster, b.cluster), strings.Compare(a.r.Namespace, b.r.Namespace), strings.Compare(a.r.Name, b.r.Name))
	})
	return out, err
}

// nodeOf is the graph name of a managed resource.
func nodeOf(r model.GitOpsResource) string {
	return fluxobj.NodeName(kindOf(r.Type), r.Namespace, r.Name)
}

// snapshot is what one read of a cluster's Flux objects says.
type snapshot struct {
	g       *depGraph
	sources map[string]api.SourceState // by Kind/namespace/name
}

// readSnapshot lists every Kustomization, HelmRelease and source of a
// cluster (all namespaces, managed by gitopstui or not) into its graph.
func (s *GitOps) readSnapshot(ctx context.Context, clusterID string) (snapshot, error) {
	k, _, err := s.kube.For(clusterID)
	if err != nil {
		return snapshot{}, err
	}
	// list reads the watcher's informer cache when it holds the kind, else
	// the API server.
	list := func(gvr schema.GroupVersionResource) ([]*unstructured.Unstructured, error) {
		if objs, ok := s.watch.Cached(clusterID, gvr); ok {
			return objs, nil
		}
		l, err := k.Dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		out := make([]*unstructured.Unstructured, len(l.Items))
		for i := range l.Items {
			out[i] = &l.Items[i]
		}
		return out, nil
	}
	now := s.now()
	var objs []graphObject
	for _, gvr := range []schema.GroupVersionResource{fluxobj.KustomizationGVR, fluxobj.HelmReleaseGVR} {
		l, err := list(gvr)
		if err != nil {
			if e := kube.Error(err, "list "+gvr.Resource+" on cluster "+clusterID); model.CodeOf(e) != model.CodeNotFound {
				return snapshot{}, e
			}
			continue
		}
		for _, u := range l {
			objs = append(objs, graphObject{kind: u.GetKind(), namespace: u.GetNamespace(), name: u.GetName(),
				resourceID: u.GetLabels()[fluxobj.LabelResourceID], o: fluxobj.Observe(u, now)})
		}
	}
	sn := snapshot{g: newDepGraph(clusterID, objs), sources: map[string]api.SourceState{}}
	for _, gvr := range []schema.GroupVersionResource{fluxobj.GitRepositoryGVR, fluxobj.HelmRepositoryGVR} {
		l, err := list(gvr)
		if err != nil {
			continue // a source kind not installed: its objects read as not found
		}
		for _, u := range l {
			st := api.SourceState{Node: fluxobj.NodeName(u.GetKind(), u.GetNamespace(), u.GetName()), Found: true}
			st.Ready, st.Reason, st.Message = fluxobj.SourceStatus(u)
			sn.sources[st.Node] = st
		}
	}
	return sn, nil
}

// sourceOf is the state of a node's source (nil for a kind not read).
func (sn snapshot) sourceOf(n *gnode) *api.SourceState {
	kind, name, ok := strings.Cut(n.o.SourceRef, "/")
	if !ok || (kind != "GitRepository" && kind != "HelmRepository") {
		return nil
	}
	key := fluxobj.NodeName(kind, cmp.Or(n.o.SourceNamespace, n.namespace), name)
	if st, ok := sn.sources[key]; ok {
		return &st
	}
	return &api.SourceState{Node: key}
}

// diagnose explains one node of the snapshot.
func (s *GitOps) diagnose(sn snapshot, name string, events []fluxobj.EventFact) api.Diagnosis {
	n := sn.g.nodes[name]
	if n == nil || n.missing {
		return api.Diagnosis{Class: api.DiagMissing, Sentence: name + " is named by dependsOn but is not on the cluster.",
			NextAction: "Create it, or remove it from the dependsOn of " + strings.Join(sn.g.rdeps[name], ", ") + "."}
	}
	f := fluxobj.Facts{Events: events, Source: sn.sourceOf(n)}
	if n.class() == api.DiagBlocked {
		f.Chain = sn.g.chain(name)
	}
	return fluxobj.Diagnose(name, n.o, f, s.now())
}

// severity orders triage entries: the classes that need a person first.
var severity = map[string]int{
	api.DiagStalled: 9, api.DiagSourceFail: 8, api.DiagBuildFail: 8, api.DiagMissing: 8, api.DiagFailed: 7,
	api.DiagHealthCheck: 6, api.DiagRetrying: 6, api.DiagBlocked: 5, api.DiagSuspended: 3,
	api.DiagProgressing: 1, api.DiagFirstApply: 1,
}

// triage implements gitops.triage: every non-ready resource in scope
// diagnosed on a fresh read of its cluster and grouped under its root cause.
func (s *GitOps) triage(ctx context.Context, in api.TriageInput) (api.TriageResult, error) {
	res, err := s.scopedResources(in.ProjectID, in.EnvironmentID, in.ClusterID)
	if err != nil {
		return api.TriageResult{}, err
	}
	out := api.TriageResult{Entries: []api.TriageEntry{}, Total: len(res)}
	byRoot := map[string]*api.TriageEntry{}
	var order []string
	snaps := map[string]*snapshot{}
	for _, sc := range res {
		sn, ok := snaps[sc.cluster]
		if !ok {
			got, err := s.readSnapshot(ctx, sc.cluster)
			if err != nil {
				out.Errors = append(out.Errors, fmt.Sprintf("cluster %s: %s", sc.cluster, model.AsError(err).Message))
			} else {
				sn = &got
			}
			snaps[sc.cluster] = sn
		}
		if sn == nil {
			continue
		}
		name := nodeOf(sc.r)
		d := s.diagnose(*sn, name, nil)
		if d.Class == api.DiagReady {
			continue
		}
		out.NotReady++
		root := cmp.Or(d.RootCause, name)
		key := sc.cluster + "|" + root
		e := byRoot[key]
		if e == nil {
			rd := d
			if root != name {
				rd = s.diagnose(*sn, root, nil)
			}
			rn := sn.g.nodes[root]
			e = &api.TriageEntry{Root: api.NodeRef{Node: root, ClusterID: sc.cluster, ResourceID: rn.resourceID, Status: rn.o.Status},
				Diagnosis: rd, Dependents: []api.NodeRef{}}
			byRoot[key] = e
			order = append(order, key)
		}
		if root != name {
			e.Dependents = append(e.Dependents, api.NodeRef{Node: name, ClusterID: sc.cluster, ResourceID: sc.r.ID, Status: sn.g.nodes[name].o.Status})
		}
	}
	for _, k := range order {
		e := byRoot[k]
		e.Severity = severity[e.Diagnosis.Class]*1000 + len(e.Dependents)
		out.Entries = append(out.Entries, *e)
	}
	slices.SortStableFunc(out.Entries, func(a, b api.TriageEntry) int {
		return cmp.Or(b.Severity-a.Severity, strings.Compare(a.Root.Node, b.Root.Node))
	})
	return out, nil
}

// dependencyGraph implements gitops.dependencyGraph over the clusters in
// scope (every cluster with a managed resource, or the one asked for).
func (s *GitOps) dependencyGraph(ctx context.Context, in api.GraphInput) (api.Graph, error) {
	clusters, err := s.graphClusters(in)
	if err != nil {
		return api.Graph{}, err
	}
	out := api.Graph{Nodes: []api.GraphNode{}, Waves: [][]string{}}
	for _, c := range clusters {
		sn, err := s.readSnapshot(ctx, c)
		if err != nil {
			out.Errors = append(out.Errors, fmt.Sprintf("cluster %s: %s", c, model.AsError(err).Message))
			continue
		}
		waves, level := sn.g.waves(nil)
		for i, w := range waves {
			if i >= len(out.Waves) {
				out.Waves = append(out.Waves, nil)
			}
			for _, n := range w {
				out.Waves[i] = append(out.Waves[i], qualify(len(clusters) > 1, c, n))
			}
		}
		for _, cy := range sn.g.cycles() {
			q := make([]string, len(cy))
			for i, n := range cy {
				q[i] = qualify(len(clusters) > 1, c, n)
			}
			out.Cycles = append(out.Cycles, q)
			out.Errors = append(out.Errors, cycleError(q))
		}
		out.Nodes = append(out.Nodes, sn.g.graphNodes(level)...)
	}
	if in.Node != "" {
		if out.Nodes, err = blastRadius(out.Nodes, in.Node); err != nil {
			return api.Graph{}, err
		}
	}
	if in.Format == api.GraphDot || in.Format == api.GraphMermaid {
		out.Text = graphText(out.Nodes, in.Format)
	}
	return out, nil
}

// qualify prefixes a node with its cluster when the graph spans several.
func qualify(several bool, cluster, node string) string {
	if several {
		return cluster + ":" + node
	}
	return node
}

// graphClusters are the clusters a graph covers.
func (s *GitOps) graphClusters(in api.GraphInput) ([]string, error) {
	if in.ClusterID != "" {
		if _, _, err := s.kube.For(in.ClusterID); err != nil {
			return nil, err
		}
		return []string{in.ClusterID}, nil
	}
	res, err := s.scopedResources(in.ProjectID, "", "")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, sc := range res {
		if !slices.Contains(out, sc.cluster) {
			out = append(out, sc.cluster)
		}
	}
	return out, nil
}

// blastRadius keeps node (by name or resource id) and its dependents.
func blastRadius(nodes []api.GraphNode, node string) ([]api.GraphNode, error) {
	for _, n := range nodes {
		if n.Node == node || n.ResourceID == node {
			keep := map[string]bool{n.ClusterID + "|" + n.Node: true}
			for _, d := range n.Dependents {
				keep[n.ClusterID+"|"+d] = true
			}
			var out []api.GraphNode
			for _, m := range nodes {
				if keep[m.ClusterID+"|"+m.Node] {
					out = append(out, m)
				}
			}
			return out, nil
		}
	}
	fe := model.FieldErrors{}
	fe.Add("node", fmt.Sprintf("%q is no node of the graph (Kind/namespace/name or a resource id)", node))
	return nil, fe.Err()
}

// liveDiagnosis is getGitOpsResource's diagnosis of a resource read live:
// a fresh read of its cluster's graph and sources, with the object's events.
func (s *GitOps) liveDiagnosis(ctx context.Context, clusterID string, r model.GitOpsResource, events []api.Event) *api.Diagnosis {
	sn, err := s.readSnapshot(ctx, clusterID)
	if err != nil {
		return nil
	}
	facts := make([]fluxobj.EventFact, len(events))
	for i, e := range events {
		facts[i] = fluxobj.EventFact{Type: e.Type, Reason: e.Reason, Count: e.Count, Last: e.Timestamp}
	}
	d := s.diagnose(sn, nodeOf(r), facts)
	return &d
}
