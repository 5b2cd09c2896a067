package procio

import (
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/store"
)

// registry is the real procedure registry over a real store in a fresh
// data dir: the one place these tests build it.
func registry(t *testing.T) (dir string, db *store.DB, reg api.Caller) {
	t.Helper()
	dir = t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return dir, db, services.New(services.Config{DataDir: dir, DB: db}).Registry()
}

// auditEntries lists db's audit records.
func auditEntries(t *testing.T, db *store.DB) []model.AuditEntry {
	t.Helper()
	var entries []model.AuditEntry
	if err := db.View(func(tx *store.Tx) error {
		var err error
		entries, _, err = store.Audit.List(tx, store.Query[model.AuditEntry]{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return entries
}
