package services

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
)

// FieldManager is the server-side apply field manager of every object gitopstui writes.
const FieldManager = "gitopstui"

// establishTimeout bounds the wait for installed CRDs to be Established.
const establishTimeout = 60 * time.Second

func (s *Services) registerFlux(r *Registry) {
	bind(r, api.InstallFlux, s.InstallFlux)
	bind(r, api.CheckFluxHealth, s.CheckFluxHealth)
	bind(r, api.UninstallFlux, s.UninstallFlux)
}

// kube is the set of clients of one cluster.
type kube struct {
	cfg *rest.Config
	cs  kubernetes.Interface
	dyn dynamic.Interface
}

func (s *Services) kubeFor(clusterID string) (kube, model.Cluster, error) {
	c, err := s.cluster(clusterID)
	if err != nil {
		return kube{}, c, err
	}
	cfg, err := s.RESTConfig(c)
	if err != nil {
		return kube{}, c, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return kube{}, c, model.Wrap(model.CodeK3sNotReady, err, "cluster "+c.ID)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return kube{}, c, model.Wrap(model.CodeK3sNotReady, err, "cluster "+c.ID)
	}
	return kube{cfg: cfg, cs: cs, dyn: dyn}, c, nil
}

// checkReachable answers K3S_NOT_READY when the API server does not answer.
func checkReachable(ctx context.Context, k kube, c model.Cluster) error {
	if _, err := serverVersion(ctx, k.cs); err != nil {
		return model.Wrap(model.CodeK3sNotReady, err, fmt.Sprintf("cluster %s (%s) is not reachable", c.ID, k.cfg.Host)).
			WithDetail("clusterId", c.ID).WithDetail("server", k.cfg.Host)
	}
	return nil
}

// checkNodesReady answers K3S_NOT_READY when no node is Ready.
func checkNodesReady(ctx context.Context, k kube, c model.Cluster) error {
	nodes, err := k.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return kubeError(err, "list nodes of cluster "+c.ID)
	}
	for i := range nodes.Items {
		if nodeReady(&nodes.Items[i]) {
			return nil
		}
	}
	return model.Errorf(model.CodeK3sNotReady, "cluster %s has no Ready node (%d node(s))", c.ID, len(nodes.Items)).
		WithDetail("clusterId", c.ID).WithDetail("nodes", len(nodes.Items))
}

// access is one permission a procedure needs.
type access struct {
	Verb      string `json:"verb"`
	Group     string `json:"group"`
	Resource  string `json:"resource"`
	Namespace string `json:"namespace,omitempty"`
}

func (a access) String() string {
	r := a.Resource
	if a.Group != "" {
		r += "." + a.Group
	}
	if a.Namespace != "" {
		return a.Verb + " " + r + " in " + a.Namespace
	}
	return a.Verb + " " + r
}

// checkAccess asks the API server (SelfSubjectAccessReview) for each permission
// and answers INSUFFICIENT_PERMISSIONS listing the missing ones.
func checkAccess(ctx context.Context, cs kubernetes.Interface, need []access) error {
	type res struct {
		a       access
		allowed bool
		err     error
	}
	out := make([]res, len(need))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, a := range need {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
				Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
					Verb: a.Verb, Group: a.Group, Resource: a.Resource, Namespace: a.Namespace,
				}},
			}, metav1.CreateOptions{})
			out[i] = res{a: a, err: err, allowed: err == nil && r.Status.Allowed}
		}()
	}
	wg.Wait()
	var missing []access
	for _, r := range out {
		if r.err != nil {
			return kubeError(r.err, "check permissions")
		}
		if !r.allowed {
			missing = append(missing, r.a)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	names := make([]string, len(missing))
	for i, m := range missing {
		names[i] = m.String()
	}
	return model.Errorf(model.CodeInsufficientPermission, "missing permissions: %s", strings.Join(names, "; ")).
		WithDetail("missing", missing)
}

// gvrOf maps the kinds a Flux install carries to their resources.
func gvrOf(gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, error) {
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

// installAccess lists create/patch/get for every resource the objects need.
func installAccess(objs []*unstructured.Unstructured) ([]access, error) {
	seen := map[access]bool{}
	var need []access
	add := func(a access) {
		if !seen[a] {
			seen[a] = true
			need = append(need, a)
		}
	}
	for _, o := range objs {
		gvr, namespaced, err := gvrOf(o.GroupVersionKind())
		if err != nil {
			return nil, err
		}
		ns := ""
		if namespaced {
			ns = o.GetNamespace()
		}
		for _, verb := range []string{"get", "create", "patch"} {
			add(access{Verb: verb, Group: gvr.Group, Resource: gvr.Resource, Namespace: ns})
		}
	}
	add(access{Verb: "list", Resource: "nodes"})
	return need, nil
}

func (s *Services) loadBundle(in api.InstallFluxInput) (*fluxbundle.Bundle, error) {
	if in.ManifestsPath == "" {
		return fluxbundle.Load(in.Version)
	}
	data, err := os.ReadFile(in.ManifestsPath)
	if err != nil {
		fe := model.FieldErrors{}
		fe.Add("manifestsPath", err.Error())
		return nil, fe.Err()
	}
	return fluxbundle.FromManifests(data)
}

// fluxCRDs lists the CRDs labelled part-of=flux (nil when Flux is absent).
func fluxCRDs(ctx context.Context, k kube) ([]unstructured.Unstructured, error) {
	l, err := k.dyn.Resource(crdGVR).List(ctx, metav1.ListOptions{LabelSelector: fluxPartOf})
	if err != nil {
		return nil, kubeError(err, "list Flux CRDs")
	}
	return l.Items, nil
}

// InstallFlux implements gitops.installFlux: reachability, permissions (SSAR),
// a Ready node and no existing install are checked before anything is written;
// then CRDs are applied server-side and Established before the rest.
func (s *Services) InstallFlux(ctx context.Context, in api.InstallFluxInput) (api.InstallFluxResult, error) {
	b, err := s.loadBundle(in)
	if err != nil {
		return api.InstallFluxResult{}, err
	}
	opts := fluxbundle.Options{Namespace: in.Namespace, Registry: in.Registry}
	objs, err := b.Objects(opts)
	if err != nil {
		return api.InstallFluxResult{}, err
	}
	ns := b.Namespace
	if in.Namespace != "" {
		ns = in.Namespace
	}
	k, c, err := s.kubeFor(in.ClusterID)
	if err != nil {
		return api.InstallFluxResult{}, err
	}
	if err := checkReachable(ctx, k, c); err != nil {
		return api.InstallFluxResult{}, err
	}
	need, err := installAccess(objs)
	if err != nil {
		return api.InstallFluxResult{}, err
	}
	if err := checkAccess(ctx, k.cs, need); err != nil {
		return api.InstallFluxResult{}, err
	}
	if err := checkNodesReady(ctx, k, c); err != nil {
		return api.InstallFluxResult{}, err
	}
	existing, err := fluxCRDs(ctx, k)
	if err != nil {
		return api.InstallFluxResult{}, err
	}
	if len(existing) > 0 {
		l := existing[0].GetLabels()
		return api.InstallFluxResult{}, model.Errorf(model.CodeFluxAlreadyInstalled, "Flux %s is already installed on cluster %s (namespace %s)",
			l["app.kubernetes.io/version"], c.ID, l["app.kubernetes.io/instance"]).
			WithDetail("version", l["app.kubernetes.io/version"]).WithDetail("namespace", l["app.kubernetes.io/instance"])
	}
	crds, rest := fluxbundle.SplitCRDs(objs)
	if err := applyAll(ctx, k, crds); err != nil {
		return api.InstallFluxResult{}, err
	}
	if err := waitEstablished(ctx, k, crds); err != nil {
		return api.InstallFluxResult{}, err
	}
	if err := applyAll(ctx, k, rest); err != nil {
		return api.InstallFluxResult{}, err
	}
	res := api.InstallFluxResult{Success: true, Version: b.Version, Namespace: ns, Applied: len(objs)}
	for _, comp := range b.Components {
		cs := api.ComponentStatus{Name: comp.Name, Version: comp.Version, Image: comp.Image, Status: model.StatusPending}
		if d, err := k.dyn.Resource(deploymentGVR).Namespace(ns).Get(ctx, comp.Name, metav1.GetOptions{}); err == nil {
			cs.Status, cs.Message = componentState(d)
		} else {
			cs.Status, cs.Message = model.StatusFailed, err.Error()
		}
		res.Components = append(res.Components, cs)
	}
	return res, nil
}

var deploymentGVR = appsv1.SchemeGroupVersion.WithResource("deployments")

// componentState judges a controller Deployment with kstatus: Current is
// ready, InProgress pending, Failed and the rest failed.
func componentState(d *unstructured.Unstructured) (string, string) {
	r, err := status.Compute(d)
	if err != nil {
		return model.StatusFailed, err.Error()
	}
	switch r.Status {
	case status.CurrentStatus:
		return model.StatusReady, r.Message
	case status.InProgressStatus:
		return model.StatusPending, r.Message
	}
	return model.StatusFailed, r.Message
}

// applyAll server-side applies objects in order with field manager gitopstui.
func applyAll(ctx context.Context, k kube, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		if err := applyObject(ctx, k.dyn, o); err != nil {
			return err
		}
	}
	return nil
}

func applyObject(ctx context.Context, dyn dynamic.Interface, o *unstructured.Unstructured) error {
	gvr, namespaced, err := gvrOf(o.GroupVersionKind())
	if err != nil {
		return err
	}
	var ri dynamic.ResourceInterface = dyn.Resource(gvr)
	if namespaced {
		ri = dyn.Resource(gvr).Namespace(o.GetNamespace())
	}
	_, err = ri.Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
	return kubeError(err, fmt.Sprintf("apply %s %s", o.GetKind(), o.GetName()))
}

// waitEstablished waits (bounded) until every CRD reports Established.
func waitEstablished(ctx context.Context, k kube, crds []*unstructured.Unstructured) error {
	ctx, cancel := context.WithTimeout(ctx, establishTimeout)
	defer cancel()
	pending := map[string]bool{}
	for _, c := range crds {
		pending[c.GetName()] = true
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		for name := range pending {
			u, err := k.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			if err == nil && crdEstablished(u) {
				delete(pending, name)
			}
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			names := make([]string, 0, len(pending))
			for n := range pending {
				names = append(names, n)
			}
			sort.Strings(names)
			return model.Errorf(model.CodeK3sNotReady, "CRDs not Established after %s: %s", establishTimeout, strings.Join(names, ", "))
		case <-tick.C:
		}
	}
}

func crdEstablished(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// CheckFluxHealth implements gitops.checkFluxHealth.
func (s *Services) CheckFluxHealth(ctx context.Context, in api.ClusterInput) (api.FluxHealth, error) {
	k, c, err := s.kubeFor(in.ClusterID)
	if err != nil {
		return api.FluxHealth{}, err
	}
	if err := checkReachable(ctx, k, c); err != nil {
		return api.FluxHealth{}, err
	}
	crds, err := fluxCRDs(ctx, k)
	if err != nil {
		return api.FluxHealth{}, err
	}
	if len(crds) == 0 {
		return api.FluxHealth{}, model.Errorf(model.CodeFluxNotInstalled, "Flux is not installed on cluster %s", c.ID).WithDetail("clusterId", c.ID)
	}
	h := api.FluxHealth{CheckedAt: s.now(), Components: []api.ComponentHealth{}}
	labels := crds[0].GetLabels()
	h.Version, h.Namespace = labels["app.kubernetes.io/version"], labels["app.kubernetes.io/instance"]
	if h.Namespace == "" {
		h.Namespace = fluxbundle.DefaultNamespace
	}
	allEstablished := true
	for i := range crds {
		e := crdEstablished(&crds[i])
		allEstablished = allEstablished && e
		h.CRDs = append(h.CRDs, api.CRDHealth{Name: crds[i].GetName(), Established: e})
	}
	deps, err := k.dyn.Resource(deploymentGVR).Namespace(h.Namespace).List(ctx, metav1.ListOptions{LabelSelector: fluxPartOf})
	if err != nil {
		h.Overall, h.Message = api.HealthUnhealthy, kubeError(err, "list Flux controllers").Error()
		return h, nil
	}
	ready := 0
	for i := range deps.Items {
		ch := controllerHealth(&deps.Items[i])
		if ch.Ready {
			ready++
		}
		h.Components = append(h.Components, ch)
	}
	sort.Slice(h.Components, func(i, j int) bool { return h.Components[i].Name < h.Components[j].Name })
	switch {
	case !allEstablished:
		h.Overall, h.Message = api.HealthUnhealthy, "some Flux CRDs are not Established"
	case len(h.Components) == 0:
		h.Overall, h.Message = api.HealthUnhealthy, "no Flux controller Deployment in namespace "+h.Namespace
	case ready == len(h.Components):
		h.Overall = api.HealthHealthy
	case ready == 0:
		h.Overall, h.Message = api.HealthUnhealthy, "no Flux controller is ready"
	default:
		h.Overall, h.Message = api.HealthDegraded, fmt.Sprintf("%d of %d Flux controllers ready", ready, len(h.Components))
	}
	return h, nil
}

func controllerHealth(u *unstructured.Unstructured) api.ComponentHealth {
	var d appsv1.Deployment
	_ = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d)
	ch := api.ComponentHealth{Name: d.Name, ReadyReplicas: d.Status.ReadyReplicas, Conditions: []api.Condition{}}
	ch.Replicas = 1
	if d.Spec.Replicas != nil {
		ch.Replicas = *d.Spec.Replicas
	}
	if len(d.Spec.Template.Spec.Containers) > 0 {
		ch.Image = d.Spec.Template.Spec.Containers[0].Image
	}
	for _, c := range d.Status.Conditions {
		ch.Conditions = append(ch.Conditions, api.Condition{Type: string(c.Type), Status: string(c.Status),
			Reason: c.Reason, Message: c.Message, LastTransitionTime: timeString(c.LastTransitionTime.Time)})
	}
	ch.Status, ch.Message = componentState(u)
	ch.Ready = ch.Status == model.StatusReady
	return ch
}
