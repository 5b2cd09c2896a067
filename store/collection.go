package store

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/gitopstui/gitopstui/model"
)

// Index is a secondary index of a collection: Key returns the value a record
// is filed under (false when the record is not in this index).
type Index[T any] struct {
	Name string
	Key  func(T) (string, bool)
}

// Collection is a bucket of JSON records of type T, keyed by id, with
// secondary indexes ordered by a sort key (e.g. creation time) so that a
// filtered, paged list reads only the entries it returns.
type Collection[T any] struct {
	name    string
	kind    string
	id      func(T) string
	sortKey func(T) string
	indexes []Index[T]
}

// allIndex is the implicit index of every record, by sort key.
const allIndex = "all"

// NewCollection defines a collection. kind names it in NOT_FOUND errors.
func NewCollection[T any](name, kind string, id func(T) string, sortKey func(T) string, indexes ...Index[T]) *Collection[T] {
	return &Collection[T]{name: name, kind: kind, id: id, sortKey: sortKey, indexes: indexes}
}

// Buckets lists the bucket names the collection uses (records and indexes).
func (c *Collection[T]) Buckets() []string {
	out := []string{c.name, c.indexBucket(allIndex)}
	for _, ix := range c.indexes {
		out = append(out, c.indexBucket(ix.Name))
	}
	return out
}

func (c *Collection[T]) indexBucket(name string) string { return c.name + ".idx." + name }

func indexKey(value, sortKey, id string) []byte {
	k := make([]byte, 0, len(value)+len(sortKey)+len(id)+2)
	k = append(k, value...)
	k = append(k, 0)
	k = append(k, sortKey...)
	k = append(k, 0)
	k = append(k, id...)
	return k
}

func (c *Collection[T]) bucket(tx *Tx, name string) (*bolt.Bucket, error) {
	b := tx.btx.Bucket([]byte(name))
	if b == nil {
		return nil, fmt.Errorf("store: bucket %s missing", name)
	}
	return b, nil
}

// Get reads the record with id, NOT_FOUND when absent.
func (c *Collection[T]) Get(tx *Tx, id string) (T, error) {
	var zero T
	b, err := c.bucket(tx, c.name)
	if err != nil {
		return zero, err
	}
	raw := b.Get([]byte(id))
	if raw == nil {
		return zero, model.NotFound(c.kind, id)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return zero, fmt.Errorf("decode %s %s: %w", c.kind, id, err)
	}
	return v, nil
}

// Exists reports whether a record with id is stored.
func (c *Collection[T]) Exists(tx *Tx, id string) bool {
	b := tx.btx.Bucket([]byte(c.name))
	return b != nil && b.Get([]byte(id)) != nil
}

// Put stores v, replacing the record with the same id and its index entries.
func (c *Collection[T]) Put(tx *Tx, v T) error {
	id := c.id(v)
	if id == "" {
		return fmt.Errorf("store %s: empty id", c.kind)
	}
	b, err := c.bucket(tx, c.name)
	if err != nil {
		return err
	}
	if old := b.Get([]byte(id)); old != nil {
		var prev T
		if err := json.Unmarshal(old, &prev); err != nil {
			return fmt.Errorf("decode %s %s: %w", c.kind, id, err)
		}
		if err := c.unindex(tx, prev); err != nil {
			return err
		}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", c.kind, id, err)
	}
	if err := b.Put([]byte(id), raw); err != nil {
		return err
	}
	return c.index(tx, v)
}

// Delete removes the record with id and its index entries (NOT_FOUND when absent).
func (c *Collection[T]) Delete(tx *Tx, id string) error {
	v, err := c.Get(tx, id)
	if err != nil {
		return err
	}
	if err := c.unindex(tx, v); err != nil {
		return err
	}
	b, err := c.bucket(tx, c.name)
	if err != nil {
		return err
	}
	return b.Delete([]byte(id))
}

func (c *Collection[T]) entries(v T) map[string][]byte {
	id, sk := c.id(v), c.sortKey(v)
	out := map[string][]byte{c.indexBucket(allIndex): indexKey("", sk, id)}
	for _, ix := range c.indexes {
		if val, ok := ix.Key(v); ok {
			out[c.indexBucket(ix.Name)] = indexKey(val, sk, id)
		}
	}
	return out
}

func (c *Collection[T]) index(tx *Tx, v T) error {
	for name, key := range c.entries(v) {
		b, err := c.bucket(tx, name)
		if err != nil {
			return err
		}
		if err := b.Put(key, nil); err != nil {
			return err
		}
	}
	return nil
}

func (c *Collection[T]) unindex(tx *Tx, v T) error {
	for name, key := range c.entries(v) {
		b, err := c.bucket(tx, name)
		if err != nil {
			return err
		}
		if err := b.Delete(key); err != nil {
			return err
		}
	}
	return nil
}

// Reindex rebuilds every index from the records (used by migrations).
func (c *Collection[T]) Reindex(tx *Tx) error {
	for _, name := range c.Buckets()[1:] {
		if tx.btx.Bucket([]byte(name)) != nil {
			if err := tx.btx.DeleteBucket([]byte(name)); err != nil {
				return err
			}
		}
		if _, err := tx.btx.CreateBucket([]byte(name)); err != nil {
			return err
		}
	}
	b, err := c.bucket(tx, c.name)
	if err != nil {
		return err
	}
	return b.ForEach(func(_, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		return c.index(tx, v)
	})
}

// Query selects records through one index. Index "" means all records.
type Query[T any] struct {
	Index string
	Value string
	// Newest lists in descending sort-key order.
	Newest bool
	// Limit caps the page (0: no limit).
	Limit int
	// Cursor continues after the last record of a previous page.
	Cursor string
	// Filter drops records that do not match the other filters.
	Filter func(T) bool
}

// List returns one page of records and the cursor of the next page ("" when done).
func (c *Collection[T]) List(tx *Tx, q Query[T]) ([]T, string, error) {
	ixName := q.Index
	if ixName == "" {
		ixName = allIndex
	}
	ib, err := c.bucket(tx, c.indexBucket(ixName))
	if err != nil {
		return nil, "", err
	}
	rb, err := c.bucket(tx, c.name)
	if err != nil {
		return nil, "", err
	}
	prefix := append([]byte(q.Value), 0)
	var after []byte
	if q.Cursor != "" {
		after, err = hex.DecodeString(q.Cursor)
		if err != nil || !bytes.HasPrefix(after, prefix) {
			return nil, "", model.Errorf(model.CodeBadRequest, "invalid cursor").WithDetail("fields", map[string]any{"cursor": "not a cursor of this list"})
		}
	}
	cur := ib.Cursor()
	var k []byte
	step := cur.Next
	switch {
	case !q.Newest && after == nil:
		k, _ = cur.Seek(prefix)
	case !q.Newest:
		k, _ = cur.Seek(after)
		if bytes.Equal(k, after) {
			k, _ = cur.Next()
		}
	default:
		step = cur.Prev
		start := after
		if start == nil {
			start = append([]byte(q.Value), 1)
		}
		k, _ = cur.Seek(start)
		if k == nil {
			k, _ = cur.Last()
		} else {
			k, _ = cur.Prev()
		}
	}
	var out []T
	var last []byte
	for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = step() {
		id := k[bytes.LastIndexByte(k, 0)+1:]
		raw := rb.Get(id)
		if raw == nil {
			continue
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, "", fmt.Errorf("decode %s %s: %w", c.kind, id, err)
		}
		if q.Filter != nil && !q.Filter(v) {
			continue
		}
		if q.Limit > 0 && len(out) == q.Limit {
			return out, hex.EncodeToString(last), nil
		}
		out = append(out, v)
		last = append(last[:0], k...)
	}
	return out, "", nil
}

// Count returns how many records the index holds under value.
func (c *Collection[T]) Count(tx *Tx, index, value string) (int, error) {
	if index == "" {
		index = allIndex
	}
	ib, err := c.bucket(tx, c.indexBucket(index))
	if err != nil {
		return 0, err
	}
	prefix := append([]byte(value), 0)
	n := 0
	cur := ib.Cursor()
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
		n++
	}
	return n, nil
}

// CursorAt returns the cursor that lists, in an index under value, the
// records after record id (before it when Newest): what a page that ended
// with id would return. A record that is not there is NOT_FOUND.
func (c *Collection[T]) CursorAt(tx *Tx, value, id string) (string, error) {
	v, err := c.Get(tx, id)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(indexKey(value, c.sortKey(v), c.id(v))), nil
}

// Prune deletes the oldest records (in sort-key order) until at most max
// remain, and every record before the first one that expired says is not
// expired; it returns how many it deleted.
func (c *Collection[T]) Prune(tx *Tx, max int, expired func(T) bool) (int, error) {
	total, err := c.Count(tx, "", "")
	if err != nil {
		return 0, err
	}
	var drop []string
	cursor := ""
	for {
		page, next, err := c.List(tx, Query[T]{Limit: 256, Cursor: cursor})
		if err != nil {
			return 0, err
		}
		for _, v := range page {
			if total-len(drop) <= max && !expired(v) {
				return c.deleteAll(tx, drop)
			}
			drop = append(drop, c.id(v))
		}
		if next == "" {
			return c.deleteAll(tx, drop)
		}
		cursor = next
	}
}

func (c *Collection[T]) deleteAll(tx *Tx, ids []string) (int, error) {
	for i, id := range ids {
		if err := c.Delete(tx, id); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}

// Read gets one record in a read transaction of its own.
func (c *Collection[T]) Read(db *DB, id string) (T, error) {
	var v T
	err := db.View(func(tx *Tx) error {
		var err error
		v, err = c.Get(tx, id)
		return err
	})
	return v, err
}
