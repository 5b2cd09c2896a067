package e2e_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// Deploys measured per mode of BenchmarkPushToApplied. The polling mode waits for Flux's
// 1m interval (about 30 s a commit on average, plus the spreading), so it takes fewer samples.
const (
	fastDeploys = 50
	pollDeploys = 6
)

// BenchmarkPushToApplied: push → applied on the real Flux controllers and the loopback git
// server, both environments with every interval at 1m. Fast path: gitops.deployWithGitOps
// pushes and asks the GitRepository to reconcile at once. Polling: the git CLI pushes a
// commit and nobody tells Flux, which finds it on its next 1m fetch. Both are read off the
// commit tracer: the deployment's applied stage minus its push (for the CLI push, the
// moment the push returned), as gitopstui's watcher saw it.
func BenchmarkPushToApplied(b *testing.B) {
	l := setupLoop(b)
	fast := l.fastPathSamples(b, fastDeploys)
	poll := l.pollingSamples(b, pollDeploys)
	b.ReportMetric(pct(fast, 0.50), "fast-p50-ms")
	b.ReportMetric(pct(fast, 0.95), "fast-p95-ms")
	b.ReportMetric(pct(poll, 0.50), "poll-p50-ms")
	b.ReportMetric(pct(poll, 0.95), "poll-p95-ms")
}

// kustomizationFor creates the environment's Kustomization and waits until it is ready.
func (l *loop) kustomizationFor(t testing.TB, envID, name string) string {
	var sum api.ResourceSummary
	mustCall(t, l.svc, "gitops.createGitOpsResource", map[string]any{"projectId": "proj-shop", "environmentId": envID, "name": name,
		"type": "kustomization"}, &sum)
	waitUntil(t, waitLimit, name+" ready", func() (bool, string) {
		d := l.resource(t, sum.ID)
		return d.Status == model.StatusReady, d.Status
	})
	return sum.ID
}

func (l *loop) fastPathSamples(b *testing.B, n int) []time.Duration {
	envID, _, _, _ := l.gitopsEnvEvery(b, "fast", true, "1m")
	l.kustomizationFor(b, envID, "shop-fast")
	var out []time.Duration
	for i := range n {
		var res api.DeployResult
		mustCall(b, l.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": envID,
			"image": fmt.Sprintf("ghcr.io/acme/web:5.0.%d", i)}, &res)
		var d model.Deployment
		waitUntil(b, waitLimit, "deploy applied", func() (bool, string) {
			mustCall(b, l.svc, "deployments.get", map[string]any{"id": res.DeploymentID}, &d)
			return d.Status == model.DeploySuccess && d.Stage(model.StageApplied) != nil, d.Status
		})
		out = append(out, d.Stage(model.StageApplied).At.Sub(d.Stage(model.StagePushed).At))
	}
	return out
}

func (l *loop) pollingSamples(b *testing.B, n int) []time.Duration {
	envID, _, _, repoName := l.gitopsEnvEvery(b, "poll", true, "1m")
	l.kustomizationFor(b, envID, "shop-poll")
	var out []time.Duration
	for i := range n {
		// Each commit is applied right after a fetch: pushing at once would wait the
		// whole interval every time. Spreading the pushes over the interval (0, 10, …
		// 50 s after the last apply) samples the wait a push at a random moment sees.
		time.Sleep(time.Duration(i%6) * 10 * time.Second)
		sha := pushCommit(b, l.git, repoName, fmt.Sprintf("annotate %d", i), func(dir string) {
			editFile(b, filepath.Join(dir, "k8s/overlays/poll/kustomization.yaml"), func(s string) string {
				if j := strings.Index(s, "commonAnnotations:"); j >= 0 {
					s = s[:j]
				}
				return s + fmt.Sprintf("commonAnnotations:\n  acme.dev/round: %q\n", fmt.Sprint(i))
			})
		})
		pushed := time.Now()
		var applied time.Time
		waitUntil(b, waitLimit, "pushed commit applied", func() (bool, string) {
			var page []model.Deployment
			mustCall(b, l.svc, "deployments.list", map[string]any{"environmentId": envID, "deploymentMethod": "gitops-git", "limit": 5}, &page)
			for _, d := range page {
				if s := d.Stage(model.StageApplied); d.GitCommitSha == sha && s != nil {
					applied = s.At
					return true, ""
				}
			}
			return false, "not applied"
		})
		out = append(out, applied.Sub(pushed))
	}
	return out
}

// pct is the p-th percentile of samples in milliseconds.
func pct(samples []time.Duration, p float64) float64 {
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s)-1)*p + 0.5)
	return float64(s[i].Microseconds()) / 1000
}
