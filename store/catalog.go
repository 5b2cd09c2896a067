package store

import (
	"encoding/json"
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
	// 2: GitOps resource configs in the reference's Helm shape (chartName,
	// sourceType, install.remediation, upgrade.remediation, cleanupOnFail
	// and createNamespace under upgrade and install).
	func(tx *bolt.Tx) error { return rewriteRecords(tx, Resources.name, upgradeResourceConfig) },
}

// rewriteRecords rewrites every JSON record of bucket name with f; records f
// leaves alone are not written.
func rewriteRecords(tx *bolt.Tx, name string, f func(rec map[string]any) bool) error {
	b := tx.Bucket([]byte(name))
	if b == nil {
		return nil
	}
	updates := map[string][]byte{}
	err := b.ForEach(func(k, v []byte) error {
		var rec map[string]any
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode %s %s: %w", name, k, err)
		}
		if f(rec) {
			out, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			updates[string(k)] = out
		}
		return nil
	})
	if err != nil {
		return err
	}
	for k, v := range updates {
		if err := b.Put([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}

// upgradeResourceConfig moves a first-round Helm config to the reference's
// field names; it reports whether anything changed.
func upgradeResourceConfig(rec map[string]any) bool {
	cfg, ok := rec["config"].(map[string]any)
	if !ok {
		return false
	}
	changed := false
	move := func(from string, to ...string) {
		v, ok := cfg[from]
		if !ok {
			return
		}
		delete(cfg, from)
		m := cfg
		for _, k := range to[:len(to)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[to[len(to)-1]] = v
		changed = true
	}
	move("chart", "chartName")
	if src, ok := cfg["source"].(map[string]any); ok {
		if kind, ok := src["kind"]; ok {
			cfg["sourceType"] = kind
			delete(src, "kind")
			changed = true
		}
		if len(src) == 0 {
			delete(cfg, "source")
		}
	}
	for _, stage := range []string{"install", "upgrade"} {
		if m, ok := cfg[stage].(map[string]any); ok {
			rem := map[string]any{}
			for _, k := range []string{"retries", "remediateLastFailure"} {
				if v, ok := m[k]; ok {
					rem[k] = v
					delete(m, k)
				}
			}
			if len(rem) > 0 {
				// The reference makes retries (and, for upgrades,
				// remediateLastFailure) required: Flux's defaults.
				if _, ok := rem["retries"]; !ok {
					rem["retries"] = 0
				}
				if _, ok := rem["remediateLastFailure"]; !ok && stage == "upgrade" {
					rem["remediateLastFailure"] = false
				}
				m["remediation"] = rem
				changed = true
			}
		}
	}
	move("createNamespace", "install", "createNamespace")
	move("cleanupOnFail", "upgrade", "cleanupOnFail")
	return changed
}

// SchemaVersionCurrent is the schema version this build writes.
func SchemaVersionCurrent() int { return len(migrations) }
