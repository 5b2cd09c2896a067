package manifest

import (
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// Built is a workload as kustomize builds an environment: the values a
// promotion copies from one environment to another.
type Built struct {
	Kind, Namespace, Name string
	// Replicas is nil when the build sets none (the API server's default, 1).
	Replicas   *int32
	Containers []BuiltContainer
}

// ID is "Kind/name".
func (b Built) ID() string { return b.Kind + "/" + b.Name }

// BuiltContainer is one container of a built workload.
type BuiltContainer struct {
	Name, Image string
	// Env holds the variables with a literal value; ValueFrom names those
	// set from a Secret, ConfigMap or field (they cannot be copied as values).
	Env       map[string]string
	ValueFrom []string
	Resources Resources
}

// Effective builds the environment at gitPath as Flux would (kustomize, or
// the kustomization Flux generates for a plain directory) and returns its
// Deployments, StatefulSets and DaemonSets, sorted by kind and name.
func Effective(fsys fs.FS, gitPath string) ([]Built, error) {
	e, err := loadEnv(fsTree{fsys}, cleanPath(gitPath))
	if err != nil {
		return nil, err
	}
	objs, err := e.build(e.files, false)
	if err != nil {
		return nil, err
	}
	var out []Built
	for _, o := range objs {
		if isWorkloadKind(o.kind) {
			out = append(out, builtOf(o))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out, nil
}

func builtOf(o *builtObj) Built {
	b := Built{Kind: o.kind, Namespace: o.namespace, Name: o.name}
	spec := mapValue(o.root, "spec")
	if v := scalarAt(spec, "replicas"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 32); err == nil {
			r := int32(n)
			b.Replicas = &r
		}
	}
	pod := mapValue(mapValue(spec, "template"), "spec")
	for _, c := range seqItems(mapValue(pod, "containers")) {
		bc := BuiltContainer{Name: scalarAt(c, "name"), Image: scalarAt(c, "image"), Env: map[string]string{}}
		for _, ev := range seqItems(mapValue(c, "env")) {
			name := scalarAt(ev, "name")
			if mapValue(ev, "valueFrom") != nil {
				bc.ValueFrom = append(bc.ValueFrom, name)
				continue
			}
			bc.Env[name] = scalarAt(ev, "value")
		}
		res := mapValue(c, "resources")
		for _, part := range []struct {
			key string
			to  *ResourceValues
		}{{"requests", &bc.Resources.Requests}, {"limits", &bc.Resources.Limits}} {
			m := mapValue(res, part.key)
			part.to.CPU, part.to.Memory = scalarAt(m, "cpu"), scalarAt(m, "memory")
		}
		b.Containers = append(b.Containers, bc)
	}
	return b
}

// PlanAll plans several changes one after the other, each on the files the
// ones before it wrote, and returns them as one result: the files, the diff
// against fsys, every edit and the combined impact.
func PlanAll(fsys fs.FS, gitPath string, changes []Change) (*Result, error) {
	base := fsTree{fsys}
	ov := &overlayTree{base: base, over: map[string][]byte{}}
	res := &Result{Impact: Impact{EstimatedDowntime: "none", AffectedResources: []string{}}}
	var workloads []string
	for _, ch := range changes {
		r, err := plan(ov, gitPath, ch)
		if err != nil {
			return nil, err
		}
		for p, b := range r.Files {
			ov.over[p] = b
		}
		res.Edits = append(res.Edits, r.Edits...)
		res.Warnings = append(res.Warnings, r.Warnings...)
		res.Impact = combineImpact(res.Impact, r.Impact)
		workloads = append(workloads, r.Workload)
	}
	paths := make([]string, 0, len(ov.over))
	for p := range ov.over {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	fds := make([]fileDiff, 0, len(paths))
	for _, p := range paths {
		old, ok := base.read(p)
		fds = append(fds, fileDiff{path: p, old: old, new: ov.over[p], created: !ok})
	}
	res.Diff, res.Summary = gitDiff(fds)
	res.Files = ov.over
	res.Workload = strings.Join(workloads, ", ")
	return res, nil
}

// combineImpact is the impact of two changes applied together: the longer
// downtime (with its reason) and every affected resource.
func combineImpact(a, b Impact) Impact {
	a.WillRestartPods = a.WillRestartPods || b.WillRestartPods
	if a.EstimatedDowntime == "none" || a.EstimatedDowntime == "" {
		a.EstimatedDowntime, a.DowntimeReason = b.EstimatedDowntime, b.DowntimeReason
	} else if b.EstimatedDowntime != "none" && b.EstimatedDowntime != "" && b.DowntimeReason != "" {
		a.DowntimeReason += "; " + b.DowntimeReason
	}
	a.AffectedResources = append(a.AffectedResources, b.AffectedResources...)
	a.ImmutableChanges = append(a.ImmutableChanges, b.ImmutableChanges...)
	return a
}

// overlayTree is a tree with some files replaced or added.
type overlayTree struct {
	base tree
	over map[string][]byte
}

func (t *overlayTree) read(p string) ([]byte, bool) {
	if b, ok := t.over[p]; ok {
		return b, true
	}
	return t.base.read(p)
}

func (t *overlayTree) isDir(p string) bool {
	if t.base.isDir(p) {
		return true
	}
	for k := range t.over {
		if strings.HasPrefix(k, p+"/") || p == "." {
			return true
		}
	}
	return false
}

func (t *overlayTree) list(dir string) []string {
	out := t.base.list(dir)
	seen := make(map[string]bool, len(out))
	for _, p := range out {
		seen[p] = true
	}
	for p := range t.over {
		if !seen[p] && p != dir && under(p, dir) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
