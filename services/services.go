package services

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"sync"
	"time"

	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/validate"
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
}

// Services holds what the procedures share: the store, the clock, and the
// per-cluster clients. One Services serves one process.
type Services struct {
	db      *store.DB
	dataDir string
	clock   func() time.Time
	kube    *kubeClients
	hub     *hub
	watch   watchers
	// watchCtx is set by StartWatchers; guarded by watch.mu.
	watchCtx context.Context

	gitOnce sync.Once
	git     *gitx.Cache

	valOnce sync.Once
	val     *validate.Validator
	valErr  error

	regOnce sync.Once
	reg     *Registry
}

// New builds the services over an open store.
func New(cfg Config) *Services {
	s := &Services{db: cfg.DB, dataDir: cfg.DataDir, clock: cfg.Now}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.kube = newKubeClients()
	s.hub = newHub()
	s.watch = watchers{running: map[string]context.CancelFunc{}, synced: map[string]bool{}}
	return s
}

// Close releases what the services opened (the Git cache clones); the
// caller closes the store it passed in.
func (s *Services) Close() error {
	var err error
	s.gitOnce.Do(func() {}) // no cache can be opened after this
	if s.git != nil {
		err = s.git.Close()
	}
	return err
}

// DB returns the store.
func (s *Services) DB() *store.DB { return s.db }

// DataDir returns the data directory.
func (s *Services) DataDir() string { return s.dataDir }

func (s *Services) now() time.Time { return s.clock().UTC() }

// Registry returns the procedure registry, built once.
func (s *Services) Registry() *Registry {
	s.regOnce.Do(func() {
		r := &Registry{procs: map[string]*procedure{}, svc: s}
		s.registerCatalog(r)
		s.registerClusters(r)
		s.registerDeployments(r)
		s.registerFlux(r)
		s.registerGitOpsRepo(r)
		s.registerGitOpsResources(r)
		s.registerDeploy(r)
		s.reg = r
	})
	return s.reg
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns prefix-<random>, 12 characters of crypto randomness.
func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + idEncoding.EncodeToString(b[:])[:12]
}

// slug turns a display name into an id-friendly lowercase token.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// pickID returns given when set, else prefix-slug(name) when free, else a random id.
func pickID(given, prefix, name string, taken func(string) bool) string {
	if given != "" {
		return given
	}
	if sl := slug(name); sl != "" {
		id := prefix + "-" + sl
		if !taken(id) {
			return id
		}
	}
	return newID(prefix)
}
