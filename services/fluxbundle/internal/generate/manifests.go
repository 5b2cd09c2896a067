package generate

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The install's fixed names, as `flux install` produces them with its
// default options (namespace flux-system, registry ghcr.io/fluxcd,
// --watch-all-namespaces=true, --log-level=info, cluster domain cluster.local).
const (
	// DefaultNamespace is the namespace the generated manifests use.
	DefaultNamespace = "flux-system"
	// DefaultRegistry is where the controller images come from.
	DefaultRegistry = "ghcr.io/fluxcd"

	labelPartOf    = "app.kubernetes.io/part-of"
	labelInstance  = "app.kubernetes.io/instance"
	labelVersion   = "app.kubernetes.io/version"
	labelComponent = "app.kubernetes.io/component"

	eventsAddr = "--events-addr=http://notification-controller.$(RUNTIME_NAMESPACE).svc.cluster.local./"
)

// allControllerAccounts are the ServiceAccounts that Flux's crd-controller
// ClusterRoleBinding names; Flux binds the extra components' accounts too,
// whether or not they are installed, and so does this bundle.
func allControllerAccounts() []string {
	return []string{
		"kustomize-controller", "helm-controller", "source-controller", "notification-controller",
		"image-reflector-controller", "image-automation-controller", "source-watcher",
	}
}

// fluxAPIGroups are the API groups of every Flux component.
func fluxAPIGroups() []string {
	return []string{
		"source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io",
		"notification.toolkit.fluxcd.io", "image.toolkit.fluxcd.io", "source.extensions.fluxcd.io",
	}
}

// controllerManifests returns the project-written controller objects of one
// Flux release (everything but the CRDs) in kustomize's legacy apply order.
func controllerManifests(fluxVersion string, comps []componentVersion) ([]runtime.Object, error) {
	ns := DefaultNamespace
	common := func(component string) map[string]string {
		l := map[string]string{
			labelPartOf:   "flux",
			labelInstance: ns,
			labelVersion:  fluxVersion,
		}
		if component != "" {
			l[labelComponent] = component
		}
		return l
	}
	meta := func(name, namespace, component string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: common(component)}
	}
	suffix := "-" + ns

	objs := namespaceObjects(meta, ns, suffix)

	for _, c := range comps {
		objs = append(objs, &corev1.ServiceAccount{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
			ObjectMeta: meta(c.Name, ns, c.Name),
		})
	}

	objs = append(objs, clusterRoles(meta, suffix)...)
	objs = append(objs, clusterRoleBindings(meta, ns, suffix)...)

	objs = append(objs, controllerServices(meta, ns, comps)...)

	for _, c := range comps {
		d, err := deployment(c, common(c.Name), ns)
		if err != nil {
			return nil, err
		}
		objs = append(objs, d)
	}

	objs = append(objs, networkPolicies(meta, ns)...)
	return objs, nil
}

// namespaceObjects are the install's Namespace, with its pod security
// labels, and the ResourceQuota for critical pods.
func namespaceObjects(meta func(name, namespace, component string) metav1.ObjectMeta, ns, suffix string) []runtime.Object {
	nsObj := &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: meta(ns, "", ""),
	}
	nsObj.Labels["pod-security.kubernetes.io/warn"] = "restricted"
	nsObj.Labels["pod-security.kubernetes.io/warn-version"] = "latest"
	quota := &corev1.ResourceQuota{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ResourceQuota"},
		ObjectMeta: meta("critical-pods"+suffix, ns, ""),
		Spec: corev1.ResourceQuotaSpec{
			Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1000")},
			ScopeSelector: &corev1.ScopeSelector{MatchExpressions: []corev1.ScopedResourceSelectorRequirement{{
				ScopeName: corev1.ResourceQuotaScopePriorityClass,
				Operator:  corev1.ScopeSelectorOpIn,
				Values:    []string{"system-node-critical", "system-cluster-critical"},
			}}},
		},
	}
	return []runtime.Object{nsObj, quota}
}

// controllerServices are the Services of every component, in component order.
func controllerServices(meta func(name, namespace, component string) metav1.ObjectMeta, ns string, comps []componentVersion) []runtime.Object {
	var objs []runtime.Object
	for _, c := range comps {
		for _, svc := range services(c.Name) {
			s := &corev1.Service{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
				ObjectMeta: meta(svc.name, ns, c.Name),
				Spec: corev1.ServiceSpec{
					Type:     corev1.ServiceTypeClusterIP,
					Selector: map[string]string{"app": c.Name},
					Ports: []corev1.ServicePort{{
						Name: "http", Port: 80, Protocol: corev1.ProtocolTCP,
						TargetPort: intstr.FromString(svc.targetPort),
					}},
				},
			}
			s.Labels["control-plane"] = "controller"
			objs = append(objs, s)
		}
	}
	return objs
}

type serviceSpec struct{ name, targetPort string }

// services lists the Services a controller exposes (source-controller serves
// artifacts on http; notification-controller takes events on http and
// webhooks on http-webhook through webhook-receiver).
func services(component string) []serviceSpec {
	switch component {
	case "source-controller":
		return []serviceSpec{{"source-controller", "http"}}
	case "notification-controller":
		return []serviceSpec{{"notification-controller", "http"}, {"webhook-receiver", "http-webhook"}}
	}
	return nil
}

func clusterRoles(meta func(name, namespace, component string) metav1.ObjectMeta, suffix string) []runtime.Object {
	typ := metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"}
	var rules []rbacv1.PolicyRule
	for _, g := range fluxAPIGroups() {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: []string{"*"}, Verbs: []string{"*"}})
	}
	rules = append(rules,
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces", "secrets", "configmaps", "serviceaccounts"}, Verbs: []string{"get", "list", "watch"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		// leader election
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps/status"}, Verbs: []string{"get", "update", "patch"}},
		rbacv1.PolicyRule{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		// object-level workload identity
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"serviceaccounts/token"}, Verbs: []string{"create"}},
		// flow control
		rbacv1.PolicyRule{NonResourceURLs: []string{"/livez/ping"}, Verbs: []string{"head"}},
	)
	crd := &rbacv1.ClusterRole{TypeMeta: typ, ObjectMeta: meta("crd-controller"+suffix, "", ""), Rules: rules}

	edit := &rbacv1.ClusterRole{TypeMeta: typ, ObjectMeta: meta("flux-edit"+suffix, "", ""), Rules: []rbacv1.PolicyRule{{
		APIGroups: editViewGroups(), Resources: []string{"*"},
		Verbs: []string{"create", "delete", "deletecollection", "patch", "update"},
	}}}
	edit.Labels["rbac.authorization.k8s.io/aggregate-to-edit"] = "true"
	edit.Labels["rbac.authorization.k8s.io/aggregate-to-admin"] = "true"

	view := &rbacv1.ClusterRole{TypeMeta: typ, ObjectMeta: meta("flux-view"+suffix, "", ""), Rules: []rbacv1.PolicyRule{{
		APIGroups: editViewGroups(), Resources: []string{"*"},
		Verbs: []string{"get", "list", "watch"},
	}}}
	view.Labels["rbac.authorization.k8s.io/aggregate-to-admin"] = "true"
	view.Labels["rbac.authorization.k8s.io/aggregate-to-edit"] = "true"
	view.Labels["rbac.authorization.k8s.io/aggregate-to-view"] = "true"

	return []runtime.Object{crd, edit, view}
}

// editViewGroups is the group list of Flux's flux-edit and flux-view roles.
func editViewGroups() []string {
	return []string{
		"notification.toolkit.fluxcd.io", "source.toolkit.fluxcd.io", "source.extensions.fluxcd.io",
		"helm.toolkit.fluxcd.io", "image.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io",
	}
}

func clusterRoleBindings(meta func(name, namespace, component string) metav1.ObjectMeta, ns, suffix string) []runtime.Object {
	typ := metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"}
	sa := func(names ...string) []rbacv1.Subject {
		var s []rbacv1.Subject
		for _, n := range names {
			s = append(s, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: n, Namespace: ns})
		}
		return s
	}
	// cluster-reconciler gives kustomize- and helm-controller cluster-admin,
	// as Flux does, so that they can apply any workload.
	reconciler := &rbacv1.ClusterRoleBinding{
		TypeMeta: typ, ObjectMeta: meta("cluster-reconciler"+suffix, "", ""),
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: sa("kustomize-controller", "helm-controller"),
	}
	crd := &rbacv1.ClusterRoleBinding{
		TypeMeta: typ, ObjectMeta: meta("crd-controller"+suffix, "", ""),
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "crd-controller" + suffix},
		Subjects: sa(allControllerAccounts()...),
	}
	return []runtime.Object{reconciler, crd}
}

func networkPolicies(meta func(name, namespace, component string) metav1.ObjectMeta, ns string) []runtime.Object {
	typ := metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"}
	tcp := corev1.ProtocolTCP
	port := func(p int) []networkingv1.NetworkPolicyPort {
		v := intstr.FromInt32(int32(p))
		return []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &v}}
	}
	anyNamespace := []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}
	return []runtime.Object{
		// allow-egress: pods in the namespace talk to each other and to anything outside.
		&networkingv1.NetworkPolicy{TypeMeta: typ, ObjectMeta: meta("allow-egress", ns, ""), Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}},
			Egress:      []networkingv1.NetworkPolicyEgressRule{{}},
		}},
		// allow-scraping: Prometheus in any namespace reaches the metrics port.
		&networkingv1.NetworkPolicy{TypeMeta: typ, ObjectMeta: meta("allow-scraping", ns, ""), Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: anyNamespace, Ports: port(8080)}},
		}},
		// allow-webhooks: any namespace reaches notification-controller's receiver.
		&networkingv1.NetworkPolicy{TypeMeta: typ, ObjectMeta: meta("allow-webhooks", ns, ""), Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "notification-controller"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: anyNamespace, Ports: port(9292)}},
		}},
	}
}

// controllerShape is what differs between the controllers' Deployments
// (from each controller's config/manager and Flux's install patches).
type controllerShape struct {
	ports          []corev1.ContainerPort
	args           []string
	extraEnv       []corev1.EnvVar
	readiness      *corev1.Probe
	cpuRequest     string
	grace          int64
	criticalPrio   bool
	volumes        []string          // emptyDir volumes
	mounts         map[string]string // volume -> mount path
	recreate       bool
	storageAdvAddr bool
}

func containerPort(name string, port int32) corev1.ContainerPort {
	return corev1.ContainerPort{Name: name, ContainerPort: port, Protocol: corev1.ProtocolTCP}
}

func httpProbe(path, port string) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString(port)}}}
}

func shapeOf(component string) (controllerShape, error) {
	common := []string{"--watch-all-namespaces=true", "--log-level=info", "--log-encoding=json", "--enable-leader-election"}
	prom, health := containerPort("http-prom", 8080), containerPort("healthz", 9440)
	switch component {
	case "source-controller":
		return controllerShape{
			ports: []corev1.ContainerPort{containerPort("http", 9090), prom, health},
			args: append(append([]string{eventsAddr}, common...),
				"--storage-path=/data", "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local."),
			extraEnv:     []corev1.EnvVar{{Name: "TUF_ROOT", Value: "/tmp/.sigstore"}},
			readiness:    httpProbe("/", "http"),
			cpuRequest:   "50m",
			grace:        10,
			criticalPrio: true,
			volumes:      []string{"data", "tmp"},
			mounts:       map[string]string{"data": "/data", "tmp": "/tmp"},
			recreate:     true,
		}, nil
	case "kustomize-controller", "helm-controller":
		grace := int64(60)
		if component == "helm-controller" {
			grace = 600
		}
		return controllerShape{
			ports:        []corev1.ContainerPort{prom, health},
			args:         append([]string{eventsAddr}, common...),
			readiness:    httpProbe("/readyz", "healthz"),
			cpuRequest:   "100m",
			grace:        grace,
			criticalPrio: true,
			volumes:      []string{"temp"},
			mounts:       map[string]string{"temp": "/tmp"},
		}, nil
	case "notification-controller":
		return controllerShape{
			ports:      []corev1.ContainerPort{containerPort("http", 9090), containerPort("http-webhook", 9292), prom, health},
			args:       common,
			readiness:  httpProbe("/readyz", "healthz"),
			cpuRequest: "100m",
			grace:      10,
			volumes:    []string{"temp"},
			mounts:     map[string]string{"temp": "/tmp"},
		}, nil
	}
	return controllerShape{}, fmt.Errorf("no Deployment shape for component %q", component)
}

func deployment(c componentVersion, labels map[string]string, ns string) (*appsv1.Deployment, error) {
	shape, err := shapeOf(c.Name)
	if err != nil {
		return nil, err
	}
	env := []corev1.EnvVar{{Name: "RUNTIME_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}
	env = append(env, shape.extraEnv...)
	env = append(env, corev1.EnvVar{Name: "GOMEMLIMIT", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "manager", Resource: "limits.memory"}}})

	var volumes []corev1.Volume
	var mounts []corev1.VolumeMount
	for _, v := range shape.volumes {
		volumes = append(volumes, corev1.Volume{Name: v, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		mounts = append(mounts, corev1.VolumeMount{Name: v, MountPath: shape.mounts[v]})
	}

	podLabels := map[string]string{"app": c.Name}
	deployLabels := map[string]string{"control-plane": "controller"}
	for k, v := range labels {
		podLabels[k] = v
		deployLabels[k] = v
	}
	replicas := int32(1)
	grace := shape.grace
	fsGroup := int64(1337)
	f, t := false, true

	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: c.Name, Namespace: ns, Labels: deployLabels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": c.Name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      podLabels,
					Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
				},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: &grace,
					SecurityContext:               &corev1.PodSecurityContext{FSGroup: &fsGroup},
					ServiceAccountName:            c.Name,
					NodeSelector:                  map[string]string{"kubernetes.io/os": "linux"},
					Containers: []corev1.Container{{
						Name:            "manager",
						Image:           c.Image,
						ImagePullPolicy: corev1.PullIfNotPresent,
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: &f,
							ReadOnlyRootFilesystem:   &t,
							RunAsNonRoot:             &t,
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
							SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
						},
						Ports:          shape.ports,
						Env:            env,
						Args:           shape.args,
						LivenessProbe:  httpProbe("/healthz", "healthz"),
						ReadinessProbe: shape.readiness,
						Resources: corev1.ResourceRequirements{
							Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1000m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(shape.cpuRequest), corev1.ResourceMemory: resource.MustParse("64Mi")},
						},
						VolumeMounts: mounts,
					}},
					Volumes: volumes,
				},
			},
		},
	}
	if shape.criticalPrio {
		d.Spec.Template.Spec.PriorityClassName = "system-cluster-critical"
	}
	if shape.recreate {
		d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	}
	return d, nil
}
