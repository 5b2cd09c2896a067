package store_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

func TestOpenCreatesPrivateFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Path() != filepath.Join(dir, store.FileName) {
		t.Fatalf("Path() = %s", db.Path())
	}
	fi, err := os.Stat(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("store file mode %o, want 600", perm)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm&0o077 != 0 {
		t.Fatalf("data dir mode %o is open to others", perm)
	}
}

func TestSchemaVersionRecorded(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if store.SchemaVersionCurrent() < 1 {
		t.Fatalf("SchemaVersionCurrent() = %d", store.SchemaVersionCurrent())
	}
	v, err := db.SchemaVersion()
	if err != nil || v != store.SchemaVersionCurrent() {
		t.Fatalf("SchemaVersion() = %d, %v; want %d", v, err, store.SchemaVersionCurrent())
	}
	p := model.Project{ID: "shop", Name: "Shop"}
	if err := db.Update(func(tx *store.Tx) error { return store.Projects.Put(tx, p) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening keeps the data and the version.
	db, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.SchemaVersion(); v != store.SchemaVersionCurrent() {
		t.Fatalf("after reopen SchemaVersion() = %d", v)
	}
	err = db.View(func(tx *store.Tx) error {
		_, err := store.Projects.Get(tx, "shop")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrateFromEmptyFile opens a bbolt file that has no schema yet (version
// 0): every migration runs and every collection's buckets exist.
func TestMigrateFromEmptyFile(t *testing.T) {
	dir := t.TempDir()
	raw, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.SchemaVersion(); v != store.SchemaVersionCurrent() {
		t.Fatalf("SchemaVersion() = %d after migrating, want %d", v, store.SchemaVersionCurrent())
	}
	var buckets []string
	for _, c := range []interface{ Buckets() []string }{store.Clusters, store.Projects, store.Environments,
		store.Repositories, store.Resources, store.Deployments, store.Audit} {
		buckets = append(buckets, c.Buckets()...)
	}
	err = db.Bolt().View(func(tx *bolt.Tx) error {
		for _, name := range buckets {
			if tx.Bucket([]byte(name)) == nil {
				t.Errorf("bucket %s missing after migration", name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Bolt().View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Fatalf("consistency check: %v", err)
	}
}

func setSchemaVersion(t *testing.T, db *store.DB, v int) {
	t.Helper()
	err := db.Bolt().Update(func(tx *bolt.Tx) error {
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], uint64(v))
		return tx.Bucket([]byte("meta")).Put([]byte("schemaVersion"), buf[:])
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	newer := store.SchemaVersionCurrent() + 1
	setSchemaVersion(t, db, newer)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		db, err := store.Open(dir, store.Options{ReadOnly: ro})
		if err == nil {
			db.Close()
			t.Fatalf("read-only %v: a file of schema %d opened", ro, newer)
		}
		if model.CodeOf(err) == model.CodeStoreLocked {
			t.Fatalf("read-only %v: %v", ro, err)
		}
		for _, want := range []string{"newer", "upgrade", filepath.Join(dir, store.FileName)} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("read-only %v: error %q does not mention %q", ro, err, want)
			}
		}
	}
	// The refused open did not touch the recorded version, nor hold the lock.
	raw, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, &bolt.Options{Timeout: 100 * time.Millisecond, ReadOnly: true})
	if err != nil {
		t.Fatalf("file still locked after a refused open: %v", err)
	}
	defer raw.Close()
	err = raw.View(func(tx *bolt.Tx) error {
		if got := binary.BigEndian.Uint64(tx.Bucket([]byte("meta")).Get([]byte("schemaVersion"))); got != uint64(newer) {
			t.Fatalf("schema version rewritten to %d", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStoreLocked opens the same file twice in one process: bbolt's flock
// is per file descriptor, so the second Open waits and then gives up.
func TestStoreLocked(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		second, err := store.Open(dir, store.Options{Timeout: 100 * time.Millisecond, ReadOnly: ro})
		if err == nil {
			second.Close()
			t.Fatalf("read-only %v: second Open of a held store succeeded", ro)
		}
		var me *model.Error
		if me = model.AsError(err); me.Code != model.CodeStoreLocked {
			t.Fatalf("read-only %v: %v, want STORE_LOCKED", ro, err)
		}
		path := filepath.Join(dir, store.FileName)
		if me.Details["path"] != path || !strings.Contains(me.Message, path) {
			t.Fatalf("STORE_LOCKED does not name the file: %v %v", me.Message, me.Details)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := store.Open(dir, store.Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("open after the holder closed: %v", err)
	}
	again.Close()
}

func TestReadOnlyOpen(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *store.Tx) error { return store.Projects.Put(tx, model.Project{ID: "shop", Name: "Shop"}) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Two readers share the file.
	r1, err := store.Open(dir, store.Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	r2, err := store.Open(dir, store.Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("second reader: %v", err)
	}
	defer r2.Close()
	if err := r2.View(func(tx *store.Tx) error { _, err := store.Projects.Get(tx, "shop"); return err }); err != nil {
		t.Fatal(err)
	}
	if err := r1.Update(func(tx *store.Tx) error { return store.Projects.Delete(tx, "shop") }); err == nil {
		t.Fatal("write through a read-only store succeeded")
	}
	// A writer waits for the readers.
	_, err = store.Open(dir, store.Options{Timeout: 100 * time.Millisecond})
	if model.CodeOf(err) != model.CodeStoreLocked {
		t.Fatalf("writer while readers hold the file: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	// The data dir is a file.
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(f, store.Options{}); err == nil {
		t.Fatal("opened a store under a regular file")
	}
	// The store file is not a bbolt file.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, store.FileName), []byte(strings.Repeat("not bolt ", 2000)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := store.Open(dir, store.Options{Timeout: 100 * time.Millisecond})
	if err == nil || model.CodeOf(err) == model.CodeStoreLocked || !strings.Contains(err.Error(), store.FileName) {
		t.Fatalf("garbage store file: %v", err)
	}
}

func TestDefaultDataDir(t *testing.T) {
	t.Setenv("GITOPSTUI_DATA_DIR", "/srv/gitopstui")
	t.Setenv("XDG_DATA_HOME", "/xdg")
	if d, err := store.DefaultDataDir(); err != nil || d != "/srv/gitopstui" {
		t.Fatalf("with GITOPSTUI_DATA_DIR: %s %v", d, err)
	}
	t.Setenv("GITOPSTUI_DATA_DIR", "")
	if d, err := store.DefaultDataDir(); err != nil || d != "/xdg/gitopstui" {
		t.Fatalf("with XDG_DATA_HOME: %s %v", d, err)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/someone")
	if d, err := store.DefaultDataDir(); err != nil || d != "/home/someone/.local/share/gitopstui" {
		t.Fatalf("default: %s %v", d, err)
	}
}
