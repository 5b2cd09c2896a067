package kube

import (
	"context"
	"strings"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gitopstui/gitopstui/model"
)

// Access is one permission a procedure needs.
type Access struct {
	Verb      string `json:"verb"`
	Group     string `json:"group"`
	Resource  string `json:"resource"`
	Namespace string `json:"namespace,omitempty"`
}

// String says the permission as kubectl auth can-i would.
func (a Access) String() string {
	r := a.Resource
	if a.Group != "" {
		r += "." + a.Group
	}
	if a.Namespace != "" {
		return a.Verb + " " + r + " in " + a.Namespace
	}
	return a.Verb + " " + r
}

// CheckAccess asks the API server (SelfSubjectAccessReview) for each permission
// and answers INSUFFICIENT_PERMISSIONS listing the missing ones.
func CheckAccess(ctx context.Context, cs kubernetes.Interface, need []Access) error {
	type res struct {
		a       Access
		allowed bool
		err     error
	}
	out := make([]res, len(need))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, a := range need {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
				Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
					Verb: a.Verb, Group: a.Group, Resource: a.Resource, Namespace: a.Namespace,
				}},
			}, metav1.CreateOptions{})
			out[i] = res{a: a, err: err, allowed: err == nil && r.Status.Allowed}
		}()
	}
	wg.Wait()
	var missing []Access
	for _, r := range out {
		if r.err != nil {
			return Error(r.err, "check permissions")
		}
		if !r.allowed {
			missing = append(missing, r.a)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	names := make([]string, len(missing))
	for i, m := range missing {
		names[i] = m.String()
	}
	return model.Errorf(model.CodeInsufficientPermission, "missing permissions: %s", strings.Join(names, "; ")).
		WithDetail("missing", missing)
}
