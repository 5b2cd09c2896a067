package services_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// The reference's three best practices (最佳实践) as tests: error handling
// of deployWithGitOps, polling deployments.get, and configuring three
// environments in parallel.

const prodOverlay = "k8s/overlays/production/kustomization.yaml"

// TestReferenceBestPractices runs the three flows on env-prod and the
// environments 'dev', 'staging' and 'prod'.
func TestReferenceBestPractices(t *testing.T) {
	r := setupReferenceCatalog(t)
	mustCall(t, r.svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-123"}, nil)
	setupReferenceGitOps(t, r)
	mustJSON(t, r.svc, "gitops.createGitOpsResource", `{"projectId": "project-123", "environmentId": "env-prod", "repositoryId": "repo-456",
		"type": "kustomization", "name": "my-app-prod", "namespace": "default", "config": {"path": "./k8s/overlays/production", "prune": true}}`)
	t.Run("error handling/CONFLICT_DETECTED", func(t *testing.T) { refConflict(t, r) })
	t.Run("error handling/GIT_AUTH_FAILED", func(t *testing.T) {
		t.Setenv(refTokenEnv, "not-the-password")
		before := gittest.Log(t, r.appRepo(), "main")
		_, err := callJSON(t, r.svc, "gitops.deployWithGitOps", `{"projectId": "project-123", "environmentId": "env-prod", "replicas": 4}`)
		e := wantCode(t, err, model.CodeGitAuthFailed)
		checkShape(t, "error", errJSON(t, e), shapeError)
		if e.Message == "" || strings.Contains(e.Message, "not-the-password") {
			t.Errorf("message: %q", e.Message)
		}
		if after := gittest.Log(t, r.appRepo(), "main"); len(after) != len(before) {
			t.Error("a deploy with a wrong password changed the remote")
		}
	})
	t.Run("polling deployments.get", func(t *testing.T) { refPolling(t, r) })
	t.Run("batch configureGitOps", func(t *testing.T) { refBatch(t, r) })
}

// refConflict provokes the reference's CONFLICT_DETECTED: between the head a
// deploy plans on and its push, someone else pushes a change to the same
// field (the overlay's newTag). A pre-receive hook on the server moves main to
// that upstream commit while the deploy's push is received, so the push loses
// the race exactly once; the deploy re-plans on the new head and finds the
// field changed upstream.
func refConflict(t *testing.T, r refEnv) {
	data := `{"projectId": "project-123", "environmentId": "env-prod", "image": "ghcr.io/org/my-app:v1.2.3"}`
	preview := mustJSON(t, r.svc, "gitops.previewChanges", `{"projectId": "project-123", "environmentId": "env-prod", "changes": {"image": "ghcr.io/org/my-app:v1.2.3"}}`)
	if files, _ := field(t, preview, "summary.files").([]any); len(files) != 1 || files[0] != prodOverlay {
		t.Fatalf("the deploy should edit %s: %v", prodOverlay, preview)
	}
	work := filepath.Join(t.TempDir(), "w")
	gittest.Git(t, "", "clone", "-q", r.appRepo(), work)
	file := filepath.Join(work, filepath.FromSlash(prodOverlay))
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), "newTag: v1.0.0", "newTag: v1.1.0", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	gittest.Git(t, work, "commit", "-q", "-am", "hotfix: v1.1.0")
	upstream := gittest.Git(t, work, "rev-parse", "HEAD")
	gittest.Git(t, work, "push", "-q", "origin", "HEAD:refs/heads/upstream")
	writeHook(t, r.appRepo(), "pre-receive", fmt.Sprintf("#!/bin/sh\nrm -f \"$0\"\ncat >/dev/null\nunset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\nexec '%s' update-ref refs/heads/main %s\n",
		gittest.GitPath(t), upstream))

	_, err = callJSON(t, r.svc, "gitops.deployWithGitOps", data)
	e := wantCode(t, err, model.CodeConflictDetected)
	out := errJSON(t, e)
	checkShape(t, "error", out, shapeError)
	conflicts, _ := field(t, out, "details.conflicts").([]any)
	if len(conflicts) == 0 {
		t.Fatalf("details.conflicts empty: %v", out)
	}
	checkShape(t, "error.details.conflicts", conflicts, []any{map[string]any{"path": "string", "field": "string", "base": "string", "ours": "string", "theirs": "string"}})
	c, _ := conflicts[0].(map[string]any)
	base, _ := c["base"].(string)
	ours, _ := c["ours"].(string)
	theirs, _ := c["theirs"].(string)
	if c["path"] != prodOverlay || c["field"] == "" || !strings.Contains(base, "v1.0.0") || !strings.Contains(ours, "v1.2.3") || !strings.Contains(theirs, "v1.1.0") {
		t.Errorf("conflict: %v", c)
	}
	if head := gittest.Git(t, r.appRepo(), "rev-parse", "main"); head != upstream {
		t.Errorf("server head %s, want the upstream commit %s", head, upstream)
	}
}

// standInKustomizeController stands in for kustomize-controller (the real
// one runs in services/e2e): it follows the branch head on the git server and
// reports each new commit as applied on the Kustomization's status.
func standInKustomizeController(t *testing.T, r refEnv, ns, name string) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			head, err := gittest.RunGit(r.appRepo(), nil, "rev-parse", "refs/heads/main")
			u, gerr := r.dyn.Resource(ksGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
			if err == nil && gerr == nil {
				rev := "main@sha1:" + head
				if applied, _, _ := unstructured.NestedString(u.Object, "status", "lastAppliedRevision"); applied != rev {
					p, _ := json.Marshal(map[string]any{"status": map[string]any{"lastAppliedRevision": rev, "lastAttemptedRevision": rev,
						"observedGeneration": u.GetGeneration(),
						"conditions":         []any{cond("Ready", "True", "ReconciliationSucceeded", "Applied revision: "+rev)}}})
					if _, err := r.dyn.Resource(ksGVR).Namespace(ns).Patch(ctx, name, types.MergePatchType, p, metav1.PatchOptions{}, "status"); err != nil && ctx.Err() == nil {
						t.Logf("stand-in controller: %v", err)
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return func() { cancel(); <-done }
}

// refPolling is the reference's waitForDeployment: deployments.get until
// success or failed, at most 60 attempts.
func refPolling(t *testing.T, r refEnv) {
	out := mustJSON(t, r.svc, "gitops.deployWithGitOps", `{"projectId": "project-123", "environmentId": "env-prod", "image": "ghcr.io/org/my-app:v1.3.0", "replicas": 3}`)
	id, _ := field(t, out, "deploymentId").(string)
	sha, _ := field(t, out, "commitSha").(string)
	stop := standInKustomizeController(t, r, "default", "my-app-prod")
	defer stop()
	const maxAttempts = 60
	var dep any
	for attempts := 0; ; attempts++ {
		if attempts == maxAttempts {
			t.Fatalf("部署超时 (deployment timed out): %v", dep)
		}
		dep = mustJSON(t, r.svc, "deployments.get", string(mustMarshal(t, map[string]any{"id": id})))
		checkShape(t, "deployment", dep, map[string]any{"status": "string", "errorMessage": "string?", "deploymentMethod": "manual|gitops-ui|gitops-git|pipeline"})
		status := field(t, dep, "status")
		if status == "success" {
			break
		}
		if status == "failed" {
			t.Fatalf("deployment failed: %v", field(t, dep, "errorMessage"))
		}
		time.Sleep(250 * time.Millisecond)
	}
	if field(t, dep, "gitCommitSha") != sha || field(t, dep, "deploymentMethod") != "gitops-ui" {
		t.Errorf("deployment: %v", dep)
	}
}

// getConfigForEnvironment is the batch flow's per-environment config.
func getConfigForEnvironment(env string) map[string]any {
	switch env {
	case "dev":
		return map[string]any{"enabled": true, "autoSync": true, "gitBranch": "develop", "gitPath": "./k8s/overlays/development", "syncInterval": "1m"}
	case "staging":
		return map[string]any{"enabled": true, "autoSync": true, "gitBranch": "main", "gitPath": "./k8s/overlays/staging", "syncInterval": "5m"}
	default:
		return map[string]any{"enabled": true, "autoSync": false, "gitBranch": "main", "gitPath": "./k8s/overlays/production", "syncInterval": "10m"}
	}
}

// refBatch is Promise.all over configureGitOps for 'dev', 'staging', 'prod'.
func refBatch(t *testing.T, r refEnv) {
	environments := []string{"dev", "staging", "prod"}
	results := make([][]byte, len(environments))
	errs := make([]error, len(environments))
	var wg sync.WaitGroup
	for i, env := range environments {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw, _ := json.Marshal(map[string]any{"environmentId": env, "config": getConfigForEnvironment(env)})
			res, err := r.svc.Registry().Call(model.WithActor(context.Background(), model.LocalActor("test")), "environments.configureGitOps", raw)
			if err == nil {
				results[i], err = json.Marshal(res)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, env := range environments {
		if errs[i] != nil {
			t.Errorf("configureGitOps %s: %v", env, errs[i])
			continue
		}
		var out any
		if err := json.Unmarshal(results[i], &out); err != nil {
			t.Fatal(err)
		}
		checkShape(t, env, out, shapeConfigured)
		cfg := mustJSON(t, r.svc, "environments.getGitOpsConfig", string(mustMarshal(t, map[string]any{"environmentId": env})))
		checkShape(t, env+" config", cfg, shapeGitOpsConfig)
		for k, want := range getConfigForEnvironment(env) {
			if got := field(t, cfg, k); got != want {
				t.Errorf("%s: %s = %v, want %v", env, k, got, want)
			}
		}
	}
}
