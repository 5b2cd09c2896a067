package services

import (
	"context"
	"log/slog"
	"time"

	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/catalog"
	"github.com/gitopstui/gitopstui/services/deploy"
	"github.com/gitopstui/gitopstui/services/flux"
	"github.com/gitopstui/gitopstui/services/gate"
	"github.com/gitopstui/gitopstui/services/gitops"
	"github.com/gitopstui/gitopstui/services/internal/keylock"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/services/policy"
	"github.com/gitopstui/gitopstui/services/watch"
	"github.com/gitopstui/gitopstui/store"
)

// Config builds a Services.
type Config struct {
	// DataDir holds the store, the git cache clones and the server's keys.
	DataDir string
	// DB is the open store.
	DB *store.DB
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives what the services cannot return to a caller: failed
	// audit writes, recovered panics, watcher trouble (discarded when nil).
	Logger *slog.Logger
	// Audit bounds the audit log (gate's defaults when zero).
	Audit gate.Retention
	// Policy is what the process lends its callers (all of the local
	// user's when zero; `serve` restricts it for SSH users).
	Policy policy.Policy
}

// Services is the wired service layer of one process: the registry every
// front end calls, the status watch that feeds live views, and what must be
// closed at the end.
type Services struct {
	db      *store.DB
	dataDir string
	reg     *gate.Registry
	watch   *watch.Watcher
	deploy  *deploy.Deploy
	gitops  *gitops.GitOps
}

// New wires the services over an open store from explicit dependencies:
// the store, the clock, the cluster clients, the status watch and the Git
// cache; each sub-package owns its own state and binds its procedures.
func New(cfg Config) *Services {
	clock := cfg.Now
	if clock == nil {
		clock = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	kc := kube.New(cfg.DB, clock, cfg.Policy)
	hub := watch.NewHub()
	w := watch.New(cfg.DB, clock, kc, hub, log)
	cat := catalog.New(cfg.DB, clock, kc, w, cfg.Policy)
	g := gitops.New(gitops.Deps{Log: log, DB: cfg.DB, Clock: clock, Kube: kc, Watch: w, Catalog: cat, Locks: &keylock.Locks{}})
	d := deploy.New(cfg.DB, clock, cfg.DataDir, cat, g, cfg.Policy)
	d.SetKube(kc)
	w.SetTreeFunc(d.TreeAt)
	reg := gate.New(gate.NewAudit(cfg.DB, clock, log, cfg.Audit), log, func(n api.ChangeNote) {
		hub.Publish(api.StatusEvent{Changed: &n})
	})
	cat.Register(reg)
	flux.New(clock, kc, cfg.Policy).Register(reg)
	g.Register(reg)
	d.Register(reg)
	return &Services{db: cfg.DB, dataDir: cfg.DataDir, reg: reg, watch: w, deploy: d, gitops: g}
}

// Close releases what the services opened (the Git cache clones); the
// caller closes the store it passed in.
func (s *Services) Close() error { return s.deploy.Close() }

// DB returns the store.
func (s *Services) DB() *store.DB { return s.db }

// DataDir returns the data directory.
func (s *Services) DataDir() string { return s.dataDir }

// Registry returns the procedure registry: the only way to run a procedure.
func (s *Services) Registry() *gate.Registry { return s.reg }

// Subscribe returns a channel of status events until ctx ends: resource
// statuses and deployments from the watchers and the procedures, and a
// change note after every successful mutation of this process's registry.
func (s *Services) Subscribe(ctx context.Context) <-chan api.StatusEvent {
	return s.watch.Hub().Subscribe(ctx)
}

// StartWatchers starts one informer-based status watcher per registered
// cluster (and for clusters registered later) until ctx ends. Long-running
// processes (the TUI, serve) call it once; it also starts resuming the
// suspensions whose until has passed.
func (s *Services) StartWatchers(ctx context.Context) error {
	if err := s.watch.Start(ctx); err != nil {
		return err
	}
	go s.gitops.ResumeExpired(ctx)
	return nil
}
