package gitx_test

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"
)

// TestSnapshotFS checks the lazy fs.FS over a commit with the standard
// library's file system conformance test.
func TestSnapshotFS(t *testing.T) {
	_, r := newHTTP(t)
	snap, err := r.Snapshot(context.Background(), "main")
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Head) != 40 {
		t.Fatalf("head %q", snap.Head)
	}
	fsys := snap.FS()
	if err := fstest.TestFS(fsys, "README.md", "apps/web/deployment.yaml", "apps/web/service.yaml"); err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, "apps/web/service.yaml")
	if err != nil || string(b) != "port: 80\n" {
		t.Fatalf("read: %q %v", b, err)
	}
	if _, err := fs.Stat(fsys, "nope"); err == nil {
		t.Fatal("missing file stats")
	}
}
