package gitx_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

var seed = map[string]string{
	"README.md":                           "# fleet\n",
	"apps/web/deployment.yaml":            "replicas: 1\nimage: web:1.0\n",
	"apps/web/service.yaml":               "port: 80\n",
	"apps/api/deployment.yaml":            "replicas: 2\n",
	"clusters/prod/kustomization.yaml":    "resources: [../../apps]\n",
	"clusters/prod/patches/replicas.yaml": "replicas: 3\n",
}

// newHTTP starts a server with repository "fleet.git" and opens a cache
// clone authenticated through an environment variable.
func newHTTP(t *testing.T) (*gittest.HTTPServer, *gitx.Repo) {
	t.Helper()
	srv := gittest.NewHTTPServer(t)
	srv.CreateRepo(t, "fleet.git", seed)
	return srv, openHTTP(t, srv, "fleet.git")
}

func openHTTP(t *testing.T, srv *gittest.HTTPServer, name string) *gitx.Repo {
	t.Helper()
	r, err := gitx.Open(filepath.Join(t.TempDir(), "cache.git"), srv.RepoURL(name),
		gitx.Auth{Username: srv.User, PasswordEnv: "FLEET_TOKEN", NoCredentialHelper: true},
		gitx.WithEnv("FLEET_TOKEN="+srv.Password, "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func meta(subject string) gitx.CommitMeta {
	return gitx.CommitMeta{Subject: subject, Author: gitx.Signature{Name: "Ada", Email: "ada@example.com"}}
}

func wantCode(t *testing.T, err error, code model.Code) *model.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s, got nil", code)
	}
	e := model.AsError(err)
	if e.Code != code {
		t.Fatalf("want %s, got %s: %v", code, e.Code, err)
	}
	return e
}

func TestReadTreeAndFile(t *testing.T) {
	ctx := context.Background()
	srv, r := newHTTP(t)
	files, head, err := r.ReadTree(ctx, "main", "apps/web")
	if err != nil {
		t.Fatal(err)
	}
	if want := gittest.Log(t, srv.Dir("fleet.git"), "main")[0]; head != want {
		t.Fatalf("head %s, want %s", head, want)
	}
	if len(files) != 2 || string(files["apps/web/deployment.yaml"]) != seed["apps/web/deployment.yaml"] || string(files["apps/web/service.yaml"]) != "port: 80\n" {
		t.Fatalf("files %v", files)
	}
	all, _, err := r.ReadTree(ctx, head, "")
	if err != nil || len(all) != len(seed) {
		t.Fatalf("whole tree: %d files, %v", len(all), err)
	}
	one, _, err := r.ReadTree(ctx, head, "README.md")
	if err != nil || len(one) != 1 || string(one["README.md"]) != "# fleet\n" {
		t.Fatalf("file as tree: %v %v", one, err)
	}
	b, h2, err := r.ReadFile(ctx, head, "clusters/prod/patches/replicas.yaml")
	if err != nil || h2 != head || string(b) != "replicas: 3\n" {
		t.Fatalf("ReadFile = %q %s %v", b, h2, err)
	}
	_, _, err = r.ReadFile(ctx, head, "nope.yaml")
	wantCode(t, err, model.CodeNotFound)
	_, _, err = r.ReadTree(ctx, head, "apps/nope")
	wantCode(t, err, model.CodeNotFound)
	_, _, err = r.ReadTree(ctx, "nobranch", "")
	wantCode(t, err, model.CodeNotFound)
	_, _, err = r.ReadTree(ctx, "-bad", "")
	wantCode(t, err, model.CodeBadRequest)
}

func TestCommitFromTreesThenPush(t *testing.T) {
	ctx := context.Background()
	srv, r := newHTTP(t)
	dir := srv.Dir("fleet.git")
	base := gittest.Log(t, dir, "main")[0]
	when := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	sha, err := r.Commit(ctx, "main", gitx.Changes{
		Write: map[string][]byte{
			"apps/web/deployment.yaml": []byte("replicas: 4\nimage: web:1.1\n"),
			"apps/new/config.yaml":     []byte("new: true\n"),
		},
		Delete: []string{"clusters/prod/patches/replicas.yaml", "apps/api"},
	}, gitx.CommitMeta{
		Subject: "deploy web 1.1", Body: "Requested in the UI.\n\nSecond paragraph.",
		Author: gitx.Signature{Name: "Ada", Email: "ada@example.com", When: when},
	})
	if err != nil {
		t.Fatal(err)
	}
	// nothing moved on the remote yet
	if got := gittest.Log(t, dir, "main")[0]; got != base {
		t.Fatalf("remote moved before push: %s", got)
	}
	if err := r.Push(ctx, "main", sha); err != nil {
		t.Fatal(err)
	}
	if got := gittest.Log(t, dir, "main"); got[0] != sha || got[1] != base || len(got) != 2 {
		t.Fatalf("remote log %v, want [%s %s]", got, sha, base)
	}
	gittest.Git(t, dir, "fsck", "--strict", "--no-dangling")
	if got := gittest.Git(t, dir, "log", "-1", "--format=%an <%ae>|%cn|%at|%B", sha); got != "Ada <ada@example.com>|Ada|"+"1741064767"+"|deploy web 1.1\n\nRequested in the UI.\n\nSecond paragraph." {
		t.Fatalf("commit metadata: %q", got)
	}
	if got := gittest.Git(t, dir, "ls-tree", "-r", "--name-only", sha); got != strings.Join([]string{
		"README.md", "apps/new/config.yaml", "apps/web/deployment.yaml", "apps/web/service.yaml", "clusters/prod/kustomization.yaml",
	}, "\n") {
		t.Fatalf("tree:\n%s", got)
	}
	if got := gittest.Show(t, dir, sha, "apps/web/deployment.yaml"); got != "replicas: 4\nimage: web:1.1" {
		t.Fatalf("content %q", got)
	}
	// unchanged subtrees are reused, not rewritten
	if a, b := gittest.Git(t, dir, "rev-parse", base+":clusters/prod/kustomization.yaml"), gittest.Git(t, dir, "rev-parse", sha+":clusters/prod/kustomization.yaml"); a != b {
		t.Fatal("unchanged blob rewritten")
	}
	// pushing the same commit again is a no-op; pushing its parent is refused (no force)
	if err := r.Push(ctx, "main", sha); err != nil {
		t.Fatal(err)
	}
	err = r.Push(ctx, "main", base)
	e := wantCode(t, err, model.CodeConflictDetected)
	if !errors.Is(err, gitx.ErrNonFastForward) {
		t.Fatalf("not ErrNonFastForward: %v", e)
	}
	if got := gittest.Log(t, dir, "main")[0]; got != sha {
		t.Fatal("remote rewound")
	}
}

func TestCommitValidation(t *testing.T) {
	ctx := context.Background()
	_, r := newHTTP(t)
	cases := map[string]gitx.Changes{
		"dotdot":        {Write: map[string][]byte{"../x": nil}},
		"absolute":      {Write: map[string][]byte{"/x": nil}},
		"dotgit":        {Write: map[string][]byte{".git/config": nil}},
		"write+delete":  {Write: map[string][]byte{"a/b": nil}, Delete: []string{"a/b"}},
		"delete parent": {Write: map[string][]byte{"a/b": nil}, Delete: []string{"a"}},
		"file is dir":   {Write: map[string][]byte{"apps/web": []byte("x")}},
		"under a file":  {Write: map[string][]byte{"README.md/x": []byte("x")}},
	}
	for name, ch := range cases {
		_, err := r.Commit(ctx, "main", ch, meta("x"))
		wantCode(t, err, model.CodeBadRequest)
		_ = name
	}
	_, err := r.Commit(ctx, "main", gitx.Changes{Write: map[string][]byte{"README.md": []byte("# fleet\n")}}, meta("same"))
	wantCode(t, err, model.CodeBadRequest)
	_, err = r.Commit(ctx, "main", gitx.Changes{Write: map[string][]byte{"x": nil}}, gitx.CommitMeta{})
	wantCode(t, err, model.CodeBadRequest)
}

func TestCompactKeepsCacheUsable(t *testing.T) {
	ctx := context.Background()
	srv, a := newHTTP(t)
	b := openHTTP(t, srv, "fleet.git")
	// every push by b makes a fetch by a add a pack
	for i := range 3 {
		if _, err := b.CommitAndPush(ctx, "main", setFile("n.txt", fmt.Sprint(i)), meta("n"), gitx.RetryOpts{}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Fetch(ctx, "main"); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	packs, _ := filepath.Glob(filepath.Join(a.Dir(), "objects", "pack", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("%d packs after compact", len(packs))
	}
	res, err := a.CommitAndPush(ctx, "main", setFile("n.txt", "after"), meta("after compact"), gitx.RetryOpts{})
	if err != nil || res.Attempts != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	if got, _, err := a.ReadFile(ctx, res.Commit, "apps/web/service.yaml"); err != nil || string(got) != "port: 80\n" {
		t.Fatalf("%q %v", got, err)
	}
}
