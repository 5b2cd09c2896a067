package validate

import (
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// position is where an issue points in the input.
type position struct{ line, column int }

// locate maps a field path as Kubernetes prints it ("spec.template.spec.containers[0].image",
// "metadata.labels[app.kubernetes.io/name]") to the YAML node it names. When
// the path leads to a field that is not there (a missing required field), it
// returns the deepest node that exists. Keys are reported at the key; with
// preferValue, scalar values at the value.
func locate(root *yaml.Node, path string, preferValue bool) position {
	if root == nil {
		return position{1, 1}
	}
	cur := deref(root)
	at := position{cur.Line, cur.Column}
	rest := strings.TrimPrefix(path, ".")
	for rest != "" && cur != nil {
		switch cur.Kind {
		case yaml.SequenceNode:
			if !strings.HasPrefix(rest, "[") {
				return at
			}
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return at
			}
			i, err := strconv.Atoi(rest[1:end])
			if err != nil || i < 0 || i >= len(cur.Content) {
				return at
			}
			cur = deref(cur.Content[i])
			at = position{cur.Line, cur.Column}
			rest = strings.TrimPrefix(rest[end+1:], ".")
		case yaml.MappingNode:
			var key string
			bracket := strings.HasPrefix(rest, "[")
			if bracket {
				end := strings.IndexByte(rest, ']')
				if end < 0 {
					return at
				}
				key = rest[1:end]
			}
			k, v, n := findKey(cur, rest, key, bracket)
			if k == nil {
				return at
			}
			rest = strings.TrimPrefix(rest[n:], ".")
			cur = deref(v)
			if rest == "" && preferValue && cur != nil && cur.Kind == yaml.ScalarNode {
				at = position{cur.Line, cur.Column}
			} else {
				at = position{k.Line, k.Column}
			}
		default:
			return at
		}
	}
	return at
}

// findKey finds the entry of mapping m that the path rest starts with,
// following merge keys; n is how much of rest the key used.
func findKey(m *yaml.Node, rest, bracketKey string, bracket bool) (k, v *yaml.Node, n int) {
	best := -1
	for depth := 0; depth < 8 && m != nil; depth++ {
		var merge *yaml.Node
		for i := 0; i+1 < len(m.Content); i += 2 {
			kn := deref(m.Content[i])
			if kn == nil {
				continue
			}
			if kn.Value == "<<" {
				merge = deref(m.Content[i+1])
				continue
			}
			ks, _ := keyString(kn)
			if bracket {
				if ks == bracketKey {
					return m.Content[i], m.Content[i+1], len(bracketKey) + 2
				}
				continue
			}
			if strings.HasPrefix(rest, ks) && (len(rest) == len(ks) || rest[len(ks)] == '.' || rest[len(ks)] == '[') && len(ks) > best {
				best, k, v, n = len(ks), m.Content[i], m.Content[i+1], len(ks)
			}
		}
		if k != nil || merge == nil {
			return k, v, n
		}
		if merge.Kind == yaml.SequenceNode && len(merge.Content) > 0 {
			// search the first merged mapping; deeper lists are rare
			for _, s := range merge.Content {
				if kk, vv, nn := findKey(deref(s), rest, bracketKey, bracket); kk != nil {
					return kk, vv, nn
				}
			}
			return nil, nil, 0
		}
		m = merge
	}
	return k, v, n
}

// fieldNode returns the value node at a simple dotted path of keys (no
// indexes), or nil.
func fieldNode(root *yaml.Node, keys ...string) *yaml.Node {
	cur := deref(root)
	for _, key := range keys {
		if cur == nil || cur.Kind != yaml.MappingNode {
			return nil
		}
		_, v, _ := findKey(cur, key, key, true)
		if v == nil {
			return nil
		}
		cur = deref(v)
	}
	return cur
}
