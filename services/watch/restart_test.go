package watch

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/services/policy"
	"github.com/gitopstui/gitopstui/services/testcluster"
	"github.com/gitopstui/gitopstui/store"
)

// lockedBuffer is a log sink the watcher's goroutines and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWatcherRestartsWithBackoff: a cluster whose kubeconfig is missing when
// the watchers start is logged and retried, and watched (informers synced
// against the real API server) once the kubeconfig appears, without a
// restart of the process.
func TestWatcherRestartsWithBackoff(t *testing.T) {
	c := testcluster.Start(t)
	b, err := fluxbundle.Load("")
	if err != nil {
		t.Fatal(err)
	}
	crds, err := b.CRDs(fluxbundle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := fluxbundle.Marshal(crds)
	if err != nil {
		t.Fatal(err)
	}
	c.InstallCRDs(t, raw)

	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	path := filepath.Join(dir, "later.kubeconfig")
	if err := db.Update(func(tx *store.Tx) error {
		return store.Clusters.Put(tx, model.Cluster{ID: "cluster-late", Name: "late", Kubeconfig: path, Context: testcluster.DefaultContext})
	}); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	w := New(db, time.Now, kube.New(db, time.Now, policy.Policy{}), NewHub(), slog.New(slog.NewTextHandler(&logs, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a logged restart", func() bool { return strings.Contains(logs.String(), "status watcher stopped; restarting") })
	if w.watching("cluster-late") {
		t.Fatal("watching a cluster whose kubeconfig is missing")
	}
	kc, err := os.ReadFile(c.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the watcher to sync after the kubeconfig appeared", func() bool { return w.watching("cluster-late") })
}
