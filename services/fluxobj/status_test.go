package fluxobj_test

import (
	"slices"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/fluxobj"
)

// observedAt is the clock reading every Observe call in these tests gets.
var observedAt = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// condition is one Flux condition as the controllers write it.
func condition(typ string, status metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(observedAt)}
}

// toUnstructured converts a Flux object built from its API type into what
// the dynamic client hands to Observe.
func toUnstructured(t *testing.T, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// kustomization is a Kustomization of GitRepository shop that depends on
// infra, with the given suspend flag and conditions.
func kustomization(t *testing.T, suspend bool, conds ...metav1.Condition) *unstructured.Unstructured {
	t.Helper()
	k := &kustomizev1.Kustomization{
		TypeMeta:   metav1.TypeMeta{APIVersion: kustomizev1.GroupVersion.String(), Kind: kustomizev1.KustomizationKind},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "flux-system"},
		Spec: kustomizev1.KustomizationSpec{
			Suspend:   suspend,
			Path:      "./k8s/overlays/prod",
			Interval:  metav1.Duration{Duration: 5 * time.Minute},
			DependsOn: []kustomizev1.DependencyReference{{Name: "infra"}},
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "shop", Namespace: "flux-system"},
		},
		Status: kustomizev1.KustomizationStatus{
			LastAppliedRevision:   "main@sha1:aaa",
			LastAttemptedRevision: "main@sha1:bbb",
			ReconcileRequestStatus: meta.ReconcileRequestStatus{
				LastHandledReconcileAt: "2026-03-04T05:00:00Z",
			},
			Conditions: conds,
		},
	}
	return toUnstructured(t, k)
}

func TestObserveKustomization(t *testing.T) {
	const (
		retry = meta.ProgressingWithRetryReason
		notOK = metav1.ConditionFalse
	)
	for _, tc := range []struct {
		name        string
		suspend     bool
		conds       []metav1.Condition
		wantStatus  string
		wantMessage string
	}{
		{"Ready=True is ready", false,
			[]metav1.Condition{condition(meta.ReadyCondition, metav1.ConditionTrue, meta.ReconciliationSucceededReason, "Applied revision: main@sha1:aaa")},
			model.StatusReady, ""},
		{"Stalled is failed with its message", false,
			[]metav1.Condition{condition(meta.StalledCondition, metav1.ConditionTrue, "InvalidPath", "path not found: ./k8s"),
				condition(meta.ReadyCondition, notOK, "InvalidPath", "ready says something else")},
			model.StatusFailed, "path not found: ./k8s"},
		{"DependencyNotReady is pending, not failed", false,
			[]metav1.Condition{condition(meta.ReadyCondition, notOK, meta.DependencyNotReadyReason, "dependency 'flux-system/infra' is not ready")},
			model.StatusPending, "dependency 'flux-system/infra' is not ready"},
		{"Reconciling with ProgressingWithRetry and Ready=False is failed", false,
			[]metav1.Condition{condition(meta.ReconcilingCondition, metav1.ConditionTrue, retry, "retrying"),
				condition(meta.ReadyCondition, notOK, "BuildFailed", "kustomize build failed: missing resource")},
			model.StatusFailed, "kustomize build failed: missing resource"},
		{"Reconciling while progressing is reconciling", false,
			[]metav1.Condition{condition(meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingReason, "applying"),
				condition(meta.ReadyCondition, notOK, "BuildFailed", "an earlier failure")},
			model.StatusReconciling, ""},
		{"Ready=Unknown is reconciling", false,
			[]metav1.Condition{condition(meta.ReadyCondition, metav1.ConditionUnknown, meta.ProgressingReason, "applying")},
			model.StatusReconciling, ""},
		{"Ready=False otherwise is failed with its message", false,
			[]metav1.Condition{condition(meta.ReadyCondition, notOK, "ArtifactFailed", "Source artifact not found")},
			model.StatusFailed, "Source artifact not found"},
		{"no conditions yet is pending", false, nil, model.StatusPending, ""},
		{"suspended is suspended whatever Ready says", true,
			[]metav1.Condition{condition(meta.ReadyCondition, metav1.ConditionTrue, meta.ReconciliationSucceededReason, "applied")},
			model.StatusSuspended, ""},
		{"suspended keeps Ready=False's message", true,
			[]metav1.Condition{condition(meta.ReadyCondition, notOK, "BuildFailed", "kustomize build failed")},
			model.StatusSuspended, "kustomize build failed"},
		{"suspended wins over Stalled", true,
			[]metav1.Condition{condition(meta.StalledCondition, metav1.ConditionTrue, "InvalidPath", "path not found")},
			model.StatusSuspended, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := fluxobj.Observe(kustomization(t, tc.suspend, tc.conds...), observedAt)
			if o.Status != tc.wantStatus || o.ErrorMessage != tc.wantMessage {
				t.Fatalf("status %q message %q, want %q %q", o.Status, o.ErrorMessage, tc.wantStatus, tc.wantMessage)
			}
			if o.Suspended != tc.suspend || len(o.Conditions) != len(tc.conds) || !o.ObservedAt.Equal(observedAt) {
				t.Fatalf("observed %+v", o)
			}
		})
	}
}

// TestObserveKustomizationFields: what the cluster says besides the status
// is read from the Kustomization's spec and status.
func TestObserveKustomizationFields(t *testing.T) {
	o := fluxobj.Observe(kustomization(t, false), observedAt)
	if o.LastAppliedRevision != "main@sha1:aaa" || o.LastAttemptedRevision != "main@sha1:bbb" ||
		o.LastHandledReconcile != "2026-03-04T05:00:00Z" || !slices.Equal(o.DependsOn, []string{"infra"}) ||
		o.SourceRef != "GitRepository/shop" || o.SourceNamespace != "flux-system" {
		t.Fatalf("observed %+v", o)
	}
	if o.Conditions == nil {
		t.Fatal("no conditions must be an empty list, not null")
	}
}

func TestObserveHelmRelease(t *testing.T) {
	hr := &helmv2.HelmRelease{
		TypeMeta:   metav1.TypeMeta{APIVersion: helmv2.GroupVersion.String(), Kind: helmv2.HelmReleaseKind},
		ObjectMeta: metav1.ObjectMeta{Name: "redis", Namespace: "flux-system"},
		Spec: helmv2.HelmReleaseSpec{
			Interval:  metav1.Duration{Duration: time.Minute},
			DependsOn: []helmv2.DependencyReference{{Name: "cache"}, {Name: "db"}},
			Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: "redis",
				SourceRef: helmv2.CrossNamespaceObjectReference{Kind: sourcev1.HelmRepositoryKind, Name: "bitnami"}}},
		},
		Status: helmv2.HelmReleaseStatus{
			LastAttemptedRevision: "19.0.2",
			History:               helmv2.Snapshots{{Name: "redis", Namespace: "cache", Version: 2, ChartVersion: "19.0.1", Status: "deployed"}},
			Conditions:            []metav1.Condition{condition(meta.ReadyCondition, metav1.ConditionTrue, "UpgradeSucceeded", "upgraded")},
		},
	}
	o := fluxobj.Observe(toUnstructured(t, hr), observedAt)
	if o.Status != model.StatusReady || o.ErrorMessage != "" || o.LastAppliedRevision != "19.0.1" || o.LastAttemptedRevision != "19.0.2" ||
		!slices.Equal(o.DependsOn, []string{"cache", "db"}) || o.SourceRef != "HelmRepository/bitnami" {
		t.Fatalf("observed %+v", o)
	}
	hr.Spec.Suspend = true
	hr.Status.Conditions = []metav1.Condition{condition(meta.ReadyCondition, metav1.ConditionFalse, "InstallFailed", "install retries exhausted")}
	if o := fluxobj.Observe(toUnstructured(t, hr), observedAt); o.Status != model.StatusSuspended || o.ErrorMessage != "install retries exhausted" || !o.Suspended {
		t.Fatalf("suspended HelmRelease observed %+v", o)
	}
}

// gitRepository is a GitRepository with the given conditions and, when
// revision is not empty, an artifact of that revision.
func gitRepository(t *testing.T, revision string, conds ...metav1.Condition) *unstructured.Unstructured {
	t.Helper()
	g := &sourcev1.GitRepository{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.GitRepositoryKind},
		ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "flux-system"},
		Spec: sourcev1.GitRepositorySpec{URL: "https://git.example.com/acme/shop.git",
			Interval: metav1.Duration{Duration: time.Minute}},
		Status: sourcev1.GitRepositoryStatus{Conditions: conds},
	}
	if revision != "" {
		g.Status.Artifact = &meta.Artifact{Revision: revision, Path: "x", URL: "http://x", Digest: "sha256:00", LastUpdateTime: metav1.NewTime(observedAt)}
	}
	return toUnstructured(t, g)
}

func TestJudgeSource(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name                             string
		u                                *unstructured.Unstructured
		wantStatus, wantCommit, wantText string
	}{
		{"ready with its artifact's commit",
			gitRepository(t, "main@sha1:"+sha, condition(meta.ReadyCondition, metav1.ConditionTrue, meta.SucceededReason, "stored artifact")),
			model.SyncReady, sha, ""},
		{"reconciling",
			gitRepository(t, "", condition(meta.ReconcilingCondition, metav1.ConditionTrue, meta.ProgressingReason, "fetching"),
				condition(meta.ReadyCondition, metav1.ConditionUnknown, meta.ProgressingReason, "fetching")),
			model.SyncReconciling, "", ""},
		{"no conditions yet is reconciling", gitRepository(t, ""), model.SyncReconciling, "", ""},
		{"failed keeps the last commit and says why",
			gitRepository(t, "main@sha1:"+sha, condition(meta.ReadyCondition, metav1.ConditionFalse, "GitOperationFailed", "authentication required")),
			model.SyncFailed, sha, "authentication required"},
		{"stalled is failed",
			gitRepository(t, "", condition(meta.StalledCondition, metav1.ConditionTrue, "URLInvalid", "invalid URL")),
			model.SyncFailed, "", "invalid URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, commit, msg := fluxobj.JudgeSource(tc.u)
			if status != tc.wantStatus || commit != tc.wantCommit || msg != tc.wantText {
				t.Fatalf("JudgeSource = %q %q %q, want %q %q %q", status, commit, msg, tc.wantStatus, tc.wantCommit, tc.wantText)
			}
		})
	}
}

func TestRevisionSHA(t *testing.T) {
	for in, want := range map[string]string{
		"main@sha1:abc":              "abc",
		"abc":                        "abc",
		"release/1.x@sha1:def":       "def",
		"main/0123abc":               "0123abc",
		"":                           "",
		"v1.2.3@sha256:0123456789ab": "0123456789ab",
	} {
		if got := fluxobj.RevisionSHA(in); got != want {
			t.Errorf("RevisionSHA(%q) = %q, want %q", in, got, want)
		}
	}
}
