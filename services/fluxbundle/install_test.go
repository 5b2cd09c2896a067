package fluxbundle_test

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopstui/gitopstui/services/fluxbundle"
)

const eventsAddr = "--events-addr=http://notification-controller.$(RUNTIME_NAMESPACE).svc.cluster.local./"

func TestDeploymentsLikeFluxInstall(t *testing.T) {
	b := mustLoad(t)
	objs := mustObjects(t, b, fluxbundle.Options{})
	deployments := 0
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			deployments++
		}
	}
	if deployments != len(b.Components) {
		t.Fatalf("%d Deployments for %d components", deployments, len(b.Components))
	}
	for _, c := range b.Components {
		o := find(objs, "Deployment", c.Name)
		if o == nil {
			t.Fatalf("no Deployment %s", c.Name)
		}
		d := typed[appsv1.Deployment](t, o)
		checkControllerPod(t, objs, c, d)
		checkManagerContainer(t, c, d.Spec.Template.Spec)
	}
}

// checkControllerPod checks a controller Deployment's replicas, labels,
// service account, node selector and priority class against flux install's.
func checkControllerPod(t *testing.T, objs []*unstructured.Unstructured, c fluxbundle.Component, d *appsv1.Deployment) {
	t.Helper()
	if d.Namespace != "flux-system" || d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("%s: namespace %q replicas %v", c.Name, d.Namespace, d.Spec.Replicas)
	}
	for k, v := range d.Spec.Selector.MatchLabels {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("%s: selector %s=%s does not match the pod template", c.Name, k, v)
		}
	}
	if d.Spec.Template.Labels[fluxbundle.LabelPartOf] != "flux" || d.Spec.Template.Labels[fluxbundle.LabelComponent] != c.Name {
		t.Errorf("%s: pod labels %v", c.Name, d.Spec.Template.Labels)
	}
	pod := d.Spec.Template.Spec
	if pod.ServiceAccountName != c.Name || find(objs, "ServiceAccount", c.Name) == nil {
		t.Errorf("%s: serviceAccountName %q without its ServiceAccount", c.Name, pod.ServiceAccountName)
	}
	if pod.NodeSelector["kubernetes.io/os"] != "linux" {
		t.Errorf("%s: nodeSelector %v", c.Name, pod.NodeSelector)
	}
	wantPrio := "system-cluster-critical"
	if c.Name == "notification-controller" {
		wantPrio = ""
	}
	if pod.PriorityClassName != wantPrio {
		t.Errorf("%s: priorityClassName %q, want %q", c.Name, pod.PriorityClassName, wantPrio)
	}
}

// checkManagerContainer checks a controller's one container: image, args,
// ports and probes, resources, security context, env and volume mounts.
func checkManagerContainer(t *testing.T, c fluxbundle.Component, pod corev1.PodSpec) {
	t.Helper()
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers", c.Name, len(pod.Containers))
	}
	ctr := pod.Containers[0]
	wantImage := "ghcr.io/fluxcd/" + c.Name + ":" + c.Version
	if ctr.Image != wantImage || ctr.Name != "manager" || ctr.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("%s: container %s image %s pull %s, want image %s", c.Name, ctr.Name, ctr.Image, ctr.ImagePullPolicy, wantImage)
	}
	wantArgs := []string{"--watch-all-namespaces=true", "--log-level=info", "--log-encoding=json", "--enable-leader-election"}
	switch c.Name {
	case "notification-controller":
	case "source-controller":
		wantArgs = append(append([]string{eventsAddr}, wantArgs...), "--storage-path=/data",
			"--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local.")
	default:
		wantArgs = append([]string{eventsAddr}, wantArgs...)
	}
	if !slices.Equal(ctr.Args, wantArgs) {
		t.Errorf("%s: args\n%q\nwant\n%q", c.Name, ctr.Args, wantArgs)
	}
	ports := map[string]int32{}
	for _, p := range ctr.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["http-prom"] != 8080 || ports["healthz"] != 9440 {
		t.Errorf("%s: ports %v", c.Name, ports)
	}
	for _, p := range []*corev1.Probe{ctr.LivenessProbe, ctr.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || ports[p.HTTPGet.Port.StrVal] == 0 {
			t.Errorf("%s: probe %+v does not use a named container port", c.Name, p)
		}
	}
	if ctr.Resources.Limits.Memory().String() != "1Gi" || ctr.Resources.Requests.Memory().String() != "64Mi" || ctr.Resources.Limits.Cpu().MilliValue() != 1000 {
		t.Errorf("%s: resources %v", c.Name, ctr.Resources)
	}
	sc := ctr.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || sc.SeccompProfile == nil ||
		sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: securityContext %+v", c.Name, sc)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range ctr.Env {
		env[e.Name] = e
	}
	if e := env["RUNTIME_NAMESPACE"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.namespace" {
		t.Errorf("%s: RUNTIME_NAMESPACE %+v", c.Name, e)
	}
	if e := env["GOMEMLIMIT"]; e.ValueFrom == nil || e.ValueFrom.ResourceFieldRef == nil || e.ValueFrom.ResourceFieldRef.Resource != "limits.memory" {
		t.Errorf("%s: GOMEMLIMIT %+v", c.Name, e)
	}
	for _, m := range ctr.VolumeMounts {
		if !slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name && v.EmptyDir != nil }) {
			t.Errorf("%s: mount %s has no emptyDir volume", c.Name, m.Name)
		}
	}
}

func TestServicesRBACAndPolicies(t *testing.T) {
	b := mustLoad(t)
	objs := mustObjects(t, b, fluxbundle.Options{})
	checkServices(t, objs)
	checkRBAC(t, b, objs)
	checkPolicies(t, objs)
}

// checkServices checks that each Service selects its controller and reaches
// the container port flux install's does.
func checkServices(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	containerPort := func(deploy, portName string) int32 {
		d := typed[appsv1.Deployment](t, find(objs, "Deployment", deploy))
		for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
			if p.Name == portName {
				return p.ContainerPort
			}
		}
		return 0
	}
	for _, tc := range []struct {
		svc, app string
		target   int32
	}{
		{"source-controller", "source-controller", 9090},
		{"notification-controller", "notification-controller", 9090},
		{"webhook-receiver", "notification-controller", 9292},
	} {
		o := find(objs, "Service", tc.svc)
		if o == nil {
			t.Fatalf("no Service %s", tc.svc)
		}
		s := typed[corev1.Service](t, o)
		if s.Spec.Selector["app"] != tc.app || len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Port != 80 {
			t.Fatalf("Service %s: %+v", tc.svc, s.Spec)
		}
		if got := containerPort(tc.app, s.Spec.Ports[0].TargetPort.StrVal); got != tc.target {
			t.Errorf("Service %s reaches container port %d, want %d", tc.svc, got, tc.target)
		}
	}
}

// checkRBAC checks the two cluster role bindings and that the controllers'
// role allows what they do.
func checkRBAC(t *testing.T, b *fluxbundle.Bundle, objs []*unstructured.Unstructured) {
	t.Helper()
	reconciler := typed[rbacv1.ClusterRoleBinding](t, find(objs, "ClusterRoleBinding", "cluster-reconciler-flux-system"))
	if reconciler.RoleRef.Name != "cluster-admin" || len(reconciler.Subjects) != 2 {
		t.Errorf("cluster-reconciler: %+v", reconciler)
	}
	crdBinding := typed[rbacv1.ClusterRoleBinding](t, find(objs, "ClusterRoleBinding", "crd-controller-flux-system"))
	if crdBinding.RoleRef.Name != "crd-controller-flux-system" || find(objs, "ClusterRole", crdBinding.RoleRef.Name) == nil {
		t.Errorf("crd-controller binding refers to %q", crdBinding.RoleRef.Name)
	}
	for _, c := range b.Components {
		if !slices.ContainsFunc(crdBinding.Subjects, func(s rbacv1.Subject) bool {
			return s.Kind == "ServiceAccount" && s.Name == c.Name && s.Namespace == "flux-system"
		}) {
			t.Errorf("crd-controller binding misses %s", c.Name)
		}
	}
	role := typed[rbacv1.ClusterRole](t, find(objs, "ClusterRole", "crd-controller-flux-system"))
	allows := func(group, resource, verb string) bool {
		for _, r := range role.Rules {
			if slices.Contains(r.APIGroups, group) && (slices.Contains(r.Resources, resource) || slices.Contains(r.Resources, "*")) &&
				(slices.Contains(r.Verbs, verb) || slices.Contains(r.Verbs, "*")) {
				return true
			}
		}
		return false
	}
	for _, need := range [][3]string{
		{"source.toolkit.fluxcd.io", "gitrepositories", "update"},
		{"kustomize.toolkit.fluxcd.io", "kustomizations/status", "patch"},
		{"helm.toolkit.fluxcd.io", "helmreleases", "watch"},
		{"notification.toolkit.fluxcd.io", "receivers", "list"},
		{"", "secrets", "get"},
		{"", "events", "create"},
		{"coordination.k8s.io", "leases", "update"},
		{"", "serviceaccounts/token", "create"},
	} {
		if !allows(need[0], need[1], need[2]) {
			t.Errorf("crd-controller cannot %s %s.%s", need[2], need[1], need[0])
		}
	}
}

// checkPolicies checks the network policies and the namespace's pod
// security label.
func checkPolicies(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, name := range []string{"allow-egress", "allow-scraping", "allow-webhooks"} {
		o := find(objs, "NetworkPolicy", name)
		if o == nil {
			t.Fatalf("no NetworkPolicy %s", name)
		}
		np := typed[networkingv1.NetworkPolicy](t, o)
		if np.Namespace != "flux-system" {
			t.Errorf("NetworkPolicy %s in %q", name, np.Namespace)
		}
	}
	webhooks := typed[networkingv1.NetworkPolicy](t, find(objs, "NetworkPolicy", "allow-webhooks"))
	if webhooks.Spec.PodSelector.MatchLabels["app"] != "notification-controller" || webhooks.Spec.Ingress[0].Ports[0].Port.IntValue() != 9292 {
		t.Errorf("allow-webhooks: %+v", webhooks.Spec)
	}
	ns := typed[corev1.Namespace](t, find(objs, "Namespace", "flux-system"))
	if ns.Labels["pod-security.kubernetes.io/warn"] != "restricted" {
		t.Errorf("namespace labels %v", ns.Labels)
	}
}
