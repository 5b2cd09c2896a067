package manifest

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// AnalyzeFiles computes the impact of arbitrary edits to plain manifests
// (for example a YAML file committed through commitConfigChanges): before
// and after map paths to their old and new content (a missing path is a
// created or deleted file). Workloads are matched by kind, namespace and
// name; a changed pod template restarts pods (with the downtime of the
// workload's rollout strategy), a changed selector is an immutable change,
// and scaling to zero, deleted workloads and files that do not parse are
// reported as warnings.
func AnalyzeFiles(before, after map[string][]byte) (Impact, []string) {
	im := Impact{EstimatedDowntime: "none", AffectedResources: []string{}}
	var warnings []string
	warn := func(s string) { warnings = append(warnings, s) }
	old, cur := workloadDocs(before, warn), workloadDocs(after, warn)
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	ids := make([]string, 0, len(keys))
	for k := range keys {
		ids = append(ids, k)
	}
	sort.Strings(ids)
	var reasons []string
	for _, id := range ids {
		o, n := old[id], cur[id]
		label := affectedLabel(id)
		switch {
		case o == nil:
			im.AffectedResources = append(im.AffectedResources, label)
			reasons = append(reasons, label+": created")
			continue
		case n == nil:
			im.AffectedResources = append(im.AffectedResources, label)
			warn(label + " is removed: its pods stop")
			reasons = append(reasons, label+": removed")
			im.EstimatedDowntime = "until recreated"
			continue
		}
		if reflect.DeepEqual(decoded(o.root), decoded(n.root)) {
			continue
		}
		im.AffectedResources = append(im.AffectedResources, label)
		for _, f := range []string{"spec.selector", "spec.volumeClaimTemplates", "spec.serviceName", "spec.podManagementPolicy"} {
			if immutableField(n.kind, f) == "" {
				continue
			}
			if !reflect.DeepEqual(decoded(resolveField(o.root, f)), decoded(resolveField(n.root, f))) {
				im.ImmutableChanges = append(im.ImmutableChanges, n.kind+"/"+n.name+" "+f)
			}
		}
		r := rollout{id: n.kind + "/" + n.name, kind: n.kind, strategy: resolveField(n.root, "spec."+strategyKey(n.kind)),
			oldR: replicasOf(o.root), newR: replicasOf(n.root),
			restart: !reflect.DeepEqual(decoded(resolveField(o.root, "spec.template")), decoded(resolveField(n.root, "spec.template")))}
		if r.restart {
			r.probe, r.container = slowestProbe(n.root)
		}
		if r.newR == 0 && r.oldR > 0 {
			warn(fmt.Sprintf("scaling %s to 0 replicas stops every pod", r.id))
		}
		var one Impact
		r.impact(&one, warn)
		if one.WillRestartPods {
			im.WillRestartPods = true
		}
		if one.EstimatedDowntime != "none" && im.EstimatedDowntime == "none" {
			im.EstimatedDowntime = one.EstimatedDowntime
		}
		reasons = append(reasons, r.id+": "+one.DowntimeReason)
	}
	if len(im.ImmutableChanges) > 0 {
		warn("immutable fields change (" + strings.Join(im.ImmutableChanges, ", ") + "): the API server rejects the update; the object must be deleted and recreated")
	}
	im.DowntimeReason = strings.Join(reasons, "; ")
	if im.DowntimeReason == "" {
		im.DowntimeReason = "no workload changes"
	}
	return im, warnings
}

func affectedLabel(id string) string {
	// id is kind/namespace/name
	parts := strings.SplitN(id, "/", 3)
	s := parts[0] + "/" + parts[2]
	if parts[1] != "" {
		s += " (namespace " + parts[1] + ")"
	}
	return s
}

func workloadDocs(files map[string][]byte, warn func(string)) map[string]*ydoc {
	out := map[string]*ydoc{}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		f, err := parseYAML(p, files[p])
		if err != nil {
			warn(fmt.Sprintf("%s does not parse: %v", p, err))
			continue
		}
		for _, d := range f.docs {
			if d.root != nil && isWorkloadKind(d.kind) {
				out[d.kind+"/"+d.namespa+"/"+d.name] = d
			}
		}
	}
	return out
}

func decoded(n *yaml.Node) any {
	if n == nil {
		return nil
	}
	var v any
	_ = n.Decode(&v)
	return v
}

func replicasOf(root *yaml.Node) int64 {
	v := resolveField(root, "spec.replicas")
	if v == nil {
		return 1
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 1
	}
	return n
}

// slowestProbe returns the readiness probe that takes longest to pass.
func slowestProbe(root *yaml.Node) (*yaml.Node, string) {
	var best *yaml.Node
	name, bestSecs := "", -1
	for _, c := range containerList(root, "containers") {
		rp := mapValue(c, "readinessProbe")
		secs, _ := startEstimate(rp, "")
		if secs > bestSecs {
			best, name, bestSecs = rp, scalarAt(c, "name"), secs
		}
	}
	return best, name
}
