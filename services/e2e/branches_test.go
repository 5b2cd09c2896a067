package e2e_test

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitops"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// branchFiles is one config repository for production and development.
var branchFiles = map[string]string{
	"k8s/base/deployment.yaml":                    baseDeployment,
	"k8s/base/kustomization.yaml":                 "resources:\n  - deployment.yaml\n",
	"k8s/overlays/production/kustomization.yaml":  "# production overlay\nresources:\n  - ../../base\n",
	"k8s/overlays/development/kustomization.yaml": "# development overlay\nresources:\n  - ../../base\n",
}

// TestEnvironmentsOnTheirOwnBranches is the reference's setup: one repository,
// production on main with manual sync, development on develop with autoSync,
// both environments on one cluster, configured before the repository was
// enabled for GitOps and without a repositoryId. Each deploy commits to its
// environment's branch, and the real Flux controllers apply each commit to
// its own environment's namespace only. Then development is promoted to
// production.
func TestEnvironmentsOnTheirOwnBranches(t *testing.T) {
	l := setupLoop(t)
	const repo = "acme/shop.git"
	ids := branchEnvironments(t, l, repo)
	head := func(branch string) string { return gittest.Git(t, l.git.Dir(repo), "rev-parse", branch) }
	applied := func(env, revision string) {
		t.Helper()
		waitUntil(t, waitLimit, env+" applies "+revision, func() (bool, string) {
			d := l.resource(t, ids[env])
			return d.LastAppliedRevision == revision, fmt.Sprintf("%s %q applied %q", d.Status, d.ErrorMessage, d.LastAppliedRevision)
		})
	}
	image := func(ns string) string {
		t.Helper()
		dep := l.deployment(t, ns)
		if dep == nil {
			return ""
		}
		return dep.Spec.Template.Spec.Containers[0].Image
	}

	// Development syncs on its own, from develop; production waits for triggerSync.
	applied("env-dev", "develop@sha1:"+head("develop"))
	var sync api.SyncResult
	mustCall(t, l.svc, "gitops.triggerSync", map[string]any{"id": ids["env-prod"], "waitSeconds": 60}, &sync)
	if !sync.Success || sync.Revision != rev(head("main")) {
		t.Fatalf("first production sync: %+v", sync)
	}
	if image("shop-production") != "ghcr.io/acme/web:1.0.0" || image("shop-development") != "ghcr.io/acme/web:1.0.0" {
		t.Fatalf("first apply: production %s, development %s", image("shop-production"), image("shop-development"))
	}

	// A deploy to development is a commit on develop that reaches development only.
	mainBefore := head("main")
	var dev api.DeployResult
	mustCall(t, l.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-dev",
		"image": "ghcr.io/acme/web:2.0.0-rc.1"}, &dev)
	if dev.Branch != "develop" || head("develop") != dev.CommitSha || head("main") != mainBefore {
		t.Fatalf("deploy to development: %+v", dev)
	}
	waitUntil(t, waitLimit, "development runs the new image", func() (bool, string) {
		return image("shop-development") == "ghcr.io/acme/web:2.0.0-rc.1", image("shop-development")
	})
	applied("env-dev", "develop@sha1:"+dev.CommitSha)

	// A deploy to production is a commit on main, applied on triggerSync,
	// to production only.
	var prod api.DeployResult
	mustCall(t, l.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod",
		"image": "ghcr.io/acme/web:1.1.0"}, &prod)
	if prod.Branch != "main" || head("main") != prod.CommitSha || head("develop") != dev.CommitSha {
		t.Fatalf("deploy to production: %+v", prod)
	}
	mustCall(t, l.svc, "gitops.triggerSync", map[string]any{"id": ids["env-prod"], "waitSeconds": 60}, &sync)
	if !sync.Success || sync.Revision != rev(prod.CommitSha) || image("shop-production") != "ghcr.io/acme/web:1.1.0" {
		t.Fatalf("production sync of its deploy: %+v, image %s", sync, image("shop-production"))
	}
	if image("shop-development") != "ghcr.io/acme/web:2.0.0-rc.1" {
		t.Fatalf("production's commit reached development: %s", image("shop-development"))
	}
	if d := l.resource(t, ids["env-dev"]); d.LastAppliedRevision != "develop@sha1:"+dev.CommitSha {
		t.Fatalf("development applied %s", d.LastAppliedRevision)
	}
	// Both deployments are recorded as applied by Flux.
	for _, id := range []string{dev.DeploymentID, prod.DeploymentID} {
		waitUntil(t, waitLimit, "deployment "+id+" success", func() (bool, string) {
			var d model.Deployment
			mustCall(t, l.svc, "deployments.get", map[string]any{"id": id}, &d)
			return d.Status == model.DeploySuccess, fmt.Sprintf("%+v", d)
		})
	}
	promoteToProduction(t, l, ids, image)
}

// branchEnvironments sets up the reference's two environments of repository repo:
// production on main with manual sync and development on develop with autoSync, configured
// before the repository is enabled for GitOps, and one Kustomization each, which follow their
// own branch's GitRepository. It returns the resource ids by environment id.
func branchEnvironments(t *testing.T, l *loop, repo string) map[string]string {
	t.Helper()
	l.git.CreateRepo(t, repo, branchFiles)
	gittest.Git(t, l.git.Dir(repo), "branch", "develop", "main")
	for id, env := range map[string]string{"env-prod": "production", "env-dev": "development"} {
		l.createNamespace(t, "shop-"+env)
		mustCall(t, l.svc, "environments.create", map[string]any{"id": id, "projectId": "proj-shop", "name": env, "clusterId": "cluster-123", "namespace": "shop-" + env}, nil)
	}
	// The reference's environments.configureGitOps example (every interval at
	// 10m, so that what Flux applies within a wait was asked for).
	mustCall(t, l.svc, "environments.configureGitOps", map[string]any{"environmentId": "env-prod", "config": map[string]any{
		"enabled": true, "autoSync": false, "gitBranch": "main", "gitPath": "./k8s/overlays/production", "syncInterval": interval}}, nil)
	mustCall(t, l.svc, "environments.configureGitOps", map[string]any{"environmentId": "env-dev", "config": map[string]any{
		"enabled": true, "autoSync": true, "gitBranch": "develop", "gitPath": "./k8s/overlays/development", "syncInterval": interval}}, nil)
	mustCall(t, l.svc, "repositories.create", map[string]any{"id": "repo-shop", "projectId": "proj-shop", "fullName": "acme/shop", "url": l.git.RepoURL(repo),
		"auth": map[string]any{"type": "basic-env", "username": l.git.User, "tokenEnv": "SHOP_GIT_TOKEN"}}, nil)
	var en api.EnableGitOpsResult
	mustCall(t, l.svc, "repositories.enableGitOps", map[string]any{"repositoryId": "repo-shop",
		"config": map[string]any{"fluxNamespace": fluxNS, "syncInterval": interval, "secretRef": "shop-git-auth"}}, &en)

	ids := map[string]string{}
	for env, name := range map[string]string{"env-prod": "shop-production", "env-dev": "shop-development"} {
		var sum api.ResourceSummary
		mustCall(t, l.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": env, "name": name,
			"type": "kustomization", "config": map[string]any{"prune": true}}, &sum)
		ids[env] = sum.ID
	}
	develop := gitops.FluxSourceName("acme/shop", "develop")
	for name, want := range map[string]string{"shop-production": en.FluxResourceName, "shop-development": develop} {
		if src, _, _ := unstructured.NestedString(l.kustomization(t, name).Object, "spec", "sourceRef", "name"); src != want {
			t.Fatalf("%s follows %s, want %s", name, src, want)
		}
	}
	return ids
}
