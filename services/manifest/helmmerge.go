package manifest

import (
	yaml "go.yaml.in/yaml/v3"
)

// tagReplace prefixes the tag of a desired node that replaces the current
// value whole instead of merging into it (Helm replaces lists; a value may
// change kind). clean restores the tag after the prefix.
const tagReplace = "!replace"

// replacing marks n as a whole replacement.
func replacing(n *yaml.Node) *yaml.Node {
	n.Tag = tagReplace + n.Tag
	return n
}

// replaceValue sets the value of key k (currently v) to the desired node
// dv whole, at field sub: the old value's text goes, the new one is written
// in block style (inline for a scalar or an empty collection).
func (mg *merger) replaceValue(k, v, dv *yaml.Node, sub string, tree bool) error {
	n := clean(dv)
	if equalNodes(v, n) {
		return nil
	}
	mg.record(sub, strp(jsonTextNode(v)), strp(jsonTextNode(n)))
	if tree {
		*v = *n
		return nil
	}
	inline := n.Kind == yaml.ScalarNode || len(n.Content) == 0
	text := ""
	if inline {
		if n.Kind == yaml.ScalarNode {
			text = renderScalar(n, nil)
		} else {
			text = map[bool]string{true: "{}", false: "[]"}[n.Kind == yaml.MappingNode]
		}
	}
	if v.Kind == yaml.ScalarNode || v.Style&yaml.FlowStyle != 0 {
		ac, err := mg.f.afterColon(k)
		if err != nil {
			return err
		}
		_, end, err := mg.f.nodeSpan(v)
		if err != nil {
			return err
		}
		if inline {
			mg.f.add(ac, end, " "+text)
			return nil
		}
		mg.f.add(ac, end, "")
		mg.f.insertLinesAfter(mg.f.lineOf(end-1), mg.blockLines(k, n))
		return nil
	}
	last := mg.f.blockEnd(k.Line, k.Column, true)
	if last > k.Line {
		mg.f.deleteLines(k.Line+1, last)
	}
	if inline {
		ac, err := mg.f.afterColon(k)
		if err != nil {
			return err
		}
		mg.f.add(ac, ac, " "+text)
		return nil
	}
	mg.f.insertLinesAfter(k.Line, mg.blockLines(k, n))
	return nil
}

// equalNodes compares two nodes by value.
func equalNodes(a, b *yaml.Node) bool {
	var x, y any
	if a.Decode(&x) != nil || b.Decode(&y) != nil {
		return false
	}
	return sameValue(x, y)
}

func jsonTextNode(n *yaml.Node) string {
	var x any
	if err := n.Decode(&x); err != nil {
		return n.Value
	}
	return jsonText(x)
}
