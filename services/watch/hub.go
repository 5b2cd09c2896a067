package watch

import (
	"context"
	"sync"

	"github.com/gitopstui/gitopstui/services/api"
)

// Hub fans status events out to subscribers without ever blocking the
// publisher and without losing what matters: each subscriber has its own
// queue, where a resource's status events coalesce (a subscriber that falls
// behind gets the latest status of each resource, once) and every event
// that carries a deployment is kept, so no deployment's success or failure
// is lost however slow the reader.
type Hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

// NewHub returns a hub without subscribers.
func NewHub() *Hub { return &Hub{subs: map[*subscriber]struct{}{}} }

// subscriber is one reader's queue. An entry is a deployment event, or the
// key of a resource whose latest status event waits in latest.
type subscriber struct {
	mu     sync.Mutex
	queue  []entry
	latest map[string]api.StatusEvent
	wake   chan struct{}
}

type entry struct {
	event    *api.StatusEvent // a deployment event, kept as it is
	resource string           // else: the resource whose latest event is due
}

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
	switch _, queued := s.latest[e.Resource.ID]; {
	case e.Deployment != nil:
		s.queue = append(s.queue, entry{event: &e})
	case queued:
		s.latest[e.Resource.ID] = e
	default:
		s.latest[e.Resource.ID] = e
		s.queue = append(s.queue, entry{resource: e.Resource.ID})
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
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
