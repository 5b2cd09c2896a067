package manifest

import (
	"fmt"
	"sort"

	"github.com/gitopstui/gitopstui/model"
)

// verify checks the result: files stay under gitPath, kustomization files
// stay kustomizations, the environment builds, and the build yields every
// document.
func (p *placer) verify(files map[string][]byte) error {
	for _, fp := range sortedKeys(files) {
		if !under(fp, p.e.gitPath) {
			return model.Errorf(model.CodeInternal, "placement would write %s, outside %s", fp, p.e.gitPath)
		}
		if isKustFile(fp) {
			if err := stillKustomization(fp, files[fp]); err != nil {
				return err
			}
		}
	}
	all := withFiles(p.e.files, files)
	final, err := p.e.build(all, false)
	if err != nil {
		return model.Errorf(model.CodeYAMLInvalid, "after placing the documents, %s", model.AsError(err).Message).WithDetail("gitPath", p.e.gitPath)
	}
	var stripped []*builtObj
	strippedDone := false
	for _, d := range p.docs {
		fo := p.finalObj(d, final)
		if fo == nil {
			return model.Errorf(model.CodeBadRequest, "%s: after the change the build of %s has no such object (a patch or transformer removes or renames it)", d.label(), p.e.gitPath).
				WithDetail("doc", d.n).WithDetail("line", d.line)
		}
		s := schemaFor(fo.apiVersion, fo.kind)
		m := covers(d.root, view{got: fo.root}, s, "", "top")
		if m == nil {
			p.setObj(d, fo)
			continue
		}
		if !strippedDone {
			strippedDone = true
			if p.e.hasTransforms(all) {
				stripped, _ = p.e.build(all, true)
			}
		}
		v := view{got: fo.root, alt: rootOf(sameSource(stripped, fo)), lenient: d.action == ActionCreate}
		if !v.lenient {
			v.alt0 = rootOf(sameSource(p.strippedBefore(), d.obj))
		}
		if m2 := covers(d.root, v, s, "", "top"); m2 != nil {
			return model.Errorf(model.CodeBadRequest, "%s: after the change the build of %s gives %s = %s, not %s: the overlay's images:, replicas:, patches or transformers set it; change them with file (the kustomization)",
				d.label(), p.e.gitPath, m2.field, m2.built, m2.doc).
				WithDetail("doc", d.n).WithDetail("line", d.line).WithDetail("field", m2.field).WithDetail("built", m2.built).WithDetail("document", m2.doc)
		}
		if v.lenient {
			p.warnings = append(p.warnings, fmt.Sprintf("%s: the overlay's transforms change the new object: %s is %s in the build", d.label(), m.field, m.built))
		}
		p.setObj(d, fo)
	}
	return nil
}

// setObj records the built object of a document; a new object placed in
// another namespace than the document asks gets a warning.
func (p *placer) setObj(d *inDoc, fo *builtObj) {
	if d.action == ActionCreate && d.namespace != "" && fo.namespace != d.namespace {
		p.warnings = append(p.warnings, fmt.Sprintf("%s asks for namespace %s; the overlay puts it in %s", d.label(), d.namespace, orStr(fo.namespace, "the default namespace")))
	}
	if d.obj == nil {
		d.obj = fo
	}
}

// strippedBefore is the repository before the change built without the
// overlay's transforms (nil when there are none or it does not build).
func (p *placer) strippedBefore() []*builtObj {
	if !p.stripped0Done {
		p.stripped0Done = true
		if p.e.hasTransforms(p.e.files) {
			p.stripped0, _ = p.e.build(p.e.files, true)
		}
	}
	return p.stripped0
}

// finalObj finds the document's object in the build of the result.
func (p *placer) finalObj(d *inDoc, final []*builtObj) *builtObj {
	if d.action != ActionCreate {
		return findObj(final, d.obj.group, d.obj.kind, d.obj.namespace, d.obj.name)
	}
	for _, o := range final {
		if o.file == d.file && o.kind == d.kind && o.group == d.group {
			return o
		}
	}
	return nil
}

// stillKustomization checks that a written kustomization file holds one
// kustomize Kustomization or Component.
func stillKustomization(fp string, b []byte) error {
	f, err := parseYAML(fp, b)
	if err != nil {
		return err
	}
	if len(f.docs) != 1 || f.docs[0].root == nil {
		return model.Errorf(model.CodeInternal, "placement would leave %s without a single kustomization document", fp)
	}
	d := f.docs[0]
	if d.kind != "" && d.kind != "Kustomization" && d.kind != "Component" || d.apiVersion != "" && apiGroup(d.apiVersion) != "kustomize.config.k8s.io" {
		return model.Errorf(model.CodeInternal, "placement would write a %s %s into %s", d.apiVersion, d.kind, fp)
	}
	return nil
}

// result assembles the placement.
func (p *placer) result(files map[string][]byte) *Placement {
	pl := &Placement{Files: files, Warnings: append([]string{}, p.warnings...)}
	var diffs []fileDiff
	for _, fp := range sortedKeys(files) {
		if _, ok := p.created[fp]; ok {
			diffs = append(diffs, fileDiff{path: fp, new: files[fp], created: true})
			continue
		}
		fd := fileDiff{path: fp, old: p.e.files[fp], new: files[fp]}
		if f := p.edited[fp]; f != nil {
			fd.edits = f.edits
		}
		diffs = append(diffs, fd)
	}
	sort.Slice(diffs, func(i, j int) bool { return diffs[i].path < diffs[j].path })
	pl.Diff, pl.Summary = gitDiff(diffs)
	for _, d := range p.docs {
		pl.Documents = append(pl.Documents, Placed{Doc: d.n, Line: d.line, APIVersion: d.apiVersion, Kind: d.kind, Namespace: d.namespace, Name: d.name,
			Action: d.action, File: d.file, Object: d.obj.label()})
	}
	return pl
}
