package manifest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/resource"
)

type planner struct {
	t         tree
	gitPath   string
	ch        Change
	img       *ImageRef
	parsed    map[string]*yfile
	warnings  []string
	ov        *overlay
	workloads []*workload
	w         *workload
	container string
	list      string // containers or initContainers
	targets   []*target
	newPatch  *target
	lateNew   map[*workload]*target // new late patches (transformers:), by workload
	created   []string              // files the plan creates
	notes     []Edit
	affected  []string
	// envUses: the change names no workload and its image is used by
	// several containers: all of them change (the environment as a whole).
	envUses []imageUse

	// effective values before the change, for the impact
	oldImage    string
	oldReplicas int64
	restart     bool
	newReplicas int64
}

func (p *planner) warn(format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf(format, args...))
}

func validate(ch Change) (*ImageRef, error) {
	fe := model.FieldErrors{}
	var img *ImageRef
	if ch.Image != "" {
		if r, why := model.SplitImage(ch.Image); why != "" {
			fe.Add("image", why)
		} else {
			img = &r
		}
	}
	if ch.Replicas != nil && *ch.Replicas < 0 {
		fe.Add("replicas", "must be 0 or more")
	}
	for k := range ch.Env {
		if k == "" || strings.ContainsAny(k, "= \t\n") {
			fe.Add("env", fmt.Sprintf("invalid variable name %q", k))
		}
	}
	if r := ch.Resources; r != nil {
		for name, v := range map[string]string{"requests.cpu": r.Requests.CPU, "requests.memory": r.Requests.Memory, "limits.cpu": r.Limits.CPU, "limits.memory": r.Limits.Memory} {
			if v == "" {
				continue
			}
			if q, err := resource.ParseQuantity(v); err != nil {
				fe.Add("resources."+name, "invalid quantity "+strconv.Quote(v))
			} else if q.Sign() < 0 {
				fe.Add("resources."+name, "must not be negative")
			}
		}
	}
	if ch.Image == "" && ch.Replicas == nil && len(ch.Env) == 0 && (ch.Resources == nil || *ch.Resources == (Resources{})) {
		fe.Add("changes", "nothing to change: give image, replicas, env or resources")
	}
	return img, fe.Err()
}

func plan(t tree, gitPath string, ch Change) (*Result, error) {
	img, err := validate(ch)
	if err != nil {
		return nil, err
	}
	p := &planner{t: t, gitPath: cleanPath(gitPath), ch: ch, img: img, parsed: map[string]*yfile{}}
	if p.gitPath != "." && !t.isDir(p.gitPath) {
		return nil, model.Errorf(model.CodeBadRequest, "gitPath %s is not a directory in the repository", p.gitPath).WithDetail("gitPath", p.gitPath)
	}
	if k := p.kustomizationIn(p.gitPath); k != "" {
		err = p.collectOverlay(k)
	} else {
		err = p.collectPlain()
	}
	if err != nil {
		return nil, err
	}
	if err := p.pickWorkload(); err != nil {
		return nil, err
	}
	if err := p.pickContainer(); err != nil {
		return nil, err
	}
	if err := p.planImage(); err != nil {
		return nil, err
	}
	if err := p.planReplicas(); err != nil {
		return nil, err
	}
	p.planEnv()
	p.planResources()
	return p.finish()
}

func (p *planner) pickWorkload() error {
	ids := make([]string, 0, len(p.workloads))
	for _, w := range p.workloads {
		ids = append(ids, w.id())
	}
	sort.Strings(ids)
	if len(p.workloads) == 0 {
		return model.Errorf(model.CodeBadRequest, "no Deployment, StatefulSet or DaemonSet under %s", p.gitPath).WithDetail("gitPath", p.gitPath).WithDetail("workloads", ids)
	}
	want := p.ch.Workload
	if want == "" {
		if p.pickImageUsers() {
			return nil
		}
		if len(p.workloads) > 1 {
			return model.Errorf(model.CodeBadRequest, "%s holds %d workloads (%s): name one in workload", p.gitPath, len(ids), strings.Join(ids, ", ")).
				WithDetail("workloads", ids).WithDetail("fields", map[string]any{"workload": "required when the path holds several workloads"})
		}
		p.w = p.workloads[0]
		return nil
	}
	kind, name := "", want
	if i := strings.IndexByte(want, '/'); i >= 0 {
		kind, name = want[:i], want[i+1:]
	}
	var found []*workload
	for _, w := range p.workloads {
		if (kind == "" || strings.EqualFold(kind, w.kind)) && (w.name == name || w.inputName == name || p.finalName(w) == name) {
			found = append(found, w)
		}
	}
	switch len(found) {
	case 0:
		return model.Errorf(model.CodeBadRequest, "workload %q not found under %s (found: %s)", want, p.gitPath, strings.Join(ids, ", ")).
			WithDetail("workloads", ids).WithDetail("fields", map[string]any{"workload": "not found: " + want})
	case 1:
		p.w = found[0]
		return nil
	default:
		return model.Errorf(model.CodeBadRequest, "workload %q is ambiguous: name it as Kind/name (found: %s)", want, strings.Join(ids, ", ")).WithDetail("workloads", ids)
	}
}

func (p *planner) finalName(w *workload) string {
	if p.ov == nil {
		return w.name
	}
	return p.ov.prefix + w.inputName + p.ov.suffix
}

func (p *planner) finalNamespace(w *workload) string {
	if p.ov != nil && p.ov.namespace != "" {
		return p.ov.namespace
	}
	return w.namespace
}

func (p *planner) pickContainer() error {
	if p.container != "" {
		return nil // chosen with the workload
	}
	w := p.w
	var names []string
	for _, c := range containerList(w.d.root, "containers") {
		names = append(names, scalarAt(c, "name"))
	}
	p.list = "containers"
	if want := p.ch.Container; want != "" {
		for _, n := range names {
			if n == want {
				p.container = n
				return nil
			}
		}
		for _, c := range containerList(w.d.root, "initContainers") {
			if scalarAt(c, "name") == want {
				p.container, p.list = want, "initContainers"
				return nil
			}
		}
		return model.Errorf(model.CodeBadRequest, "container %q not found in %s (containers: %s)", want, w.id(), strings.Join(names, ", ")).
			WithDetail("containers", names).WithDetail("fields", map[string]any{"container": "not found: " + want})
	}
	needsContainer := p.img != nil || len(p.ch.Env) > 0 || p.ch.Resources != nil
	if len(names) == 1 || (!needsContainer && len(names) > 0) {
		p.container = names[0]
		return nil
	}
	if len(names) == 0 {
		return model.Errorf(model.CodeBadRequest, "%s has no containers", w.id())
	}
	if p.img != nil {
		var match []string
		for _, n := range names {
			if imageName(w.images[n]) == p.img.Name {
				match = append(match, n)
			}
		}
		if len(match) == 1 {
			p.container = match[0]
			return nil
		}
	}
	for _, n := range names {
		if n == w.name {
			p.container = n
			return nil
		}
	}
	return model.Errorf(model.CodeBadRequest, "%s has %d containers (%s): name one in container", w.id(), len(names), strings.Join(names, ", ")).
		WithDetail("containers", names).WithDetail("fields", map[string]any{"container": "required when the workload has several containers"})
}

func replicasEntries(root *yaml.Node) []*yaml.Node {
	n := mapValue(root, "replicas")
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// currentReplicas returns w's replica count as the path builds it, the
// document index that sets it (-1: the default) and the name of the
// overlay's replicas: entry that overrides it ("" if none).
func (p *planner) currentReplicas(w *workload) (cur int64, setBy int, entryName string) {
	ds, _, _ := p.docsFor(w)
	cur, setBy = 1, -1
	for i, d := range ds {
		if v := mapValue(mapValue(d.root, "spec"), "replicas"); v != nil {
			if n, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
				cur, setBy = n, i
			}
		}
	}
	if p.ov != nil {
		for _, e := range replicasEntries(p.ov.d.root) {
			if n := scalarAt(e, "name"); n == w.name || n == w.inputName {
				if c, err := strconv.ParseInt(scalarAt(e, "count"), 10, 64); err == nil {
					cur, entryName = c, n
				}
			}
		}
	}
	return cur, setBy, entryName
}

func (p *planner) planReplicas() error {
	ds, fs, ed := p.docs()
	cur, setBy, entryName := p.currentReplicas(p.w)
	p.oldReplicas, p.newReplicas = cur, cur
	if p.ch.Replicas == nil {
		return nil
	}
	if p.w.kind == "DaemonSet" {
		fe := model.FieldErrors{}
		fe.Add("replicas", "a DaemonSet runs one pod per node and has no replica count")
		return fe.Err()
	}
	want := int64(*p.ch.Replicas)
	p.newReplicas = want
	if want == cur {
		p.warn("%s already has %d replicas: replicas unchanged", p.w.id(), want)
		return nil
	}
	if want == 0 {
		p.warn("scaling %s to 0 replicas stops every pod", p.w.id())
	}
	if p.hasHPA() {
		p.warn("a HorizontalPodAutoscaler targets %s and overrides the replica count", p.w.id())
	}
	setDoc := func(i int) {
		t := p.target(fs[i], ds[i])
		t.first["spec"] = true
		mergeDesired(t.desired, mapNode("spec", mapNode("replicas", intNode(want))))
	}
	setEntry := func(name string) {
		kt := p.target(p.ov.f, p.ov.d)
		mergeDesired(kt.desired, mapNode("replicas", seqNode(mapNode("name", name, "count", intNode(want)))))
	}
	switch {
	case p.ov == nil:
		setDoc(0)
	case entryName != "":
		setEntry(entryName)
	case setBy > 0 && ed[setBy]:
		setDoc(setBy)
	case p.w.inPath:
		setDoc(0)
	case mapValue(p.ov.d.root, "replicas") != nil:
		setEntry(p.w.inputName)
	case len(ds) > 1 && ed[len(ds)-1]:
		setDoc(len(ds) - 1)
	default:
		setEntry(p.w.inputName)
	}
	return nil
}

func (p *planner) hasHPA() bool {
	for _, f := range p.parsed {
		for _, d := range f.docs {
			if d.kind == "HorizontalPodAutoscaler" {
				ref := mapValue(mapValue(d.root, "spec"), "scaleTargetRef")
				if scalarAt(ref, "kind") == p.w.kind && (scalarAt(ref, "name") == p.w.name || scalarAt(ref, "name") == p.w.inputName) {
					return true
				}
			}
		}
	}
	return false
}

// defaultTarget picks where a new container field goes: the last editable
// patch that already sets `key` for the container, else the workload in the
// path, else the last editable patch for the workload (not one of
// transformers:, which holds an image pin), else a new patch.
func (p *planner) defaultTarget(key string) *target {
	ds, fs, ed := p.docs()
	for i := len(ds) - 1; i > 0; i-- {
		if c := p.containerIn(ds[i]); ed[i] && c != nil && mapValue(c, key) != nil {
			return p.target(fs[i], ds[i])
		}
	}
	if ed[0] {
		return p.target(fs[0], ds[0])
	}
	for i := len(ds) - 1; i > 0; i-- {
		if ed[i] && !p.isLate(ds[i]) {
			return p.target(fs[i], ds[i])
		}
	}
	return p.patchTarget()
}

func envItem(c *yaml.Node, name string) *yaml.Node {
	for _, it := range seqItems(mapValue(c, "env")) {
		if scalarAt(it, "name") == name {
			return it
		}
	}
	return nil
}

func seqItems(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

func (p *planner) planEnv() {
	if len(p.ch.Env) == 0 {
		return
	}
	names := make([]string, 0, len(p.ch.Env))
	for k := range p.ch.Env {
		names = append(names, k)
	}
	sort.Strings(names)
	ds, fs, ed := p.docs()
	for _, name := range names {
		val := p.ch.Env[name]
		var definers []int
		var eff *yaml.Node
		for i, d := range ds {
			if it := envItem(p.containerIn(d), name); it != nil {
				definers = append(definers, i)
				eff = it
				if scalarAt(it, "$patch") == "delete" {
					eff = nil
				}
			}
		}
		if val == nil {
			if eff == nil {
				p.warn("env %s is not set on %s container %s: nothing to remove", name, p.w.id(), p.container)
				continue
			}
			p.restart = true
			// A variable that a file outside the path defines needs a
			// "$patch: delete" item in a patch; the others are deleted.
			var patchT *target
			for _, i := range definers {
				if !ed[i] {
					patchT = p.defaultTarget("env")
					item := mapNode("name", name, "$patch", "delete", "value", deleteMarker(), "valueFrom", deleteMarker())
					mergeDesired(patchT.desired, p.containerDesired(mapNode("env", seqNode(item))))
					break
				}
			}
			for _, i := range definers {
				if ed[i] && (patchT == nil || patchT.d != ds[i]) {
					t := p.target(fs[i], ds[i])
					mergeDesired(t.desired, p.containerDesired(mapNode("env", seqNode(deleteItemMarker("name", name)))))
				}
			}
			continue
		}
		if eff != nil && mapValue(eff, "valueFrom") == nil && mapValue(eff, "value") != nil && scalarAt(eff, "value") == *val {
			p.warn("env %s is already %q on %s container %s", name, *val, p.w.id(), p.container)
			continue
		}
		p.restart = true
		var t *target
		if n := len(definers); n > 0 && ed[definers[n-1]] {
			t = p.target(fs[definers[n-1]], ds[definers[n-1]])
		} else {
			t = p.defaultTarget("env")
		}
		item := mapNode("name", name, "value", *val, "valueFrom", deleteMarker())
		if eff != nil && mapValue(eff, "valueFrom") != nil && (t.d != eff0Doc(ds, definers)) {
			// A strategic merge keeps the base's valueFrom unless the patch clears it.
			item = mapNode("name", name, "value", *val, "valueFrom", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"})
		}
		mergeDesired(t.desired, p.containerDesired(mapNode("env", seqNode(item))))
	}
}

func eff0Doc(ds []*ydoc, definers []int) *ydoc {
	if len(definers) == 0 {
		return nil
	}
	return ds[definers[len(definers)-1]]
}

func (p *planner) planResources() {
	r := p.ch.Resources
	if r == nil {
		return
	}
	ds, fs, ed := p.docs()
	type leaf struct{ group, name, val string }
	leaves := []leaf{{"requests", "cpu", r.Requests.CPU}, {"requests", "memory", r.Requests.Memory}, {"limits", "cpu", r.Limits.CPU}, {"limits", "memory", r.Limits.Memory}}
	for _, l := range leaves {
		if l.val == "" {
			continue
		}
		last := -1
		var cur *yaml.Node
		for i, d := range ds {
			if v := mapValue(mapValue(mapValue(p.containerIn(d), "resources"), l.group), l.name); v != nil {
				last, cur = i, v
			}
		}
		if cur != nil {
			a, err1 := resource.ParseQuantity(cur.Value)
			b, err2 := resource.ParseQuantity(l.val)
			if err1 == nil && err2 == nil && a.Cmp(b) == 0 {
				p.warn("resources.%s.%s is already %s on %s container %s", l.group, l.name, cur.Value, p.w.id(), p.container)
				continue
			}
		}
		p.restart = true
		var t *target
		if last >= 0 && ed[last] {
			t = p.target(fs[last], ds[last])
		} else {
			t = p.defaultTarget("resources")
		}
		mergeDesired(t.desired, p.containerDesired(mapNode("resources", mapNode(l.group, mapNode(l.name, l.val)))))
	}
	if r.Limits.CPU != "" && r.Requests.CPU != "" {
		if a, b := resource.MustParse(r.Requests.CPU), resource.MustParse(r.Limits.CPU); a.Cmp(b) > 0 {
			p.warn("requests.cpu %s is above limits.cpu %s: the API server rejects this", r.Requests.CPU, r.Limits.CPU)
		}
	}
	if r.Limits.Memory != "" && r.Requests.Memory != "" {
		if a, b := resource.MustParse(r.Requests.Memory), resource.MustParse(r.Limits.Memory); a.Cmp(b) > 0 {
			p.warn("requests.memory %s is above limits.memory %s: the API server rejects this", r.Requests.Memory, r.Limits.Memory)
		}
	}
}

func objectLabel(d *ydoc) string {
	if d == nil || d.kind == "" || d.name == "" || d.kind == "Kustomization" || d.kind == "Component" {
		return ""
	}
	return d.kind + "/" + d.name
}

// finish applies the desired trees to the files and builds the result.
func (p *planner) finish() (*Result, error) {
	res := &Result{Files: map[string][]byte{}, Workload: p.w.id(), Container: p.container, Warnings: []string{}, Edits: []Edit{}}
	if len(p.envUses) > 0 {
		res.Workload, res.Container = p.envWorkloads()
	}
	var changed []*yfile
	for _, t := range p.targets {
		if len(t.desired.Content) == 0 {
			continue
		}
		if t.f.created {
			lines := emit(clean(t.desired), 0, t.f.st)
			t.f.src = []byte(strings.Join(lines, "\n") + "\n")
			mg := &merger{f: t.f, object: objectLabel(t.d)}
			for i := 0; i+1 < len(t.desired.Content); i += 2 {
				if k := t.desired.Content[i].Value; k != "apiVersion" && k != "kind" && k != "metadata" {
					mg.recordTree(k, t.desired.Content[i+1], true)
				}
			}
			res.Edits = append(res.Edits, mg.edits...)
			res.Files[t.f.path] = t.f.src
			continue
		}
		mg := &merger{f: t.f, object: objectLabel(t.d), first: t.first}
		if err := mg.mergeMap(t.d.root, nil, t.desired, "", false); err != nil {
			return nil, err
		}
		res.Edits = append(res.Edits, mg.edits...)
		changed = append(changed, t.f)
	}
	res.Edits = append(p.notes, res.Edits...)
	seen := map[*yfile]bool{}
	var diffs []fileDiff
	for _, f := range changed {
		if seen[f] {
			continue
		}
		seen[f] = true
		out, err := f.result()
		if err != nil {
			return nil, err
		}
		if string(out) == string(f.src) {
			continue
		}
		if err := f.checkEdited(out); err != nil {
			return nil, model.Wrap(model.CodeInternal, err, "edited "+f.path+" is not valid YAML")
		}
		res.Files[f.path] = out
		diffs = append(diffs, fileDiff{path: f.path, old: f.src, new: out, edits: f.edits})
	}
	for _, fp := range p.created {
		if b, ok := res.Files[fp]; ok {
			diffs = append(diffs, fileDiff{path: fp, new: b, created: true})
		}
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].path < diffs[j].path })
	res.Diff, res.Summary = gitDiff(diffs)
	p.addAffected(p.w)
	res.Impact = p.impact(res)
	res.Warnings = append(res.Warnings, p.warnings...)
	p.inlineWarnings(res)
	if len(res.Files) == 0 {
		res.Warnings = append(res.Warnings, "no file changes: the repository already has this configuration")
	}
	return res, nil
}

func (p *planner) inlineWarnings(res *Result) {
	if p.ov == nil {
		return
	}
	for _, s := range p.ov.inline {
		if !strings.Contains(s, p.w.name) && !strings.Contains(s, p.w.inputName) {
			continue
		}
		for _, field := range []string{"replicas", "image", "env", "resources"} {
			if strings.Contains(s, field) {
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s has an inline or JSON 6902 patch for %s that sets %s; check that it does not override this change", p.ov.f.path, p.w.id(), field))
				break
			}
		}
	}
}
