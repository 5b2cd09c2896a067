package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gitopstui/gitopstui/model"
)

// timeKey orders records by time: fixed-width so that byte order is time order.
func timeKey(t time.Time) string { return fmt.Sprintf("%020d", t.UnixNano()) }

// The collections of the catalog, the resources and the history.
var (
	Clusters = NewCollection("clusters", "cluster",
		func(v model.Cluster) string { return v.ID },
		func(v model.Cluster) string { return v.Name })
	Projects = NewCollection("projects", "project",
		func(v model.Project) string { return v.ID },
		func(v model.Project) string { return v.Name })
	Environments = NewCollection("environments", "environment",
		func(v model.Environment) string { return v.ID },
		func(v model.Environment) string { return v.Name },
		Index[model.Environment]{Name: "project", Key: func(v model.Environment) (string, bool) { return v.ProjectID, true }},
		Index[model.Environment]{Name: "cluster", Key: func(v model.Environment) (string, bool) { return v.ClusterID, true }},
	)
	Repositories = NewCollection("repositories", "repository",
		func(v model.Repository) string { return v.ID },
		func(v model.Repository) string { return v.FullName },
		Index[model.Repository]{Name: "project", Key: func(v model.Repository) (string, bool) { return v.ProjectID, true }},
	)
	Resources = NewCollection("resources", "gitops resource",
		func(v model.GitOpsResource) string { return v.ID },
		func(v model.GitOpsResource) string { return timeKey(v.CreatedAt) },
		Index[model.GitOpsResource]{Name: "project", Key: func(v model.GitOpsResource) (string, bool) { return v.ProjectID, v.DeletedAt == nil }},
		Index[model.GitOpsResource]{Name: "environment", Key: func(v model.GitOpsResource) (string, bool) { return v.EnvironmentID, v.DeletedAt == nil }},
		Index[model.GitOpsResource]{Name: "type", Key: func(v model.GitOpsResource) (string, bool) { return v.Type, v.DeletedAt == nil }},
		Index[model.GitOpsResource]{Name: "live", Key: func(v model.GitOpsResource) (string, bool) { return "", v.DeletedAt == nil }},
	)
	Deployments = NewCollection("deployments", "deployment",
		func(v model.Deployment) string { return v.ID },
		func(v model.Deployment) string { return timeKey(v.CreatedAt) },
		Index[model.Deployment]{Name: "project", Key: func(v model.Deployment) (string, bool) { return v.ProjectID, true }},
		Index[model.Deployment]{Name: "environment", Key: func(v model.Deployment) (string, bool) { return v.EnvironmentID, true }},
		Index[model.Deployment]{Name: "method", Key: func(v model.Deployment) (string, bool) { return v.DeploymentMethod, true }},
		Index[model.Deployment]{Name: "commit", Key: func(v model.Deployment) (string, bool) { return v.GitCommitSha, v.GitCommitSha != "" }},
		Index[model.Deployment]{Name: "resource", Key: func(v model.Deployment) (string, bool) { return v.GitOpsResourceID, v.GitOpsResourceID != "" }},
	)
	Audit = NewCollection("audit", "audit entry",
		func(v model.AuditEntry) string { return v.ID },
		func(v model.AuditEntry) string { return timeKey(v.Time) },
	)
)

type bucketLister interface{ Buckets() []string }

var allCollections = []bucketLister{Clusters, Projects, Environments, Repositories, Resources, Deployments, Audit}

// migrations[i] moves a file from schema i to i+1. Append only; never edit one
// that has shipped.
var migrations = []func(tx *bolt.Tx) error{
	// 1: the initial buckets and indexes.
	func(tx *bolt.Tx) error {
		for _, c := range allCollections {
			for _, name := range c.Buckets() {
				if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
					return err
				}
			}
		}
		return nil
	},
}

// SchemaVersionCurrent is the schema version this build writes.
func SchemaVersionCurrent() int { return len(migrations) }
