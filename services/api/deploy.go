package api

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gitopstui/gitopstui/model"
)

// ResourceValues is a container's cpu and memory ("250m", "512Mi"); an
// empty value is left as it is.
type ResourceValues struct {
	CPU    string `json:"cpu,omitempty" doc:"e.g. 200m"`
	Memory string `json:"memory,omitempty" doc:"e.g. 256Mi"`
}

// Resources is a container's requests and limits.
type Resources struct {
	Requests *ResourceValues `json:"requests,omitempty" doc:"requests {cpu, memory}"`
	Limits   *ResourceValues `json:"limits,omitempty" doc:"limits {cpu, memory}"`
}

// ChangeSet is what previewChanges' `changes` holds (resources is an extension).
type ChangeSet struct {
	Image     string             `json:"image,omitempty" doc:"new image, e.g. ghcr.io/acme/web:1.4.2"`
	Replicas  *int32             `json:"replicas,omitempty" doc:"new replica count"`
	Env       map[string]*string `json:"env,omitempty" doc:"environment variables to set (null removes one)" audit:"digest"`
	Resources *Resources         `json:"resources,omitempty" doc:"requests/limits {cpu, memory}"`
	// Values and ChartVersion are gitopstui extensions for environments whose
	// path holds a HelmRelease (see HelmChange).
	Values       json.RawMessage `json:"values,omitempty" doc:"HelmRelease environments: values to merge into the release's values (null removes a key)" audit:"digest"`
	ChartVersion string          `json:"chartVersion,omitempty" doc:"HelmRelease environments: the chart version (or semver range) to deploy"`
}

// Empty reports whether the change changes nothing (resources without a
// value change nothing either).
func (c ChangeSet) Empty() bool {
	return c.Image == "" && c.Replicas == nil && len(c.Env) == 0 && c.Resources.empty() && len(c.Values) == 0 && c.ChartVersion == ""
}

func (r *Resources) empty() bool {
	return r == nil || (r.Requests == nil || *r.Requests == ResourceValues{}) && (r.Limits == nil || *r.Limits == ResourceValues{})
}

// Check reports what is wrong with the change, under prefix (e.g. "changes."):
// the same rules the manifest planner applies, so that a refusal names the
// field as the caller spelled it.
func (c ChangeSet) Check(fe model.FieldErrors, prefix string) {
	if c.Image != "" {
		if p := ImageProblem(c.Image); p != "" {
			fe.Add(prefix+"image", p)
		}
	}
	if c.Replicas != nil && *c.Replicas < 0 {
		fe.Add(prefix+"replicas", "must be 0 or more")
	}
	for k := range c.Env {
		// The API server's rule (printable ASCII but '='), and no blanks.
		if k == "" || strings.ContainsAny(k, "= \t\n") || len(validation.IsRelaxedEnvVarName(k)) > 0 {
			fe.Add(prefix+"env", fmt.Sprintf("%q is not a valid variable name: printable ASCII without '=' or spaces", k))
		}
	}
	c.checkHelm(fe, prefix)
	if r := c.Resources; r != nil {
		for part, v := range map[string]*ResourceValues{"requests": r.Requests, "limits": r.Limits} {
			if v != nil {
				checkQuantity(fe, prefix+"resources."+part+".cpu", v.CPU)
				checkQuantity(fe, prefix+"resources."+part+".memory", v.Memory)
			}
		}
	}
}

// checkQuantity accepts a Kubernetes quantity that is not negative ("" is
// left as it is).
func checkQuantity(fe model.FieldErrors, field, v string) {
	if v == "" {
		return
	}
	if q, err := resource.ParseQuantity(v); err != nil {
		fe.Add(field, fmt.Sprintf("%q is not a quantity (e.g. 250m, 1.5, 512Mi)", v))
	} else if q.Sign() < 0 {
		fe.Add(field, "must not be negative")
	}
}

// PreviewInput is gitops.previewChanges's input.
type PreviewInput struct {
	ProjectID     string    `json:"projectId" required:"true" doc:"project id"`
	EnvironmentID string    `json:"environmentId" required:"true" doc:"environment id"`
	Changes       ChangeSet `json:"changes" doc:"what to change: image, replicas, env (resources too)"`
	Workload      string    `json:"workload,omitempty" doc:"Deployment/StatefulSet/DaemonSet to change (default: the environment as a whole)"`
	Container     string    `json:"container,omitempty" doc:"container to change when the workload has several"`
}

// Validate checks the input beyond types and required fields.
func (in *PreviewInput) Validate(fe model.FieldErrors) {
	if in.Changes.Empty() {
		fe.Add("changes", "name at least one of image, replicas, env, resources")
	}
	in.Changes.Check(fe, "changes.")
}

// Summary counts a diff and lists its files.
type Summary struct {
	Additions int      `json:"additions"`
	Deletions int      `json:"deletions"`
	Files     []string `json:"files"`
}

// Impact is what applying a change does to running pods.
type Impact struct {
	WillRestartPods   bool     `json:"willRestartPods"`
	EstimatedDowntime string   `json:"estimatedDowntime"`
	AffectedResources []string `json:"affectedResources"`
	DowntimeReason    string   `json:"downtimeReason,omitempty"`
	ImmutableChanges  []string `json:"immutableChanges,omitempty"`
}

// Edit is one field changed in one file (nil Old: added; nil New: removed).
type Edit struct {
	Path   string  `json:"path"`
	Object string  `json:"object,omitempty"`
	Field  string  `json:"field"`
	Old    *string `json:"old"`
	New    *string `json:"new"`
	Note   string  `json:"note,omitempty"`
}

// PreviewResult is gitops.previewChanges's result: the files exactly as they
// would be committed, as a diff, with the impact.
type PreviewResult struct {
	Diff         string   `json:"diff"`
	Summary      Summary  `json:"summary"`
	Impact       Impact   `json:"impact"`
	Warnings     []string `json:"warnings"`
	Edits        []Edit   `json:"edits"`
	Workload     string   `json:"workload"`
	BaseRevision string   `json:"baseRevision"`
	Branch       string   `json:"branch"`
	// Helm is a gitopstui extension, set when the path holds a HelmRelease.
	Helm *HelmPreview `json:"helm,omitempty"`
}

// DeployInput is gitops.deployWithGitOps's input: the change at the top level.
type DeployInput struct {
	ProjectID     string             `json:"projectId" required:"true" doc:"project id"`
	EnvironmentID string             `json:"environmentId" required:"true" doc:"environment id"`
	Image         string             `json:"image,omitempty" doc:"new image, e.g. ghcr.io/acme/web:1.4.2"`
	Replicas      *int32             `json:"replicas,omitempty" doc:"new replica count"`
	Env           map[string]*string `json:"env,omitempty" doc:"environment variables to set (null removes one)" audit:"digest"`
	Resources     *Resources         `json:"resources,omitempty" doc:"requests/limits {cpu, memory}"`
	// Values and ChartVersion are gitopstui extensions (see ChangeSet).
	Values        json.RawMessage `json:"values,omitempty" doc:"HelmRelease environments: values to merge into the release's values (null removes a key)" audit:"digest"`
	ChartVersion  string          `json:"chartVersion,omitempty" doc:"HelmRelease environments: the chart version (or semver range) to deploy"`
	CommitMessage string          `json:"commitMessage,omitempty" doc:"commit message (default a conventional one)"`
	Workload      string          `json:"workload,omitempty" doc:"workload to change (default: the environment as a whole)"`
	Container     string          `json:"container,omitempty" doc:"container to change when the workload has several"`
	// AllowOutsidePath is a gitopstui extension: the change may write outside the environment's gitPath (admins only).
	AllowOutsidePath bool `json:"allowOutsidePath,omitempty" doc:"gitopstui extension, admins only: also write files outside the environment's gitPath"`
	// Review is a gitopstui extension: push to a new branch for review instead of the environment's branch.
	Review bool `json:"review,omitempty" doc:"gitopstui extension: push to a new review branch (gitopstui/<environment>/<id>) instead of the environment's branch"`
}

// Change returns the input's change.
func (in DeployInput) Change() ChangeSet {
	return ChangeSet{Image: in.Image, Replicas: in.Replicas, Env: in.Env, Resources: in.Resources, Values: in.Values, ChartVersion: in.ChartVersion}
}

// Validate checks the input beyond types and required fields.
func (in *DeployInput) Validate(fe model.FieldErrors) {
	if in.Change().Empty() {
		fe.Add("image", "name at least one of image, replicas, env, resources (values, chartVersion for a HelmRelease)")
	}
	in.Change().Check(fe, "")
}

// DeployResult is gitops.deployWithGitOps's result.
type DeployResult struct {
	DeploymentID string   `json:"deploymentId"`
	CommitSha    string   `json:"commitSha"`
	GitURL       string   `json:"gitUrl"`
	Message      string   `json:"message"`
	Branch       string   `json:"branch"`
	Attempts     int      `json:"attempts"`
	Warnings     []string `json:"warnings"`
	// ReviewBranch and CompareURL are set when the commit went to a review branch.
	ReviewBranch string `json:"reviewBranch,omitempty"`
	CompareURL   string `json:"compareUrl,omitempty"`
}

// CommitConfigInput is gitops.commitConfigChanges's input.
type CommitConfigInput struct {
	ProjectID         string `json:"projectId" required:"true" doc:"project id"`
	EnvironmentID     string `json:"environmentId" required:"true" doc:"environment id"`
	YAML              string `json:"yaml" required:"true" doc:"complete YAML content: objects of the environment as kustomize builds it" audit:"digest"`
	CommitMessage     string `json:"commitMessage" required:"true" doc:"commit subject"`
	CommitDescription string `json:"commitDescription,omitempty" doc:"commit body"`
	File              string `json:"file,omitempty" doc:"replace this one file with yaml instead"`
	BaseRevision      string `json:"baseRevision,omitempty" doc:"commit the edit started from: upstream changes since are a conflict"`
	// AllowOutsidePath is a gitopstui extension: file (or the placement) may lie outside the environment's gitPath (admins only).
	AllowOutsidePath bool `json:"allowOutsidePath,omitempty" doc:"gitopstui extension, admins only: file may lie outside the environment's gitPath"`
}

// Validate checks the input beyond types and required fields.
func (in *CommitConfigInput) Validate(fe model.FieldErrors) {
	if in.File != "" {
		checkGitPath(fe, "file", in.File)
	}
	if in.BaseRevision != "" && !isHexSHA(in.BaseRevision) {
		fe.Add("baseRevision", "must be a commit SHA")
	}
	if strings.ContainsAny(in.CommitMessage, "\n\r") {
		fe.Add("commitMessage", "must be one line; put details in commitDescription")
	}
}

// CommitConfigResult is gitops.commitConfigChanges's result.
type CommitConfigResult struct {
	CommitSha string   `json:"commitSha"`
	GitURL    string   `json:"gitUrl"`
	Branch    string   `json:"branch"`
	File      string   `json:"file"`
	Files     []string `json:"files"`
}

// ValidateYAMLInput is gitops.validateYAML's input.
type ValidateYAMLInput struct {
	YAML string `json:"yaml" required:"true" doc:"one or more YAML documents" audit:"digest"`
	// File is an extension: the name of the file the YAML is for, so that a
	// kustomization.yaml is read as kustomize reads it (without apiVersion
	// and kind).
	File string `json:"file,omitempty" doc:"the file the YAML is for (kustomization.yaml needs no apiVersion or kind)"`
}

// YAMLError is one error of gitops.validateYAML.
type YAMLError struct {
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Message  string `json:"message"`
	Document int    `json:"document"`
	Field    string `json:"field,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Name     string `json:"name,omitempty"`
}

// YAMLWarning is one warning of gitops.validateYAML.
type YAMLWarning struct {
	Message    string `json:"message"`
	Suggestion string `json:"suggestion"`
	Line       int    `json:"line"`
	Column     int    `json:"column"`
	Document   int    `json:"document"`
	Field      string `json:"field,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Name       string `json:"name,omitempty"`
}

// ValidateResult is gitops.validateYAML's result; valid is true when there
// are no errors (warnings do not make a document invalid).
type ValidateResult struct {
	Valid     bool          `json:"valid"`
	Errors    []YAMLError   `json:"errors"`
	Warnings  []YAMLWarning `json:"warnings"`
	Documents int           `json:"documents"`
}

// ReadConfigInput is gitops.readConfig's input.
type ReadConfigInput struct {
	EnvironmentID string `json:"environmentId" required:"true" doc:"environment id"`
	File          string `json:"file,omitempty" doc:"file to read (default the environment's manifest)"`
}

// ConfigFile is a manifest file at a revision.
type ConfigFile struct {
	File     string   `json:"file"`
	YAML     string   `json:"yaml"`
	Revision string   `json:"revision"`
	Branch   string   `json:"branch"`
	Files    []string `json:"files"`
}

// Procedures of deploying through Git.
var (
	PreviewChanges = query[PreviewInput, PreviewResult]("gitops.previewChanges",
		"Show the diff and impact of a change before it is committed")
	DeployWithGitOps = mutation[DeployInput, DeployResult]("gitops.deployWithGitOps", model.RoleOperator,
		"Commit and push a change to the environment's manifests; Flux applies it")
	CommitConfigChanges = mutation[CommitConfigInput, CommitConfigResult]("gitops.commitConfigChanges", model.RoleOperator,
		"Validate and commit complete YAML (or one file) to the environment's manifests")
	ReadConfig = query[ReadConfigInput, ConfigFile]("gitops.readConfig",
		"Read an environment's manifest file at the branch head")
	ValidateYAML = query[ValidateYAMLInput, ValidateResult]("gitops.validateYAML",
		"Validate YAML: syntax, schema of built-in and Flux kinds, warnings")
)
