package testcluster_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gitopstui/gitopstui/services/testcluster"
)

// TestNeverAttachesToAnExistingCluster: with USE_EXISTING_CLUSTER=true (envtest's switch
// to use the cluster KUBECONFIG names), KUBECONFIG pointing at another server and envtest's
// binary-path variables pointing nowhere, Start still runs its own kube-apiserver on a
// loopback port of its own. The other server sees no request, and a namespace created in
// the started cluster exists there and nowhere else.
func TestNeverAttachesToAnExistingCluster(t *testing.T) {
	var hits atomic.Int64
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "not the test's cluster", http.StatusServiceUnavailable)
	}))
	t.Cleanup(other.Close)
	t.Setenv("USE_EXISTING_CLUSTER", "true")
	t.Setenv("KUBECONFIG", kubeconfigFor(t, other.URL))
	t.Setenv("KUBEBUILDER_ASSETS", filepath.Join(t.TempDir(), "no-assets"))
	t.Setenv("TEST_ASSET_KUBE_APISERVER", "/nonexistent/kube-apiserver")
	t.Setenv("TEST_ASSET_ETCD", "/nonexistent/etcd")

	c := testcluster.Start(t)
	u, err := url.Parse(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	otherURL, _ := url.Parse(other.URL)
	if u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Host == otherURL.Host {
		t.Fatalf("cluster URL %s: want the test plane's own 127.0.0.1:PORT (the other server is %s)", c.URL(), other.URL)
	}
	kc, err := clientcmd.LoadFromFile(c.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := kc.Clusters[testcluster.DefaultContext].Server; got != c.URL() {
		t.Fatalf("kubeconfig server %s, cluster URL %s", got, c.URL())
	}

	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "own-plane-only"}}
	if _, err := c.Clientset(t).CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace in the started cluster: %v", err)
	}
	if _, err := c.Clientset(t).CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("namespace not visible in the started cluster: %v", err)
	}
	// The package's shared cluster is another control plane: it does not see the namespace.
	if _, err := shared.Get(t).Clientset(t).CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("namespace of one test plane seen in another: %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the server KUBECONFIG names received %d requests", n)
	}
}

// kubeconfigFor writes a kubeconfig whose only context points at server.
func kubeconfigFor(t *testing.T, server string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kubeconfig")
	body := "apiVersion: v1\nkind: Config\nclusters:\n- name: real\n  cluster: {server: \"" + server + "\", insecure-skip-tls-verify: true}\n" +
		"users:\n- name: me\n  user: {token: users-token}\ncontexts:\n- name: real\n  context: {cluster: real, user: me}\ncurrent-context: real\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
