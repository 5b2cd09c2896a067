package services_test

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/klog/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
	"github.com/gitopstui/gitopstui/store"
)

// secretsLogChild marks the fresh process that runs TestNoSecretInTheLog.
const secretsLogChild = "GITOPSTUI_SECRETS_LOG_CHILD"

// TestNoSecretInTheLog runs TestNoSecretAtRest's calls with the planted
// secrets, and more that fail (a wrong Git token; an unreachable cluster
// and one whose kubeconfig has gone, both with a bearer token), through
// services that log to a real file, with the status watchers running and
// client-go's klog redirected into the same logger, as the TUI runs them
// but at client-go's most verbose level (V(10): request URLs, headers and
// curl commands). The log must show the background trouble of both
// loggers (so the test can fail) and none of the secrets, the Git server's
// password included.
func TestNoSecretInTheLog(t *testing.T) {
	if os.Getenv(secretsLogChild) == "" {
		// klog's logger and verbosity belong to the process and may change
		// only before client-go's goroutines start (other tests leave some
		// running): the run happens in a fresh process of this test binary.
		cmd := exec.Command(os.Args[0], "-test.run=^TestNoSecretInTheLog$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), secretsLogChild+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("--- PASS: TestNoSecretInTheLog")) {
			t.Fatalf("the run in a fresh process: %v\n%s", err, out)
		}
		t.Logf("%s", bytes.TrimSpace(out))
		return
	}
	logFile := filepath.Join(t.TempDir(), "gitopstui.log")
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	// logr's V(n) is slog level -n.
	log := slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.Level(-10)}))
	klog.SetSlogLogger(log.With("component", "client-go"))
	// klog's own verbosity decides the request dumps of client-go's transport.
	t.Cleanup(func() { _ = f.Close() })
	kflags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(kflags)
	if err := kflags.Set("v", "10"); err != nil {
		t.Fatal(err)
	}

	server := gittest.NewHTTPServer(t)
	server.CreateRepo(t, "acme/shop.git", shopRepo)
	t.Setenv("SHOP_GIT_TOKEN", server.Password)
	t.Setenv("WRONG_GIT_TOKEN", "ghp_PLANTEDWRONG456")
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	planted := []string{"ghp_PLANTEDTOKEN123", "planted-env-value-42", "planted-secret-data-77",
		"ghp_PLANTEDWRONG456", "planted-kube-token-99", server.Password}

	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	// The clusters are registered by an earlier process, as a TUI finds them.
	earlier := services.New(services.Config{DataDir: dir, DB: db})
	plantClusters(t, earlier)
	_ = earlier.Close()
	svc := services.New(services.Config{DataDir: dir, DB: db, Logger: log})
	t.Cleanup(func() { _ = svc.Close() })
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if err := svc.StartWatchers(ctx); err != nil {
		t.Fatal(err)
	}
	plantSecretsAndRun(t, svc, server)

	// The watcher of the cluster without a kubeconfig has logged its
	// trouble, and client-go its requests (as curl commands) and their
	// failures.
	for _, want := range []string{`msg="status watcher stopped; restarting" cluster=cluster-gone`,
		"dial tcp 127.0.0.1:1: connect: connection refused", `Authorization: Bearer <masked>`} {
		deadline := time.Now().Add(30 * time.Second)
		for !bytes.Contains(readLog(t, logFile), []byte(want)) {
			if time.Now().After(deadline) {
				t.Fatalf("the log never says %q:\n%s", want, readLog(t, logFile))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	stop()
	b := readLog(t, logFile)
	for _, p := range planted {
		if bytes.Contains(b, []byte(p)) {
			t.Errorf("%s is in the log", p)
		}
	}
	t.Logf("%d log lines, none with a planted secret", bytes.Count(b, []byte("\n")))
}

// plantClusters registers two clusters whose kubeconfig carries a planted
// token: one unreachable, one whose kubeconfig is then removed (before the
// services that log start: a process keeps the config it loaded).
func plantClusters(t *testing.T, svc *services.Services) {
	t.Helper()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	kubeconfig := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\n" +
		"users:\n- name: u\n  user: {token: planted-kube-token-99}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n"
	if err := os.WriteFile(kc, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	mustCall(t, svc, "clusters.register", map[string]any{"id": "cluster-123", "name": "k3s", "kubeconfig": kc}, nil)
	gone := filepath.Join(t.TempDir(), "gone.kubeconfig")
	if err := os.WriteFile(gone, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	mustCall(t, svc, "clusters.register", map[string]any{"id": "cluster-gone", "name": "gone", "kubeconfig": gone}, nil)
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
}

// plantSecretsAndRun creates a project with two environments on
// repositories authenticated by environment variables (the right token and
// a wrong one), and runs the calls that carry or use the planted secrets.
func plantSecretsAndRun(t *testing.T, svc *services.Services, server *gittest.HTTPServer) {
	t.Helper()
	mustCall(t, svc, "projects.create", map[string]any{"id": "proj-shop", "name": "shop"}, nil)
	for _, env := range []string{"prod", "dev"} {
		mustCall(t, svc, "environments.create", map[string]any{"id": "env-" + env, "projectId": "proj-shop", "name": env,
			"clusterId": "cluster-123", "namespace": "shop-" + env}, nil)
	}
	for id, tokenEnv := range map[string]string{"repo-456": "SHOP_GIT_TOKEN", "repo-wrong": "WRONG_GIT_TOKEN"} {
		mustCall(t, svc, "repositories.create", map[string]any{"id": id, "projectId": "proj-shop", "fullName": "acme/" + id,
			"url": server.RepoURL("acme/shop.git"), "auth": map[string]any{"type": "basic-env", "username": server.User, "tokenEnv": tokenEnv}}, nil)
	}
	mustCall(t, svc, "environments.configureGitOps", map[string]any{"environmentId": "env-prod",
		"config": map[string]any{"enabled": true, "repositoryId": "repo-456", "gitPath": "./k8s/overlays/prod"}}, nil)
	mustCall(t, svc, "environments.configureGitOps", map[string]any{"environmentId": "env-dev",
		"config": map[string]any{"enabled": true, "repositoryId": "repo-wrong", "gitPath": "./k8s/overlays/prod"}}, nil)

	wantCode(t, callProc(t, svc, "repositories.create", map[string]any{"projectId": "proj-shop", "fullName": "acme/leak",
		"url": "https://alice:ghp_PLANTEDTOKEN123@git.example.com/acme/leak.git"}, nil), model.CodeBadRequest)
	envChange := map[string]any{"API_TOKEN": "planted-env-value-42"}
	mustCall(t, svc, "gitops.previewChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod",
		"changes": map[string]any{"env": envChange}}, nil)
	mustCall(t, svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "env": envChange}, nil)
	err := callProc(t, svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-dev", "env": envChange}, nil)
	if code := model.CodeOf(err); code != model.CodeGitAuthFailed {
		t.Errorf("deploy with the wrong token: %v, want GIT_AUTH_FAILED", err)
	}
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop-prod\nstringData:\n  password: planted-secret-data-77\n"
	mustCall(t, svc, "gitops.validateYAML", map[string]any{"yaml": secret}, nil)
	_ = callProc(t, svc, "gitops.commitConfigChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod",
		"yaml": secret, "commitMessage": "add db secret"}, nil)
	for _, p := range []string{"deployments.list", "clusters.list", "gitops.listGitOpsResources"} {
		_ = callProc(t, svc, p, map[string]any{"projectId": "proj-shop"}, nil)
	}
	mustCall(t, svc, "audit.list", map[string]any{"limit": 1000}, nil)
}

func readLog(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return bytes.TrimSpace(append(b, '\n'))
}
