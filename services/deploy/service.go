// Package deploy owns deploy-through-Git: previewChanges and
// deployWithGitOps plan a change on an environment's manifests and commit
// it, commitConfigChanges commits edited YAML where it belongs, readConfig
// reads it, and validateYAML checks YAML against the Kubernetes and Flux
// schemas. deployments.previewRollback and deployments.rollback undo a
// deployment's commit with a new commit on the branch head (a three-way
// merge per file, conflicts named by YAML field), and
// environments.previewPromotion and environments.promote copy one
// environment's effective values into another's manifests. Every commit is
// validated first and pushed from the branch head, or with review to a
// branch of its own (review.go), then followed (the fast path and the start
// of its timeline, fastpath.go). gitops.listFleet lists every cluster's Flux
// objects with the revision skew, read against Git. An environment whose
// path builds a HelmRelease is deployed the Helm way (helm*.go): the change
// becomes a values edit, the chart is fetched and rendered before and after
// (services/helmchart), and diffHelmRelease compares Git's render with the
// deployed Helm release.
// Its handlers are bound to the gate by Register and reachable only through it.
package deploy

import (
	"path/filepath"
	"sync"
	"time"

	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/catalog"
	"github.com/gitopstui/gitopstui/services/gate"
	"github.com/gitopstui/gitopstui/services/gitops"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/helmchart"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/services/policy"
	"github.com/gitopstui/gitopstui/services/validate"
	"github.com/gitopstui/gitopstui/store"
)

// Deploy serves the deploy-through-Git procedures.
type Deploy struct {
	policy  policy.Policy
	db      *store.DB
	clock   func() time.Time
	catalog *catalog.Catalog
	gitops  *gitops.GitOps
	git     *gitx.Cache
	kube    *kube.Clients // for rollback previews' image automation check (SetKube)
	helm    *helmchart.Fetcher

	valOnce sync.Once
	val     *validate.Validator
	valErr  error
}

// New returns the deploy services; their Git clones live in <dataDir>/git,
// the Helm charts they fetch in <dataDir>/helm/charts.
func New(db *store.DB, clock func() time.Time, dataDir string, c *catalog.Catalog, g *gitops.GitOps, p policy.Policy) *Deploy {
	return &Deploy{policy: p, db: db, clock: clock, catalog: c, gitops: g, git: gitx.NewCache(filepath.Join(dataDir, "git")),
		helm: helmchart.NewFetcher(filepath.Join(dataDir, "helm", "charts"), nil)}
}

// Close releases the Git cache's clones.
func (s *Deploy) Close() error { return s.git.Close() }

func (s *Deploy) now() time.Time { return s.clock().UTC() }

// Register binds the deploy procedures.
func (s *Deploy) Register(r *gate.Registry) {
	gate.Bind(r, api.PreviewChanges, s.previewChanges)
	gate.Bind(r, api.DeployWithGitOps, s.deployWithGitOps)
	gate.Bind(r, api.CommitConfigChanges, s.commitConfigChanges)
	gate.Bind(r, api.ReadConfig, s.readConfig)
	gate.Bind(r, api.ValidateYAML, s.validateYAML)
	gate.Bind(r, api.PreviewPromotion, s.previewPromotion)
	gate.Bind(r, api.Promote, s.promote)
	gate.Bind(r, api.PreviewRollback, s.previewRollback)
	gate.Bind(r, api.Rollback, s.rollback)
	gate.Bind(r, api.ListFleet, s.listFleet)
	gate.Bind(r, api.DiffHelmRelease, s.diffHelmRelease)
}
