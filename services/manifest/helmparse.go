package manifest

import (
	"sort"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	yaml "go.yaml.in/yaml/v3"
)

// ParseHelmRelease reads a HelmRelease object (YAML or JSON, as the API
// server returns it); source, when given, is its chart's HelmRepository or
// GitRepository object.
func ParseHelmRelease(obj, source []byte) (*HelmRelease, error) {
	root, err := objectRoot(obj)
	if err != nil {
		return nil, err
	}
	md := mapValue(root, "metadata")
	o := &builtObj{kind: scalarAt(root, "kind"), name: scalarAt(md, "name"), namespace: scalarAt(md, "namespace"), root: root}
	if o.kind != "HelmRelease" {
		return nil, model.Errorf(model.CodeBadRequest, "not a HelmRelease: kind %q", o.kind)
	}
	rel, err := releaseOf(o)
	if err != nil {
		return nil, err
	}
	if len(source) > 0 {
		if sr, err := objectRoot(source); err == nil {
			sourceFrom(sr, &rel.Source)
		}
	}
	return rel, nil
}

func objectRoot(b []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, model.Errorf(model.CodeYAMLInvalid, "parse object: %v", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, model.Errorf(model.CodeYAMLInvalid, "parse object: not a mapping")
	}
	return doc.Content[0], nil
}

// NormalizeRendered re-writes a rendered manifest so that two renderings
// compare by content: every object re-marshalled with sorted keys (Helm's
// "# Source:" comments and formatting dropped), without the given labels
// (helm-controller's post-renderer adds helm.toolkit.fluxcd.io/name and
// /namespace to what it installs).
func NormalizeRendered(manifest string, dropLabels ...string) (string, error) {
	objs, err := splitRendered(manifest)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, id := range sortedIDs(objs) {
		var v map[string]any
		if err := objs[id].root.Decode(&v); err != nil {
			return "", model.Errorf(model.CodeYAMLInvalid, "rendered %s: %v", id, err)
		}
		if md, ok := v["metadata"].(map[string]any); ok {
			if ls, ok := md["labels"].(map[string]any); ok {
				for _, l := range dropLabels {
					delete(ls, l)
				}
				if len(ls) == 0 {
					delete(md, "labels")
				}
			}
		}
		out, err := yaml.Marshal(v)
		if err != nil {
			return "", model.Wrap(model.CodeInternal, err, "marshal "+id)
		}
		b.WriteString("---\n")
		b.Write(out)
	}
	return b.String(), nil
}

func sortedIDs(m map[string]*renderedObj) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
