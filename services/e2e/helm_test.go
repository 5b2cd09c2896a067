package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
	"github.com/gitopstui/gitopstui/services/helmchart/helmtest"
)

// helmRepoFiles is the fixture laid out like Flux's official example, made
// to run two environments on one cluster: each overlay puts the release in
// its own namespace (created by the test: the base's Namespace is left
// out), and waiting is off (no kubelet makes pods ready).
func helmRepoFiles(t *testing.T, chartRepo string) map[string]string {
	files := map[string]string{}
	for p, b := range helmtest.Files(t, chartRepo) {
		files[p] = string(b)
	}
	files["apps/base/podinfo/kustomization.yaml"] = strings.Replace(files["apps/base/podinfo/kustomization.yaml"], "  - namespace.yaml\n", "", 1)
	files["apps/base/podinfo/release.yaml"] = strings.Replace(files["apps/base/podinfo/release.yaml"], "  install:\n",
		"  upgrade:\n    disableWait: true\n  install:\n    disableWait: true\n", 1)
	for _, env := range []string{"staging", "production"} {
		k := "apps/" + env + "/kustomization.yaml"
		files[k] = strings.Replace(files[k], "namespace: podinfo\n", "namespace: podinfo-"+env+"\n", 1)
	}
	return files
}

// helmEnv configures environment name on the repository at ./apps/<name>
// and creates its Kustomization.
func (l *loop) helmEnv(t *testing.T, name string) {
	t.Helper()
	l.createNamespace(t, "podinfo-"+name)
	mustCall(t, l.svc, "environments.create", map[string]any{"id": "env-" + name, "projectId": "proj-shop", "name": name, "clusterId": "cluster-123", "namespace": "podinfo-" + name}, nil)
	mustCall(t, l.svc, "environments.configureGitOps", map[string]any{"environmentId": "env-" + name, "config": map[string]any{
		"enabled": true, "autoSync": true, "repositoryId": "repo-podinfo", "gitPath": "./apps/" + name, "syncInterval": interval}}, nil)
}

func (l *loop) deployedImage(t *testing.T, ns string) string {
	t.Helper()
	d, err := l.cs.AppsV1().Deployments(ns).Get(context.Background(), "podinfo", metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

func (l *loop) helmDiff(t *testing.T, env string) api.HelmReleaseDiff {
	t.Helper()
	var d api.HelmReleaseDiff
	mustCall(t, l.svc, "gitops.diffHelmRelease", map[string]any{"environmentId": "env-" + env, "name": "podinfo"}, &d)
	return d
}

// TestHelmReleaseLoop: the real helm-controller installs the chart from a
// loopback Helm repository in staging and production; an image tag and a
// chart version deployed to production only upgrade production's release on
// the API server while staging stays as it was; what previewChanges rendered
// is what helm-controller applied (diffHelmRelease: Git renders what the
// deployed revision holds, before and after).
func TestHelmReleaseLoop(t *testing.T) {
	l := setupLoop(t)
	startHelmController(t, l.c.Kubeconfig(t), fluxNS)
	charts := helmtest.Serve(t, "6.5.0", "6.6.0")
	repoName := "acme/podinfo-gitops.git"
	l.git.CreateRepo(t, repoName, helmRepoFiles(t, charts.URL))
	mustCall(t, l.svc, "repositories.create", map[string]any{"id": "repo-podinfo", "projectId": "proj-shop", "fullName": "acme/podinfo-gitops", "url": l.git.RepoURL(repoName),
		"auth": map[string]any{"type": "basic-env", "username": l.git.User, "tokenEnv": "SHOP_GIT_TOKEN"}}, nil)
	l.helmEnv(t, "staging")
	l.helmEnv(t, "production")
	mustCall(t, l.svc, "repositories.enableGitOps", map[string]any{"repositoryId": "repo-podinfo",
		"config": map[string]any{"fluxNamespace": fluxNS, "syncInterval": interval, "secretRef": "shop-git-auth"}}, nil)
	for _, env := range []string{"staging", "production"} {
		mustCall(t, l.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": "env-" + env, "name": "podinfo-" + env,
			"type": "kustomization", "config": map[string]any{"prune": true}}, nil)
	}
	for _, env := range []string{"staging", "production"} {
		waitUntil(t, waitLimit, "helm-controller installs podinfo in "+env, func() (bool, string) {
			img := l.deployedImage(t, "podinfo-"+env)
			return img == "ghcr.io/stefanprodan/podinfo:6.5.0", img
		})
		if d := l.helmDiff(t, env); !d.InSync || d.DeployedRevision != 1 || d.DeployedVersion != "6.5.0" || d.Diff != "" {
			t.Fatalf("%s after install: Git's render differs from what helm-controller installed: %+v\n%s", env, d, d.Diff)
		}
	}

	l.helmDeployProduction(t, repoName)
	l.helmCreateResource(t, charts.URL)
}

// helmDeployProduction previews and deploys an image tag and a chart
// version to production and follows helm-controller's upgrade.
func (l *loop) helmDeployProduction(t *testing.T, repoName string) {
	var p api.PreviewResult
	change := map[string]any{"image": "ghcr.io/stefanprodan/podinfo:6.5.4", "chartVersion": "6.6.0"}
	mustCall(t, l.svc, "gitops.previewChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-production", "changes": change}, &p)
	if p.Helm == nil || p.Helm.FromVersion != "6.5.0" || p.Helm.ToVersion != "6.6.0" ||
		!strings.Contains(p.Helm.RenderedDiff, `+          image: "ghcr.io/stefanprodan/podinfo:6.5.4"`) || !p.Impact.WillRestartPods {
		t.Fatalf("preview: %+v %+v", p.Helm, p.Impact)
	}
	deploy := map[string]any{"projectId": "proj-shop", "environmentId": "env-production"}
	for k, v := range change {
		deploy[k] = v
	}
	var res api.DeployResult
	mustCall(t, l.svc, "gitops.deployWithGitOps", deploy, &res)
	l.helmDeploymentFollowsRelease(t, res.DeploymentID)
	waitUntil(t, waitLimit, "helm-controller upgrades production", func() (bool, string) {
		d := l.helmDiff(t, "production")
		return d.DeployedRevision == 2, fmt.Sprintf("%+v image %s", d, l.deployedImage(t, "podinfo-production"))
	})
	if img := l.deployedImage(t, "podinfo-production"); img != "ghcr.io/stefanprodan/podinfo:6.5.4" {
		t.Fatalf("production runs %s", img)
	}
	if d := l.helmDiff(t, "production"); !d.InSync || d.DeployedVersion != "6.6.0" || d.GitVersion != "6.6.0" {
		t.Fatalf("production after the upgrade: what helm-controller applied differs from the preview's render: %+v\n%s", d, d.Diff)
	}
	if d := l.helmDiff(t, "staging"); !d.InSync || d.DeployedRevision != 1 || d.DeployedVersion != "6.5.0" || l.deployedImage(t, "podinfo-staging") != "ghcr.io/stefanprodan/podinfo:6.5.0" {
		t.Fatalf("staging changed: %+v", d)
	}
	if got := gittest.Git(t, l.git.Dir(repoName), "log", "-1", "--format=%s", "main"); !strings.Contains(got, "deploy(production/podinfo)") {
		t.Errorf("commit %q", got)
	}
	var dep model.Deployment
	mustCall(t, l.svc, "deployments.get", map[string]any{"id": res.DeploymentID}, &dep)
	if dep.EnvironmentID != "env-production" || dep.GitCommitSha != res.CommitSha {
		t.Errorf("deployment record %+v", dep)
	}
}

// helmCreateResource: createGitOpsResource of type helm with the
// reference's fields (a HelmRepository by URL, chart, version, values)
// makes a HelmRelease that the real helm-controller installs, and
// diffHelmRelease by the resource's id finds what it installed to be what
// the release renders.
func (l *loop) helmCreateResource(t *testing.T, chartRepo string) {
	var sum api.ResourceSummary
	mustCall(t, l.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": "env-staging", "name": "web-chart", "type": "helm",
		"config": map[string]any{"sourceType": "HelmRepository", "source": map[string]any{"url": chartRepo}, "chartName": "podinfo", "chartVersion": "6.5.0",
			"values": map[string]any{"replicaCount": 3, "image": map[string]any{"tag": "6.5.1"}}, "install": map[string]any{"disableWait": true}}}, &sum)
	waitUntil(t, waitLimit, "helm-controller installs the created HelmRelease", func() (bool, string) {
		d, err := l.cs.AppsV1().Deployments("podinfo-staging").Get(context.Background(), "podinfo-staging-web-chart", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return d.Spec.Template.Spec.Containers[0].Image == "ghcr.io/stefanprodan/podinfo:6.5.1" && *d.Spec.Replicas == 3, d.Spec.Template.Spec.Containers[0].Image
	})
	var d api.HelmReleaseDiff
	mustCall(t, l.svc, "gitops.diffHelmRelease", map[string]any{"id": sum.ID}, &d)
	if !d.InSync || d.Release != "podinfo-staging-web-chart" || d.DeployedRevision != 1 || d.Diff != "" {
		t.Fatalf("diffHelmRelease of the created resource: %+v\n%s", d, d.Diff)
	}
}
