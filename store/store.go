package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/gitopstui/gitopstui/model"
)

// FileName is the store's file name inside the data dir.
const FileName = "gitopstui.db"

// LockTimeout is how long Open waits for another process to release the file.
const LockTimeout = time.Second

var metaBucket = []byte("meta")

var schemaKey = []byte("schemaVersion")

// DB is an open store.
type DB struct {
	bolt *bolt.DB
	path string
}

// Options tune Open.
type Options struct {
	// ReadOnly opens the file with a shared lock and no writes.
	ReadOnly bool
	// Timeout overrides LockTimeout.
	Timeout time.Duration
}

// DefaultDataDir is $GITOPSTUI_DATA_DIR, else $XDG_DATA_HOME/gitopstui,
// else ~/.local/share/gitopstui.
func DefaultDataDir() (string, error) {
	if d := os.Getenv("GITOPSTUI_DATA_DIR"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "gitopstui"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory: %w", err)
	}
	return filepath.Join(home, ".local", "share", "gitopstui"), nil
}

// Open opens (creating when needed) the store in dataDir and migrates it to
// the current schema. A file held by another process is STORE_LOCKED after
// the lock timeout.
func Open(dataDir string, opts Options) (*DB, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dataDir, FileName)
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = LockTimeout
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: opts.ReadOnly, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, model.Errorf(model.CodeStoreLocked, "store %s is locked by another process (waited %s)", path, timeout).
				WithDetail("path", path)
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db := &DB{bolt: b, path: path}
	if !opts.ReadOnly {
		if err := db.migrate(); err != nil {
			_ = b.Close()
			return nil, err
		}
	} else if err := db.checkVersion(); err != nil {
		_ = b.Close()
		return nil, err
	}
	return db, nil
}

// Path is the store file's path.
func (db *DB) Path() string { return db.path }

// Close releases the file.
func (db *DB) Close() error { return db.bolt.Close() }

// Bolt exposes the underlying bbolt handle for consistency checks and tools.
func (db *DB) Bolt() *bolt.DB { return db.bolt }

// Update runs fn in a read-write transaction, committed (and fsynced) when fn returns nil.
func (db *DB) Update(fn func(tx *Tx) error) error {
	return db.bolt.Update(func(btx *bolt.Tx) error { return fn(&Tx{btx: btx}) })
}

// View runs fn in a read-only transaction.
func (db *DB) View(fn func(tx *Tx) error) error {
	return db.bolt.View(func(btx *bolt.Tx) error { return fn(&Tx{btx: btx}) })
}

// Tx is a store transaction.
type Tx struct{ btx *bolt.Tx }

// SchemaVersion returns the schema version recorded in the file.
func (db *DB) SchemaVersion() (int, error) {
	var v int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v = readVersion(tx)
		return nil
	})
	return v, err
}

func readVersion(tx *bolt.Tx) int {
	b := tx.Bucket(metaBucket)
	if b == nil {
		return 0
	}
	raw := b.Get(schemaKey)
	if len(raw) != 8 {
		return 0
	}
	return int(binary.BigEndian.Uint64(raw))
}

func (db *DB) checkVersion() error {
	v, err := db.SchemaVersion()
	if err != nil {
		return err
	}
	if v > len(migrations) {
		return model.Errorf(model.CodeInternal, "store %s has schema version %d, newer than this gitopstui understands (%d): upgrade gitopstui", db.path, v, len(migrations))
	}
	return nil
}

// migrate applies every migration newer than the file's schema version, each in
// its own transaction together with the version bump.
func (db *DB) migrate() error {
	if err := db.checkVersion(); err != nil {
		return err
	}
	for {
		done := false
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			v := readVersion(tx)
			if v >= len(migrations) {
				done = true
				return nil
			}
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate store to schema %d: %w", v+1, err)
			}
			meta, err := tx.CreateBucketIfNotExists(metaBucket)
			if err != nil {
				return err
			}
			var buf [8]byte
			binary.BigEndian.PutUint64(buf[:], uint64(v+1))
			return meta.Put(schemaKey, buf[:])
		})
		if err != nil || done {
			return err
		}
	}
}
