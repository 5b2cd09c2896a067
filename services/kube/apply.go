package kube

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gitopstui/gitopstui/model"
)

// FieldManager is the server-side apply field manager of every object gitopstui writes.
const FieldManager = "gitopstui"

// CRDGVR is the resource of CustomResourceDefinitions.
var CRDGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// FluxPartOf is the label selector of Flux's own objects.
const FluxPartOf = "app.kubernetes.io/part-of=flux"

// GVROf maps the kinds a Flux install carries to their resources.
func GVROf(gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, error) {
	kinds := map[string]struct {
		resource   string
		namespaced bool
	}{
		"CustomResourceDefinition": {"customresourcedefinitions", false},
		"Namespace":                {"namespaces", false},
		"ClusterRole":              {"clusterroles", false},
		"ClusterRoleBinding":       {"clusterrolebindings", false},
		"ServiceAccount":           {"serviceaccounts", true},
		"Service":                  {"services", true},
		"Deployment":               {"deployments", true},
		"NetworkPolicy":            {"networkpolicies", true},
		"ResourceQuota":            {"resourcequotas", true},
		"Role":                     {"roles", true},
		"RoleBinding":              {"rolebindings", true},
		"ConfigMap":                {"configmaps", true},
		"Secret":                   {"secrets", true},
		"GitRepository":            {"gitrepositories", true},
		"HelmRepository":           {"helmrepositories", true},
		"OCIRepository":            {"ocirepositories", true},
		"Kustomization":            {"kustomizations", true},
		"HelmRelease":              {"helmreleases", true},
	}
	k, ok := kinds[gvk.Kind]
	if !ok {
		return schema.GroupVersionResource{}, false, model.Errorf(model.CodeBadRequest, "gitopstui does not apply objects of kind %s", gvk.Kind)
	}
	return gvk.GroupVersion().WithResource(k.resource), k.namespaced, nil
}

// Apply server-side applies one object with field manager gitopstui.
func Apply(ctx context.Context, dyn dynamic.Interface, o *unstructured.Unstructured) error {
	gvr, namespaced, err := GVROf(o.GroupVersionKind())
	if err != nil {
		return err
	}
	var ri dynamic.ResourceInterface = dyn.Resource(gvr)
	if namespaced {
		ri = dyn.Resource(gvr).Namespace(o.GetNamespace())
	}
	_, err = ri.Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
	return Error(err, fmt.Sprintf("apply %s %s", o.GetKind(), o.GetName()))
}

// FluxCRDs lists the CRDs labelled part-of=flux (nil when Flux is absent).
func FluxCRDs(ctx context.Context, k Kube) ([]unstructured.Unstructured, error) {
	l, err := k.Dyn.Resource(CRDGVR).List(ctx, metav1.ListOptions{LabelSelector: FluxPartOf})
	if err != nil {
		return nil, Error(err, "list Flux CRDs")
	}
	return l.Items, nil
}

// RequireFlux answers FLUX_NOT_INSTALLED when the cluster has no Flux CRDs.
func RequireFlux(ctx context.Context, k Kube, c model.Cluster) error {
	crds, err := FluxCRDs(ctx, k)
	if err != nil {
		return err
	}
	if len(crds) == 0 {
		return model.Errorf(model.CodeFluxNotInstalled, "Flux is not installed on cluster %s: run gitops.installFlux first", c.ID).WithDetail("clusterId", c.ID)
	}
	return nil
}
