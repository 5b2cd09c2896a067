package ui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// Rollback: r on a deployment in the history previews undoing its commit
// on the environment's branch head (deployments.previewRollback); enter
// commits the revert (b pushes it to a review branch) and the progress
// follows it through Flux like a deploy.

// rollbackTag marks the environment loaded for a rollback; the deployment
// id follows it.
const rollbackTag = "rollback:"

// rollbackable says why d cannot be rolled back ("" when it can).
func rollbackable(d model.Deployment) string {
	switch {
	case d.GitCommitSha == "":
		return "deployment " + d.ID + " has no commit to undo (" + d.DeploymentMethod + ")"
	case d.ReviewBranch != "" && d.Status == model.DeployPending:
		return "deployment " + d.ID + " waits for review on " + d.ReviewBranch + ": delete the branch instead"
	}
	return ""
}

// startRollback loads d's environment; the history then opens the preview.
func startRollback(s *session, to int, d model.Deployment) tea.Cmd {
	if why := rollbackable(d); why != "" {
		return fail(model.Errorf(model.CodeBadRequest, "%s", why))
	}
	return invoke(s, to, rollbackTag+d.ID, api.GetEnvironment, api.IDInput{ID: d.EnvironmentID})
}

// newRollbackPreview is the preview screen of rolling deployment d back.
func newRollbackPreview(s *session, p model.Project, env model.Environment, d model.Deployment) *previewScreen {
	v := &previewScreen{base: newBase(s), p: p, env: env, tg: newTarget(env), what: "roll back"}
	head := "undo " + shortSHA(d.GitCommitSha) + " " + oneLine(d.Message)
	v.load = func() tea.Cmd {
		return invokeAs(s, v.sid, api.PreviewRollback, api.IDInput{ID: d.ID}, func(r api.PreviewResult) previewed {
			return previewed{res: r, extra: []string{s.styles.Label.Render(head)}}
		})
	}
	v.commit = func(review bool) screen {
		return newProgress(s, p, env, "Roll back", func(to int) tea.Cmd {
			return invokeAs(s, to, api.Rollback, api.RollbackInput{ID: d.ID, Review: review},
				func(r api.RollbackResult) api.DeployResult { return r.DeployResult })
		}, v.tg)
	}
	return v
}
