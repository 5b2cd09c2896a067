package services_test

import (
	"os"
	"path"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
	"github.com/gitopstui/gitopstui/services/helmchart/helmtest"
)

// helmEnv is a project whose environments deploy a HelmRelease: the fixture
// laid out like Flux's official example on a real git http-backend, the
// chart (6.5.0 and 6.6.0) in a loopback Helm repository and, for
// env-gitchart, in the Git repository itself (a GitRepository source).
type helmEnv struct {
	deployEnv
	helm *helmtest.Repo
	repo string
}

const gitChartRelease = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: podinfo
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/podinfo
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
  values:
    replicaCount: 1 # one is enough here
`

func setupHelm(t testing.TB) helmEnv {
	t.Helper()
	hr := helmtest.Serve(t, "6.5.0", "6.6.0")
	server := gittest.NewHTTPServer(t)
	files := map[string]string{}
	for p, b := range helmtest.Files(t, hr.URL) {
		files[p] = string(b)
	}
	for p, b := range helmtest.ChartFiles(t) {
		files[path.Join("charts/podinfo", p)] = string(b)
	}
	files["apps/gitchart/release.yaml"] = gitChartRelease
	files["apps/plain/web.yaml"] = baseDeployment
	name := "acme/podinfo-gitops.git"
	files["clusters/production/flux-system/gotk-sync.yaml"] = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n  url: " +
		server.RepoURL(name) + "\n  ref:\n    branch: main\n"
	server.CreateRepo(t, name, files)
	t.Setenv("SHOP_GIT_TOKEN", server.Password)
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	return helmServices(t, server, hr)
}

// helmServices is one gitopstui (its own data dir and Git cache) on the
// fixture repository of server.
func helmServices(t testing.TB, server *gittest.HTTPServer, hr *helmtest.Repo) helmEnv {
	t.Helper()
	name := "acme/podinfo-gitops.git"
	dir := t.TempDir()
	svc := newServices(t, dir)
	mustCall(t, svc, "clusters.register", map[string]any{"id": "cluster-123", "name": "k3s", "kubeconfig": offlineKubeconfig(t)}, nil)
	mustCall(t, svc, "projects.create", map[string]any{"id": "proj-pod", "name": "podinfo"}, nil)
	mustCall(t, svc, "repositories.create", map[string]any{"id": "repo-pod", "projectId": "proj-pod", "fullName": "acme/podinfo-gitops", "url": server.RepoURL(name),
		"auth": map[string]any{"type": "basic-env", "username": server.User, "tokenEnv": "SHOP_GIT_TOKEN"}}, nil)
	for env, p := range map[string]string{"staging": "apps/staging", "production": "apps/production", "gitchart": "apps/gitchart", "plain": "apps/plain"} {
		mustCall(t, svc, "environments.create", map[string]any{"id": "env-" + env, "projectId": "proj-pod", "name": env, "clusterId": "cluster-123", "namespace": "podinfo"}, nil)
		mustCall(t, svc, "environments.configureGitOps", map[string]any{"environmentId": "env-" + env, "config": map[string]any{"enabled": true, "repositoryId": "repo-pod", "gitPath": "./" + p}}, nil)
	}
	return helmEnv{deployEnv: deployEnv{svc: svc, server: server, dir: dir}, helm: hr, repo: server.Dir(name)}
}

func TestHelmPreviewRendersOldAndNew(t *testing.T) {
	h := setupHelm(t)
	before := gittest.Log(t, h.repo, "main")
	var p api.PreviewResult
	mustCall(t, h.svc, "gitops.previewChanges", map[string]any{"projectId": "proj-pod", "environmentId": "env-production",
		"changes": map[string]any{"image": "ghcr.io/stefanprodan/podinfo:6.5.4", "chartVersion": "6.6.0"}}, &p)
	if !strings.Contains(p.Diff, "diff --git a/apps/production/podinfo-values.yaml") || !strings.Contains(p.Diff, `+      version: "6.6.0" # pinned for production`) ||
		!strings.Contains(p.Diff, "+    image:\n+      tag: 6.5.4") || len(p.Summary.Files) != 1 {
		t.Fatalf("values diff:\n%s", p.Diff)
	}
	hp := p.Helm
	if hp == nil || hp.Release != "podinfo" || hp.Namespace != "podinfo" || hp.FromVersion != "6.5.0" || hp.ToVersion != "6.6.0" {
		t.Fatalf("helm preview: %+v", hp)
	}
	for _, want := range []string{
		"diff --git a/HelmRelease/podinfo/Deployment/podinfo.yaml",
		`-          image: "ghcr.io/stefanprodan/podinfo:6.5.0"`,
		`+          image: "ghcr.io/stefanprodan/podinfo:6.5.4"`,
		"+    helm.sh/chart: podinfo-6.6.0",
		"diff --git a/HelmRelease/podinfo/Service/podinfo.yaml",
	} {
		if !strings.Contains(hp.RenderedDiff, want) {
			t.Errorf("rendered diff lacks %q:\n%s", want, hp.RenderedDiff)
		}
	}
	if !p.Impact.WillRestartPods || p.Impact.EstimatedDowntime != "none" || !strings.Contains(p.Impact.DowntimeReason, "RollingUpdate keeps at least 1 of 2 pods") ||
		strings.Join(p.Impact.AffectedResources, ",") != "HelmRelease/podinfo,Deployment/podinfo,Service/podinfo" || p.Workload != "HelmRelease/podinfo" {
		t.Errorf("impact %+v workload %s", p.Impact, p.Workload)
	}
	// Scaling staging re-renders without a restart.
	p = api.PreviewResult{}
	mustCall(t, h.svc, "gitops.previewChanges", map[string]any{"projectId": "proj-pod", "environmentId": "env-staging", "changes": map[string]any{"replicas": 3}}, &p)
	if p.Impact.WillRestartPods || !strings.Contains(p.Helm.RenderedDiff, "+  replicas: 3") || !strings.Contains(p.Diff, "+    replicaCount: 3") {
		t.Errorf("staging scale: %+v\n%s\n%s", p.Impact, p.Diff, p.Helm.RenderedDiff)
	}
	if after := gittest.Log(t, h.repo, "main"); len(after) != len(before) {
		t.Fatal("preview pushed a commit")
	}
}

func TestHelmDeployProductionOnly(t *testing.T) {
	h := setupHelm(t)
	staging := gittest.Show(t, h.repo, "main", "apps/staging/podinfo-values.yaml")
	var res api.DeployResult
	mustCall(t, h.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-pod", "environmentId": "env-production",
		"image": "ghcr.io/stefanprodan/podinfo:6.5.4", "chartVersion": "6.6.0"}, &res)
	if len(res.CommitSha) != 40 || !strings.Contains(res.Message, "helm-controller then upgrades release podinfo/podinfo") {
		t.Fatalf("deploy: %+v", res)
	}
	prod := gittest.Show(t, h.repo, "main", "apps/production/podinfo-values.yaml")
	for _, want := range []string{`version: "6.6.0" # pinned for production`, "    # production keeps two replicas\n", "    image:\n      tag: 6.5.4"} {
		if !strings.Contains(prod, want) {
			t.Errorf("production values lack %q:\n%s", want, prod)
		}
	}
	if got := gittest.Show(t, h.repo, "main", "apps/staging/podinfo-values.yaml"); got != staging {
		t.Errorf("staging changed:\n%s", got)
	}
	if subject := gittest.Git(t, h.repo, "log", "-1", "--format=%s", "main"); strings.TrimSpace(subject) != "deploy(production/podinfo): set image ghcr.io/stefanprodan/podinfo:6.5.4, chart podinfo 6.6.0" {
		t.Errorf("subject %q", subject)
	}
	var dep model.Deployment
	mustCall(t, h.svc, "deployments.get", map[string]any{"id": res.DeploymentID}, &dep)
	if dep.GitCommitSha != res.CommitSha || dep.EnvironmentID != "env-production" || !strings.Contains(dep.Diff, "tag: 6.5.4") {
		t.Errorf("recorded: %+v", dep)
	}
	// values merge; the same values again commit nothing.
	in := map[string]any{"projectId": "proj-pod", "environmentId": "env-production", "values": map[string]any{"service": map[string]any{"port": 8080}}}
	mustCall(t, h.svc, "gitops.deployWithGitOps", in, &res)
	if prod := gittest.Show(t, h.repo, "main", "apps/production/podinfo-values.yaml"); !strings.Contains(prod, "    service:\n      port: 8080") {
		t.Errorf("values not merged:\n%s", prod)
	}
	wantCode(t, callProc(t, h.svc, "gitops.deployWithGitOps", in, nil), model.CodeBadRequest)
}

func TestHelmRefusals(t *testing.T) {
	h := setupHelm(t)
	before := gittest.Log(t, h.repo, "main")
	prod := func(extra map[string]any) map[string]any {
		m := map[string]any{"projectId": "proj-pod", "environmentId": "env-production"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	// values.schema.json says replicaCount is an integer.
	e := wantCode(t, callProc(t, h.svc, "gitops.deployWithGitOps", prod(map[string]any{"values": map[string]any{"replicaCount": "many"}}), nil), model.CodeBadRequest)
	if !strings.Contains(e.Message, "replicaCount") {
		t.Errorf("schema refusal: %v", e)
	}
	e = wantCode(t, callProc(t, h.svc, "gitops.previewChanges", prod(map[string]any{"changes": map[string]any{"chartVersion": "9.9.9"}}), nil), model.CodeBadRequest)
	if !strings.Contains(e.Message, "9.9.9") {
		t.Errorf("missing version: %v", e)
	}
	wantCatalogErr(t, callProc(t, h.svc, "gitops.previewChanges", prod(map[string]any{"changes": map[string]any{"values": []any{1}}}), nil), model.CodeBadRequest, "changes.values")
	// values and chartVersion need a HelmRelease; a Git chart's version is Git's.
	wantCatalogErr(t, callProc(t, h.svc, "gitops.previewChanges", map[string]any{"projectId": "proj-pod", "environmentId": "env-plain",
		"changes": map[string]any{"values": map[string]any{"a": 1}}}, nil), model.CodeBadRequest, "values")
	wantCatalogErr(t, callProc(t, h.svc, "gitops.previewChanges", map[string]any{"projectId": "proj-pod", "environmentId": "env-gitchart",
		"changes": map[string]any{"chartVersion": "6.6.0"}}, nil), model.CodeBadRequest, "chartVersion")
	if after := gittest.Log(t, h.repo, "main"); len(after) != len(before) {
		t.Fatal("a refused change was pushed")
	}
}

func TestHelmChartFromGitRepository(t *testing.T) {
	h := setupHelm(t)
	var p api.PreviewResult
	mustCall(t, h.svc, "gitops.previewChanges", map[string]any{"projectId": "proj-pod", "environmentId": "env-gitchart",
		"changes": map[string]any{"replicas": 3, "env": map[string]any{"LOG_LEVEL": "debug"}}}, &p)
	if p.Helm == nil || p.Helm.FromVersion != "6.5.0" || !strings.Contains(p.Helm.RenderedDiff, "+  replicas: 3") || !strings.Contains(p.Helm.RenderedDiff, "+            - name: LOG_LEVEL") {
		t.Fatalf("git chart preview: %+v", p.Helm)
	}
	if !strings.Contains(p.Diff, "-    replicaCount: 1 # one is enough here\n+    replicaCount: 3 # one is enough here") || !p.Impact.WillRestartPods {
		t.Errorf("values diff:\n%s\nimpact %+v", p.Diff, p.Impact)
	}
	// The Deployment way still serves a plain directory.
	var plain api.PreviewResult
	mustCall(t, h.svc, "gitops.previewChanges", map[string]any{"projectId": "proj-pod", "environmentId": "env-plain", "changes": map[string]any{"replicas": 3}}, &plain)
	if plain.Helm != nil || plain.Workload != "Deployment/web" {
		t.Errorf("plain: %+v", plain)
	}
}
