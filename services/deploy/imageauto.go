package deploy

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/fluxobj"
	"github.com/gitopstui/gitopstui/services/kube"
)

// imageUpdateAutomationGVR is Flux's image automation (image-automation-controller).
var imageUpdateAutomationGVR = schema.GroupVersionResource{Group: "image.toolkit.fluxcd.io", Version: "v1beta2", Resource: "imageupdateautomations"}

// SetKube gives the deploy services the cluster clients, with which a
// rollback preview looks for image automations that would undo it.
func (s *Deploy) SetKube(k *kube.Clients) { s.kube = k }

// imageAutomationWarning warns when an ImageUpdateAutomation on the
// environment's cluster pushes to the environment's branch of its
// repository and updates a path that covers the environment's gitPath (or
// lies in it): it may roll an image rolled back forward again. "" when
// there is none, or the cluster has no image automation (its CRD is absent).
func (s *Deploy) imageAutomationWarning(ctx context.Context, t gitTarget) string {
	if s.kube == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, kube.ProbeTimeout)
	defer cancel()
	k, _, err := s.kube.For(t.env.ClusterID)
	if err != nil {
		return fmt.Sprintf("could not check cluster %s for ImageUpdateAutomations: %s", t.env.ClusterID, model.AsError(err).Message)
	}
	list, err := k.Dyn.Resource(imageUpdateAutomationGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		if e := kube.Error(err, "list ImageUpdateAutomations"); model.CodeOf(e) != model.CodeNotFound {
			return fmt.Sprintf("could not check cluster %s for ImageUpdateAutomations: %s", t.env.ClusterID, model.AsError(e).Message)
		}
		return ""
	}
	var names []string
	for i := range list.Items {
		if s.automates(ctx, k, &list.Items[i], t) {
			names = append(names, list.Items[i].GetNamespace()+"/"+list.Items[i].GetName())
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return fmt.Sprintf("ImageUpdateAutomation %s pushes image updates to branch %s at %s: it may roll the image forward again; suspend it or pin its ImagePolicy first",
		strings.Join(names, ", "), t.branch, t.path)
}

// automates reports whether automation u writes to t's branch and path.
func (s *Deploy) automates(ctx context.Context, k kube.Kube, u *unstructured.Unstructured, t gitTarget) bool {
	str := func(o map[string]any, f ...string) string { v, _, _ := unstructured.NestedString(o, f...); return v }
	if sp, _, _ := unstructured.NestedBool(u.Object, "spec", "suspend"); sp {
		return false
	}
	if kind := cmp.Or(str(u.Object, "spec", "sourceRef", "kind"), "GitRepository"); kind != "GitRepository" {
		return false
	}
	ns := cmp.Or(str(u.Object, "spec", "sourceRef", "namespace"), u.GetNamespace())
	src, err := k.Dyn.Resource(fluxobj.GitRepositoryGVR).Namespace(ns).Get(ctx, str(u.Object, "spec", "sourceRef", "name"), metav1.GetOptions{})
	if err != nil || repoKey(str(src.Object, "spec", "url")) != repoKey(t.repo.URL) {
		return false
	}
	branch := cmp.Or(str(u.Object, "spec", "git", "push", "branch"), str(u.Object, "spec", "git", "checkout", "ref", "branch"), str(src.Object, "spec", "ref", "branch"), "master")
	if branch != t.branch {
		return false
	}
	up, gp := cleanGitPath(str(u.Object, "spec", "update", "path")), cleanGitPath(t.path)
	return up == "." || gp == "." || up == gp || strings.HasPrefix(gp, up+"/") || strings.HasPrefix(up, gp+"/")
}

// repoKey is a remote URL without scheme, credentials, port, ".git" and
// case, so that the https and ssh URLs of one repository compare equal.
func repoKey(raw string) string {
	raw = strings.TrimSpace(raw)
	host, p := "", ""
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return raw
		}
		host, p = u.Hostname(), u.Path
	} else if at, colon := strings.LastIndex(raw, "@"), strings.Index(raw, ":"); colon > 0 {
		host, p = raw[at+1:colon], raw[colon+1:]
	} else {
		p = raw
	}
	p = strings.TrimSuffix(strings.Trim(p, "/"), ".git")
	return strings.ToLower(host + "/" + p)
}
