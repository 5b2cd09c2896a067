package gitx_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// inRepoLinks are symbolic links whose targets stay inside the repository.
var inRepoLinks = map[string]string{
	"apps/web/link.yaml": "deployment.yaml",
	"clusters/prod/base": "../../apps/web",
	"clusters/readme":    "prod/../../README.md",
}

// linkedRepo is the seed repository plus inRepoLinks and extra links, on a
// real git server, and a cache clone of it.
func linkedRepo(t *testing.T, extra map[string]string) (*gittest.HTTPServer, *gitx.Repo, string) {
	t.Helper()
	srv, r := newHTTP(t)
	links := map[string]string{}
	for p, target := range inRepoLinks {
		links[p] = target
	}
	for p, target := range extra {
		links[p] = target
	}
	head := gittest.AddSymlinks(t, srv.Dir("fleet.git"), "main", links)
	return srv, r, head
}

func TestSymlinkReadsFollowInsideRepository(t *testing.T) {
	ctx := context.Background()
	_, r, head := linkedRepo(t, nil)
	snap, err := r.Snapshot(ctx, "main")
	if err != nil || snap.Head != head {
		t.Fatalf("snapshot %s: %v", snap.Head, err)
	}
	// the target's content, not the target's path
	if b, err := snap.ReadFile("apps/web/link.yaml"); err != nil || string(b) != seed["apps/web/deployment.yaml"] {
		t.Fatalf("ReadFile(link) = %q, %v", b, err)
	}
	if b, err := snap.ReadFile("clusters/readme"); err != nil || string(b) != seed["README.md"] {
		t.Fatalf("ReadFile(link with ..) = %q, %v", b, err)
	}
	for p, want := range map[string]string{
		"apps/web/link.yaml":               "apps/web/deployment.yaml",
		"clusters/prod/base/service.yaml":  "apps/web/service.yaml",
		"clusters/prod/base":               "apps/web",
		"clusters/prod/kustomization.yaml": "clusters/prod/kustomization.yaml",
	} {
		if got, err := snap.Resolve(p); err != nil || got != want {
			t.Errorf("Resolve(%s) = %q, %v; want %s", p, got, err, want)
		}
	}
	_, err = snap.Resolve("clusters/prod/base/nope.yaml")
	wantCode(t, err, model.CodeNotFound)

	fsys := snap.FS()
	if b, err := fs.ReadFile(fsys, "clusters/prod/base/service.yaml"); err != nil || string(b) != "port: 80\n" {
		t.Fatalf("read through a directory link: %q, %v", b, err)
	}
	if st, err := fs.Stat(fsys, "clusters/prod/base"); err != nil || !st.IsDir() {
		t.Fatalf("Stat(directory link) = %v, %v", st, err)
	}
	if st, err := fs.Lstat(fsys, "clusters/prod/base"); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("Lstat(directory link) = %v, %v", st, err)
	}
	if target, err := fs.ReadLink(fsys, "apps/web/link.yaml"); err != nil || target != "deployment.yaml" {
		t.Fatalf("ReadLink = %q, %v", target, err)
	}
	if err := fstest.TestFS(fsys, "README.md", "apps/web/link.yaml", "clusters/prod/base", "clusters/readme"); err != nil {
		t.Fatal(err)
	}

	tree, _, err := r.ReadTree(ctx, head, "apps/web")
	if err != nil || string(tree["apps/web/link.yaml"]) != seed["apps/web/deployment.yaml"] {
		t.Fatalf("ReadTree(apps/web) = %q, %v", tree, err)
	}
	tree, _, err = r.ReadTree(ctx, head, "clusters/prod/base")
	if err != nil || len(tree) != 3 || string(tree["clusters/prod/base/service.yaml"]) != "port: 80\n" {
		t.Fatalf("ReadTree(directory link) = %q, %v", tree, err)
	}
}

func TestSymlinkLeavingRepositoryRefused(t *testing.T) {
	ctx := context.Background()
	_, r, head := linkedRepo(t, map[string]string{
		"apps/escape.yaml": "../../etc/passwd",
		"apps/abs.yaml":    "/etc/passwd",
		"apps/out":         "../..",
		"loop/a":           "b",
		"loop/b":           "a",
	})
	snap, err := r.Snapshot(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	for p, target := range map[string]string{"apps/escape.yaml": "../../etc/passwd", "apps/abs.yaml": "/etc/passwd", "apps/out/etc/passwd": "../.."} {
		b, err := snap.ReadFile(p)
		e := wantCode(t, err, model.CodeBadRequest)
		if b != nil || e.Details["file"] != p || e.Details["target"] != target || !strings.Contains(e.Message, "outside the repository") {
			t.Errorf("ReadFile(%s) = %q, %v %v", p, b, e, e.Details)
		}
		if _, err := fs.ReadFile(snap.FS(), p); !errors.Is(err, gitx.ErrSymlinkOutside) {
			t.Errorf("fs.ReadFile(%s): %v", p, err)
		}
		if _, err := snap.Resolve(p); model.CodeOf(err) != model.CodeBadRequest {
			t.Errorf("Resolve(%s): %v", p, err)
		}
	}
	_, err = snap.ReadFile("loop/a")
	wantCode(t, err, model.CodeBadRequest)
	if _, err := fs.Stat(snap.FS(), "loop/a"); !errors.Is(err, gitx.ErrSymlinkLoop) {
		t.Fatalf("loop: %v", err)
	}
	_, _, err = r.ReadTree(ctx, head, "apps")
	if e := wantCode(t, err, model.CodeBadRequest); e.Details["link"] != "apps/abs.yaml" {
		t.Fatalf("ReadTree with a link leaving the repository: %v", e.Details)
	}
	// the links themselves are still listed and readable as links
	if target, err := fs.ReadLink(snap.FS(), "apps/abs.yaml"); err != nil || target != "/etc/passwd" {
		t.Fatalf("ReadLink = %q, %v", target, err)
	}
}

func TestWriteThroughSymlinkRefused(t *testing.T) {
	ctx := context.Background()
	srv, r, head := linkedRepo(t, nil)
	dir := srv.Dir("fleet.git")
	for file, link := range map[string]string{
		"apps/web/link.yaml":           "apps/web/link.yaml",
		"clusters/prod/base/new.yaml":  "clusters/prod/base",
		"clusters/prod/base/sub/x.txt": "clusters/prod/base",
	} {
		_, err := r.CommitAndPush(ctx, "main", setFile(file, "kind: ConfigMap\n"), meta("write "+file), gitx.RetryOpts{})
		e := wantCode(t, err, model.CodeBadRequest)
		if e.Details["file"] != file || e.Details["link"] != link || !strings.Contains(e.Message, "symbolic link") {
			t.Errorf("write %s: %v %v", file, e, e.Details)
		}
		_, err = r.Commit(ctx, "main", gitx.Changes{Write: map[string][]byte{file: []byte("x: 1\n")}}, meta("commit "+file))
		wantCode(t, err, model.CodeBadRequest)
	}
	if got := gittest.Log(t, dir, "main")[0]; got != head {
		t.Fatalf("remote moved: %s", got)
	}
	// the links are still links with their targets
	if got := gittest.Git(t, dir, "ls-tree", "main", "apps/web/link.yaml", "clusters/prod/base"); !strings.Contains(got, "120000 blob") ||
		strings.Count(got, "120000") != 2 {
		t.Fatalf("ls-tree:\n%s", got)
	}
	if got := gittest.Show(t, dir, "main", "apps/web/link.yaml"); got != "deployment.yaml" {
		t.Fatalf("link target %q", got)
	}
	// the file a link points to is written as usual
	res, err := r.CommitAndPush(ctx, "main", setFile("apps/web/deployment.yaml", "replicas: 5\n"), meta("scale"), gitx.RetryOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if b, _, err := r.ReadFile(ctx, res.Commit, "apps/web/link.yaml"); err != nil || string(b) != "replicas: 5\n" {
		t.Fatalf("through the link after the write: %q, %v", b, err)
	}
}
