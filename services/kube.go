package services

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// RequestTimeout bounds one call to a cluster's API server.
const RequestTimeout = 10 * time.Second

// probeTimeout bounds the live checks of clusters.list/get and register.
const probeTimeout = 3 * time.Second

// kubeClients caches one REST config per cluster id.
type kubeClients struct {
	mu      sync.Mutex
	configs map[string]*rest.Config
}

func newKubeClients() *kubeClients { return &kubeClients{configs: map[string]*rest.Config{}} }

func (k *kubeClients) forget(id string) {
	k.mu.Lock()
	delete(k.configs, id)
	k.mu.Unlock()
}

// defaultKubeconfig is $KUBECONFIG's first entry, else ~/.kube/config.
func defaultKubeconfig() string {
	if env := os.Getenv("KUBECONFIG"); env != "" {
		return filepath.SplitList(env)[0]
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".kube", "config")
}

// loadKubeconfig reads a kubeconfig file and returns its contexts and current context.
func loadKubeconfig(path string) (contexts []string, current string, err error) {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return nil, "", err
	}
	for name := range cfg.Contexts {
		contexts = append(contexts, name)
	}
	return contexts, cfg.CurrentContext, nil
}

// RESTConfig returns the client config of a registered cluster.
func (s *Services) RESTConfig(c model.Cluster) (*rest.Config, error) {
	s.kube.mu.Lock()
	defer s.kube.mu.Unlock()
	if cfg, ok := s.kube.configs[c.ID]; ok {
		return rest.CopyConfig(cfg), nil
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: c.Kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: c.Context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, model.Wrap(model.CodeK3sNotReady, err, fmt.Sprintf("cluster %s: load kubeconfig %s context %s", c.ID, c.Kubeconfig, c.Context))
	}
	cfg.Timeout = RequestTimeout
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = "gitopstui"
	s.kube.configs[c.ID] = cfg
	return rest.CopyConfig(cfg), nil
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// fluxPartOf is the label selector of Flux's own objects.
const fluxPartOf = "app.kubernetes.io/part-of=flux"

// probeCluster checks reachability, version, nodes and Flux within probeTimeout.
func (s *Services) probeCluster(ctx context.Context, c model.Cluster) api.ClusterStatus {
	st := api.ClusterStatus{CheckedAt: s.now()}
	cfg, err := s.RESTConfig(c)
	if err != nil {
		st.Error = model.AsError(err).Message
		return st
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cfg.Timeout = probeTimeout
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		st.Error = err.Error()
		return st
	}
	v, err := serverVersion(ctx, cs)
	if err != nil {
		st.Error = err.Error()
		return st
	}
	st.Reachable, st.ServerVersion, st.K3s = true, v, strings.Contains(v, "+k3s")
	if nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil {
		st.Nodes = len(nodes.Items)
		for i := range nodes.Items {
			if nodeReady(&nodes.Items[i]) {
				st.NodesReady++
			}
		}
	} else {
		st.Error = "list nodes: " + err.Error()
	}
	if mc, err := metadata.NewForConfig(cfg); err == nil {
		crds, err := mc.Resource(crdGVR).List(ctx, metav1.ListOptions{LabelSelector: fluxPartOf})
		if err == nil && len(crds.Items) > 0 {
			st.FluxInstalled = true
			st.FluxVersion = crds.Items[0].Labels["app.kubernetes.io/version"]
		} else if err != nil && st.Error == "" {
			st.Error = "list CRDs: " + err.Error()
		}
	}
	return st
}

func serverVersion(ctx context.Context, cs kubernetes.Interface) (string, error) {
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		return "", err
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", err
	}
	return v.GitVersion, nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// kubeError maps an API error to the platform's codes: permission denials are
// INSUFFICIENT_PERMISSIONS, connection failures K3S_NOT_READY.
func kubeError(err error, what string) error {
	if err == nil {
		return nil
	}
	var me *model.Error
	if errors.As(err, &me) {
		return err
	}
	switch {
	case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
		return model.Wrap(model.CodeInsufficientPermission, err, what)
	case apierrors.IsNotFound(err):
		return model.Wrap(model.CodeNotFound, err, what)
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		e := model.Wrap(model.CodeBadRequest, err, what)
		if se, ok := err.(apierrors.APIStatus); ok && se.Status().Details != nil {
			fields := map[string]any{}
			for _, c := range se.Status().Details.Causes {
				fields[c.Field] = c.Message
			}
			if len(fields) > 0 {
				e.WithDetail("fields", fields)
			}
		}
		return e
	case apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err):
		return model.Wrap(model.CodeConflictDetected, err, what)
	case isConnError(err):
		return model.Wrap(model.CodeK3sNotReady, err, what+": API server unreachable")
	}
	return model.Wrap(model.CodeInternal, err, what)
}

func isConnError(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") ||
		strings.Contains(msg, "i/o timeout") || strings.Contains(msg, "EOF") || apierrors.IsTimeout(err) ||
		apierrors.IsServerTimeout(err) || apierrors.IsServiceUnavailable(err)
}
