package testcluster

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
)

// PutStatus creates obj (a namespaced custom resource of gvr) when it does not exist
// and writes status through its status subresource, as the controller that owns it
// would (a Flux controller that does not run here, say).
func (c *Cluster) PutStatus(t testing.TB, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, status map[string]any) {
	t.Helper()
	ctx := context.Background()
	ri := dynamic.NewForConfigOrDie(c.Config()).Resource(gvr).Namespace(obj.GetNamespace())
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		u, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			u, err = ri.Create(ctx, obj, metav1.CreateOptions{})
		}
		if err != nil {
			return err
		}
		u.Object["status"] = status
		_, err = ri.UpdateStatus(ctx, u, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("testcluster: put %s %s/%s with status: %v", gvr.Resource, obj.GetNamespace(), obj.GetName(), err)
	}
}
