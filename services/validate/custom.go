package validate

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	crdvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	sigsjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"
)

// crdInfo is what the validator knows about one custom resource kind.
type crdInfo struct {
	gk         schema.GroupKind
	namespaced bool
	versions   map[string]*crdVersion
	served     []string // served version names, storage version first
	storage    string
}

// crdVersion holds the compiled schema of one version of a CRD: the same
// objects the API server's custom resource handler builds.
type crdVersion struct {
	name       string
	served     bool
	deprecated bool
	warning    string
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	cel        *cel.Validator
	status     bool // status subresource: status is dropped on create
	preserve   bool // x-kubernetes-preserve-unknown-fields at the root
}

// retiredFlux are Flux API versions that recent Flux releases no longer
// serve, with the version to move to.
var retiredFlux = map[string]string{
	"kustomize.toolkit.fluxcd.io/v1beta1": "kustomize.toolkit.fluxcd.io/v1",
	"kustomize.toolkit.fluxcd.io/v1beta2": "kustomize.toolkit.fluxcd.io/v1",
	"helm.toolkit.fluxcd.io/v2beta1":      "helm.toolkit.fluxcd.io/v2",
	"helm.toolkit.fluxcd.io/v2beta2":      "helm.toolkit.fluxcd.io/v2",
	"source.toolkit.fluxcd.io/v1beta1":    "source.toolkit.fluxcd.io/v1",
	"source.toolkit.fluxcd.io/v1beta2":    "source.toolkit.fluxcd.io/v1",
}

// loadCRDs compiles every CustomResourceDefinition in a YAML stream.
func loadCRDs(stream []byte) ([]*crdInfo, error) {
	chunks, _ := splitDocuments(stream)
	var out []*crdInfo
	for _, chunk := range chunks {
		if len(bytes.TrimSpace(chunk)) == 0 {
			continue
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := sigsyaml.Unmarshal(chunk, &crd); err != nil {
			return nil, err
		}
		if crd.Kind != "CustomResourceDefinition" {
			continue
		}
		info, err := compileCRD(&crd)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", crd.Name, err)
		}
		out = append(out, info)
	}
	return out, nil
}

func compileCRD(crd *apiextensionsv1.CustomResourceDefinition) (*crdInfo, error) {
	var in apiextensions.CustomResourceDefinition
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(crd, &in, nil); err != nil {
		return nil, err
	}
	info := &crdInfo{
		gk:         schema.GroupKind{Group: in.Spec.Group, Kind: in.Spec.Names.Kind},
		namespaced: in.Spec.Scope == apiextensions.NamespaceScoped,
		versions:   map[string]*crdVersion{},
	}
	for _, ver := range in.Spec.Versions {
		cv := &crdVersion{name: ver.Name, served: ver.Served, deprecated: ver.Deprecated}
		if ver.DeprecationWarning != nil {
			cv.warning = *ver.DeprecationWarning
		}
		val, err := apiextensions.GetSchemaForVersion(&in, ver.Name)
		if err != nil {
			return nil, err
		}
		if val != nil && val.OpenAPIV3Schema != nil {
			s, err := structuralschema.NewStructural(val.OpenAPIV3Schema)
			if err != nil {
				return nil, fmt.Errorf("version %s: %w", ver.Name, err)
			}
			cv.structural = s
			cv.preserve = s.XPreserveUnknownFields
			cv.validator, _, err = apiservervalidation.NewSchemaValidator(val.OpenAPIV3Schema)
			if err != nil {
				return nil, fmt.Errorf("version %s: %w", ver.Name, err)
			}
			cv.cel = cel.NewValidator(s, true, celconfig.PerCallLimit)
		}
		sub, err := apiextensions.GetSubresourcesForVersion(&in, ver.Name)
		if err == nil && sub != nil && sub.Status != nil {
			cv.status = true
		}
		info.versions[ver.Name] = cv
		if ver.Storage {
			info.storage = ver.Name
		}
		if ver.Served {
			info.served = append(info.served, ver.Name)
		}
	}
	sort.SliceStable(info.served, func(i, j int) bool { return info.served[i] == info.storage })
	return info, nil
}

func (v *Validator) kindsOf(group string) []string {
	var out []string
	for gk := range v.crds {
		if gk.Group == group {
			out = append(out, gk.Kind)
		}
	}
	sort.Strings(out)
	return out
}

func gvString(group, version string) string { return group + "/" + version }

// custom checks a custom resource against its CRD, the way the API server's
// custom resource handler does on create (strict field validation).
func (r *run) custom(ctx context.Context, c *docCtx, info *crdInfo) {
	c.namespaced = info.namespaced
	ver := r.servedVersion(c, info)
	if ver == nil {
		return
	}
	apiVersion := c.gvk.GroupVersion().String()
	r.duplicate(c)
	if ver.structural == nil {
		r.warnAt(c, "kind", fmt.Sprintf("the CRD for %s has no schema for %s: the object cannot be checked", c.gvk.Kind, apiVersion), "")
		return
	}
	var m map[string]any
	if err := utiljson.Unmarshal(c.d.json, &m); err != nil {
		r.errorAt(c, "", "object does not decode: "+err.Error(), "")
		return
	}
	if c.d.sops {
		delete(m, "sops")
	}
	var errs field.ErrorList
	unknown := func(paths []string) {
		for _, p := range paths {
			r.errorAt(c, p, fmt.Sprintf("unknown field %q", p), "remove it or fix its spelling; the API server rejects unknown fields (the CRD's schema does not define it)")
		}
	}
	meta, foundMeta, metaUnknown, err := schemaobjectmeta.GetObjectMetaWithOptions(m, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		r.errorAt(c, "metadata", "metadata: "+err.Error(), "")
		return
	}
	unknown(metaUnknown)
	if !ver.preserve {
		unknown(structuralpruning.PruneWithOptions(m, ver.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}))
		structuraldefaulting.PruneNonNullableNullsWithoutDefaults(m, ver.structural)
	}
	ferr, paths := schemaobjectmeta.CoerceWithOptions(nil, m, ver.structural, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	if ferr != nil {
		errs = append(errs, ferr)
	}
	unknown(paths)
	m["apiVersion"], m["kind"] = apiVersion, c.gvk.Kind
	if foundMeta {
		if info.namespaced && meta.Namespace == "" {
			meta.Namespace = metav1.NamespaceDefault
		}
		if !info.namespaced {
			meta.Namespace = ""
		}
		if err := schemaobjectmeta.SetObjectMeta(m, meta); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("metadata"), nil, err.Error()))
		}
	}
	structuraldefaulting.Default(m, ver.structural)
	if ver.status {
		delete(m, "status")
	}
	u := &unstructured.Unstructured{Object: m}
	if !foundMeta {
		u.SetNamespace(map[bool]string{true: metav1.NamespaceDefault}[info.namespaced])
	}
	// customResourceStrategy.Validate (k8s.io/apiextensions-apiserver/pkg/registry/customresource)
	errs = append(errs, apivalidation.ValidateObjectMetaAccessor(u, info.namespaced, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, m, ver.validator)...)
	errs = append(errs, schemaobjectmeta.Validate(nil, m, ver.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, ver.structural, m)...)
	if ver.cel != nil && !blocking(errs) {
		celErrs, _ := ver.cel.Validate(ctx, nil, ver.structural, m, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	r.fieldErrors(c, errs)
}

// servedVersion returns the CRD version the document's apiVersion names,
// warning when it is deprecated, or reports the document and returns nil
// when the CRD does not serve it.
func (r *run) servedVersion(c *docCtx, info *crdInfo) *crdVersion {
	ver := info.versions[c.gvk.Version]
	apiVersion := c.gvk.GroupVersion().String()
	if ver == nil || !ver.served {
		served := make([]string, 0, len(info.served))
		for _, s := range info.served {
			served = append(served, gvString(info.gk.Group, s))
		}
		sugg := "use apiVersion " + strings.Join(served, " or ")
		msg := fmt.Sprintf("no matches for kind %q in version %q: the CRD serves %s", c.gvk.Kind, apiVersion, strings.Join(served, ", "))
		if to, ok := retiredFlux[apiVersion]; ok {
			msg = fmt.Sprintf("%s is a deprecated Flux API that this Flux release no longer serves", apiVersion)
			sugg = "migrate to apiVersion " + to + " (see the Flux upgrade notes; `flux migrate` rewrites manifests)"
		}
		r.errorAt(c, "apiVersion", msg, sugg)
		return nil
	}
	if ver.deprecated {
		msg := ver.warning
		if msg == "" {
			msg = fmt.Sprintf("%s %s is deprecated", apiVersion, c.gvk.Kind)
		}
		r.warnAt(c, "apiVersion", msg, "use apiVersion "+gvString(info.gk.Group, info.storage))
	}
	return ver
}

// blocking mirrors hasBlockingErr of the custom resource strategy: CEL
// rules are not run on objects that already fail these checks.
func blocking(errs field.ErrorList) bool {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true
		}
	}
	return false
}

// crdDocument checks a CustomResourceDefinition in the input and, when it
// is valid, uses it for the custom resources that follow it.
func (r *run) crdDocument(c *docCtx) {
	c.namespaced = false
	if c.gvk.Version != "v1" {
		r.errorAt(c, "apiVersion", fmt.Sprintf("%s CustomResourceDefinition is no longer served since Kubernetes 1.22", c.gvk.GroupVersion()), "use apiVersion apiextensions.k8s.io/v1")
		return
	}
	var crd apiextensionsv1.CustomResourceDefinition
	strictErrs, err := sigsjson.UnmarshalStrict(c.d.json, &crd)
	if err != nil {
		r.typeErrors(c, &crd)
		return
	}
	for _, se := range strictErrs {
		path := ""
		if fe, ok := se.(sigsjson.FieldError); ok {
			path = fe.FieldPath()
		}
		r.errorAt(c, path, se.Error(), "remove it or fix its spelling")
	}
	if len(strictErrs) > 0 {
		return
	}
	r.duplicate(c)
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(&crd)
	var in apiextensions.CustomResourceDefinition
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(&crd, &in, nil); err != nil {
		r.errorAt(c, "", err.Error(), "")
		return
	}
	if errs := crdvalidation.ValidateCustomResourceDefinition(context.Background(), &in); len(errs) > 0 {
		r.fieldErrors(c, errs)
		return
	}
	info, err := compileCRD(&crd)
	if err != nil {
		r.errorAt(c, "spec", err.Error(), "")
		return
	}
	if r.extra == nil {
		r.extra = map[schema.GroupKind]*crdInfo{}
	}
	r.extra[info.gk] = info
}
