package generate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// verifyAgainstUpstream compares the project-written objects with Flux's own
// manifests: the flux2 module's manifests/rbac, manifests/policies and
// manifests/install, and each served controller module's config/manager
// with the flux2 base patches and `flux install`'s default-option patches
// applied. It fails on any difference, so a new Flux release that changes a
// port, a probe or a rule cannot slip into the bundle unnoticed. It returns
// one line per check for NOTICE.
func verifyAgainstUpstream(fluxDir string, comps []componentVersion, objs []runtime.Object) ([]string, error) {
	v := &verifier{
		fluxDir:    fluxDir,
		manifests:  filepath.Join(fluxDir, "manifests"),
		suffix:     "-" + DefaultNamespace,
		byKindName: map[string]runtime.Object{},
	}
	for _, o := range objs {
		kind := o.GetObjectKind().GroupVersionKind().Kind
		name := objName(o)
		v.byKindName[kind+"/"+name] = o
	}
	steps := []func() error{v.rbac, v.policies, v.namespace}
	for _, c := range comps {
		steps = append(steps, func() error { return v.component(c) })
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return v.checks, nil
}

// verifier holds what verifyAgainstUpstream's checks share.
type verifier struct {
	fluxDir    string
	manifests  string // the flux2 module's manifests directory
	suffix     string // the install's name suffix for cluster-wide objects
	byKindName map[string]runtime.Object
	checks     []string // one line per check passed, for NOTICE
}

// rbac compares manifests/rbac with the cluster roles, bindings and quota.
func (v *verifier) rbac() error {
	for _, f := range []string{"controller.yaml", "reconciler.yaml", "edit.yaml", "view.yaml", "resourcequota.yaml"} {
		docs, err := readDocs(filepath.Join(v.manifests, "rbac", f))
		if err != nil {
			return err
		}
		for _, doc := range docs {
			if err := v.rbacDoc(f, doc); err != nil {
				return err
			}
		}
		v.checks = append(v.checks, fmt.Sprintf("manifests/rbac/%s of %s", f, fluxModule))
	}
	return nil
}

// rbacDoc compares one document of manifests/rbac/f with its counterpart.
func (v *verifier) rbacDoc(f string, doc []byte) error {
	var head struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return err
	}
	ours, ok := v.byKindName[head.Kind+"/"+head.Metadata.Name+v.suffix]
	if !ok {
		return fmt.Errorf("upstream %s %s (manifests/rbac/%s) has no counterpart", head.Kind, head.Metadata.Name, f)
	}
	switch o := ours.(type) {
	case *rbacv1.ClusterRole:
		var up rbacv1.ClusterRole
		if err := yaml.UnmarshalStrict(doc, &up); err != nil {
			return err
		}
		if !equality.Semantic.DeepEqual(up.Rules, o.Rules) {
			return diffErr("ClusterRole "+o.Name+" rules", up.Rules, o.Rules)
		}
		for k, val := range up.Labels {
			if o.Labels[k] != val {
				return fmt.Errorf("ClusterRole %s: label %s=%q, upstream %q", o.Name, k, o.Labels[k], val)
			}
		}
	case *rbacv1.ClusterRoleBinding:
		var up rbacv1.ClusterRoleBinding
		if err := yaml.UnmarshalStrict(doc, &up); err != nil {
			return err
		}
		if up.RoleRef.Name != "cluster-admin" {
			up.RoleRef.Name += v.suffix // kustomize's nameSuffix follows the roleRef
		}
		if !equality.Semantic.DeepEqual(up.RoleRef, o.RoleRef) || !equality.Semantic.DeepEqual(up.Subjects, o.Subjects) {
			return diffErr("ClusterRoleBinding "+o.Name, up, o)
		}
	case *corev1.ResourceQuota:
		var up corev1.ResourceQuota
		if err := yaml.UnmarshalStrict(doc, &up); err != nil {
			return err
		}
		if !equality.Semantic.DeepEqual(up.Spec, o.Spec) {
			return diffErr("ResourceQuota "+o.Name, up.Spec, o.Spec)
		}
	default:
		return fmt.Errorf("upstream %s %s: unexpected kind", head.Kind, head.Metadata.Name)
	}
	return nil
}

// policies compares manifests/policies with the NetworkPolicies.
func (v *verifier) policies() error {
	for _, name := range []string{"allow-egress", "allow-scraping", "allow-webhooks"} {
		docs, err := readDocs(filepath.Join(v.manifests, "policies", name+".yaml"))
		if err != nil {
			return err
		}
		var up networkingv1.NetworkPolicy
		if err := yaml.UnmarshalStrict(docs[0], &up); err != nil {
			return err
		}
		ours, ok := v.byKindName["NetworkPolicy/"+name].(*networkingv1.NetworkPolicy)
		if !ok || !equality.Semantic.DeepEqual(up.Spec, ours.Spec) {
			return diffErr("NetworkPolicy "+name, up.Spec, ours)
		}
		v.checks = append(v.checks, fmt.Sprintf("manifests/policies/%s.yaml of %s", name, fluxModule))
	}
	return nil
}

// namespace compares the namespace's labels with manifests/install/namespace.yaml.
func (v *verifier) namespace() error {
	docs, err := readDocs(filepath.Join(v.manifests, "install", "namespace.yaml"))
	if err != nil {
		return err
	}
	var upNS corev1.Namespace
	if err := yaml.UnmarshalStrict(docs[0], &upNS); err != nil {
		return err
	}
	ourNS := v.byKindName["Namespace/"+DefaultNamespace].(*corev1.Namespace)
	for k, val := range upNS.Labels {
		if ourNS.Labels[k] != val {
			return fmt.Errorf("namespace label %s=%q, upstream %q", k, ourNS.Labels[k], val)
		}
	}
	v.checks = append(v.checks, fmt.Sprintf("manifests/install/namespace.yaml of %s", fluxModule))
	return nil
}

// component compares a controller's Deployment and Services with its
// module's config/manager, when the module is served.
func (v *verifier) component(c componentVersion) error {
	if c.moduleDir == "" {
		v.checks = append(v.checks, fmt.Sprintf("%s Deployment: not checked, %s@%s is not served (written after its config/manager)", c.Name, c.Module, c.Version))
		return nil
	}
	ours := v.byKindName["Deployment/"+c.Name].(*appsv1.Deployment)
	want, err := upstreamDeployment(v.fluxDir, c)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	// Labels and the image are the install's (checked by the package tests).
	want.Spec.Template.Labels = ours.Spec.Template.Labels
	want.Spec.Template.Spec.Containers[0].Image = ours.Spec.Template.Spec.Containers[0].Image
	if !equality.Semantic.DeepEqual(want.Spec, ours.Spec) {
		return diffErr("Deployment "+c.Name, want.Spec, ours.Spec)
	}
	v.checks = append(v.checks, fmt.Sprintf("%s Deployment: config/manager/deployment.yaml of %s@%s with the flux2 base and install patches", c.Name, c.Module, c.Version))

	svcPath := filepath.Join(c.moduleDir, "config", "manager", "service.yaml")
	if _, err := os.Stat(svcPath); err != nil {
		return nil
	}
	docs, err := readDocs(svcPath)
	if err != nil {
		return err
	}
	for _, doc := range docs {
		var up corev1.Service
		if err := yaml.UnmarshalStrict(doc, &up); err != nil {
			return err
		}
		ours, ok := v.byKindName["Service/"+up.Name].(*corev1.Service)
		if !ok || !equality.Semantic.DeepEqual(up.Spec, ours.Spec) {
			return diffErr("Service "+up.Name, up.Spec, ours)
		}
	}
	v.checks = append(v.checks, fmt.Sprintf("%s Services: config/manager/service.yaml of %s@%s", c.Name, c.Module, c.Version))
	return nil
}

// upstreamDeployment is the controller's config/manager Deployment after the
// JSON patches of flux2's manifests/bases/<name>/patch.yaml and the patches
// that `flux install` applies with its default options (pkg/manifestgen/install
// templates: args rewritten, nodeSelector kubernetes.io/os=linux).
func upstreamDeployment(fluxDir string, c componentVersion) (*appsv1.Deployment, error) {
	docs, err := readDocs(filepath.Join(c.moduleDir, "config", "manager", "deployment.yaml"))
	if err != nil {
		return nil, err
	}
	raw, err := yaml.YAMLToJSON(docs[0])
	if err != nil {
		return nil, err
	}
	patchYAML, err := os.ReadFile(filepath.Join(fluxDir, "manifests", "bases", c.Name, "patch.yaml"))
	if err != nil {
		return nil, err
	}
	patchJSON, err := yaml.YAMLToJSON(patchYAML)
	if err != nil {
		return nil, err
	}
	patch, err := jsonpatch.DecodePatch(patchJSON)
	if err != nil {
		return nil, err
	}
	if raw, err = patch.Apply(raw); err != nil {
		return nil, err
	}
	var d appsv1.Deployment
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	args := d.Spec.Template.Spec.Containers[0].Args
	set := func(i int, v string) error {
		if i >= len(args) {
			return fmt.Errorf("upstream args %v have no index %d", args, i)
		}
		args[i] = v
		return nil
	}
	var errs []error
	switch c.Name {
	case "notification-controller":
		errs = append(errs, set(0, "--watch-all-namespaces=true"), set(1, "--log-level=info"))
	case "source-controller":
		errs = append(errs, set(0, eventsAddr), set(1, "--watch-all-namespaces=true"), set(2, "--log-level=info"),
			set(6, "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local."))
	default:
		errs = append(errs, set(0, eventsAddr), set(1, "--watch-all-namespaces=true"), set(2, "--log-level=info"))
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	d.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
	return &d, nil
}

func objName(o runtime.Object) string {
	if m, ok := o.(interface{ GetName() string }); ok {
		return m.GetName()
	}
	return ""
}

// readDocs splits a YAML file into its non-empty documents.
func readDocs(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var docs [][]byte
	for _, d := range strings.Split("\n"+string(data), "\n---") {
		if strings.TrimSpace(d) != "" {
			docs = append(docs, []byte(d))
		}
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no YAML documents", path)
	}
	return docs, nil
}

func diffErr(what string, upstream, ours any) error {
	u, _ := yaml.Marshal(upstream)
	o, _ := yaml.Marshal(ours)
	return fmt.Errorf("%s differs from upstream:\n--- upstream\n%s\n--- ours\n%s", what, u, o)
}
