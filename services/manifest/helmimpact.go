package manifest

import (
	"sort"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	yaml "go.yaml.in/yaml/v3"
)

// Rendered is the change of a Helm release's rendered manifest.
type Rendered struct {
	// Diff is a git-style diff with one file per object,
	// "<prefix>/<Kind>/<name>.yaml" (the namespace before the kind when the
	// object sets one).
	Diff     string   `json:"diff"`
	Summary  Summary  `json:"summary"`
	Impact   Impact   `json:"impact"`
	Warnings []string `json:"warnings"`
}

// renderedObj is one object of a rendered manifest.
type renderedObj struct {
	id, kind, name string
	text           string
	root           *yaml.Node
}

// splitRendered splits a manifest (documents separated by "---", each
// possibly led by Helm's "# Source:" comment) into objects by id.
func splitRendered(manifest string) (map[string]*renderedObj, error) {
	out := map[string]*renderedObj{}
	for i, doc := range strings.Split("\n"+manifest, "\n---") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
			return nil, model.Errorf(model.CodeYAMLInvalid, "rendered document %d: %v", i, err)
		}
		if len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
			continue
		}
		root := n.Content[0]
		md := mapValue(root, "metadata")
		o := &renderedObj{kind: scalarAt(root, "kind"), name: scalarAt(md, "name"), root: root}
		o.id = o.kind + "/" + o.name
		if ns := scalarAt(md, "namespace"); ns != "" {
			o.id = ns + "/" + o.id
		}
		o.text = strings.TrimLeft(doc, "\n")
		if !strings.HasSuffix(o.text, "\n") {
			o.text += "\n"
		}
		out[o.id] = o
	}
	return out, nil
}

// RenderedChange compares the manifest a release renders now (old) with the
// one it would render after a change (new): the diff of every object, and
// the impact derived from the rendered workloads as for Deployments in Git
// (restarts when a pod template changes, downtime from the strategy,
// replicas and readiness probes, immutable fields).
func RenderedChange(prefix, old, new string) (*Rendered, error) {
	a, err := splitRendered(old)
	if err != nil {
		return nil, err
	}
	b, err := splitRendered(new)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(a)+len(b))
	for id := range a {
		ids = append(ids, id)
	}
	for id := range b {
		if a[id] == nil {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	r := &Rendered{Warnings: []string{}, Impact: Impact{EstimatedDowntime: "none", AffectedResources: []string{}}}
	var diffs []fileDiff
	var reasons []string
	for _, id := range ids {
		o, n := a[id], b[id]
		fd := fileDiff{path: prefix + "/" + id + ".yaml"}
		if o != nil {
			fd.old = []byte(o.text)
		}
		if n != nil {
			fd.new = []byte(n.text)
		}
		fd.created = o == nil
		if o != nil && n != nil && o.text == n.text {
			continue
		}
		diffs = append(diffs, fd)
		r.Impact.AffectedResources = append(r.Impact.AffectedResources, id)
		if reason := r.workloadImpact(o, n); reason != "" {
			reasons = append(reasons, reason)
		}
	}
	r.Diff, r.Summary = gitDiff(diffs)
	switch {
	case len(diffs) == 0:
		r.Impact.DowntimeReason = "the rendered manifest does not change"
	case len(reasons) == 0:
		r.Impact.DowntimeReason = "no rendered workload changes"
	default:
		r.Impact.DowntimeReason = strings.Join(reasons, "; ")
	}
	return r, nil
}

// workloadImpact adds the impact of one changed object and returns its reason ("" for no workload).
func (r *Rendered) workloadImpact(o, n *renderedObj) string {
	x := n
	if x == nil {
		x = o
	}
	if !isWorkloadKind(x.kind) {
		return ""
	}
	if n == nil {
		r.Impact.WillRestartPods = true
		r.Impact.EstimatedDowntime = "until re-created"
		return x.id + ": removed, its pods stop"
	}
	if o == nil {
		return x.id + ": created"
	}
	oSpec, ns := mapValue(o.root, "spec"), mapValue(n.root, "spec")
	if !equalNodes(orEmpty(mapValue(oSpec, "selector")), orEmpty(mapValue(ns, "selector"))) {
		r.Impact.ImmutableChanges = append(r.Impact.ImmutableChanges, x.kind+"/"+x.name+" spec.selector")
	}
	if x.kind == "StatefulSet" {
		for _, f := range []string{"volumeClaimTemplates", "serviceName", "podManagementPolicy"} {
			if !equalNodes(orEmpty(mapValue(oSpec, f)), orEmpty(mapValue(ns, f))) {
				r.Impact.ImmutableChanges = append(r.Impact.ImmutableChanges, x.kind+"/"+x.name+" spec."+f)
			}
		}
	}
	restart := !equalNodes(orEmpty(mapValue(oSpec, "template")), orEmpty(mapValue(ns, "template")))
	probe, container := slowestProbe(n.root)
	ro := rollout{id: x.kind + "/" + x.name, kind: x.kind, strategy: mapValue(ns, strategyKey(x.kind)),
		oldR: replicasOf(o.root), newR: replicasOf(n.root), restart: restart, probe: probe, container: container}
	var one Impact
	ro.impact(&one, func(w string) { r.Warnings = append(r.Warnings, w) })
	r.Impact.WillRestartPods = r.Impact.WillRestartPods || one.WillRestartPods
	if one.EstimatedDowntime != "none" && r.Impact.EstimatedDowntime == "none" {
		r.Impact.EstimatedDowntime = one.EstimatedDowntime
	}
	return ro.id + ": " + one.DowntimeReason
}

func orEmpty(n *yaml.Node) *yaml.Node {
	if n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	return n
}
