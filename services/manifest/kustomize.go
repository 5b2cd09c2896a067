package manifest

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// workload is a Deployment, StatefulSet or DaemonSet found under gitPath
// (directly or through the overlay's resources).
type workload struct {
	kind, apiVersion, name, namespace string
	inputName                         string // name as the overlay sees it (after inner layers' prefix/suffix)
	f                                 *yfile
	d                                 *ydoc
	inPath                            bool              // the file lies under gitPath: it may be edited
	images                            map[string]string // container -> image as the overlay sees it
}

func (w *workload) id() string { return w.kind + "/" + w.name }

// patchRef is one strategic-merge patch document the overlay uses.
type patchRef struct {
	f         *yfile
	d         *ydoc
	hasTarget bool
	tKind     string
	tName     string
	// late: the patch belongs to a builtin transformer listed under
	// transformers:, which kustomize runs after images: (and every other
	// builtin field), so it overrides an images: entry.
	late bool
}

// overlay is the kustomization at gitPath.
type overlay struct {
	f                         *yfile
	d                         *ydoc
	dir                       string
	namespace, prefix, suffix string
	patches                   []*patchRef
	inline                    []string // inline / JSON6902 patches, for warnings
}

func isWorkloadKind(k string) bool {
	return k == "Deployment" || k == "StatefulSet" || k == "DaemonSet"
}

func (p *planner) kustomizationIn(dir string) string {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		fp := cleanPath(path.Join(dir, n))
		if _, ok := p.t.read(fp); ok {
			return fp
		}
	}
	return ""
}

func (p *planner) file(fp string) (*yfile, error) {
	return p.fileKinds(fp, nil)
}

// resourceKinds is the filter for resource files: only workloads and
// autoscalers are parsed.
func resourceKinds(k string, _ []byte) bool {
	return isWorkloadKind(k) || k == "HorizontalPodAutoscaler"
}

func (p *planner) fileKinds(fp string, want func(string, []byte) bool) (*yfile, error) {
	if f, ok := p.parsed[fp]; ok {
		return f, nil
	}
	src, ok := p.t.read(fp)
	if !ok {
		return nil, nil
	}
	f, err := parseYAMLKinds(fp, src, want)
	if err != nil {
		return nil, err
	}
	p.parsed[fp] = f
	return f, nil
}

func stringList(n *yaml.Node) []string {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	var out []string
	for _, it := range n.Content {
		if it.Kind == yaml.ScalarNode {
			out = append(out, it.Value)
		}
	}
	return out
}

func isRemote(e string) bool {
	return strings.Contains(e, "://") || strings.HasPrefix(e, "github.com/") || strings.Contains(e, "?ref=") || strings.HasPrefix(e, "git@")
}

func (p *planner) workloadsIn(f *yfile) []*workload {
	var out []*workload
	for _, d := range f.docs {
		if d.root == nil || !isWorkloadKind(d.kind) || d.name == "" {
			continue
		}
		w := &workload{kind: d.kind, apiVersion: d.apiVersion, name: d.name, namespace: d.namespa, inputName: d.name,
			f: f, d: d, inPath: under(f.path, p.gitPath), images: map[string]string{}}
		for _, list := range []string{"containers", "initContainers"} {
			for _, c := range containerList(d.root, list) {
				w.images[scalarAt(c, "name")] = scalarAt(c, "image")
			}
		}
		out = append(out, w)
	}
	return out
}

func containerList(root *yaml.Node, list string) []*yaml.Node {
	s := mapValue(mapValue(mapValue(mapValue(root, "spec"), "template"), "spec"), list)
	if s == nil || s.Kind != yaml.SequenceNode {
		return nil
	}
	return s.Content
}

// collectPlain finds the workloads of a plain manifest directory. When the
// change names a workload, documents that do not mention its name are not
// parsed (a second full pass runs if that finds no single match, so errors
// still list every workload).
func (p *planner) collectPlain() error {
	name := p.ch.Workload
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if name != "" {
		want := func(k string, text []byte) bool {
			return resourceKinds(k, text) && bytes.Contains(text, []byte(name))
		}
		p.collectPlainWith(want)
		n := 0
		for _, w := range p.workloads {
			if w.name == name {
				n++
			}
		}
		if n == 1 {
			return nil
		}
		p.workloads, p.warnings, p.parsed = nil, nil, map[string]*yfile{}
	}
	p.collectPlainWith(resourceKinds)
	return nil
}

func (p *planner) collectPlainWith(want func(string, []byte) bool) {
	for _, fp := range p.t.list(p.gitPath) {
		if !strings.HasSuffix(fp, ".yaml") && !strings.HasSuffix(fp, ".yml") {
			continue
		}
		src, _ := p.t.read(fp)
		if !bytes.Contains(src, []byte("Deployment")) && !bytes.Contains(src, []byte("StatefulSet")) && !bytes.Contains(src, []byte("DaemonSet")) {
			continue
		}
		f, err := p.fileKinds(fp, want)
		if err != nil {
			p.warn("%s is not valid YAML and was skipped: %v", fp, err)
			continue
		}
		p.workloads = append(p.workloads, p.workloadsIn(f)...)
	}
}

// collectOverlay loads the kustomization at gitPath and the workloads it builds.
func (p *planner) collectOverlay(kpath string) error {
	ws, err := p.collectLayer(kpath, true, map[string]bool{})
	p.workloads = ws
	return err
}

func (p *planner) collectLayer(kpath string, top bool, seen map[string]bool) ([]*workload, error) {
	if seen[kpath] || len(seen) > 100 {
		return nil, nil
	}
	seen[kpath] = true
	kf, err := p.file(kpath)
	if err != nil || kf == nil {
		return nil, err
	}
	if len(kf.docs) == 0 || kf.docs[0].root == nil {
		return nil, nil
	}
	root := kf.docs[0].root
	dir := path.Dir(kpath)
	var out []*workload
	for _, field := range []string{"resources", "bases", "components"} {
		for _, e := range stringList(mapValue(root, field)) {
			if isRemote(e) {
				p.warn("%s: remote resource %s is not followed", kpath, e)
				continue
			}
			rp := cleanPath(path.Join(dir, e))
			if _, ok := p.t.read(rp); ok {
				f, err := p.fileKinds(rp, resourceKinds)
				if err != nil {
					return nil, err
				}
				out = append(out, p.workloadsIn(f)...)
				continue
			}
			if sub := p.kustomizationIn(rp); sub != "" {
				ws, err := p.collectLayer(sub, false, seen)
				if err != nil {
					return nil, err
				}
				out = append(out, ws...)
				continue
			}
			p.warn("%s: resource %s is not in the repository", kpath, e)
		}
	}
	ns := scalarAt(root, "namespace")
	prefix, suffix := scalarAt(root, "namePrefix"), scalarAt(root, "nameSuffix")
	if top {
		p.ov = &overlay{f: kf, d: kf.docs[0], dir: dir, namespace: ns, prefix: prefix, suffix: suffix}
		return out, p.loadPatches(root, dir)
	}
	entries := imagesEntries(root)
	for _, w := range out {
		for c, img := range w.images {
			for _, e := range entries {
				if ni, ok := e.apply(img); ok {
					w.images[c] = ni
					break
				}
			}
		}
		w.inputName = prefix + w.inputName + suffix
		if ns != "" {
			w.namespace = ns
		}
	}
	return out, nil
}

func imagesEntries(root *yaml.Node) []imagesEntry {
	n := mapValue(root, "images")
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	var out []imagesEntry
	for _, it := range n.Content {
		out = append(out, imagesEntry{Name: scalarAt(it, "name"), NewName: scalarAt(it, "newName"), NewTag: scalarAt(it, "newTag"), Digest: scalarAt(it, "digest")})
	}
	return out
}

func (p *planner) loadPatches(root *yaml.Node, dir string) error {
	addFile := func(rel string, hasTarget bool, tKind, tName string, late bool) error {
		fp := cleanPath(path.Join(dir, rel))
		f, err := p.file(fp)
		if err != nil {
			return err
		}
		if f == nil {
			p.warn("%s: patch %s is not in the repository", p.ov.f.path, rel)
			return nil
		}
		for _, d := range f.docs {
			if d.root == nil {
				p.ov.inline = append(p.ov.inline, string(f.src))
				continue
			}
			p.ov.patches = append(p.ov.patches, &patchRef{f: f, d: d, hasTarget: hasTarget, tKind: tKind, tName: tName, late: late})
		}
		return nil
	}
	for _, e := range stringList(mapValue(root, "patchesStrategicMerge")) {
		if strings.Contains(e, "\n") {
			p.ov.inline = append(p.ov.inline, e)
			continue
		}
		if err := addFile(e, false, "", "", false); err != nil {
			return err
		}
	}
	for _, field := range []string{"patches", "patchesJson6902"} {
		n := mapValue(root, field)
		if n == nil || n.Kind != yaml.SequenceNode {
			continue
		}
		for _, it := range n.Content {
			tgt := mapValue(it, "target")
			tKind, tName := scalarAt(tgt, "kind"), scalarAt(tgt, "name")
			if inl := scalarAt(it, "patch"); inl != "" {
				p.ov.inline = append(p.ov.inline, inl)
				continue
			}
			rel := scalarAt(it, "path")
			if rel == "" {
				continue
			}
			if field == "patchesJson6902" {
				if src, ok := p.t.read(cleanPath(path.Join(dir, rel))); ok {
					p.ov.inline = append(p.ov.inline, string(src))
				}
				continue
			}
			if err := addFile(rel, tgt != nil, tKind, tName, false); err != nil {
				return err
			}
		}
	}
	return p.loadTransformers(root, dir, addFile)
}

// loadTransformers loads the strategic-merge patches of the builtin
// PatchTransformer and PatchStrategicMergeTransformer configurations listed
// under transformers: (inline or in files) as late patches.
func (p *planner) loadTransformers(root *yaml.Node, dir string, addFile func(string, bool, string, string, bool) error) error {
	for _, e := range stringList(mapValue(root, "transformers")) {
		var docs []*yaml.Node
		if strings.Contains(e, "\n") {
			docs = inlineDocs(e)
		} else if isRemote(e) {
			continue
		} else if f, err := p.file(cleanPath(path.Join(dir, e))); err == nil && f != nil {
			for _, d := range f.docs {
				docs = append(docs, d.root)
			}
		}
		for _, d := range docs {
			if scalarAt(d, "apiVersion") != "builtin" {
				continue
			}
			var rels []string
			switch scalarAt(d, "kind") {
			case "PatchTransformer":
				if inl := scalarAt(d, "patch"); inl != "" {
					p.ov.inline = append(p.ov.inline, inl)
				}
				if rel := scalarAt(d, "path"); rel != "" {
					tgt := mapValue(d, "target")
					if err := addFile(rel, tgt != nil, scalarAt(tgt, "kind"), scalarAt(tgt, "name"), true); err != nil {
						return err
					}
				}
				continue
			case "PatchStrategicMergeTransformer":
				if inl := scalarAt(d, "patches"); inl != "" {
					p.ov.inline = append(p.ov.inline, inl)
				}
				rels = stringList(mapValue(d, "paths"))
			}
			for _, rel := range rels {
				if err := addFile(rel, false, "", "", true); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// inlineDocs parses an inline transformer configuration.
func inlineDocs(s string) []*yaml.Node {
	var out []*yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(s))
	for {
		var n yaml.Node
		if dec.Decode(&n) != nil {
			return out
		}
		if len(n.Content) == 1 && n.Content[0].Kind == yaml.MappingNode {
			out = append(out, n.Content[0])
		}
	}
}

// targets reports whether patch pr applies to workload w. final is w's
// name after the overlay's prefix and suffix: a late patch runs after them.
func (pr *patchRef) targets(w *workload, final string) bool {
	if pr.hasTarget {
		if pr.tKind != "" && pr.tKind != w.kind || pr.tName == "" {
			return false
		}
		re, err := regexp.Compile("^(?:" + pr.tName + ")$")
		if err != nil {
			return pr.tName == w.name || pr.tName == w.inputName || pr.late && pr.tName == final
		}
		return re.MatchString(w.name) || re.MatchString(w.inputName) || pr.late && re.MatchString(final)
	}
	return pr.d.kind == w.kind && (pr.d.name == w.name || pr.d.name == w.inputName || pr.late && pr.d.name == final)
}

func (w *workload) label() string {
	return fmt.Sprintf("%s/%s", w.kind, w.name)
}
