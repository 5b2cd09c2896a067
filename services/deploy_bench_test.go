package services_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// bigRepo is shopRepo plus 10,000 other files, as a monorepo would have.
func bigRepo() map[string]string {
	files := map[string]string{}
	for k, v := range shopRepo {
		files[k] = v
	}
	for i := 0; i < 10000; i++ {
		files[fmt.Sprintf("teams/t%02d/app%03d/config-%d.yaml", i%50, i%200, i)] = fmt.Sprintf("key: value-%d\n", i)
	}
	return files
}

// BenchmarkDeployWithGitOps10k is deployWithGitOps (plan, validate, commit
// from trees, push) on a 10,000-file repository; compare with
// BenchmarkDeployGitCLI10k, the git CLI doing the same edit on its own clone.
func BenchmarkDeployWithGitOps10k(b *testing.B) {
	server := gittest.NewHTTPServer(b)
	server.CreateRepo(b, "acme/shop.git", bigRepo())
	d := setupDeploy(b, server).svc
	ctx := model.WithActor(context.Background(), model.LocalActor("bench"))
	// Warm the cache clone: the first fetch is not what we measure.
	warm, _ := json.Marshal(map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "replicas": 1000})
	if _, err := d.Registry().Call(ctx, "gitops.deployWithGitOps", warm); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		raw, _ := json.Marshal(map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "replicas": i + 1})
		if _, err := d.Registry().Call(ctx, "gitops.deployWithGitOps", raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeployGitCLI10k is the anchor: edit the overlay, git commit -am, git push.
func BenchmarkDeployGitCLI10k(b *testing.B) {
	run, overlay, orig := bigRepoClone(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		content := string(orig) + fmt.Sprintf("replicas:\n  - name: web\n    count: %d\n", i+1)
		if err := os.WriteFile(overlay, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
		run("commit", "--quiet", "-am", fmt.Sprintf("deploy(prod): set replicas %d", i+1))
		run("push", "--quiet", "origin", "main")
	}
}

// bigRepoClone is a git CLI clone of the 10,000-file repository on a real
// git server: a runner of git in it, the prod overlay's path and content.
func bigRepoClone(b *testing.B) (run func(args ...string), overlay string, orig []byte) {
	server := gittest.NewHTTPServer(b)
	server.CreateRepo(b, "acme/shop.git", bigRepo())
	dir := filepath.Join(b.TempDir(), "clone")
	env := append(gittest.Env(), "GIT_TERMINAL_PROMPT=0")
	run = func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	run("clone", "--quiet", server.RepoURLWithCreds("acme/shop.git"), ".")
	overlay = filepath.Join(dir, "k8s/overlays/prod/kustomization.yaml")
	orig, err := os.ReadFile(overlay)
	if err != nil {
		b.Fatal(err)
	}
	return run, overlay, orig
}
