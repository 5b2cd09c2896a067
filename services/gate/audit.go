package gate

import (
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/internal/ident"
	"github.com/gitopstui/gitopstui/store"
)

// Retention bounds the audit log.
type Retention struct {
	// MaxEntries keeps at most this many entries, the newest (0: DefaultMaxEntries).
	MaxEntries int
	// MaxAge drops entries older than this (0: DefaultMaxAge).
	MaxAge time.Duration
}

// The audit log's default bounds: a busy team's year fits, a disk does not fill.
const (
	DefaultMaxEntries = 100_000
	DefaultMaxAge     = 365 * 24 * time.Hour
)

// pruneEvery is how many writes pass, on average, between two prunes:
// pruning counts the log, which is not worth doing per write. A write prunes
// with probability 1/pruneEvery rather than by a counter, because most
// processes (every headless call) write once and exit: a counter would make
// each of them count the whole log.
const pruneEvery = 64

// Audit writes who called which mutation, when, with what outcome and a
// redacted input, and keeps the log within its Retention.
type Audit struct {
	db   *store.DB
	now  func() time.Time
	log  *slog.Logger
	keep Retention
}

// NewAudit returns the audit log of db.
func NewAudit(db *store.DB, now func() time.Time, log *slog.Logger, keep Retention) *Audit {
	if keep.MaxEntries <= 0 {
		keep.MaxEntries = DefaultMaxEntries
	}
	if keep.MaxAge <= 0 {
		keep.MaxAge = DefaultMaxAge
	}
	return &Audit{db: db, now: now, log: log, keep: keep}
}

// Record writes one entry. A failed write does not turn a done mutation
// into an error: it is logged.
func (a *Audit) Record(actor model.Actor, procedure string, input json.RawMessage, callErr error) {
	e := model.AuditEntry{
		ID: ident.New("audit"), Time: a.now().UTC(), Actor: actor.User, Role: string(actor.Role),
		Source: actor.Source, Procedure: procedure, Input: input,
	}
	if callErr != nil {
		me := model.AsError(callErr)
		e.Code, e.Message = me.Code, StripURLCredentials(me.Message)
	}
	prune := rand.IntN(pruneEvery) == 0
	err := a.db.Update(func(tx *store.Tx) error {
		if err := store.Audit.Put(tx, e); err != nil {
			return err
		}
		if prune {
			return a.pruneTx(tx)
		}
		return nil
	})
	if err != nil {
		a.log.Error("audit write failed", "procedure", procedure, "actor", actor.User, "err", err)
	}
}

// Prune drops the entries beyond the retention now.
func (a *Audit) Prune() error { return a.db.Update(a.pruneTx) }

func (a *Audit) pruneTx(tx *store.Tx) error {
	cutoff := a.now().Add(-a.keep.MaxAge)
	n, err := store.Audit.Prune(tx, a.keep.MaxEntries, func(e model.AuditEntry) bool { return e.Time.Before(cutoff) })
	if n > 0 {
		a.log.Info("audit log pruned", "removed", n, "maxEntries", a.keep.MaxEntries, "maxAge", a.keep.MaxAge.String())
	}
	return err
}
