package e2e_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// benchRounds is how many times each side resumes its chain; the medians are reported.
const benchRounds = 3

// BenchmarkBulkResumeChain measures issue 16's bulk resume: a suspended
// six-level dependsOn chain of ConfigMap-only Kustomizations resumed by
// gitops.bulk until all six are Ready, beside an identical chain whose six
// objects are resumed at once and ordered by Flux's own dependency requeue
// (what `flux resume kustomization --all` does), on the same controllers
// with the same flags. Done means, for both: every object Ready with its
// current generation observed (a resume changes the generation, so an old
// Ready does not count).
func BenchmarkBulkResumeChain(b *testing.B) {
	l := setupLoop(b)
	envID := l.chainEnv(b, "ours", "flux")
	ours, _ := l.createChain(b, envID, "ours")
	flux, _ := l.createChain(b, envID, "flux")
	var oursMS, fluxMS []float64
	for round := range benchRounds {
		if round > 0 {
			l.suspendAll(b, append(slices.Clone(ours), flux...))
		}
		start := time.Now()
		res, err := api.Invoke(model.WithActor(context.Background(), model.LocalActor("bench")), l.svc.Registry(), api.Bulk, api.BulkInput{Action: api.BulkResume,
			Selector: api.BulkSelector{EnvironmentID: envID, Names: ours}})
		if err != nil || len(res.Ran) != chainDepth {
			b.Fatalf("bulk resume: %+v %v", res, err)
		}
		l.waitChainReady(b, ours)
		oursMS = append(oursMS, msSince(start))

		start = time.Now()
		for _, n := range flux {
			l.patchKs(b, n, `{"spec":{"suspend":false}}`)
		}
		l.waitChainReady(b, flux)
		fluxMS = append(fluxMS, msSince(start))
		b.Logf("round %d: bulk resume %.0f ms, resume all and let Flux order %.0f ms", round+1, oursMS[round], fluxMS[round])
	}
	om, fm := median(oursMS), median(fluxMS)
	b.ReportMetric(om, "ours-ms")
	b.ReportMetric(fm, "anchor-ms")
	b.ReportMetric(om/fm, "ratio")
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func (l *loop) patchKs(t testing.TB, name, patch string) {
	t.Helper()
	if _, err := l.dyn.Resource(ksGVR).Namespace(fluxNS).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// suspendAll suspends the objects directly, as kubectl or flux would.
func (l *loop) suspendAll(t testing.TB, names []string) {
	t.Helper()
	for _, n := range names {
		l.patchKs(t, n, `{"spec":{"suspend":true}}`)
	}
}

// waitChainReady waits until every named Kustomization is Ready at its current generation.
func (l *loop) waitChainReady(t testing.TB, names []string) {
	t.Helper()
	waitUntil(t, 5*time.Minute, fmt.Sprintf("%v Ready", names), func() (bool, string) {
		for _, n := range names {
			u, err := l.dyn.Resource(ksGVR).Namespace(fluxNS).Get(context.Background(), n, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			gen, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
			if rc := readyCondition(u); rc == nil || rc["status"] != "True" || gen != u.GetGeneration() {
				return false, fmt.Sprintf("%s: ready %v, observed generation %d of %d", n, rc["status"], gen, u.GetGeneration())
			}
		}
		return true, ""
	})
}
