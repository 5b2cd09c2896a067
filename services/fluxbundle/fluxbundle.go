// Package fluxbundle owns the offline Flux install bundle that the binary
// embeds: the CRDs, RBAC, Services, NetworkPolicies and Deployments of Flux's
// source-, kustomize-, helm- and notification-controller for each embedded
// Flux release, generated from the pinned Flux modules by ./internal/gen
// (go generate), with the licence notices of what it carries. It turns a
// bundle, or a user's own `flux install --export` file, into the objects to
// apply, CRDs first, with the install namespace and image registry rewritten
// on request. It does not talk to a cluster.
package fluxbundle

//go:generate go run ./internal/gen -out bundles

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/gitopstui/gitopstui/model"
)

// embedded holds bundles/<flux version>/... as written by ./internal/gen.
// It is read-only.
//
//go:embed bundles
var embedded embed.FS

// The labels every Flux object carries (Flux's own install sets them).
const (
	LabelPartOf    = "app.kubernetes.io/part-of"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelVersion   = "app.kubernetes.io/version"
	LabelComponent = "app.kubernetes.io/component"
	// PartOfFlux is the value of LabelPartOf on Flux objects; an install is
	// recognised by CRDs carrying it.
	PartOfFlux = "flux"
)

// DefaultNamespace is the namespace the embedded manifests are written for.
const DefaultNamespace = "flux-system"

// DefaultRegistry is the registry of the embedded controller images.
const DefaultRegistry = "ghcr.io/fluxcd"

// Bundle is one Flux release ready to install: an embedded one (Load) or a
// user's `flux install --export` file (FromManifests). A Bundle is not
// modified by its methods and may be shared between goroutines.
type Bundle struct {
	// Version is the Flux version, e.g. "v2.9.5" ("" when a user's file
	// does not say).
	Version string
	// Namespace is the namespace the manifests are written for.
	Namespace string
	// Components are the controllers the bundle installs, in Flux's order.
	Components []Component

	objects []*unstructured.Unstructured // CRDs first; never handed out
}

// Component is one controller of a bundle.
type Component struct {
	// Name is the controller and its Deployment's name, e.g. "source-controller".
	Name string `json:"name"`
	// Version is the controller's release, e.g. "v1.9.5" (the image tag).
	Version string `json:"version"`
	// Image is the container image as the bundle carries it.
	Image string `json:"image"`
}

// Options adjust the objects that Objects returns.
type Options struct {
	// Namespace installs Flux into this namespace instead of the bundle's
	// ("" keeps it). Every namespaced object moves, the ClusterRoleBinding
	// subjects follow, the cluster-scoped RBAC names take the namespace
	// suffix (crd-controller-<namespace>, as `flux install -n` does), the
	// app.kubernetes.io/instance label changes, and so would CRD conversion
	// webhook service references.
	Namespace string
	// Registry pulls the controller images from this registry instead
	// ("" keeps them): ghcr.io/fluxcd/source-controller:v1.9.5 becomes
	// <Registry>/source-controller:v1.9.5, as `flux install --registry` does,
	// for air-gapped clusters with a mirror.
	Registry string
}

// metadata is bundle.json (written by internal/generate.Metadata).
type metadata struct {
	FluxVersion string `json:"fluxVersion"`
	Namespace   string `json:"namespace"`
	Manifests   string `json:"manifests"`
	Components  []struct {
		Component
		CRDs string `json:"crds"`
	} `json:"components"`
}

// Versions returns the Flux versions the binary embeds, oldest first.
func Versions() []string {
	entries, err := fs.ReadDir(embedded, "bundles")
	if err != nil {
		return nil
	}
	var vs []string
	for _, e := range entries {
		if e.IsDir() {
			vs = append(vs, e.Name())
		}
	}
	sortVersions(vs)
	return vs
}

// Latest returns the newest embedded Flux version, the one Load("") gives.
func Latest() string {
	vs := Versions()
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

func sortVersions(vs []string) {
	sort.SliceStable(vs, func(i, j int) bool {
		a, errA := version.ParseSemantic(vs[i])
		b, errB := version.ParseSemantic(vs[j])
		if errA != nil || errB != nil {
			return vs[i] < vs[j]
		}
		return a.LessThan(b)
	})
}

// Load returns the embedded bundle of a Flux version ("v2.9.5" or "2.9.5";
// "" means Latest). An unknown version is BAD_REQUEST whose details name the
// field (fields.version) and list the embedded versions (available).
func Load(fluxVersion string) (*Bundle, error) {
	v := strings.TrimSpace(fluxVersion)
	if v == "" {
		v = Latest()
	}
	if v != "" && !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	available := Versions()
	found := false
	for _, a := range available {
		found = found || a == v
	}
	if !found {
		how := "to install another version, export it with `flux install --version " + v + " --export > flux.yaml` and pass manifestsPath"
		return nil, model.Errorf(model.CodeBadRequest, "Flux version %q is not embedded; available: %s; %s",
			fluxVersion, strings.Join(available, ", "), how).
			WithDetail("fields", map[string]any{"version": "not embedded; available: " + strings.Join(available, ", ")}).
			WithDetail("available", available).WithDetail("hint", how)
	}
	return loadEmbedded(v)
}

func loadEmbedded(v string) (*Bundle, error) {
	dir := path.Join("bundles", v)
	raw, err := embedded.ReadFile(path.Join(dir, "bundle.json"))
	if err != nil {
		return nil, model.Wrap(model.CodeInternal, err, "read embedded Flux bundle "+v)
	}
	var meta metadata
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, model.Wrap(model.CodeInternal, err, "decode embedded Flux bundle "+v)
	}
	b := &Bundle{Version: meta.FluxVersion, Namespace: meta.Namespace}
	for _, c := range meta.Components {
		b.Components = append(b.Components, c.Component)
		data, err := embedded.ReadFile(path.Join(dir, c.CRDs))
		if err != nil {
			return nil, model.Wrap(model.CodeInternal, err, "read embedded CRDs of "+c.Name)
		}
		crds, err := ParseManifests(data)
		if err != nil {
			return nil, model.Wrap(model.CodeInternal, err, "parse embedded CRDs of "+c.Name)
		}
		for _, crd := range crds {
			if !isCRD(crd) {
				return nil, model.Errorf(model.CodeInternal, "embedded %s holds a %s", c.CRDs, crd.GetKind())
			}
			// The CRD files are kept as the controllers ship them; the
			// install labels are Flux's kustomize labels, added here.
			labels := crd.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			labels[LabelComponent] = c.Name
			labels[LabelPartOf] = PartOfFlux
			labels[LabelInstance] = b.Namespace
			labels[LabelVersion] = b.Version
			crd.SetLabels(labels)
		}
		b.objects = append(b.objects, crds...)
	}
	data, err := embedded.ReadFile(path.Join(dir, meta.Manifests))
	if err != nil {
		return nil, model.Wrap(model.CodeInternal, err, "read embedded Flux manifests "+v)
	}
	rest, err := ParseManifests(data)
	if err != nil {
		return nil, model.Wrap(model.CodeInternal, err, "parse embedded Flux manifests "+v)
	}
	b.objects = append(b.objects, rest...)
	return b, nil
}

// Objects returns fresh copies of the bundle's objects, CRDs first and then
// the rest in apply order (Namespace, quota, ServiceAccounts, RBAC, Services,
// Deployments, NetworkPolicies), with opts applied. Invalid options are
// BAD_REQUEST naming the field (fields.namespace, fields.registry).
func (b *Bundle) Objects(opts Options) ([]*unstructured.Unstructured, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	crds, rest := SplitCRDs(b.objects)
	out := make([]*unstructured.Unstructured, 0, len(b.objects))
	for _, o := range append(crds, rest...) {
		out = append(out, o.DeepCopy())
	}
	if opts.Namespace != "" && opts.Namespace != b.Namespace {
		for _, o := range out {
			rewriteNamespace(o, b.Namespace, opts.Namespace)
		}
	}
	if opts.Registry != "" {
		reg := strings.TrimSuffix(opts.Registry, "/")
		for _, o := range out {
			if err := rewriteRegistry(o, reg); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// CRDs returns copies of the bundle's CustomResourceDefinitions with opts
// applied, the first step of an install.
func (b *Bundle) CRDs(opts Options) ([]*unstructured.Unstructured, error) {
	objs, err := b.Objects(opts)
	if err != nil {
		return nil, err
	}
	crds, _ := SplitCRDs(objs)
	return crds, nil
}

// Rest returns copies of everything but the CRDs with opts applied, in apply
// order: the second step of an install, once the CRDs are Established.
func (b *Bundle) Rest(opts Options) ([]*unstructured.Unstructured, error) {
	objs, err := b.Objects(opts)
	if err != nil {
		return nil, err
	}
	_, rest := SplitCRDs(objs)
	return rest, nil
}

// ComponentNames returns the names of the bundle's controllers.
func (b *Bundle) ComponentNames() []string {
	names := make([]string, len(b.Components))
	for i, c := range b.Components {
		names[i] = c.Name
	}
	return names
}

// SplitCRDs separates CustomResourceDefinitions from the other objects,
// keeping the order within each part. The slices share the objects.
func SplitCRDs(objs []*unstructured.Unstructured) (crds, rest []*unstructured.Unstructured) {
	for _, o := range objs {
		if isCRD(o) {
			crds = append(crds, o)
		} else {
			rest = append(rest, o)
		}
	}
	return crds, rest
}

func isCRD(o *unstructured.Unstructured) bool {
	gvk := o.GroupVersionKind()
	return gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition"
}

// String describes the bundle, e.g. "Flux v2.9.5 (source-controller v1.9.5, ...)".
func (b *Bundle) String() string {
	parts := make([]string, len(b.Components))
	for i, c := range b.Components {
		parts[i] = c.Name + " " + c.Version
	}
	v := b.Version
	if v == "" {
		v = "(unknown version)"
	}
	return fmt.Sprintf("Flux %s (%s)", v, strings.Join(parts, ", "))
}
