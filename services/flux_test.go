package services_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/services/proctest"
	"github.com/gitopstui/gitopstui/services/testcluster"
	"github.com/gitopstui/gitopstui/store"
)

// newSvc opens a services layer over a fresh bbolt file.
func newSvc(t testing.TB) *services.Services {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return services.New(services.Config{DataDir: dir, DB: db})
}

// callProc runs a procedure through the registry as the CLI would.
func callProc(t testing.TB, svc *services.Services, name string, in any, out any) error {
	t.Helper()
	return proctest.Call(t, svc.Registry(), name, in, out)
}

func mustCall(t testing.TB, svc *services.Services, name string, in any, out any) {
	t.Helper()
	proctest.MustCall(t, svc.Registry(), name, in, out)
}

func wantCode(t *testing.T, err error, code model.Code) *model.Error {
	t.Helper()
	return proctest.WantCode(t, err, code)
}

func registerCluster(t testing.TB, svc *services.Services, id, kubeconfig string) {
	t.Helper()
	mustCall(t, svc, "clusters.register", map[string]any{"id": id, "name": id, "kubeconfig": kubeconfig}, nil)
}

func fluxCRDNames(t *testing.T, dyn dynamic.Interface) []string {
	t.Helper()
	l, err := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).
		List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/part-of=flux"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range l.Items {
		if i.GetDeletionTimestamp() == nil {
			names = append(names, i.GetName())
		}
	}
	return names
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var fluxCluster = testcluster.NewShared()

// TestMain runs the package's tests against the shared test control plane.
// No test may reach the user's own clusters: a procedure given no kubeconfig
// falls back to $KUBECONFIG, then ~/.kube/config, so KUBECONFIG names a file
// that does not exist (tests of the fallback set their own).
func TestMain(m *testing.M) {
	if err := os.Setenv("KUBECONFIG", "/nonexistent/gitopstui-tests/kubeconfig"); err != nil {
		panic(err)
	}
	os.Exit(fluxCluster.Run(m))
}

// TestFluxLifecycle installs Flux on an empty cluster, checks health as
// controllers become available, refuses a second install, and uninstalls while
// a Kustomization carries Flux's finalizer.
func TestFluxLifecycle(t *testing.T) {
	c := fluxCluster.Get(t)
	c.AddReadyNode(t, "node-1")
	svc := newSvc(t)
	registerCluster(t, svc, "cluster-123", c.Kubeconfig(t))
	b, err := fluxbundle.Load("")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := b.Objects(fluxbundle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := fluxLifecycle{c: c, svc: svc, dyn: dynamic.NewForConfigOrDie(c.Config()), b: b, objs: objs}

	var before api.ClusterView
	mustCall(t, svc, "clusters.get", map[string]any{"id": "cluster-123"}, &before)
	if !before.Status.Reachable || before.Status.NodesReady != 1 || before.Status.FluxInstalled || !strings.HasPrefix(before.Status.ServerVersion, "v1.36") || before.Status.K3s {
		t.Fatalf("live status before install: %+v", before.Status)
	}
	// Health of a cluster without Flux.
	wantCode(t, callProc(t, svc, "gitops.checkFluxHealth", map[string]any{"clusterId": "cluster-123"}, nil), model.CodeFluxNotInstalled)

	f.install(t)
	f.healthAsControllersComeUp(t)
	f.uninstallWithFinalizer(t)
	f.installFromMirrorIntoNamespace(t)
	f.installFromExportedManifests(t)
}

// fluxLifecycle is what the steps of TestFluxLifecycle share: the cluster,
// registered as cluster-123, and the embedded Flux bundle with its objects.
type fluxLifecycle struct {
	c    *testcluster.Cluster
	svc  *services.Services
	dyn  dynamic.Interface
	b    *fluxbundle.Bundle
	objs []*unstructured.Unstructured
}

// install installs Flux: every object of the bundle is on the cluster,
// applied by gitopstui's field manager, every CRD Established; a second
// install is FLUX_ALREADY_INSTALLED.
func (f fluxLifecycle) install(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var res api.InstallFluxResult
	mustCall(t, f.svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-123"}, &res)
	if !res.Success || res.Version != f.b.Version || res.Namespace != "flux-system" || len(res.Components) != len(f.b.Components) {
		t.Fatalf("install result: %+v", res)
	}
	for _, comp := range res.Components {
		if comp.Status != model.StatusPending {
			t.Errorf("component %s: status %s, want pending (no kubelet runs)", comp.Name, comp.Status)
		}
	}
	for _, o := range f.objs {
		gvk := o.GroupVersionKind()
		gvr := schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: strings.ToLower(gvk.Kind) + "s"}
		if gvk.Kind == "NetworkPolicy" {
			gvr.Resource = "networkpolicies"
		}
		if gvk.Kind == "ResourceQuota" {
			gvr.Resource = "resourcequotas"
		}
		got, err := f.dyn.Resource(gvr).Namespace(o.GetNamespace()).Get(ctx, o.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Errorf("%s %s/%s not on the cluster: %v", gvk.Kind, o.GetNamespace(), o.GetName(), err)
			continue
		}
		if gvk.Kind == "CustomResourceDefinition" && !established(got) {
			t.Errorf("CRD %s not Established", o.GetName())
		}
		if mf := got.GetManagedFields(); len(mf) == 0 || mf[0].Manager != kube.FieldManager {
			t.Errorf("%s %s: not applied by field manager %s: %+v", gvk.Kind, o.GetName(), kube.FieldManager, mf)
		}
	}
	var after api.ClusterView
	mustCall(t, f.svc, "clusters.get", map[string]any{"id": "cluster-123"}, &after)
	if !after.Status.FluxInstalled || after.Status.FluxVersion != f.b.Version {
		t.Fatalf("live status after install: %+v", after.Status)
	}
	e := wantCode(t, callProc(t, f.svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-123"}, nil), model.CodeFluxAlreadyInstalled)
	if e.Details["version"] != f.b.Version {
		t.Errorf("FLUX_ALREADY_INSTALLED details: %v", e.Details)
	}
}

// healthAsControllersComeUp: unhealthy (nothing runs the pods), degraded
// with two controllers available, healthy with all.
func (f fluxLifecycle) healthAsControllersComeUp(t *testing.T) {
	t.Helper()
	var h api.FluxHealth
	mustCall(t, f.svc, "gitops.checkFluxHealth", map[string]any{"clusterId": "cluster-123"}, &h)
	if h.Overall != api.HealthUnhealthy || len(h.Components) != len(f.b.Components) || len(h.CRDs) == 0 {
		t.Fatalf("health right after install: %+v", h)
	}
	f.c.MarkDeploymentAvailable(t, "flux-system", "source-controller")
	f.c.MarkDeploymentAvailable(t, "flux-system", "kustomize-controller")
	mustCall(t, f.svc, "gitops.checkFluxHealth", map[string]any{"clusterId": "cluster-123"}, &h)
	if h.Overall != api.HealthDegraded {
		t.Fatalf("health with 2 of %d available: %s (%s)", len(f.b.Components), h.Overall, h.Message)
	}
	for _, ch := range h.Components {
		wantReady := ch.Name == "source-controller" || ch.Name == "kustomize-controller"
		if ch.Ready != wantReady || (wantReady && ch.ReadyReplicas != ch.Replicas) || (wantReady && len(ch.Conditions) == 0) {
			t.Errorf("controller %+v: ready %v, want %v", ch, ch.Ready, wantReady)
		}
	}
	for _, comp := range f.b.Components {
		f.c.MarkDeploymentAvailable(t, "flux-system", comp.Name)
	}
	mustCall(t, f.svc, "gitops.checkFluxHealth", map[string]any{"clusterId": "cluster-123"}, &h)
	if h.Overall != api.HealthHealthy {
		t.Fatalf("health with all available: %s (%s)", h.Overall, h.Message)
	}
}

// uninstallWithFinalizer uninstalls while a Kustomization carries Flux's
// finalizer: the finalizer is removed, the CRDs, the Kustomization and the
// controllers go, what the Kustomization applied and the namespace stay.
func (f fluxLifecycle) uninstallWithFinalizer(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	ks := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "apps", "namespace": "flux-system", "finalizers": []any{"finalizers.fluxcd.io"}},
		"spec": map[string]any{"interval": "5m", "path": "./apps", "prune": true,
			"sourceRef": map[string]any{"kind": "GitRepository", "name": "flux-system"}},
	}}
	if _, err := f.dyn.Resource(ksGVR).Namespace("flux-system").Create(ctx, ks, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cmGVR := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	applied := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "app-config", "namespace": "default",
			"labels": map[string]any{"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}},
		"data": map[string]any{"k": "v"},
	}}
	if _, err := f.dyn.Resource(cmGVR).Namespace("default").Create(ctx, applied, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	var un api.UninstallFluxResult
	mustCall(t, f.svc, "gitops.uninstallFlux", map[string]any{"clusterId": "cluster-123"}, &un)
	if !un.Success || un.FinalizersRemoved != 1 || un.NamespaceDeleted {
		t.Fatalf("uninstall result: %+v", un)
	}
	waitFor(t, "Flux CRDs to go", func() bool { return len(fluxCRDNames(t, f.dyn)) == 0 })
	waitFor(t, "the Kustomization to go", func() bool {
		_, err := f.dyn.Resource(ksGVR).Namespace("flux-system").Get(ctx, "apps", metav1.GetOptions{})
		return err != nil
	})
	if _, err := f.dyn.Resource(cmGVR).Namespace("default").Get(ctx, "app-config", metav1.GetOptions{}); err != nil {
		t.Fatalf("the object the Kustomization applied is gone: %v", err)
	}
	cs := f.c.Clientset(t)
	nsObj, err := cs.CoreV1().Namespaces().Get(ctx, "flux-system", metav1.GetOptions{})
	if err != nil || nsObj.DeletionTimestamp != nil {
		t.Fatalf("namespace flux-system should stay: %v %v", err, nsObj)
	}
	for _, comp := range f.b.Components {
		if _, err := cs.AppsV1().Deployments("flux-system").Get(ctx, comp.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("controller %s still there: %v", comp.Name, err)
		}
	}
	wantCode(t, callProc(t, f.svc, "gitops.checkFluxHealth", map[string]any{"clusterId": "cluster-123"}, nil), model.CodeFluxNotInstalled)
	wantCode(t, callProc(t, f.svc, "gitops.uninstallFlux", map[string]any{"clusterId": "cluster-123"}, nil), model.CodeFluxNotInstalled)
}

// installFromMirrorIntoNamespace installs again into another namespace from
// a mirror registry, then uninstalls with the namespace.
func (f fluxLifecycle) installFromMirrorIntoNamespace(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var res api.InstallFluxResult
	mustCall(t, f.svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-123", "namespace": "gitops", "registry": "registry.local:5000/fluxcd"}, &res)
	if res.Namespace != "gitops" {
		t.Fatalf("install into gitops: %+v", res)
	}
	cs := f.c.Clientset(t)
	d, err := cs.AppsV1().Deployments("gitops").Get(ctx, "source-controller", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; !strings.HasPrefix(img, "registry.local:5000/fluxcd/source-controller:") {
		t.Fatalf("image not rewritten: %s", img)
	}
	var un api.UninstallFluxResult
	mustCall(t, f.svc, "gitops.uninstallFlux", map[string]any{"clusterId": "cluster-123", "deleteNamespace": true}, &un)
	if !un.NamespaceDeleted || un.Namespace != "gitops" {
		t.Fatalf("uninstall with namespace: %+v", un)
	}
	nsObj, err := cs.CoreV1().Namespaces().Get(ctx, "gitops", metav1.GetOptions{})
	if err == nil && nsObj.DeletionTimestamp == nil {
		t.Fatal("namespace gitops not being deleted")
	}
	waitFor(t, "Flux CRDs to go", func() bool { return len(fluxCRDNames(t, f.dyn)) == 0 })
}

// installFromExportedManifests installs from a user's own `flux install
// --export` file; a manifestsPath that does not exist is BAD_REQUEST naming it.
func (f fluxLifecycle) installFromExportedManifests(t *testing.T) {
	t.Helper()
	export, err := fluxbundle.Marshal(f.objs)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "flux-install.yaml")
	if err := os.WriteFile(file, export, 0o600); err != nil {
		t.Fatal(err)
	}
	var res api.InstallFluxResult
	mustCall(t, f.svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-123", "manifestsPath": file}, &res)
	if !res.Success || res.Version != f.b.Version || res.Namespace != "flux-system" || len(res.Components) != len(f.b.Components) {
		t.Fatalf("install from manifestsPath: %+v", res)
	}
	e := wantCode(t, callProc(t, f.svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-123", "manifestsPath": filepath.Join(t.TempDir(), "missing.yaml")}, nil), model.CodeBadRequest)
	if _, ok := e.Details["fields"].(map[string]any)["manifestsPath"]; !ok {
		t.Fatalf("missing manifests file: %v", e.Details)
	}
	var un api.UninstallFluxResult
	mustCall(t, f.svc, "gitops.uninstallFlux", map[string]any{"clusterId": "cluster-123"}, &un)
}

func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// TestInstallFluxRefusals covers the errors that must leave the cluster untouched.
func TestInstallFluxRefusals(t *testing.T) {
	c := fluxCluster.Get(t)
	svc := newSvc(t)
	dyn := dynamic.NewForConfigOrDie(c.Config())
	ctx := context.Background()

	t.Run("namespaced role only", func(t *testing.T) {
		c.AddReadyNode(t, "node-1")
		cs := c.Clientset(t)
		_, kc := c.User(t, "alice")
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "dev", Namespace: "default"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}}
		if _, err := cs.RbacV1().Roles("default").Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-dev", Namespace: "default"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "dev"},
			Subjects: []rbacv1.Subject{{Kind: "User", Name: "alice", APIGroup: "rbac.authorization.k8s.io"}}}
		if _, err := cs.RbacV1().RoleBindings("default").Create(ctx, rb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		registerCluster(t, svc, "cluster-alice", kc)
		e := wantCode(t, callProc(t, svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-alice"}, nil), model.CodeInsufficientPermission)
		missing, _ := e.Details["missing"].([]any)
		if len(missing) == 0 || !strings.Contains(e.Message, "create customresourcedefinitions.apiextensions.k8s.io") {
			t.Fatalf("missing permissions not listed: %s %v", e.Message, e.Details)
		}
		if names := fluxCRDNames(t, dyn); len(names) != 0 {
			t.Fatalf("CRDs written despite the refusal: %v", names)
		}
		if deps, err := cs.AppsV1().Deployments("flux-system").List(ctx, metav1.ListOptions{}); err != nil || len(deps.Items) != 0 {
			t.Fatalf("controllers written despite the refusal: %v", err)
		}
	})

	t.Run("unreachable API server", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		kc := filepath.Join(t.TempDir(), "kubeconfig")
		body := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster: {server: \"https://%s\", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: gone\n  context: {cluster: gone, user: u}\ncurrent-context: gone\n", addr)
		if err := os.WriteFile(kc, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		registerCluster(t, svc, "cluster-gone", kc)
		wantCode(t, callProc(t, svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-gone"}, nil), model.CodeK3sNotReady)
		wantCode(t, callProc(t, svc, "gitops.checkFluxHealth", map[string]any{"clusterId": "cluster-gone"}, nil), model.CodeK3sNotReady)
	})

	t.Run("no Ready node", func(t *testing.T) {
		registerCluster(t, svc, "cluster-admin", c.Kubeconfig(t))
		c.AddReadyNode(t, "node-1")
		c.SetNodeReady(t, "node-1", false)
		defer c.SetNodeReady(t, "node-1", true)
		e := wantCode(t, callProc(t, svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-admin"}, nil), model.CodeK3sNotReady)
		if !strings.Contains(e.Message, "no Ready node") {
			t.Fatalf("message: %s", e.Message)
		}
		if names := fluxCRDNames(t, dyn); len(names) != 0 {
			t.Fatalf("CRDs written: %v", names)
		}
	})

	t.Run("unknown version", func(t *testing.T) {
		e := wantCode(t, callProc(t, svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-admin", "version": "v2.0.0"}, nil), model.CodeBadRequest)
		avail, _ := e.Details["available"].([]any)
		if len(avail) == 0 {
			t.Fatalf("available versions not listed: %v", e.Details)
		}
	})

	t.Run("unknown cluster", func(t *testing.T) {
		wantCode(t, callProc(t, svc, "gitops.installFlux", map[string]any{"clusterId": "nope"}, nil), model.CodeNotFound)
	})
}
