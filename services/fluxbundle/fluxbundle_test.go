package fluxbundle_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
)

func mustLoad(t testing.TB) *fluxbundle.Bundle {
	t.Helper()
	b, err := fluxbundle.Load("")
	if err != nil {
		t.Fatalf("Load latest: %v", err)
	}
	return b
}

func mustObjects(t testing.TB, b *fluxbundle.Bundle, opts fluxbundle.Options) []*unstructured.Unstructured {
	t.Helper()
	objs, err := b.Objects(opts)
	if err != nil {
		t.Fatalf("Objects(%+v): %v", opts, err)
	}
	return objs
}

// typed decodes o strictly into a typed object: an unknown or mistyped field fails.
func typed[T any](t *testing.T, o *unstructured.Unstructured) *T {
	t.Helper()
	var v T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, &v, true); err != nil {
		t.Fatalf("%s %s does not decode strictly: %v", o.GetKind(), o.GetName(), err)
	}
	return &v
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

func TestVersionsEmbedsFlux29(t *testing.T) {
	vs := fluxbundle.Versions()
	if len(vs) == 0 {
		t.Fatal("no embedded Flux version")
	}
	if !slices.Contains(vs, "v2.9.5") {
		t.Fatalf("Versions() = %v, want v2.9.5 among them", vs)
	}
	if got := fluxbundle.Latest(); got != vs[len(vs)-1] {
		t.Fatalf("Latest() = %q, want the last of %v", got, vs)
	}
	for _, v := range []string{"v2.9.5", "2.9.5", " v2.9.5 "} {
		b, err := fluxbundle.Load(v)
		if err != nil {
			t.Fatalf("Load(%q): %v", v, err)
		}
		if b.Version != "v2.9.5" || b.Namespace != "flux-system" {
			t.Fatalf("Load(%q) = version %q namespace %q", v, b.Version, b.Namespace)
		}
	}
}

func TestLoadUnknownVersionIsBadRequestListingAvailable(t *testing.T) {
	for _, v := range []string{"v2.0.0", "v9.9.9", "latest", "2.9"} {
		_, err := fluxbundle.Load(v)
		var e *model.Error
		if !errors.As(err, &e) {
			t.Fatalf("Load(%q) error = %v, want *model.Error", v, err)
		}
		if e.Code != model.CodeBadRequest {
			t.Fatalf("Load(%q) code = %s, want BAD_REQUEST", v, e.Code)
		}
		avail, ok := e.Details["available"].([]string)
		if !ok || !slices.Equal(avail, fluxbundle.Versions()) {
			t.Fatalf("Load(%q) details.available = %#v, want %v", v, e.Details["available"], fluxbundle.Versions())
		}
		fields, ok := e.Details["fields"].(map[string]any)
		if !ok || fields["version"] == nil {
			t.Fatalf("Load(%q) details.fields = %#v, want a version entry", v, e.Details["fields"])
		}
		if !strings.Contains(e.Message, "v2.9.5") {
			t.Fatalf("Load(%q) message %q does not list the available versions", v, e.Message)
		}
	}
}

func TestComponents(t *testing.T) {
	b, err := fluxbundle.Load("v2.9.5")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"source-controller":       "v1.9.5",
		"kustomize-controller":    "v1.9.5",
		"helm-controller":         "v1.6.4",
		"notification-controller": "v1.9.4",
	}
	if got := b.ComponentNames(); !slices.Equal(got, []string{"source-controller", "kustomize-controller", "helm-controller", "notification-controller"}) {
		t.Fatalf("ComponentNames() = %v", got)
	}
	for _, c := range b.Components {
		if c.Version != want[c.Name] {
			t.Errorf("%s version %s, want %s", c.Name, c.Version, want[c.Name])
		}
		if c.Image != "ghcr.io/fluxcd/"+c.Name+":"+c.Version {
			t.Errorf("%s image %s", c.Name, c.Image)
		}
	}
	if s := b.String(); !strings.Contains(s, "Flux v2.9.5") || !strings.Contains(s, "helm-controller v1.6.4") {
		t.Errorf("String() = %q", s)
	}
}

func TestObjectsOrderAndLabels(t *testing.T) {
	b := mustLoad(t)
	objs := mustObjects(t, b, fluxbundle.Options{})
	crds, rest := fluxbundle.SplitCRDs(objs)
	if len(crds) == 0 || len(rest) == 0 {
		t.Fatalf("%d CRDs, %d other objects", len(crds), len(rest))
	}
	for i, o := range objs[:len(crds)] {
		if o.GetKind() != "CustomResourceDefinition" {
			t.Fatalf("object %d is a %s before all CRDs", i, o.GetKind())
		}
	}
	if rest[0].GetKind() != "Namespace" {
		t.Fatalf("first object after the CRDs is a %s, want the Namespace", rest[0].GetKind())
	}
	// Apply order of the rest: kustomize's legacy order.
	rank := map[string]int{"Namespace": 0, "ResourceQuota": 1, "ServiceAccount": 2, "ClusterRole": 3, "ClusterRoleBinding": 4, "Service": 5, "Deployment": 6, "NetworkPolicy": 7}
	for i := 1; i < len(rest); i++ {
		a, ok1 := rank[rest[i-1].GetKind()]
		c, ok2 := rank[rest[i].GetKind()]
		if !ok1 || !ok2 {
			t.Fatalf("unexpected kind %s or %s", rest[i-1].GetKind(), rest[i].GetKind())
		}
		if a > c {
			t.Fatalf("%s %s comes after %s %s", rest[i].GetKind(), rest[i].GetName(), rest[i-1].GetKind(), rest[i-1].GetName())
		}
	}
	seen := map[string]bool{}
	for _, o := range objs {
		key := o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
		if seen[key] {
			t.Errorf("duplicate %s", key)
		}
		seen[key] = true
		l := o.GetLabels()
		if l[fluxbundle.LabelPartOf] != "flux" || l[fluxbundle.LabelInstance] != "flux-system" || l[fluxbundle.LabelVersion] != b.Version {
			t.Errorf("%s lacks the install labels: %v", key, l)
		}
	}
	// The copy handed out is the caller's: changing it leaves the bundle alone.
	objs[0].SetLabels(nil)
	again := mustObjects(t, b, fluxbundle.Options{})
	if again[0].GetLabels()[fluxbundle.LabelPartOf] != "flux" {
		t.Fatal("Objects returned shared objects")
	}
	c, err := b.CRDs(fluxbundle.Options{})
	if err != nil || len(c) != len(crds) {
		t.Fatalf("CRDs() = %d, %v; want %d", len(c), err, len(crds))
	}
	r, err := b.Rest(fluxbundle.Options{})
	if err != nil || len(r) != len(rest) {
		t.Fatalf("Rest() = %d, %v; want %d", len(r), err, len(rest))
	}
}

// TestCRDsMatchPinnedAPIModules checks that every kind of the API modules
// the project compiles against has an embedded CRD that serves and stores
// that version, and that every CRD carries Flux's labels.
func TestCRDsMatchPinnedAPIModules(t *testing.T) {
	b := mustLoad(t)
	crds, _ := fluxbundle.SplitCRDs(mustObjects(t, b, fluxbundle.Options{}))
	served := map[schema.GroupVersionKind]bool{}
	stored := map[schema.GroupKind]string{}
	for _, o := range crds {
		crd := typed[apiextensionsv1.CustomResourceDefinition](t, o)
		l := crd.Labels
		if l[fluxbundle.LabelPartOf] != "flux" || l[fluxbundle.LabelInstance] != "flux-system" ||
			l[fluxbundle.LabelVersion] != b.Version || l[fluxbundle.LabelComponent] == "" {
			t.Errorf("CRD %s labels %v", crd.Name, l)
		}
		if crd.Spec.Conversion != nil && crd.Spec.Conversion.Strategy != apiextensionsv1.NoneConverter {
			t.Errorf("CRD %s has a conversion webhook", crd.Name)
		}
		for _, v := range crd.Spec.Versions {
			if v.Served {
				served[schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}] = true
			}
			if v.Storage {
				stored[schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}] = v.Name
			}
		}
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{sourcev1.AddToScheme, kustomizev1.AddToScheme, helmv2.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for gvk, typ := range scheme.AllKnownTypes() {
		// Only the Flux kinds (the scheme also registers meta options types).
		if strings.HasSuffix(gvk.Kind, "List") || !strings.HasPrefix(typ.PkgPath(), "github.com/fluxcd/") {
			continue
		}
		n++
		if !served[gvk] {
			t.Errorf("no embedded CRD serves %s", gvk)
		}
		if stored[gvk.GroupKind()] != gvk.Version {
			t.Errorf("%s is stored as %q, the pinned API module uses %s", gvk.GroupKind(), stored[gvk.GroupKind()], gvk.Version)
		}
	}
	if n < 8 { // 6 source kinds, Kustomization, HelmRelease
		t.Fatalf("only %d kinds checked", n)
	}
	for _, gvk := range []schema.GroupVersionKind{
		{Group: "notification.toolkit.fluxcd.io", Version: "v1", Kind: "Receiver"},
		{Group: "notification.toolkit.fluxcd.io", Version: "v1beta3", Kind: "Alert"},
		{Group: "notification.toolkit.fluxcd.io", Version: "v1beta3", Kind: "Provider"},
	} {
		if !served[gvk] {
			t.Errorf("no embedded CRD serves %s", gvk)
		}
	}
}

func TestNamespaceRewrite(t *testing.T) {
	b := mustLoad(t)
	objs := mustObjects(t, b, fluxbundle.Options{Namespace: "gitops"})
	for _, o := range objs {
		key := o.GetKind() + " " + o.GetName()
		switch o.GetKind() {
		case "Namespace":
			if o.GetName() != "gitops" {
				t.Errorf("Namespace named %q", o.GetName())
			}
		case "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding":
			if o.GetNamespace() != "" {
				t.Errorf("cluster-scoped %s got namespace %q", key, o.GetNamespace())
			}
		default:
			if o.GetNamespace() != "gitops" {
				t.Errorf("%s in namespace %q", key, o.GetNamespace())
			}
		}
		if o.GetLabels()[fluxbundle.LabelInstance] != "gitops" {
			t.Errorf("%s instance label %q", key, o.GetLabels()[fluxbundle.LabelInstance])
		}
	}
	for _, name := range []string{"crd-controller-gitops", "cluster-reconciler-gitops"} {
		o := find(objs, "ClusterRoleBinding", name)
		if o == nil {
			t.Fatalf("no ClusterRoleBinding %s", name)
		}
		crb := typed[rbacv1.ClusterRoleBinding](t, o)
		for _, s := range crb.Subjects {
			if s.Namespace != "gitops" {
				t.Errorf("%s subject %s in %q", name, s.Name, s.Namespace)
			}
		}
	}
	if ref := typed[rbacv1.ClusterRoleBinding](t, find(objs, "ClusterRoleBinding", "crd-controller-gitops")).RoleRef.Name; ref != "crd-controller-gitops" || find(objs, "ClusterRole", ref) == nil {
		t.Errorf("crd-controller binding refers to %q", ref)
	}
	if find(objs, "ResourceQuota", "critical-pods-gitops") == nil {
		t.Error("no ResourceQuota critical-pods-gitops")
	}
	d := typed[appsv1.Deployment](t, find(objs, "Deployment", "kustomize-controller"))
	if d.Spec.Template.Labels[fluxbundle.LabelInstance] != "gitops" {
		t.Errorf("pod template instance label %q", d.Spec.Template.Labels[fluxbundle.LabelInstance])
	}
	data, err := fluxbundle.Marshal(objs)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.Index(data, []byte("flux-system")); i >= 0 {
		t.Fatalf("flux-system left after the rewrite: %q", data[max(0, i-200):i+20])
	}
	// The bundle itself is untouched.
	if o := find(mustObjects(t, b, fluxbundle.Options{}), "Namespace", "flux-system"); o == nil {
		t.Fatal("the rewrite changed the bundle")
	}
	// Same namespace as the bundle: nothing changes.
	same := mustObjects(t, b, fluxbundle.Options{Namespace: "flux-system"})
	plain := mustObjects(t, b, fluxbundle.Options{})
	a, _ := fluxbundle.Marshal(same)
	p, _ := fluxbundle.Marshal(plain)
	if !bytes.Equal(a, p) {
		t.Fatal("Namespace: flux-system changed the objects")
	}
}

func TestRegistryRewrite(t *testing.T) {
	b := mustLoad(t)
	for _, reg := range []string{"registry.local:5000/fluxcd", "registry.local:5000/fluxcd/", "localhost:5000", "mirror.example.com/a/b"} {
		objs := mustObjects(t, b, fluxbundle.Options{Registry: reg})
		want := strings.TrimSuffix(reg, "/")
		for _, c := range b.Components {
			d := typed[appsv1.Deployment](t, find(objs, "Deployment", c.Name))
			got := d.Spec.Template.Spec.Containers[0].Image
			if got != want+"/"+c.Name+":"+c.Version {
				t.Errorf("registry %q: %s image %s", reg, c.Name, got)
			}
		}
	}
	// Both rewrites together.
	objs := mustObjects(t, b, fluxbundle.Options{Namespace: "gitops", Registry: "registry.local/flux"})
	d := typed[appsv1.Deployment](t, find(objs, "Deployment", "source-controller"))
	if d.Namespace != "gitops" || !strings.HasPrefix(d.Spec.Template.Spec.Containers[0].Image, "registry.local/flux/source-controller:") {
		t.Errorf("combined rewrite: %s %s", d.Namespace, d.Spec.Template.Spec.Containers[0].Image)
	}
}

func TestInvalidOptionsAreBadRequest(t *testing.T) {
	b := mustLoad(t)
	for _, tc := range []struct {
		opts  fluxbundle.Options
		field string
	}{
		{fluxbundle.Options{Namespace: "Flux_System"}, "namespace"},
		{fluxbundle.Options{Namespace: strings.Repeat("a", 64)}, "namespace"},
		{fluxbundle.Options{Registry: "https://registry.local"}, "registry"},
		{fluxbundle.Options{Registry: "registry.local/fluxcd:v1"}, "registry"},
		{fluxbundle.Options{Registry: "registry.local/flux cd"}, "registry"},
		{fluxbundle.Options{Registry: "registry.local/Fluxcd"}, "registry"},
	} {
		_, err := b.Objects(tc.opts)
		e := model.AsError(err)
		if e == nil || e.Code != model.CodeBadRequest {
			t.Fatalf("Objects(%+v) = %v, want BAD_REQUEST", tc.opts, err)
		}
		if fields, _ := e.Details["fields"].(map[string]any); fields[tc.field] == nil {
			t.Errorf("Objects(%+v) details %v, want fields.%s", tc.opts, e.Details, tc.field)
		}
	}
}

func TestParseManifests(t *testing.T) {
	in := `# header comment
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  namespace: x
data:
  key: "1"
---
--- # empty document with a comment
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ServiceAccount
  metadata:
    name: b
- apiVersion: v1
  kind: ServiceAccount
  metadata:
    name: c
...
`
	objs, err := fluxbundle.ParseManifests([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.GetKind()+"/"+o.GetName())
	}
	if !slices.Equal(names, []string{"ConfigMap/a", "ServiceAccount/b", "ServiceAccount/c"}) {
		t.Fatalf("parsed %v", names)
	}
	if v, _, _ := unstructured.NestedString(objs[0].Object, "data", "key"); v != "1" {
		t.Fatalf("data.key = %q", v)
	}

	for _, tc := range []struct {
		in       string
		code     model.Code
		doc      int
		line     int
		contains string
	}{
		{"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [b\n", model.CodeYAMLInvalid, 2, 9, ""},
		{"---\napiVersion: v1\nmetadata:\n  name: a\n", model.CodeYAMLInvalid, 1, 2, "kind"},
		{"- a\n- b\n", model.CodeYAMLInvalid, 1, 1, "not a Kubernetes object"},
		{"apiVersion: v1\nkind: ConfigMap\n", model.CodeYAMLInvalid, 1, 1, "metadata.name"},
	} {
		_, err := fluxbundle.ParseManifests([]byte(tc.in))
		e := model.AsError(err)
		if e == nil || e.Code != tc.code {
			t.Fatalf("ParseManifests(%q) = %v, want %s", tc.in, err, tc.code)
		}
		if e.Details["document"] != tc.doc || e.Details["line"] != tc.line {
			t.Errorf("ParseManifests(%q) details %v, want document %d line %d", tc.in, e.Details, tc.doc, tc.line)
		}
		if !strings.Contains(e.Message, tc.contains) {
			t.Errorf("ParseManifests(%q) message %q lacks %q", tc.in, e.Message, tc.contains)
		}
	}
	big := make([]byte, fluxbundle.MaxManifestBytes+1)
	if _, err := fluxbundle.ParseManifests(big); model.CodeOf(err) != model.CodeBadRequest {
		t.Fatalf("oversized manifests: %v", err)
	}
}

func TestMarshalParseRoundTrip(t *testing.T) {
	b := mustLoad(t)
	objs := mustObjects(t, b, fluxbundle.Options{})
	data, err := fluxbundle.Marshal(objs)
	if err != nil {
		t.Fatal(err)
	}
	back, err := fluxbundle.ParseManifests(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(objs) {
		t.Fatalf("%d objects back, %d out", len(back), len(objs))
	}
	again, _ := fluxbundle.Marshal(back)
	if !bytes.Equal(again, data) {
		t.Fatal("Marshal(ParseManifests(Marshal(objs))) differs")
	}
}

// TestFromManifests treats an export in another namespace as a user's
// `flux install --export` file.
func TestFromManifests(t *testing.T) {
	b := mustLoad(t)
	data, err := fluxbundle.Marshal(mustObjects(t, b, fluxbundle.Options{Namespace: "gitops", Registry: "registry.local/fluxcd"}))
	if err != nil {
		t.Fatal(err)
	}
	data = append([]byte("# This manifest was generated by flux. DO NOT EDIT.\n"), data...)
	user, err := fluxbundle.FromManifests(data)
	if err != nil {
		t.Fatal(err)
	}
	if user.Namespace != "gitops" || user.Version != b.Version {
		t.Fatalf("user bundle namespace %q version %q", user.Namespace, user.Version)
	}
	if !slices.Equal(user.ComponentNames(), b.ComponentNames()) {
		t.Fatalf("user components %v", user.ComponentNames())
	}
	for i, c := range user.Components {
		if c.Version != b.Components[i].Version || c.Image != "registry.local/fluxcd/"+c.Name+":"+c.Version {
			t.Errorf("user component %+v", c)
		}
	}
	objs := mustObjects(t, user, fluxbundle.Options{Namespace: "flux-system", Registry: "ghcr.io/fluxcd"})
	back, _ := fluxbundle.Marshal(objs)
	orig, _ := fluxbundle.Marshal(mustObjects(t, b, fluxbundle.Options{}))
	if !bytes.Equal(back, orig) {
		t.Fatal("moving the user's bundle back to flux-system and ghcr.io/fluxcd does not give the embedded objects")
	}

	_, err = fluxbundle.FromManifests([]byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n"))
	if model.CodeOf(err) != model.CodeBadRequest {
		t.Fatalf("manifests without Flux CRDs: %v", err)
	}
	_, err = fluxbundle.FromManifests([]byte("kind: [\n"))
	if model.CodeOf(err) != model.CodeYAMLInvalid {
		t.Fatalf("broken manifests: %v", err)
	}
}

func ExampleLoad() {
	b, err := fluxbundle.Load("v2.9.5")
	if err != nil {
		panic(err)
	}
	crds, err := b.CRDs(fluxbundle.Options{Namespace: "flux-system"})
	if err != nil {
		panic(err)
	}
	fmt.Println(b.Version, b.ComponentNames(), len(crds) > 0)
	// Output: v2.9.5 [source-controller kustomize-controller helm-controller notification-controller] true
}

func TestImagesWithDigestsAndPorts(t *testing.T) {
	user := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gitrepositories.source.toolkit.fluxcd.io
spec:
  group: source.toolkit.fluxcd.io
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: source-controller
  namespace: flux-system
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: localhost:5000/tools/init
      containers:
      - name: manager
        image: ghcr.io/fluxcd/source-controller:v1.9.5@sha256:0123abcd
`
	b, err := fluxbundle.FromManifests([]byte(user))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Components) != 1 || b.Components[0].Version != "v1.9.5" || b.Namespace != "flux-system" || b.Version != "" {
		t.Fatalf("bundle %+v", b)
	}
	objs := mustObjects(t, b, fluxbundle.Options{Registry: "mirror.local:8443/flux"})
	d := typed[appsv1.Deployment](t, find(objs, "Deployment", "source-controller"))
	if got := d.Spec.Template.Spec.Containers[0].Image; got != "mirror.local:8443/flux/source-controller:v1.9.5@sha256:0123abcd" {
		t.Errorf("container image %s", got)
	}
	if got := d.Spec.Template.Spec.InitContainers[0].Image; got != "mirror.local:8443/flux/init" {
		t.Errorf("init container image %s", got)
	}
	if s := b.String(); !strings.Contains(s, "unknown version") {
		t.Errorf("String() = %q", s)
	}
}
