package manifest

import (
	"strings"
)

// Where an image change lands.
//
// A change names its workload or, naming none, applies to the environment
// as a whole; either way it changes exactly those containers. kustomize's
// images: transformer rewrites every container of the build whose image has
// the entry's repository, and it runs after patches:, so:
//
//   - a change for one workload whose repository no other container of the
//     path uses goes to the overlay's images: entry (as before);
//   - a change for one workload whose repository other containers share goes
//     to the workload alone: the patch or resource that sets its image, its
//     file under gitPath, or a strategic-merge patch for it; and when an
//     images: entry already pins the shared repository, to a patch applied
//     by a PatchTransformer under transformers:, which kustomize runs after
//     images:;
//   - a change for the whole environment sets the images: entry (or, in a
//     plain directory, every container's image) and reports every workload
//     that shares the image.

// imageTrace is how the path builds one container's image.
type imageTrace struct {
	// pre is the image after the resources and the overlay's patches, which
	// the overlay's images: entries match; final is the image built.
	pre, final string
	setBy      int // index in docsFor(w) of the last document that sets pre (-1: none)
	lateBy     int // index of the last late patch that sets the image (-1: none)
	entry      int // index of the images: entry that matches pre (-1: none)
}

// imageUse is one container of the path and how its image is built.
type imageUse struct {
	w          *workload
	list, name string // containers or initContainers; the container's name
	imageTrace
}

func (p *planner) trace(w *workload, list, c string) imageTrace {
	ds, _, _ := p.docsFor(w)
	tr := imageTrace{pre: w.images[c], setBy: -1, lateBy: -1, entry: -1}
	for i, d := range ds {
		cn := containerNamed(d.root, list, c)
		if cn == nil || mapValue(cn, "image") == nil {
			continue
		}
		switch {
		case p.isLate(d):
			tr.lateBy = i
		case i == 0:
			tr.setBy = 0 // w.images holds it as the overlay sees it
		default:
			tr.setBy, tr.pre = i, scalarAt(cn, "image")
		}
	}
	tr.final = tr.pre
	if p.ov != nil {
		for i, e := range imagesEntries(p.ov.d.root) {
			if ni, ok := e.apply(tr.final); ok {
				if tr.entry < 0 {
					tr.entry = i
				}
				tr.final = ni
			}
		}
	}
	if tr.lateBy >= 0 {
		tr.final = scalarAt(containerNamed(ds[tr.lateBy].root, list, c), "image")
	}
	return tr
}

// imageUses returns the containers of the path's workloads whose image trace matches.
func (p *planner) imageUses(match func(imageTrace) bool) []imageUse {
	var out []imageUse
	for _, w := range p.workloads {
		for _, list := range []string{"containers", "initContainers"} {
			for _, c := range containerList(w.d.root, list) {
				n := scalarAt(c, "name")
				if tr := p.trace(w, list, n); match(tr) {
					out = append(out, imageUse{w: w, list: list, name: n, imageTrace: tr})
				}
			}
		}
	}
	return out
}

// pickImageUsers picks the workload of a change that names none and only
// sets the image: the containers whose image has the change's repository
// (before or after the overlay's images:). One is the change's workload and
// container; several are all changed (envUses).
func (p *planner) pickImageUsers() bool {
	ch := p.ch
	if p.img == nil || ch.Container != "" || ch.Replicas != nil || len(ch.Env) > 0 || ch.Resources != nil && *ch.Resources != (Resources{}) {
		return false
	}
	uses := p.imageUses(func(tr imageTrace) bool {
		return imageName(tr.pre) == p.img.Name || imageName(tr.final) == p.img.Name
	})
	if len(uses) == 0 {
		return false
	}
	p.w, p.list, p.container = uses[0].w, uses[0].list, uses[0].name
	if len(uses) > 1 {
		p.envUses = uses
	}
	return true
}

// useLabels names the workloads of uses ("Deployment/web"), once each; a
// container of the change's own workload is named as such.
func (p *planner) useLabels(uses []imageUse, own bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, u := range uses {
		l := u.w.kind + "/" + p.finalName(u.w)
		if own && u.w == p.w {
			l += " container " + u.name
		}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

func (p *planner) planImage() error {
	if p.img == nil {
		return nil
	}
	if len(p.envUses) > 0 {
		p.planImageEverywhere()
		return nil
	}
	want := p.ch.Image
	tr := p.trace(p.w, p.list, p.container)
	p.oldImage = tr.final
	if tr.final == want {
		p.warn("%s container %s already runs %s: image unchanged", p.w.id(), p.container, want)
		return nil
	}
	p.restart = true
	ds, fs, ed := p.docs()
	setDoc := func(i int) {
		t := p.target(fs[i], ds[i])
		mergeDesired(t.desired, p.containerDesired(mapNode("image", want)))
	}
	var others []imageUse
	for _, u := range p.imageUses(func(o imageTrace) bool { return imageName(o.pre) == imageName(tr.pre) }) {
		if u.w != p.w || u.name != p.container {
			others = append(others, u)
		}
	}
	if len(others) > 0 {
		p.warn("image %s is also used by %s: they keep their image; only %s container %s changes",
			imageName(tr.pre), strings.Join(p.useLabels(others, true), ", "), p.w.kind+"/"+p.finalName(p.w), p.container)
	}
	switch {
	case p.ov == nil:
		setDoc(0)
		return nil
	case tr.lateBy >= 0:
		p.setLate(p.w, p.list, p.container, want)
		return nil
	}
	if len(others) > 0 {
		if tr.entry >= 0 {
			p.setLate(p.w, p.list, p.container, want)
		} else {
			p.setOwn(tr, want)
		}
		return nil
	}
	hasImages := mapValue(p.ov.d.root, "images") != nil
	switch {
	case tr.entry >= 0:
	case tr.setBy > 0 && ed[tr.setBy]:
		setDoc(tr.setBy)
		return nil
	case tr.setBy <= 0 && p.w.inPath && !hasImages:
		setDoc(0)
		return nil
	}
	p.setEntry(imageName(tr.pre), tr.entry)
	return nil
}

// setOwn sets the image in the workload's own documents: the editable patch
// or resource that sets it, else the workload's file under gitPath, else an
// editable patch that applies to the workload alone (a new one if none).
func (p *planner) setOwn(tr imageTrace, want string) {
	ds, fs, ed := p.docs()
	at := -1
	switch {
	case tr.setBy >= 0 && ed[tr.setBy]:
		at = tr.setBy
	case tr.setBy <= 0 && ed[0]:
		at = 0
	default:
		for i := len(ds) - 1; i > 0 && i > tr.setBy; i-- {
			if ed[i] && !p.isLate(ds[i]) {
				at = i
				break
			}
		}
	}
	var t *target
	if at >= 0 {
		t = p.target(fs[at], ds[at])
	} else {
		t = p.patchTarget()
	}
	mergeDesired(t.desired, p.containerDesired(mapNode("image", want)))
}

// setLate sets a container's image in a late patch for w (the last one of
// transformers: for w when it is editable and nothing after it sets the
// image, else a new one), which kustomize applies after images:.
func (p *planner) setLate(w *workload, list, c, want string) {
	ds, fs, ed := p.docsFor(w)
	var t *target
	for i := len(ds) - 1; i > 0 && p.isLate(ds[i]); i-- {
		if ed[i] {
			t = p.target(fs[i], ds[i])
			break
		}
		if cn := containerNamed(ds[i].root, list, c); cn != nil && mapValue(cn, "image") != nil {
			break
		}
	}
	if t == nil {
		if p.lateNew == nil {
			p.lateNew = map[*workload]*target{}
		}
		if t = p.lateNew[w]; t == nil {
			t = p.newPatchFile(w, true)
			p.lateNew[w] = t
		}
	}
	mergeDesired(t.desired, containerDesiredFor(list, c, mapNode("image", want)))
}

// planImageEverywhere changes the image of every container in envUses.
func (p *planner) planImageEverywhere() {
	want := p.ch.Image
	p.oldImage = p.envUses[0].final
	changes := false
	for _, u := range p.envUses {
		p.addAffected(u.w)
		changes = changes || u.final != want
	}
	if !changes {
		p.warn("every container using %s already runs %s: image unchanged", p.img.Name, want)
		return
	}
	p.warn("image %s is used by %s: all of them change", p.img.Name, strings.Join(p.useLabels(p.envUses, false), ", "))
	p.restart = true
	done := map[string]bool{}
	for _, u := range p.envUses {
		switch {
		case u.final == want && (p.ov == nil || u.lateBy >= 0):
		case p.ov == nil:
			t := p.target(u.w.f, u.w.d)
			mergeDesired(t.desired, containerDesiredFor(u.list, u.name, mapNode("image", want)))
		case u.lateBy >= 0:
			p.setLate(u.w, u.list, u.name, want)
		case !done[imageName(u.pre)]:
			done[imageName(u.pre)] = true
			p.setEntry(imageName(u.pre), u.entry)
		}
	}
}

// setEntry sets the overlay's images: entry for repository name (the
// image as the overlay sees it) to the change's image; idx is the existing
// entry (-1: a new one).
func (p *planner) setEntry(name string, idx int) {
	entry := mapNode("name", name)
	var old imagesEntry
	if idx >= 0 {
		old = imagesEntries(p.ov.d.root)[idx]
	}
	switch {
	case p.img.Name != name:
		entry.Content = append(entry.Content, scalarNode("newName"), scalarNode(p.img.Name))
	case old.NewName != "":
		entry.Content = append(entry.Content, scalarNode("newName"), deleteMarker())
	}
	switch {
	case p.img.Digest != "":
		entry.Content = append(entry.Content, scalarNode("newTag"), deleteMarker(), scalarNode("digest"), scalarNode(p.img.Digest))
		if p.img.Tag != "" {
			p.warn("kustomize images: pins by digest; tag %s is not kept in %s", p.img.Tag, p.ov.f.path)
		}
	default:
		tag := p.img.Tag
		if tag == "" {
			tag = "latest"
		}
		entry.Content = append(entry.Content, scalarNode("newTag"), scalarNode(tag), scalarNode("digest"), deleteMarker())
	}
	kt := p.target(p.ov.f, p.ov.d)
	mergeDesired(kt.desired, mapNode("images", seqNode(entry)))
}

func (p *planner) addAffected(w *workload) {
	s := w.kind + "/" + p.finalName(w)
	if ns := p.finalNamespace(w); ns != "" {
		s += " (namespace " + ns + ")"
	}
	for _, a := range p.affected {
		if a == s {
			return
		}
	}
	p.affected = append(p.affected, s)
}

// envWorkloads returns Result.Workload and Result.Container of a change to
// every container using an image: the workloads, comma-separated, and the
// container name when they all have the same.
func (p *planner) envWorkloads() (string, string) {
	var ids []string
	seen := map[*workload]bool{}
	container := p.envUses[0].name
	for _, u := range p.envUses {
		if !seen[u.w] {
			seen[u.w] = true
			ids = append(ids, u.w.id())
		}
		if u.name != container {
			container = ""
		}
	}
	return strings.Join(ids, ", "), container
}
