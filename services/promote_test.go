package services_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// devOverlay is the development overlay on the develop branch: a newer
// image, one more replica, a secret-looking variable and more CPU.
const devOverlay = `# development overlay
resources:
  - ../../base
namespace: shop-dev
images:
  - name: ghcr.io/acme/web
    newTag: 1.3.0
patches:
  - path: web-patch.yaml
`

const devPatch = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: web
          env:
            - name: API_TOKEN
              value: s3cr3t-dev-value
          resources:
            requests: {cpu: 250m}
`

// setupPromotion is setupDeploy with development on the develop branch.
func setupPromotion(t *testing.T) deployEnv {
	t.Helper()
	server := gittest.NewHTTPServer(t)
	files := maps.Clone(shopRepo)
	files["k8s/overlays/dev/kustomization.yaml"] = devOverlay
	files["k8s/overlays/dev/web-patch.yaml"] = devPatch
	server.CreateRepo(t, "acme/shop.git", files)
	gittest.Git(t, server.Dir("acme/shop.git"), "branch", "develop", "main")
	d := setupDeploy(t, server)
	mustCall(t, d.svc, "environments.configureGitOps", map[string]any{"environmentId": "env-dev", "config": map[string]any{
		"enabled": true, "repositoryId": "repo-456", "gitBranch": "develop", "gitPath": "./k8s/overlays/dev"}}, nil)
	return d
}

func promoteIn(fields ...string) map[string]any {
	in := map[string]any{"fromEnvironmentId": "env-dev", "toEnvironmentId": "env-prod"}
	if len(fields) > 0 {
		in["fields"] = fields
	}
	return in
}

// TestPromotionPreview: the preview lists, per field, what development
// builds that production does not, and the commit production would get;
// nothing is pushed and no env value is shown.
func TestPromotionPreview(t *testing.T) {
	d := setupPromotion(t)
	repo := d.server.Dir("acme/shop.git")
	before := gittest.Log(t, repo, "main")
	var p api.PromotionPreview
	mustCall(t, d.svc, "environments.previewPromotion", promoteIn(), &p)
	if len(p.Differences) != 1 || p.Differences[0].Field != api.PromoteImage || *p.Differences[0].Source != "ghcr.io/acme/web:1.3.0" ||
		*p.Differences[0].Target != "ghcr.io/acme/web:1.0.0" || p.Differences[0].Workload != "Deployment/web" {
		t.Fatalf("image differences: %+v", p.Differences)
	}
	if !strings.Contains(p.Diff, "+    newTag: 1.3.0") || !slices.Equal(p.Summary.Files, []string{"k8s/overlays/prod/kustomization.yaml"}) ||
		!p.Impact.WillRestartPods || p.Branch != "main" || p.SourceRevision == "" {
		t.Fatalf("image preview: %+v", p)
	}
	mustCall(t, d.svc, "environments.previewPromotion", promoteIn("image", "replicas", "env", "resources"), &p)
	got := map[string]string{}
	for _, df := range p.Differences {
		got[string(df.Field)+" "+df.Name] = *df.Source
	}
	if len(got) != 4 || got["replicas "] != "3" || got["resources requests.cpu"] != "250m" || !strings.HasPrefix(got["env API_TOKEN"], "<hidden sha256:") {
		t.Fatalf("all-field differences: %v", got)
	}
	raw, _ := json.Marshal(p)
	if strings.Contains(string(raw), "s3cr3t-dev-value") {
		t.Fatalf("the preview shows an env value: %s", raw)
	}
	if !strings.Contains(p.Diff, "API_TOKEN") || !strings.Contains(p.Diff, "250m") {
		t.Fatalf("all-field diff:\n%s", p.Diff)
	}
	if after := gittest.Log(t, repo, "main"); !slices.Equal(before, after) {
		t.Fatalf("preview pushed: %v", after)
	}
}

// TestPromote: promotion commits development's image to production's
// overlay on main, leaves develop alone, records a deployment, and a second
// promotion has nothing left to copy.
func TestPromote(t *testing.T) {
	d := setupPromotion(t)
	repo := d.server.Dir("acme/shop.git")
	develop := gittest.Log(t, repo, "develop")
	var r api.PromoteResult
	mustCall(t, d.svc, "environments.promote", promoteIn(), &r)
	prod := gittest.Show(t, repo, "main", "k8s/overlays/prod/kustomization.yaml")
	if !strings.Contains(prod, "newTag: 1.3.0") || !strings.HasPrefix(prod, "# production overlay") {
		t.Fatalf("production overlay after promotion:\n%s", prod)
	}
	if subj := gittest.Git(t, repo, "log", "-1", "--format=%s%n%b", "main"); !strings.Contains(subj, "promote(dev → prod): image ghcr.io/acme/web:1.3.0") ||
		!strings.Contains(subj, "Promoted from dev at ") {
		t.Fatalf("commit message: %v", subj)
	}
	if !slices.Equal(develop, gittest.Log(t, repo, "develop")) {
		t.Fatal("promotion changed the source branch")
	}
	var dep model.Deployment
	mustCall(t, d.svc, "deployments.get", map[string]any{"id": r.DeploymentID}, &dep)
	if dep.GitCommitSha != r.CommitSha || dep.Image != "ghcr.io/acme/web:1.3.0" || dep.EnvironmentID != "env-prod" || dep.Status != model.DeployPending {
		t.Fatalf("recorded deployment: %+v", dep)
	}
	err := callProc(t, d.svc, "environments.promote", promoteIn(), nil)
	if e := wantCode(t, err, model.CodeBadRequest); !strings.Contains(e.Message, "nothing to promote") {
		t.Fatalf("second promotion: %v", e)
	}
	var p api.PromotionPreview
	mustCall(t, d.svc, "environments.previewPromotion", promoteIn(), &p)
	if len(p.Differences) != 0 || len(p.Warnings) == 0 || !strings.Contains(p.Warnings[0], "nothing to promote") {
		t.Fatalf("preview after promotion: %+v", p)
	}
	mustCall(t, d.svc, "environments.promote", promoteIn("env", "replicas"), &r)
	if len(r.Differences) != 2 {
		t.Fatalf("env and replicas promotion copied: %+v", r.Differences)
	}
	mustCall(t, d.svc, "environments.previewPromotion", promoteIn("image", "replicas", "env"), &p)
	if len(p.Differences) != 0 {
		t.Fatalf("production still differs after promoting image, replicas and env: %+v", p.Differences)
	}
}

// TestPromotionRefusals: each bad input names its field.
func TestPromotionRefusals(t *testing.T) {
	d := setupPromotion(t)
	for _, c := range []struct {
		in    map[string]any
		code  model.Code
		field string
	}{
		{map[string]any{"fromEnvironmentId": "env-dev", "toEnvironmentId": "env-dev"}, model.CodeBadRequest, "toEnvironmentId"},
		{map[string]any{"fromEnvironmentId": "env-nope", "toEnvironmentId": "env-prod"}, model.CodeNotFound, "fromEnvironmentId"},
		{map[string]any{"fromEnvironmentId": "env-dev", "toEnvironmentId": "env-prod", "fields": []string{"image", "colour"}}, model.CodeBadRequest, "fields[1]"},
		{map[string]any{"fromEnvironmentId": "env-dev", "toEnvironmentId": "env-prod", "fields": []string{"image", "image"}}, model.CodeBadRequest, "fields[1]"},
		{map[string]any{"fromEnvironmentId": "env-dev", "toEnvironmentId": "env-prod", "workload": "api"}, model.CodeBadRequest, "workload"},
		{map[string]any{"toEnvironmentId": "env-prod"}, model.CodeBadRequest, "fromEnvironmentId"},
	} {
		for _, proc := range []string{"environments.previewPromotion", "environments.promote"} {
			e := wantCode(t, callProc(t, d.svc, proc, c.in, nil), c.code)
			if !strings.Contains(e.Message, c.field) {
				t.Errorf("%s %v: %v does not name %s", proc, c.in, e, c.field)
			}
		}
	}
}

// TestPromoteForReview: with review the promotion goes to a review branch of
// its own, production's branch is untouched, and the deployment waits.
func TestPromoteForReview(t *testing.T) {
	d := setupPromotion(t)
	repo := d.server.Dir("acme/shop.git")
	main := gittest.Log(t, repo, "main")
	in := promoteIn()
	in["review"] = true
	var r api.PromoteResult
	mustCall(t, d.svc, "environments.promote", in, &r)
	if !strings.HasPrefix(r.ReviewBranch, "gitopstui/prod/") || !slices.Equal(main, gittest.Log(t, repo, "main")) {
		t.Fatalf("review promotion: %+v", r.DeployResult)
	}
	if got := gittest.Show(t, repo, r.ReviewBranch, "k8s/overlays/prod/kustomization.yaml"); !strings.Contains(got, "newTag: 1.3.0") {
		t.Fatalf("review branch:\n%s", got)
	}
	var dep model.Deployment
	mustCall(t, d.svc, "deployments.get", map[string]any{"id": r.DeploymentID}, &dep)
	if dep.Status != model.DeployPending || dep.ReviewBranch != r.ReviewBranch {
		t.Fatalf("review deployment: %+v", dep)
	}
}
