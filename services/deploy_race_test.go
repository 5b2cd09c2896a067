package services_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// racedDeploy is the outcome of one deploy of TestRacingDeploys.
type racedDeploy struct {
	sha      string
	attempts int
	err      error
}

const (
	raceRounds     = 100
	raceOverlayDir = "k8s/overlays/prod"
)

// raceInput is writer w's change in round i: writer 0 sets the replica count
// to i+10, writer 1 the variable ROUND to i. The two never touch the same field.
func raceInput(w, i int) map[string]any {
	if w == 0 {
		return map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "replicas": i + 10}
	}
	return map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "env": map[string]any{"ROUND": strconv.Itoa(i)}}
}

// TestRacingDeploys has two writers, each with its own services and Git
// cache, deploy to the same environment 100 times each at the same time,
// changing disjoint fields. A race on disjoint fields is not a conflict:
// every deploy succeeds (zero CONFLICT_DETECTED), each is its own commit on
// the real git server, in one linear history where every commit holds its
// own change and keeps the other writer's latest one.
func TestRacingDeploys(t *testing.T) {
	a := setupDeploy(t, nil)
	b := setupDeploy(t, a.server)
	repoDir := a.server.Dir("acme/shop.git")
	base := gittest.Log(t, repoDir, "main")[0]
	var out [2][raceRounds]racedDeploy
	var wg sync.WaitGroup
	for w, d := range []deployEnv{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := model.WithActor(context.Background(), model.LocalActor("test"))
			for i := range raceRounds {
				raw, _ := json.Marshal(raceInput(w, i))
				res, err := d.svc.Registry().Call(ctx, "gitops.deployWithGitOps", raw)
				if err != nil {
					out[w][i] = racedDeploy{err: err}
					continue
				}
				r := res.(api.DeployResult)
				out[w][i] = racedDeploy{sha: r.CommitSha, attempts: r.Attempts}
			}
		}()
	}
	wg.Wait()

	conflicts, maxAttempts := 0, 0
	for w := range out {
		for i, d := range out[w] {
			maxAttempts = max(maxAttempts, d.attempts)
			switch {
			case d.err == nil:
			case model.CodeOf(d.err) == model.CodeConflictDetected:
				if conflicts++; conflicts <= 3 {
					t.Errorf("writer %d round %d: disjoint change refused: %v %v", w, i, d.err, model.AsError(d.err).Details)
				}
			default:
				t.Errorf("writer %d round %d: %v", w, i, d.err)
			}
		}
	}
	t.Logf("%d deploys, %d CONFLICT_DETECTED, at most %d attempts for one deploy", 2*raceRounds, conflicts, maxAttempts)
	if conflicts > 0 {
		t.Fatalf("%d of %d deploys of disjoint fields were CONFLICT_DETECTED, want 0", conflicts, 2*raceRounds)
	}
	if t.Failed() {
		t.FailNow()
	}
	checkRacedHistory(t, repoDir, base, out)
}

// raceState is what the environment builds to at one commit: the web
// Deployment's replica count (the base's 2 until set) and its variable ROUND
// (-1 when absent).
type raceState struct{ replicas, round int }

// checkRacedHistory: the commits after base are exactly the deploys, one
// each, in a linear history; each holds its own change and keeps the other
// writer's latest value; the final tree holds both writers' last changes.
func checkRacedHistory(t *testing.T, repoDir, base string, out [2][raceRounds]racedDeploy) {
	t.Helper()
	type deployID struct{ writer, round int }
	bySHA := map[string]deployID{}
	for w := range out {
		for i, d := range out[w] {
			if prev, dup := bySHA[d.sha]; dup {
				t.Fatalf("writer %d round %d and writer %d round %d report the same commit %s", prev.writer, prev.round, w, i, d.sha)
			}
			bySHA[d.sha] = deployID{w, i}
		}
	}
	lines := strings.Split(gittest.Git(t, repoDir, "rev-list", "--reverse", "--parents", base+"..main"), "\n")
	if len(lines) != 2*raceRounds {
		t.Fatalf("the server has %d new commits for %d deploys", len(lines), 2*raceRounds)
	}
	state, parent := raceStateAt(t, repoDir, base), base
	for n, line := range lines {
		f := strings.Fields(line)
		if len(f) != 2 || f[1] != parent {
			t.Fatalf("commit %d (%s) is not a single-parent child of %s: the history is not linear", n, line, parent)
		}
		id, ok := bySHA[f[0]]
		if !ok {
			t.Fatalf("commit %s on the server is no deploy's result", f[0])
		}
		want := state
		if id.writer == 0 {
			want.replicas = id.round + 10
		} else {
			want.round = id.round
		}
		if got := raceStateAt(t, repoDir, f[0]); got != want {
			t.Fatalf("commit %s (writer %d round %d): replicas %d ROUND %d, want replicas %d ROUND %d (a change was lost)",
				f[0], id.writer, id.round, got.replicas, got.round, want.replicas, want.round)
		}
		state, parent = want, f[0]
	}
	if final := (raceState{replicas: raceRounds - 1 + 10, round: raceRounds - 1}); state != final {
		t.Fatalf("final tree: %+v, want %+v", state, final)
	}
}

// raceStateAt builds the environment's overlay at rev with kustomize (what
// Flux applies) and reads the web Deployment's replicas and variable ROUND.
func raceStateAt(t *testing.T, repoDir, rev string) raceState {
	t.Helper()
	rm, err := buildAt(repoDir, rev, raceOverlayDir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := webDeployment(rm)
	if err != nil {
		t.Fatalf("at %s: %v", rev, err)
	}
	st := raceState{replicas: -1, round: -1}
	if d.Spec.Replicas != nil {
		st.replicas = int(*d.Spec.Replicas)
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			if e.Name == "ROUND" {
				if st.round, err = strconv.Atoi(e.Value); err != nil {
					t.Fatalf("ROUND %q at %s", e.Value, rev)
				}
			}
		}
	}
	return st
}

// buildAt runs kustomize build of dir in the tree of rev of the repository
// repoDir, as Flux would.
func buildAt(repoDir, rev, dir string) (resmap.ResMap, error) {
	archive, err := exec.Command("git", "-C", repoDir, "archive", "--format=tar", rev).Output()
	if err != nil {
		return nil, fmt.Errorf("git archive %s: %w", rev, err)
	}
	fsys := filesys.MakeFsInMemory()
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("archive of %s: %w", rev, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		if err := fsys.WriteFile("/"+h.Name, body); err != nil {
			return nil, err
		}
	}
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, "/"+dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s at %s: %w", dir, rev, err)
	}
	return rm, nil
}

// webDeployment is the Deployment web of a build.
func webDeployment(rm resmap.ResMap) (*appsv1.Deployment, error) {
	for _, r := range rm.Resources() {
		if r.GetKind() != "Deployment" || r.GetName() != "web" {
			continue
		}
		var d appsv1.Deployment
		raw, err := r.MarshalJSON()
		if err == nil {
			err = json.Unmarshal(raw, &d)
		}
		if err != nil {
			return nil, fmt.Errorf("Deployment web: %w", err)
		}
		return &d, nil
	}
	return nil, errors.New("the build has no Deployment web")
}
