package manifest

import (
	"strconv"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	yaml "go.yaml.in/yaml/v3"
)

// Conflicts compares the files of the base commit (the one a change was
// planned on) with the files of a newer head (theirs) for every field the
// planned edits change: a field whose value differs between base and theirs
// (and that theirs did not already set to our value) is a conflict. Upstream
// changes to any other field, line or file are not.
func Conflicts(base, theirs map[string][]byte, edits []Edit) []Conflict {
	var out []Conflict
	bt, tt := newMapTree(base), newMapTree(theirs)
	cache := map[string]*yfile{}
	created := map[string]bool{}
	for _, e := range edits {
		if e.Field == "" && e.Old == nil && strings.HasPrefix(e.Note, "created") {
			created[e.Path] = true
		}
	}
	for _, e := range edits {
		// A file the change creates is planned afresh on the new head (under
		// a free name), so upstream files cannot conflict with it.
		if e.Field == "" || created[e.Path] {
			continue
		}
		b := lookup(bt, "base:", cache, e)
		t := lookup(tt, "theirs:", cache, e)
		if eqp(b, t) || eqp(t, e.New) {
			continue
		}
		out = append(out, Conflict{Path: e.Path, Field: fieldLabel(e), Base: b, Ours: e.New, Theirs: t})
	}
	return out
}

func fieldLabel(e Edit) string {
	if e.Object != "" {
		return e.Object + " " + e.Field
	}
	return e.Field
}

func eqp(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// ConflictError is the CONFLICT_DETECTED error for conflicts (details.conflicts).
func ConflictError(cs []Conflict) error {
	paths := make([]string, 0, len(cs))
	for _, c := range cs {
		paths = append(paths, c.Path+" "+c.Field)
	}
	return model.Errorf(model.CodeConflictDetected, "changed upstream since the base commit: %s", strings.Join(paths, "; ")).
		WithDetail("conflicts", cs)
}

// Rebase re-applies a change planned on base to a newer head (theirs): a
// CONFLICT_DETECTED error when upstream changed a field the change changes,
// else the plan of the same change on theirs.
func Rebase(base, theirs map[string][]byte, gitPath string, ch Change, prev *Result) (*Result, error) {
	if prev != nil {
		if cs := Conflicts(base, theirs, prev.Edits); len(cs) > 0 {
			return nil, ConflictError(cs)
		}
	}
	return Plan(theirs, gitPath, ch)
}

func lookup(t mapTree, side string, cache map[string]*yfile, e Edit) *string {
	f, ok := cache[side+e.Path]
	if !ok {
		if src, found := t.read(e.Path); found {
			f, _ = parseYAML(e.Path, src)
		}
		cache[side+e.Path] = f
	}
	if f == nil {
		return nil
	}
	var d *ydoc
	for _, x := range f.docs {
		if x.root == nil {
			continue
		}
		if e.Object == "" || x.kind+"/"+x.name == e.Object {
			d = x
			break
		}
	}
	if d == nil {
		return nil
	}
	n := resolveField(d.root, e.Field)
	if n == nil || n.Kind != yaml.ScalarNode {
		return nil
	}
	v := n.Value
	return &v
}

// resolveField walks a field path such as
// spec.template.spec.containers[name=web].env[name=A].value.
func resolveField(n *yaml.Node, field string) *yaml.Node {
	for _, seg := range splitField(field) {
		key, sel := seg, ""
		if i := strings.IndexByte(seg, '['); i >= 0 && strings.HasSuffix(seg, "]") {
			key, sel = seg[:i], seg[i+1:len(seg)-1]
		}
		if key != "" {
			n = mapValue(n, key)
		}
		if sel == "" {
			continue
		}
		if k, v, ok := strings.Cut(sel, "="); ok {
			var found *yaml.Node
			for _, it := range seqItems(n) {
				if scalarAt(it, k) == v {
					found = it
					break
				}
			}
			n = found
		} else if i, err := strconv.Atoi(sel); err == nil {
			items := seqItems(n)
			if i < 0 || i >= len(items) {
				return nil
			}
			n = items[i]
		}
		if n == nil {
			return nil
		}
	}
	return n
}

// splitField splits at dots outside brackets.
func splitField(f string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case '[':
			depth++
		case ']':
			depth--
		case '.':
			if depth == 0 {
				out = append(out, f[start:i])
				start = i + 1
			}
		}
	}
	return append(out, f[start:])
}
