package fluxbundle

import (
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gitopstui/gitopstui/model"
)

// registryPattern is a registry host (with optional port) and an optional
// repository path, without scheme, tag or digest: "registry.local:5000/fluxcd".
var registryPattern = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*/?$`)

func (o Options) validate() error {
	fields := model.FieldErrors{}
	if o.Namespace != "" {
		if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
			fields.Add("namespace", strings.Join(errs, "; "))
		}
	}
	if o.Registry != "" && !registryPattern.MatchString(o.Registry) {
		fields.Add("registry", "must be a registry host with an optional port and path, such as registry.local:5000/fluxcd, without scheme, tag or digest")
	}
	return fields.Err()
}

// isSuffixedKind tells the kinds that `flux install` names with a
// -<namespace> suffix (its roles kustomization uses nameSuffix).
func isSuffixedKind(kind string) bool {
	return kind == "ClusterRole" || kind == "ClusterRoleBinding" || kind == "ResourceQuota"
}

// rewriteNamespace moves one object of an install written for namespace from
// into namespace to.
func rewriteNamespace(o *unstructured.Unstructured, from, to string) {
	kind := o.GetKind()
	if kind == "Namespace" && o.GetName() == from {
		o.SetName(to)
	}
	if o.GetNamespace() == from {
		o.SetNamespace(to)
	}
	if isSuffixedKind(kind) && strings.HasSuffix(o.GetName(), "-"+from) {
		o.SetName(strings.TrimSuffix(o.GetName(), "-"+from) + "-" + to)
	}
	if labels := o.GetLabels(); labels[LabelInstance] == from {
		labels[LabelInstance] = to
		o.SetLabels(labels)
	}
	if tmpl, ok, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "metadata", "labels"); ok && tmpl[LabelInstance] == from {
		tmpl[LabelInstance] = to
		_ = unstructured.SetNestedStringMap(o.Object, tmpl, "spec", "template", "metadata", "labels")
	}
	switch kind {
	case "ClusterRoleBinding", "RoleBinding":
		if ref, ok, _ := unstructured.NestedString(o.Object, "roleRef", "name"); ok && strings.HasSuffix(ref, "-"+from) {
			_ = unstructured.SetNestedField(o.Object, strings.TrimSuffix(ref, "-"+from)+"-"+to, "roleRef", "name")
		}
		subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
		for _, s := range subjects {
			if m, ok := s.(map[string]any); ok && m["namespace"] == from {
				m["namespace"] = to
			}
		}
		if subjects != nil {
			_ = unstructured.SetNestedSlice(o.Object, subjects, "subjects")
		}
	case "CustomResourceDefinition":
		if ns, ok, _ := unstructured.NestedString(o.Object, "spec", "conversion", "webhook", "clientConfig", "service", "namespace"); ok && ns == from {
			_ = unstructured.SetNestedField(o.Object, to, "spec", "conversion", "webhook", "clientConfig", "service", "namespace")
		}
	case "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration":
		hooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
		for _, h := range hooks {
			m, ok := h.(map[string]any)
			if !ok {
				continue
			}
			if ns, ok, _ := unstructured.NestedString(m, "clientConfig", "service", "namespace"); ok && ns == from {
				_ = unstructured.SetNestedField(m, to, "clientConfig", "service", "namespace")
			}
		}
		if hooks != nil {
			_ = unstructured.SetNestedSlice(o.Object, hooks, "webhooks")
		}
	}
}

// podSpecPath is where a workload kind keeps its pod spec (nil: not a workload).
func podSpecPath(kind string) []string {
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		return []string{"spec", "template", "spec"}
	case "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	case "Pod":
		return []string{"spec"}
	}
	return nil
}

// rewriteRegistry pulls every container image of a workload from registry:
// the image's repository path before its last element is replaced.
func rewriteRegistry(o *unstructured.Unstructured, registry string) error {
	p := podSpecPath(o.GetKind())
	if p == nil {
		return nil
	}
	for _, field := range []string{"initContainers", "containers"} {
		path := append(append([]string{}, p...), field)
		containers, found, err := unstructured.NestedSlice(o.Object, path...)
		if err != nil || !found {
			continue
		}
		for _, c := range containers {
			m, ok := c.(map[string]any)
			if !ok {
				continue
			}
			if img, ok := m["image"].(string); ok && img != "" {
				m["image"] = registry + "/" + imageBase(img)
			}
		}
		if err := unstructured.SetNestedSlice(o.Object, containers, path...); err != nil {
			return model.Wrap(model.CodeInternal, err, "rewrite images of "+o.GetKind()+" "+o.GetName())
		}
	}
	return nil
}

// imageBase is an image reference without its registry and repository path:
// "ghcr.io/fluxcd/source-controller:v1.9.5" -> "source-controller:v1.9.5".
func imageBase(image string) string {
	name := image
	suffix := ""
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, suffix = name[:i], name[i:]
	}
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return name + suffix
}

// splitImage splits "repo/name:tag@digest" into repository, tag and digest.
func splitImage(image string) (repo, tag, digest string) {
	repo = image
	if i := strings.IndexByte(repo, '@'); i >= 0 {
		repo, digest = repo[:i], repo[i+1:]
	}
	if i := strings.LastIndexByte(repo, ':'); i >= 0 && i > strings.LastIndexByte(repo, '/') {
		repo, tag = repo[:i], repo[i+1:]
	}
	return repo, tag, digest
}
