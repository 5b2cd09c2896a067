package manifest

import (
	"bytes"
	"io/fs"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// FieldAt names the YAML field at line (1-based) of the file at path with
// content src, in the form Edit uses: the object ("Deployment/web", "" for
// a document without kind and name, such as a kustomization) and the
// field ("spec.template.spec.containers[name=web].image",
// "images[name=ghcr.io/acme/web].newTag"). The field is the deepest one
// whose key is on that line, else the one whose value spans it; "" when the
// line lies outside every mapping (or the file does not parse).
func FieldAt(path string, src []byte, line int) (object, field string) {
	f := FieldsAt(path, src, []int{line})
	return f[0][0], f[0][1]
}

// FieldsAt is FieldAt for several lines of one file, parsed once: the
// object and field of each line, in order.
func FieldsAt(path string, src []byte, lines []int) [][2]string {
	out := make([][2]string, len(lines))
	f, err := parseYAML(path, src)
	if err != nil {
		return out
	}
	for li, line := range lines {
		for i, d := range f.docs {
			if d.root == nil || d.root.Line > line {
				continue
			}
			if i+1 < len(f.docs) && f.docs[i+1].root != nil && f.docs[i+1].root.Line <= line {
				continue
			}
			if d.kind != "" && d.name != "" {
				out[li][0] = d.kind + "/" + d.name
			}
			out[li][1] = fieldIn(d.root, line, "")
			break
		}
	}
	return out
}

// fieldIn walks n (a mapping or sequence) to the entry that holds line.
func fieldIn(n *yaml.Node, line int, prefix string) string {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			next := -1
			if i+2 < len(n.Content) {
				next = n.Content[i+2].Line
			}
			if k.Line > line || (next >= 0 && next <= line) {
				continue
			}
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			if k.Line == line || v.Kind == yaml.ScalarNode || v.Kind == yaml.AliasNode {
				return p
			}
			return fieldIn(v, line, p)
		}
	case yaml.SequenceNode:
		for i, it := range n.Content {
			if it.Line > line || (i+1 < len(n.Content) && n.Content[i+1].Line <= line) {
				continue
			}
			seg := prefix + "[" + strconv.Itoa(i) + "]"
			if name := scalarAt(it, "name"); name != "" {
				seg = prefix + "[name=" + name + "]"
			}
			if it.Kind != yaml.MappingNode && it.Kind != yaml.SequenceNode {
				return seg
			}
			return fieldIn(it, line, seg)
		}
	}
	return prefix
}

// FieldValue is the scalar value of field in object ("" for the file's
// first document) of the file at path with content src: nil when absent,
// not a scalar, or when the file does not parse.
func FieldValue(path string, src []byte, object, field string) *string {
	if src == nil || field == "" {
		return nil
	}
	return lookup(newMapTree(map[string][]byte{path: src}), "", map[string]*yfile{}, Edit{Path: path, Object: object, Field: field})
}

// BuildImpact is the impact of writing writes and deleting deletes in the
// repository fsys on the environment at gitPath, as kustomize builds it
// (so an overlay's images: entry counts as the workload's image): the
// built objects before and after are compared as AnalyzeFiles does. When
// either build fails, the changed files themselves are compared and the
// build's error is one of the warnings.
func BuildImpact(fsys fs.FS, gitPath string, writes map[string][]byte, deletes []string) (Impact, []string) {
	before, after := map[string][]byte{}, map[string][]byte{}
	for p := range writes {
		if b, err := fs.ReadFile(fsys, p); err == nil {
			before[p] = b
		}
	}
	for _, p := range deletes {
		if b, err := fs.ReadFile(fsys, p); err == nil {
			before[p] = b
		}
	}
	for p, b := range writes {
		after[p] = b
	}
	e, err := loadEnv(fsTree{fsys}, cleanPath(gitPath))
	if err != nil {
		im, w := AnalyzeFiles(before, after)
		return im, append(w, "kustomize build skipped: "+err.Error())
	}
	next := withFiles(e.files, writes)
	for _, p := range deletes {
		delete(next, p)
	}
	var built [2][]byte
	for i, files := range []map[string][]byte{e.files, next} {
		objs, err := e.build(files, false)
		if err != nil {
			im, w := AnalyzeFiles(before, after)
			which := "before"
			if i == 1 {
				which = "after"
			}
			return im, append(w, "kustomize build "+which+" the change failed: "+err.Error())
		}
		var b bytes.Buffer
		for _, o := range objs {
			y, err := yaml.Marshal(o.root)
			if err != nil {
				continue
			}
			b.WriteString("---\n")
			b.Write(y)
		}
		built[i] = b.Bytes()
	}
	return AnalyzeFiles(map[string][]byte{"build.yaml": built[0]}, map[string][]byte{"build.yaml": built[1]})
}
