package api

import (
	"time"

	"github.com/gitopstui/gitopstui/model"
)

// FleetInput filters gitops.listFleet: every GitOps resource of every
// registered cluster, managed by gitopstui or not.
type FleetInput struct {
	ClusterID     string       `json:"clusterId,omitempty" doc:"only this cluster"`
	ProjectID     string       `json:"projectId,omitempty" doc:"only resources of this project (managed by gitopstui)"`
	EnvironmentID string       `json:"environmentId,omitempty" doc:"only resources of this environment (managed by gitopstui)"`
	Type          ResourceType `json:"type,omitempty" doc:"only this type"`
	Status        string       `json:"status,omitempty" doc:"only this status (ready, reconciling, failed, pending, suspended, unknown)"`
	NotReady      bool         `json:"notReady,omitempty" doc:"only resources not ready, on any cluster"`
}

// Validate checks the input beyond types and required fields.
func (in *FleetInput) Validate(fe model.FieldErrors) {
	switch in.Status {
	case "", model.StatusReady, model.StatusReconciling, model.StatusFailed, model.StatusPending, model.StatusSuspended, model.StatusUnknown:
	default:
		fe.Add("status", "must be one of ready, reconciling, failed, pending, suspended, unknown")
	}
}

// FleetCluster is one registered cluster of the fleet: whether it answers,
// and whether its rows are live (its informers run) or read once.
type FleetCluster struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Reachable bool      `json:"reachable"`
	Error     string    `json:"error,omitempty"`
	Live      bool      `json:"live"`
	Resources int       `json:"resources"`
	CheckedAt time.Time `json:"checkedAt"`
}

// FleetItem is one Kustomization or HelmRelease on a cluster. ResourceID,
// ProjectID and EnvironmentID are set when gitopstui manages it. Stale
// says the cluster does not answer: the row is what it last said.
type FleetItem struct {
	ClusterID         string `json:"clusterId"`
	Type              string `json:"type"`
	Namespace         string `json:"namespace"`
	Name              string `json:"name"`
	Status            string `json:"status"`
	Suspended         bool   `json:"suspended"`
	Revision          string `json:"revision,omitempty"`
	AttemptedRevision string `json:"attemptedRevision,omitempty"`
	Message           string `json:"message,omitempty"`
	Source            string `json:"source,omitempty"`
	Path              string `json:"path,omitempty"`
	ResourceID        string `json:"resourceId,omitempty"`
	ProjectID         string `json:"projectId,omitempty"`
	EnvironmentID     string `json:"environmentId,omitempty"`
	Stale             bool   `json:"stale,omitempty"`
}

// Key is the item's identity in the fleet: cluster, type, namespace, name.
func (f FleetItem) Key() string {
	return f.ClusterID + "/" + f.Type + "/" + f.Namespace + "/" + f.Name
}

// SkewRun is the revision one Kustomization runs of a repository path.
type SkewRun struct {
	ClusterID     string `json:"clusterId"`
	EnvironmentID string `json:"environmentId,omitempty"`
	Resource      string `json:"resource"`
	Revision      string `json:"revision"`
	// Behind is how many commits the revision is behind the branch head
	// (0: at the head; -1: not known, as when the revision is not in the
	// branch's history or Git was not reachable).
	Behind int `json:"behind"`
}

// Skew is, for one repository, branch and path, which clusters and
// environments run which revision, against the branch head.
type Skew struct {
	URL    string    `json:"url"`
	Branch string    `json:"branch"`
	Path   string    `json:"path"`
	Head   string    `json:"head,omitempty"`
	Runs   []SkewRun `json:"runs"`
	// Skewed: not every run is at the same revision.
	Skewed bool `json:"skewed"`
}

// FleetResult is gitops.listFleet's result.
type FleetResult struct {
	Clusters  []FleetCluster `json:"clusters"`
	Resources []FleetItem    `json:"resources"`
	Skew      []Skew         `json:"skew"`
}

// FleetEvent is a live change of the fleet: a cluster's reachability, or a
// resource added, changed or gone (Deleted).
type FleetEvent struct {
	Cluster *FleetCluster `json:"cluster,omitempty"`
	Item    *FleetItem    `json:"item,omitempty"`
	Deleted bool          `json:"deleted,omitempty"`
}

// ListFleet lists the fleet.
var ListFleet = query[FleetInput, FleetResult]("gitops.listFleet",
	"List every Kustomization and HelmRelease of every cluster, with each cluster's reachability and the revision skew")
