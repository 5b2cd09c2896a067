package api

import (
	"time"

	"github.com/gitopstui/gitopstui/model"
)

// InstallFluxInput is gitops.installFlux's input.
type InstallFluxInput struct {
	ClusterID     string `json:"clusterId" required:"true" doc:"K3s cluster id"`
	Namespace     string `json:"namespace,omitempty" doc:"Flux namespace (default flux-system)"`
	Version       string `json:"version,omitempty" doc:"embedded Flux version (default the newest)"`
	Registry      string `json:"registry,omitempty" doc:"pull controller images from this registry (air-gapped clusters)"`
	ManifestsPath string `json:"manifestsPath,omitempty" doc:"install your own 'flux install --export' file instead"`
}

// Validate checks the input beyond types and required fields.
func (in *InstallFluxInput) Validate(fe model.FieldErrors) {
	checkDNSLabel(fe, "namespace", in.Namespace)
	if in.ManifestsPath != "" && in.Version != "" {
		fe.Add("version", "not with manifestsPath: the file says which version it installs")
	}
}

// ComponentStatus is one Flux controller after an install.
type ComponentStatus struct {
	Name    string `json:"name"`
	Status  string `json:"status" doc:"ready | pending | failed"`
	Version string `json:"version,omitempty"`
	Image   string `json:"image,omitempty"`
	Message string `json:"message,omitempty"`
}

// InstallFluxResult is gitops.installFlux's result.
type InstallFluxResult struct {
	Success    bool              `json:"success"`
	Version    string            `json:"version"`
	Components []ComponentStatus `json:"components"`
	Namespace  string            `json:"namespace"`
	Applied    int               `json:"applied"`
}

// ClusterInput selects a cluster.
type ClusterInput struct {
	ClusterID string `json:"clusterId" required:"true" doc:"cluster id"`
}

// UninstallFluxInput is gitops.uninstallFlux's input.
type UninstallFluxInput struct {
	ClusterID       string `json:"clusterId" required:"true" doc:"cluster id"`
	DeleteNamespace bool   `json:"deleteNamespace,omitempty" doc:"also delete Flux's namespace (default false)"`
}

// UninstallFluxResult is gitops.uninstallFlux's result.
type UninstallFluxResult struct {
	Success           bool     `json:"success"`
	Message           string   `json:"message"`
	Namespace         string   `json:"namespace"`
	Deleted           []string `json:"deleted"`
	FinalizersRemoved int      `json:"finalizersRemoved"`
	NamespaceDeleted  bool     `json:"namespaceDeleted"`
}

// Condition is a Kubernetes status condition as the reference writes it.
type Condition struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	Reason             string `json:"reason"`
	Message            string `json:"message"`
	LastTransitionTime string `json:"lastTransitionTime"`
}

// ComponentHealth is one Flux controller as `flux check` sees it.
type ComponentHealth struct {
	Name          string      `json:"name"`
	Ready         bool        `json:"ready"`
	Replicas      int32       `json:"replicas"`
	ReadyReplicas int32       `json:"readyReplicas"`
	Conditions    []Condition `json:"conditions"`
	Image         string      `json:"image,omitempty"`
	Status        string      `json:"status"`
	Message       string      `json:"message,omitempty"`
}

// CRDHealth is one Flux CRD.
type CRDHealth struct {
	Name        string `json:"name"`
	Established bool   `json:"established"`
}

// FluxHealth is gitops.checkFluxHealth's result.
type FluxHealth struct {
	Overall    Health            `json:"overall"`
	Components []ComponentHealth `json:"components"`
	Version    string            `json:"version,omitempty"`
	Namespace  string            `json:"namespace"`
	CRDs       []CRDHealth       `json:"crds"`
	Message    string            `json:"message,omitempty"`
	CheckedAt  time.Time         `json:"checkedAt"`
}

// Procedures of Flux's lifecycle.
var (
	InstallFlux = mutation[InstallFluxInput, InstallFluxResult]("gitops.installFlux", model.RoleAdmin,
		"Install Flux on a cluster from the embedded bundle (or your own export)")
	CheckFluxHealth = query[ClusterInput, FluxHealth]("gitops.checkFluxHealth",
		"Check Flux's controllers and CRDs like `flux check`")
	UninstallFlux = mutation[UninstallFluxInput, UninstallFluxResult]("gitops.uninstallFlux", model.RoleAdmin,
		"Uninstall Flux like `flux uninstall` (applied workloads keep running)")
)
