package watch

import (
	"context"
	"slices"
	"sync"

	"github.com/gitopstui/gitopstui/services/api"
)

// Hub fans status events out to subscribers without ever blocking the
// publisher and without losing what matters: each subscriber has its own
// queue, where a resource's status events coalesce (a subscriber that falls
// behind gets the latest status of each resource, once), the change notes
// of one procedure coalesce into one note naming every id, and every event
// that carries a deployment is kept, so no deployment's success or failure
// is lost however slow the reader.
type Hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

// NewHub returns a hub without subscribers.
func NewHub() *Hub { return &Hub{subs: map[*subscriber]struct{}{}} }

// subscriber is one reader's queue. An entry is a deployment event, or the
// key of a resource (or of a procedure's change note) whose latest event
// waits in latest.
type subscriber struct {
	mu     sync.Mutex
	queue  []entry
	latest map[string]api.StatusEvent
	wake   chan struct{}
}

type entry struct {
	event    *api.StatusEvent // a deployment event, kept as it is
	resource string           // else: the key in latest of the event due
}

// maxNoteIDs bounds the ids of a coalesced change note; beyond it the note
// names none, which says any record of its kinds may have changed.
const maxNoteIDs = 64

// changeKey is the key in latest of a procedure's change note; no resource
// id contains a NUL byte.
func changeKey(n *api.ChangeNote) string { return "\x00change:" + n.Procedure }

// Publish queues e for every subscriber.
func (h *Hub) Publish(e api.StatusEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.push(e)
	}
}

func (s *subscriber) push(e api.StatusEvent) {
	s.mu.Lock()
	k := e.Resource.ID
	if e.Changed != nil {
		k = changeKey(e.Changed)
	} else if e.Fleet != nil {
		k = fleetKey(e.Fleet)
	}
	switch prev, queued := s.latest[k]; {
	case e.Deployment != nil:
		s.queue = append(s.queue, entry{event: &e})
	case queued && e.Changed != nil:
		s.latest[k] = api.StatusEvent{Changed: mergeNotes(prev.Changed, e.Changed)}
	case queued:
		s.latest[k] = e
	default:
		s.latest[k] = e
		s.queue = append(s.queue, entry{resource: k})
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// mergeNotes is one note for two of the same procedure: every id of both,
// or none (any record) when either names none or there are too many.
func mergeNotes(a, b *api.ChangeNote) *api.ChangeNote {
	out := *b
	out.IDs = nil
	if len(a.IDs) == 0 || len(b.IDs) == 0 {
		return &out
	}
	seen := map[string]bool{}
	for _, id := range append(slices.Clone(a.IDs), b.IDs...) {
		if !seen[id] {
			seen[id] = true
			out.IDs = append(out.IDs, id)
		}
	}
	if len(out.IDs) > maxNoteIDs {
		out.IDs = nil
	}
	return &out
}

// pop takes the next event; ok is false when the queue is empty.
func (s *subscriber) pop() (api.StatusEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return api.StatusEvent{}, false
	}
	next := s.queue[0]
	s.queue[0] = entry{}
	s.queue = s.queue[1:]
	if next.event != nil {
		return *next.event, true
	}
	e := s.latest[next.resource]
	delete(s.latest, next.resource)
	return e, true
}

// Subscribe returns a channel of status events until ctx ends.
func (h *Hub) Subscribe(ctx context.Context) <-chan api.StatusEvent {
	s := &subscriber{latest: map[string]api.StatusEvent{}, wake: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	ch := make(chan api.StatusEvent)
	go func() {
		defer close(ch)
		defer func() {
			h.mu.Lock()
			delete(h.subs, s)
			h.mu.Unlock()
		}()
		for {
			e, ok := s.pop()
			if !ok {
				select {
				case <-s.wake:
					continue
				case <-ctx.Done():
					return
				}
			}
			select {
			case ch <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}
