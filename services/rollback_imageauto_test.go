package services_test

import (
	"context"
	"os"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
	"github.com/gitopstui/gitopstui/services/testcluster"
)

// crdYAML is a CRD that keeps any spec, enough to store Flux objects.
func crdYAML(group, version, kind, plural string) []byte {
	return []byte(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ` + plural + `.` + group + `
spec:
  group: ` + group + `
  names: {kind: ` + kind + `, plural: ` + plural + `, singular: ` + strings.ToLower(kind) + `, listKind: ` + kind + `List}
  scope: Namespaced
  versions:
    - name: ` + version + `
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`)
}

// TestRollbackPreviewWarnsOfImageAutomation: an ImageUpdateAutomation on the
// environment's cluster that pushes to its branch and path makes the
// rollback preview warn that it may roll the image forward again; a
// cluster without image automation (no CRD) and an automation of another
// branch do not.
func TestRollbackPreviewWarnsOfImageAutomation(t *testing.T) {
	c := testcluster.Start(t)
	server := gittest.NewHTTPServer(t)
	server.CreateRepo(t, "acme/shop.git", shopRepo)
	t.Setenv("SHOP_GIT_TOKEN", server.Password)
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	svc := newServices(t, t.TempDir())
	mustCall(t, svc, "clusters.register", map[string]any{"id": "cluster-123", "name": "k3s", "kubeconfig": c.Kubeconfig(t)}, nil)
	mustCall(t, svc, "projects.create", map[string]any{"id": "proj-shop", "name": "shop"}, nil)
	mustCall(t, svc, "environments.create", map[string]any{"id": "env-prod", "projectId": "proj-shop", "name": "prod", "clusterId": "cluster-123", "namespace": "shop-prod"}, nil)
	mustCall(t, svc, "repositories.create", map[string]any{"id": "repo-456", "projectId": "proj-shop", "fullName": "acme/shop", "url": server.RepoURL("acme/shop.git"),
		"auth": map[string]any{"type": "basic-env", "username": server.User, "tokenEnv": "SHOP_GIT_TOKEN"}}, nil)
	mustCall(t, svc, "environments.configureGitOps", map[string]any{"environmentId": "env-prod", "config": map[string]any{"enabled": true, "repositoryId": "repo-456", "gitPath": "./k8s/overlays/prod"}}, nil)
	var dep api.DeployResult
	mustCall(t, svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "image": "ghcr.io/acme/web:1.2.3"}, &dep)
	preview := func() string {
		t.Helper()
		var p api.PreviewResult
		mustCall(t, svc, "deployments.previewRollback", map[string]any{"id": dep.DeploymentID}, &p)
		return strings.Join(p.Warnings, "\n")
	}
	if w := preview(); strings.Contains(w, "ImageUpdateAutomation") {
		t.Fatalf("warnings without the image automation CRD: %s", w)
	}

	c.InstallCRDs(t, crdYAML("source.toolkit.fluxcd.io", "v1", "GitRepository", "gitrepositories"),
		crdYAML("image.toolkit.fluxcd.io", "v1beta2", "ImageUpdateAutomation", "imageupdateautomations"))
	dyn := dynamic.NewForConfigOrDie(c.Config())
	create := func(gvr schema.GroupVersionResource, kind, name string, spec map[string]any) {
		t.Helper()
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": gvr.Group + "/" + gvr.Version, "kind": kind,
			"metadata": map[string]any{"name": name, "namespace": "default"}, "spec": spec}}
		if _, err := dyn.Resource(gvr).Namespace("default").Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	gitRepos := schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	automations := schema.GroupVersionResource{Group: "image.toolkit.fluxcd.io", Version: "v1beta2", Resource: "imageupdateautomations"}
	// The same repository under its credentialled URL, and .git-less.
	create(gitRepos, "GitRepository", "shop", map[string]any{"url": strings.TrimSuffix(server.RepoURLWithCreds("acme/shop.git"), ".git"), "ref": map[string]any{"branch": "main"}})
	create(automations, "ImageUpdateAutomation", "other-branch", map[string]any{"sourceRef": map[string]any{"kind": "GitRepository", "name": "shop"},
		"git": map[string]any{"push": map[string]any{"branch": "staging"}}, "update": map[string]any{"path": "./k8s"}})
	if w := preview(); strings.Contains(w, "ImageUpdateAutomation") {
		t.Fatalf("warned of an automation of another branch: %s", w)
	}
	create(automations, "ImageUpdateAutomation", "shop-images", map[string]any{"sourceRef": map[string]any{"kind": "GitRepository", "name": "shop"},
		"git": map[string]any{"checkout": map[string]any{"ref": map[string]any{"branch": "main"}}}, "update": map[string]any{"path": "./k8s", "strategy": "Setters"}})
	if w := preview(); !strings.Contains(w, "ImageUpdateAutomation default/shop-images pushes image updates to branch main") ||
		!strings.Contains(w, "roll the image forward again") || strings.Contains(w, "other-branch") {
		t.Fatalf("warnings with an image automation of the environment: %s", w)
	}
}
