package services_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
	"github.com/gitopstui/gitopstui/services/policy"
	"github.com/gitopstui/gitopstui/store"
)

// servingHarness is a serving process's services (lending policy p) over a
// real store, with a project whose prod environment follows repository
// repo-456 on a real git server.
type servingHarness struct {
	svc    *services.Services
	server *gittest.HTTPServer
}

func newServing(t *testing.T, p policy.Policy) servingHarness {
	t.Helper()
	server := gittest.NewHTTPServer(t)
	server.CreateRepo(t, "acme/shop.git", shopRepo)
	t.Setenv("SHOP_GIT_TOKEN", server.Password)
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	p.Serving = true
	svc := services.New(services.Config{DataDir: dir, DB: db, Policy: p})
	t.Cleanup(func() { _ = svc.Close() })
	mustCall(t, svc, "clusters.register", map[string]any{"id": "cluster-123", "name": "k3s", "kubeconfig": offlineKubeconfig(t)}, nil)
	mustCall(t, svc, "projects.create", map[string]any{"id": "proj-shop", "name": "shop"}, nil)
	mustCall(t, svc, "environments.create", map[string]any{"id": "env-prod", "projectId": "proj-shop", "name": "prod", "clusterId": "cluster-123", "namespace": "shop-prod"}, nil)
	mustCall(t, svc, "repositories.create", map[string]any{"id": "repo-456", "projectId": "proj-shop", "fullName": "acme/shop", "url": server.RepoURL("acme/shop.git"),
		"auth": map[string]any{"type": "basic-env", "username": server.User, "tokenEnv": "SHOP_GIT_TOKEN"}}, nil)
	mustCall(t, svc, "environments.configureGitOps", map[string]any{"environmentId": "env-prod", "config": map[string]any{"enabled": true, "repositoryId": "repo-456", "gitPath": "./k8s/overlays/prod"}}, nil)
	return servingHarness{svc: svc, server: server}
}

// asSSH calls name as an SSH user with role.
func (h servingHarness) asSSH(t *testing.T, role model.Role, name string, in any) (any, error) {
	t.Helper()
	raw, _ := json.Marshal(in)
	ctx, cancel := context.WithTimeout(model.WithActor(context.Background(), model.Actor{User: "mallory", Role: role, Source: "ssh"}), time.Minute)
	defer cancel()
	return h.svc.Registry().Call(ctx, name, raw)
}

func TestServerLendsNoCredentialToSSHUsers(t *testing.T) {
	h := newServing(t, policy.Policy{})
	read := map[string]any{"environmentId": "env-prod"}
	// The token lives in the server's environment, and the operator did
	// not name it: an SSH user cannot use it, even to read.
	_, err := h.asSSH(t, model.RoleViewer, "gitops.readConfig", read)
	if e := model.AsError(err); e.Code != model.CodeInsufficientPermission || !strings.Contains(e.Message, "auth.tokenEnv") {
		t.Fatalf("borrowed the server's token: %v", err)
	}
	before := gittest.Log(t, h.server.Dir("acme/shop.git"), "main")
	_, err = h.asSSH(t, model.RoleOperator, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "replicas": 3})
	if model.CodeOf(err) != model.CodeInsufficientPermission {
		t.Fatalf("deploy with the server's token: %v", err)
	}
	if after := gittest.Log(t, h.server.Dir("acme/shop.git"), "main"); len(after) != len(before) {
		t.Fatal("an SSH user pushed with the server's credentials")
	}
	// The local operator (a forwarded CLI call) keeps its own credentials.
	mustCall(t, h.svc, "gitops.readConfig", read, nil)

	allowed := newServing(t, policy.Policy{Env: []string{"SHOP_GIT_TOKEN"}})
	if _, err := allowed.asSSH(t, model.RoleViewer, "gitops.readConfig", read); err != nil {
		t.Fatalf("a variable the operator named is refused: %v", err)
	}
}

func TestServerLendsNoFilesToSSHUsers(t *testing.T) {
	h := newServing(t, policy.Policy{})
	for _, path := range []string{"/etc/passwd", "", offlineKubeconfig(t)} {
		_, err := h.asSSH(t, model.RoleAdmin, "clusters.register", map[string]any{"name": "x" + filepath.Base(path), "kubeconfig": path})
		if model.CodeOf(err) != model.CodeInsufficientPermission {
			t.Errorf("registered the server's file %q: %v", path, err)
		}
	}
	_, err := h.asSSH(t, model.RoleAdmin, "gitops.installFlux", map[string]any{"clusterId": "cluster-123", "manifestsPath": "/etc/hostname"})
	if model.CodeOf(err) != model.CodeInsufficientPermission {
		t.Fatalf("installFlux read a server file: %v", err)
	}
	// file:// remotes would read and write the server's own repositories.
	mustCall(t, h.svc, "repositories.update", map[string]any{"id": "repo-456", "url": "file://" + h.server.Dir("acme/shop.git")}, nil)
	_, err = h.asSSH(t, model.RoleViewer, "gitops.readConfig", map[string]any{"environmentId": "env-prod"})
	if e := model.AsError(err); e.Code != model.CodeInsufficientPermission || !strings.Contains(e.Message, "--allow-file-remotes") {
		t.Fatalf("read a local repository: %v", err)
	}
}

func TestNamedFilesMustBeRegularAndBounded(t *testing.T) {
	svc := newSvc(t)
	done := make(chan error, 1)
	go func() {
		done <- callProc(t, svc, "clusters.register", map[string]any{"name": "zero", "kubeconfig": "/dev/zero"}, nil)
	}()
	select {
	case err := <-done:
		wantCode(t, err, model.CodeBadRequest)
	case <-time.After(30 * time.Second):
		t.Fatal("registering /dev/zero as a kubeconfig does not return")
	}
}

func TestServingRefusesKubeconfigPlugins(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "plugin-ran")
	plugin := filepath.Join(dir, "plugin.sh")
	if err := os.WriteFile(plugin, []byte("#!/bin/sh\ntouch "+marker+"\necho '{}'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(dir, "kubeconfig")
	body := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: " + plugin + "\n      interactiveMode: Never\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n"
	if err := os.WriteFile(kc, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newServing(t, policy.Policy{})
	var v struct {
		Status struct {
			Error string `json:"error"`
		} `json:"status"`
	}
	mustCall(t, h.svc, "clusters.register", map[string]any{"id": "cluster-exec", "name": "exec", "kubeconfig": kc}, &v)
	mustCall(t, h.svc, "clusters.get", map[string]any{"id": "cluster-exec"}, &v)
	if !strings.Contains(v.Status.Error, "--allow-exec-plugins") {
		t.Fatalf("status of a plugin kubeconfig: %+v", v)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the kubeconfig's exec plugin ran in a serving process")
	}
}
