package services_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
	"github.com/gitopstui/gitopstui/store"
)

// Writes stay inside the environment (issue 13): commitConfigChanges and
// deployWithGitOps write only under the environment's gitPath unless an
// admin passes allowOutsidePath; symbolic links in the repository are
// followed for reading while they stay inside it and never written through.
// Everything runs through the registry against a real git http-backend.

const confineDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
`

const confineEvil = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: evil\ndata:\n  owned: \"yes\"\n"

var confineRepo = map[string]string{
	"k8s/base/deployment.yaml":                   confineDeployment,
	"k8s/base/kustomization.yaml":                "resources:\n  - deployment.yaml\n",
	"k8s/overlays/prod/kustomization.yaml":       "resources:\n  - ../../base\nnamespace: shop-prod\n",
	"k8s/overlays/production/kustomization.yaml": "resources:\n  - ../../base\nnamespace: shop-production\n",
	"k8s/overlays/shared/kustomization.yaml":     "resources:\n  - ../../base\nnamespace: shop-shared\n",
	"flux-system/gotk-sync.yaml":                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sync\n",
}

// confineEnv is a project whose environments deploy to a repository on a
// real git server: env-prod at k8s/overlays/prod, env-linked at
// k8s/overlays/linked, whose kustomization.yaml is a symbolic link.
type confineEnv struct {
	svc    *services.Services
	server *gittest.HTTPServer
	repo   string // the bare repository's directory on the server
}

var (
	confineAdmin    = model.Actor{User: "root", Role: model.RoleAdmin, Source: "ssh"}
	confineOperator = model.Actor{User: "olga", Role: model.RoleOperator, Source: "ssh"}
	confineViewer   = model.Actor{User: "vic", Role: model.RoleViewer, Source: "ssh"}
)

func confineCall(t *testing.T, svc *services.Services, who model.Actor, name string, in map[string]any, out any) error {
	t.Helper()
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Registry().Call(model.WithActor(context.Background(), who), name, raw)
	if err != nil || out == nil {
		return err
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return nil
}

func confineMust(t *testing.T, svc *services.Services, who model.Actor, name string, in map[string]any, out any) {
	t.Helper()
	if err := confineCall(t, svc, who, name, in, out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func confineWant(t *testing.T, err error, code model.Code) *model.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s, got success", code)
	}
	e := model.AsError(err)
	if e.Code != code {
		t.Fatalf("want %s, got %s: %v", code, e.Code, err)
	}
	return e
}

func setupConfine(t *testing.T, links map[string]string) confineEnv {
	t.Helper()
	server := gittest.NewHTTPServer(t)
	server.CreateRepo(t, "acme/shop.git", confineRepo)
	repo := server.Dir("acme/shop.git")
	if len(links) > 0 {
		gittest.AddSymlinks(t, repo, "main", links)
	}
	t.Setenv("SHOP_GIT_TOKEN", server.Password)
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := services.New(services.Config{DataDir: dir, DB: db})
	t.Cleanup(func() { _ = svc.Close(); _ = db.Close() })
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\n"+
		"users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := confineAdmin
	confineMust(t, svc, a, "clusters.register", map[string]any{"id": "cluster-1", "name": "k3s", "kubeconfig": kc}, nil)
	confineMust(t, svc, a, "projects.create", map[string]any{"id": "proj-shop", "name": "shop"}, nil)
	confineMust(t, svc, a, "repositories.create", map[string]any{"id": "repo-shop", "projectId": "proj-shop", "fullName": "acme/shop", "url": server.RepoURL("acme/shop.git"),
		"auth": map[string]any{"type": "basic-env", "username": server.User, "tokenEnv": "SHOP_GIT_TOKEN"}}, nil)
	for id, p := range map[string]string{"env-prod": "./k8s/overlays/prod", "env-linked": "./k8s/overlays/linked"} {
		confineMust(t, svc, a, "environments.create", map[string]any{"id": id, "projectId": "proj-shop", "name": strings.TrimPrefix(id, "env-"), "clusterId": "cluster-1", "namespace": "shop"}, nil)
		confineMust(t, svc, a, "environments.configureGitOps", map[string]any{"environmentId": id, "config": map[string]any{"enabled": true, "repositoryId": "repo-shop", "gitPath": p}}, nil)
	}
	return confineEnv{svc: svc, server: server, repo: repo}
}

func (c confineEnv) head(t *testing.T) string {
	return gittest.Git(t, c.repo, "rev-parse", "refs/heads/main")
}

func commitFileInput(env, file, yaml string) map[string]any {
	return map[string]any{"projectId": "proj-shop", "environmentId": env, "file": file, "yaml": yaml, "commitMessage": "edit " + file}
}

// TestConfineCommitFile: a file outside the environment's gitPath is
// refused naming file and nothing is pushed; an admin who passes
// allowOutsidePath may write there, an operator who passes it is refused.
func TestConfineCommitFile(t *testing.T) {
	c := setupConfine(t, nil)
	before := c.head(t)
	for _, file := range []string{
		"other/evil.yaml",
		"../other/evil.yaml",
		"k8s/overlays/prod/../../../other/evil.yaml",
		"k8s/overlays/production/kustomization.yaml", // a sibling whose name starts like gitPath
		"flux-system/gotk-sync.yaml",
		"/etc/evil.yaml",
	} {
		for _, who := range []model.Actor{confineOperator, confineAdmin} {
			e := confineWant(t, confineCall(t, c.svc, who, "gitops.commitConfigChanges", commitFileInput("env-prod", file, confineEvil), nil), model.CodeBadRequest)
			if _, ok := e.Details["fields"].(map[string]any)["file"]; !ok {
				t.Errorf("%s by %s: the error does not name file: %v %v", file, who.Role, e, e.Details)
			}
		}
	}
	if got := c.head(t); got != before {
		t.Fatalf("the server's main moved from %s to %s", before, got)
	}

	// inside gitPath is fine for an operator
	var res api.CommitConfigResult
	confineMust(t, c.svc, confineOperator, "gitops.commitConfigChanges", commitFileInput("env-prod", "k8s/overlays/prod/extra.yaml", confineEvil), &res)
	if res.File != "k8s/overlays/prod/extra.yaml" || c.head(t) != res.CommitSha {
		t.Fatalf("inside gitPath: %+v", res)
	}
	before = res.CommitSha

	// the admin extension: only an admin may widen the scope
	wide := commitFileInput("env-prod", "other/evil.yaml", confineEvil)
	wide["allowOutsidePath"] = true
	for _, who := range []model.Actor{confineOperator, confineViewer} {
		confineWant(t, confineCall(t, c.svc, who, "gitops.commitConfigChanges", wide, nil), model.CodeInsufficientPermission)
	}
	if got := c.head(t); got != before {
		t.Fatalf("a refused allowOutsidePath moved main to %s", got)
	}
	confineMust(t, c.svc, confineAdmin, "gitops.commitConfigChanges", wide, &res)
	if got := gittest.Show(t, c.repo, "main", "other/evil.yaml"); !strings.Contains(got, "name: evil") || res.CommitSha != c.head(t) {
		t.Fatalf("admin with allowOutsidePath: %+v\n%s", res, got)
	}
	// ... but never outside the repository
	wide["file"] = "../other/evil.yaml"
	confineWant(t, confineCall(t, c.svc, confineAdmin, "gitops.commitConfigChanges", wide, nil), model.CodeBadRequest)
}

// TestConfineDeployPlans: a deploy writes only under gitPath: a field of a
// base outside the overlay is changed through a patch in the overlay, never
// in the base; allowOutsidePath from an operator is refused.
func TestConfineDeployPlans(t *testing.T) {
	c := setupConfine(t, nil)
	before := c.head(t)
	in := map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "env": map[string]any{"LOG_LEVEL": "debug"}, "allowOutsidePath": true}
	confineWant(t, confineCall(t, c.svc, confineOperator, "gitops.deployWithGitOps", in, nil), model.CodeInsufficientPermission)
	if got := c.head(t); got != before {
		t.Fatalf("a refused deploy moved main to %s", got)
	}
	delete(in, "allowOutsidePath")
	var res api.DeployResult
	confineMust(t, c.svc, confineOperator, "gitops.deployWithGitOps", in, &res)
	changed := strings.Fields(gittest.Git(t, c.repo, "diff-tree", "--no-commit-id", "--name-only", "-r", res.CommitSha))
	if len(changed) == 0 {
		t.Fatal("the deploy changed nothing")
	}
	for _, p := range changed {
		if !strings.HasPrefix(p, "k8s/overlays/prod/") {
			t.Fatalf("the deploy wrote %s, outside k8s/overlays/prod (all: %v)", p, changed)
		}
	}
	if got := gittest.Show(t, c.repo, "main", "k8s/base/deployment.yaml"); strings.Contains(got, "LOG_LEVEL") {
		t.Fatalf("the base was edited:\n%s", got)
	}
	// the complete-YAML placement too: an object of the base gets an overlay patch
	var cf api.ConfigFile
	confineMust(t, c.svc, confineViewer, "gitops.readConfig", map[string]any{"environmentId": "env-prod", "file": "k8s/base/deployment.yaml"}, &cf)
	edited := strings.Replace(cf.YAML, "replicas: 2", "replicas: 7", 1)
	var cres api.CommitConfigResult
	confineMust(t, c.svc, confineOperator, "gitops.commitConfigChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod",
		"yaml": strings.Replace(edited, "name: web", "name: web\n  namespace: shop-prod", 1), "commitMessage": "scale"}, &cres)
	for _, p := range cres.Files {
		if !strings.HasPrefix(p, "k8s/overlays/prod/") {
			t.Fatalf("the placement wrote %s (all: %v)", p, cres.Files)
		}
	}
}

// TestSymlinkReadAndWrite: readConfig reads through a link that stays in
// the repository and names the file it resolves to; a link leaving the
// repository is refused; a commit or deploy through a link is refused and
// the link stays a link.
func TestSymlinkReadAndWrite(t *testing.T) {
	c := setupConfine(t, map[string]string{
		"k8s/overlays/linked/kustomization.yaml": "../shared/kustomization.yaml",
		"k8s/overlays/linked/passwd.yaml":        "/etc/passwd",
		"k8s/overlays/linked/up.yaml":            "../../../../outside.yaml",
		"k8s/overlays/prod/base-link.yaml":       "../../base/deployment.yaml",
	})
	before := c.head(t)
	var cf api.ConfigFile
	confineMust(t, c.svc, confineViewer, "gitops.readConfig", map[string]any{"environmentId": "env-linked", "file": "k8s/overlays/linked/kustomization.yaml"}, &cf)
	if cf.YAML != confineRepo["k8s/overlays/shared/kustomization.yaml"] || cf.File != "k8s/overlays/shared/kustomization.yaml" {
		t.Fatalf("readConfig through a link: file %s, yaml %q", cf.File, cf.YAML)
	}
	// without file: the environment's kustomization.yaml, through the link
	confineMust(t, c.svc, confineViewer, "gitops.readConfig", map[string]any{"environmentId": "env-linked"}, &cf)
	if !strings.Contains(cf.YAML, "namespace: shop-shared") {
		t.Fatalf("default readConfig: %q", cf.YAML)
	}
	for file, target := range map[string]string{"k8s/overlays/linked/passwd.yaml": "/etc/passwd", "k8s/overlays/linked/up.yaml": "../../../../outside.yaml"} {
		e := confineWant(t, confineCall(t, c.svc, confineViewer, "gitops.readConfig", map[string]any{"environmentId": "env-linked", "file": file}, nil), model.CodeBadRequest)
		if e.Details["target"] != target || !strings.Contains(e.Message, "outside the repository") {
			t.Fatalf("readConfig %s: %v %v", file, e, e.Details)
		}
	}

	// commits through a link are refused, naming file
	for _, who := range []model.Actor{confineOperator, confineAdmin} {
		in := commitFileInput("env-linked", "k8s/overlays/linked/kustomization.yaml", "resources:\n  - ../../base\nnamespace: hijacked\n")
		if who.Role == model.RoleAdmin {
			in["allowOutsidePath"] = true
		}
		e := confineWant(t, confineCall(t, c.svc, who, "gitops.commitConfigChanges", in, nil), model.CodeBadRequest)
		if _, ok := e.Details["fields"].(map[string]any)["file"]; !ok || e.Details["link"] != "k8s/overlays/linked/kustomization.yaml" {
			t.Fatalf("commit through a link by %s: %v %v", who.Role, e, e.Details)
		}
	}
	// a deploy whose plan edits the linked kustomization.yaml is refused too
	e := confineWant(t, confineCall(t, c.svc, confineOperator, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-linked",
		"image": "ghcr.io/acme/web:2.0.0"}, nil), model.CodeBadRequest)
	if e.Details["file"] != "k8s/overlays/linked/kustomization.yaml" || !strings.Contains(e.Message, "symbolic link") {
		t.Fatalf("deploy through a link: %v %v", e, e.Details)
	}
	// and the preview says so
	var p api.PreviewResult
	confineMust(t, c.svc, confineViewer, "gitops.previewChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-linked",
		"changes": map[string]any{"image": "ghcr.io/acme/web:2.0.0"}}, &p)
	if !strings.Contains(strings.Join(p.Warnings, "\n"), "symbolic link") {
		t.Fatalf("preview warnings: %v", p.Warnings)
	}
	if got := c.head(t); got != before {
		t.Fatalf("the server's main moved from %s to %s", before, got)
	}
	if got := gittest.Git(t, c.repo, "ls-tree", "main", "k8s/overlays/linked/kustomization.yaml"); !strings.HasPrefix(got, "120000 blob") {
		t.Fatalf("the link is no longer a link: %s", got)
	}
	if got := gittest.Show(t, c.repo, "main", "k8s/overlays/linked/kustomization.yaml"); got != "../shared/kustomization.yaml" {
		t.Fatalf("link target now %q", got)
	}
	// a link in the overlay to a base file reads the base; its resolved file
	// is outside the environment, so a commit to it is refused as such
	confineMust(t, c.svc, confineViewer, "gitops.readConfig", map[string]any{"environmentId": "env-prod", "file": "k8s/overlays/prod/base-link.yaml"}, &cf)
	if cf.File != "k8s/base/deployment.yaml" || cf.YAML != confineDeployment {
		t.Fatalf("readConfig of a link to the base: %s %q", cf.File, cf.YAML)
	}
	e = confineWant(t, confineCall(t, c.svc, confineOperator, "gitops.commitConfigChanges", commitFileInput("env-prod", cf.File, cf.YAML+"# edited\n"), nil), model.CodeBadRequest)
	if msg, _ := e.Details["fields"].(map[string]any)["file"].(string); !strings.Contains(msg, "outside the environment's gitPath") {
		t.Fatalf("commit to the base: %v", e)
	}
	e = confineWant(t, confineCall(t, c.svc, confineOperator, "gitops.commitConfigChanges", commitFileInput("env-prod", "k8s/overlays/prod/base-link.yaml", cf.YAML), nil), model.CodeBadRequest)
	if msg, _ := e.Details["fields"].(map[string]any)["file"].(string); !strings.Contains(msg, "symbolic link") {
		t.Fatalf("commit to the link: %v", e)
	}
	if got := c.head(t); got != before {
		t.Fatalf("the server's main moved from %s to %s", before, got)
	}
}

// TestUnpushedCommitKeptForDeploy: a deploy the remote refuses says which
// ref keeps its commit, and the commit survives `git gc --prune=now` on the
// cache clone.
func TestUnpushedCommitKeptForDeploy(t *testing.T) {
	c := setupConfine(t, nil)
	gittest.RejectPushes(t, c.repo, "main is protected")
	e := confineWant(t, confineCall(t, c.svc, confineOperator, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "replicas": 5}, nil),
		model.CodeInsufficientPermission)
	sha, _ := e.Details["commitSha"].(string)
	ref, _ := e.Details["unpushedRef"].(string)
	if len(sha) != 40 || ref != gitx.UnpushedRefPrefix+sha || !strings.Contains(e.Message, ref) {
		t.Fatalf("refusal: %v %v", e, e.Details)
	}
	cache := filepath.Join(c.svc.DataDir(), "git", "repo-shop.git")
	gittest.Git(t, cache, "gc", "--quiet", "--prune=now")
	if _, err := gittest.RunGit(cache, nil, "cat-file", "-e", sha); err != nil {
		t.Fatalf("git gc --prune=now deleted the unpushed commit %s: %v", sha, err)
	}
	if got := gittest.Git(t, cache, "rev-parse", ref); got != sha {
		t.Fatalf("%s = %s", ref, got)
	}
}
