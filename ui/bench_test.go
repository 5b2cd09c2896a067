package ui

import (
	"sort"
	"testing"
	"time"
)

func bigFake(n int) *fakeCaller {
	return catalogFake().ret("gitops.listGitOpsResources", cannedResources(n))
}

// BenchmarkFirstFrame10k: a new session, Init, the resources screen with
// 10,000 resources loaded through the caller, and the first View.
func BenchmarkFirstFrame10k(b *testing.B) {
	fc := bigFake(10000)
	b.ReportAllocs()
	for b.Loop() {
		h := newHarness(b, fc, 120, 40)
		h.press("3")
		if v := h.m.View(); len(v.Content) == 0 {
			b.Fatal("empty view")
		}
	}
}

// BenchmarkFilterKeystroke10k: one keystroke in the `/` filter of 10,000
// rows, through Update and the next View; reports the p95.
func BenchmarkFilterKeystroke10k(b *testing.B) {
	h := newHarness(b, bigFake(10000), 120, 40)
	h.press("3", "/")
	keys := []string{"a", "p", "p", "-", "0", "1", "backspace", "backspace", "backspace", "backspace", "backspace", "backspace"}
	var lat []time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		h.send(keyMsg(keys[i%len(keys)]))
		_ = h.m.View()
		lat = append(lat, time.Since(start))
		i++
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	}
}

// BenchmarkResourcesView10k: View of the resources screen with 10,000 rows.
func BenchmarkResourcesView10k(b *testing.B) {
	h := newHarness(b, bigFake(10000), 120, 40)
	h.press("3")
	b.ReportAllocs()
	for b.Loop() {
		_ = h.m.View()
	}
}
