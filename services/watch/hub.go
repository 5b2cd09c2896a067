package watch

import (
	"context"
	"sync"

	"github.com/gitopstui/gitopstui/services/api"
)

// Hub fans status events out to subscribers without ever blocking the
// publisher: a subscriber that falls behind loses the oldest events.
type Hub struct {
	mu   sync.Mutex
	subs map[chan api.StatusEvent]struct{}
}

// NewHub returns a hub without subscribers.
func NewHub() *Hub { return &Hub{subs: map[chan api.StatusEvent]struct{}{}} }

// Publish sends e to every subscriber.
func (h *Hub) Publish(e api.StatusEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
			select {
			case <-ch:
			default:
			}
			select {
			case ch <- e:
			default:
			}
		}
	}
}

// Subscribe returns a channel of status events until ctx ends.
func (h *Hub) Subscribe(ctx context.Context) <-chan api.StatusEvent {
	ch := make(chan api.StatusEvent, 256)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
		close(ch)
	}()
	return ch
}
