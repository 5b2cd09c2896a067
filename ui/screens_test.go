package ui

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

func TestClustersScreen(t *testing.T) {
	eachSize(t, catalogFake, func(h *harness, fc *fakeCaller) {
		h.contains("prod", "v1.31.4+k3s1 k3s", "v2.6.4", "degraded", "unreachable", "K3S_NOT")
		h.golden("clusters")
		h.press("h")
		h.contains("source-controller", "replicas 1/1", "replicas 0/1", "MinimumReplicasUnavailable", "CRDs (2/2 established)")
		h.golden("health")
		h.press("esc", "?")
		h.contains("install flux", "command")
		h.golden("help")
	})
}

func TestInstallFluxForm(t *testing.T) {
	eachSize(t, func() *fakeCaller {
		return catalogFake().ret("gitops.installFlux", api.InstallFluxResult{Success: true, Version: "v2.6.4", Namespace: "flux-system", Applied: 42,
			Components: []api.ComponentStatus{{Name: "source-controller", Status: "ready", Version: "v1.6.2"}, {Name: "kustomize-controller", Status: "ready", Version: "v1.6.1"}}})
	}, func(h *harness, fc *fakeCaller) {
		h.press("i")
		for range 11 {
			h.press("backspace")
		}
		h.typ("Flux_NS")
		h.contains("is not a valid Kubernetes name")
		h.golden("install_invalid")
		h.press("ctrl+s")
		h.contains("BAD_REQUEST")
		if fc.called("gitops.installFlux") {
			t.Fatal("an invalid form was submitted")
		}
		for range 7 {
			h.press("backspace")
		}
		h.typ("flux")
		h.press("tab", "tab")
		h.typ("registry.local:5000/fluxcd")
		h.press("enter")
		if in := fc.last("gitops.installFlux"); in["namespace"] != "flux" || in["registry"] != "registry.local:5000/fluxcd" || in["clusterId"] != "prod" {
			t.Fatalf("installFlux input = %v", in)
		}
		h.contains("Flux v2.6.4 on prod: success, 42 objects applied", "kustomize-controller")
		h.golden("install_done")
	})
}

func TestUninstallTypedConfirmation(t *testing.T) {
	eachSize(t, func() *fakeCaller {
		return catalogFake().ret("gitops.uninstallFlux", api.UninstallFluxResult{Success: true, Namespace: "flux-system", Deleted: []string{"Deployment/source-controller", "CustomResourceDefinition/gitrepositories.source.toolkit.fluxcd.io"}, FinalizersRemoved: 2})
	}, func(h *harness, fc *fakeCaller) {
		h.press("u")
		h.typ("prd")
		h.press("enter")
		h.contains("BAD_REQUEST", `type "prod" to delete Flux from prod`)
		h.golden("uninstall_wrong")
		if fc.called("gitops.uninstallFlux") {
			t.Fatal("uninstalled without the right name")
		}
		h.press("backspace", "backspace")
		h.typ("rod")
		h.press("tab", "enter")
		if in := fc.last("gitops.uninstallFlux"); in["clusterId"] != "prod" || in["deleteNamespace"] != true {
			t.Fatalf("uninstall input = %v", in)
		}
		h.contains("Flux uninstalled from prod", "Deleted 2 objects")
		h.golden("uninstall_done")
	})
}

func TestProjectsEnvironmentsGitOpsForm(t *testing.T) {
	eachSize(t, func() *fakeCaller {
		return catalogFake().on("environments.configureGitOps", func(in map[string]any) (any, error) {
			cfg := in["config"].(map[string]any)
			return api.ConfigureGitOpsResult{Success: true, Config: api.GitOpsConfigView{EnvironmentID: "env-prod", Enabled: cfg["enabled"].(bool), AutoSync: cfg["autoSync"].(bool),
				GitBranch: cfg["gitBranch"].(string), GitPath: cfg["gitPath"].(string), SyncInterval: cfg["syncInterval"].(string)}}, nil
		})
	}, func(h *harness, fc *fakeCaller) {
		h.press("2")
		h.contains("shop", "blog")
		h.golden("projects")
		h.press("enter")
		h.contains("acme/shop-config", "./k8s/overlays/prod", "manual")
		h.golden("environments")
		h.press("o")
		h.contains("repository", "acme/shop-config repo-456") // the environment's, picked
		h.press("down", "down", "down", "down")               // to interval
		h.press("backspace", "backspace")
		h.typ("5 minutes")
		h.contains(`"5 minutes" is not a duration Flux accepts`)
		h.press("up") // path
		for range 19 {
			h.press("backspace")
		}
		h.typ("/abs")
		h.contains("must be a path relative to the repository root")
		h.golden("gitops_form_invalid")
		h.press("ctrl+s")
		if fc.called("environments.configureGitOps") {
			t.Fatal("invalid config submitted")
		}
		for range 4 {
			h.press("backspace")
		}
		h.typ("./k8s/prod")
		h.press("down")
		for range 9 {
			h.press("backspace")
		}
		h.typ("1h30m")
		h.press("up", "up", "up", "space") // autoSync off
		h.press("ctrl+s")
		in := fc.last("environments.configureGitOps")
		cfg, _ := in["config"].(map[string]any)
		if cfg["gitPath"] != "./k8s/prod" || cfg["syncInterval"] != "1h30m" || cfg["autoSync"] != false || cfg["enabled"] != true {
			t.Fatalf("configureGitOps input = %v", in)
		}
		h.contains("GitOps config of prod saved", "./k8s/prod", "1h30m")
		h.golden("gitops_form_saved")
	})
}

func TestResourcesScreen(t *testing.T) {
	eachSize(t, func() *fakeCaller {
		return catalogFake().
			ret("gitops.triggerSync", api.SyncResult{Success: true, Message: "reconciled", Revision: "main@sha1:abcdef0123456"}).
			ret("gitops.suspendGitOpsResource", api.ResourceSummary{Name: "app-00000", Status: "suspended"}).
			ret("gitops.resumeGitOpsResource", api.ResourceSummary{Name: "app-00004", Status: "ready"}).
			ret("gitops.deleteGitOpsResource", api.Deleted{ID: "res-00000", Success: true})
	}, func(h *harness, fc *fakeCaller) {
		h.press("2", "enter", "enter")
		h.contains("Resources prod (12)", "app-00000", "main@", "kustomize build")
		h.golden("resources")
		h.press("/")
		h.typ("failed")
		h.contains("(2 of 12)", "app-00002", "app-00007")
		h.golden("resources_filtered")
		h.press("esc", "s")
		h.contains("sort: status")
		h.press("s", "s", "s") // back to name
		h.press("g", "R")
		if in := fc.last("gitops.triggerSync"); in["id"] != "res-00000" {
			t.Fatalf("sync input %v", in)
		}
		h.contains("sync app-00000: reconciled (main@sha1:abcdef0123456)")
		h.golden("resources_synced")
		h.press("T")
		h.contains("Suspend kustomization flux-system/app-00000", "reason", "until")
		h.golden("resources_suspend_form")
		h.press("esc")
		if fc.called("gitops.suspendGitOpsResource") {
			t.Fatal("suspended without the form's submit")
		}
		h.press("T")
		h.typ("database migration")
		h.press("ctrl+s")
		if in := fc.last("gitops.suspendGitOpsResource"); in["id"] != "res-00000" || in["reason"] != "database migration" {
			t.Fatalf("suspend input %v", in)
		}
		h.contains("suspend app-00000: suspended")
		h.press("down", "down", "down", "down", "T")
		h.contains("Resume kustomization flux-system/app-00004?")
		h.press("enter")
		if !fc.called("gitops.resumeGitOpsResource") {
			t.Fatal("resume not called")
		}
		h.press("g", "ctrl+d")
		h.contains("Delete kustomization app-00000", "flux-system/app-00000", "Type app-00000 to confirm")
		h.golden("resources_delete_confirm")
		h.press("y", "enter")
		if fc.called("gitops.deleteGitOpsResource") {
			t.Fatal("deleted without the typed name")
		}
		h.press("backspace")
		h.typ("app-00000")
		h.press("enter")
		if in := fc.last("gitops.deleteGitOpsResource"); in["id"] != "res-00000" {
			t.Fatalf("delete input %v", in)
		}
		h.contains("deleted app-00000", "Resources prod (12)")
	})
}

func TestResourcesLiveUpdate(t *testing.T) {
	h := newHarness(t, catalogFake(), 80, 24)
	h.press("3")
	v := cannedResources(1)[0]
	r := model.GitOpsResource{ID: v.ID, ProjectID: v.ProjectID, EnvironmentID: v.EnvironmentID, RepositoryID: v.RepositoryID, Name: v.Name,
		Namespace: v.Namespace, Type: v.Type, Status: v.Status, LastAppliedRevision: v.LastAppliedRevision, CreatedAt: v.CreatedAt}
	r.Status, r.ErrorMessage = model.StatusFailed, "timed out"
	h.send(statusMsg(api.StatusEvent{Resource: r}))
	h.contains("timed out")
	nr := r
	nr.ID, nr.Name, nr.Status, nr.ErrorMessage = "res-new", "zz-new", model.StatusReady, ""
	h.send(statusMsg(api.StatusEvent{Resource: nr}))
	h.contains("Resources (13)")
	h.golden("resources_live")
}

func TestResourceDetailYAMLEdit(t *testing.T) {
	eachSize(t, func() *fakeCaller {
		return catalogFake().ret("gitops.updateGitOpsResource", api.UpdateResult{ID: "res-00002", Name: "app-00002", Status: "reconciling", UpdatedAt: testNow})
	}, func(h *harness, fc *fakeCaller) {
		h.press("3", "down", "down", "d")
		h.contains("HelmRelease flux-system/app-00002", "Why not ready", "dependsOn infra: not ready", "InstallFailed", "6.7.1")
		h.golden("detail")
		h.press("y")
		h.contains("apiVersion: helm.toolkit.fluxcd.io/v2", "kind: HelmRelease", "chart: podinfo")
		h.golden("yaml")
		h.press("esc", "esc", "e")
		h.contains("Edit app-00002")
		h.press("down", "down", "down", "down") // chartVersion
		h.press("backspace", "backspace", "backspace")
		h.typ("6.8.0")
		h.golden("edit_resource")
		h.press("ctrl+s")
		in := fc.last("gitops.updateGitOpsResource")
		cfg := in["config"].(map[string]any)
		if in["id"] != "res-00002" || cfg["chartVersion"] != "6.8.0" || len(cfg) != 1 {
			t.Fatalf("update input %v", in)
		}
		h.contains("updated app-00002: reconciling")
	})
}

func TestCreateWizard(t *testing.T) {
	eachSize(t, func() *fakeCaller {
		return catalogFake().ret("gitops.createGitOpsResource", api.ResourceSummary{ID: "res-x", Name: "podinfo", Type: "helm", Status: "pending"})
	}, func(h *harness, fc *fakeCaller) {
		h.press("2", "enter", "enter", "c")
		h.press("space", "tab")
		h.typ("podinfo")
		h.golden("create_step1")
		h.press("enter")
		h.contains("Create helm podinfo (2/2)", "chartVersion")
		h.typ("podinfo")
		h.press("tab")
		h.typ("6.x")
		h.press("tab", "tab")
		h.typ("https://stefanprodan.github.io/podinfo")
		h.golden("create_step2")
		h.press("ctrl+s")
		in := fc.last("gitops.createGitOpsResource")
		cfg := in["config"].(map[string]any)
		src := cfg["source"].(map[string]any)
		if in["type"] != "helm" || in["name"] != "podinfo" || in["environmentId"] != "env-prod" || cfg["chartName"] != "podinfo" || cfg["sourceType"] != "HelmRepository" || src["url"] != "https://stefanprodan.github.io/podinfo" {
			t.Fatalf("create input %v", in)
		}
		h.contains("created podinfo: pending")
	})
}

func previewFake() *fakeCaller {
	return catalogFake().
		ret("gitops.previewChanges", api.PreviewResult{
			Diff:     "--- a/k8s/overlays/prod/kustomization.yaml\n+++ b/k8s/overlays/prod/kustomization.yaml\n@@ -1,4 +1,4 @@\n images:\n   - name: ghcr.io/acme/web\n-    newTag: 1.4.1\n+    newTag: 1.4.2\n",
			Summary:  api.Summary{Additions: 1, Deletions: 1, Files: []string{"k8s/overlays/prod/kustomization.yaml"}},
			Impact:   api.Impact{WillRestartPods: true, EstimatedDowntime: "none", DowntimeReason: "rolling update with 3 replicas", AffectedResources: []string{"Deployment/web"}},
			Warnings: []string{"image tag is not pinned by digest"}, Workload: "Deployment/web", BaseRevision: "0123456789abcdef0123456789abcdef01234567", Branch: "main",
		}).
		ret("gitops.deployWithGitOps", api.DeployResult{DeploymentID: "dep-9", CommitSha: "fedcba9876543210fedcba9876543210fedcba98", GitURL: "https://git.example.com/acme/shop-config/commit/fedcba9", Branch: "main", Attempts: 1, Message: "deploy: web 1.4.2"}).
		ret("deployments.get", model.Deployment{ID: "dep-9", Status: model.DeployPending})
}

func TestDeployFlow(t *testing.T) {
	eachSize(t, previewFake, func(h *harness, fc *fakeCaller) {
		h.press("2", "enter", "D")
		h.typ("ghcr.io/acme/web:1.4.2")
		h.press("tab")
		h.typ("3")
		h.press("tab")
		h.typ("LOG_LEVEL=debug, -OLD")
		h.press("tab")
		h.typ("250m")
		h.golden("deploy_form")
		h.press("ctrl+s")
		in := fc.last("gitops.previewChanges")
		ch := in["changes"].(map[string]any)
		env := ch["env"].(map[string]any)
		if ch["image"] != "ghcr.io/acme/web:1.4.2" || ch["replicas"] != float64(3) || env["LOG_LEVEL"] != "debug" || env["OLD"] != nil {
			t.Fatalf("preview input %v", in)
		}
		if _, has := env["OLD"]; !has {
			t.Fatal("env removal lost")
		}
		h.contains("+    newTag: 1.4.2", "restart pods yes", "downtime none", "Deployment/web", "not pinned by digest")
		h.golden("deploy_preview")
		if fc.called("gitops.deployWithGitOps") {
			t.Fatal("committed before confirmation")
		}
		h.press("enter")
		if dep := fc.last("gitops.deployWithGitOps"); dep["image"] != "ghcr.io/acme/web:1.4.2" || dep["replicas"] != float64(3) || dep["changes"] != nil {
			t.Fatalf("deploy input is not the reference's top-level shape: %v", dep)
		}
		h.contains("commit fedcba9", "waiting for Flux", "https://git.example.com/acme/shop-config/commit/fedcba9")
		h.golden("deploy_progress")
		h.send(pollMsg{to: h.m.top().id()})
		if !fc.called("deployments.get") {
			t.Fatal("no polling fallback")
		}
		dep := model.Deployment{ID: "dep-9", Status: model.DeploySuccess, GitCommitURL: "https://git.example.com/acme/shop-config/commit/fedcba9"}
		h.send(statusMsg(api.StatusEvent{Deployment: &dep}))
		h.contains("Deployed.", "deployment success")
		h.golden("deploy_success")
	})
}

func TestDeployFailed(t *testing.T) {
	fc := previewFake()
	h := newHarness(t, fc, 80, 24)
	h.press("2", "enter", "D")
	h.typ("ghcr.io/acme/web:bad")
	h.press("ctrl+s", "enter")
	fc.ret("deployments.get", model.Deployment{ID: "dep-9", Status: model.DeployFailed, ErrorMessage: "ImagePullBackOff"})
	h.send(pollMsg{to: h.m.top().id()})
	h.contains("Deployment failed: ImagePullBackOff", "✗ applied", "then d on app-00000")
	if h.m.top().busy() != "" {
		t.Fatal("still busy after the deployment failed")
	}
}

func configFake() *fakeCaller {
	return catalogFake().
		ret("gitops.readConfig", api.ConfigFile{File: "k8s/overlays/prod/deployment.yaml", YAML: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n", Revision: "0123456789abcdef0123456789abcdef01234567", Branch: "main"}).
		on("gitops.validateYAML", func(in map[string]any) (any, error) {
			y := in["yaml"].(string)
			if strings.Contains(y, "replica: ") {
				return api.ValidateResult{Valid: false, Documents: 1,
					Errors:   []api.YAMLError{{Document: 1, Line: 6, Column: 3, Field: "spec.replica", Message: `unknown field "replica"`}},
					Warnings: []api.YAMLWarning{{Document: 1, Line: 1, Column: 1, Message: "no resource limits", Suggestion: "set resources.limits"}}}, nil
			}
			return api.ValidateResult{Valid: true, Documents: 1}, nil
		})
}

func TestConfigEditorInApp(t *testing.T) {
	eachSize(t, func() *fakeCaller {
		return configFake().ret("gitops.commitConfigChanges", api.CommitConfigResult{CommitSha: "aaaabbbbccccdddd", GitURL: "https://git.example.com/c/aaaabbbb", Branch: "main", File: "k8s/overlays/prod/deployment.yaml"})
	}, func(h *harness, fc *fakeCaller) {
		h.press("2", "enter", "E")
		h.contains("ctrl+s validates", "kind: Deployment")
		h.golden("editor_inapp")
		h.typ("spec:\n  replica: 3\n")
		h.press("ctrl+s")
		h.contains("YAML_INVALID", "invalid", "6:3 spec.replica: unknown field \"replica\"", "no resource limits")
		h.golden("editor_invalid")
		if fc.called("gitops.commitConfigChanges") {
			t.Fatal("committed invalid YAML")
		}
		h.press("c")
		h.press("e")
		// Fix the typo: replace the two lines.
		for range 24 {
			h.press("backspace")
		}
		h.typ("spec:\n  replicas: 3\n")
		h.press("ctrl+s")
		h.contains("valid · 1 document(s) · 0 error(s)")
		h.press("c")
		h.typ("scale web to 3")
		h.press("enter")
		in := fc.last("gitops.commitConfigChanges")
		if in["baseRevision"] != "0123456789abcdef0123456789abcdef01234567" || in["commitMessage"] != "scale web to 3" || !strings.Contains(in["yaml"].(string), "replicas: 3") {
			t.Fatalf("commit input %v", in)
		}
		h.contains("Committed aaaabbb to main")
		h.golden("editor_committed")
	})
}

func TestConfigEditorConflict(t *testing.T) {
	eachSize(t, func() *fakeCaller {
		return configFake().on("gitops.commitConfigChanges", func(map[string]any) (any, error) {
			e := model.Errorf(model.CodeConflictDetected, "k8s/overlays/prod/deployment.yaml changed upstream")
			var conflicts []any
			_ = json.Unmarshal([]byte(`[{"path":"k8s/overlays/prod/deployment.yaml","field":"spec.replicas","base":"2","ours":"3","theirs":"5"}]`), &conflicts)
			return nil, e.WithDetail("conflicts", conflicts)
		})
	}, func(h *harness, fc *fakeCaller) {
		h.press("2", "enter", "E", "ctrl+s", "c")
		h.typ("x")
		h.press("enter")
		h.contains("CONFLICT_DETECTED", "spec.replicas", "base   2", "ours   3", "theirs 5")
		h.golden("editor_conflict")
	})
}

func TestDeploymentsHistory(t *testing.T) {
	eachSize(t, catalogFake, func(h *harness, fc *fakeCaller) {
		h.press("4")
		h.contains("gitops-ui", "gitops-git", "pipeline", "manual", "abc1000", "n: more",
			"PROJECT ENV  STATUS", "shop    prod success", "ghcr.io/acme/web:1.4.1 ") // names, and the whole image tag
		h.golden("deployments")
		h.press("n")
		if in := fc.last("deployments.list"); in["before"] != "dep-50" || in["limit"] != float64(50) {
			t.Fatalf("paging input %v", in)
		}
		h.press("g", "enter")
		h.contains("[gitops-ui]", "+    newTag: 1.4.2")
		h.golden("deployment_diff")
	})
}

func TestPaletteAndProcedureForm(t *testing.T) {
	procs := []api.Info{
		{Name: "projects.create", Description: "Create a project", Role: model.RoleAdmin, Fields: []api.Field{
			{Name: "name", Type: "string", Required: true, Doc: "display name"}, {Name: "id", Type: "string", Doc: "project id"}}},
		{Name: "gitops.triggerSync", Description: "Sync", Role: model.RoleOperator, Fields: []api.Field{
			{Name: "id", Type: "string", Required: true}, {Name: "waitSeconds", Type: "integer"}}},
	}
	for _, sz := range sizes {
		fc := catalogFake().ret("projects.create", model.Project{ID: "web", Name: "web"})
		h := newHarness(t, fc, sz[0], sz[1], func(o *Options) { o.Procedures = procs })
		h.press(":")
		h.golden("palette")
		h.typ("proj")
		h.press("enter")
		h.contains("Projects (2)")
		h.press(":")
		h.typ("projects.cr")
		h.press("enter")
		h.contains("name*", "Create a project")
		h.press("ctrl+s")
		h.contains("BAD_REQUEST", "name: required")
		h.typ("web")
		h.golden("proc_form")
		h.press("ctrl+s")
		if in := fc.last("projects.create"); in["name"] != "web" || len(in) != 1 {
			t.Fatalf("procedure input %v", in)
		}
		h.contains("projects.create result", "name: web")
		h.golden("proc_result")
	}
}

func TestErrorSurfaceAndQuit(t *testing.T) {
	fc := catalogFake().on("projects.list", func(map[string]any) (any, error) {
		return nil, model.Errorf(model.CodeStoreLocked, "the store is locked by another gitopstui")
	})
	h := newHarness(t, fc, 80, 24)
	h.press("2")
	h.contains("✗ STORE_LOCKED: the store is locked by another gitopstui")
	h.golden("error_surface")
	h.press("q")
	if !h.quit {
		t.Fatal("q did not quit")
	}
}

func TestLightBackgroundAndResize(t *testing.T) {
	h := newHarness(t, catalogFake(), 80, 24)
	h.send(lightBG())
	if h.m.s.dark {
		t.Fatal("light background not applied")
	}
	for _, sz := range [][2]int{{20, 6}, {200, 60}, {80, 24}} {
		h.w, h.h = max(20, sz[0]), max(6, sz[1])
		h.send(windowSize(sz[0], sz[1]))
		for i, l := range strings.Split(h.screen(), "\n") {
			if len([]rune(l)) > h.w+0 && len(l) > 0 && i >= 0 {
				if w := displayWidth(l); w > h.w {
					t.Fatalf("%dx%d: line %d too wide (%d)", sz[0], sz[1], i, w)
				}
			}
		}
	}
	h.golden("clusters_light")
}
