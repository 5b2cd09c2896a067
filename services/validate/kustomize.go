package validate

import (
	"fmt"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/kustomize/api/types"
)

// kustomizeGroup is the API group of kustomize's own kinds.
const kustomizeGroup = "kustomize.config.k8s.io"

// kustomizeConfig reports whether d is kustomize's own config rather than
// an API object: its apiVersion is in kustomize.config.k8s.io (whatever the
// kind: kustomize says which kinds are its), or, in a kustomization file,
// it has no apiVersion and its kind is Kustomization, Component or none.
func (r *run) kustomizeConfig(d *document) bool {
	apiVersion, _ := scalarString(fieldNode(d.root, "apiVersion"))
	kind, _ := scalarString(fieldNode(d.root, "kind"))
	if gv, err := schema.ParseGroupVersion(apiVersion); err == nil && apiVersion != "" && gv.Group == kustomizeGroup {
		return true
	}
	return r.kustomizeFile && apiVersion == "" && (kind == "" || kind == types.KustomizationKind || kind == types.ComponentKind)
}

// deprecatedKustomize are the fields kustomize warns about, with what
// replaces each.
var deprecatedKustomize = []struct{ field, use string }{
	{"bases", "resources"},
	{"commonLabels", "labels"},
	{"imageTags", "images"},
	{"patchesJson6902", "patches"},
	{"patchesStrategicMerge", "patches"},
	{"vars", "replacements"},
}

// kustomization checks a Kustomization or Component the way kustomize
// build reads it: kustomize's own decoding (unknown fields and wrong types
// are errors, reported at their lines), its kind and apiVersion rules and
// its refusal of an empty kustomization; deprecated fields are warnings.
func (r *run) kustomization(c *docCtx) {
	kind, _ := scalarString(fieldNode(c.d.root, "kind"))
	apiVersion, _ := scalarString(fieldNode(c.d.root, "apiVersion"))
	gv, _ := schema.ParseGroupVersion(apiVersion)
	c.gvk = gv.WithKind(kind)
	for _, f := range deprecatedKustomize {
		if fieldNode(c.d.root, f.field) != nil {
			r.warnAt(c, f.field, fmt.Sprintf("%s is deprecated in kustomize", f.field),
				fmt.Sprintf("use %s instead (`kustomize edit fix` rewrites it)", f.use))
		}
	}
	var k types.Kustomization
	if err := k.Unmarshal(c.d.json); err != nil {
		r.kustomizeDecodeErrors(c, err)
		return
	}
	for _, msg := range k.EnforceFields() {
		path := "kind"
		if strings.HasPrefix(msg, "apiVersion") {
			path = "apiVersion"
		}
		r.errorAt(c, path, msg, "kustomize.config.k8s.io defines Kustomization (v1beta1) and Component (v1alpha1)")
	}
	if err := k.CheckEmpty(); err != nil {
		r.errorAt(c, "", err.Error(), "list resources, components, patches or generators; kustomize build refuses an empty kustomization")
	}
}

// kustomizeDecodeErrors reports why kustomize does not decode the
// document: each unknown field and wrong type at its own line, else
// kustomize's own message at the document.
func (r *run) kustomizeDecodeErrors(c *docCtx, err error) {
	var found []typeErr
	t := reflect.TypeOf(types.Kustomization{})
	walkTypes(c.d.root, t, "", &found, 0)
	reported := false
	for _, f := range found {
		msg := strings.TrimPrefix(f.err.Error(), "json: ")
		if m := jsonTypeErrRE.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("wrong type: must be %s, not %s", goTypeName(m[2]), m[1])
		}
		if f.unknown {
			if caseOnly(lastField(f.path), siblingFields(t, f.path)) {
				continue // kustomize's decoder matches field names in any case
			}
			sugg := "remove it or fix its spelling; kustomize build rejects unknown fields"
			if alt := closest(lastField(f.path), siblingFields(t, f.path)); alt != "" {
				sugg = fmt.Sprintf("did you mean %q?", alt)
			}
			r.errorAt(c, f.path, msg, sugg)
		} else {
			r.add(false, c.issueAt(f.path, true, f.path+": "+msg, ""))
		}
		reported = true
	}
	if !reported {
		r.errorAt(c, "", err.Error(), "")
	}
}

// caseOnly reports whether name is one of fields but for case.
func caseOnly(name string, fields []string) bool {
	for _, f := range fields {
		if strings.EqualFold(f, name) {
			return true
		}
	}
	return false
}
