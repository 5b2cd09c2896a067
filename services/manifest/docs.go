package manifest

import (
	"fmt"
	"path"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// The documents that define a workload, and the targets that receive edits.

// target is one document that receives edits.
type target struct {
	f       *yfile
	d       *ydoc
	desired *yaml.Node
	first   map[string]bool
}

// patches returns the overlay's patches for the workload, in the order kustomize applies them.
func (p *planner) patches() []*patchRef { return p.patchesFor(p.w) }

// patchesFor returns the overlay's patches for w in the order kustomize
// applies them: patchesStrategicMerge:, patches:, then the late patches of
// transformers:.
func (p *planner) patchesFor(w *workload) []*patchRef {
	if p.ov == nil {
		return nil
	}
	var out []*patchRef
	for _, pr := range p.ov.patches {
		if pr.targets(w, p.finalName(w)) {
			out = append(out, pr)
		}
	}
	return out
}

// sole reports whether patch pr applies to one workload of the path only:
// only such a patch may take an edit meant for one workload.
func (p *planner) sole(pr *patchRef) bool {
	n := 0
	for _, w := range p.workloads {
		if pr.targets(w, p.finalName(w)) {
			n++
		}
	}
	return n <= 1
}

func (p *planner) containerIn(d *ydoc) *yaml.Node {
	return containerNamed(d.root, p.list, p.container)
}

func containerNamed(root *yaml.Node, list, name string) *yaml.Node {
	for _, c := range containerList(root, list) {
		if scalarAt(c, "name") == name {
			return c
		}
	}
	return nil
}

// docs returns the documents that define the workload, lowest precedence
// first, and whether each may be edited.
func (p *planner) docs() ([]*ydoc, []*yfile, []bool) { return p.docsFor(p.w) }

// docsFor returns the documents that define w, lowest precedence first, and
// whether each may be edited: a file under gitPath, and for a patch one that
// applies to w alone.
func (p *planner) docsFor(w *workload) ([]*ydoc, []*yfile, []bool) {
	ds := []*ydoc{w.d}
	fs := []*yfile{w.f}
	ed := []bool{w.inPath}
	for _, pr := range p.patchesFor(w) {
		ds = append(ds, pr.d)
		fs = append(fs, pr.f)
		ed = append(ed, under(pr.f.path, p.gitPath) && p.sole(pr))
	}
	return ds, fs, ed
}

// isLate reports whether d is a patch of transformers: (applied after images:).
func (p *planner) isLate(d *ydoc) bool {
	if p.ov == nil {
		return false
	}
	for _, pr := range p.ov.patches {
		if pr.d == d {
			return pr.late
		}
	}
	return false
}

func (p *planner) target(f *yfile, d *ydoc) *target {
	for _, t := range p.targets {
		if t.f == f && t.d == d {
			return t
		}
	}
	t := &target{f: f, d: d, desired: &yaml.Node{Kind: yaml.MappingNode}, first: map[string]bool{}}
	p.targets = append(p.targets, t)
	return t
}

// patchTarget returns the new strategic-merge patch for the workload, creating it once.
func (p *planner) patchTarget() *target {
	if p.newPatch == nil {
		p.newPatch = p.newPatchFile(p.w, false)
	}
	return p.newPatch
}

// newPatchFile creates a strategic-merge patch file for w in the overlay
// and references it from the kustomization: under patches:, or for a late
// patch as an inline PatchTransformer under transformers:, which kustomize
// runs after images:.
func (p *planner) newPatchFile(w *workload, late bool) *target {
	stem := w.name + "-patch"
	if late {
		stem = w.name + "-image-patch"
	}
	rel := stem + ".yaml"
	for i := 2; p.taken(cleanPath(path.Join(p.ov.dir, rel))); i++ {
		rel = fmt.Sprintf("%s-%d.yaml", stem, i)
	}
	fp := cleanPath(path.Join(p.ov.dir, rel))
	f := &yfile{path: fp, created: true, st: p.ov.f.style(), styleDone: true}
	name, ns := w.inputName, w.namespace
	if p.ov.namespace != "" {
		ns = ""
	}
	if late {
		// Late patches find their target by its id after namespace: and namePrefix:.
		name, ns = p.finalName(w), p.finalNamespace(w)
	}
	d := &ydoc{kind: w.kind, name: name}
	md := mapNode("name", name)
	if ns != "" {
		md.Content = append(md.Content, scalarNode("namespace"), scalarNode(ns))
	}
	t := &target{f: f, d: d, first: map[string]bool{}, desired: mapNode("apiVersion", w.apiVersion, "kind", w.kind, "metadata", md)}
	p.targets = append(p.targets, t)
	p.created = append(p.created, fp)
	kt := p.target(p.ov.f, p.ov.d)
	if !late {
		mergeDesired(kt.desired, mapNode("patches", seqNode(mapNode("path", rel))))
		p.notes = append(p.notes, Edit{Path: fp, Object: w.kind + "/" + name, New: strp(rel),
			Note: fmt.Sprintf("created strategic-merge patch %s for %s and referenced it in %s patches:", fp, w.id(), p.ov.f.path)})
		return t
	}
	cfg := fmt.Sprintf("# kustomize runs transformers: after images:, so this image is %s's alone\n"+
		"apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: %s\npath: %s\n", w.id(), strings.TrimSuffix(rel, "-patch.yaml"), rel)
	lit := scalarNode(cfg)
	lit.Style = yaml.LiteralStyle
	mergeDesired(kt.desired, mapNode("transformers", seqNode(lit)))
	p.notes = append(p.notes, Edit{Path: fp, Object: w.kind + "/" + name, New: strp(rel),
		Note: fmt.Sprintf("created strategic-merge patch %s for %s and referenced it from a PatchTransformer under transformers: in %s, which kustomize applies after images:", fp, w.id(), p.ov.f.path)})
	return t
}

// taken reports whether a file exists or is being created at fp.
func (p *planner) taken(fp string) bool {
	if _, ok := p.t.read(fp); ok {
		return true
	}
	for _, c := range p.created {
		if c == fp {
			return true
		}
	}
	return false
}

// containerDesired wraps container fields in spec.template.spec.<list>[name=c].
func (p *planner) containerDesired(fields *yaml.Node) *yaml.Node {
	return containerDesiredFor(p.list, p.container, fields)
}

func containerDesiredFor(list, container string, fields *yaml.Node) *yaml.Node {
	item := mapNode("name", container)
	item.Content = append(item.Content, fields.Content...)
	return mapNode("spec", mapNode("template", mapNode("spec", mapNode(list, seqNode(item)))))
}

// mergeDesired merges b into a (both desired trees).
func mergeDesired(a, b *yaml.Node) {
	for i := 0; i+1 < len(b.Content); i += 2 {
		k, v := b.Content[i], b.Content[i+1]
		_, av := mapEntry(a, k.Value)
		switch {
		case av == nil:
			a.Content = append(a.Content, k, v)
		case av.Kind == yaml.MappingNode && v.Kind == yaml.MappingNode && av.Tag != tagDelete && v.Tag != tagDelete:
			mergeDesired(av, v)
		case av.Kind == yaml.SequenceNode && v.Kind == yaml.SequenceNode:
			key := listKey(k.Value)
		items:
			for _, it := range v.Content {
				for _, ai := range av.Content {
					if it.Kind == yaml.ScalarNode || ai.Kind == yaml.ScalarNode {
						if it.Kind == ai.Kind && it.Value == ai.Value {
							continue items
						}
						continue
					}
					if scalarAt(ai, key) == scalarAt(it, key) && ai.Tag != tagDelete && it.Tag != tagDelete {
						mergeDesired(ai, it)
						continue items
					}
				}
				av.Content = append(av.Content, it)
			}
		default:
			*av = *v
		}
	}
}
