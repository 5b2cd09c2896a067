// Package keylock owns the in-process locks the services take per key (a
// repository's Flux sources, an environment's GitOps config); the store's
// file lock keeps other processes out.
package keylock

import "sync"

// Locks serialises work per key. The zero value is ready to use; one Locks
// is shared by the services of one store.
type Locks struct {
	mu sync.Mutex
	m  map[string]*entry
}

type entry struct {
	mu    sync.Mutex
	users int
}

// Lock takes the lock of key and returns its release. Entries live only
// while someone holds or waits for them.
func (l *Locks) Lock(key string) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*entry{}
	}
	e := l.m[key]
	if e == nil {
		e = &entry{}
		l.m[key] = e
	}
	e.users++
	l.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		l.mu.Lock()
		if e.users--; e.users == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
}
