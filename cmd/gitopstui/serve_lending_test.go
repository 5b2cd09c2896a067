package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// shopFiles is a GitOps repository with a prod overlay.
var shopFiles = map[string]string{
	"k8s/base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
`,
	"k8s/base/kustomization.yaml":          "resources:\n  - deployment.yaml\n",
	"k8s/overlays/prod/kustomization.yaml": "resources:\n  - ../../base\nnamespace: shop-prod\n",
}

// TestServeLendsOnlyWhatTheOperatorNamed: `gitopstui serve` holds a Git
// token in its environment. An admin over SSH (the OpenSSH client) sets up
// a repository on a real git server whose tokenEnv names it; reading and
// deploying are refused with INSUFFICIENT_PERMISSIONS naming auth.tokenEnv
// and nothing is pushed, until the operator restarts the server with
// --credential-env. The kubeconfig is registered through --allow-file.
func TestServeLendsOnlyWhatTheOperatorNamed(t *testing.T) {
	git := gittest.NewHTTPServer(t)
	repoDir := filepath.Join(git.Root, "acme", "shop.git")
	git.CreateRepo(t, "acme/shop.git", shopFiles)
	work := t.TempDir()
	dir := filepath.Join(work, "data")
	adminKey, kubeconfig := filepath.Join(work, "admin"), filepath.Join(work, "kubeconfig")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "authorized_keys"), "role=admin "+keygen(t, adminKey)+" alice\n")
	writeFile(t, kubeconfig, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\n"+
		"users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n")
	env := []string{"SHOP_GIT_TOKEN=" + git.Password, "GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0"}

	srv := startServeEnv(t, dir, env, "--allow-file", kubeconfig, "--rate", "1000/s")
	ssh := func(procedure string, in any) (int, string, string) {
		raw, _ := json.Marshal(in)
		return runCmd(t, string(raw), "ssh", append(sshArgs(srv.addr, adminKey), "procedure", procedure, "-")...)
	}
	for _, c := range []struct {
		name string
		in   map[string]any
	}{
		{"clusters.register", map[string]any{"id": "cluster-123", "name": "k3s", "kubeconfig": kubeconfig}},
		{"projects.create", map[string]any{"id": "proj-shop", "name": "shop"}},
		{"environments.create", map[string]any{"id": "env-prod", "projectId": "proj-shop", "name": "prod", "clusterId": "cluster-123", "namespace": "shop-prod"}},
		{"repositories.create", map[string]any{"id": "repo-456", "projectId": "proj-shop", "fullName": "acme/shop", "url": git.RepoURL("acme/shop.git"),
			"auth": map[string]any{"type": "basic-env", "username": git.User, "tokenEnv": "SHOP_GIT_TOKEN"}}},
		{"environments.configureGitOps", map[string]any{"environmentId": "env-prod", "config": map[string]any{"enabled": true, "repositoryId": "repo-456", "gitPath": "./k8s/overlays/prod"}}},
	} {
		if code, out, errOut := ssh(c.name, c.in); code != 0 {
			t.Fatalf("%s over SSH: exit %d\n%s%s\n%s", c.name, code, out, errOut, srv.logText())
		}
	}
	// A server file the operator did not allow stays the server's.
	code, _, errOut := ssh("clusters.register", map[string]any{"name": "mine", "kubeconfig": filepath.Join(work, "admin")})
	if e := decodeError(t, errOut); code != 1 || e.Code != model.CodeInsufficientPermission || !strings.Contains(e.Message, "--allow-file") {
		t.Errorf("register a key file as a kubeconfig: exit %d %s", code, errOut)
	}

	read := map[string]any{"environmentId": "env-prod"}
	deploy := map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "replicas": 3}
	before := gittest.Log(t, repoDir, "main")
	for name, in := range map[string]any{"gitops.readConfig": read, "gitops.deployWithGitOps": deploy} {
		code, out, errOut := ssh(name, in)
		e := decodeError(t, errOut)
		if code != 1 || out != "" || e.Code != model.CodeInsufficientPermission || !strings.Contains(e.Message, "auth.tokenEnv") ||
			!strings.Contains(e.Message, "--credential-env") {
			t.Errorf("%s with the server's token: exit %d, stdout %q, stderr %s", name, code, out, errOut)
		}
	}
	if after := gittest.Log(t, repoDir, "main"); len(after) != len(before) {
		t.Fatal("an SSH user pushed with the server's credentials")
	}
	srv.stop(t)

	srv = startServeEnv(t, dir, env, "--allow-file", kubeconfig, "--credential-env", "SHOP_GIT_TOKEN", "--rate", "1000/s")
	if !strings.Contains(srv.logText(), "credential_env=[SHOP_GIT_TOKEN]") {
		t.Errorf("the server does not log what it lends:\n%s", srv.logText())
	}
	if code, out, errOut := ssh("gitops.readConfig", read); code != 0 || !strings.Contains(out, "namespace: shop-prod") {
		t.Fatalf("readConfig with --credential-env: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := ssh("gitops.deployWithGitOps", deploy)
	var res struct {
		CommitSha string `json:"commitSha"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.CommitSha != gittest.Git(t, repoDir, "rev-parse", "main") {
		t.Fatalf("deploy with --credential-env: exit %d\n%s%s", code, out, errOut)
	}
	srv.stop(t)
}

func decodeError(t *testing.T, s string) model.Error {
	t.Helper()
	var e model.Error
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		t.Errorf("not error JSON: %v\n%s", err, s)
	}
	return e
}
