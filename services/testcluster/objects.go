package testcluster

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// AddReadyNode creates a Node named name (if it does not exist) and sets its Ready
// condition to True through the status subresource, as a kubelet would. No node lifecycle
// controller runs, so it stays Ready until SetNodeReady changes it.
func (c *Cluster) AddReadyNode(t testing.TB, name string) {
	t.Helper()
	ctx := context.Background()
	cs := c.Clientset(t)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:   name,
		Labels: map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"},
	}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("testcluster: create node %s: %v", name, err)
	}
	c.SetNodeReady(t, name, true)
}

// SetNodeReady sets the Ready condition of an existing Node to True or False (status
// subresource).
func (c *Cluster) SetNodeReady(t testing.TB, name string, ready bool) {
	t.Helper()
	ctx := context.Background()
	nodes := c.Clientset(t).CoreV1().Nodes()
	cond := corev1.NodeCondition{
		Type:               corev1.NodeReady,
		Status:             corev1.ConditionTrue,
		Reason:             "KubeletReady",
		Message:            "kubelet is posting ready status (testcluster)",
		LastHeartbeatTime:  metav1.Now(),
		LastTransitionTime: metav1.Now(),
	}
	if !ready {
		cond.Status = corev1.ConditionFalse
		cond.Reason = "KubeletNotReady"
		cond.Message = "kubelet is not ready (testcluster)"
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := nodes.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Status.Conditions = setNodeCondition(n.Status.Conditions, cond)
		_, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("testcluster: set node %s ready=%v: %v", name, ready, err)
	}
}

func setNodeCondition(conds []corev1.NodeCondition, c corev1.NodeCondition) []corev1.NodeCondition {
	for i := range conds {
		if conds[i].Type == c.Type {
			if conds[i].Status == c.Status {
				c.LastTransitionTime = conds[i].LastTransitionTime
			}
			conds[i] = c
			return conds
		}
	}
	return append(conds, c)
}

// MarkDeploymentAvailable writes the status a deployment controller and kubelet would
// write for a fully rolled out Deployment: observedGeneration = generation; replicas,
// updated, ready and available replicas = spec.replicas; Available=True and
// Progressing=True (NewReplicaSetAvailable), so kstatus reports it Current.
func (c *Cluster) MarkDeploymentAvailable(t testing.TB, namespace, name string) {
	t.Helper()
	c.setDeploymentStatus(t, namespace, name, true)
}

// MarkDeploymentUnavailable writes the status of a Deployment whose pods never became
// ready: no ready or available replicas and Available=False.
func (c *Cluster) MarkDeploymentUnavailable(t testing.TB, namespace, name string) {
	t.Helper()
	c.setDeploymentStatus(t, namespace, name, false)
}

func (c *Cluster) setDeploymentStatus(t testing.TB, namespace, name string, available bool) {
	t.Helper()
	ctx := context.Background()
	deps := c.Clientset(t).AppsV1().Deployments(namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := deps.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Status = deploymentStatus(d, available, time.Now())
		_, err = deps.UpdateStatus(ctx, d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("testcluster: set status of deployment %s/%s: %v", namespace, name, err)
	}
}

func deploymentStatus(d *appsv1.Deployment, available bool, now time.Time) appsv1.DeploymentStatus {
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	ts := metav1.NewTime(now)
	st := appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation,
		Replicas:           replicas,
		UpdatedReplicas:    replicas,
	}
	if available {
		st.ReadyReplicas = replicas
		st.AvailableReplicas = replicas
		st.Conditions = []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
				Message: "Deployment has minimum availability.", LastUpdateTime: ts, LastTransitionTime: ts},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
				Message: "ReplicaSet has successfully progressed.", LastUpdateTime: ts, LastTransitionTime: ts},
		}
		return st
	}
	st.UnavailableReplicas = replicas
	st.Conditions = []appsv1.DeploymentCondition{
		{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable",
			Message: "Deployment does not have minimum availability.", LastUpdateTime: ts, LastTransitionTime: ts},
		{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "ReplicaSetUpdated",
			Message: "ReplicaSet is progressing.", LastUpdateTime: ts, LastTransitionTime: ts},
	}
	return st
}
