package services_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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

// TestHelmDeployConflict: between the plan and the push someone pushes a
// change to the same value (production's replicaCount); a pre-receive hook
// moves main to it while the deploy's push is received, the deploy re-plans
// on the new head and reports CONFLICT_DETECTED with base, ours and theirs.
func TestHelmDeployConflict(t *testing.T) {
	h := setupHelm(t)
	work := filepath.Join(t.TempDir(), "w")
	gittest.Git(t, "", "clone", "-q", h.server.RepoURLWithCreds("acme/podinfo-gitops.git"), work)
	file := filepath.Join(work, "apps", "production", "podinfo-values.yaml")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), "replicaCount: 2", "replicaCount: 4", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	gittest.Git(t, work, "commit", "-q", "-am", "scale production by hand")
	upstream := gittest.Git(t, work, "rev-parse", "HEAD")
	gittest.Git(t, work, "push", "-q", "origin", "HEAD:refs/heads/upstream")
	writeHook(t, h.repo, "pre-receive", fmt.Sprintf("#!/bin/sh\nrm -f \"$0\"\ncat >/dev/null\nunset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\nexec '%s' update-ref refs/heads/main %s\n",
		gittest.GitPath(t), upstream))
	e := wantCode(t, callProc(t, h.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-pod", "environmentId": "env-production", "replicas": 3}, nil), model.CodeConflictDetected)
	cs, _ := e.Details["conflicts"].([]any)
	if len(cs) != 1 {
		t.Fatalf("conflicts: %v", e.Details)
	}
	c, _ := cs[0].(map[string]any)
	if c["path"] != "apps/production/podinfo-values.yaml" || c["field"] != "HelmRelease/podinfo spec.values.replicaCount" || c["base"] != "2" || c["ours"] != "3" || c["theirs"] != "4" {
		t.Errorf("conflict %v", c)
	}
	if head := gittest.Git(t, h.repo, "rev-parse", "main"); head != upstream {
		t.Errorf("server head %s, want the upstream commit %s", head, upstream)
	}
}
