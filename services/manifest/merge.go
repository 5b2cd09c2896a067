package manifest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	yaml "go.yaml.in/yaml/v3"
)

// tagDelete marks, in a desired tree, a key or a list item to remove.
const tagDelete = "!delete"

func deleteMarker() *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: tagDelete} }

// deleteItemMarker marks the list item whose idKey is id for removal.
func deleteItemMarker(idKey, id string) *yaml.Node {
	m := mapNode(idKey, id)
	m.Tag = tagDelete
	return m
}

// listKey names the field that identifies the items of a list, as
// strategic merge patch and kustomize do.
func listKey(field string) string {
	switch field {
	case "patches":
		return "path"
	case "ports":
		return "containerPort"
	default: // containers, initContainers, env, images, replicas, volumes, ...
		return "name"
	}
}

// merger applies a desired partial tree to one document of a file with the
// smallest text edits: changed scalars are rewritten in place, missing keys
// and list items are inserted as new lines, removed ones are deleted as whole
// lines. Flow collections ({} and []) touched by a change are rewritten in
// block style. Every leaf change is recorded as an Edit.
type merger struct {
	f      *yfile
	object string
	edits  []Edit
	first  map[string]bool // field paths whose new keys go first (spec: replicas)
}

func joinField(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func strp(s string) *string { return &s }

func (mg *merger) record(field string, old, new *string) {
	mg.edits = append(mg.edits, Edit{Path: mg.f.path, Object: mg.object, Field: field, Old: old, New: new})
}

func (mg *merger) recordTree(field string, n *yaml.Node, added bool) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == tagDelete {
			return
		}
		if added {
			mg.record(field, nil, strp(n.Value))
		} else {
			mg.record(field, strp(n.Value), nil)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			mg.recordTree(joinField(field, n.Content[i].Value), n.Content[i+1], added)
		}
	case yaml.SequenceNode:
		key := listKey(lastKey(field))
		for i, it := range n.Content {
			if it.Kind == yaml.MappingNode {
				if id := scalarAt(it, key); id != "" {
					sub := fmt.Sprintf("%s[%s=%s]", field, key, id)
					for j := 0; j+1 < len(it.Content); j += 2 {
						if it.Content[j].Value != key {
							mg.recordTree(joinField(sub, it.Content[j].Value), it.Content[j+1], added)
						}
					}
					if len(it.Content) == 2 {
						mg.recordTree(joinField(sub, key), it.Content[1], added)
					}
					continue
				}
			}
			mg.recordTree(fmt.Sprintf("%s[%d]", field, i), it, added)
		}
	}
}

func lastKey(field string) string {
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		field = field[i+1:]
	}
	if i := strings.IndexByte(field, '['); i >= 0 {
		field = field[:i]
	}
	return field
}

// clean returns a copy of n without delete and replace markers.
func clean(n *yaml.Node) *yaml.Node {
	c := *n
	c.Tag = strings.TrimPrefix(c.Tag, tagReplace)
	c.Content = nil
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i+1].Tag == tagDelete {
				continue
			}
			c.Content = append(c.Content, n.Content[i], clean(n.Content[i+1]))
		}
	case yaml.SequenceNode:
		for _, it := range n.Content {
			if it.Tag == tagDelete {
				continue
			}
			c.Content = append(c.Content, clean(it))
		}
	}
	return &c
}

// mergeMap merges desired (a mapping) into m. key is the key whose value m
// is (nil for a document root or a list item); field is m's path. In tree
// mode the nodes are changed in memory (the caller re-emits them).
func (mg *merger) mergeMap(m, key, desired *yaml.Node, field string, tree bool) error {
	if !tree && m.Style&yaml.FlowStyle != 0 {
		if err := mg.mergeMap(m, key, desired, field, true); err != nil {
			return err
		}
		return mg.reemit(m, key)
	}
	var missing []*yaml.Node
	for i := 0; i+1 < len(desired.Content); i += 2 {
		dk, dv := desired.Content[i], desired.Content[i+1]
		sub := joinField(field, dk.Value)
		k, v := mapEntry(m, dk.Value)
		if dv.Tag == tagDelete {
			if v == nil {
				continue
			}
			mg.recordTree(sub, v, false)
			if tree {
				removeKey(m, dk.Value)
				continue
			}
			if err := mg.deleteEntry(k); err != nil {
				return err
			}
			continue
		}
		if v == nil || (v.Kind == yaml.ScalarNode && v.Tag == "!!null" && dv.Kind != yaml.ScalarNode) {
			if dv.Kind == yaml.MappingNode || dv.Kind == yaml.SequenceNode {
				if len(clean(dv).Content) == 0 {
					continue
				}
			}
			mg.recordTree(sub, dv, true)
			switch {
			case tree && v == nil:
				m.Content = append(m.Content, scalarNode(dk.Value), clean(dv))
			case tree:
				*v = *clean(dv)
			case v == nil:
				missing = append(missing, dk, dv)
			default:
				if err := mg.replaceWithBlock(k, v, clean(dv)); err != nil {
					return err
				}
			}
			continue
		}
		switch {
		case strings.HasPrefix(dv.Tag, tagReplace):
			if err := mg.replaceValue(k, v, dv, sub, tree); err != nil {
				return err
			}
		case dv.Kind == yaml.ScalarNode && v.Kind == yaml.ScalarNode:
			if err := mg.mergeScalar(k, v, dv, sub, tree); err != nil {
				return err
			}
		case dv.Kind == yaml.MappingNode && v.Kind == yaml.MappingNode:
			if err := mg.mergeMap(v, k, dv, sub, tree); err != nil {
				return err
			}
		case dv.Kind == yaml.SequenceNode && v.Kind == yaml.SequenceNode:
			if err := mg.mergeSeq(v, k, dv, sub, tree); err != nil {
				return err
			}
		default:
			return model.Errorf(model.CodeBadRequest, "%s:%d: %s is not a %s", mg.f.path, v.Line, sub, kindName(dv.Kind)).
				WithDetail("path", mg.f.path).WithDetail("field", sub)
		}
	}
	if len(missing) > 0 {
		return mg.addEntries(m, missing, field)
	}
	return nil
}

// mergeScalar sets the scalar v (the value of key k, at field sub) to the
// desired scalar dv, if it differs.
func (mg *merger) mergeScalar(k, v, dv *yaml.Node, sub string, tree bool) error {
	if v.Value == dv.Value {
		return nil
	}
	mg.record(sub, strp(v.Value), strp(dv.Value))
	if tree {
		v.Value, v.Tag, v.Style, v.Line = dv.Value, dv.Tag, 0, 0
		return nil
	}
	if v.Tag == "!!null" {
		return mg.setInline(k, renderScalar(dv, nil))
	}
	s, e, err := mg.f.scalarSpan(v, false)
	if err != nil {
		return err
	}
	mg.f.add(s, e, renderScalar(dv, v))
	return nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	default:
		return "value"
	}
}

func removeKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// mergeSeq merges the desired items into list s, matching items by their key field.
func (mg *merger) mergeSeq(s, key, desired *yaml.Node, field string, tree bool) error {
	if !tree && s.Style&yaml.FlowStyle != 0 {
		if err := mg.mergeSeq(s, key, desired, field, true); err != nil {
			return err
		}
		return mg.reemit(s, key)
	}
	idKey := listKey(lastKey(field))
	var appended []*yaml.Node
	var deleted []int
	for _, di := range desired.Content {
		if di.Kind == yaml.ScalarNode {
			// A list of strings (transformers:): add the value unless present.
			if !hasScalar(s, di.Value) && !hasScalar(seqNode(appended...), di.Value) {
				mg.record(fmt.Sprintf("%s[%d]", field, len(s.Content)+len(appended)), nil, strp(di.Value))
				appended = append(appended, clean(di))
			}
			continue
		}
		id := scalarAt(di, idKey)
		idx := -1
		for j, it := range s.Content {
			if it.Kind == yaml.MappingNode && scalarAt(it, idKey) == id {
				idx = j
				break
			}
		}
		sub := fmt.Sprintf("%s[%s=%s]", field, idKey, id)
		if di.Tag == tagDelete {
			if idx < 0 {
				continue
			}
			mg.recordItem(sub, idKey, s.Content[idx], false)
			deleted = append(deleted, idx)
			continue
		}
		if idx < 0 {
			mg.recordItem(sub, idKey, di, true)
			appended = append(appended, clean(di))
			continue
		}
		if err := mg.mergeMap(s.Content[idx], nil, di, sub, tree); err != nil {
			return err
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(deleted)))
	if tree {
		for _, j := range deleted {
			s.Content = append(s.Content[:j], s.Content[j+1:]...)
		}
		s.Content = append(s.Content, appended...)
		return nil
	}
	if len(deleted) > 0 && len(deleted) == len(s.Content) && len(appended) == 0 && key != nil {
		if mg.f.keyStartsLine(key) {
			return mg.deleteEntry(key)
		}
		st, en, err := mg.f.blockSpan(s)
		if err != nil {
			return err
		}
		mg.f.add(st, en, "[]")
		return nil
	}
	for _, j := range deleted {
		mg.deleteItem(s, j)
	}
	if len(appended) > 0 {
		last := s.Content[len(s.Content)-1]
		end := mg.f.blockEnd(last.Line, s.Column, false)
		mg.f.insertLinesAfter(end, emit(seqNode(appended...), s.Column-1, mg.f.style()))
	}
	return nil
}

func hasScalar(s *yaml.Node, v string) bool {
	for _, it := range s.Content {
		if it.Kind == yaml.ScalarNode && it.Value == v {
			return true
		}
	}
	return false
}

// recordItem records the leaves of a list item (without its id field unless it is the only one).
func (mg *merger) recordItem(sub, idKey string, it *yaml.Node, added bool) {
	n := 0
	for j := 0; j+1 < len(it.Content); j += 2 {
		if it.Content[j].Value == idKey {
			continue
		}
		n++
		mg.recordTree(joinField(sub, it.Content[j].Value), it.Content[j+1], added)
	}
	if n == 0 {
		mg.recordTree(joinField(sub, idKey), mapValue(it, idKey), added)
	}
}

// blockSpan returns the text span of a block sequence or mapping (from its first character to its last line's end).
func (f *yfile) blockSpan(n *yaml.Node) (int, int, error) {
	start := f.offset(n.Line, n.Column)
	end := f.blockEnd(n.Line, n.Column, false)
	return start, f.lineStart[end-1] + len(f.line(end)), nil
}

// addEntries inserts key/value pairs into block mapping m.
func (mg *merger) addEntries(m *yaml.Node, pairs []*yaml.Node, field string) error {
	if len(m.Content) == 0 {
		return model.Errorf(model.CodeInternal, "%s: empty block mapping at line %d", mg.f.path, m.Line)
	}
	first := m.Content[0]
	// Keys with a conventional place go right after their anchor key.
	var rest []*yaml.Node
	for i := 0; i+1 < len(pairs); i += 2 {
		if ak, _ := mapEntry(m, anchorKey(pairs[i].Value)); ak != nil && mg.f.keyStartsLine(ak) || ak != nil && ak == first {
			end := mg.f.blockEnd(ak.Line, ak.Column, true)
			mg.f.insertLinesAfter(end, emit(clean(&yaml.Node{Kind: yaml.MappingNode, Content: pairs[i : i+2]}), first.Column-1, mg.f.style()))
			continue
		}
		rest = append(rest, pairs[i], pairs[i+1])
	}
	if len(rest) == 0 {
		return nil
	}
	pm := clean(&yaml.Node{Kind: yaml.MappingNode, Content: rest})
	lines := emit(pm, first.Column-1, mg.f.style())
	if mg.first[field] && mg.f.keyStartsLine(first) {
		at := first.Line - 1
		for at >= 1 {
			b := mg.f.line(at)
			t := strings.TrimSpace(string(b))
			if strings.HasPrefix(t, "#") && indentOf(b) == first.Column-1 {
				at--
				continue
			}
			break
		}
		mg.f.insertLinesAfter(at, lines)
		return nil
	}
	last := m.Content[len(m.Content)-2]
	end := mg.f.blockEnd(last.Line, last.Column, true)
	mg.f.insertLinesAfter(end, lines)
	return nil
}

// anchorKey names the key after which a new key is conventionally written
// ("" = at the end of the mapping).
func anchorKey(key string) string {
	switch key {
	case "newName":
		return "name" // kustomize images: name, newName, newTag
	case "value", "count":
		return "name" // env items, replicas entries
	}
	return ""
}

// deleteEntry removes a key and its value (whole lines).
func (mg *merger) deleteEntry(k *yaml.Node) error {
	if !mg.f.keyStartsLine(k) {
		return model.Errorf(model.CodeBadRequest, "%s:%d: cannot remove %q: it shares its line with a list item", mg.f.path, k.Line, k.Value)
	}
	mg.f.deleteLines(k.Line, mg.f.blockEnd(k.Line, k.Column, true))
	return nil
}

// deleteItem removes item j of block sequence s, with the comment lines right above it.
func (mg *merger) deleteItem(s *yaml.Node, j int) {
	it := s.Content[j]
	from := it.Line
	to := mg.f.blockEnd(it.Line, s.Column, false)
	if j > 0 {
		for from > 1 {
			b := mg.f.line(from - 1)
			if strings.HasPrefix(strings.TrimSpace(string(b)), "#") && indentOf(b) == s.Column-1 {
				from--
				continue
			}
			break
		}
	}
	mg.f.deleteLines(from, to)
}

// valueTail returns the offset just after the ':' of key k and the offset
// where the inline value ends (before a trailing comment).
func (f *yfile) afterColon(k *yaml.Node) (int, error) {
	s, e, err := f.scalarSpan(k, true)
	if err != nil {
		return 0, err
	}
	_ = s
	for i := e; i < len(f.src) && f.src[i] != '\n'; i++ {
		if f.src[i] == ':' {
			return i + 1, nil
		}
		if f.src[i] != ' ' {
			break
		}
	}
	return 0, model.Errorf(model.CodeYAMLInvalid, "%s:%d: no ':' after key %q", f.path, k.Line, k.Value)
}

func (f *yfile) lineOf(off int) int {
	return sort.Search(len(f.lineStart), func(i int) bool { return f.lineStart[i] > off })
}

// setInline replaces the inline value after key k (up to a trailing comment) with text.
func (mg *merger) setInline(k *yaml.Node, text string) error {
	ac, err := mg.f.afterColon(k)
	if err != nil {
		return err
	}
	end := ac
	lineEnd := mg.f.lineStart[k.Line-1] + len(mg.f.line(k.Line))
	for end < lineEnd && !(mg.f.src[end] == '#' && mg.f.src[end-1] == ' ') {
		end++
	}
	for end > ac && mg.f.src[end-1] == ' ' {
		end--
	}
	mg.f.add(ac, end, " "+text)
	return nil
}

// replaceWithBlock sets the value of key k (an empty/null scalar now) to the block rendering of n.
func (mg *merger) replaceWithBlock(k, v, n *yaml.Node) error {
	ac, err := mg.f.afterColon(k)
	if err != nil {
		return err
	}
	end := ac
	lineEnd := mg.f.lineStart[k.Line-1] + len(mg.f.line(k.Line))
	for end < lineEnd && mg.f.src[end] != '#' {
		end++
	}
	for end > ac && mg.f.src[end-1] == ' ' {
		end--
	}
	if end > ac {
		mg.f.add(ac, end, "")
	}
	mg.f.insertLinesAfter(k.Line, mg.blockLines(k, n))
	return nil
}

func (mg *merger) blockLines(k, n *yaml.Node) []string {
	st := mg.f.style()
	ind := k.Column - 1
	if n.Kind == yaml.MappingNode || st.seqIndent {
		ind += st.step
	}
	return emit(n, ind, st)
}

// reemit rewrites a flow collection that was changed in tree mode, in block style.
func (mg *merger) reemit(n, key *yaml.Node) error {
	start, end, err := mg.f.nodeSpan(n)
	if err != nil {
		return err
	}
	if len(n.Content) == 0 {
		mg.f.add(start, end, map[bool]string{true: "{}", false: "[]"}[n.Kind == yaml.MappingNode])
		return nil
	}
	if key != nil {
		ac, err := mg.f.afterColon(key)
		if err != nil {
			return err
		}
		mg.f.add(ac, end, "")
		mg.f.insertLinesAfter(mg.f.lineOf(end-1), mg.blockLines(key, n))
		return nil
	}
	lines := emit(n, n.Column-1, mg.f.style())
	lines[0] = strings.TrimLeft(lines[0], " ")
	mg.f.add(start, end, strings.Join(lines, "\n"))
	return nil
}
