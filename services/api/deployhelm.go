package api

import (
	"bytes"
	"strings"

	"github.com/gitopstui/gitopstui/model"
)

// checkHelm checks the HelmRelease extensions of a change: values must be a
// JSON object and chartVersion one version or range on one line.
func (c ChangeSet) checkHelm(fe model.FieldErrors, prefix string) {
	if v := bytes.TrimSpace(c.Values); len(v) > 0 && v[0] != '{' {
		fe.Add(prefix+"values", "must be an object of chart values, e.g. {\"replicaCount\":2}")
	}
	if c.ChartVersion != "" && (strings.ContainsAny(c.ChartVersion, "\t\r\n") || len(c.ChartVersion) > 128) {
		fe.Add(prefix+"chartVersion", "must be a chart version or semver range on one line, e.g. 6.5.4 or >=6.0.0 <7.0.0")
	}
}

// IsHelm reports whether the change uses the HelmRelease extensions.
func (c ChangeSet) IsHelm() bool { return len(c.Values) > 0 || c.ChartVersion != "" }

// HelmPreview is previewChanges' extension for an environment whose path
// holds a HelmRelease: the release, the chart versions before and after,
// and the diff of the manifests the chart renders with the old and the new
// values (the top-level diff is the values diff of the files committed).
type HelmPreview struct {
	Release         string  `json:"release"`
	Namespace       string  `json:"namespace"`
	Chart           string  `json:"chart"`
	FromVersion     string  `json:"fromVersion"`
	ToVersion       string  `json:"toVersion"`
	RenderedDiff    string  `json:"renderedDiff"`
	RenderedSummary Summary `json:"renderedSummary"`
}

// DiffHelmReleaseInput is gitops.diffHelmRelease's input: a HelmRelease
// GitOps resource by id, or (an extension) a HelmRelease of an environment
// by name, e.g. one that Git defines and a Kustomization applies.
type DiffHelmReleaseInput struct {
	ID            string `json:"id,omitempty" doc:"id of a helm GitOps resource"`
	EnvironmentID string `json:"environmentId,omitempty" doc:"or: the environment whose cluster runs the release"`
	Name          string `json:"name,omitempty" doc:"with environmentId: the HelmRelease's name"`
	Namespace     string `json:"namespace,omitempty" doc:"with environmentId: the HelmRelease's namespace (default: the one Git gives it)"`
}

// Validate checks the input beyond types and required fields.
func (in *DiffHelmReleaseInput) Validate(fe model.FieldErrors) {
	switch {
	case in.ID != "" && (in.EnvironmentID != "" || in.Name != ""):
		fe.Add("id", "give id, or environmentId and name, not both")
	case in.ID == "" && (in.EnvironmentID == "" || in.Name == ""):
		fe.Add("id", "required (or environmentId and name)")
	}
	if in.Name != "" {
		checkDNSLabel(fe, "name", in.Name)
	}
	if in.Namespace != "" {
		checkDNSLabel(fe, "namespace", in.Namespace)
	}
}

// HelmReleaseDiff is gitops.diffHelmRelease's result: what the release would
// render from Git now against the manifest of its deployed revision in the
// cluster, object by object (helm-controller's origin labels aside).
type HelmReleaseDiff struct {
	Release          string   `json:"release"`
	Namespace        string   `json:"namespace"`
	Chart            string   `json:"chart"`
	GitVersion       string   `json:"gitVersion"`
	DeployedVersion  string   `json:"deployedVersion"`
	DeployedRevision int      `json:"deployedRevision"`
	InSync           bool     `json:"inSync"`
	Diff             string   `json:"diff"`
	Summary          Summary  `json:"summary"`
	Impact           Impact   `json:"impact"`
	Warnings         []string `json:"warnings"`
}

// DiffHelmRelease is the HelmRelease diff procedure.
var DiffHelmRelease = query[DiffHelmReleaseInput, HelmReleaseDiff]("gitops.diffHelmRelease",
	"Diff what a HelmRelease would render from Git now against what its deployed Helm release runs")
