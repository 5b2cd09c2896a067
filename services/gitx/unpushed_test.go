package gitx_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// hasObject reports whether `git cat-file -e` finds rev in the repository dir.
func hasObject(dir, rev string) bool {
	_, err := gittest.RunGit(dir, nil, "cat-file", "-e", rev)
	return err == nil
}

// TestRejectedCommitSurvivesGC: the push-rejected error says the commit is
// kept; `git gc --prune=now` on the cache keeps it, and pushing it later
// lands it and lets go of it.
func TestRejectedCommitSurvivesGC(t *testing.T) {
	ctx := context.Background()
	srv, r := newHTTP(t)
	dir := srv.Dir("fleet.git")
	base := gittest.Log(t, dir, "main")[0]
	gittest.RejectPushes(t, dir, "pushes are closed for the freeze")
	_, err := r.CommitAndPush(ctx, "main", setFile("apps/web/deployment.yaml", "replicas: 9\n"), meta("scale"), gitx.RetryOpts{})
	e := wantCode(t, err, model.CodeInsufficientPermission)
	sha, _ := e.Details["commitSha"].(string)
	ref := gitx.UnpushedRefPrefix + sha
	if len(sha) != 40 || e.Details["unpushedRef"] != ref || !strings.Contains(e.Message, ref) {
		t.Fatalf("rejection does not name the ref: %v %v", e, e.Details)
	}

	gittest.Git(t, r.Dir(), "gc", "--quiet", "--prune=now")
	if !hasObject(r.Dir(), sha) || !hasObject(r.Dir(), sha+":apps/web/deployment.yaml") {
		t.Fatalf("git gc --prune=now deleted the unpushed commit %s", sha)
	}
	if got := gittest.Git(t, r.Dir(), "rev-parse", ref); got != sha {
		t.Fatalf("%s = %s", ref, got)
	}
	if got, err := r.Unpushed(); err != nil || !slices.Equal(got, []string{sha}) {
		t.Fatalf("Unpushed = %v, %v", got, err)
	}
	// the cache's own compaction (git gc --prune=now) keeps it too
	if err := r.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if b, _, err := r.ReadFile(ctx, sha, "apps/web/deployment.yaml"); err != nil || string(b) != "replicas: 9\n" {
		t.Fatalf("kept commit unreadable: %q, %v", b, err)
	}

	// pushes open again: pushing the kept commit lands it and drops the ref
	if err := os.Remove(filepath.Join(dir, "hooks", "pre-receive")); err != nil {
		t.Fatal(err)
	}
	if err := r.Push(ctx, "main", sha); err != nil {
		t.Fatal(err)
	}
	if got := gittest.Log(t, dir, "main"); len(got) != 2 || got[0] != sha || got[1] != base {
		t.Fatalf("remote log %v", got)
	}
	if got, err := r.Unpushed(); err != nil || len(got) != 0 {
		t.Fatalf("Unpushed after the push = %v, %v", got, err)
	}
	if out := gittest.Git(t, r.Dir(), "for-each-ref", "refs/gitopstui/"); out != "" {
		t.Fatalf("refs left: %s", out)
	}
	// a plain successful push leaves no ref behind
	if _, err := r.CommitAndPush(ctx, "main", setFile("n.txt", "1"), meta("n"), gitx.RetryOpts{}); err != nil {
		t.Fatal(err)
	}
	if out := gittest.Git(t, r.Dir(), "for-each-ref", "refs/gitopstui/"); out != "" {
		t.Fatalf("refs left after a push: %s", out)
	}
}

// TestBuiltCommitKeptUntilDropped: a commit built with Commit survives gc
// until Push lands it or DropUnpushed drops it; dropped, gc deletes it.
func TestBuiltCommitKeptUntilDropped(t *testing.T) {
	ctx := context.Background()
	_, r := newHTTP(t)
	sha, err := r.Commit(ctx, "main", gitx.Changes{Write: map[string][]byte{"draft.yaml": []byte("draft: true\n")}}, meta("draft"))
	if err != nil {
		t.Fatal(err)
	}
	gittest.Git(t, r.Dir(), "gc", "--quiet", "--prune=now")
	if !hasObject(r.Dir(), sha) {
		t.Fatalf("git gc --prune=now deleted the built commit %s", sha)
	}
	if err := r.DropUnpushed(sha); err != nil {
		t.Fatal(err)
	}
	wantCode(t, r.DropUnpushed(sha), model.CodeNotFound)
	wantCode(t, r.DropUnpushed("HEAD"), model.CodeBadRequest)
	if got, err := r.Unpushed(); err != nil || len(got) != 0 {
		t.Fatalf("Unpushed after drop = %v, %v", got, err)
	}
	gittest.Git(t, r.Dir(), "gc", "--quiet", "--prune=now")
	if hasObject(r.Dir(), sha) {
		t.Fatalf("the dropped commit %s survived gc", sha)
	}
}
