package services_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitops"
	"github.com/gitopstui/gitopstui/services/testcluster"
	"github.com/gitopstui/gitopstui/store"
)

// branchEnvs is a project with two environments on one cluster, configured
// as the reference's example (production on main with manual sync,
// development on develop) before its one repository was enabled for GitOps.
type branchEnvs struct {
	c    *testcluster.Cluster
	svc  *services.Services
	dyn  dynamic.Interface
	full string // the repository's full name
	base string // its default-branch GitRepository
}

func setupBranchEnvs(t *testing.T, prefix string) branchEnvs {
	t.Helper()
	c := fluxCluster.Get(t)
	c.AddReadyNode(t, "node-1")
	svc := newSvc(t)
	registerCluster(t, svc, "cluster-123", c.Kubeconfig(t))
	if err := callProc(t, svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-123"}, nil); err != nil && model.CodeOf(err) != model.CodeFluxAlreadyInstalled {
		t.Fatal(err)
	}
	mustCall(t, svc, "projects.create", map[string]any{"id": "proj-shop", "name": "shop"}, nil)
	for id, env := range map[string]string{"env-prod": "production", "env-dev": "development"} {
		mustCall(t, svc, "environments.create", map[string]any{"id": id, "projectId": "proj-shop", "name": env, "clusterId": "cluster-123", "namespace": prefix + "-" + env}, nil)
	}
	// The reference's example, word for word: no repositoryId.
	mustCall(t, svc, "environments.configureGitOps", map[string]any{"environmentId": "env-prod", "config": map[string]any{
		"enabled": true, "autoSync": false, "gitBranch": "main", "gitPath": "./k8s/overlays/production", "syncInterval": "10m"}}, nil)
	mustCall(t, svc, "environments.configureGitOps", map[string]any{"environmentId": "env-dev", "config": map[string]any{
		"enabled": true, "autoSync": true, "gitBranch": "develop", "gitPath": "./k8s/overlays/development", "syncInterval": "1m"}}, nil)
	full := "acme/" + prefix
	mustCall(t, svc, "repositories.create", map[string]any{"id": "repo-" + prefix, "projectId": "proj-shop", "fullName": full, "url": "https://git.example.com/" + full + ".git"}, nil)
	var en api.EnableGitOpsResult
	mustCall(t, svc, "repositories.enableGitOps", map[string]any{"repositoryId": "repo-" + prefix, "config": map[string]any{"fluxNamespace": "flux-system", "syncInterval": "1m"}}, &en)
	return branchEnvs{c: c, svc: svc, dyn: dynamic.NewForConfigOrDie(c.Config()), full: full, base: en.FluxResourceName}
}

// get reads a Flux object in flux-system; nil when it does not exist.
func (b branchEnvs) get(t *testing.T, gvr schema.GroupVersionResource, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := b.dyn.Resource(gvr).Namespace("flux-system").Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (b branchEnvs) str(t *testing.T, gvr schema.GroupVersionResource, name string, path ...string) string {
	t.Helper()
	u := b.get(t, gvr, name)
	if u == nil {
		t.Fatalf("%s %s does not exist", gvr.Resource, name)
	}
	v, found, _ := unstructured.NestedFieldNoCopy(u.Object, path...)
	if !found {
		return ""
	}
	return fmt.Sprint(v)
}

func (b branchEnvs) create(t *testing.T, env, name, typ string, config map[string]any) string {
	t.Helper()
	if config == nil {
		config = map[string]any{}
	}
	var sum api.ResourceSummary
	mustCall(t, b.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": env, "name": name, "type": typ, "config": config}, &sum)
	return sum.ID
}

// sources lists the repository's recorded GitRepositories as branch=name.
func (b branchEnvs) sources(t *testing.T, repoID string) []string {
	t.Helper()
	var r model.Repository
	mustCall(t, b.svc, "repositories.get", map[string]any{"id": repoID}, &r)
	var out []string
	for _, s := range r.GitOpsConfig.Sources {
		if s.ClusterID != "cluster-123" || s.Namespace != "flux-system" {
			t.Fatalf("source on %s/%s", s.ClusterID, s.Namespace)
		}
		out = append(out, s.Branch+"="+s.Name)
	}
	slices.Sort(out)
	return out
}

// TestEnvironmentsFollowTheirBranches: two environments of one project on
// one cluster, production on main and development on develop, each with its
// own GitRepository; configuring development never touches production's
// source; per-resource interval and path survive configureGitOps; the
// develop GitRepository goes with the last resource that used it.
func TestEnvironmentsFollowTheirBranches(t *testing.T) {
	b := setupBranchEnvs(t, "branches")
	develop := gitops.FluxSourceName(b.full, "develop")
	if b.base != "acme-branches" || develop != "acme-branches-develop" {
		t.Fatalf("names: %s %s", b.base, develop)
	}
	prodWeb := b.create(t, "env-prod", "br-prod-web", "kustomization", nil)
	devWeb := b.create(t, "env-dev", "br-dev-web", "kustomization", map[string]any{"interval": "3m", "path": "./custom/dev"})
	devWorker := b.create(t, "env-dev", "br-dev-worker", "kustomization", nil)
	devAPI := b.create(t, "env-dev", "br-dev-api", "helm", map[string]any{"chartName": "./charts/api"})
	checkBranchPlacement(t, b, develop)
	prodKS, prodGR := b.get(t, ksGVR, "br-prod-web").GetResourceVersion(), b.get(t, gitGVR, b.base).GetResourceVersion()
	prodUntouched := func(step string) {
		t.Helper()
		if b.get(t, ksGVR, "br-prod-web").GetResourceVersion() != prodKS || b.get(t, gitGVR, b.base).GetResourceVersion() != prodGR {
			t.Fatalf("%s changed production's Kustomization or its GitRepository", step)
		}
	}

	checkDevIntervalAndPath(t, b, devWeb)
	prodUntouched("syncInterval and gitPath of development")
	feature := checkDevMovesBranch(t, b, develop)
	prodUntouched("gitBranch of development")
	checkDevAutoSync(t, b, develop, feature)
	prodUntouched("autoSync of development")
	checkDevelopSourceCollected(t, b, develop, []string{devWeb, devWorker, devAPI}, prodWeb)
}

// checkBranchPlacement: each resource follows its environment's branch
// (production main, development develop) with the environment's interval,
// path and suspension unless it has its own, and both GitRepositories are
// labelled and recorded.
func checkBranchPlacement(t *testing.T, b branchEnvs, develop string) {
	t.Helper()
	for name, want := range map[string][4]string{
		"br-prod-web":   {b.base, "10m0s", "./k8s/overlays/production", "true"},
		"br-dev-web":    {develop, "3m0s", "./custom/dev", "false"},
		"br-dev-worker": {develop, "1m0s", "./k8s/overlays/development", "false"},
	} {
		got := [4]string{b.str(t, ksGVR, name, "spec", "sourceRef", "name"), b.str(t, ksGVR, name, "spec", "interval"),
			b.str(t, ksGVR, name, "spec", "path"), b.str(t, ksGVR, name, "spec", "suspend")}
		if got != want {
			t.Errorf("%s: sourceRef, interval, path, suspend = %v, want %v", name, got, want)
		}
	}
	if got := b.str(t, hrGVR, "br-dev-api", "spec", "chart", "spec", "sourceRef", "name"); got != develop {
		t.Errorf("HelmRelease chart source %s, want %s", got, develop)
	}
	for name, branch := range map[string]string{b.base: "main", develop: "develop"} {
		gr := b.get(t, gitGVR, name)
		br, _, _ := unstructured.NestedString(gr.Object, "spec", "ref", "branch")
		url, _, _ := unstructured.NestedString(gr.Object, "spec", "url")
		if br != branch || url != "https://git.example.com/acme/branches.git" || gr.GetLabels()["gitopstui.dev/repository-id"] != "repo-branches" ||
			gr.GetLabels()["gitopstui.dev/branch"] != branch || gr.GetAnnotations()["gitopstui.dev/branch"] != branch {
			t.Errorf("GitRepository %s: branch %s url %s labels %v annotations %v", name, br, url, gr.GetLabels(), gr.GetAnnotations())
		}
	}
	if got := b.sources(t, "repo-branches"); !slices.Equal(got, []string{"develop=" + develop, "main=" + b.base}) {
		t.Fatalf("recorded sources: %v", got)
	}
}

// checkDevIntervalAndPath: a new interval and path of development reach only
// the resources that have none of their own.
func checkDevIntervalAndPath(t *testing.T, b branchEnvs, devWeb string) {
	t.Helper()
	mustCall(t, b.svc, "environments.configureGitOps", map[string]any{"environmentId": "env-dev", "config": map[string]any{"syncInterval": "2m", "gitPath": "./k8s/dev2"}}, nil)
	if b.str(t, ksGVR, "br-dev-web", "spec", "interval") != "3m0s" || b.str(t, ksGVR, "br-dev-web", "spec", "path") != "./custom/dev" {
		t.Error("configureGitOps overwrote br-dev-web's own interval or path")
	}
	if b.str(t, ksGVR, "br-dev-worker", "spec", "interval") != "2m0s" || b.str(t, ksGVR, "br-dev-worker", "spec", "path") != "./k8s/dev2" ||
		b.str(t, hrGVR, "br-dev-api", "spec", "interval") != "2m0s" {
		t.Error("configureGitOps did not reach the resources that follow the environment")
	}
	var d api.ResourceDetail
	mustCall(t, b.svc, "gitops.getGitOpsResource", map[string]any{"id": devWeb}, &d)
	if !strings.Contains(string(d.Config), `"interval":"3m"`) || !strings.Contains(string(d.Config), `"path":"./custom/dev"`) {
		t.Errorf("stored config lost its overrides: %s", d.Config)
	}
}

// checkDevMovesBranch: another branch for development gets a GitRepository of
// its own; develop's goes, nothing else moves. It returns the new one's name.
func checkDevMovesBranch(t *testing.T, b branchEnvs, develop string) string {
	t.Helper()
	feature := gitops.FluxSourceName(b.full, "feature/x")
	mustCall(t, b.svc, "environments.configureGitOps", map[string]any{"environmentId": "env-dev", "config": map[string]any{"gitBranch": "feature/x"}}, nil)
	if b.str(t, ksGVR, "br-dev-web", "spec", "sourceRef", "name") != feature || b.str(t, hrGVR, "br-dev-api", "spec", "chart", "spec", "sourceRef", "name") != feature ||
		b.str(t, gitGVR, feature, "spec", "ref", "branch") != "feature/x" {
		t.Fatalf("development does not follow feature/x through %s", feature)
	}
	if b.get(t, gitGVR, develop) != nil {
		t.Error("the develop GitRepository outlived its last user")
	}
	if got := b.sources(t, "repo-branches"); !slices.Equal(got, []string{"feature/x=" + feature, "main=" + b.base}) {
		t.Errorf("recorded sources: %v", got)
	}
	if b.str(t, ksGVR, "br-dev-web", "spec", "interval") != "3m0s" {
		t.Error("a branch change lost the resource's interval")
	}
	return feature
}

// checkDevAutoSync: autoSync=false suspends development's resources (here
// together with a move back to develop), true resumes them.
func checkDevAutoSync(t *testing.T, b branchEnvs, develop, feature string) {
	t.Helper()
	mustCall(t, b.svc, "environments.configureGitOps", map[string]any{"environmentId": "env-dev", "config": map[string]any{"autoSync": false, "gitBranch": "develop"}}, nil)
	var list []api.ResourceView
	mustCall(t, b.svc, "gitops.listGitOpsResources", map[string]any{"environmentId": "env-dev"}, &list)
	for _, r := range list {
		if !r.Suspended || r.Status != model.StatusSuspended {
			t.Errorf("%s after autoSync=false: %s", r.Name, r.Status)
		}
	}
	if b.str(t, ksGVR, "br-dev-worker", "spec", "suspend") != "true" || b.str(t, ksGVR, "br-dev-worker", "spec", "sourceRef", "name") != develop || b.get(t, gitGVR, feature) != nil {
		t.Fatal("autoSync=false with gitBranch develop did not suspend, repoint and collect")
	}
	mustCall(t, b.svc, "environments.configureGitOps", map[string]any{"environmentId": "env-dev", "config": map[string]any{"autoSync": true}}, nil)
	if b.str(t, ksGVR, "br-dev-worker", "spec", "suspend") != "false" || b.str(t, hrGVR, "br-dev-api", "spec", "suspend") != "false" {
		t.Fatal("autoSync=true did not resume")
	}
}

// checkDevelopSourceCollected: the develop GitRepository stays while any of
// devIDs uses it and goes with the last; the default branch's, which is
// repositories.enableGitOps's, stays when prodWeb goes too.
func checkDevelopSourceCollected(t *testing.T, b branchEnvs, develop string, devIDs []string, prodWeb string) {
	t.Helper()
	for i, id := range devIDs {
		if b.get(t, gitGVR, develop) == nil {
			t.Fatalf("develop GitRepository gone with %d of its %d users left", len(devIDs)-i, len(devIDs))
		}
		mustCall(t, b.svc, "gitops.deleteGitOpsResource", map[string]any{"id": id}, nil)
	}
	if b.get(t, gitGVR, develop) != nil {
		t.Error("develop GitRepository left after its last resource was deleted")
	}
	if got := b.sources(t, "repo-branches"); !slices.Equal(got, []string{"main=" + b.base}) {
		t.Errorf("recorded sources: %v", got)
	}
	// The default branch's GitRepository is repositories.enableGitOps's: it stays.
	mustCall(t, b.svc, "gitops.deleteGitOpsResource", map[string]any{"id": prodWeb}, nil)
	if b.get(t, gitGVR, b.base) == nil {
		t.Error("the default-branch GitRepository was deleted with its last resource")
	}
	var st api.FluxStatus
	mustCall(t, b.svc, "repositories.getFluxStatus", map[string]any{"repositoryId": "repo-branches"}, &st)
	if st.FluxResourceName != b.base {
		t.Errorf("getFluxStatus: %+v", st)
	}
}

// TestSourcesOfEarlierInstalls: a repository enabled before sources were
// recorded (only fluxResourceName and clusterIds) keeps its GitRepository
// for the default branch; the record learns it on first use.
func TestSourcesOfEarlierInstalls(t *testing.T) {
	b := setupBranchEnvs(t, "earlier")
	err := b.svc.DB().Update(func(tx *store.Tx) error {
		r, err := store.Repositories.Get(tx, "repo-earlier")
		if err != nil {
			return err
		}
		r.GitOpsConfig.Sources = nil
		return store.Repositories.Put(tx, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	b.create(t, "env-prod", "er-prod-web", "kustomization", nil)
	b.create(t, "env-dev", "er-dev-web", "kustomization", nil)
	develop := gitops.FluxSourceName(b.full, "develop")
	if b.str(t, ksGVR, "er-prod-web", "spec", "sourceRef", "name") != b.base || b.str(t, ksGVR, "er-dev-web", "spec", "sourceRef", "name") != develop {
		t.Fatal("resources do not follow their environments' GitRepositories")
	}
	if got := b.sources(t, "repo-earlier"); !slices.Equal(got, []string{"develop=" + develop, "main=" + b.base}) {
		t.Fatalf("recorded sources: %v", got)
	}
}
