package validate

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The required-field table. The API server's own validation
// (k8s.io/kubernetes/pkg/apis/*/validation) is not importable, so these
// are the rules of that code that manifests most often break, with the
// same field paths and messages:
//
//	all kinds       metadata.name (or generateName), DNS name rules per kind, labels, annotations
//	pod specs       containers non-empty; container name (DNS label, unique) and image;
//	                ports[].containerPort in 1-65535; protocol TCP|UDP|SCTP; env[].name;
//	                volumes[].name unique; volumeMounts[].name names a volume, mountPath set;
//	                requests <= limits; restartPolicy per owner (Always for workloads,
//	                OnFailure|Never for Jobs)
//	Deployment, ReplicaSet, StatefulSet, DaemonSet
//	                spec.selector set, valid, non-empty and matching spec.template.metadata.labels;
//	                replicas >= 0
//	Job             spec.template (restartPolicy OnFailure|Never)
//	CronJob         spec.schedule, spec.jobTemplate.spec.template
//	Service         spec.ports (unless ExternalName or headless), ports[].port 1-65535,
//	                ports[].name when more than one port, unique names; type enum;
//	                externalName for ExternalName
//	Ingress         rules or defaultBackend; paths[].pathType; absolute path; backend service
//	                name and port
//	ConfigMap/Secret valid keys; tls and dockerconfigjson Secret keys
//	Role/ClusterRole rules[].verbs; apiGroups and resources (or nonResourceURLs)
//	*RoleBinding    roleRef.apiGroup/kind/name; subjects[].kind and name
//	HPA (v2)        scaleTargetRef.kind/name; maxReplicas >= 1; minReplicas <= maxReplicas
//	PDB             not both minAvailable and maxUnavailable
//	PVC             accessModes; resources.requests.storage
func builtinRules(obj runtime.Object, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
		c := *a.GetObjectMeta().(*metav1.ObjectMeta)
		if namespaced && c.Namespace == "" {
			c.Namespace = metav1.NamespaceDefault
		}
		if !namespaced {
			c.Namespace = ""
		}
		errs = apivalidation.ValidateObjectMeta(&c, namespaced, nameRule(obj), field.NewPath("metadata"))
	}
	return append(errs, kindRules(obj)...)
}

// nameRule is how the API server validates the name of obj's kind.
func nameRule(obj runtime.Object) apivalidation.ValidateNameFunc {
	switch obj.(type) {
	case *appsv1.StatefulSet, *corev1.Namespace:
		return apivalidation.NameIsDNSLabel
	case *corev1.Service:
		return apivalidation.NameIsDNS1035Label
	case *rbacv1.Role, *rbacv1.ClusterRole, *rbacv1.RoleBinding, *rbacv1.ClusterRoleBinding:
		return rbacName
	}
	return apivalidation.NameIsDNSSubdomain
}

// kindRules checks what the table above lists for obj's kind beyond its
// metadata.
func kindRules(obj runtime.Object) field.ErrorList {
	spec := field.NewPath("spec")
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return deploymentRules(spec, o)
	case *appsv1.ReplicaSet:
		return workload(spec, o.Spec.Selector, &o.Spec.Template, o.Spec.Replicas)
	case *appsv1.StatefulSet:
		errs := workload(spec, o.Spec.Selector, &o.Spec.Template, o.Spec.Replicas)
		if p := o.Spec.PodManagementPolicy; p != "" && p != appsv1.OrderedReadyPodManagement && p != appsv1.ParallelPodManagement {
			errs = append(errs, field.NotSupported(spec.Child("podManagementPolicy"), p, []string{"OrderedReady", "Parallel"}))
		}
		return errs
	case *appsv1.DaemonSet:
		return workload(spec, o.Spec.Selector, &o.Spec.Template, nil)
	case *batchv1.Job:
		return podSpec(spec.Child("template", "spec"), &o.Spec.Template.Spec, "OnFailure", "Never")
	case *batchv1.CronJob:
		return cronJobRules(spec, o)
	case *corev1.Pod:
		return podSpec(spec, &o.Spec, "Always", "OnFailure", "Never")
	case *corev1.Service:
		return service(spec, &o.Spec)
	case *corev1.ConfigMap:
		return configMapRules(o)
	case *corev1.Secret:
		return secretRules(o)
	case *corev1.PersistentVolumeClaim:
		return pvcRules(spec, o)
	case *networkingv1.Ingress:
		return ingress(spec, &o.Spec)
	case *rbacv1.Role:
		return policyRules(o.Rules, true)
	case *rbacv1.ClusterRole:
		return policyRules(o.Rules, false)
	case *rbacv1.RoleBinding:
		return binding(o.RoleRef, o.Subjects, true, "Role", "ClusterRole")
	case *rbacv1.ClusterRoleBinding:
		return binding(o.RoleRef, o.Subjects, false, "ClusterRole")
	case *autoscalingv2.HorizontalPodAutoscaler:
		return hpaRules(spec, o)
	case *policyv1.PodDisruptionBudget:
		return pdbRules(spec, o)
	}
	return nil
}

func deploymentRules(spec *field.Path, o *appsv1.Deployment) field.ErrorList {
	errs := workload(spec, o.Spec.Selector, &o.Spec.Template, o.Spec.Replicas)
	if o.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType && o.Spec.Strategy.RollingUpdate != nil {
		errs = append(errs, field.Forbidden(spec.Child("strategy", "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
	}
	if t := o.Spec.Strategy.Type; t != "" && t != appsv1.RecreateDeploymentStrategyType && t != appsv1.RollingUpdateDeploymentStrategyType {
		errs = append(errs, field.NotSupported(spec.Child("strategy", "type"), t, []string{"Recreate", "RollingUpdate"}))
	}
	return errs
}

func cronJobRules(spec *field.Path, o *batchv1.CronJob) field.ErrorList {
	var errs field.ErrorList
	if o.Spec.Schedule == "" {
		errs = append(errs, field.Required(spec.Child("schedule"), ""))
	}
	if p := o.Spec.ConcurrencyPolicy; p != "" && p != batchv1.AllowConcurrent && p != batchv1.ForbidConcurrent && p != batchv1.ReplaceConcurrent {
		errs = append(errs, field.NotSupported(spec.Child("concurrencyPolicy"), p, []string{"Allow", "Forbid", "Replace"}))
	}
	return append(errs, podSpec(spec.Child("jobTemplate", "spec", "template", "spec"), &o.Spec.JobTemplate.Spec.Template.Spec, "OnFailure", "Never")...)
}

func configMapRules(o *corev1.ConfigMap) field.ErrorList {
	var errs field.ErrorList
	for k := range o.Data {
		errs = append(errs, configKey(field.NewPath("data").Key(k), k)...)
		if _, dup := o.BinaryData[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, "duplicate of key present in binaryData"))
		}
	}
	for k := range o.BinaryData {
		errs = append(errs, configKey(field.NewPath("binaryData").Key(k), k)...)
	}
	return errs
}

func secretRules(o *corev1.Secret) field.ErrorList {
	var errs field.ErrorList
	keys := sets.New[string]()
	for k := range o.Data {
		errs = append(errs, configKey(field.NewPath("data").Key(k), k)...)
		keys.Insert(k)
	}
	for k := range o.StringData {
		errs = append(errs, configKey(field.NewPath("stringData").Key(k), k)...)
		keys.Insert(k)
	}
	switch o.Type {
	case corev1.SecretTypeTLS:
		for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
			if !keys.Has(k) {
				errs = append(errs, field.Required(field.NewPath("data").Key(k), ""))
			}
		}
	case corev1.SecretTypeDockerConfigJson:
		if !keys.Has(corev1.DockerConfigJsonKey) {
			errs = append(errs, field.Required(field.NewPath("data").Key(corev1.DockerConfigJsonKey), ""))
		}
	case corev1.SecretTypeBasicAuth:
		if !keys.Has(corev1.BasicAuthUsernameKey) && !keys.Has(corev1.BasicAuthPasswordKey) {
			errs = append(errs, field.Required(field.NewPath("data").Key(corev1.BasicAuthUsernameKey), ""))
		}
	}
	return errs
}

func pvcRules(spec *field.Path, o *corev1.PersistentVolumeClaim) field.ErrorList {
	var errs field.ErrorList
	if len(o.Spec.AccessModes) == 0 {
		errs = append(errs, field.Required(spec.Child("accessModes"), "at least 1 access mode is required"))
	}
	if _, ok := o.Spec.Resources.Requests[corev1.ResourceStorage]; !ok && o.Spec.DataSourceRef == nil {
		errs = append(errs, field.Required(spec.Child("resources", "requests").Key("storage"), ""))
	}
	return errs
}

func policyRules(rules []rbacv1.PolicyRule, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, rule := range rules {
		errs = append(errs, policyRule(field.NewPath("rules").Index(i), rule, namespaced)...)
	}
	return errs
}

func hpaRules(spec *field.Path, o *autoscalingv2.HorizontalPodAutoscaler) field.ErrorList {
	var errs field.ErrorList
	ref := spec.Child("scaleTargetRef")
	if o.Spec.ScaleTargetRef.Kind == "" {
		errs = append(errs, field.Required(ref.Child("kind"), ""))
	}
	if o.Spec.ScaleTargetRef.Name == "" {
		errs = append(errs, field.Required(ref.Child("name"), ""))
	}
	if o.Spec.MaxReplicas < 1 {
		errs = append(errs, field.Invalid(spec.Child("maxReplicas"), o.Spec.MaxReplicas, "must be greater than or equal to 1"))
	}
	if m := o.Spec.MinReplicas; m != nil && *m > o.Spec.MaxReplicas {
		errs = append(errs, field.Invalid(spec.Child("maxReplicas"), o.Spec.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	return errs
}

func pdbRules(spec *field.Path, o *policyv1.PodDisruptionBudget) field.ErrorList {
	var errs field.ErrorList
	if o.Spec.MinAvailable != nil && o.Spec.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(spec, o.Spec, "minAvailable and maxUnavailable cannot be both set"))
	}
	if o.Spec.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(o.Spec.Selector, metav1validation.LabelSelectorValidationOptions{}, spec.Child("selector"))...)
	}
	return errs
}

func rbacName(name string, prefix bool) []string { return path.IsValidPathSegmentName(name) }

func configKey(p *field.Path, k string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsConfigMapKey(k) {
		errs = append(errs, field.Invalid(p, k, msg))
	}
	return errs
}

// workload checks the selector and pod template of a controller.
func workload(spec *field.Path, sel *metav1.LabelSelector, tmpl *corev1.PodTemplateSpec, replicas *int32) field.ErrorList {
	var errs field.ErrorList
	if replicas != nil && *replicas < 0 {
		errs = append(errs, field.Invalid(spec.Child("replicas"), *replicas, "must be greater than or equal to 0"))
	}
	if sel == nil {
		errs = append(errs, field.Required(spec.Child("selector"), ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, spec.Child("selector"))...)
		if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
			errs = append(errs, field.Invalid(spec.Child("selector"), sel, "empty selector is invalid for deployment"))
		} else if s, err := metav1.LabelSelectorAsSelector(sel); err == nil && !s.Matches(labels.Set(tmpl.Labels)) {
			errs = append(errs, field.Invalid(spec.Child("template", "metadata", "labels"), tmpl.Labels, "`selector` does not match template `labels`"))
		}
	}
	errs = append(errs, metav1validation.ValidateLabels(tmpl.Labels, spec.Child("template", "metadata", "labels"))...)
	errs = append(errs, podSpec(spec.Child("template", "spec"), &tmpl.Spec, "Always")...)
	return errs
}

var protocols = []string{"TCP", "UDP", "SCTP"}

// podSpec checks the parts of a pod spec listed in the table above.
func podSpec(p *field.Path, s *corev1.PodSpec, restart ...string) field.ErrorList {
	var errs field.ErrorList
	volumes := sets.New[string]()
	for i, v := range s.Volumes {
		vp := p.Child("volumes").Index(i)
		if v.Name == "" {
			errs = append(errs, field.Required(vp.Child("name"), ""))
		} else if volumes.Has(v.Name) {
			errs = append(errs, field.Duplicate(vp.Child("name"), v.Name))
		} else {
			for _, msg := range validation.IsDNS1123Label(v.Name) {
				errs = append(errs, field.Invalid(vp.Child("name"), v.Name, msg))
			}
		}
		volumes.Insert(v.Name)
	}
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	names := sets.New[string]()
	for i := range s.InitContainers {
		errs = append(errs, container(p.Child("initContainers").Index(i), &s.InitContainers[i], names, volumes)...)
	}
	for i := range s.Containers {
		errs = append(errs, container(p.Child("containers").Index(i), &s.Containers[i], names, volumes)...)
	}
	if rp := string(s.RestartPolicy); rp == "" {
		if !sets.New(restart...).Has("Always") {
			errs = append(errs, field.Required(p.Child("restartPolicy"), "valid values: "+strings.Join(quoteAll(restart), ", ")))
		}
	} else if !sets.New(restart...).Has(rp) {
		errs = append(errs, field.NotSupported(p.Child("restartPolicy"), rp, restart))
	}
	return errs
}

// container checks one container at cp: its name (unique among names,
// which it joins), image, pull policy, ports, env, mounts of the pod's
// volumes and resources.
func container(cp *field.Path, c *corev1.Container, names, volumes sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	if c.Name == "" {
		errs = append(errs, field.Required(cp.Child("name"), ""))
	} else if names.Has(c.Name) {
		errs = append(errs, field.Duplicate(cp.Child("name"), c.Name))
	} else {
		for _, msg := range validation.IsDNS1123Label(c.Name) {
			errs = append(errs, field.Invalid(cp.Child("name"), c.Name, msg))
		}
	}
	names.Insert(c.Name)
	if c.Image == "" {
		errs = append(errs, field.Required(cp.Child("image"), ""))
	} else if strings.TrimSpace(c.Image) != c.Image {
		errs = append(errs, field.Invalid(cp.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	if pp := c.ImagePullPolicy; pp != "" && pp != corev1.PullAlways && pp != corev1.PullNever && pp != corev1.PullIfNotPresent {
		errs = append(errs, field.NotSupported(cp.Child("imagePullPolicy"), pp, []string{"Always", "IfNotPresent", "Never"}))
	}
	for i, port := range c.Ports {
		errs = append(errs, containerPort(cp.Child("ports").Index(i), port)...)
	}
	for i, e := range c.Env {
		if e.Name == "" {
			errs = append(errs, field.Required(cp.Child("env").Index(i).Child("name"), ""))
		}
	}
	for i, m := range c.VolumeMounts {
		mp := cp.Child("volumeMounts").Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(mp.Child("name"), ""))
		} else if !volumes.Has(m.Name) {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		}
	}
	for name, req := range c.Resources.Requests {
		if lim, ok := c.Resources.Limits[name]; ok && req.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(cp.Child("resources", "requests").Key(string(name)), req.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())))
		}
	}
	return errs
}

// containerPort checks one entry of a container's ports at pp.
func containerPort(pp *field.Path, port corev1.ContainerPort) field.ErrorList {
	var errs field.ErrorList
	if port.ContainerPort == 0 {
		errs = append(errs, field.Required(pp.Child("containerPort"), ""))
	} else {
		for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
			errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, msg))
		}
	}
	if port.Name != "" {
		for _, msg := range validation.IsValidPortName(port.Name) {
			errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
		}
	}
	if port.Protocol != "" && !sets.New(protocols...).Has(string(port.Protocol)) {
		errs = append(errs, field.NotSupported(pp.Child("protocol"), port.Protocol, protocols))
	}
	return errs
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

func service(p *field.Path, s *corev1.ServiceSpec) field.ErrorList {
	var errs field.ErrorList
	types := []string{"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}
	if s.Type != "" && !sets.New(types...).Has(string(s.Type)) {
		errs = append(errs, field.NotSupported(p.Child("type"), s.Type, types))
	}
	headless := s.ClusterIP == corev1.ClusterIPNone
	if s.Type == corev1.ServiceTypeExternalName {
		if s.ExternalName == "" {
			errs = append(errs, field.Required(p.Child("externalName"), ""))
		}
	} else if len(s.Ports) == 0 && !headless {
		errs = append(errs, field.Required(p.Child("ports"), ""))
	}
	names := sets.New[string]()
	for i, port := range s.Ports {
		pp := p.Child("ports").Index(i)
		if len(s.Ports) > 1 && port.Name == "" {
			errs = append(errs, field.Required(pp.Child("name"), ""))
		} else if port.Name != "" {
			if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			for _, msg := range validation.IsDNS1123Label(port.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
			}
		}
		names.Insert(port.Name)
		if port.Port == 0 {
			errs = append(errs, field.Required(pp.Child("port"), ""))
		} else {
			for _, msg := range validation.IsValidPortNum(int(port.Port)) {
				errs = append(errs, field.Invalid(pp.Child("port"), port.Port, msg))
			}
		}
		if port.Protocol != "" && !sets.New(protocols...).Has(string(port.Protocol)) {
			errs = append(errs, field.NotSupported(pp.Child("protocol"), port.Protocol, protocols))
		}
		if port.TargetPort.Type == intstr.Int && port.TargetPort.IntVal != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.TargetPort.IntVal)) {
				errs = append(errs, field.Invalid(pp.Child("targetPort"), port.TargetPort.IntVal, msg))
			}
		} else if port.TargetPort.Type == intstr.String && port.TargetPort.StrVal != "" {
			for _, msg := range validation.IsValidPortName(port.TargetPort.StrVal) {
				errs = append(errs, field.Invalid(pp.Child("targetPort"), port.TargetPort.StrVal, msg))
			}
		}
		if port.NodePort != 0 && s.Type != corev1.ServiceTypeNodePort && s.Type != corev1.ServiceTypeLoadBalancer {
			errs = append(errs, field.Forbidden(pp.Child("nodePort"), "may not be used when `type` is '"+string(orDefault(string(s.Type), "ClusterIP"))+"'"))
		}
	}
	if s.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabels(s.Selector, p.Child("selector"))...)
	}
	return errs
}

func ingress(p *field.Path, s *networkingv1.IngressSpec) field.ErrorList {
	var errs field.ErrorList
	if len(s.Rules) == 0 && s.DefaultBackend == nil {
		errs = append(errs, field.Invalid(p, s.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	backend := func(bp *field.Path, b *networkingv1.IngressBackend) {
		switch {
		case b.Service != nil && b.Resource != nil:
			errs = append(errs, field.Invalid(bp, "", "cannot set both resource and service backends"))
		case b.Service != nil:
			if b.Service.Name == "" {
				errs = append(errs, field.Required(bp.Child("service", "name"), ""))
			}
			if b.Service.Port.Name == "" && b.Service.Port.Number == 0 {
				errs = append(errs, field.Required(bp.Child("service", "port"), "port name or number is required"))
			} else if b.Service.Port.Name != "" && b.Service.Port.Number != 0 {
				errs = append(errs, field.Invalid(bp.Child("service", "port"), b.Service.Port, "cannot set both port name & port number"))
			}
		case b.Resource == nil:
			errs = append(errs, field.Invalid(bp, "", "resource or service backend is required"))
		}
	}
	if s.DefaultBackend != nil {
		backend(p.Child("defaultBackend"), s.DefaultBackend)
	}
	pathTypes := []string{"Exact", "Prefix", "ImplementationSpecific"}
	for i, r := range s.Rules {
		rp := p.Child("rules").Index(i)
		if r.HTTP == nil {
			continue
		}
		if len(r.HTTP.Paths) == 0 {
			errs = append(errs, field.Required(rp.Child("http", "paths"), ""))
		}
		for j, hp := range r.HTTP.Paths {
			pp := rp.Child("http", "paths").Index(j)
			if hp.PathType == nil {
				errs = append(errs, field.Required(pp.Child("pathType"), "pathType must be specified"))
			} else if !sets.New(pathTypes...).Has(string(*hp.PathType)) {
				errs = append(errs, field.NotSupported(pp.Child("pathType"), *hp.PathType, pathTypes))
			} else if *hp.PathType != networkingv1.PathTypeImplementationSpecific && !strings.HasPrefix(hp.Path, "/") {
				errs = append(errs, field.Invalid(pp.Child("path"), hp.Path, "must be an absolute path"))
			}
			backend(pp.Child("backend"), &hp.Backend)
		}
	}
	return errs
}

func policyRule(p *field.Path, r rbacv1.PolicyRule, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	if len(r.Verbs) == 0 {
		errs = append(errs, field.Required(p.Child("verbs"), "verbs must contain at least one value"))
	}
	if len(r.NonResourceURLs) > 0 {
		if namespaced {
			errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
		}
		if len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 {
			errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
		}
		return errs
	}
	if len(r.APIGroups) == 0 {
		errs = append(errs, field.Required(p.Child("apiGroups"), "resource rules must supply at least one api group"))
	}
	if len(r.Resources) == 0 {
		errs = append(errs, field.Required(p.Child("resources"), "resource rules must supply at least one resource"))
	}
	return errs
}

func binding(ref rbacv1.RoleRef, subjects []rbacv1.Subject, namespaced bool, kinds ...string) field.ErrorList {
	var errs field.ErrorList
	rp := field.NewPath("roleRef")
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(rp.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	if !sets.New(kinds...).Has(ref.Kind) {
		errs = append(errs, field.NotSupported(rp.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(rp.Child("name"), ""))
	}
	for i, s := range subjects {
		sp := field.NewPath("subjects").Index(i)
		if s.Name == "" {
			errs = append(errs, field.Required(sp.Child("name"), ""))
		}
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			if s.APIGroup != "" {
				errs = append(errs, field.NotSupported(sp.Child("apiGroup"), s.APIGroup, []string{""}))
			}
			if !namespaced && s.Namespace == "" {
				errs = append(errs, field.Required(sp.Child("namespace"), ""))
			}
		case rbacv1.UserKind, rbacv1.GroupKind:
			if s.APIGroup != rbacv1.GroupName {
				errs = append(errs, field.NotSupported(sp.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
			}
		default:
			errs = append(errs, field.NotSupported(sp.Child("kind"), s.Kind, []string{"ServiceAccount", "User", "Group"}))
		}
	}
	return errs
}
