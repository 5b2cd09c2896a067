package kube

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/policy"
	"github.com/gitopstui/gitopstui/store"
)

// RequestTimeout bounds one call to a cluster's API server.
const RequestTimeout = 10 * time.Second

// ProbeTimeout bounds the live checks of clusters.list/get and register, and
// the best-effort reads that must not hold a caller up.
const ProbeTimeout = 3 * time.Second

// Clients caches one REST config per registered cluster and builds the
// clients of a cluster from it.
type Clients struct {
	policy policy.Policy
	db     *store.DB
	now    func() time.Time

	mu      sync.Mutex
	configs map[string]*rest.Config
}

// New returns the client cache of the clusters registered in db, loading
// kubeconfigs as the lending policy p allows.
func New(db *store.DB, now func() time.Time, p policy.Policy) *Clients {
	return &Clients{policy: p, db: db, now: now, configs: map[string]*rest.Config{}}
}

// Forget drops the cached config of cluster id (it was removed or re-registered).
func (k *Clients) Forget(id string) {
	k.mu.Lock()
	delete(k.configs, id)
	k.mu.Unlock()
}

// Kube is the set of clients of one cluster.
type Kube struct {
	Cfg *rest.Config
	CS  kubernetes.Interface
	Dyn dynamic.Interface
}

// Cluster reads a registered cluster.
func (k *Clients) Cluster(id string) (model.Cluster, error) {
	return store.Clusters.Read(k.db, id)
}

// For returns the clients of a registered cluster and the cluster.
func (k *Clients) For(clusterID string) (Kube, model.Cluster, error) {
	c, err := k.Cluster(clusterID)
	if err != nil {
		return Kube{}, c, err
	}
	cfg, err := k.RESTConfig(c)
	if err != nil {
		return Kube{}, c, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return Kube{}, c, model.Wrap(model.CodeK3sNotReady, err, "cluster "+c.ID)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return Kube{}, c, model.Wrap(model.CodeK3sNotReady, err, "cluster "+c.ID)
	}
	return Kube{Cfg: cfg, CS: cs, Dyn: dyn}, c, nil
}

// RESTConfig returns the client config of a registered cluster.
func (k *Clients) RESTConfig(c model.Cluster) (*rest.Config, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if cfg, ok := k.configs[c.ID]; ok {
		return rest.CopyConfig(cfg), nil
	}
	raw, err := loadFile(c.Kubeconfig)
	if err != nil {
		return nil, model.Wrap(model.CodeK3sNotReady, err, fmt.Sprintf("cluster %s: load kubeconfig %s", c.ID, c.Kubeconfig))
	}
	if err := k.checkPlugins(raw, c); err != nil {
		return nil, err
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, c.Context, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, model.Wrap(model.CodeK3sNotReady, err, fmt.Sprintf("cluster %s: load kubeconfig %s context %s", c.ID, c.Kubeconfig, c.Context))
	}
	cfg.Timeout = RequestTimeout
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = "gitopstui"
	k.configs[c.ID] = cfg
	return rest.CopyConfig(cfg), nil
}

// DefaultKubeconfig is $KUBECONFIG's first entry, else ~/.kube/config.
func DefaultKubeconfig() string {
	if env := os.Getenv("KUBECONFIG"); env != "" {
		return filepath.SplitList(env)[0]
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".kube", "config")
}

// LoadKubeconfig reads a kubeconfig file and returns its contexts and current context.
func LoadKubeconfig(path string) (contexts []string, current string, err error) {
	cfg, err := loadFile(path)
	if err != nil {
		return nil, "", err
	}
	for name := range cfg.Contexts {
		contexts = append(contexts, name)
	}
	return contexts, cfg.CurrentContext, nil
}

// loadFile reads a kubeconfig that is a regular file of bounded size (never
// a device or a FIFO a caller named), resolving its relative paths.
func loadFile(path string) (*clientcmdapi.Config, error) {
	if err := policy.CheckRegular("kubeconfig", path, policy.MaxFileBytes); err != nil {
		return nil, errors.New(model.AsError(err).Message)
	}
	return clientcmd.LoadFromFile(path)
}

// checkPlugins refuses, in a serving process that does not allow them,
// a kubeconfig whose user runs an exec or auth-provider plugin: it would
// run as the server's user for whoever calls.
func (k *Clients) checkPlugins(cfg *clientcmdapi.Config, c model.Cluster) error {
	if !k.policy.Serving || k.policy.ExecPlugins {
		return nil
	}
	name := c.Context
	if name == "" {
		name = cfg.CurrentContext
	}
	kctx := cfg.Contexts[name]
	if kctx == nil {
		return nil // the loader reports the missing context
	}
	if u := cfg.AuthInfos[kctx.AuthInfo]; u != nil && (u.Exec != nil || u.AuthProvider != nil) {
		return model.Errorf(model.CodeInsufficientPermission,
			"cluster %s: kubeconfig user %s runs a credential plugin, which this server does not allow (start it with --allow-exec-plugins)", c.ID, kctx.AuthInfo).
			WithDetail("clusterId", c.ID)
	}
	return nil
}
