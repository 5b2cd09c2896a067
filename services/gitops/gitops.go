// Package gitops owns the Flux objects gitopstui manages for the catalog's
// environments: GitOps resources (Kustomizations and HelmReleases built from
// Flux's API types), their sync, suspend (with a reason that may expire)
// and resume, their diagnosis, triage, dependsOn graph and ordered bulk
// actions (triage.go, graph.go, bulk.go), the GitRepositories of
// each repository branch an environment follows, repositories.enableGitOps
// and environments.configureGitOps. Its handlers are bound to the gate by
// Register and reachable only through it.
package gitops

import (
	"log/slog"
	"time"

	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/catalog"
	"github.com/gitopstui/gitopstui/services/gate"
	"github.com/gitopstui/gitopstui/services/internal/keylock"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/services/watch"
	"github.com/gitopstui/gitopstui/store"
)

// GitOps serves the GitOps resource and configuration procedures.
type GitOps struct {
	log     *slog.Logger
	db      *store.DB
	clock   func() time.Time
	kube    *kube.Clients
	watch   *watch.Watcher
	catalog *catalog.Catalog
	locks   *keylock.Locks
}

// Deps are what GitOps works with; locks is shared with every service that
// changes a repository's Flux sources.
type Deps struct {
	Log     *slog.Logger
	DB      *store.DB
	Clock   func() time.Time
	Kube    *kube.Clients
	Watch   *watch.Watcher
	Catalog *catalog.Catalog
	Locks   *keylock.Locks
}

// New returns the GitOps services.
func New(d Deps) *GitOps {
	return &GitOps{log: d.Log, db: d.DB, clock: d.Clock, kube: d.Kube, watch: d.Watch, catalog: d.Catalog, locks: d.Locks}
}

func (s *GitOps) now() time.Time { return s.clock().UTC() }

// Register binds the GitOps procedures.
func (s *GitOps) Register(r *gate.Registry) {
	gate.Bind(r, api.CreateGitOpsResource, s.createResource)
	gate.Bind(r, api.ListGitOpsResources, s.listResources)
	gate.Bind(r, api.GetGitOpsResource, s.getResource)
	gate.Bind(r, api.UpdateGitOpsResource, s.updateResource)
	gate.Bind(r, api.DeleteGitOpsResource, s.deleteResource)
	gate.Bind(r, api.TriggerSync, s.triggerSync)
	gate.Bind(r, api.SuspendGitOpsResource, s.suspendResource)
	gate.Bind(r, api.ResumeGitOpsResource, s.resumeResource)
	gate.Bind(r, api.EnableGitOps, s.enableGitOps)
	gate.Bind(r, api.ConfigureGitOps, s.configureGitOps)
	gate.Bind(r, api.GetGitOpsConfig, s.getGitOpsConfig)
	gate.Bind(r, api.GetFluxStatus, s.getFluxStatus)
	gate.Bind(r, api.Triage, s.triage)
	gate.Bind(r, api.DependencyGraph, s.dependencyGraph)
	gate.Bind(r, api.Bulk, s.bulk)
}
