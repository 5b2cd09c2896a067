package manifest

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	yaml "go.yaml.in/yaml/v3"
)

// HelmResult is what a HelmRelease change would commit: the files and their
// diff (the values diff) in Result, and the release as the path builds it
// before and after.
type HelmResult struct {
	Result
	Before *HelmRelease `json:"before"`
	After  *HelmRelease `json:"after"`
}

// PlanHelmFS plans a change to the HelmRelease that gitPath builds. The
// edit lands where a person would make it: the overlay's existing patch of
// the release (the last one that sets values, else the last one), else the
// HelmRelease itself when its file is under gitPath, else a new patch
// <name>-values.yaml that the overlay's patches: references. Comments and
// formatting of every untouched line stay. After the edit the path is built
// again: a later patch or transform that overrides a value set here is
// BAD_REQUEST. c is the chart the release will use (the new version's when
// ChartVersion changes it).
func PlanHelmFS(fsys fs.FS, gitPath string, ch HelmChange, c HelmChart) (*HelmResult, error) {
	t := fsTree{fsys}
	rels, err := findHelmReleases(t, gitPath, nil)
	if err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return nil, model.Errorf(model.CodeBadRequest, "%s builds no HelmRelease", gitPath).WithDetail("gitPath", gitPath)
	}
	rel, err := pickRelease(rels, ch.Workload)
	if err != nil {
		return nil, err
	}
	delta, err := helmDelta(ch, c, Coalesce(c.Defaults, rel.Values))
	if err != nil {
		return nil, err
	}
	hp := &helmPlanner{t: t, gitPath: gitPath, rel: rel}
	tg, err := hp.pickTarget()
	if err != nil {
		return nil, err
	}
	spec := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if len(delta) > 0 {
		spec.Content = append(spec.Content, scalarNode("values"), valuesDesired(delta, mapValue(mapValue(tg.d.root, "spec"), "values")))
	}
	if ch.ChartVersion != "" {
		spec.Content = append(spec.Content, scalarNode("chart"), mapNode("spec", mapNode("version", ch.ChartVersion)))
	}
	mergeDesired(tg.desired, mapNode("spec", spec))
	res, err := hp.finish()
	if err != nil {
		return nil, err
	}
	out := &HelmResult{Result: *res, Before: rel}
	if out.After, err = hp.after(res.Files, delta, ch.ChartVersion); err != nil {
		return nil, err
	}
	out.After.Source = rel.Source
	return out, nil
}

// helmPlanner places the edit of one HelmRelease.
type helmPlanner struct {
	t       tree
	gitPath string
	rel     *HelmRelease
	targets []*target
	created []string
	notes   []Edit
}

// pickTarget returns the document that takes the edit.
func (hp *helmPlanner) pickTarget() (*target, error) {
	kpath := ""
	for _, n := range kustNames {
		if _, ok := hp.t.read(cleanPath(path.Join(hp.gitPath, n))); ok {
			kpath = cleanPath(path.Join(hp.gitPath, n))
			break
		}
	}
	if kpath != "" {
		kf, d, err := hp.kustDoc(kpath)
		if err != nil {
			return nil, err
		}
		if tg := hp.existingPatch(kf, d); tg != nil {
			return tg, nil
		}
		if !under(hp.rel.File, hp.gitPath) {
			return hp.newPatch(kf, d)
		}
	}
	if hp.rel.File == "" || !under(hp.rel.File, hp.gitPath) {
		return nil, model.Errorf(model.CodeBadRequest, "%s: the HelmRelease's file is not under %s and the path has no kustomization to patch it", hp.rel.ID(), hp.gitPath).
			WithDetail("gitPath", hp.gitPath)
	}
	f, err := hp.parse(hp.rel.File)
	if err != nil {
		return nil, err
	}
	for _, d := range f.docs {
		if d.root != nil && d.kind == "HelmRelease" && strings.Contains(hp.rel.Name, d.name) {
			return hp.target(f, d), nil
		}
	}
	return nil, model.Errorf(model.CodeBadRequest, "%s: no HelmRelease document in %s", hp.rel.ID(), hp.rel.File).WithDetail("path", hp.rel.File)
}

func (hp *helmPlanner) parse(fp string) (*yfile, error) {
	b, ok := hp.t.read(fp)
	if !ok {
		return nil, model.Errorf(model.CodeBadRequest, "%s does not exist", fp).WithDetail("path", fp)
	}
	return parseYAML(fp, b)
}

func (hp *helmPlanner) kustDoc(kpath string) (*yfile, *ydoc, error) {
	f, err := hp.parse(kpath)
	if err != nil {
		return nil, nil, err
	}
	if len(f.docs) == 0 || f.docs[0].root == nil {
		return nil, nil, model.Errorf(model.CodeYAMLInvalid, "%s is not a kustomization (not a mapping)", kpath).WithDetail("path", kpath)
	}
	return f, f.docs[0], nil
}

// existingPatch finds the overlay's strategic-merge patches of the release
// (patches: with a path, patchesStrategicMerge:) and picks the last one
// that sets values, else the last one.
func (hp *helmPlanner) existingPatch(kf *yfile, kd *ydoc) *target {
	dir := path.Dir(kf.path)
	type cand struct {
		f *yfile
		d *ydoc
	}
	var cands []cand
	consider := func(rel string, tgtKind, tgtName string) {
		fp := cleanPath(path.Join(dir, rel))
		f, err := hp.parse(fp)
		if err != nil {
			return
		}
		for _, d := range f.docs {
			if d.root == nil || (d.kind != "HelmRelease" && tgtKind != "HelmRelease") {
				continue
			}
			if d.name == hp.rel.Name || tgtName == hp.rel.Name || (tgtKind == "HelmRelease" && tgtName == "" && d.name == hp.rel.Name) {
				cands = append(cands, cand{f, d})
			}
		}
	}
	for _, it := range seqItems(mapValue(kd.root, "patchesStrategicMerge")) {
		if it.Kind == yaml.ScalarNode && !strings.Contains(it.Value, "\n") {
			consider(it.Value, "", "")
		}
	}
	for _, it := range seqItems(mapValue(kd.root, "patches")) {
		if p := scalarAt(it, "path"); p != "" {
			tg := mapValue(it, "target")
			consider(p, scalarAt(tg, "kind"), scalarAt(tg, "name"))
		}
	}
	for i := len(cands) - 1; i >= 0; i-- {
		if mapValue(mapValue(cands[i].d.root, "spec"), "values") != nil {
			return hp.target(cands[i].f, cands[i].d)
		}
	}
	if len(cands) > 0 {
		c := cands[len(cands)-1]
		return hp.target(c.f, c.d)
	}
	return nil
}

// newPatch creates <name>-values.yaml in the overlay and lists it under patches:.
func (hp *helmPlanner) newPatch(kf *yfile, kd *ydoc) (*target, error) {
	dir := path.Dir(kf.path)
	rel := hp.rel.Name + "-values.yaml"
	for i := 2; ; i++ {
		if _, ok := hp.t.read(cleanPath(path.Join(dir, rel))); !ok {
			break
		}
		rel = fmt.Sprintf("%s-values-%d.yaml", hp.rel.Name, i)
	}
	fp := cleanPath(path.Join(dir, rel))
	f := &yfile{path: fp, created: true, st: kf.style(), styleDone: true}
	md := mapNode("name", hp.rel.Name)
	if scalarAt(kd.root, "namespace") == "" && hp.rel.Namespace != "" {
		md.Content = append(md.Content, scalarNode("namespace"), scalarNode(hp.rel.Namespace))
	}
	d := &ydoc{kind: "HelmRelease", name: hp.rel.Name}
	t := &target{f: f, d: d, first: map[string]bool{}, desired: mapNode("apiVersion", "helm.toolkit.fluxcd.io/v2", "kind", "HelmRelease", "metadata", md)}
	hp.targets = append(hp.targets, t)
	hp.created = append(hp.created, fp)
	kt := hp.target(kf, kd)
	mergeDesired(kt.desired, mapNode("patches", seqNode(mapNode("path", rel))))
	hp.notes = append(hp.notes, Edit{Path: fp, Object: hp.rel.ID(), New: strp(rel),
		Note: fmt.Sprintf("created values patch %s for %s and referenced it in %s patches:", fp, hp.rel.ID(), kf.path)})
	return t, nil
}

func (hp *helmPlanner) target(f *yfile, d *ydoc) *target {
	for _, t := range hp.targets {
		if t.f == f && t.d == d {
			return t
		}
	}
	t := &target{f: f, d: d, desired: &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}, first: map[string]bool{}}
	hp.targets = append(hp.targets, t)
	return t
}

// finish applies the desired trees to the files and builds the result.
func (hp *helmPlanner) finish() (*Result, error) {
	res := &Result{Files: map[string][]byte{}, Workload: hp.rel.ID(), Warnings: []string{}, Edits: []Edit{}}
	var diffs []fileDiff
	for _, t := range hp.targets {
		if len(t.desired.Content) == 0 {
			continue
		}
		mg := &merger{f: t.f, object: objectLabel(t.d), first: t.first}
		if t.f.created {
			t.f.src = []byte(strings.Join(emit(clean(t.desired), 0, t.f.st), "\n") + "\n")
			mg.recordTree("spec", mapValue(t.desired, "spec"), true)
			res.Edits = append(res.Edits, mg.edits...)
			res.Files[t.f.path] = t.f.src
			diffs = append(diffs, fileDiff{path: t.f.path, new: t.f.src, created: true})
			continue
		}
		if err := mg.mergeMap(t.d.root, nil, t.desired, "", false); err != nil {
			return nil, err
		}
		res.Edits = append(res.Edits, mg.edits...)
		out, err := t.f.result()
		if err != nil {
			return nil, err
		}
		if string(out) == string(t.f.src) {
			continue
		}
		if err := t.f.checkEdited(out); err != nil {
			return nil, model.Wrap(model.CodeInternal, err, "edited "+t.f.path+" is not valid YAML")
		}
		res.Files[t.f.path] = out
		diffs = append(diffs, fileDiff{path: t.f.path, old: t.f.src, new: out, edits: t.f.edits})
	}
	if len(res.Files) == 0 {
		res.Edits = nil
	}
	res.Edits = append(hp.notes, res.Edits...)
	if len(res.Files) == 0 {
		res.Edits = []Edit{}
		res.Warnings = append(res.Warnings, "no file changes: the repository already has this configuration")
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].path < diffs[j].path })
	res.Diff, res.Summary = gitDiff(diffs)
	res.Impact = Impact{EstimatedDowntime: "none", AffectedResources: []string{hp.rel.ID()}}
	return res, nil
}

// after builds the path with the planned files and checks that the release
// gets every value set and the chart version.
func (hp *helmPlanner) after(files map[string][]byte, delta map[string]any, version string) (*HelmRelease, error) {
	rels, err := findHelmReleases(hp.t, hp.gitPath, files)
	if err != nil {
		return nil, model.Errorf(model.CodeYAMLInvalid, "after the change, %s", model.AsError(err).Message).WithDetail("gitPath", hp.gitPath)
	}
	var rel *HelmRelease
	for _, r := range rels {
		if r.Name == hp.rel.Name && r.Namespace == hp.rel.Namespace {
			rel = r
		}
	}
	if rel == nil {
		return nil, model.Errorf(model.CodeBadRequest, "after the change the build of %s has no %s", hp.gitPath, hp.rel.ID()).WithDetail("gitPath", hp.gitPath)
	}
	leaves := map[string]any{}
	leafPaths("", delta, leaves)
	keys := make([]string, 0, len(leaves))
	for k := range leaves {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		want := leaves[k]
		got, ok := valueAt(rel.Values, k)
		if want == nil && !ok || want != nil && ok && sameValue(got, want) {
			continue
		}
		if want == nil {
			continue // removed here, set again by another layer: Helm's default applies there
		}
		return nil, model.Errorf(model.CodeBadRequest, "after the change the build of %s gives %s values.%s = %s, not %s: a later patch or transform of the path sets it",
			hp.gitPath, hp.rel.ID(), k, jsonText(got), jsonText(want)).WithDetail("field", "values."+k)
	}
	if version != "" && rel.Version != version {
		return nil, model.Errorf(model.CodeBadRequest, "after the change the build of %s gives %s chart version %q, not %q: a later patch sets it",
			hp.gitPath, hp.rel.ID(), rel.Version, version).WithDetail("field", "chartVersion")
	}
	return rel, nil
}

// valuesDesired turns a values delta into a desired tree for the target's
// spec.values (cur, nil when absent): a nil value removes the key, a list
// or a value of another kind than the current one replaces it whole.
func valuesDesired(delta map[string]any, cur *yaml.Node) *yaml.Node {
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	keys := make([]string, 0, len(delta))
	for k := range delta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := delta[k]
		cv := mapValue(cur, k)
		var n *yaml.Node
		switch x := v.(type) {
		case nil:
			n = deleteMarker()
		case map[string]any:
			if cv != nil && cv.Kind != yaml.MappingNode && !(cv.Kind == yaml.ScalarNode && cv.Tag == "!!null") {
				n = replacing(valueNode(x))
			} else {
				n = valuesDesired(x, cv)
			}
		default:
			n = valueNode(v)
			if cv != nil && (n.Kind != yaml.ScalarNode || cv.Kind != yaml.ScalarNode) {
				n = replacing(n)
			}
		}
		out.Content = append(out.Content, scalarNode(k), n)
	}
	return out
}

// valueNode renders a JSON-like value as a YAML node.
func valueNode(v any) *yaml.Node {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range keys {
			m.Content = append(m.Content, scalarNode(k), valueNode(x[k]))
		}
		return m
	case []any:
		s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, it := range x {
			s.Content = append(s.Content, valueNode(it))
		}
		return s
	case string:
		return scalarNode(x)
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(x)}
	case int64:
		return intNode(x)
	case int:
		return intNode(int64(x))
	case float64:
		if x == float64(int64(x)) {
			return intNode(int64(x))
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(x, 'g', -1, 64)}
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	return scalarNode(fmt.Sprint(v))
}

func jsonText(v any) string {
	n := valueNode(v)
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	n.Style = yaml.FlowStyle
	b, err := yaml.Marshal(n)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(b))
}
