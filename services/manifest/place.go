package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	yaml "go.yaml.in/yaml/v3"
)

// What PlaceDocuments does with one document.
const (
	// ActionReplace replaces the object's document in its file under gitPath.
	ActionReplace = "replace"
	// ActionPatch writes a strategic-merge patch in the overlay for an
	// object that comes from a base outside gitPath.
	ActionPatch = "patch"
	// ActionCreate writes a new object to a new file in gitPath (listed in
	// the overlay's resources when gitPath has a kustomization).
	ActionCreate = "create"
	// ActionUnchanged: the environment already builds the document;
	// nothing is written for it.
	ActionUnchanged = "unchanged"
)

// Placement is where the documents of a complete-YAML commit go.
type Placement struct {
	// Files holds every written or created file (full new content) by path
	// relative to the repository root; all lie under gitPath.
	Files map[string][]byte `json:"-"`
	// Diff is a git-style unified diff of Files against the repository.
	Diff      string   `json:"diff"`
	Summary   Summary  `json:"summary"`
	Documents []Placed `json:"documents"`
	Warnings  []string `json:"warnings"`
}

// Placed is the decision for one document of the input.
type Placed struct {
	// Doc is the document's position in the input (1 = first) and Line
	// the input line where it starts.
	Doc        int    `json:"doc"`
	Line       int    `json:"line"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	// Action is ActionReplace, ActionPatch, ActionCreate or ActionUnchanged.
	Action string `json:"action"`
	// File is the file written for the document: the object's file, the
	// patch or the new file ("" when unchanged and no file holds it).
	File string `json:"file,omitempty"`
	// Object is the object as the environment builds it ("Deployment/prod-web (namespace prod)").
	Object string `json:"object"`
}

// PlaceDocuments decides where each document of a complete-YAML commit goes
// in the environment at gitPath, and returns the files to commit. fsys is
// the repository at the commit (root = repository root).
//
// Each document is an object of the environment as kustomize builds it
// (identity: API group, kind, namespace and name, either as built, after
// the overlay's namePrefix/nameSuffix/namespace, or as its file writes
// them). An object whose file lies under gitPath has its document replaced
// in that file (the other documents and their comments stay as they
// were); an object from a base outside gitPath gets a strategic-merge
// patch in the overlay holding only the fields that differ from what the
// build gives without it (in the overlay's existing patch for the object,
// else in a new patch-<kind>-<name>.yaml listed in patches:); a new object
// goes to a new <kind>-<name>.yaml listed in resources:. A kustomize
// Kustomization document is refused (pass file to replace it). The result
// is built again with kustomize: it must build and yield every document.
//
// In a patch a mapping sets the keys the document has (an explicit null
// deletes one) and a list is the whole list: items of a merge list
// (containers, env, ports, ...) that the document leaves out get
// "$patch: delete". Files is empty when the environment already builds
// every document (every action is ActionUnchanged).
func PlaceDocuments(fsys fs.FS, gitPath string, yamlText []byte) (*Placement, error) {
	return place(fsTree{fsys}, gitPath, yamlText)
}

// inDoc is one document of the input.
type inDoc struct {
	n, line                                  int
	text                                     string // the document's own text (no "---" line)
	root                                     *yaml.Node
	apiVersion, group, kind, namespace, name string

	obj    *builtObj // the object the environment builds for it (nil: new)
	action string
	file   string
	patch  *patchRef // the overlay's existing patch document for the object
}

func (d *inDoc) label() string {
	return fmt.Sprintf("document %d (line %d, %s/%s)", d.n, d.line, d.kind, d.name)
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): `)

// parseInput splits the input into documents and checks that each is a
// mapping; empty documents are skipped.
func parseInput(src []byte) ([]*inDoc, error) {
	f := &yfile{path: "yaml", src: src}
	f.lineStart = append(f.lineStart, 0)
	for i, c := range src {
		if c == '\n' {
			f.lineStart = append(f.lineStart, i+1)
		}
	}
	var out []*inDoc
	for _, ch := range f.chunks() {
		body, line := src[ch.start:ch.end], ch.line
		if isDocMarker(f.line(ch.line)) {
			nl := bytes.IndexByte(body, '\n')
			if nl < 0 {
				continue
			}
			body, line = body[nl+1:], line+1
		}
		dec := yaml.NewDecoder(bytes.NewReader(body))
		var nodes []*yaml.Node
		for {
			var n yaml.Node
			err := dec.Decode(&n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, inputSyntaxError(err, line)
			}
			nodes = append(nodes, &n)
		}
		if len(nodes) == 0 || len(nodes[0].Content) == 0 || isNull(nodes[0].Content[0]) {
			continue
		}
		if len(nodes) > 1 {
			return nil, model.Errorf(model.CodeYAMLInvalid, "yaml line %d: several documents without a \"---\" line between them", line).WithDetail("line", line)
		}
		shiftLines(nodes[0], line-1, map[*yaml.Node]bool{})
		root := nodes[0].Content[0]
		d := &inDoc{n: len(out) + 1, line: root.Line, text: docBody(body), root: root}
		if root.Kind != yaml.MappingNode {
			return nil, model.Errorf(model.CodeYAMLInvalid, "document %d (line %d) is not a mapping: an object needs apiVersion, kind and metadata", d.n, d.line).
				WithDetail("doc", d.n).WithDetail("line", d.line)
		}
		d.apiVersion, d.kind = scalarAt(root, "apiVersion"), scalarAt(root, "kind")
		d.group = apiGroup(d.apiVersion)
		md := mapValue(root, "metadata")
		d.name, d.namespace = scalarAt(md, "name"), scalarAt(md, "namespace")
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, model.Errorf(model.CodeBadRequest, "yaml holds no document").WithDetail("fields", map[string]any{"yaml": "empty"})
	}
	return out, nil
}

// inputSyntaxError reports a YAML error at its line in the whole input.
func inputSyntaxError(err error, first int) error {
	msg := err.Error()
	line := first
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		line = first + n - 1
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return model.Errorf(model.CodeYAMLInvalid, "yaml line %d: %s", line, msg).WithDetail("line", line).WithDetail("field", "yaml")
}

// docBody trims blank lines around a document's text and ends it with a newline.
func docBody(b []byte) string {
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n") + "\n"
}

// kustomizationKeys are fields only a kustomization has.
var kustomizationKeys = []string{"resources", "bases", "components", "patches", "patchesStrategicMerge", "namePrefix", "nameSuffix",
	"commonLabels", "images", "configMapGenerator", "secretGenerator", "generators", "transformers"}

func isKustomizeConfig(d *inDoc) bool {
	if d.group == "kustomize.config.k8s.io" {
		return true
	}
	if d.apiVersion != "" || d.kind != "" && d.kind != "Kustomization" && d.kind != "Component" {
		return false
	}
	for _, k := range kustomizationKeys {
		if mapValue(d.root, k) != nil {
			return true
		}
	}
	return false
}

// checkDocs refuses kustomizations, documents without identity and duplicates.
func checkDocs(docs []*inDoc, kpath string) error {
	seen := map[string]int{}
	for _, d := range docs {
		if isKustomizeConfig(d) {
			hint := "the kustomization's path"
			if kpath != "" {
				hint = strconv.Quote(kpath)
			}
			return model.Errorf(model.CodeBadRequest, "document %d (line %d) is a kustomize Kustomization: a kustomization file is not placed, it is replaced whole; pass file (%s) with this document alone", d.n, d.line, hint).
				WithDetail("doc", d.n).WithDetail("line", d.line).WithDetail("fields", map[string]any{"file": "required to replace a kustomization file"})
		}
		for _, f := range [][2]string{{"apiVersion", d.apiVersion}, {"kind", d.kind}, {"metadata.name", d.name}} {
			if f[1] == "" {
				return model.Errorf(model.CodeYAMLInvalid, "document %d (line %d) has no %s: every document must be an object with apiVersion, kind and metadata.name", d.n, d.line, f[0]).
					WithDetail("doc", d.n).WithDetail("line", d.line).WithDetail("field", f[0])
			}
		}
		id := d.group + "/" + d.kind + "/" + d.namespace + "/" + d.name
		if prev, ok := seen[id]; ok {
			return model.Errorf(model.CodeBadRequest, "documents %d and %d are the same object %s/%s", prev, d.n, d.kind, d.name).
				WithDetail("doc", d.n).WithDetail("line", d.line)
		}
		seen[id] = d.n
	}
	return nil
}

func place(t tree, gitPath string, text []byte) (*Placement, error) {
	gp := cleanPath(gitPath)
	if gp != "." && !t.isDir(gp) {
		return nil, model.Errorf(model.CodeBadRequest, "gitPath %s is not a directory in the repository", gp).WithDetail("gitPath", gp)
	}
	docs, err := parseInput(text)
	if err != nil {
		return nil, err
	}
	e, err := loadEnv(t, gp)
	if err != nil {
		return nil, err
	}
	if err := checkDocs(docs, e.kpath); err != nil {
		return nil, err
	}
	p := &placer{e: e, docs: docs, parsed: map[string]*yfile{}, edited: map[string]*yfile{}, created: map[string][]byte{}}
	before, err := e.build(e.files, false)
	if err != nil {
		return nil, model.Errorf(model.CodeYAMLInvalid, "the environment does not build before the change, so its objects cannot be located: %s; pass file to replace one file", model.AsError(err).Message).
			WithDetail("gitPath", gp)
	}
	p.before = before
	if err := p.locate(); err != nil {
		return nil, err
	}
	if err := p.decide(); err != nil {
		return nil, err
	}
	files, err := p.render()
	if err != nil {
		return nil, err
	}
	if err := p.verify(files); err != nil {
		return nil, err
	}
	return p.result(files), nil
}

// placer holds the state of one PlaceDocuments call.
type placer struct {
	e        *env
	docs     []*inDoc
	before   []*builtObj
	ov       *overlay // the kustomization at gitPath (nil for a plain directory)
	parsed   map[string]*yfile
	edited   map[string]*yfile // files with planned edits
	created  map[string][]byte
	newRes   []string // entries to add to the overlay's resources:
	newPatch []string // entries to add to the overlay's patches:
	warnings []string

	stripped0     []*builtObj
	stripped0Done bool
}

// generatedAs reports whether a generated object (a ConfigMap or Secret of
// a generator, its name with prefixes and a hash suffix) is the one the
// generator names name.
func generatedAs(o *builtObj, name string) bool {
	if o.generatedBy == "" || name == "" {
		return false
	}
	n := o.name
	if i := strings.LastIndexByte(n, '-'); i > 0 && len(n)-i-1 == 10 {
		n = n[:i]
	}
	return strings.HasSuffix(n, name) && (len(n) == len(name) || n[len(n)-len(name)-1] == '-')
}

// locate matches each document with an object of the build: the same
// group and kind, the name as built or as its file writes it, and the
// namespace as built, as written, or left out on either side.
func (p *placer) locate() error {
	for _, d := range p.docs {
		var best []*builtObj
		bestScore := 0
		for _, o := range p.before {
			if o.group != d.group || o.kind != d.kind || o.name != d.name && o.fileName != d.name && !generatedAs(o, d.name) {
				continue
			}
			score := 0
			switch {
			case d.namespace == o.namespace:
				score = 3
			case o.fileName == d.name && d.namespace == o.fileNamespace:
				score = 2
			case d.namespace == "" || o.namespace == "":
				score = 1
			}
			if o.name == d.name && score > 0 {
				score += 4
			}
			switch {
			case score > bestScore:
				best, bestScore = []*builtObj{o}, score
			case score == bestScore && score > 0:
				best = append(best, o)
			}
		}
		if len(best) > 1 {
			var ids []string
			for _, o := range best {
				ids = append(ids, o.label())
			}
			return model.Errorf(model.CodeBadRequest, "%s matches several objects of %s (%s): give metadata.namespace and the name as built", d.label(), p.e.gitPath, strings.Join(ids, ", ")).
				WithDetail("doc", d.n).WithDetail("line", d.line).WithDetail("objects", ids)
		}
		if len(best) == 1 {
			d.obj = best[0]
		}
	}
	return nil
}
