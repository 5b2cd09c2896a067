package services_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// The reference (gitops-api-reference.zh.md) as tests: every example call
// runs with its input copied verbatim (the TypeScript object literal as
// JSON, ids included), and every procedure's documented result is checked
// field by field in the raw JSON a front end receives.

// Documented result shapes (返回值 of each procedure).
var (
	shapeInstallFlux = map[string]any{"success": "boolean", "version": "string",
		"components": []any{map[string]any{"name": "string", "status": "ready|pending|failed"}}}
	shapeFluxHealth = map[string]any{"overall": "healthy|degraded|unhealthy",
		"components": []any{map[string]any{"name": "string", "ready": "boolean", "replicas": "number", "readyReplicas": "number",
			"conditions": []any{map[string]any{"type": "string", "status": "string", "message": "string"}}}}}
	shapeUninstallFlux = map[string]any{"success": "boolean", "message": "string"}
	shapeCreated       = map[string]any{"id": "string", "name": "string", "type": "string",
		"status": "pending|ready|reconciling|failed", "createdAt": "string"}
	shapeResourceList = []any{map[string]any{"id": "string", "name": "string", "type": "kustomization|helm", "status": "string",
		"lastAppliedRevision": "string", "errorMessage": "string?",
		"environment": map[string]any{"id": "string", "name": "string"},
		"repository":  map[string]any{"id": "string", "fullName": "string"},
		"createdAt":   "string", "updatedAt": "string"}}
	shapeResourceDetail = map[string]any{"id": "string", "name": "string", "type": "string", "namespace": "string", "config": "object",
		"status": "string", "lastAppliedRevision": "string", "lastAttemptedRevision": "string", "errorMessage": "string?",
		"conditions": []any{map[string]any{"type": "string", "status": "string", "reason": "string", "message": "string", "lastTransitionTime": "string"}},
		"events":     []any{map[string]any{"type": "string", "reason": "string", "message": "string", "timestamp": "string"}}}
	shapeUpdated   = map[string]any{"id": "string", "updatedAt": "string"}
	shapeDeleted   = map[string]any{"success": "boolean"}
	shapeSync      = map[string]any{"success": "boolean", "message": "string", "syncedAt": "string"}
	shapeDeploy    = map[string]any{"deploymentId": "string", "commitSha": "string", "gitUrl": "string", "message": "string"}
	shapeCommitCfg = map[string]any{"commitSha": "string", "gitUrl": "string", "branch": "string"}
	shapePreview   = map[string]any{"diff": "string",
		"summary": map[string]any{"additions": "number", "deletions": "number", "files": []any{"string"}},
		"impact":  map[string]any{"willRestartPods": "boolean", "estimatedDowntime": "string", "affectedResources": []any{"string"}}}
	shapeValidate = map[string]any{"valid": "boolean",
		"errors":   opt{[]any{map[string]any{"line": "number", "column": "number", "message": "string"}}},
		"warnings": opt{[]any{map[string]any{"message": "string", "suggestion": "string"}}}}
	shapeEnableGitOps = map[string]any{"success": "boolean", "fluxResourceName": "string"}
	shapeFluxStatus   = map[string]any{"syncStatus": "ready|reconciling|failed", "lastSyncCommit": "string", "lastSyncTime": "string", "errorMessage": "string?"}
	shapeDeployments  = []any{map[string]any{"deploymentMethod": "manual|gitops-ui|gitops-git|pipeline",
		"gitopsResourceId": "string?", "gitCommitSha": "string?", "gitCommitUrl": "string?"}}
	shapeConfigured   = map[string]any{"success": "boolean"}
	shapeGitOpsConfig = map[string]any{"enabled": "boolean", "autoSync": "boolean", "gitBranch": "string", "gitPath": "string", "syncInterval": "string"}
	shapeError        = map[string]any{"code": "string", "message": "string", "details": "any?"}
)

// TestReferenceExamples runs the reference's examples in its own order, on a
// catalog holding the records their ids name.
func TestReferenceExamples(t *testing.T) {
	r := setupReferenceCatalog(t)
	t.Run("gitops.installFlux", func(t *testing.T) { refInstallFlux(t, r) })
	t.Run("gitops.checkFluxHealth", func(t *testing.T) { refCheckFluxHealth(t, r) })
	setupReferenceGitOps(t, r)
	t.Run("gitops.createGitOpsResource/Kustomization", func(t *testing.T) { refCreateKustomization(t, r) })
	t.Run("gitops.createGitOpsResource/HelmRelease", func(t *testing.T) { refCreateHelmRelease(t, r) })
	t.Run("gitops.listGitOpsResources", func(t *testing.T) { refListResources(t, r) })
	t.Run("gitops.getGitOpsResource", func(t *testing.T) { refGetResource(t, r) })
	t.Run("gitops.updateGitOpsResource", func(t *testing.T) { refUpdateResource(t, r) })
	t.Run("gitops.triggerSync", func(t *testing.T) { refTriggerSync(t, r) })
	t.Run("gitops.previewChanges", func(t *testing.T) { refPreview(t, r) })
	t.Run("gitops.deployWithGitOps", func(t *testing.T) { refDeploy(t, r) })
	t.Run("gitops.commitConfigChanges", func(t *testing.T) { refCommitConfig(t, r) })
	t.Run("gitops.validateYAML", func(t *testing.T) { refValidateYAML(t, r) })
	t.Run("repositories.enableGitOps", func(t *testing.T) { refEnableGitOps(t, r) })
	t.Run("repositories.getFluxStatus", func(t *testing.T) { refFluxStatus(t, r) })
	t.Run("deployments.list", func(t *testing.T) { refDeploymentsList(t, r) })
	t.Run("environments.configureGitOps", func(t *testing.T) { refConfigureGitOps(t, r) })
	t.Run("environments.getGitOpsConfig", func(t *testing.T) { refGetGitOpsConfig(t, r) })
	t.Run("gitops.deleteGitOpsResource", func(t *testing.T) { refDeleteResource(t, r) })
	t.Run("gitops.uninstallFlux", func(t *testing.T) { refUninstallFlux(t, r) })
}

func refCheckFluxHealth(t *testing.T, r refEnv) {
	// No kubelet runs the pods: one controller is marked available so
	// that its conditions are there to check.
	r.c.MarkDeploymentAvailable(t, "flux-system", "source-controller")
	out := mustJSON(t, r.svc, "gitops.checkFluxHealth", `{"clusterId": "cluster-123"}`)
	checkShape(t, "result", out, shapeFluxHealth)
	comps, _ := field(t, out, "components").([]any)
	withConds := 0
	for _, c := range comps {
		if cs, _ := field(t, c, "conditions").([]any); len(cs) > 0 {
			withConds++
		}
	}
	if len(comps) == 0 || withConds == 0 || field(t, out, "overall") != "degraded" {
		t.Errorf("health with one of %d controllers available: %v", len(comps), out)
	}
}

func refGetResource(t *testing.T, r refEnv) {
	refResourceStatus(t, r)
	out := mustJSON(t, r.svc, "gitops.getGitOpsResource", `{"id": "resource-123"}`)
	checkShape(t, "result", out, shapeResourceDetail)
	conds, _ := field(t, out, "conditions").([]any)
	events, _ := field(t, out, "events").([]any)
	if field(t, out, "id") != "resource-123" || field(t, out, "name") != "my-app-prod" || field(t, out, "config.path") != "./k8s/overlays/production" ||
		len(conds) == 0 || len(events) == 0 || field(t, out, "errorMessage") != "kustomize build failed" {
		t.Errorf("detail: %v", out)
	}
}

func refUpdateResource(t *testing.T, r refEnv) {
	out := mustJSON(t, r.svc, "gitops.updateGitOpsResource", `{"id": "resource-123", "config": {"timeout": "4m"}}`)
	checkShape(t, "result", out, shapeUpdated)
	if field(t, out, "id") != "resource-123" {
		t.Errorf("update: %v", out)
	}
}

func refTriggerSync(t *testing.T, r refEnv) {
	out := mustJSON(t, r.svc, "gitops.triggerSync", `{"id": "resource-123"}`)
	checkShape(t, "result", out, shapeSync)
	if field(t, out, "success") != true {
		t.Errorf("sync: %v", out)
	}
}

func refValidateYAML(t *testing.T, r refEnv) {
	out := mustJSON(t, r.svc, "gitops.validateYAML", `{"yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: three\n"}`)
	checkShape(t, "result", out, shapeValidate)
	if errs, _ := field(t, out, "errors").([]any); field(t, out, "valid") != false || len(errs) == 0 {
		t.Errorf("invalid Deployment: %v", out)
	}
	out = mustJSON(t, r.svc, "gitops.validateYAML", `{"yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:latest\n"}`)
	checkShape(t, "result", out, shapeValidate)
	if ws, _ := field(t, out, "warnings").([]any); field(t, out, "valid") != true || len(ws) == 0 {
		t.Errorf("latest tag, no limits: want valid with warnings: %v", out)
	}
}

func refEnableGitOps(t *testing.T, r refEnv) {
	out := mustJSON(t, r.svc, "repositories.enableGitOps", `{
  "repositoryId": "repo-123",
  "config": {
    "fluxNamespace": "flux-system",
    "syncInterval": "1m"
  }
}`)
	checkShape(t, "result", out, shapeEnableGitOps)
	if field(t, out, "success") != true || field(t, out, "fluxResourceName") == "" {
		t.Errorf("enableGitOps: %v", out)
	}
}

func refFluxStatus(t *testing.T, r refEnv) {
	out := mustJSON(t, r.svc, "repositories.getFluxStatus", `{"repositoryId": "repo-123"}`)
	checkShape(t, "result", out, shapeFluxStatus)
}

func refGetGitOpsConfig(t *testing.T, r refEnv) {
	out := mustJSON(t, r.svc, "environments.getGitOpsConfig", `{"environmentId": "env-dev"}`)
	checkShape(t, "result", out, shapeGitOpsConfig)
	if field(t, out, "gitBranch") != "develop" || field(t, out, "gitPath") != "./k8s/overlays/development" || field(t, out, "syncInterval") != "1m" ||
		field(t, out, "autoSync") != true || field(t, out, "enabled") != true {
		t.Errorf("env-dev config: %v", out)
	}
}

func refDeleteResource(t *testing.T, r refEnv) {
	out := mustJSON(t, r.svc, "gitops.deleteGitOpsResource", `{"id": "resource-123"}`)
	checkShape(t, "result", out, shapeDeleted)
	if field(t, out, "success") != true {
		t.Errorf("delete: %v", out)
	}
}

func refUninstallFlux(t *testing.T, r refEnv) {
	out := mustJSON(t, r.svc, "gitops.uninstallFlux", `{"clusterId": "cluster-123"}`)
	checkShape(t, "result", out, shapeUninstallFlux)
	if field(t, out, "success") != true {
		t.Errorf("uninstall: %v", out)
	}
}

// refInstallFlux is the one documented exception: the example asks for
// v2.2.0, which the binary does not embed; the answer names the embedded
// versions and manifestsPath. Then Flux is installed without a version.
func refInstallFlux(t *testing.T, r refEnv) {
	_, err := callJSON(t, r.svc, "gitops.installFlux", `{
  "clusterId": "cluster-123",
  "namespace": "flux-system",
  "version": "v2.2.0"
}`)
	e := wantCode(t, err, model.CodeBadRequest)
	checkShape(t, "error", errJSON(t, e), shapeError)
	versions := fluxbundle.Versions()
	if len(versions) == 0 {
		t.Fatal("no embedded Flux version")
	}
	for _, v := range versions {
		if !strings.Contains(e.Message, v) {
			t.Errorf("message does not list embedded version %s: %s", v, e.Message)
		}
	}
	if !strings.Contains(e.Message, "manifestsPath") {
		t.Errorf("message does not mention manifestsPath: %s", e.Message)
	}
	out := mustJSON(t, r.svc, "gitops.installFlux", `{"clusterId": "cluster-123", "namespace": "flux-system"}`)
	checkShape(t, "result", out, shapeInstallFlux)
	b, err := fluxbundle.Load("")
	if err != nil {
		t.Fatal(err)
	}
	if comps, _ := field(t, out, "components").([]any); field(t, out, "success") != true || field(t, out, "version") != b.Version || len(comps) != len(b.Components) {
		t.Errorf("install: %v", out)
	}
}

func refCreateKustomization(t *testing.T, r refEnv) {
	out := mustJSON(t, r.svc, "gitops.createGitOpsResource", `{
  "projectId": "project-123",
  "environmentId": "env-prod",
  "repositoryId": "repo-456",
  "type": "kustomization",
  "name": "my-app-prod",
  "namespace": "default",
  "config": {
    "path": "./k8s/overlays/production",
    "prune": true,
    "healthChecks": [
      {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "my-app"
      }
    ],
    "interval": "5m",
    "timeout": "3m"
  }
}`)
	checkShape(t, "result", out, shapeCreated)
	if field(t, out, "name") != "my-app-prod" || field(t, out, "type") != "kustomization" {
		t.Errorf("created: %v", out)
	}
	id, _ := field(t, out, "id").(string)
	rekeyResource(t, r, id, "resource-123")
}

func refCreateHelmRelease(t *testing.T, r refEnv) {
	out := mustJSON(t, r.svc, "gitops.createGitOpsResource", `{
  "projectId": "project-123",
  "environmentId": "env-prod",
  "repositoryId": "repo-456",
  "type": "helm",
  "name": "my-app-helm",
  "namespace": "default",
  "config": {
    "chartName": "my-app",
    "chartVersion": "1.0.0",
    "sourceType": "GitRepository",
    "values": {
      "replicaCount": 3,
      "image": {
        "repository": "ghcr.io/org/my-app",
        "tag": "v1.0.0"
      }
    },
    "upgrade": {
      "remediation": {
        "retries": 3,
        "remediateLastFailure": true
      },
      "cleanupOnFail": true
    }
  }
}`)
	checkShape(t, "result", out, shapeCreated)
	if field(t, out, "name") != "my-app-helm" || field(t, out, "type") != "helm" {
		t.Errorf("created: %v", out)
	}
	// The HelmRelease is not the reference's Kustomization of env-prod; it
	// goes again so that deployments attach to resource-123.
	mustJSON(t, r.svc, "gitops.deleteGitOpsResource", `{"id": "`+field(t, out, "id").(string)+`"}`)
}

func refListResources(t *testing.T, r refEnv) {
	out := mustJSON(t, r.svc, "gitops.listGitOpsResources", `{
  "projectId": "project-123",
  "environmentId": "env-prod"
}`)
	checkShape(t, "result", out, shapeResourceList)
	list, _ := out.([]any)
	if len(list) != 1 {
		t.Fatalf("want resource-123 only, got %v", out)
	}
	if field(t, list[0], "id") != "resource-123" || field(t, list[0], "environment.id") != "env-prod" || field(t, list[0], "environment.name") != "production" ||
		field(t, list[0], "repository.id") != "repo-456" || field(t, list[0], "repository.fullName") != "acme/my-app" {
		t.Errorf("listed: %v", list[0])
	}
}

// refResourceStatus gives my-app-prod what kustomize-controller would: a
// failed Ready condition, revisions and an event.
func refResourceStatus(t *testing.T, r refEnv) {
	rev := "main@sha1:" + gittest.Git(t, r.appRepo(), "rev-parse", "main")
	patchStatus(t, r.dyn, ksGVR, "default", "my-app-prod", map[string]any{"lastAppliedRevision": rev, "lastAttemptedRevision": rev,
		"conditions": []any{cond("Ready", "False", "BuildFailed", "kustomize build failed")}})
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "my-app-prod.1", Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Kustomization", Name: "my-app-prod", Namespace: "default", APIVersion: "kustomize.toolkit.fluxcd.io/v1"},
		Reason:         "BuildFailed", Message: "kustomize build failed", Type: "Warning", LastTimestamp: metav1.Now()}
	if _, err := r.c.Clientset(t).CoreV1().Events("default").Create(context.Background(), ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func refPreview(t *testing.T, r refEnv) {
	before := gittest.Log(t, r.appRepo(), "main")
	out := mustJSON(t, r.svc, "gitops.previewChanges", `{
  "projectId": "project-123",
  "environmentId": "env-prod",
  "changes": {
    "image": "ghcr.io/org/my-app:v1.2.3",
    "replicas": 5
  }
}`)
	checkShape(t, "result", out, shapePreview)
	if diff, _ := field(t, out, "diff").(string); !strings.Contains(diff, "+    newTag: v1.2.3") || field(t, out, "impact.willRestartPods") != true {
		t.Errorf("preview:\n%v", out)
	}
	if after := gittest.Log(t, r.appRepo(), "main"); len(after) != len(before) {
		t.Error("preview committed")
	}
}

func refDeploy(t *testing.T, r refEnv) {
	out := mustJSON(t, r.svc, "gitops.deployWithGitOps", `{
  "projectId": "project-123",
  "environmentId": "env-prod",
  "image": "ghcr.io/org/my-app:v1.2.3",
  "replicas": 5,
  "env": {
    "NODE_ENV": "production",
    "API_URL": "https://api.example.com"
  },
  "resources": {
    "requests": { "cpu": "200m", "memory": "256Mi" },
    "limits": { "cpu": "1000m", "memory": "512Mi" }
  },
  "commitMessage": "Deploy v1.2.3 to production"
}`)
	checkShape(t, "result", out, shapeDeploy)
	sha, _ := field(t, out, "commitSha").(string)
	if head := gittest.Git(t, r.appRepo(), "rev-parse", "main"); head != sha {
		t.Errorf("commitSha %s, server head %s", sha, head)
	}
	if subj := gittest.Git(t, r.appRepo(), "log", "-1", "--format=%s", "main"); subj != "Deploy v1.2.3 to production" {
		t.Errorf("commit subject %q", subj)
	}
	if u, _ := field(t, out, "gitUrl").(string); !strings.Contains(u, sha) {
		t.Errorf("gitUrl %q does not name the commit", u)
	}
}

func refCommitConfig(t *testing.T, r refEnv) {
	cur := gittest.Show(t, r.appRepo(), "main", "k8s/overlays/production/kustomization.yaml")
	in := map[string]any{"projectId": "project-123", "environmentId": "env-prod", "file": "k8s/overlays/production/kustomization.yaml", "yaml": cur + "\ncommonLabels:\n  team: web\n",
		"commitMessage": "chore(prod): label team", "commitDescription": "Owners asked for it."}
	out := mustJSON(t, r.svc, "gitops.commitConfigChanges", string(mustMarshal(t, in)))
	checkShape(t, "result", out, shapeCommitCfg)
	if sha := field(t, out, "commitSha"); sha != gittest.Git(t, r.appRepo(), "rev-parse", "main") || field(t, out, "branch") != "main" {
		t.Errorf("commit: %v", out)
	}
}

func refDeploymentsList(t *testing.T, r refEnv) {
	out := mustJSON(t, r.svc, "deployments.list", `{
  "projectId": "project-123"
}`)
	checkShape(t, "result", out, shapeDeployments)
	list, _ := out.([]any)
	ui := 0
	for _, d := range list {
		if field(t, d, "deploymentMethod") == "gitops-ui" {
			ui++
			if sha, _ := field(t, d, "gitCommitSha").(string); len(sha) != 40 || field(t, d, "gitopsResourceId") != "resource-123" {
				t.Errorf("gitops-ui deployment: %v", d)
			}
		}
	}
	if ui != 1 {
		t.Errorf("want the example's gitops-ui deployment, got %v", out)
	}
}

func refConfigureGitOps(t *testing.T, r refEnv) {
	// 生产环境：手动同步 (production: manual sync)
	out := mustJSON(t, r.svc, "environments.configureGitOps", `{
  "environmentId": "env-prod",
  "config": {
    "enabled": true,
    "autoSync": false,
    "gitBranch": "main",
    "gitPath": "./k8s/overlays/production",
    "syncInterval": "10m"
  }
}`)
	checkShape(t, "result", out, shapeConfigured)
	// 开发环境：自动同步 (development: auto sync)
	out2 := mustJSON(t, r.svc, "environments.configureGitOps", `{
  "environmentId": "env-dev",
  "config": {
    "enabled": true,
    "autoSync": true,
    "gitBranch": "develop",
    "gitPath": "./k8s/overlays/development",
    "syncInterval": "1m"
  }
}`)
	checkShape(t, "result", out2, shapeConfigured)
	if field(t, out, "success") != true || field(t, out2, "success") != true {
		t.Errorf("configureGitOps: %v %v", out, out2)
	}
	cfg := mustJSON(t, r.svc, "environments.getGitOpsConfig", `{"environmentId": "env-prod"}`)
	checkShape(t, "env-prod config", cfg, shapeGitOpsConfig)
	if field(t, cfg, "autoSync") != false || field(t, cfg, "syncInterval") != "10m" {
		t.Errorf("env-prod config: %v", cfg)
	}
}
