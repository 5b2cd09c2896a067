package watch

import (
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/fluxobj"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/services/policy"
	"github.com/gitopstui/gitopstui/store"
)

// helmReleaseYAML is a HelmRelease as the API server returns it after
// kustomize-controller applied generation 3 and helm-controller v1.6.4
// released generation 2; status is filled in per case.
const helmReleaseYAML = `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: podinfo-production
  generation: 3
  resourceVersion: "4711"
  uid: 3f1c6a52-6f0e-4c1e-9d55-2d0c5b0a9e11
  finalizers: [finalizers.fluxcd.io]
  labels:
    kustomize.toolkit.fluxcd.io/name: podinfo-production
    kustomize.toolkit.fluxcd.io/namespace: flux-system
  managedFields:
  - manager: kustomize-controller
    operation: Apply
    apiVersion: helm.toolkit.fluxcd.io/v2
spec:
  interval: 50m
  chart:
    spec:
      chart: podinfo
      version: 6.6.0
      sourceRef: {kind: HelmRepository, name: podinfo}
  upgrade: {disableWait: true}
  values: {image: {tag: 6.5.4}}
status:
  storageNamespace: podinfo-production
  lastAttemptedGeneration: LAG
  lastAttemptedRevision: "LAR"
  lastAttemptedConfigDigest: sha256:1dd4b1a1a0f3b0e5b2c52d9b3a3f9a8e9b0d0c5e4e0c1f3a2b8b9e6e0f0d3c21
  lastAttemptedReleaseAction: upgrade
  observedGeneration: OG
  conditions: CONDS
  history:
  - name: podinfo
    namespace: podinfo-production
    version: HV
    status: HS
    chartName: podinfo
    chartVersion: HCV
    appVersion: 6.6.0
    configDigest: sha256:1dd4b1a1a0f3b0e5b2c52d9b3a3f9a8e9b0d0c5e4e0c1f3a2b8b9e6e0f0d3c21
    digest: sha256:9d2a3b8e
    firstDeployed: "2026-12-02T03:00:00Z"
    lastDeployed: "2026-12-02T03:05:00Z"
  - name: podinfo
    namespace: podinfo-production
    version: 1
    status: superseded
    chartName: podinfo
    chartVersion: 6.5.0
`

func cond(typ, status, reason string, gen int, msg string) string {
	return "\n  - {type: " + typ + ", status: \"" + status + "\", reason: " + reason + ", observedGeneration: " + strconv.Itoa(gen) +
		", lastTransitionTime: \"2026-12-02T03:05:00Z\", message: \"" + msg + "\"}"
}

// helmRelease builds the object, slimmed as the informers keep it.
func helmRelease(t *testing.T, og, lag int, lar, hv, hs, hcv, conds string) *unstructured.Unstructured {
	t.Helper()
	r := strings.NewReplacer("LAG", strconv.Itoa(lag), "LAR", lar, "OG", strconv.Itoa(og), "CONDS", conds, "HV", hv, "HS", hs, "HCV", hcv)
	j, err := yaml.YAMLToJSON([]byte(r.Replace(helmReleaseYAML)))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil { // int64 numbers, as client-go decodes
		t.Fatal(err)
	}
	s, err := slim(u)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*unstructured.Unstructured)
}

// TestHelmReleaseVerdict: helm-controller's verdict on a release of the
// generation the Kustomization applied, from real-shaped objects.
func TestHelmReleaseVerdict(t *testing.T) {
	progressing := cond("Reconciling", "True", "Progressing", 3, "Fulfilling prerequisites") + cond("Ready", "Unknown", "Progressing", 3, "reconciliation in progress")
	for _, c := range []struct {
		name   string
		hr     *unstructured.Unstructured
		status string
		detail string
	}{
		{"the old generation is still Ready: not yet released", helmRelease(t, 2, 2, "6.5.0", "1", "deployed", "6.5.0",
			cond("Ready", "True", "InstallSucceeded", 2, "Helm install succeeded for release podinfo-production/podinfo.v1 with chart podinfo@6.5.0")),
			model.DeployPending, ""},
		{"upgrade in progress", helmRelease(t, 2, 3, "6.6.0", "1", "deployed", "6.5.0", progressing), model.DeployPending, ""},
		{"upgraded and Ready for generation 3", helmRelease(t, 3, 3, "6.6.0", "2", "deployed", "6.6.0",
			cond("Ready", "True", "UpgradeSucceeded", 3, "Helm upgrade succeeded for release podinfo-production/podinfo.v2 with chart podinfo@6.6.0")+
				cond("Released", "True", "UpgradeSucceeded", 3, "Helm upgrade succeeded")),
			model.DeploySuccess, "HelmRelease podinfo-production/podinfo: release 2 chart podinfo@6.6.0"},
		{"Ready condition of generation 3 but status not observed yet", helmRelease(t, 2, 3, "6.6.0", "2", "deployed", "6.6.0",
			cond("Ready", "True", "UpgradeSucceeded", 3, "Helm upgrade succeeded")), model.DeployPending, ""},
		{"upgrade failed (retries left: observedGeneration stays)", helmRelease(t, 2, 3, "6.6.0", "2", "failed", "6.6.0",
			cond("Ready", "False", "UpgradeFailed", 3, "Helm upgrade failed for release podinfo-production/podinfo with chart podinfo@6.6.0: timed out")),
			model.DeployFailed, "HelmRelease podinfo-production/podinfo: UpgradeFailed: Helm upgrade failed"},
		{"an upgrade failure of the previous generation does not fail this one", helmRelease(t, 2, 2, "6.5.9", "2", "failed", "6.5.9",
			cond("Ready", "False", "UpgradeFailed", 2, "Helm upgrade failed")), model.DeployPending, ""},
		{"stalled", helmRelease(t, 3, 3, "6.6.0", "2", "failed", "6.6.0",
			cond("Stalled", "True", "RetriesExceeded", 3, "Failed to upgrade after 1 attempt(s)")+cond("Ready", "False", "UpgradeFailed", 3, "Helm upgrade failed")),
			model.DeployFailed, "HelmRelease podinfo-production/podinfo: Failed to upgrade after 1 attempt(s)"},
		{"chart version missing from the repository: the source is not ready, helm-controller retries", helmRelease(t, 2, 2, "6.5.0", "1", "deployed", "6.5.0",
			cond("Ready", "False", "SourceNotReady", 3, "HelmChart 'flux-system/podinfo-production-podinfo' is not ready: invalid chart reference")),
			model.DeployPending, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := releaseVerdict([]*unstructured.Unstructured{c.hr})
			if v.Status != c.status || !strings.HasPrefix(v.Detail, c.detail) {
				t.Fatalf("verdict %+v, want %s %q", v, c.status, c.detail)
			}
		})
	}
	if v := releaseVerdict(nil); v.Status != model.DeployPending {
		t.Fatalf("no releases: %+v", v)
	}
	ok := helmRelease(t, 3, 3, "6.6.0", "2", "deployed", "6.6.0", cond("Ready", "True", "UpgradeSucceeded", 3, "ok"))
	busy := helmRelease(t, 2, 3, "6.6.0", "1", "deployed", "6.5.0", progressing)
	if v := releaseVerdict([]*unstructured.Unstructured{ok, busy}); v.Status != model.DeployPending {
		t.Fatalf("one of two releases upgrading: %+v", v)
	}
}

// TestHelmGatedCorrelation: a Ready Kustomization that applied a pending
// deployment's commit completes it, unless it applies a HelmRelease: then the
// deployment stays pending with the applied stage, for helm-controller.
func TestHelmGatedCorrelation(t *testing.T) {
	for _, withHelm := range []bool{false, true} {
		db, err := store.Open(t.TempDir(), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		sha := strings.Repeat("ab", 20)
		now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
		err = db.Update(func(tx *store.Tx) error {
			for _, err := range []error{
				store.Environments.Put(tx, model.Environment{ID: "env-production", ProjectID: "proj-shop", Name: "production", ClusterID: "cluster-gone"}),
				store.Resources.Put(tx, model.GitOpsResource{ID: "gr-ks", ProjectID: "proj-shop", EnvironmentID: "env-production", Type: model.ResourceKustomization,
					Name: "podinfo-production", Namespace: "flux-system"}),
				store.Deployments.Put(tx, model.Deployment{ID: "dep-1", ProjectID: "proj-shop", EnvironmentID: "env-production", DeploymentMethod: model.MethodGitOpsUI,
					Status: model.DeployPending, GitCommitSha: sha, CreatedAt: now, Timeline: []model.TimelineStage{{Stage: model.StageCommitted, At: now}}}),
			} {
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		w := New(db, func() time.Time { return now.Add(time.Minute) }, kube.New(db, time.Now, policy.Policy{}), NewHub(), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if withHelm {
			w.helm.setListed("cluster-gone", []*unstructured.Unstructured{helmRelease(t, 2, 2, "6.5.0", "1", "deployed", "6.5.0", cond("Ready", "True", "InstallSucceeded", 2, "ok"))})
		}
		o := fluxobj.Observed{Status: model.StatusReady, LastAppliedRevision: "main@sha1:" + sha, LastAttemptedRevision: "main@sha1:" + sha, ObservedAt: now}
		if _, _, err := w.Record("gr-ks", o); err != nil {
			t.Fatal(err)
		}
		d, err := store.Deployments.Read(db, "dep-1")
		if err != nil {
			t.Fatal(err)
		}
		want := model.DeploySuccess
		if withHelm {
			want = model.DeployPending
		}
		if d.Status != want || d.Stage(model.StageApplied) == nil || (d.Stage(model.StageHealthy) != nil) == withHelm {
			t.Fatalf("with a HelmRelease %v: deployment %s, timeline %+v", withHelm, d.Status, d.Timeline)
		}
	}
}
