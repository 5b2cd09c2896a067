package services_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// TestHelmRacingDeploys: two gitopstui instances (each its own Git and chart
// cache) deploy to the same HelmRelease environment at the same time, one
// the replica count, the other a value, 10 times each. Disjoint fields are
// no conflict: every deploy lands as its own commit, and the values patch
// ends with both writers' last values and its comments.
func TestHelmRacingDeploys(t *testing.T) {
	a := setupHelm(t)
	b := helmServices(t, a.server, a.helm)
	const rounds = 10
	input := func(w, i int) map[string]any {
		in := map[string]any{"projectId": "proj-pod", "environmentId": "env-staging"}
		if w == 0 {
			in["replicas"] = i + 10
		} else {
			in["values"] = map[string]any{"service": map[string]any{"port": 9000 + i}}
		}
		return in
	}
	before := len(gittest.Log(t, a.repo, "main"))
	errs := make(chan error, 2*rounds)
	var wg sync.WaitGroup
	for w, h := range []helmEnv{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := model.WithActor(context.Background(), model.LocalActor("test"))
			for i := range rounds {
				raw, _ := json.Marshal(input(w, i))
				if _, err := h.svc.Registry().Call(ctx, "gitops.deployWithGitOps", raw); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("deploy: %v %v", err, model.AsError(err).Details)
	}
	if got := len(gittest.Log(t, a.repo, "main")) - before; got != 2*rounds {
		t.Errorf("%d commits, want %d", got, 2*rounds)
	}
	final := gittest.Show(t, a.repo, "main", "apps/staging/podinfo-values.yaml")
	for _, want := range []string{"    # staging runs one replica\n    replicaCount: 19\n", "    service:\n      port: 9009"} {
		if !strings.Contains(final, want) {
			t.Errorf("final values patch lacks %q:\n%s", want, final)
		}
	}
}
