package gitx_test

import (
	"context"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

func TestChangedFilesAndTreeAt(t *testing.T) {
	ctx := context.Background()
	srv, r := newHTTP(t)
	first := gittest.Git(t, srv.Dir("fleet.git"), "rev-parse", "main")
	res, err := r.CommitAndPush(ctx, "main", func(gitx.Snapshot) (gitx.Changes, error) {
		return gitx.Changes{Write: map[string][]byte{"apps/web/deployment.yaml": []byte("replicas: 1\nimage: web:2.0\n"),
			"apps/web/new.yaml": []byte("kind: x\n")}, Delete: []string{"apps/api/deployment.yaml"}}, nil
	}, meta("change web"), gitx.RetryOpts{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := r.Lookup(ctx, res.Commit)
	if err != nil || len(info.Parents) != 1 || info.Parents[0] != first || info.Subject != "change web" {
		t.Fatalf("Lookup: %+v %v", info, err)
	}
	got, err := r.ChangedFiles(ctx, first, res.Commit)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		path     string
		old, new bool
	}{{"apps/api/deployment.yaml", true, false}, {"apps/web/deployment.yaml", true, true}, {"apps/web/new.yaml", false, true}}
	if len(got) != len(want) {
		t.Fatalf("ChangedFiles: %+v", got)
	}
	for i, w := range want {
		g := got[i]
		if g.Path != w.path || g.OldExists != w.old || g.NewExists != w.new || g.Special {
			t.Fatalf("change %d: %+v, want %+v", i, g, w)
		}
	}
	if string(got[1].Old) != seed["apps/web/deployment.yaml"] || string(got[1].New) != "replicas: 1\nimage: web:2.0\n" {
		t.Fatalf("contents: %q -> %q", got[1].Old, got[1].New)
	}
	// The tree of an untouched directory is the same in both commits; a changed one differs.
	for dir, same := range map[string]bool{"clusters/prod": true, "apps/web": false, "": false} {
		a, err1 := r.TreeAt(ctx, first, dir)
		b, err2 := r.TreeAt(ctx, res.Commit, dir)
		if err1 != nil || err2 != nil || a == "" || (a == b) != same {
			t.Fatalf("TreeAt %q: %s %s %v %v", dir, a, b, err1, err2)
		}
	}
	if h, err := r.TreeAt(ctx, first, "no/such/dir"); h != "" || err != nil {
		t.Fatalf("TreeAt of a missing dir: %q %v", h, err)
	}
	if _, err := r.Lookup(ctx, "0123456789abcdef0123456789abcdef01234567"); model.CodeOf(err) != model.CodeNotFound {
		t.Fatalf("Lookup of an unknown commit: %v", err)
	}
}

func TestCommitAndPushBranch(t *testing.T) {
	ctx := context.Background()
	srv, r := newHTTP(t)
	dir := srv.Dir("fleet.git")
	main := gittest.Git(t, dir, "rev-parse", "main")
	intent := func(s gitx.Snapshot) (gitx.Changes, error) {
		if s.Head != main {
			t.Errorf("intent on %s, want main's head %s", s.Head, main)
		}
		return gitx.Changes{Write: map[string][]byte{"apps/web/service.yaml": []byte("port: 8080\n")}}, nil
	}
	res, err := r.CommitAndPushBranch(ctx, "main", "gitopstui/prod/abc", intent, meta("review me"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Parent != main || res.Branch != "gitopstui/prod/abc" || res.NoOp {
		t.Fatalf("result: %+v", res)
	}
	if got := gittest.Git(t, dir, "rev-parse", "gitopstui/prod/abc"); got != res.Commit {
		t.Fatalf("review branch at %s, want %s", got, res.Commit)
	}
	if got := gittest.Git(t, dir, "rev-parse", "main"); got != main {
		t.Fatal("main moved")
	}
	if got := gittest.Git(t, dir, "rev-parse", res.Commit+"^"); got != main {
		t.Fatalf("parent %s", got)
	}
	_, err = r.CommitAndPushBranch(ctx, "main", "gitopstui/prod/abc", intent, meta("again"))
	if e := wantCode(t, err, model.CodeConflictDetected); e.Details["reason"] != "branch_exists" {
		t.Fatalf("details: %v", e.Details)
	}
}

func TestCompareURL(t *testing.T) {
	const b, h = "main", "gitopstui/prod/dep-1"
	for remote, want := range map[string]string{
		"https://github.com/org/repo.git":                 "https://github.com/org/repo/compare/main...gitopstui/prod/dep-1",
		"git@github.com:org/repo.git":                     "https://github.com/org/repo/compare/main...gitopstui/prod/dep-1",
		"https://gitlab.com/group/sub/repo.git":           "https://gitlab.com/group/sub/repo/-/compare/main...gitopstui/prod/dep-1",
		"https://gitea.example.com/org/repo.git":          "https://gitea.example.com/org/repo/compare/main...gitopstui/prod/dep-1",
		"https://bitbucket.org/team/repo.git":             "https://bitbucket.org/team/repo/branches/compare/gitopstui%2Fprod%2Fdep-1%0Dmain",
		"https://bitbucket.example.com/scm/proj/repo.git": "https://bitbucket.example.com/projects/PROJ/repos/repo/compare/commits?sourceBranch=refs%2Fheads%2Fgitopstui%2Fprod%2Fdep-1&targetBranch=refs%2Fheads%2Fmain",
		"https://dev.azure.com/org/project/_git/repo":     "https://dev.azure.com/org/project/_git/repo/branchCompare?baseVersion=GBmain&targetVersion=GBgitopstui%2Fprod%2Fdep-1",
		"/srv/git/fleet.git":                              "",
	} {
		if got := gitx.CompareURL(remote, b, h); got != want {
			t.Errorf("CompareURL(%q) = %q, want %q", remote, got, want)
		}
	}
}
