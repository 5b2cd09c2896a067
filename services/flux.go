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
	"github.com/gitopstui/gitopstui/services/fluxbundle"
)

// FieldManager is the server-side apply field manager of every object gitopstui writes.
const FieldManager = "gitopstui"

// establishTimeout bounds the wait for installed CRDs to be Established.
const establishTimeout = 60 * time.Second

// InstallFluxInput is gitops.installFlux's input.
type InstallFluxInput struct {
	ClusterID     string `json:"clusterId" required:"true" doc:"cluster id"`
	Namespace     string `json:"namespace,omitempty" doc:"Flux namespace (default flux-system)"`
	Version       string `json:"version,omitempty" doc:"embedded Flux version (default the newest)"`
	Registry      string `json:"registry,omitempty" doc:"pull controller images from this registry (air-gapped clusters)"`
	ManifestsPath string `json:"manifestsPath,omitempty" doc:"install your own 'flux install --export' file instead"`
}

// Validate implements Validator.
func (in *InstallFluxInput) Validate(fe model.FieldErrors) {
	checkDNSLabel(fe, "namespace", in.Namespace)
	if in.ManifestsPath != "" && in.Version != "" {
		fe.Add("version", "not with manifestsPath: the file says which version it installs")
	}
}

// ComponentStatus is one Flux controller after an install.
type ComponentStatus struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Version string `json:"version,omitempty"`
	Image   string `json:"image,omitempty"`
	Message string `json:"message,omitempty"`
}

// InstallFluxResult is gitops.installFlux's result.
type InstallFluxResult struct {
	Success    bool              `json:"success"`
	Version    string            `json:"version"`
	Namespace  string            `json:"namespace"`
	Components []ComponentStatus `json:"components"`
	Applied    int               `json:"applied"`
}

// ClusterInput selects a cluster.
type ClusterInput struct {
	ClusterID string `json:"clusterId" required:"true" doc:"cluster id"`
}

// UninstallFluxInput is gitops.uninstallFlux's input.
type UninstallFluxInput struct {
	ClusterID       string `json:"clusterId" required:"true" doc:"cluster id"`
	DeleteNamespace bool   `json:"deleteNamespace,omitempty" doc:"also delete Flux's namespace"`
}

func (s *Services) registerFlux(r *Registry) {
	register(r, "gitops.installFlux", model.RoleAdmin, true, "Install Flux on a cluster from the embedded bundle (or your own export)", s.InstallFlux)
	register(r, "gitops.checkFluxHealth", model.RoleViewer, false, "Check Flux's controllers and CRDs like `flux check`", s.CheckFluxHealth)
	register(r, "gitops.uninstallFlux", model.RoleAdmin, true, "Uninstall Flux like `flux uninstall` (applied workloads keep running)", s.UninstallFlux)
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

func (s *Services) loadBundle(in InstallFluxInput) (*fluxbundle.Bundle, error) {
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
func (s *Services) InstallFlux(ctx context.Context, in InstallFluxInput) (InstallFluxResult, error) {
	b, err := s.loadBundle(in)
	if err != nil {
		return InstallFluxResult{}, err
	}
	opts := fluxbundle.Options{Namespace: in.Namespace, Registry: in.Registry}
	objs, err := b.Objects(opts)
	if err != nil {
		return InstallFluxResult{}, err
	}
	ns := b.Namespace
	if in.Namespace != "" {
		ns = in.Namespace
	}
	k, c, err := s.kubeFor(in.ClusterID)
	if err != nil {
		return InstallFluxResult{}, err
	}
	if err := checkReachable(ctx, k, c); err != nil {
		return InstallFluxResult{}, err
	}
	need, err := installAccess(objs)
	if err != nil {
		return InstallFluxResult{}, err
	}
	if err := checkAccess(ctx, k.cs, need); err != nil {
		return InstallFluxResult{}, err
	}
	if err := checkNodesReady(ctx, k, c); err != nil {
		return InstallFluxResult{}, err
	}
	existing, err := fluxCRDs(ctx, k)
	if err != nil {
		return InstallFluxResult{}, err
	}
	if len(existing) > 0 {
		l := existing[0].GetLabels()
		return InstallFluxResult{}, model.Errorf(model.CodeFluxAlreadyInstalled, "Flux %s is already installed on cluster %s (namespace %s)",
			l["app.kubernetes.io/version"], c.ID, l["app.kubernetes.io/instance"]).
			WithDetail("version", l["app.kubernetes.io/version"]).WithDetail("namespace", l["app.kubernetes.io/instance"])
	}
	crds, rest := fluxbundle.SplitCRDs(objs)
	if err := applyAll(ctx, k, crds); err != nil {
		return InstallFluxResult{}, err
	}
	if err := waitEstablished(ctx, k, crds); err != nil {
		return InstallFluxResult{}, err
	}
	if err := applyAll(ctx, k, rest); err != nil {
		return InstallFluxResult{}, err
	}
	res := InstallFluxResult{Success: true, Version: b.Version, Namespace: ns, Applied: len(objs)}
	for _, comp := range b.Components {
		cs := ComponentStatus{Name: comp.Name, Version: comp.Version, Image: comp.Image, Status: model.StatusPending}
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

// Health values of checkFluxHealth.
const (
	HealthHealthy   = "healthy"
	HealthDegraded  = "degraded"
	HealthUnhealthy = "unhealthy"
)

// ControllerHealth is one Flux controller as `flux check` sees it.
type ControllerHealth struct {
	Name          string             `json:"name"`
	Image         string             `json:"image,omitempty"`
	Replicas      int32              `json:"replicas"`
	ReadyReplicas int32              `json:"readyReplicas"`
	Ready         bool               `json:"ready"`
	Status        string             `json:"status"`
	Message       string             `json:"message,omitempty"`
	Conditions    []metav1.Condition `json:"conditions"`
}

// CRDHealth is one Flux CRD.
type CRDHealth struct {
	Name        string `json:"name"`
	Established bool   `json:"established"`
}

// FluxHealth is gitops.checkFluxHealth's result.
type FluxHealth struct {
	Status      string             `json:"status"`
	Version     string             `json:"version,omitempty"`
	Namespace   string             `json:"namespace"`
	Controllers []ControllerHealth `json:"controllers"`
	CRDs        []CRDHealth        `json:"crds"`
	Message     string             `json:"message,omitempty"`
	CheckedAt   time.Time          `json:"checkedAt"`
}

// CheckFluxHealth implements gitops.checkFluxHealth.
func (s *Services) CheckFluxHealth(ctx context.Context, in ClusterInput) (FluxHealth, error) {
	k, c, err := s.kubeFor(in.ClusterID)
	if err != nil {
		return FluxHealth{}, err
	}
	if err := checkReachable(ctx, k, c); err != nil {
		return FluxHealth{}, err
	}
	crds, err := fluxCRDs(ctx, k)
	if err != nil {
		return FluxHealth{}, err
	}
	if len(crds) == 0 {
		return FluxHealth{}, model.Errorf(model.CodeFluxNotInstalled, "Flux is not installed on cluster %s", c.ID).WithDetail("clusterId", c.ID)
	}
	h := FluxHealth{CheckedAt: s.now(), Controllers: []ControllerHealth{}}
	labels := crds[0].GetLabels()
	h.Version, h.Namespace = labels["app.kubernetes.io/version"], labels["app.kubernetes.io/instance"]
	if h.Namespace == "" {
		h.Namespace = fluxbundle.DefaultNamespace
	}
	allEstablished := true
	for i := range crds {
		e := crdEstablished(&crds[i])
		allEstablished = allEstablished && e
		h.CRDs = append(h.CRDs, CRDHealth{Name: crds[i].GetName(), Established: e})
	}
	deps, err := k.dyn.Resource(deploymentGVR).Namespace(h.Namespace).List(ctx, metav1.ListOptions{LabelSelector: fluxPartOf})
	if err != nil {
		h.Status, h.Message = HealthUnhealthy, kubeError(err, "list Flux controllers").Error()
		return h, nil
	}
	ready := 0
	for i := range deps.Items {
		ch := controllerHealth(&deps.Items[i])
		if ch.Ready {
			ready++
		}
		h.Controllers = append(h.Controllers, ch)
	}
	sort.Slice(h.Controllers, func(i, j int) bool { return h.Controllers[i].Name < h.Controllers[j].Name })
	switch {
	case !allEstablished:
		h.Status, h.Message = HealthUnhealthy, "some Flux CRDs are not Established"
	case len(h.Controllers) == 0:
		h.Status, h.Message = HealthUnhealthy, "no Flux controller Deployment in namespace "+h.Namespace
	case ready == len(h.Controllers):
		h.Status = HealthHealthy
	case ready == 0:
		h.Status, h.Message = HealthUnhealthy, "no Flux controller is ready"
	default:
		h.Status, h.Message = HealthDegraded, fmt.Sprintf("%d of %d Flux controllers ready", ready, len(h.Controllers))
	}
	return h, nil
}

func controllerHealth(u *unstructured.Unstructured) ControllerHealth {
	var d appsv1.Deployment
	_ = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d)
	ch := ControllerHealth{Name: d.Name, ReadyReplicas: d.Status.ReadyReplicas, Conditions: []metav1.Condition{}}
	ch.Replicas = 1
	if d.Spec.Replicas != nil {
		ch.Replicas = *d.Spec.Replicas
	}
	if len(d.Spec.Template.Spec.Containers) > 0 {
		ch.Image = d.Spec.Template.Spec.Containers[0].Image
	}
	for _, c := range d.Status.Conditions {
		ch.Conditions = append(ch.Conditions, metav1.Condition{Type: string(c.Type), Status: metav1.ConditionStatus(c.Status),
			Reason: c.Reason, Message: c.Message, LastTransitionTime: c.LastTransitionTime})
	}
	ch.Status, ch.Message = componentState(u)
	ch.Ready = ch.Status == model.StatusReady
	return ch
}
