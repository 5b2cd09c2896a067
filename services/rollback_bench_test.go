package services_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// rollbackBench is a 10,000-file repository with one image deploy to roll
// back, on a warm cache clone.
func rollbackBench(b *testing.B) (*services.Services, context.Context, string) {
	server := gittest.NewHTTPServer(b)
	server.CreateRepo(b, "acme/shop.git", bigRepo())
	svc := setupDeploy(b, server).svc
	ctx := model.WithActor(context.Background(), model.LocalActor("bench"))
	var ids []string
	for _, image := range []string{"ghcr.io/acme/web:1.2.3", "ghcr.io/acme/web:1.2.4"} {
		raw, _ := json.Marshal(map[string]any{"projectId": "proj-shop", "environmentId": "env-prod", "image": image})
		res, err := svc.Registry().Call(ctx, "gitops.deployWithGitOps", raw)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, res.(api.DeployResult).DeploymentID)
	}
	return svc, ctx, ids[1]
}

// BenchmarkRollbackPreview10k is deployments.previewRollback (fetch, read
// the commit's change, three-way merge on the head, diff, kustomize-built
// impact) on a 10,000-file repository; compare with
// BenchmarkRollbackGitCLIPreview10k.
func BenchmarkRollbackPreview10k(b *testing.B) {
	svc, ctx, id := rollbackBench(b)
	raw, _ := json.Marshal(map[string]any{"id": id})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.Registry().Call(ctx, "deployments.previewRollback", raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRollback10k is deployments.rollback (plan, validate, commit from
// trees, push): each iteration rolls back the previous rollback, so each is
// one revert commit pushed; compare with BenchmarkRollbackGitCLI10k.
func BenchmarkRollback10k(b *testing.B) {
	svc, ctx, id := rollbackBench(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		raw, _ := json.Marshal(map[string]any{"id": id})
		res, err := svc.Registry().Call(ctx, "deployments.rollback", raw)
		if err != nil {
			b.Fatal(err)
		}
		id = res.(api.RollbackResult).DeploymentID
	}
}

// gitCLIRevertClone is a clone of the 10,000-file repository whose head
// is an image deploy, and a runner of git in it.
func gitCLIRevertClone(b *testing.B) func(args ...string) {
	run, overlay, orig := bigRepoClone(b)
	for _, tag := range []string{"1.2.3", "1.2.4"} {
		content := string(orig) + "images:\n  - name: ghcr.io/acme/web\n    newTag: " + tag + "\n"
		if err := os.WriteFile(overlay, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
		run("commit", "--quiet", "-am", "deploy(prod): set image ghcr.io/acme/web:"+tag)
	}
	run("push", "--quiet", "origin", "main")
	return run
}

// BenchmarkRollbackGitCLIPreview10k is the preview's anchor: fetch, `git
// revert --no-commit HEAD`, `git diff --cached`, and back with `git reset
// --hard`.
func BenchmarkRollbackGitCLIPreview10k(b *testing.B) {
	run := gitCLIRevertClone(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run("fetch", "--quiet", "origin", "main")
		run("revert", "--no-commit", "HEAD")
		run("diff", "--cached", "--stat")
		run("reset", "--quiet", "--hard", "HEAD")
	}
}

// BenchmarkRollbackGitCLI10k is the rollback's anchor: `git revert
// --no-edit HEAD` and `git push`, each iteration reverting the previous
// revert.
func BenchmarkRollbackGitCLI10k(b *testing.B) {
	run := gitCLIRevertClone(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run("revert", "--no-edit", "HEAD")
		run("push", "--quiet", "origin", "main")
	}
}
