package ui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// toPreview opens the deploy form of shop/prod and previews an image.
func toPreview(h *harness, image string) {
	h.press("2", "enter", "D")
	h.typ(image)
	h.press("ctrl+s")
}

// A failed preview says so in full, offers no commit, and esc goes back to
// a form that takes keys.
func TestDeployPreviewFailure(t *testing.T) {
	fc := previewFake().on("gitops.previewChanges", func(map[string]any) (any, error) {
		return nil, model.Errorf(model.CodeGitOpsNotEnabled, "environment prod names no repository and project shop has no GitOps-enabled repository: run repositories.enableGitOps")
	})
	h := newHarness(t, fc, 80, 24)
	toPreview(h, "ghcr.io/acme/web:1.4.2")
	h.contains("GITOPS_NOT_ENABLED", "enable GitOps on the repository first", "Nothing was committed")
	h.golden("deploy_preview_failed")
	s := h.screen()
	if strings.Contains(s, "computing the diff") || strings.Contains(s, "commit & deploy") || strings.Contains(s, "repositories.enableGitOps") {
		t.Fatalf("failed preview:\n%s", s)
	}
	h.press("enter")
	if fc.called("gitops.deployWithGitOps") {
		t.Fatal("a failed preview committed")
	}
	h.press("esc")
	h.typ(":3")
	h.contains("Deploy to prod", "ghcr.io/acme/web:1.4.2:3")
	if b := h.m.top().busy(); b != "" {
		t.Fatalf("the form is busy: %q", b)
	}
}

// Back from the preview to the form, a changed value, a second preview
// and the deploy; esc from the finished deploy goes to the environment.
func TestDeployBackChangeAndDeploy(t *testing.T) {
	fc := previewFake()
	h := newHarness(t, fc, 80, 24)
	toPreview(h, "ghcr.io/acme/web:1.4.2")
	h.contains("enter commit & deploy")
	h.press("esc")
	h.contains("Deploy to prod", "ghcr.io/acme/web:1.4.2")
	if b := h.m.top().busy(); b != "" {
		t.Fatalf("the form came back busy: %q", b)
	}
	h.press("backspace")
	h.typ("3")
	h.press("ctrl+s")
	if in := fc.last("gitops.previewChanges"); in["changes"].(map[string]any)["image"] != "ghcr.io/acme/web:1.4.3" {
		t.Fatalf("second preview input %v", in)
	}
	h.press("enter")
	if in := fc.last("gitops.deployWithGitOps"); in["image"] != "ghcr.io/acme/web:1.4.3" {
		t.Fatalf("deploy input %v", in)
	}
	dep := model.Deployment{ID: "dep-9", Status: model.DeploySuccess}
	h.send(statusMsg(api.StatusEvent{Deployment: &dep}))
	h.contains("Deployed.")
	h.press("esc")
	h.contains("Environments of shop (2)")
	if strings.Contains(h.screen(), "Deploy to prod") {
		t.Fatalf("esc after the deploy went back to its form:\n%s", h.screen())
	}
}

// kustomization returns the status event of a Kustomization of env-prod.
func kustomization(name, attempted, applied, status string) statusMsg {
	return statusMsg(api.StatusEvent{Resource: model.GitOpsResource{ID: "res-" + name, Name: name, ProjectID: "shop", EnvironmentID: "env-prod",
		Type: model.ResourceKustomization, Status: status, LastAttemptedRevision: attempted, LastAppliedRevision: applied}})
}

const deployed = "fedcba9876543210fedcba9876543210fedcba98"

// Waiting for Flux shows the stages as the status events report them.
func TestDeployStages(t *testing.T) {
	eachSize(t, previewFake, func(h *harness, fc *fakeCaller) {
		toPreview(h, "ghcr.io/acme/web:1.4.2")
		h.press("enter")
		h.contains("✓ pushed", "… fetched", "· applied", "· healthy", "Waiting up to 6m (the environment's interval 5m + 1m to fetch)")
		old := "main@sha1:0123456789abcdef0123456789abcdef01234567"
		h.send(kustomization("app-00000", "main@sha1:"+deployed, old, model.StatusReconciling))
		h.contains("✓ fetched", "app-00000 got the commit", "… applied")
		h.golden("deploy_fetched")
		h.send(kustomization("app-00000", "main@sha1:"+deployed, "main@sha1:"+deployed, model.StatusReconciling))
		h.contains("✓ applied", "app-00000 applied the commit", "… healthy")
		dep := model.Deployment{ID: "dep-9", Status: model.DeploySuccess}
		h.send(statusMsg(api.StatusEvent{Deployment: &dep}))
		h.contains("✓ healthy", "deployment success", "Deployed.")
		if h.m.top().busy() != "" {
			t.Fatal("still waiting after success")
		}
	})
}

// The wait ends after the Kustomization's own timeout plus a margin: the
// screen says what to check and the keys work again.
func TestDeployTimesOut(t *testing.T) {
	detail := cannedDetail()
	detail.ID, detail.Name, detail.Type = "res-00000", "app-00000", model.ResourceKustomization
	detail.Config = json.RawMessage(`{"path":"./k8s/overlays/prod","interval":"10m","timeout":"3m"}`)
	fc := previewFake().ret("gitops.getGitOpsResource", detail)
	h := newHarness(t, fc, 80, 24)
	toPreview(h, "ghcr.io/acme/web:1.4.2")
	h.press("enter")
	h.contains("Waiting up to 4m (app-00000's timeout 3m + 1m to fetch)")
	top := h.m.top().id()
	h.send(deadlineMsg{top}) // early: the clock has not moved
	h.contains("Waiting up to 4m")
	h.m.s.now = func() time.Time { return testNow.Add(5 * time.Minute) }
	h.send(deadlineMsg{top})
	h.contains("✗ fetched", "Not fetched within 4m", "stopped waiting", "check that the repository's GitRepository is", "follows branch main")
	h.golden("deploy_timeout")
	if b := h.m.top().busy(); b != "" {
		t.Fatalf("busy after the timeout: %q", b)
	}
	h.press("enter")
	h.contains("Resources prod")
	h.press("esc", "H")
	h.contains("Deployments (50)")
}

// When nothing will apply the commit, the preview says so and what to do,
// and the deploy does not wait for Flux.
func TestDeployNothingApplies(t *testing.T) {
	warn := "nothing will apply this commit: environment prod has no Flux Kustomization for k8s/overlays/prod; create one for the environment first, or the commit waits in Git"
	fc := previewFake().
		ret("gitops.listGitOpsResources", []api.ResourceView{}).
		ret("clusters.get", api.ClusterView{Cluster: model.Cluster{ID: "prod", Name: "prod"},
			Status: &api.ClusterStatus{Reachable: false, Error: "K3S_NOT_READY: dial tcp 10.0.0.9:6443: connect: connection refused"}})
	fc.on("gitops.previewChanges", func(in map[string]any) (any, error) {
		res, _ := previewFake().fns["gitops.previewChanges"](in)
		r := res.(api.PreviewResult)
		r.Warnings = append(r.Warnings, warn)
		return r, nil
	})
	h := newHarness(t, fc, 120, 40)
	toPreview(h, "ghcr.io/acme/web:1.4.2")
	h.contains("has no Flux Kustomization", "cluster prod is unreachable from here (dial tcp 10.0.0.9:6443", "enter commit anyway")
	h.golden("deploy_preview_nothing_applies")
	h.press("enter")
	h.contains("✓ pushed", "✗ fetched", "Not waiting for Flux", "create one: enter on the environment, then c", "check the cluster")
	h.golden("deploy_nothing_applies")
	if b := h.m.top().busy(); b != "" {
		t.Fatalf("waits for Flux with nothing to apply: %q", b)
	}
	if fc.called("deployments.get") {
		t.Fatal("polled a deployment nothing will apply")
	}
}
