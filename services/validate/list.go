package validate

import (
	"context"
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// Lists, the way kubectl applies them: kubectl decodes every object that
// has an items field as a list (k8s.io/apimachinery unstructured
// decodeToList), its REST mapper maps kind List and <Kind>List in every
// served group version (k8s.io/client-go restmapper), and it sends each
// item on its own (cli-runtime FlattenListVisitor), nested lists
// flattened. An item with neither apiVersion nor kind takes <Kind> and the
// apiVersion of a <Kind>List. So each item is checked here as its own
// object, and reported at its own lines with its place in the list.

// isList reports whether kubectl treats the object as a list: kind List
// (which is only ever a list), or a kind ending in List that has items.
func isList(gvk schema.GroupVersionKind, root *yaml.Node) bool {
	return gvk.Kind == "List" || strings.HasSuffix(gvk.Kind, "List") && fieldNode(root, "items") != nil
}

// listFields are the fields of a List; kubectl ignores any other.
var listFields = map[string]bool{"apiVersion": true, "kind": true, "metadata": true, "items": true}

// list checks a List and each of its items.
func (r *run) list(ctx context.Context, c *docCtx) {
	if msg, sugg, known := r.listServed(c.gvk); msg != "" && known {
		r.errorAt(c, "kind", msg, sugg)
		return
	} else if msg != "" {
		r.warnAt(c, "kind", msg, sugg)
	}
	items := fieldNode(c.d.root, "items")
	for i := 0; i+1 < len(c.d.root.Content); i += 2 {
		if k := c.d.root.Content[i]; !listFields[k.Value] && k.Value != "<<" {
			r.warnAt(c, k.Value, fmt.Sprintf("field %q of a %s is ignored: kubectl applies only its items", k.Value, c.gvk.Kind),
				"move it into the items it is meant for")
		}
	}
	switch {
	case items == nil:
		r.errorAt(c, "kind", "a List needs items: without them kubectl sends the List itself, which the API server does not accept",
			"put the objects under items, or give the object its own kind")
		return
	case items.Kind == yaml.ScalarNode && items.Tag == "!!null", items.Kind == yaml.SequenceNode && len(items.Content) == 0:
		r.warnAt(c, "items", "the List has no items: nothing in it is applied", "")
		return
	case items.Kind != yaml.SequenceNode:
		r.errorAt(c, "items", "items must be a list of objects", "write each object as an item: items: [{apiVersion: ..., kind: ...}]")
		return
	}
	itemKind := strings.TrimSuffix(c.gvk.Kind, "List")
	for i, n := range items.Content {
		if err := ctx.Err(); err != nil {
			r.add(false, Issue{Document: c.d.index, Line: n.Line, Column: n.Column, Message: "validation stopped: " + err.Error()})
			return
		}
		r.item(ctx, c, joinFieldPath(c.path, fmt.Sprintf("items[%d]", i)), deref(n), itemKind)
	}
}

// item checks one item of list as the object kubectl sends.
func (r *run) item(ctx context.Context, list *docCtx, path string, n *yaml.Node, itemKind string) {
	if n == nil || n.Kind != yaml.MappingNode {
		at := list.d.root
		if n != nil {
			at = n
		}
		r.add(false, Issue{Document: list.d.index, Line: at.Line, Column: at.Column, Field: path,
			Message:    path + ": item is not a Kubernetes object (expected a mapping with apiVersion, kind and metadata)",
			Suggestion: "each item of a List is one object"})
		return
	}
	budget := r.v.opts.MaxNodes // the whole document converted within it already
	conv := converter{maxDepth: r.v.opts.MaxDepth, budget: &budget}
	if err := conv.value(n, 0); err != nil {
		r.add(false, Issue{Document: list.d.index, Line: n.Line, Column: n.Column, Field: path, Message: path + ": " + err.Error()})
		return
	}
	d := &document{index: list.d.index, line: n.Line, root: n, json: conv.buf.Bytes(), sops: list.d.sops || hasSOPS(n)}
	c := &docCtx{d: d, path: path}
	if itemKind != "" {
		c.defaultAPIVersion, c.defaultKind = list.gvk.GroupVersion().String(), itemKind
	}
	r.object(ctx, c)
}

// itemLabel is how messages name an item: "items[1] (Deployment/web)".
func itemLabel(path, kind, name string) string {
	switch {
	case kind == "":
		return path
	case name == "":
		return fmt.Sprintf("%s (%s)", path, kind)
	}
	return fmt.Sprintf("%s (%s/%s)", path, kind, name)
}

// listServed says why kubectl could not map a list kind (msg empty when
// it can); known is false when the group is not known here, so the answer
// is only a guess.
func (r *run) listServed(gvk schema.GroupVersionKind) (msg, sugg string, known bool) {
	gv := gvk.GroupVersion()
	builtin := scheme.Scheme.IsVersionRegistered(gv)
	if !builtin && !groupKnown(gv.Group) && !r.crdGroupKnown(gv.Group) {
		return fmt.Sprintf("%s %s: the group %q is not known here, so whether the cluster serves it cannot be checked offline", gv, gvk.Kind, gv.Group),
			"use apiVersion v1 and kind List", false
	}
	if gvk.Kind == "List" {
		if builtin || r.crdServes(gv, "") {
			return "", "", true
		}
		return fmt.Sprintf("no List in %s: that group version is not served", gv), "use apiVersion v1 for a List", true
	}
	item := strings.TrimSuffix(gvk.Kind, "List")
	if (builtin && scheme.Scheme.Recognizes(gv.WithKind(item)) && !strings.HasSuffix(item, "List")) || r.crdServes(gv, item) {
		return "", "", true
	}
	return fmt.Sprintf("no kind %q is served in %s, so there is no %s", item, gv, gvk.Kind),
		"use apiVersion v1 and kind List for a list of objects of any kind", true
}

func (r *run) crdGroupKnown(group string) bool {
	if r.v.crdGroups[group] {
		return true
	}
	for gk := range r.extra {
		if gk.Group == group {
			return true
		}
	}
	return false
}

// crdServes reports whether a known CRD serves kind (any kind when "") in gv.
func (r *run) crdServes(gv schema.GroupVersion, kind string) bool {
	served := func(info *crdInfo) bool {
		v := info.versions[gv.Version]
		return info.gk.Group == gv.Group && (kind == "" || info.gk.Kind == kind) && v != nil && v.served
	}
	for _, info := range r.extra {
		if served(info) {
			return true
		}
	}
	for _, info := range r.v.crds {
		if served(info) {
			return true
		}
	}
	return false
}
