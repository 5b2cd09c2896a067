// Package catalog owns the records gitopstui keeps of the platform:
// clusters, projects, environments, repositories, deployment history and the
// audit log. Its handlers are bound to the gate by Register and reachable
// only through it; Environment and Repository are lookups for the other
// services.
package catalog

import (
	"time"

	"github.com/gitopstui/gitopstui/services/gate"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/services/policy"
	"github.com/gitopstui/gitopstui/services/watch"
	"github.com/gitopstui/gitopstui/store"
)

// Catalog serves the catalog procedures over one store.
type Catalog struct {
	policy policy.Policy
	db     *store.DB
	clock  func() time.Time
	kube   *kube.Clients
	watch  *watch.Watcher
}

// New returns the catalog of db; k probes clusters and w starts and stops
// their watchers as clusters come and go; p says which kubeconfig files a
// caller may register.
func New(db *store.DB, clock func() time.Time, k *kube.Clients, w *watch.Watcher, p policy.Policy) *Catalog {
	return &Catalog{policy: p, db: db, clock: clock, kube: k, watch: w}
}

func (s *Catalog) now() time.Time { return s.clock().UTC() }

// Register binds the catalog's procedures.
func (s *Catalog) Register(r *gate.Registry) {
	s.registerProjects(r)
	s.registerClusters(r)
	s.registerDeployments(r)
}
