package gitx_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// tenK is a repository of 10,000 files: 100 apps with 100 manifests each.
func tenK() map[string]string {
	files := make(map[string]string, 10000)
	for a := range 100 {
		for f := range 100 {
			files[fmt.Sprintf("apps/app-%03d/manifest-%03d.yaml", a, f)] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-%03d-%03d\ndata:\n  key: value-%d\n", a, f, a*f)
		}
	}
	return files
}

const benchPath = "apps/app-042/manifest-007.yaml"

// BenchmarkCommitAndPush10k: ours. Each op edits one file of a 10,000-file
// repository, commits it from trees and pushes it over smart HTTP (the
// same server and the same work as BenchmarkGitCLI10k).
func BenchmarkCommitAndPush10k(b *testing.B) {
	ctx := context.Background()
	srv := gittest.NewHTTPServer(b)
	srv.CreateRepo(b, "big.git", tenK())
	r, err := gitx.Open(filepath.Join(b.TempDir(), "cache.git"), srv.RepoURLWithCreds("big.git"), gitx.Auth{},
		gitx.WithEnv("GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1"))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Fetch(ctx, "main"); err != nil {
		b.Fatal(err)
	}
	m := gitx.CommitMeta{Subject: "bench", Author: gitx.Signature{Name: "Bench", Email: "bench@example.com"}}
	b.ResetTimer()
	for i := range b.N {
		content := []byte(fmt.Sprintf("data:\n  key: bench-%d\n", i))
		res, err := r.CommitAndPush(ctx, "main", func(gitx.Snapshot) (gitx.Changes, error) {
			return gitx.Changes{Write: map[string][]byte{benchPath: content}}, nil
		}, m, gitx.RetryOpts{})
		if err != nil || res.NoOp {
			b.Fatal(res, err)
		}
	}
	b.StopTimer()
	if got := gittest.Show(b, srv.Dir("big.git"), "main", benchPath); got != fmt.Sprintf("data:\n  key: bench-%d", b.N-1) {
		b.Fatalf("last push missing: %q", got)
	}
}

// BenchmarkGitCLI10k: the git CLI doing the same edit-commit-push on its own
// (non-bare) clone: write the file, `git commit -am`, `git push`.
func BenchmarkGitCLI10k(b *testing.B) {
	srv := gittest.NewHTTPServer(b)
	srv.CreateRepo(b, "big.git", tenK())
	work := filepath.Join(b.TempDir(), "work")
	gittest.Git(b, "", "clone", "--quiet", srv.RepoURLWithCreds("big.git"), work)
	run := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = gittest.Env()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	file := filepath.Join(work, filepath.FromSlash(benchPath))
	b.ResetTimer()
	for i := range b.N {
		if err := os.WriteFile(file, []byte(fmt.Sprintf("data:\n  key: bench-%d\n", i)), 0o644); err != nil {
			b.Fatal(err)
		}
		run("commit", "--quiet", "-am", "bench")
		run("push", "--quiet", "origin", "main")
	}
	b.StopTimer()
	if got := gittest.Show(b, srv.Dir("big.git"), "main", benchPath); got != fmt.Sprintf("data:\n  key: bench-%d", b.N-1) {
		b.Fatalf("last push missing: %q", got)
	}
}
