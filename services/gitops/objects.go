package gitops

import (
	"cmp"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/services/fluxobj"
)

// buildObject turns a resource record into its Flux object (a Kustomization
// or a HelmRelease, built from Flux's own API types as the Flux CLI does)
// plus the HelmRepository a helm resource with a chart URL needs.
func buildObject(r model.GitOpsResource, cfg api.ResourceConfig, rc resourceContext) (*unstructured.Unstructured, []*unstructured.Unstructured, error) {
	labels := map[string]string{fluxobj.LabelManagedBy: "gitopstui", fluxobj.LabelResourceID: r.ID, fluxobj.LabelEnvID: r.EnvironmentID,
		fluxobj.LabelProjectID: r.ProjectID, fluxobj.LabelRepoID: r.RepositoryID}
	om := metav1.ObjectMeta{Name: r.Name, Namespace: r.Namespace, Labels: labels}
	interval, err := duration(cmp.Or(cfg.Interval, cmp.Or(rc.env.GitOpsConfig.SyncInterval, "5m")))
	if err != nil {
		return nil, nil, err
	}
	timeout, err := optDuration(cfg.Timeout)
	if err != nil {
		return nil, nil, err
	}
	retry, err := optDuration(cfg.RetryInterval)
	if err != nil {
		return nil, nil, err
	}
	deps := make([]meta.DependencyReference, len(cfg.DependsOn))
	for i, d := range cfg.DependsOn {
		deps[i] = meta.DependencyReference{Name: d.Name, Namespace: d.Namespace}
	}
	src := sourceRef{Name: rc.source, Namespace: cmp.Or(rc.repo.GitOpsConfig.FluxNamespace, fluxbundle.DefaultNamespace)}
	if r.Type == model.ResourceKustomization {
		k := kustomizev1.Kustomization{ObjectMeta: om, Spec: kustomizev1.KustomizationSpec{
			Interval: interval, Timeout: timeout, RetryInterval: retry, DependsOn: deps, Suspend: r.Suspended,
			Path: cmp.Or(cfg.Path, rc.env.GitOpsConfig.GitPath), Prune: boolOr(cfg.Prune, true),
			TargetNamespace: rc.env.Namespace, Wait: boolOr(cfg.Wait, false),
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: src.Name, Namespace: src.Namespace},
		}}
		for _, h := range cfg.HealthChecks {
			k.Spec.HealthChecks = append(k.Spec.HealthChecks, meta.NamespacedObjectKindReference{
				APIVersion: h.APIVersion, Kind: h.Kind, Name: h.Name, Namespace: h.Namespace})
		}
		k.SetGroupVersionKind(kustomizev1.GroupVersion.WithKind(kustomizev1.KustomizationKind))
		obj, err := toUnstructured(&k, r.Suspended)
		return obj, nil, err
	}
	hr := helmv2.HelmRelease{ObjectMeta: om, Spec: helmv2.HelmReleaseSpec{
		Interval: interval, Timeout: timeout, DependsOn: deps, Suspend: r.Suspended,
		TargetNamespace: rc.env.Namespace, ReleaseName: cfg.ReleaseName,
	}}
	chart, extra, err := chartTemplate(r, cfg, src, om)
	if err != nil {
		return nil, nil, err
	}
	hr.Spec.Chart = chart
	if len(cfg.Values) > 0 {
		hr.Spec.Values = &apiextensionsv1.JSON{Raw: cfg.Values}
	}
	for _, v := range cfg.ValuesFrom {
		hr.Spec.ValuesFrom = append(hr.Spec.ValuesFrom, helmv2.ValuesReference{Kind: v.Kind, Name: v.Name, ValuesKey: v.ValuesKey, TargetPath: v.TargetPath})
	}
	hr.Spec.Install, hr.Spec.Upgrade = helmInstall(cfg.Install), helmUpgrade(cfg.Upgrade)
	hr.SetGroupVersionKind(helmv2.GroupVersion.WithKind(helmv2.HelmReleaseKind))
	obj, err := toUnstructured(&hr, r.Suspended)
	return obj, extra, err
}

// chartTemplate is a HelmRelease's chart: from the environment's
// GitRepository (chartName is a path there) or from a HelmRepository, which
// gitopstui creates when the config gives its URL.
func chartTemplate(r model.GitOpsResource, cfg api.ResourceConfig, src sourceRef, om metav1.ObjectMeta) (*helmv2.HelmChartTemplate, []*unstructured.Unstructured, error) {
	ref := helmv2.CrossNamespaceObjectReference{Kind: sourcev1.GitRepositoryKind, Name: src.Name, Namespace: src.Namespace}
	var extra []*unstructured.Unstructured
	if cfg.SourceType == api.SourceHelmRepository {
		ref = helmv2.CrossNamespaceObjectReference{Kind: sourcev1.HelmRepositoryKind, Name: r.Name}
	}
	if s := cfg.Source; s != nil {
		ref.Name, ref.Namespace = cmp.Or(s.Name, ref.Name), cmp.Or(s.Namespace, ref.Namespace)
		if s.URL != "" {
			hrepo := sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Name: ref.Name, Namespace: cmp.Or(ref.Namespace, om.Namespace), Labels: om.Labels},
				Spec: sourcev1.HelmRepositorySpec{URL: s.URL, Interval: metav1.Duration{Duration: time.Hour}}}
			hrepo.SetGroupVersionKind(sourcev1.GroupVersion.WithKind(sourcev1.HelmRepositoryKind))
			u, err := toUnstructured(&hrepo, false)
			if err != nil {
				return nil, nil, err
			}
			extra = append(extra, u)
		}
	}
	return &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: cfg.ChartName, Version: cfg.ChartVersion, SourceRef: ref}}, extra, nil
}

func helmInstall(c *api.InstallConfig) *helmv2.Install {
	if c == nil {
		return nil
	}
	in := &helmv2.Install{CreateNamespace: boolOr(c.CreateNamespace, false), DisableWait: boolOr(c.DisableWait, false)}
	if c.Remediation != nil && c.Remediation.Retries != nil {
		in.Remediation = &helmv2.InstallRemediation{Retries: *c.Remediation.Retries}
	}
	return in
}

func helmUpgrade(c *api.UpgradeConfig) *helmv2.Upgrade {
	if c == nil {
		return nil
	}
	up := &helmv2.Upgrade{CleanupOnFail: boolOr(c.CleanupOnFail, false), DisableWait: boolOr(c.DisableWait, false)}
	if rem := c.Remediation; rem != nil {
		up.Remediation = &helmv2.UpgradeRemediation{RemediateLastFailure: rem.RemediateLastFailure}
		if rem.Retries != nil {
			up.Remediation.Retries = *rem.Retries
		}
	}
	return up
}

// sourceRef names a Flux source object.
type sourceRef struct{ Name, Namespace string }

// toUnstructured converts a typed Flux object for the dynamic client,
// dropping the empty status and creationTimestamp the types carry. suspend
// is always written, false included: server-side apply would otherwise leave
// a suspend that a sync's patch set in place.
func toUnstructured(obj runtime.Object, suspend bool) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	delete(m, "status")
	if spec, ok := m["spec"].(map[string]any); ok {
		spec["suspend"] = suspend
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	return &unstructured.Unstructured{Object: m}, nil
}

func duration(s string) (metav1.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return metav1.Duration{}, model.Errorf(model.CodeBadRequest, "%q is not a duration", s)
	}
	return metav1.Duration{Duration: d}, nil
}

func optDuration(s string) (*metav1.Duration, error) {
	if s == "" {
		return nil, nil
	}
	d, err := duration(s)
	return &d, err
}

// manifestYAML is a live object as YAML, without the managed fields that
// only the API server reads.
func manifestYAML(u *unstructured.Unstructured) string {
	c := u.DeepCopy()
	c.SetManagedFields(nil)
	b, err := yaml.Marshal(c.Object)
	if err != nil {
		return ""
	}
	return string(b)
}
