package api

import (
	"strings"

	"github.com/gitopstui/gitopstui/model"
)

// RollbackInput is deployments.rollback's input: the deployment whose commit
// is undone by a new commit on the environment's branch head.
type RollbackInput struct {
	ID            string `json:"id" required:"true" doc:"deployment to roll back (one with a commit: gitops-ui or gitops-git)"`
	CommitMessage string `json:"commitMessage,omitempty" doc:"commit message (default Revert \"<subject>\")"`
	Review        bool   `json:"review,omitempty" doc:"push to a new review branch instead of the environment's branch"`
}

// Validate checks the input beyond types and required fields.
func (in *RollbackInput) Validate(fe model.FieldErrors) {
	if strings.TrimSpace(in.CommitMessage) == "" && in.CommitMessage != "" {
		fe.Add("commitMessage", "must not be blank")
	}
}

// RollbackResult is deployments.rollback's result: deployWithGitOps's
// fields, with the review branch when review was asked for.
type RollbackResult struct {
	DeployResult
	// RollbackOf is the deployment rolled back.
	RollbackOf string `json:"rollbackOf"`
}

// Procedures of rolling a deployment back through Git.
var (
	PreviewRollback = query[IDInput, PreviewResult]("deployments.previewRollback",
		"Show the diff and impact of undoing a deployment's commit on the branch head")
	Rollback = mutation[RollbackInput, RollbackResult]("deployments.rollback", model.RoleOperator,
		"Undo a deployment's commit with a new commit on the environment's branch (or a review branch)")
)
