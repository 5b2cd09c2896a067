package api

import (
	"fmt"

	"github.com/gitopstui/gitopstui/model"
)

// PromoteField is one kind of value a promotion copies:
// 'image' | 'replicas' | 'env' | 'resources'.
type PromoteField string

// Promotable fields.
const (
	PromoteImage     PromoteField = "image"
	PromoteReplicas  PromoteField = "replicas"
	PromoteEnv       PromoteField = "env"
	PromoteResources PromoteField = "resources"
)

// Values implements Enum.
func (PromoteField) Values() []string {
	return []string{string(PromoteImage), string(PromoteReplicas), string(PromoteEnv), string(PromoteResources)}
}

// PromotionInput is environments.previewPromotion's input (a gitopstui
// extension of the reference): copy the effective values of the source
// environment's workloads, as kustomize builds them, into the target
// environment's manifests.
type PromotionInput struct {
	FromEnvironmentID string         `json:"fromEnvironmentId" required:"true" doc:"environment to promote from"`
	ToEnvironmentID   string         `json:"toEnvironmentId" required:"true" doc:"environment to promote to"`
	Workload          string         `json:"workload,omitempty" doc:"workload to promote (default: every workload both environments have)"`
	Fields            []PromoteField `json:"fields,omitempty" doc:"what to copy: image, replicas, env, resources (default image)"`
}

// Validate checks the input beyond types and required fields.
func (in *PromotionInput) Validate(fe model.FieldErrors) {
	if in.FromEnvironmentID != "" && in.FromEnvironmentID == in.ToEnvironmentID {
		fe.Add("toEnvironmentId", "must differ from fromEnvironmentId")
	}
	seen := map[PromoteField]bool{}
	for i, f := range in.Fields {
		if seen[f] {
			fe.Add(fmt.Sprintf("fields[%d]", i), fmt.Sprintf("%q is named twice", f))
		}
		seen[f] = true
	}
}

// PromoteFields returns the fields to copy (image when none are named).
func (in PromotionInput) PromoteFields() []PromoteField {
	if len(in.Fields) == 0 {
		return []PromoteField{PromoteImage}
	}
	return in.Fields
}

// FieldDifference is one value the source environment has that the target
// has not. Env values are shown as digests, never as values.
type FieldDifference struct {
	Workload  string       `json:"workload"`
	Container string       `json:"container,omitempty"`
	Field     PromoteField `json:"field"`
	// Name is the variable (env) or the quantity ("requests.cpu").
	Name   string  `json:"name,omitempty"`
	Source *string `json:"source"`
	Target *string `json:"target"`
}

// PromotionPreview is environments.previewPromotion's result: what differs,
// per field, and the commit the target would get, as previewChanges shows it.
type PromotionPreview struct {
	PreviewResult
	FromEnvironmentID string            `json:"fromEnvironmentId"`
	ToEnvironmentID   string            `json:"toEnvironmentId"`
	SourceRevision    string            `json:"sourceRevision"`
	Differences       []FieldDifference `json:"differences"`
}

// PromoteInput is environments.promote's input.
type PromoteInput struct {
	PromotionInput
	CommitMessage string `json:"commitMessage,omitempty" doc:"commit message (default names both environments)"`
	Review        bool   `json:"review,omitempty" doc:"push to a new review branch instead of the environment's branch"`
}

// PromoteResult is environments.promote's result: deployWithGitOps's shape
// with what was copied.
type PromoteResult struct {
	DeployResult
	SourceRevision string            `json:"sourceRevision"`
	Differences    []FieldDifference `json:"differences"`
}

// Promotion procedures.
var (
	PreviewPromotion = query[PromotionInput, PromotionPreview]("environments.previewPromotion",
		"Show what promoting one environment's workloads to another would change, per field and as a diff")
	Promote = mutation[PromoteInput, PromoteResult]("environments.promote", model.RoleOperator,
		"Copy image (replicas, env, resources) of one environment's workloads into another's manifests as a commit")
)
