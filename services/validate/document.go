package validate

import (
	"context"
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes/scheme"
)

// docCtx is one object being checked: a document, or an item of a List.
type docCtx struct {
	d          *document // for an item: root is the item's node, json its JSON
	gvk        schema.GroupVersionKind
	name, ns   string
	namespaced bool
	// For an item of a List: its field path in the document ("items[1]"),
	// how messages name it ("items[1] (Deployment/web)"), and the kind and
	// apiVersion kubectl gives it when it has neither (those of an XList).
	path, label                    string
	defaultAPIVersion, defaultKind string
}

func (c *docCtx) issue(path, msg, suggestion string) Issue {
	return c.issueAt(path, false, msg, suggestion)
}

func (c *docCtx) issueAt(path string, preferValue bool, msg, suggestion string) Issue {
	p := locate(c.d.root, path, preferValue)
	if c.label != "" {
		msg = c.label + ": " + msg
	}
	return Issue{Document: c.d.index, Line: p.line, Column: p.column, Field: joinFieldPath(c.path, path), Kind: c.gvk.Kind, Name: c.name, Message: msg, Suggestion: suggestion}
}

// joinFieldPath appends field path p to base ("items[1]" + "spec.replicas").
func joinFieldPath(base, p string) string {
	switch {
	case base == "":
		return p
	case p == "":
		return base
	case strings.HasPrefix(p, "["):
		return base + p
	}
	return base + "." + p
}

func (r *run) errorAt(c *docCtx, path, msg, suggestion string) {
	r.add(false, c.issue(path, msg, suggestion))
}

func (r *run) warnAt(c *docCtx, path, msg, suggestion string) {
	r.add(true, c.issue(path, msg, suggestion))
}

// fieldErrors reports API-server style field errors.
func (r *run) fieldErrors(c *docCtx, errs field.ErrorList) {
	for _, e := range errs {
		msg := e.ErrorBody()
		if e.Field != "" && e.Field != "<nil>" {
			msg = e.Field + ": " + msg
		}
		path := e.Field
		if path == "<nil>" {
			path = ""
		}
		value := e.Type == field.ErrorTypeInvalid || e.Type == field.ErrorTypeNotSupported || e.Type == field.ErrorTypeTypeInvalid
		r.add(false, c.issueAt(path, value, msg, suggestionFor(e)))
	}
}

func scalarString(n *yaml.Node) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return "", false
	}
	return n.Value, true
}

// document checks one parsed document.
func (r *run) document(ctx context.Context, d *document) {
	if d.root.Kind != yaml.MappingNode {
		r.add(false, Issue{Document: d.index, Line: d.root.Line, Column: d.root.Column,
			Message:    "document is not a Kubernetes object (expected a mapping with apiVersion, kind and metadata)",
			Suggestion: "each document must be one object; use a List kind for several"})
		return
	}
	if r.kustomizeConfig(d) {
		r.kustomization(&docCtx{d: d})
		return
	}
	r.object(ctx, &docCtx{d: d})
}

// object checks one object, a document or an item of a List: its
// apiVersion and kind, then the object as its kind defines it.
func (r *run) object(ctx context.Context, c *docCtx) {
	root := c.d.root
	apiVersion, okV := scalarString(fieldNode(root, "apiVersion"))
	kind, okK := scalarString(fieldNode(root, "kind"))
	if c.defaultKind != "" && fieldNode(root, "apiVersion") == nil && fieldNode(root, "kind") == nil {
		apiVersion, kind, okV, okK = c.defaultAPIVersion, c.defaultKind, true, true
	}
	c.name, _ = scalarString(fieldNode(root, "metadata", "name"))
	c.ns, _ = scalarString(fieldNode(root, "metadata", "namespace"))
	if c.path != "" {
		c.label = itemLabel(c.path, kind, c.name)
	}
	if !okV || apiVersion == "" {
		r.errorAt(c, "apiVersion", "apiVersion not set", "add apiVersion, e.g. apps/v1 for a Deployment")
	}
	if !okK || kind == "" {
		r.errorAt(c, "kind", "kind not set", "add kind, e.g. Deployment")
	}
	if !okV || !okK || apiVersion == "" || kind == "" {
		return
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		r.errorAt(c, "apiVersion", fmt.Sprintf("apiVersion %q is not GROUP/VERSION: %v", apiVersion, err), "")
		return
	}
	c.gvk = gv.WithKind(kind)
	if isList(c.gvk, root) {
		r.list(ctx, c)
		return
	}
	r.kind(ctx, c)
}

// kind checks an object by what its group, version and kind are: a CRD,
// a custom resource, a built-in object or an unknown kind.
func (r *run) kind(ctx context.Context, c *docCtx) {
	gv, kind := c.gvk.GroupVersion(), c.gvk.Kind
	if gv.Group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition" {
		r.crdDocument(c)
		return
	}
	if info := r.crdFor(c.gvk.GroupKind()); info != nil {
		r.custom(ctx, c, info)
		return
	}
	if scheme.Scheme.IsVersionRegistered(gv) || groupKnown(gv.Group) {
		r.builtin(c)
		return
	}
	if r.v.crdGroups[gv.Group] {
		r.errorAt(c, "kind", fmt.Sprintf("no kind %q in group %q: the installed CRDs define %s", kind, gv.Group, strings.Join(r.v.kindsOf(gv.Group), ", ")),
			"check the spelling of kind")
		return
	}
	apiVersion := gv.String()
	if to, ok := retiredFlux[apiVersion]; ok {
		r.warnAt(c, "apiVersion", fmt.Sprintf("%s is a deprecated Flux API (current Flux releases no longer serve it)", apiVersion),
			"migrate to apiVersion "+to+" (`flux migrate` rewrites manifests)")
	}
	r.warnAt(c, "kind", fmt.Sprintf("%s %s is not a built-in kind and no CRD for it is known: it cannot be checked offline", apiVersion, kind),
		"include its CustomResourceDefinition in the input to have it checked, or check it against the cluster with kubectl apply --dry-run=server")
	r.duplicate(c)
}

// groupKnown reports whether any version of group is a built-in API group.
func groupKnown(group string) bool {
	for _, gv := range scheme.Scheme.PrioritizedVersionsAllGroups() {
		if gv.Group == group {
			return true
		}
	}
	return false
}

func (r *run) crdFor(gk schema.GroupKind) *crdInfo {
	if info, ok := r.extra[gk]; ok {
		return info
	}
	return r.v.crds[gk]
}

// duplicate warns when an object with the same group, kind, namespace and
// name appeared earlier in the input.
func (r *run) duplicate(c *docCtx) {
	if c.name == "" {
		return
	}
	ns := c.ns
	if !c.namespaced {
		ns = ""
	}
	key := object{gk: c.gvk.GroupKind(), namespace: ns, name: c.name}
	if first, ok := r.seen[key]; ok {
		where := c.name
		if ns != "" {
			where = ns + "/" + c.name
		}
		r.warnAt(c, "metadata.name", fmt.Sprintf("duplicate object: %s %s is also defined in document %d (line %d)", c.gvk.Kind, where, first.Document, first.Line),
			"keep one definition; when both are applied the last one silently wins")
		return
	}
	r.seen[key] = c.issue("metadata.name", "", "")
}

// suggestionFor gives a hint for common API-server field errors.
func suggestionFor(e *field.Error) string {
	switch e.Type {
	case field.ErrorTypeRequired:
		return "add " + lastField(e.Field)
	case field.ErrorTypeNotSupported:
		return "use one of the supported values"
	case field.ErrorTypeDuplicate:
		return "make the value unique"
	}
	return ""
}

func lastField(p string) string {
	if i := strings.LastIndexAny(p, ".]"); i >= 0 && i+1 < len(p) {
		return p[i+1:]
	}
	return p
}
