package testcluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gitopstui/gitopstui/services/testcluster"
)

const widgetCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.gitopstui.dev
spec:
  group: example.gitopstui.dev
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
`

var shared = testcluster.NewShared(testcluster.WithCRDYAML([]byte(widgetCRD)))

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard()) // envtest logs through controller-runtime's logger
	os.Exit(shared.Run(m))
}

func clientset(t *testing.T, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// eventually polls cond until it returns nil or a generous deadline passes (RBAC changes
// reach the authorizer through an informer, so they apply shortly after the write).
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestStartServesPinnedVersionAndCRDs(t *testing.T) {
	c := shared.Get(t)
	cs := c.Clientset(t)
	info, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	v, err := version.ParseSemantic(info.GitVersion)
	if err != nil {
		t.Fatalf("server version %q does not parse: %v", info.GitVersion, err)
	}
	if v.Major() != 1 || v.Minor() != 36 || info.Major != "1" || info.Minor != "36" {
		t.Fatalf("server version = %+v, want 1.36.x", info)
	}
	if _, err := cs.CoreV1().Namespaces().Get(context.Background(), "default", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}

	// The CRD given to NewShared is served: a Widget can be created and read back.
	dyn, err := dynamic.NewForConfig(c.Config())
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "example.gitopstui.dev", Version: "v1", Resource: "widgets"}
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.gitopstui.dev/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w1", "namespace": "default"},
		"spec":     map[string]any{"size": int64(3)},
	}}
	if _, err := dyn.Resource(gvr).Namespace("default").Create(context.Background(), w, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := dyn.Resource(gvr).Namespace("default").Get(context.Background(), "w1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if size, _, _ := unstructured.NestedInt64(got.Object, "spec", "size"); size != 3 {
		t.Fatalf("spec.size = %d, want 3", size)
	}
}

func TestInstallCRDsIntoRunningCluster(t *testing.T) {
	c := shared.Get(t)
	c.InstallCRDs(t, []byte(strings.NewReplacer("widgets", "gadgets", "Widget", "Gadget", "widget", "gadget").Replace(widgetCRD)))
	dyn, err := dynamic.NewForConfig(c.Config())
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "example.gitopstui.dev", Version: "v1", Resource: "gadgets"}
	if _, err := dyn.Resource(gvr).Namespace("default").List(context.Background(), metav1.ListOptions{}); err != nil {
		t.Fatalf("list gadgets after InstallCRDs: %v", err)
	}
}

func TestAdminKubeconfigContext(t *testing.T) {
	c := shared.Get(t)
	for _, tc := range []struct {
		opts []testcluster.KubeconfigOption
		want string
	}{
		{nil, testcluster.DefaultContext},
		{[]testcluster.KubeconfigOption{testcluster.WithContext("k3s-prod")}, "k3s-prod"},
	} {
		path := c.Kubeconfig(t, tc.opts...)
		raw, err := clientcmd.LoadFromFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if raw.CurrentContext != tc.want {
			t.Fatalf("current context = %q, want %q", raw.CurrentContext, tc.want)
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := clientset(t, cfg).CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{}); err != nil {
			t.Fatalf("admin kubeconfig cannot list namespaces: %v", err)
		}
	}
}

func TestUserHasNoPermissionsUntilBound(t *testing.T) {
	c := shared.Get(t)
	ctx := context.Background()
	admin := c.Clientset(t)
	cfg, kubeconfig := c.User(t, "alice", "team-a")
	user := clientset(t, cfg)

	// Namespaces (cluster scope): 403 until a ClusterRoleBinding to the user's group.
	_, err := user.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("list namespaces as a new user: err = %v, want 403 Forbidden", err)
	}
	if _, err := admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "namespace-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "team-a-namespace-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "namespace-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "team-a"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "list namespaces after ClusterRoleBinding", func() error {
		_, err := user.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		return err
	})

	// ConfigMaps (namespaced): 403 until a RoleBinding in that namespace, and still 403
	// in every other namespace.
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "alice-ns"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := user.CoreV1().ConfigMaps("alice-ns").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("list configmaps before RoleBinding: err = %v, want 403", err)
	}
	if _, err := admin.RbacV1().Roles("alice-ns").Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "cm-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"list"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings("alice-ns").Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "alice-cm-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "cm-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The user's kubeconfig file authenticates as the same user.
	fileCfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	fromFile := clientset(t, fileCfg)
	eventually(t, "list configmaps after RoleBinding", func() error {
		_, err := fromFile.CoreV1().ConfigMaps("alice-ns").List(ctx, metav1.ListOptions{})
		return err
	})
	if _, err := fromFile.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("list configmaps in another namespace: err = %v, want 403", err)
	}

	// Who the API server thinks the user is.
	review, err := user.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnReview, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := review.Status.UserInfo; got.Username != "alice" || !contains(got.Groups, "team-a") || !contains(got.Groups, "system:authenticated") {
		t.Fatalf("user info = %+v", got)
	}
}

func TestReadyNode(t *testing.T) {
	c := shared.Get(t)
	ctx := context.Background()
	nodes := c.Clientset(t).CoreV1().Nodes()
	readyStatus := func(name string) corev1.ConditionStatus {
		t.Helper()
		n, err := nodes.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				return cond.Status
			}
		}
		return corev1.ConditionUnknown
	}
	c.AddReadyNode(t, "node-a")
	if got := readyStatus("node-a"); got != corev1.ConditionTrue {
		t.Fatalf("Ready = %s after AddReadyNode", got)
	}
	c.SetNodeReady(t, "node-a", false)
	if got := readyStatus("node-a"); got != corev1.ConditionFalse {
		t.Fatalf("Ready = %s after SetNodeReady(false)", got)
	}
	c.AddReadyNode(t, "node-a") // existing node: back to Ready
	if got := readyStatus("node-a"); got != corev1.ConditionTrue {
		t.Fatalf("Ready = %s after AddReadyNode on an existing node", got)
	}
}

func TestMarkDeploymentAvailable(t *testing.T) {
	c := shared.Get(t)
	ctx := context.Background()
	deps := c.Clientset(t).AppsV1().Deployments("default")
	replicas := int32(2)
	labels := map[string]string{"app": "web"}
	_, err := deps.Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kstatus := func() status.Status {
		t.Helper()
		d, err := deps.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(d)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: obj}
		// Typed Gets leave TypeMeta empty; kstatus needs the kind to apply Deployment rules.
		u.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("Deployment"))
		res, err := status.Compute(u)
		if err != nil {
			t.Fatal(err)
		}
		return res.Status
	}
	if got := kstatus(); got == status.CurrentStatus {
		t.Fatalf("kstatus of a new Deployment = %s, want not Current (no controller runs)", got)
	}
	c.MarkDeploymentAvailable(t, "default", "web")
	d, err := deps.Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.ReadyReplicas != 2 || d.Status.AvailableReplicas != 2 || d.Status.ObservedGeneration != d.Generation {
		t.Fatalf("status = %+v", d.Status)
	}
	if got := kstatus(); got != status.CurrentStatus {
		t.Fatalf("kstatus after MarkDeploymentAvailable = %s, want Current", got)
	}
	c.MarkDeploymentUnavailable(t, "default", "web")
	if got := kstatus(); got != status.InProgressStatus {
		t.Fatalf("kstatus after MarkDeploymentUnavailable = %s, want InProgress", got)
	}
}

// TestRestartKeepsDataAndURL runs on a cluster of its own (Start), so that stopping the API
// server does not disturb the shared one.
func TestRestartKeepsDataAndURL(t *testing.T) {
	c := testcluster.Start(t)
	ctx := context.Background()
	admin := c.Clientset(t)
	url := c.URL()
	if _, err := admin.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "keep"}, Data: map[string]string{"k": "v"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	userCfg, _ := c.User(t, "bob")
	kubeconfig := c.Kubeconfig(t)

	w, err := admin.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// The watch delivers the existing object first.
	if ev := <-w.ResultChan(); ev.Type != watch.Added {
		t.Fatalf("first watch event = %v", ev.Type)
	}

	c.StopAPIServer(t)
	if _, err := admin.CoreV1().ConfigMaps("default").Get(ctx, "keep", metav1.GetOptions{}); err == nil {
		t.Fatal("get succeeded while the API server was stopped")
	}
	// A watch open when the server stops ends (its channel closes): callers must re-watch.
	for range w.ResultChan() {
	}
	c.StartAPIServer(t)

	if c.URL() != url {
		t.Fatalf("URL after restart = %s, want %s", c.URL(), url)
	}
	cm, err := admin.CoreV1().ConfigMaps("default").Get(ctx, "keep", metav1.GetOptions{})
	if err != nil || cm.Data["k"] != "v" {
		t.Fatalf("configmap after restart: %v %v", cm, err)
	}
	// Configs made before the restart still authenticate (same CA, same client CA).
	if _, err := clientset(t, userCfg).CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("user after restart: err = %v, want 403 (authenticated, not authorised)", err)
	}
	fileCfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clientset(t, fileCfg).CoreV1().ConfigMaps("default").Get(ctx, "keep", metav1.GetOptions{}); err != nil {
		t.Fatalf("admin kubeconfig after restart: %v", err)
	}

	// Restart (stop + start in one call) keeps them too.
	c.Restart(t)
	if _, err := admin.CoreV1().ConfigMaps("default").Get(ctx, "keep", metav1.GetOptions{}); err != nil || c.URL() != url {
		t.Fatalf("after Restart: url %s (want %s), err %v", c.URL(), url, err)
	}
}

func TestStopIsIdempotentAndCleansUp(t *testing.T) {
	c := testcluster.Start(t)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := c.Clientset(t).Discovery().ServerVersion(); err == nil {
		t.Fatal("API server still answers after Stop")
	}
}

func TestStartRejectsMissingCRDDir(t *testing.T) {
	// Start reports through t.Fatalf; run it against a recorder to see the failure.
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		testcluster.Start(rec, testcluster.WithCRDDirs(filepath.Join(t.TempDir(), "missing")))
	}()
	<-done
	if !strings.Contains(rec.msg, "CRD directory") {
		t.Fatalf("Start with a missing CRD dir: fatal = %q", rec.msg)
	}
}

func TestUsersInParallel(t *testing.T) {
	c := shared.Get(t)
	for _, name := range []string{"p1", "p2", "p3", "p4"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, _ := c.User(t, name)
			_, err := clientset(t, cfg).CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
			if !apierrors.IsForbidden(err) {
				t.Fatalf("err = %v, want 403", err)
			}
		})
	}
}
