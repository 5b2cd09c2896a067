package manifest

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/gitopstui/gitopstui/model"
	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// kustNames are the file names kustomize recognises, in its order.
var kustNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

func isKustFile(p string) bool {
	b := path.Base(p)
	for _, n := range kustNames {
		if b == n {
			return true
		}
	}
	return false
}

// kustIn returns the kustomization file of dir in files, or "".
func kustIn(files map[string][]byte, dir string) string {
	for _, n := range kustNames {
		if fp := cleanPath(path.Join(dir, n)); files[fp] != nil {
			return fp
		}
	}
	return ""
}

// env is an environment's files as kustomize sees them: gitPath and
// everything its kustomizations reference, read from the repository.
type env struct {
	t       tree
	gitPath string
	files   map[string][]byte
	kpath   string // the kustomization at gitPath; "" for a plain manifest directory
}

// loadEnv reads gitPath and, recursively, the files and directories its
// kustomizations name. A remote resource is refused: the build is offline.
func loadEnv(t tree, gitPath string) (*env, error) {
	e := &env{t: t, gitPath: gitPath, files: map[string][]byte{}}
	if err := e.addDir(gitPath, map[string]bool{}); err != nil {
		return nil, err
	}
	e.kpath = kustIn(e.files, gitPath)
	roots := []string{e.kpath}
	if e.kpath == "" {
		roots = nil
		for _, r := range plainResources(e.files, gitPath) {
			if k := kustIn(e.files, path.Join(gitPath, r)); k != "" {
				roots = append(roots, k)
			}
		}
	}
	seen := map[string]bool{}
	for _, k := range roots {
		if err := e.checkRemote(k, seen); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (e *env) addDir(dir string, seen map[string]bool) error {
	if seen[dir] || len(seen) > 500 {
		return nil
	}
	seen[dir] = true
	list := e.t.list(dir)
	for _, fp := range list {
		if _, ok := e.files[fp]; ok {
			continue
		}
		if b, ok := e.t.read(fp); ok {
			e.files[fp] = b
		}
	}
	for _, kf := range list {
		if !isKustFile(kf) {
			continue
		}
		for _, ref := range kustRefs(e.files[kf]) {
			rp := cleanPath(path.Join(path.Dir(kf), ref))
			if _, ok := e.files[rp]; ok {
				continue
			}
			if b, ok := e.t.read(rp); ok {
				e.files[rp] = b
				continue
			}
			if e.t.isDir(rp) && e.hasKust(rp) {
				if err := e.addDir(rp, seen); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (e *env) hasKust(dir string) bool {
	for _, n := range kustNames {
		if _, ok := e.t.read(cleanPath(path.Join(dir, n))); ok {
			return true
		}
	}
	return false
}

// kustRefs returns every string value of a kustomization that may name a
// local file or directory (the build needs them; extra ones cost a read).
func kustRefs(src []byte) []string {
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil {
		return nil
	}
	var out []string
	var walk func(n *yaml.Node, isKey bool)
	walk = func(n *yaml.Node, isKey bool) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, false)
			}
		case yaml.MappingNode:
			for i, c := range n.Content {
				walk(c, i%2 == 0)
			}
		case yaml.ScalarNode:
			v := n.Value
			if isKey || v == "" || v == "." || strings.ContainsAny(v, "\n") || isRemote(v) || strings.HasPrefix(v, "/") {
				return
			}
			out = append(out, v)
			if i := strings.IndexByte(v, '='); i >= 0 {
				out = append(out, v[i+1:])
			}
		}
	}
	walk(&doc, false)
	return out
}

// checkRemote refuses a remote resource in a kustomization the build reaches.
func (e *env) checkRemote(kf string, seen map[string]bool) error {
	if seen[kf] {
		return nil
	}
	seen[kf] = true
	root, err := kustRoot(kf, e.files[kf])
	if err != nil {
		return err
	}
	for _, field := range []string{"resources", "bases", "components"} {
		for _, ref := range stringList(mapValue(root, field)) {
			if isRemote(ref) {
				return model.Errorf(model.CodeBadRequest, "%s uses the remote resource %s: documents are placed with an offline build; pass file to replace one file", kf, ref).
					WithDetail("path", kf).WithDetail("resource", ref)
			}
			if sub := kustIn(e.files, path.Join(path.Dir(kf), ref)); sub != "" {
				if err := e.checkRemote(sub, seen); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// kustRoot parses a kustomization file and returns its top mapping (an
// empty mapping for an empty file).
func kustRoot(fp string, src []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, model.Errorf(model.CodeYAMLInvalid, "parse %s: %v", fp, err).WithDetail("path", fp)
	}
	if len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, model.Errorf(model.CodeYAMLInvalid, "%s is not a kustomization (not a mapping)", fp).WithDetail("path", fp)
	}
	return root, nil
}

// plainResources lists what Flux's generated kustomization of a plain
// directory holds: every .yaml/.yml file, and each subdirectory that has a
// kustomization as one entry (not descended into); paths relative to dir.
func plainResources(files map[string][]byte, dir string) []string {
	var names []string
	for p := range files {
		if p != dir && under(p, dir) {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	seen := map[string]bool{}
	var out []string
	for _, p := range names {
		rel := strings.TrimPrefix(p, dir+"/")
		if dir == "." {
			rel = p
		}
		entry := ""
		parts := strings.Split(rel, "/")
		for i := 1; i < len(parts); i++ {
			if kustIn(files, path.Join(dir, strings.Join(parts[:i], "/"))) != "" {
				entry = strings.Join(parts[:i], "/")
				break
			}
		}
		if entry == "" {
			if ext := path.Ext(rel); ext != ".yaml" && ext != ".yml" {
				continue
			}
			entry = rel
		}
		if !seen[entry] {
			seen[entry] = true
			out = append(out, entry)
		}
	}
	return out
}

// overlayTransforms are the top-level kustomization fields that rename or
// relabel what the overlay builds; the "stripped" build leaves them out to
// see the objects as the files write them.
var overlayTransforms = []string{"namespace", "namePrefix", "nameSuffix", "commonLabels", "labels", "commonAnnotations", "images", "replicas"}

// prepareKust rewrites a kustomization for an in-memory build: deprecated
// fields become their replacements (as kustomize itself does when it
// loads them, so the build prints no deprecation warnings on stderr), the
// top one asks for origin annotations, and strip drops the overlay's
// transforms.
func prepareKust(fp string, src []byte, top, strip bool) ([]byte, error) {
	root, err := kustRoot(fp, src)
	if err != nil {
		return nil, err
	}
	fixDeprecated(root)
	if top {
		_, bm := mapEntry(root, "buildMetadata")
		if bm == nil || bm.Kind != yaml.SequenceNode {
			removeKey(root, "buildMetadata")
			bm = seqNode()
			root.Content = append(root.Content, scalarNode("buildMetadata"), bm)
		}
		bm.Content = append(bm.Content, scalarNode(types.OriginAnnotations))
	}
	if strip {
		for _, k := range overlayTransforms {
			removeKey(root, k)
		}
	}
	return yaml.Marshal(root)
}

// fixDeprecated moves bases, imageTags, commonLabels and
// patchesStrategicMerge to resources, images, labels and patches with the
// same meaning (commonLabels applies to selectors, and strategic-merge
// patches run before the other patches).
func fixDeprecated(root *yaml.Node) {
	appendSeq := func(key string, items []*yaml.Node, front bool) {
		_, v := mapEntry(root, key)
		if v == nil || v.Kind != yaml.SequenceNode {
			removeKey(root, key)
			v = seqNode()
			root.Content = append(root.Content, scalarNode(key), v)
		}
		if front {
			v.Content = append(append([]*yaml.Node{}, items...), v.Content...)
		} else {
			v.Content = append(v.Content, items...)
		}
	}
	for _, m := range [][2]string{{"bases", "resources"}, {"imageTags", "images"}} {
		if v := mapValue(root, m[0]); v != nil && v.Kind == yaml.SequenceNode {
			appendSeq(m[1], v.Content, false)
		}
		removeKey(root, m[0])
	}
	if v := mapValue(root, "commonLabels"); v != nil && v.Kind == yaml.MappingNode && len(v.Content) > 0 {
		appendSeq("labels", []*yaml.Node{mapNode("pairs", v, "includeSelectors", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})}, false)
	}
	removeKey(root, "commonLabels")
	if v := mapValue(root, "patchesStrategicMerge"); v != nil && v.Kind == yaml.SequenceNode {
		var items []*yaml.Node
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode {
				continue
			}
			if strings.Contains(it.Value, "\n") {
				items = append(items, mapNode("patch", it.Value))
			} else {
				items = append(items, mapNode("path", it.Value))
			}
		}
		appendSeq("patches", items, true)
	}
	removeKey(root, "patchesStrategicMerge")
}

// builtObj is one object of a kustomize build.
type builtObj struct {
	apiVersion, group, kind, namespace, name string
	root                                     *yaml.Node // without the origin annotation
	// file is the repository file the object comes from ("" when a
	// generator made it), doc its document there (-1 when unknown) and
	// fileName/fileNamespace its metadata as the file writes them.
	file                    string
	doc                     int
	fileName, fileNamespace string
	generatedBy             string // "ConfigMapGenerator in apps/prod/kustomization.yaml"
}

func (o *builtObj) label() string {
	s := o.kind + "/" + o.name
	if o.namespace != "" {
		s += " (namespace " + o.namespace + ")"
	}
	return s
}

func apiGroup(apiVersion string) string {
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// buildMu serialises kustomize builds: kustomize keeps its OpenAPI schema
// in package state that concurrent builds race on (Flux serialises its
// builds for the same reason). Every build of the package goes through
// env.build, which holds it.
var buildMu sync.Mutex

// build runs kustomize on files (the repository files the build needs,
// changed ones included) at gitPath; a plain directory gets the
// kustomization Flux would generate. strip leaves out the overlay's
// transforms.
func (e *env) build(files map[string][]byte, strip bool) ([]*builtObj, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	fsys := filesys.MakeFsInMemory()
	top := kustIn(files, e.gitPath)
	if top == "" {
		var b strings.Builder
		b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
		for _, r := range plainResources(files, e.gitPath) {
			fmt.Fprintf(&b, "- %q\n", r)
		}
		top = cleanPath(path.Join(e.gitPath, "kustomization.yaml"))
		files = withFiles(files, map[string][]byte{top: []byte(b.String())})
	}
	for p, b := range files {
		if isKustFile(p) {
			nb, err := prepareKust(p, b, p == top, strip && p == top)
			switch {
			case err == nil:
				b = nb
			case p == top:
				return nil, err
			} // a broken kustomization elsewhere fails the build only if it is used
		}
		if err := fsys.WriteFile("/"+p, b); err != nil {
			return nil, model.Wrap(model.CodeInternal, err, "in-memory copy of "+p)
		}
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsNone // as Flux builds
	rm, err := krusty.MakeKustomizer(opts).Run(fsys, "/"+strings.TrimPrefix(e.gitPath, "."))
	if err != nil {
		return nil, model.Errorf(model.CodeYAMLInvalid, "kustomize build %s: %v", e.gitPath, err).WithDetail("gitPath", e.gitPath)
	}
	var out []*builtObj
	for _, r := range rm.Resources() {
		o := &builtObj{apiVersion: r.GetApiVersion(), kind: r.GetKind(), namespace: r.GetNamespace(), name: r.GetName(), doc: -1}
		o.group = apiGroup(o.apiVersion)
		if org, err := r.GetOrigin(); err == nil && org != nil && org.Repo == "" {
			switch {
			case org.Path != "":
				o.file = cleanPath(path.Join(e.gitPath, org.Path))
			case org.ConfiguredIn != "":
				o.generatedBy = org.ConfiguredBy.Kind + " in " + cleanPath(path.Join(e.gitPath, org.ConfiguredIn))
			}
		}
		y, err := r.AsYAML()
		if err != nil {
			return nil, model.Wrap(model.CodeInternal, err, "render "+o.label())
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(y, &doc); err != nil || len(doc.Content) == 0 {
			return nil, model.Errorf(model.CodeInternal, "re-read %s from the build: %v", o.label(), err)
		}
		o.root = doc.Content[0]
		dropOrigin(o.root)
		out = append(out, o)
	}
	resolveFiles(out, files)
	return out, nil
}

func withFiles(base, over map[string][]byte) map[string][]byte {
	m := make(map[string][]byte, len(base)+len(over))
	for p, b := range base {
		m[p] = b
	}
	for p, b := range over {
		m[p] = b
	}
	return m
}

const originAnnotation = "config.kubernetes.io/origin"

func dropOrigin(root *yaml.Node) {
	md := mapValue(root, "metadata")
	ann := mapValue(md, "annotations")
	if ann == nil {
		return
	}
	removeKey(ann, originAnnotation)
	if len(ann.Content) == 0 {
		removeKey(md, "annotations")
	}
}

// resolveFiles finds each object's document in its file: the one of the
// same kind whose name the built name contains (prefixes and suffixes of
// the layers in between), the longest such name first, then the one in
// the same namespace.
func resolveFiles(objs []*builtObj, files map[string][]byte) {
	parsed := map[string]*yfile{}
	for _, o := range objs {
		if o.file == "" {
			continue
		}
		f, ok := parsed[o.file]
		if !ok {
			f, _ = parseYAML(o.file, files[o.file])
			parsed[o.file] = f
		}
		if f == nil {
			continue
		}
		best, score, tie := -1, -1, false
		for i, d := range f.docs {
			if d.root == nil || d.kind != o.kind || apiGroup(d.apiVersion) != o.group || d.name == "" || !strings.Contains(o.name, d.name) {
				continue
			}
			s := 2 * len(d.name)
			if d.namespa == o.namespace {
				s++
			}
			switch {
			case s > score:
				best, score, tie = i, s, false
			case s == score:
				tie = true
			}
		}
		if best >= 0 && !tie {
			o.doc, o.fileName, o.fileNamespace = best, f.docs[best].name, f.docs[best].namespa
		}
	}
}

// find returns the object with the given identity.
func findObj(objs []*builtObj, group, kind, namespace, name string) *builtObj {
	for _, o := range objs {
		if o.group == group && o.kind == kind && o.namespace == namespace && o.name == name {
			return o
		}
	}
	return nil
}

// sameSource returns the object of objs that comes from o's document.
func sameSource(objs []*builtObj, o *builtObj) *builtObj {
	if o == nil || o.file == "" || o.doc < 0 {
		return nil
	}
	for _, x := range objs {
		if x.file == o.file && x.doc == o.doc {
			return x
		}
	}
	return nil
}

// hasTransforms reports whether the kustomization at gitPath sets any of
// the overlay transforms.
func (e *env) hasTransforms(files map[string][]byte) bool {
	k := kustIn(files, e.gitPath)
	if k == "" {
		return false
	}
	root, err := kustRoot(k, files[k])
	if err != nil {
		return false
	}
	for _, t := range overlayTransforms {
		if mapValue(root, t) != nil {
			return true
		}
	}
	return false
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
