package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
	"github.com/gitopstui/gitopstui/services/proctest"
	"github.com/gitopstui/gitopstui/services/testcluster"
	"github.com/gitopstui/gitopstui/store"
)

var (
	ksGVR  = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	gitGVR = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
)

const (
	fluxNS = "flux-system"
	// interval is every Flux interval of the test: far longer than any wait, so whatever
	// Flux applies within a wait was asked for (a push, a deploy, triggerSync).
	interval = "10m"
	// waitLimit bounds every wait on Flux (the loop answers within about a second).
	waitLimit = 90 * time.Second
)

const baseDeployment = `# The web front end.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # keep this name
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0 # bumped by CI
          resources:
            limits: {cpu: 500m, memory: 256Mi}
            requests: {cpu: 100m, memory: 128Mi}
`

// shopFiles is a config repository with a base and one overlay per environment.
func shopFiles(env string) map[string]string {
	return map[string]string{
		"k8s/base/deployment.yaml":                    baseDeployment,
		"k8s/base/kustomization.yaml":                 "resources:\n  - deployment.yaml\n",
		"k8s/overlays/" + env + "/kustomization.yaml": "# " + env + " overlay\nresources:\n  - ../../base\nnamespace: shop-" + env + "\n",
		"README.md": "shop config\n",
	}
}

// loop is the whole setup: a control plane, the git server, gitopstui's services with
// their watchers running (as in the TUI), and the Flux controllers as local processes.
type loop struct {
	c      *testcluster.Cluster
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	git    *gittest.HTTPServer
	svc    *services.Services
	events <-chan api.StatusEvent
}

func call(t testing.TB, svc *services.Services, name string, in, out any) error {
	t.Helper()
	return proctest.Call(t, svc.Registry(), name, in, out)
}

func mustCall(t testing.TB, svc *services.Services, name string, in, out any) {
	t.Helper()
	proctest.MustCall(t, svc.Registry(), name, in, out)
}

func waitUntil(t testing.TB, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last seen: %s", what, limit, seen)
		}
		<-tick.C
	}
}

// rev is Flux's revision string of a commit on main.
func rev(sha string) string { return "main@sha1:" + sha }

// pushCommit clones name with the git CLI, lets edit change the working tree, commits
// and pushes to main as a person would, and returns the new head.
func pushCommit(t testing.TB, srv *gittest.HTTPServer, name, message string, edit func(dir string)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	gittest.Git(t, "", "clone", "--quiet", srv.RepoURLWithCreds(name), dir)
	edit(dir)
	gittest.Git(t, dir, "add", "-A")
	gittest.Git(t, dir, "commit", "--quiet", "-m", message)
	gittest.Git(t, dir, "push", "--quiet", "origin", "main")
	return gittest.Git(t, dir, "rev-parse", "HEAD")
}

func editFile(t testing.TB, path string, f func(string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(f(string(b))), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (l *loop) deployment(t testing.TB, ns string) *appsv1.Deployment {
	t.Helper()
	d, err := l.cs.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if err != nil {
		return nil
	}
	return d
}

func (l *loop) kustomization(t testing.TB, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := l.dyn.Resource(ksGVR).Namespace(fluxNS).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// resource reads a resource through gitops.getGitOpsResource, as a user sees it.
func (l *loop) resource(t testing.TB, id string) api.ResourceDetail {
	t.Helper()
	var d api.ResourceDetail
	mustCall(t, l.svc, "gitops.getGitOpsResource", map[string]any{"id": id}, &d)
	return d
}

// requestSourceReconcile annotates a GitRepository as Flux's webhook Receiver does when
// the Git host reports a push (`flux reconcile source git`).
func (l *loop) requestSourceReconcile(t testing.TB, name string) {
	t.Helper()
	p, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{
		"reconcile.fluxcd.io/requestedAt": time.Now().Format(time.RFC3339Nano)}}})
	if _, err := l.dyn.Resource(gitGVR).Namespace(fluxNS).Patch(context.Background(), name, types.MergePatchType, p, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (l *loop) createNamespace(t testing.TB, name string) {
	t.Helper()
	_, err := l.cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// setupLoop registers the cluster, installs Flux through gitops.installFlux, stands in for
// the kubelet by marking Flux's controller Deployments available (the controllers really
// run as local processes, started here), and starts gitopstui's status watchers.
func setupLoop(t testing.TB) *loop {
	c := testcluster.Start(t)
	c.AddReadyNode(t, "node-1")
	l := &loop{c: c, cs: c.Clientset(t), dyn: dynamic.NewForConfigOrDie(c.Config()), git: gittest.NewHTTPServer(t)}
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	l.svc = services.New(services.Config{DataDir: dir, DB: db})
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("SHOP_GIT_TOKEN", l.git.Password)
	kubeconfig := c.Kubeconfig(t)
	mustCall(t, l.svc, "clusters.register", map[string]any{"id": "cluster-123", "name": "k3s", "kubeconfig": kubeconfig}, nil)

	var inst api.InstallFluxResult
	mustCall(t, l.svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-123"}, &inst)
	if !inst.Success || inst.Namespace != fluxNS {
		t.Fatalf("installFlux: %+v", inst)
	}
	// No kubelet runs the controllers' pods: say they are available (status subresource).
	deps, err := l.cs.AppsV1().Deployments(fluxNS).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps.Items {
		c.MarkDeploymentAvailable(t, fluxNS, d.Name)
	}
	var health api.FluxHealth
	mustCall(t, l.svc, "gitops.checkFluxHealth", map[string]any{"clusterId": "cluster-123"}, &health)
	if health.Overall != "healthy" {
		t.Fatalf("checkFluxHealth after install: %+v", health)
	}
	// What those pods would run, as local processes against this API server.
	startFluxControllers(t, kubeconfig, fluxNS)

	// The Git credentials Flux's GitRepository uses (basic auth).
	_, err = l.cs.CoreV1().Secrets(fluxNS).Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "shop-git-auth", Namespace: fluxNS},
		StringData: map[string]string{"username": l.git.User, "password": l.git.Password},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	l.events = l.svc.Subscribe(ctx)
	if err := l.svc.StartWatchers(ctx); err != nil {
		t.Fatal(err)
	}
	mustCall(t, l.svc, "projects.create", map[string]any{"id": "proj-shop", "name": "shop"}, nil)
	return l
}

// gitopsEnv creates an environment (namespace shop-<name>) whose repository acme/shop-<name>
// on the git server is enabled for GitOps, with every interval at 10m, and waits until
// repositories.getFluxStatus says Flux has fetched the repository's head.
func (l *loop) gitopsEnv(t testing.TB, name string, autoSync bool) (envID, repoID, gitRepo, repoName string) {
	t.Helper()
	return l.gitopsEnvEvery(t, name, autoSync, interval)
}

// gitopsEnvEvery is gitopsEnv with every interval at every.
func (l *loop) gitopsEnvEvery(t testing.TB, name string, autoSync bool, every string) (envID, repoID, gitRepo, repoName string) {
	t.Helper()
	envID, repoID, repoName = "env-"+name, "repo-"+name, "acme/shop-"+name+".git"
	l.git.CreateRepo(t, repoName, shopFiles(name))
	l.createNamespace(t, "shop-"+name)
	mustCall(t, l.svc, "environments.create", map[string]any{"id": envID, "projectId": "proj-shop", "name": name, "clusterId": "cluster-123", "namespace": "shop-" + name}, nil)
	mustCall(t, l.svc, "repositories.create", map[string]any{"id": repoID, "projectId": "proj-shop", "fullName": "acme/shop-" + name, "url": l.git.RepoURL(repoName),
		"auth": map[string]any{"type": "basic-env", "username": l.git.User, "tokenEnv": "SHOP_GIT_TOKEN"}}, nil)
	mustCall(t, l.svc, "environments.configureGitOps", map[string]any{"environmentId": envID, "config": map[string]any{
		"enabled": true, "autoSync": autoSync, "repositoryId": repoID, "gitPath": "./k8s/overlays/" + name, "syncInterval": every}}, nil)
	var en api.EnableGitOpsResult
	mustCall(t, l.svc, "repositories.enableGitOps", map[string]any{"repositoryId": repoID,
		"config": map[string]any{"fluxNamespace": fluxNS, "syncInterval": every, "secretRef": "shop-git-auth"}}, &en)
	// source-controller fetches the repository with the Secret's basic auth.
	head := gittest.Git(t, l.git.Dir(repoName), "rev-parse", "main")
	waitUntil(t, waitLimit, "repository "+repoName+" fetched by Flux", func() (bool, string) {
		var st api.FluxStatus
		mustCall(t, l.svc, "repositories.getFluxStatus", map[string]any{"repositoryId": repoID}, &st)
		return string(st.SyncStatus) == model.SyncReady && st.LastSyncCommit == head, fmt.Sprintf("%+v", st)
	})
	return envID, repoID, en.FluxResourceName, repoName
}

// gitopsLoop is what TestGitOpsLoop's steps share, one step after another.
type gitopsLoop struct {
	*loop
	prodEnv, prodGitRepo, prodRepo string // the prod environment, its GitRepository and its repository
	prodID                         string // the prod Kustomization's resource id
	head                           string // the prod repository's head
}

// TestGitOpsLoop runs the whole loop with the real Flux controllers, one step after another
// on one cluster: each step asserts what a user sees through the procedures and what the
// cluster holds.
func TestGitOpsLoop(t *testing.T) {
	l := &gitopsLoop{loop: setupLoop(t)}
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}

	l.prodEnv, _, l.prodGitRepo, l.prodRepo = l.gitopsEnv(t, "prod", true)
	step("createGitOpsResource/FluxAppliesTheOverlay", l.createResource)
	step("deployWithGitOps/NewImageReachesTheCluster", l.deploy)
	step("gitPush/AppliedAndRecordedAsGitOpsGit", l.gitPush)
	step("triggerSync/AppliesLongBeforeTheInterval", l.triggerSync)
	step("brokenBuild/FailedWithFluxMessage", l.brokenBuild)

	stagingEnv, _, stagingGitRepo, stagingRepo := l.gitopsEnv(t, "staging", false)
	step("manualSync/HoldsCommitsUntilTriggerSync", func(t *testing.T) {
		l.manualSync(t, stagingEnv, stagingGitRepo, stagingRepo)
	})
	step("uninstallFlux/LeavesWorkloads", l.uninstall)
}

// createResource creates the prod Kustomization and waits until Flux has applied the overlay
// at the repository head.
func (l *gitopsLoop) createResource(t *testing.T) {
	l.head = gittest.Git(t, l.git.Dir(l.prodRepo), "rev-parse", "main")
	var sum api.ResourceSummary
	mustCall(t, l.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": l.prodEnv, "name": "shop-prod",
		"type": "kustomization", "config": map[string]any{"prune": true}}, &sum)
	l.prodID = sum.ID
	waitUntil(t, waitLimit, "Kustomization ready at the repository head", func() (bool, string) {
		d := l.resource(t, l.prodID)
		return d.Status == model.StatusReady && d.LastAppliedRevision == rev(l.head), fmt.Sprintf("%s %q applied %q", d.Status, d.ErrorMessage, d.LastAppliedRevision)
	})
	dep := l.deployment(t, "shop-prod")
	if dep == nil || dep.Spec.Template.Spec.Containers[0].Image != "ghcr.io/acme/web:1.0.0" || *dep.Spec.Replicas != 2 {
		t.Fatalf("Deployment applied by Flux: %+v", dep)
	}
	var repo api.FluxStatus
	mustCall(t, l.svc, "repositories.getFluxStatus", map[string]any{"repositoryId": "repo-prod"}, &repo)
	if string(repo.SyncStatus) != model.SyncReady || repo.LastSyncCommit != l.head {
		t.Fatalf("getFluxStatus: %+v", repo)
	}
	var list []api.ResourceView
	mustCall(t, l.svc, "gitops.listGitOpsResources", map[string]any{"environmentId": l.prodEnv}, &list)
	if len(list) != 1 || list[0].Status != model.StatusReady || list[0].LastAppliedRevision != rev(l.head) {
		t.Fatalf("listGitOpsResources: %+v", list)
	}
}

// deploy deploys a new image through Git and waits until it runs and is recorded as a
// gitops-ui success.
func (l *gitopsLoop) deploy(t *testing.T) {
	var res api.DeployResult
	mustCall(t, l.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": l.prodEnv,
		"image": "ghcr.io/acme/web:1.4.2"}, &res)
	if res.CommitSha == "" || res.CommitSha == l.head {
		t.Fatalf("deploy result: %+v", res)
	}
	l.head = res.CommitSha
	waitUntil(t, waitLimit, "new image in the cluster", func() (bool, string) {
		dep := l.deployment(t, "shop-prod")
		img := dep.Spec.Template.Spec.Containers[0].Image
		return img == "ghcr.io/acme/web:1.4.2", img
	})
	waitUntil(t, waitLimit, "gitops-ui deployment success", func() (bool, string) {
		var dep model.Deployment
		mustCall(t, l.svc, "deployments.get", map[string]any{"id": res.DeploymentID}, &dep)
		return dep.Status == model.DeploySuccess, fmt.Sprintf("%+v", dep)
	})
	var dep model.Deployment
	mustCall(t, l.svc, "deployments.get", map[string]any{"id": res.DeploymentID}, &dep)
	if dep.DeploymentMethod != model.MethodGitOpsUI || dep.GitCommitSha != res.CommitSha || dep.GitOpsResourceID != l.prodID || dep.CompletedAt == nil {
		t.Fatalf("gitops-ui deployment: %+v", dep)
	}
	if d := l.resource(t, l.prodID); d.LastAppliedRevision != rev(res.CommitSha) || d.Status != model.StatusReady {
		t.Fatalf("resource after deploy: %s %s", d.Status, d.LastAppliedRevision)
	}
	// The status watcher told its subscriber too.
	l.waitEvent(t, "gitops-ui success event", func(e api.StatusEvent) bool {
		return e.Deployment != nil && e.Deployment.ID == res.DeploymentID && e.Deployment.Status == model.DeploySuccess
	})
}

// gitPush pushes a commit as a person would and waits until Flux applied it and it is recorded
// once, as gitops-git.
func (l *gitopsLoop) gitPush(t *testing.T) {
	sha := pushCommit(t, l.git, l.prodRepo, "annotate web from the CLI", func(dir string) {
		editFile(t, filepath.Join(dir, "k8s/overlays/prod/kustomization.yaml"), func(s string) string {
			return s + "commonAnnotations:\n  acme.dev/pushed: one\n"
		})
	})
	l.head = sha
	// The Git host's webhook reaches Flux's Receiver, which asks the source to reconcile.
	l.requestSourceReconcile(t, l.prodGitRepo)
	waitUntil(t, waitLimit, "pushed commit applied", func() (bool, string) {
		dep := l.deployment(t, "shop-prod")
		return dep.Annotations["acme.dev/pushed"] == "one", fmt.Sprint(dep.Annotations)
	})
	waitUntil(t, waitLimit, "gitops-git deployment recorded", func() (bool, string) {
		var page []model.Deployment
		mustCall(t, l.svc, "deployments.list", map[string]any{"environmentId": l.prodEnv, "deploymentMethod": "gitops-git"}, &page)
		for _, d := range page {
			if d.GitCommitSha == sha {
				return d.Status == model.DeploySuccess && d.GitOpsResourceID == l.prodID, fmt.Sprintf("%+v", d)
			}
		}
		return false, fmt.Sprintf("%d gitops-git deployments, none of %s", len(page), sha)
	})
	// The UI's own commit is not recorded a second time as gitops-git.
	var page []model.Deployment
	mustCall(t, l.svc, "deployments.list", map[string]any{"environmentId": l.prodEnv}, &page)
	seen := map[string]int{}
	for _, d := range page {
		seen[d.GitCommitSha]++
	}
	for sha, n := range seen {
		if n != 1 {
			t.Fatalf("commit %s recorded %d times: %+v", sha, n, page)
		}
	}
}

// triggerSync pushes a commit and has gitops.triggerSync apply it long before the 10m
// interval.
func (l *gitopsLoop) triggerSync(t *testing.T) {
	sha := pushCommit(t, l.git, l.prodRepo, "second annotation", func(dir string) {
		editFile(t, filepath.Join(dir, "k8s/overlays/prod/kustomization.yaml"), func(s string) string {
			return strings.Replace(s, "acme.dev/pushed: one", "acme.dev/pushed: two", 1)
		})
	})
	l.head = sha
	var res api.SyncResult
	mustCall(t, l.svc, "gitops.triggerSync", map[string]any{"id": l.prodID, "waitSeconds": 60}, &res)
	if !res.Success || !res.Handled || res.Revision != rev(sha) || res.Status != model.StatusReady {
		t.Fatalf("triggerSync: %+v", res)
	}
	// The interval is 10m: this was Flux answering the request.
	if dep := l.deployment(t, "shop-prod"); dep.Annotations["acme.dev/pushed"] != "two" {
		t.Fatalf("after triggerSync the cluster has %v", dep.Annotations)
	}
	if u := l.kustomization(t, "shop-prod"); u.GetAnnotations()["reconcile.fluxcd.io/requestedAt"] != res.RequestedAt {
		t.Fatalf("requestedAt: %v", u.GetAnnotations())
	}
}

// brokenBuild pushes a commit Flux cannot build: the resource fails with Flux's message and
// the cluster keeps what it had.
func (l *gitopsLoop) brokenBuild(t *testing.T) {
	good := l.head
	sha := pushCommit(t, l.git, l.prodRepo, "reference a file that does not exist", func(dir string) {
		editFile(t, filepath.Join(dir, "k8s/overlays/prod/kustomization.yaml"), func(s string) string {
			return strings.Replace(s, "  - ../../base\n", "  - ../../base\n  - missing.yaml\n", 1)
		})
	})
	var res api.SyncResult
	mustCall(t, l.svc, "gitops.triggerSync", map[string]any{"id": l.prodID, "waitSeconds": 60}, &res)
	if res.Status != model.StatusFailed {
		t.Fatalf("triggerSync of a broken commit: %+v", res)
	}
	d := l.resource(t, l.prodID)
	ready := readyCondition(l.kustomization(t, "shop-prod"))
	if d.Status != model.StatusFailed || d.LastAttemptedRevision != rev(sha) || d.LastAppliedRevision != rev(good) {
		t.Fatalf("resource after a broken commit: %s attempted %s applied %s", d.Status, d.LastAttemptedRevision, d.LastAppliedRevision)
	}
	if ready == nil || ready["reason"] != "BuildFailed" || d.ErrorMessage != ready["message"] || !strings.Contains(d.ErrorMessage, "missing.yaml") {
		t.Fatalf("errorMessage %q, Flux's Ready condition %v", d.ErrorMessage, ready)
	}
	found := false
	for _, e := range d.Events {
		if e.Type == corev1.EventTypeWarning && strings.Contains(e.Message, "missing.yaml") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no Warning event of the failed build in %+v", d.Events)
	}
	if len(d.Chain) == 0 || !strings.Contains(d.Chain[0], "missing.yaml") {
		t.Fatalf("why-chain: %v", d.Chain)
	}
	// What was applied before stays.
	if dep := l.deployment(t, "shop-prod"); dep.Annotations["acme.dev/pushed"] != "two" || dep.Spec.Template.Spec.Containers[0].Image != "ghcr.io/acme/web:1.4.2" {
		t.Fatalf("cluster after a broken commit: %v %s", dep.Annotations, dep.Spec.Template.Spec.Containers[0].Image)
	}
}

// manualSync checks that a manual-sync environment applies a commit only on
// gitops.triggerSync.
func (l *gitopsLoop) manualSync(t *testing.T, stagingEnv, stagingGitRepo, stagingRepo string) {
	var sum api.ResourceSummary
	mustCall(t, l.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": stagingEnv, "name": "shop-staging",
		"type": "kustomization"}, &sum)
	if sum.Status != model.StatusSuspended {
		t.Fatalf("a manual-sync environment's resource: %+v", sum)
	}
	first := gittest.Git(t, l.git.Dir(stagingRepo), "rev-parse", "main")
	var res api.SyncResult
	mustCall(t, l.svc, "gitops.triggerSync", map[string]any{"id": sum.ID, "waitSeconds": 60}, &res)
	if !res.Success || res.Revision != rev(first) || res.Status != model.StatusSuspended {
		t.Fatalf("first manual sync: %+v", res)
	}
	if dep := l.deployment(t, "shop-staging"); dep == nil {
		t.Fatal("first manual sync applied nothing")
	}
	// A sentinel Kustomization on the same source that is not suspended: once it has
	// applied the new commit, Flux has seen the commit, and the suspended one must not
	// have applied it.
	l.createNamespace(t, "shop-sentinel")
	sentinel := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "staging-sentinel", "namespace": fluxNS},
		"spec": map[string]any{"interval": interval, "path": "./k8s/overlays/staging", "prune": false, "targetNamespace": "shop-sentinel",
			"sourceRef": map[string]any{"kind": "GitRepository", "name": stagingGitRepo}},
	}}
	if _, err := l.dyn.Resource(ksGVR).Namespace(fluxNS).Create(context.Background(), sentinel, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sha := pushCommit(t, l.git, stagingRepo, "annotate staging", func(dir string) {
		editFile(t, filepath.Join(dir, "k8s/overlays/staging/kustomization.yaml"), func(s string) string {
			return s + "commonAnnotations:\n  acme.dev/pushed: staged\n"
		})
	})
	l.requestSourceReconcile(t, stagingGitRepo)
	waitUntil(t, waitLimit, "sentinel applied the new commit", func() (bool, string) {
		u := l.kustomization(t, "staging-sentinel")
		got, _, _ := unstructured.NestedString(u.Object, "status", "lastAppliedRevision")
		return got == rev(sha), got
	})
	d := l.resource(t, sum.ID)
	if d.Status != model.StatusSuspended || d.LastAppliedRevision != rev(first) {
		t.Fatalf("autoSync=false did not hold the commit back: %s applied %s", d.Status, d.LastAppliedRevision)
	}
	if dep := l.deployment(t, "shop-staging"); dep.Annotations["acme.dev/pushed"] != "" {
		t.Fatalf("held-back commit reached the cluster: %v", dep.Annotations)
	}
	mustCall(t, l.svc, "gitops.triggerSync", map[string]any{"id": sum.ID, "waitSeconds": 60}, &res)
	if !res.Success || res.Revision != rev(sha) || res.Status != model.StatusSuspended {
		t.Fatalf("second manual sync: %+v", res)
	}
	if dep := l.deployment(t, "shop-staging"); dep.Annotations["acme.dev/pushed"] != "staged" {
		t.Fatalf("after triggerSync the cluster has %v", dep.Annotations)
	}
	if suspended, _, _ := unstructured.NestedBool(l.kustomization(t, "shop-staging").Object, "spec", "suspend"); !suspended {
		t.Fatal("manual-sync Kustomization left resumed after triggerSync")
	}
}

// uninstall uninstalls Flux and checks the workloads it applied stay.
func (l *gitopsLoop) uninstall(t *testing.T) {
	var res api.UninstallFluxResult
	mustCall(t, l.svc, "gitops.uninstallFlux", map[string]any{"clusterId": "cluster-123"}, &res)
	if !res.Success || res.FinalizersRemoved == 0 {
		t.Fatalf("uninstallFlux: %+v", res)
	}
	err := call(t, l.svc, "gitops.checkFluxHealth", map[string]any{"clusterId": "cluster-123"}, nil)
	if model.CodeOf(err) != model.CodeFluxNotInstalled {
		t.Fatalf("checkFluxHealth after uninstall: %v", err)
	}
	for ns, img := range map[string]string{"shop-prod": "ghcr.io/acme/web:1.4.2", "shop-staging": "ghcr.io/acme/web:1.0.0", "shop-sentinel": "ghcr.io/acme/web:1.0.0"} {
		dep := l.deployment(t, ns)
		if dep == nil || dep.DeletionTimestamp != nil || dep.Spec.Template.Spec.Containers[0].Image != img {
			t.Fatalf("workload in %s after uninstall: %+v", ns, dep)
		}
	}
	if _, err := l.cs.AppsV1().Deployments(fluxNS).Get(context.Background(), "kustomize-controller", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("controller Deployment after uninstall: %v", err)
	}
}

// readyCondition returns the Ready condition of a Flux object's status.
func readyCondition(u *unstructured.Unstructured) map[string]any {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Ready" {
			return m
		}
	}
	return nil
}

// waitEvent waits for a status event from gitopstui's watcher that ok accepts.
func (l *loop) waitEvent(t testing.TB, what string, ok func(api.StatusEvent) bool) {
	t.Helper()
	timeout := time.After(waitLimit)
	for {
		select {
		case e := <-l.events:
			if ok(e) {
				return
			}
		case <-timeout:
			t.Fatalf("no event: %s", what)
		}
	}
}
