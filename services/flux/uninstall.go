package flux

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/services/kube"
)

// fluxOwnedNamespaced are the namespaced kinds of a Flux install, deleted first.
var fluxOwnedNamespaced = []schema.GroupVersionResource{
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Version: "v1", Resource: "services"},
	{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
	{Version: "v1", Resource: "serviceaccounts"},
	{Version: "v1", Resource: "resourcequotas"},
}

var fluxOwnedCluster = []schema.GroupVersionResource{
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
}

// crdResource returns the group/resource and storage version a CRD serves.
func crdResource(u *unstructured.Unstructured) (schema.GroupVersionResource, bool) {
	group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(u.Object, "spec", "names", "plural")
	vers, _, _ := unstructured.NestedSlice(u.Object, "spec", "versions")
	version := ""
	for _, v := range vers {
		m, _ := v.(map[string]any)
		if m["storage"] == true {
			version, _ = m["name"].(string)
		}
	}
	return schema.GroupVersionResource{Group: group, Version: version, Resource: plural}, group != "" && plural != "" && version != ""
}

// uninstallFlux implements gitops.uninstallFlux in `flux uninstall`'s order:
// controllers and RBAC, then Flux finalizers off every Flux object (so the
// objects they applied stay), then the CRDs; the namespace only when asked.
func (s *Flux) uninstallFlux(ctx context.Context, in api.UninstallFluxInput) (api.UninstallFluxResult, error) {
	k, c, err := s.kube.For(in.ClusterID)
	if err != nil {
		return api.UninstallFluxResult{}, err
	}
	if err := kube.CheckReachable(ctx, k, c); err != nil {
		return api.UninstallFluxResult{}, err
	}
	crds, err := kube.FluxCRDs(ctx, k)
	if err != nil {
		return api.UninstallFluxResult{}, err
	}
	if len(crds) == 0 {
		return api.UninstallFluxResult{}, model.Errorf(model.CodeFluxNotInstalled, "Flux is not installed on cluster %s", c.ID).WithDetail("clusterId", c.ID)
	}
	ns := crds[0].GetLabels()["app.kubernetes.io/instance"]
	if ns == "" {
		ns = fluxbundle.DefaultNamespace
	}
	need := uninstallAccess(crds, ns, in.DeleteNamespace)
	if err := kube.CheckAccess(ctx, k.CS, need); err != nil {
		return api.UninstallFluxResult{}, err
	}
	res := api.UninstallFluxResult{Namespace: ns, Deleted: []string{}}
	bg := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{PropagationPolicy: &bg}
	if err := deleteControllers(ctx, k, ns, del, &res); err != nil {
		return res, err
	}
	for i := range crds {
		gvr, ok := crdResource(&crds[i])
		if !ok {
			continue
		}
		n, err := removeFluxFinalizers(ctx, k, gvr)
		if err != nil {
			return res, err
		}
		res.FinalizersRemoved += n
	}
	for i := range crds {
		if err := k.Dyn.Resource(kube.CRDGVR).Delete(ctx, crds[i].GetName(), del); err != nil && model.CodeOf(kube.Error(err, "")) != model.CodeNotFound {
			return res, kube.Error(err, "delete CRD "+crds[i].GetName())
		}
		res.Deleted = append(res.Deleted, "CustomResourceDefinition/"+crds[i].GetName())
	}
	if err := waitCRDsGone(ctx, k); err != nil {
		return res, err
	}
	if in.DeleteNamespace {
		err := k.CS.CoreV1().Namespaces().Delete(ctx, ns, del)
		if err != nil && model.CodeOf(kube.Error(err, "")) != model.CodeNotFound {
			return res, kube.Error(err, "delete namespace "+ns)
		}
		res.NamespaceDeleted = true
	}
	res.Success = true
	return res, nil
}

// removeFluxFinalizers drops the finalizers.fluxcd.io finalizer from every
// object of a Flux kind, keeping any other finalizers.
func removeFluxFinalizers(ctx context.Context, k kube.Kube, gvr schema.GroupVersionResource) (int, error) {
	l, err := k.Dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, kube.Error(err, "list "+gvr.Resource)
	}
	n := 0
	for _, o := range l.Items {
		fins := o.GetFinalizers()
		keep := make([]string, 0, len(fins))
		for _, f := range fins {
			if !strings.Contains(f, "fluxcd.io") {
				keep = append(keep, f)
			}
		}
		if len(keep) == len(fins) {
			continue
		}
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": keep, "resourceVersion": o.GetResourceVersion()}})
		_, err := k.Dyn.Resource(gvr).Namespace(o.GetNamespace()).Patch(ctx, o.GetName(), types.MergePatchType, patch, metav1.PatchOptions{})
		if err != nil && model.CodeOf(kube.Error(err, "")) != model.CodeNotFound {
			return n, kube.Error(err, fmt.Sprintf("remove finalizers of %s %s/%s", gvr.Resource, o.GetNamespace(), o.GetName()))
		}
		n++
	}
	return n, nil
}

// waitCRDsGone waits (bounded) until the API server has removed the deleted
// Flux CRDs, so that the cluster reads as "not installed" when uninstall returns.
func waitCRDsGone(ctx context.Context, k kube.Kube) error {
	ctx, cancel := context.WithTimeout(ctx, establishTimeout)
	defer cancel()
	for {
		crds, err := kube.FluxCRDs(ctx, k)
		if err != nil || len(crds) == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return model.Errorf(model.CodeInternal, "Flux CRDs still terminating after %s: %s", establishTimeout, crds[0].GetName())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// uninstallAccess is what uninstallFlux needs: delete Flux's controllers and
// RBAC, its CRDs (and the namespace when asked), list and patch every Flux
// object to drop its finalizers.
func uninstallAccess(crds []unstructured.Unstructured, ns string, deleteNamespace bool) []kube.Access {
	var need []kube.Access
	for _, gvr := range fluxOwnedNamespaced {
		need = append(need, kube.Access{Verb: "delete", Group: gvr.Group, Resource: gvr.Resource, Namespace: ns})
	}
	for _, gvr := range fluxOwnedCluster {
		need = append(need, kube.Access{Verb: "delete", Group: gvr.Group, Resource: gvr.Resource})
	}
	need = append(need, kube.Access{Verb: "delete", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"})
	for i := range crds {
		if gvr, ok := crdResource(&crds[i]); ok {
			need = append(need, kube.Access{Verb: "list", Group: gvr.Group, Resource: gvr.Resource}, kube.Access{Verb: "patch", Group: gvr.Group, Resource: gvr.Resource})
		}
	}
	if deleteNamespace {
		need = append(need, kube.Access{Verb: "delete", Resource: "namespaces"})
	}
	return need
}

// deleteControllers deletes Flux's namespaced and cluster-wide objects
// (controllers, services, RBAC), recording each in res.Deleted.
func deleteControllers(ctx context.Context, k kube.Kube, ns string, del metav1.DeleteOptions, res *api.UninstallFluxResult) error {
	sel := metav1.ListOptions{LabelSelector: kube.FluxPartOf}
	for _, gvr := range fluxOwnedNamespaced {
		l, err := k.Dyn.Resource(gvr).Namespace(ns).List(ctx, sel)
		if err != nil {
			return kube.Error(err, "list "+gvr.Resource)
		}
		for _, o := range l.Items {
			if err := k.Dyn.Resource(gvr).Namespace(ns).Delete(ctx, o.GetName(), del); err != nil && model.CodeOf(kube.Error(err, "")) != model.CodeNotFound {
				return kube.Error(err, "delete "+o.GetKind()+" "+o.GetName())
			}
			res.Deleted = append(res.Deleted, o.GetKind()+"/"+ns+"/"+o.GetName())
		}
	}
	for _, gvr := range fluxOwnedCluster {
		l, err := k.Dyn.Resource(gvr).List(ctx, sel)
		if err != nil {
			return kube.Error(err, "list "+gvr.Resource)
		}
		for _, o := range l.Items {
			if err := k.Dyn.Resource(gvr).Delete(ctx, o.GetName(), del); err != nil && model.CodeOf(kube.Error(err, "")) != model.CodeNotFound {
				return kube.Error(err, "delete "+o.GetKind()+" "+o.GetName())
			}
			res.Deleted = append(res.Deleted, o.GetKind()+"/"+o.GetName())
		}
	}
	return nil
}
