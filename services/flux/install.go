package flux

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/services/policy"
)

// establishTimeout bounds the wait for installed CRDs to be Established.
const establishTimeout = 60 * time.Second

// installAccess lists create/patch/get for every resource the objects need.
func installAccess(objs []*unstructured.Unstructured) ([]kube.Access, error) {
	seen := map[kube.Access]bool{}
	var need []kube.Access
	add := func(a kube.Access) {
		if !seen[a] {
			seen[a] = true
			need = append(need, a)
		}
	}
	for _, o := range objs {
		gvr, namespaced, err := kube.GVROf(o.GroupVersionKind())
		if err != nil {
			return nil, err
		}
		ns := ""
		if namespaced {
			ns = o.GetNamespace()
		}
		for _, verb := range []string{"get", "create", "patch"} {
			add(kube.Access{Verb: verb, Group: gvr.Group, Resource: gvr.Resource, Namespace: ns})
		}
	}
	add(kube.Access{Verb: "list", Resource: "nodes"})
	return need, nil
}

func (s *Flux) loadBundle(ctx context.Context, in api.InstallFluxInput) (*fluxbundle.Bundle, error) {
	if in.ManifestsPath == "" {
		return fluxbundle.Load(in.Version)
	}
	if err := s.policy.CheckFile(model.ActorFrom(ctx), "manifestsPath", in.ManifestsPath); err != nil {
		return nil, err
	}
	data, err := policy.ReadFile("manifestsPath", in.ManifestsPath, policy.MaxFileBytes)
	if err != nil {
		return nil, err
	}
	return fluxbundle.FromManifests(data)
}

// installFlux implements gitops.installFlux: reachability, permissions (SSAR),
// a Ready node and no existing install are checked before anything is written;
// then CRDs are applied server-side and Established before the rest.
func (s *Flux) installFlux(ctx context.Context, in api.InstallFluxInput) (api.InstallFluxResult, error) {
	b, err := s.loadBundle(ctx, in)
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
	k, c, err := s.kube.For(in.ClusterID)
	if err != nil {
		return api.InstallFluxResult{}, err
	}
	if err := kube.CheckReachable(ctx, k, c); err != nil {
		return api.InstallFluxResult{}, err
	}
	need, err := installAccess(objs)
	if err != nil {
		return api.InstallFluxResult{}, err
	}
	if err := kube.CheckAccess(ctx, k.CS, need); err != nil {
		return api.InstallFluxResult{}, err
	}
	if err := kube.CheckNodesReady(ctx, k, c); err != nil {
		return api.InstallFluxResult{}, err
	}
	existing, err := kube.FluxCRDs(ctx, k)
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
		if d, err := k.Dyn.Resource(deploymentGVR).Namespace(ns).Get(ctx, comp.Name, metav1.GetOptions{}); err == nil {
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
func applyAll(ctx context.Context, k kube.Kube, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		if err := kube.Apply(ctx, k.Dyn, o); err != nil {
			return err
		}
	}
	return nil
}

// waitEstablished waits (bounded) until every CRD reports Established.
func waitEstablished(ctx context.Context, k kube.Kube, crds []*unstructured.Unstructured) error {
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
			u, err := k.Dyn.Resource(kube.CRDGVR).Get(ctx, name, metav1.GetOptions{})
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

// checkFluxHealth implements gitops.checkFluxHealth.
func (s *Flux) checkFluxHealth(ctx context.Context, in api.ClusterInput) (api.FluxHealth, error) {
	k, c, err := s.kube.For(in.ClusterID)
	if err != nil {
		return api.FluxHealth{}, err
	}
	if err := kube.CheckReachable(ctx, k, c); err != nil {
		return api.FluxHealth{}, err
	}
	crds, err := kube.FluxCRDs(ctx, k)
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
	deps, err := k.Dyn.Resource(deploymentGVR).Namespace(h.Namespace).List(ctx, metav1.ListOptions{LabelSelector: kube.FluxPartOf})
	if err != nil {
		h.Overall, h.Message = api.HealthUnhealthy, kube.Error(err, "list Flux controllers").Error()
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
			Reason: c.Reason, Message: c.Message, LastTransitionTime: shape.Time(c.LastTransitionTime.Time)})
	}
	ch.Status, ch.Message = componentState(u)
	ch.Ready = ch.Status == model.StatusReady
	return ch
}
