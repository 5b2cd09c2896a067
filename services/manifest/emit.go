package manifest

import (
	"fmt"
	"strconv"
	"strings"

	yaml2 "go.yaml.in/yaml/v2"
	yaml "go.yaml.in/yaml/v3"
)

// Rendering new YAML text: scalars, block collections and the nodes of
// desired trees.

// renderScalar renders a scalar value for the source text, keeping the
// quoting style of the value it replaces when there is one.
func renderScalar(n *yaml.Node, old *yaml.Node) string {
	v := n.Value
	if n.Tag != "" && n.Tag != "!!str" && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
		return v // ints, bools, floats, nulls: written as they are
	}
	if old == n && n.Line > 0 && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		return v // an existing plain scalar: unchanged
	}
	if old != nil && !strings.Contains(v, "\n") {
		switch {
		case old.Style&yaml.DoubleQuotedStyle != 0:
			return strconv.Quote(v)
		case old.Style&yaml.SingleQuotedStyle != 0:
			return "'" + strings.ReplaceAll(v, "'", "''") + "'"
		}
	}
	out, err := yaml.Marshal(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v})
	s := strings.TrimSuffix(string(out), "\n")
	if err != nil || strings.Contains(s, "\n") || (s == v && !plainIsStringYAML11(v)) {
		return strconv.Quote(v)
	}
	return s
}

// plainIsStringYAML11 reports whether a plain scalar reads back as the same
// string under YAML 1.1 too (kubectl, kustomize and Flux read YAML 1.1: yes,
// on, off, 0755 are not strings there).
func plainIsStringYAML11(v string) bool {
	var x any
	if err := yaml2.Unmarshal([]byte("v: "+v), &x); err != nil {
		return false
	}
	m, ok := x.(map[any]any)
	if !ok {
		return false
	}
	got, ok := m["v"].(string)
	return ok && got == v
}

func renderKey(k string) string {
	return renderScalar(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, nil)
}

// emit renders a node in block style, each line indented by ind spaces.
func emit(n *yaml.Node, ind int, st style) []string {
	pad := strings.Repeat(" ", ind)
	var out []string
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := pad + renderKey(k.Value) + ":"
			switch {
			case v.Kind == yaml.MappingNode && len(v.Content) == 0:
				out = append(out, key+" {}")
			case v.Kind == yaml.SequenceNode && len(v.Content) == 0:
				out = append(out, key+" []")
			case v.Kind == yaml.MappingNode:
				out = append(out, key)
				out = append(out, emit(v, ind+st.step, st)...)
			case v.Kind == yaml.SequenceNode:
				out = append(out, key)
				si := ind
				if st.seqIndent {
					si += st.step
				}
				out = append(out, emit(v, si, st)...)
			case isLiteral(v):
				out = append(out, literal(key+" ", v, ind+st.step)...)
			default:
				out = append(out, key+" "+renderScalar(v, v))
			}
		}
	case yaml.SequenceNode:
		for _, it := range n.Content {
			switch it.Kind {
			case yaml.MappingNode, yaml.SequenceNode:
				if len(it.Content) == 0 {
					out = append(out, pad+"- "+map[bool]string{true: "{}", false: "[]"}[it.Kind == yaml.MappingNode])
					continue
				}
				lines := emit(it, ind+2, st)
				lines[0] = pad + "- " + strings.TrimLeft(lines[0], " ")
				out = append(out, lines...)
			default:
				if isLiteral(it) {
					out = append(out, literal(pad+"- ", it, ind+2)...)
					continue
				}
				out = append(out, pad+"- "+renderScalar(it, it))
			}
		}
	default:
		out = append(out, pad+renderScalar(n, n))
	}
	return out
}

// isLiteral reports whether n is a multi-line string to write as a literal block.
func isLiteral(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Style&yaml.LiteralStyle != 0 && strings.Contains(strings.TrimSuffix(n.Value, "\n"), "\n")
}

// literal renders a literal block scalar: head ("key: " or "- ") with the
// indicator, then the lines of the value indented by ind spaces.
func literal(head string, n *yaml.Node, ind int) []string {
	ind1 := "|"
	if !strings.HasSuffix(n.Value, "\n") {
		ind1 = "|-"
	}
	out := []string{head + ind1}
	pad := strings.Repeat(" ", ind)
	for _, l := range strings.Split(strings.TrimSuffix(n.Value, "\n"), "\n") {
		if l == "" {
			out = append(out, "")
			continue
		}
		out = append(out, pad+l)
	}
	return out
}

func scalarNode(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}

func intNode(v int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v, 10)}
}

func mapNode(kv ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		var v *yaml.Node
		switch x := kv[i+1].(type) {
		case *yaml.Node:
			v = x
		case string:
			v = scalarNode(x)
		default:
			panic(fmt.Sprintf("mapNode: %T", x))
		}
		m.Content = append(m.Content, scalarNode(kv[i].(string)), v)
	}
	return m
}

func seqNode(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
}
