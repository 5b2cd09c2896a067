package sshserver

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkSSHSessions opens 20 concurrent SSH sessions with a pty against
// a real server and store, and reports:
//   - first-frame-p95-ms: from the shell request until the first screen
//     (with its Clusters pane) has arrived;
//   - key-echo-p95-ms: from pressing ? until the redrawn screen arrives;
//   - heap-per-session-MB: HeapInuse growth with all 20 sessions open, over
//     20 (it includes the in-process test clients, so it overstates the
//     server's share).
func BenchmarkSSHSessions(b *testing.B) {
	const n = 20
	k := newKey(b)
	h := newHarness(b, k.line("role=admin", "alice"), func(c *Config) { c.MaxSessions = 4 * n })
	// Warm up: one session end to end.
	wc := h.mustDial(k)
	w := openUI(b, wc)
	w.screen.waitFor(b, 0, "Clusters")
	_, _ = w.stdin.Write([]byte("\x03"))
	_ = w.wait(b)

	var first, echo []time.Duration
	var heapPerSession float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)

		sessions := make([]*uiSession, n)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for j := 0; j < n; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := h.mustDial(k)
				start := time.Now()
				u := openUI(b, c)
				u.screen.waitFor(b, 0, "Clusters")
				d := time.Since(start)
				mu.Lock()
				first = append(first, d)
				sessions[j] = u
				mu.Unlock()
			}()
		}
		wg.Wait()

		runtime.GC()
		var during runtime.MemStats
		runtime.ReadMemStats(&during)
		heapPerSession = float64(int64(during.HeapInuse)-int64(before.HeapInuse)) / n / (1 << 20)

		for _, u := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				off := u.screen.Len()
				start := time.Now()
				_, _ = u.stdin.Write([]byte("?"))
				u.screen.waitGrowth(b, off)
				d := time.Since(start)
				mu.Lock()
				echo = append(echo, d)
				mu.Unlock()
			}()
		}
		wg.Wait()
		for _, u := range sessions {
			_, _ = u.stdin.Write([]byte("\x03"))
		}
		for _, u := range sessions {
			_ = u.wait(b)
		}
	}
	b.StopTimer()
	b.ReportMetric(p95ms(first), "first-frame-p95-ms")
	b.ReportMetric(p95ms(echo), "key-echo-p95-ms")
	b.ReportMetric(heapPerSession, "heap-per-session-MB")
}

func p95ms(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[(len(s)*95+99)/100-1]) / float64(time.Millisecond)
}
