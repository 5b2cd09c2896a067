package testcluster

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// Shared is one control plane for all tests of a package, started on first use and
// stopped after the package's tests have run:
//
//	var cluster = testcluster.NewShared(testcluster.WithCRDDirs("../../testdata/crds"))
//
//	func TestMain(m *testing.M) { os.Exit(cluster.Run(m)) }
//
//	func TestX(t *testing.T) { c := cluster.Get(t); ... }
//
// Tests that share it should use their own namespaces and names; a test that stops or
// restarts the API server affects the others, so such tests should not run in parallel.
type Shared struct {
	opts []Option

	once    sync.Once
	cluster *Cluster
	err     error
}

// NewShared returns a Shared that will start its cluster with opts.
func NewShared(opts ...Option) *Shared {
	return &Shared{opts: opts}
}

// Get returns the shared cluster, starting it on the first call (building the binaries if
// they are missing); it fails t if the cluster cannot start.
func (s *Shared) Get(t testing.TB) *Cluster {
	t.Helper()
	s.once.Do(func() {
		s.cluster, s.err = start(func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, format+"\n", args...)
		}, s.opts...)
	})
	if s.err != nil {
		t.Fatalf("testcluster: shared cluster: %v", s.err)
	}
	return s.cluster
}

// Run runs the package's tests (m.Run) and then stops the cluster if one was started. Its
// result is the exit code for os.Exit.
func (s *Shared) Run(m *testing.M) int {
	code := m.Run()
	s.once.Do(func() {}) // no cluster can start after this point
	if s.cluster != nil {
		if err := s.cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testcluster: stop shared cluster: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}
