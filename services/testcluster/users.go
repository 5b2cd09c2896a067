package testcluster

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// DefaultContext is the context name of the admin kubeconfig unless WithContext is given.
const DefaultContext = "testcluster"

// KubeconfigOption configures Kubeconfig.
type KubeconfigOption func(*kubeconfigOptions)

type kubeconfigOptions struct {
	context string
}

// WithContext names the kubeconfig's context (and its cluster and user entries).
func WithContext(name string) KubeconfigOption {
	return func(o *kubeconfigOptions) { o.context = name }
}

// Kubeconfig writes a kubeconfig file for the admin user into t.TempDir() and returns its
// path. Its only context (DefaultContext unless WithContext) is the current one.
func (c *Cluster) Kubeconfig(t testing.TB, opts ...KubeconfigOption) string {
	t.Helper()
	o := kubeconfigOptions{context: DefaultContext}
	for _, opt := range opts {
		opt(&o)
	}
	return writeKubeconfig(t, c.Config(), o.context)
}

// User provisions a user authenticated by a client certificate (CN=name, O=groups) that
// has no permissions of its own: tests bind Roles or ClusterRoles to the name or a group.
// It returns the user's client config and a kubeconfig file (in t.TempDir(), context named
// after the user). Every user is also in system:authenticated, as on any cluster.
func (c *Cluster) User(t testing.TB, name string, groups ...string) (*rest.Config, string) {
	t.Helper()
	base := &rest.Config{QPS: c.admin.QPS, Burst: c.admin.Burst}
	c.userMu.Lock() // envtest's CA hands out serial numbers without locking
	u, err := c.env.AddUser(envtest.User{Name: name, Groups: groups}, base)
	c.userMu.Unlock()
	if err != nil {
		t.Fatalf("testcluster: add user %q: %v", name, err)
	}
	cfg := u.Config()
	return rest.CopyConfig(cfg), writeKubeconfig(t, cfg, name)
}

func writeKubeconfig(t testing.TB, cfg *rest.Config, context string) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters[context] = &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.CAData,
	}
	kc.AuthInfos[context] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
		Token:                 cfg.BearerToken,
	}
	kc.Contexts[context] = &clientcmdapi.Context{Cluster: context, AuthInfo: context}
	kc.CurrentContext = context
	data, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatalf("testcluster: kubeconfig: %v", err)
	}
	f, err := os.CreateTemp(t.TempDir(), "kubeconfig-*")
	if err != nil {
		t.Fatalf("testcluster: kubeconfig: %v", err)
	}
	path := f.Name()
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		t.Fatalf("testcluster: write kubeconfig: %v", werr)
	}
	return filepath.Clean(path)
}
