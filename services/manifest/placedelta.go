package manifest

import (
	"fmt"
	"reflect"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// The field-level comparison of a document with a built object follows
// kustomize's strategic merge (kyaml merge2): a list is merged item by item
// only when the OpenAPI schema of the kind gives it the "merge" strategy
// and merge keys (containers by name, ports by containerPort and protocol,
// ...); any other list is replaced whole.

type schema = *openapi.ResourceSchema

func schemaFor(apiVersion, kind string) schema {
	return openapi.SchemaForResourceType(kyaml.TypeMeta{APIVersion: apiVersion, Kind: kind})
}

func sField(s schema, k string) schema {
	if s == nil || s.Schema == nil {
		return nil
	}
	return s.Field(k)
}

func sElems(s schema) schema {
	if s == nil || s.Schema == nil {
		return nil
	}
	return s.Elements()
}

// mergeKeys returns the merge keys of a list field, or nil when the list is
// replaced whole by a strategic-merge patch.
func mergeKeys(s schema) []string {
	if s == nil || s.Schema == nil {
		return nil
	}
	strategy, keys := s.PatchStrategyAndKeyList()
	for _, st := range strings.Split(strategy, ",") {
		if st == "merge" && len(keys) > 0 {
			return keys
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func nullNode() *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"} }

func allMaps(n *yaml.Node) bool {
	if n == nil {
		return true
	}
	for _, it := range n.Content {
		if resolveAlias(it).Kind != yaml.MappingNode {
			return false
		}
	}
	return true
}

// itemKey is the merge-key tuple of a list item.
func itemKey(it *yaml.Node, keys []string) string {
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(scalarAt(it, k))
		b.WriteByte(0)
	}
	return b.String()
}

func findItem(list *yaml.Node, keys []string, key string) *yaml.Node {
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil
	}
	for _, it := range list.Content {
		if it = resolveAlias(it); it.Kind == yaml.MappingNode && itemKey(it, keys) == key {
			return it
		}
	}
	return nil
}

func itemLabel(field string, it *yaml.Node, keys []string) string {
	if len(keys) == 0 {
		return field + "[]"
	}
	return fmt.Sprintf("%s[%s=%s]", field, keys[0], scalarAt(it, keys[0]))
}

func scalarValue(n *yaml.Node) any {
	var v any
	if n.Decode(&v) != nil {
		return n.Value
	}
	return v
}

// nodesEqual compares two YAML values as kustomize and the API server see
// them: scalars by their typed value, mappings ignoring null entries, merge
// lists regardless of item order.
func nodesEqual(a, b *yaml.Node, s schema) bool {
	a, b = resolveAlias(a), resolveAlias(b)
	if isNull(a) || isNull(b) {
		return isNull(a) && isNull(b)
	}
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case yaml.ScalarNode:
		return reflect.DeepEqual(scalarValue(a), scalarValue(b))
	case yaml.MappingNode:
		n := 0
		for i := 0; i+1 < len(a.Content); i += 2 {
			av := a.Content[i+1]
			if isNull(av) {
				continue
			}
			n++
			if !nodesEqual(av, mapValue(b, a.Content[i].Value), sField(s, a.Content[i].Value)) {
				return false
			}
		}
		for i := 0; i+1 < len(b.Content); i += 2 {
			if !isNull(b.Content[i+1]) {
				n--
			}
		}
		return n == 0
	case yaml.SequenceNode:
		if len(a.Content) != len(b.Content) {
			return false
		}
		es := sElems(s)
		if keys := mergeKeys(s); keys != nil && allMaps(a) && allMaps(b) {
			for _, it := range a.Content {
				if !nodesEqual(it, findItem(b, keys, itemKey(resolveAlias(it), keys)), es) {
					return false
				}
			}
			return true
		}
		for i := range a.Content {
			if !nodesEqual(a.Content[i], b.Content[i], es) {
				return false
			}
		}
		return true
	}
	return false
}

// copyNode deep-copies a document node for a new file (comments kept).
func copyNode(n *yaml.Node) *yaml.Node {
	n = resolveAlias(n)
	c := *n
	c.Line, c.Column, c.Anchor = 0, 0, ""
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, x := range n.Content {
		c.Content[i] = copyNode(x)
	}
	return &c
}

// differ computes a strategic-merge patch: the fields of a wanted object
// that differ from ref (the object as the build gives it without the
// patch). A mapping sets the keys it has (a key the document leaves out is
// kept, an explicit null deletes it); a list is the whole list: a merge
// list's items that the document leaves out get "$patch: delete", any
// other list is replaced. src is the same object built without the
// overlay's transforms: a wanted value equal to src's is what the files
// say and is left alone, and a list item ref has but src lacks was added
// by a transform and is not deleted. hasSrc is false when there is no
// such build.
type differ struct{ hasSrc bool }

// mapDelta returns the patch fields of mapping want against ref, or nil.
func (df differ) mapDelta(want, ref, src *yaml.Node, s schema, level string) *yaml.Node {
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	skip := func(k string) bool {
		return level == "top" && (k == "apiVersion" || k == "kind" || k == "status") || level == "metadata" && (k == "name" || k == "namespace")
	}
	for i := 0; i+1 < len(want.Content); i += 2 {
		k, wv := want.Content[i].Value, resolveAlias(want.Content[i+1])
		if skip(k) {
			continue
		}
		rv, sv, fs := resolveAlias(mapValue(ref, k)), resolveAlias(mapValue(src, k)), sField(s, k)
		switch {
		case isNull(wv):
			if !isNull(rv) {
				out.Content = append(out.Content, scalarNode(k), nullNode())
			}
			continue
		case isNull(rv):
			out.Content = append(out.Content, scalarNode(k), copyNode(wv))
			continue
		case nodesEqual(wv, rv, fs) || sv != nil && nodesEqual(wv, sv, fs):
			continue
		}
		var d *yaml.Node
		switch {
		case wv.Kind == yaml.MappingNode && rv.Kind == yaml.MappingNode:
			sub := ""
			if level == "top" && k == "metadata" {
				sub = "metadata"
			}
			d = df.mapDelta(wv, rv, sv, fs, sub)
		case wv.Kind == yaml.SequenceNode && rv.Kind == yaml.SequenceNode:
			d = df.seqDelta(wv, rv, sv, fs)
		default:
			d = copyNode(wv)
		}
		if d != nil {
			out.Content = append(out.Content, scalarNode(k), d)
		}
	}
	if len(out.Content) == 0 {
		return nil
	}
	return out
}

// seqDelta returns the patch of list want against ref: merge lists item by
// item (new and changed items, deleted ones as "$patch: delete"), other
// lists whole.
func (df differ) seqDelta(want, ref, src *yaml.Node, s schema) *yaml.Node {
	keys := mergeKeys(s)
	if keys == nil || !allMaps(want) || !allMaps(ref) {
		return copyNode(want)
	}
	es := sElems(s)
	var items []*yaml.Node
	for _, wi := range want.Content {
		wi = resolveAlias(wi)
		k := itemKey(wi, keys)
		ri, si := findItem(ref, keys, k), findItem(src, keys, k)
		if ri == nil {
			items = append(items, copyNode(wi))
			continue
		}
		if nodesEqual(wi, ri, es) || si != nil && nodesEqual(wi, si, es) {
			continue
		}
		d := df.mapDelta(wi, ri, si, es, "")
		if d == nil {
			continue
		}
		it := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, key := range keys {
			if v := mapValue(wi, key); v != nil {
				it.Content = append(it.Content, scalarNode(key), copyNode(v))
			}
		}
		for i := 0; i+1 < len(d.Content); i += 2 {
			if mapValue(it, d.Content[i].Value) == nil {
				it.Content = append(it.Content, d.Content[i], d.Content[i+1])
			}
		}
		items = append(items, it)
	}
	for _, ri := range ref.Content {
		ri = resolveAlias(ri)
		k := itemKey(ri, keys)
		if findItem(want, keys, k) != nil || df.hasSrc && src != nil && findItem(src, keys, k) == nil {
			continue
		}
		it := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, key := range keys {
			if v := mapValue(ri, key); v != nil {
				it.Content = append(it.Content, scalarNode(key), copyNode(v))
			}
		}
		it.Content = append(it.Content, scalarNode("$patch"), scalarNode("delete"))
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil
	}
	return seqNode(items...)
}

// mismatch is a field of a document that the build does not yield.
type mismatch struct {
	field      string
	built, doc string
}

func short(n *yaml.Node) string {
	if n == nil {
		return "(absent)"
	}
	n = resolveAlias(n)
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	c := copyNode(n)
	var setFlow func(*yaml.Node)
	setFlow = func(x *yaml.Node) {
		x.Style = yaml.FlowStyle
		x.HeadComment, x.LineComment, x.FootComment = "", "", ""
		for _, y := range x.Content {
			setFlow(y)
		}
	}
	setFlow(c)
	b, err := yaml.Marshal(c)
	if err != nil {
		return "?"
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// view is one object as several builds give it: got is the build of the
// result; alt the result built without the overlay's transforms and alt0
// the repository before the change built so. A field that a transform
// changes counts as given when the files write the document's value and
// the document did not change it (alt and alt0 agree with it), or, for a
// new object (lenient), when the files write it.
type view struct {
	got, alt, alt0 *yaml.Node
	lenient        bool
}

func (v view) field(k string) view {
	return view{mapValue(v.got, k), mapValue(v.alt, k), mapValue(v.alt0, k), v.lenient}
}

func (v view) item(keys []string, k string) view {
	return view{findItem(v.got, keys, k), findItem(v.alt, keys, k), findItem(v.alt0, keys, k), v.lenient}
}

func (v view) equal(w *yaml.Node, s schema) bool {
	if nodesEqual(w, v.got, s) {
		return true
	}
	return v.alt != nil && nodesEqual(w, v.alt, s) && (v.lenient || v.alt0 != nil && nodesEqual(w, v.alt0, s))
}

// covers checks that the built object has every field of want with the
// same value; items of merge lists are matched by key.
func covers(want *yaml.Node, v view, s schema, field, level string) *mismatch {
	for i := 0; i+1 < len(want.Content); i += 2 {
		k, wv := want.Content[i].Value, resolveAlias(want.Content[i+1])
		if level == "top" && (k == "apiVersion" || k == "kind") || level == "metadata" && (k == "name" || k == "namespace") {
			continue
		}
		sub := ""
		if level == "top" && k == "metadata" {
			sub = "metadata"
		}
		if m := coversValue(wv, v.field(k), sField(s, k), joinField(field, k), sub); m != nil {
			return m
		}
	}
	return nil
}

func coversValue(w *yaml.Node, v view, s schema, field, level string) *mismatch {
	v.got, v.alt, v.alt0 = resolveAlias(v.got), resolveAlias(v.alt), resolveAlias(v.alt0)
	if v.equal(w, s) {
		return nil
	}
	g := v.got
	miss := &mismatch{field: field, built: short(g), doc: short(w)}
	if isNull(w) || isNull(g) {
		return miss
	}
	switch {
	case w.Kind == yaml.MappingNode && g.Kind == yaml.MappingNode:
		return covers(w, v, s, field, level)
	case w.Kind == yaml.SequenceNode && g.Kind == yaml.SequenceNode:
		keys := mergeKeys(s)
		if keys == nil || !allMaps(w) || !allMaps(g) {
			return miss
		}
		for _, wi := range w.Content {
			wi = resolveAlias(wi)
			iv := v.item(keys, itemKey(wi, keys))
			if iv.got == nil {
				return &mismatch{field: itemLabel(field, wi, keys), built: "(absent)", doc: short(wi)}
			}
			if m := covers(wi, iv, sElems(s), itemLabel(field, wi, keys), ""); m != nil {
				return m
			}
		}
		return nil
	}
	return miss
}
