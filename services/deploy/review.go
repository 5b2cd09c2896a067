package deploy

import (
	"context"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/internal/ident"
)

// pushed is where the commit of a deploy, rollback or promotion went: the
// environment's branch, or with review a new branch of its own.
type pushed struct {
	gitx.PushResult
	// ReviewBranch is the branch pushed to for review ("" when the commit
	// went to the environment's branch), CompareURL its web page against
	// that branch and ReviewTree the tree of the environment's gitPath in
	// the commit ("" for a direct push).
	ReviewBranch string
	CompareURL   string
	ReviewTree   string
}

// reviewBranch is the branch a deployment's commit goes to for review:
// gitopstui/<environment>/<short id>, the environment's name as a slug (its
// id when the name has no letters or digits) and the deployment id without
// its "dep-" prefix.
func reviewBranch(env model.Environment, deploymentID string) string {
	name := ident.Slug(env.Name)
	if name == "" {
		name = ident.Slug(env.ID)
	}
	return "gitopstui/" + name + "/" + strings.TrimPrefix(deploymentID, "dep-")
}

// commitOrReview commits what intent computes on the head of the
// environment's branch. Without review it pushes to that branch, re-running
// intent on a new head when the push loses a race (gitx.CommitAndPush with
// up to 10 attempts). With review it pushes the commit, whose parent is the
// branch head, to the new branch reviewBranch(t.env, deploymentID) and never
// to the environment's branch; the result then names the branch, its
// compare URL (GitHub, GitLab, Gitea, Bitbucket, Azure DevOps forms) and the
// tree of t.path in the commit, which the status watcher matches against
// the commits Flux applies (merge, squash and rebase merges alike). A NoOp
// result pushed nothing. deploymentID is the id the caller will record the
// deployment under (ident.New("dep")); record it with pushed.applyTo.
func (s *Deploy) commitOrReview(ctx context.Context, t gitTarget, review bool, deploymentID string, intent gitx.Intent, meta gitx.CommitMeta) (pushed, error) {
	if !review {
		res, err := t.git.CommitAndPush(ctx, t.branch, intent, meta, gitx.RetryOpts{MaxAttempts: 10})
		return pushed{PushResult: res}, err
	}
	branch := reviewBranch(t.env, deploymentID)
	res, err := t.git.CommitAndPushBranch(ctx, t.branch, branch, intent, meta)
	if err != nil || res.NoOp {
		return pushed{PushResult: res}, err
	}
	tree, err := t.git.TreeAt(ctx, res.Commit, t.path)
	if err != nil {
		return pushed{PushResult: res}, err
	}
	return pushed{PushResult: res, ReviewBranch: branch, CompareURL: gitx.CompareURL(t.repo.URL, t.branch, branch), ReviewTree: tree}, nil
}

// applyTo records where the commit went on the pending deployment d: its
// commit, and for a review the branch, compare URL and the tree to match.
func (p pushed) applyTo(d *model.Deployment, t gitTarget) {
	d.GitCommitSha, d.GitCommitURL = p.Commit, gitx.CommitURL(t.repo.URL, p.Commit)
	if p.ReviewBranch == "" {
		return
	}
	d.ReviewBranch, d.CompareURL, d.ReviewCommitSha = p.ReviewBranch, p.CompareURL, p.Commit
	d.ReviewPath, d.ReviewTree = cleanGitPath(t.path), p.ReviewTree
}

// TreeAt is the hash of the tree at path in commit sha of repository
// repositoryID ("" when path is absent there), fetching the commit when
// the cache lacks it. The status watcher calls it to recognise a merged
// review (see model.Deployment.ReviewTree).
func (s *Deploy) TreeAt(ctx context.Context, repositoryID, sha, path string) (string, error) {
	repo, err := s.catalog.Repository(repositoryID)
	if err != nil {
		return "", err
	}
	auth, err := s.gitAuth(ctx, repo)
	if err != nil {
		return "", err
	}
	r, err := s.git.Repo(repo.ID, repo.URL, auth)
	if err != nil {
		return "", err
	}
	return r.TreeAt(ctx, sha, path)
}
