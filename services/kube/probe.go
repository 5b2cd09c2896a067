package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// Probe checks reachability, version, nodes and Flux within ProbeTimeout.
func (k *Clients) Probe(ctx context.Context, c model.Cluster) api.ClusterStatus {
	st := api.ClusterStatus{CheckedAt: k.now().UTC()}
	cfg, err := k.RESTConfig(c)
	if err != nil {
		st.Error = model.AsError(err).Message
		return st
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	cfg.Timeout = ProbeTimeout
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		st.Error = err.Error()
		return st
	}
	v, err := ServerVersion(ctx, cs)
	if err != nil {
		st.Error = err.Error()
		return st
	}
	st.Reachable, st.ServerVersion, st.K3s = true, v, strings.Contains(v, "+k3s")
	if nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil {
		st.Nodes = len(nodes.Items)
		for i := range nodes.Items {
			if NodeReady(&nodes.Items[i]) {
				st.NodesReady++
			}
		}
	} else {
		st.Error = "list nodes: " + err.Error()
	}
	if mc, err := metadata.NewForConfig(cfg); err == nil {
		crds, err := mc.Resource(CRDGVR).List(ctx, metav1.ListOptions{LabelSelector: FluxPartOf})
		if err == nil && len(crds.Items) > 0 {
			st.FluxInstalled = true
			st.FluxVersion = crds.Items[0].Labels["app.kubernetes.io/version"]
		} else if err != nil && st.Error == "" {
			st.Error = "list CRDs: " + err.Error()
		}
	}
	return st
}

// ServerVersion is the API server's gitVersion.
func ServerVersion(ctx context.Context, cs kubernetes.Interface) (string, error) {
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

// NodeReady says whether a node's Ready condition is True.
func NodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// CheckReachable answers K3S_NOT_READY when the API server does not answer.
func CheckReachable(ctx context.Context, k Kube, c model.Cluster) error {
	if _, err := ServerVersion(ctx, k.CS); err != nil {
		return model.Wrap(model.CodeK3sNotReady, err, fmt.Sprintf("cluster %s (%s) is not reachable", c.ID, k.Cfg.Host)).
			WithDetail("clusterId", c.ID).WithDetail("server", k.Cfg.Host)
	}
	return nil
}

// CheckNodesReady answers K3S_NOT_READY when no node is Ready.
func CheckNodesReady(ctx context.Context, k Kube, c model.Cluster) error {
	nodes, err := k.CS.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return Error(err, "list nodes of cluster "+c.ID)
	}
	for i := range nodes.Items {
		if NodeReady(&nodes.Items[i]) {
			return nil
		}
	}
	return model.Errorf(model.CodeK3sNotReady, "cluster %s has no Ready node (%d node(s))", c.ID, len(nodes.Items)).
		WithDetail("clusterId", c.ID).WithDetail("nodes", len(nodes.Items))
}
