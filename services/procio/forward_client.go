package procio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// exchange is one connection to the forwarding socket after its first
// response: the decoder reads what follows (a subscription's events).
type exchange struct {
	conn net.Conn
	dec  *json.Decoder
	resp ForwardResponse
	stop func() bool // stops closing conn when ctx ends
}

// close ends the exchange.
func (x *exchange) close() {
	x.stop()
	_ = x.conn.Close()
}

// dial connects to dataDir's forwarding socket, sends req and reads the
// first response. The connection stays open, closed early when ctx ends;
// on error it is closed.
func dial(ctx context.Context, dataDir string, req ForwardRequest) (*exchange, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", SocketPath(dataDir))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoServer, err)
	}
	x := &exchange{conn: conn, dec: json.NewDecoder(conn), stop: context.AfterFunc(ctx, func() { _ = conn.Close() })}
	// A server that refuses the peer answers without reading the request,
	// so a failed write is only reported when no answer follows.
	werr := json.NewEncoder(conn).Encode(req)
	if err := x.dec.Decode(&x.resp); err != nil {
		x.close()
		switch {
		case werr != nil:
			return nil, model.Wrap(model.CodeInternal, werr, "forward call to the gitopstui server")
		case ctx.Err() != nil:
			return nil, model.Wrap(model.CodeInternal, ctx.Err(), "forwarded call interrupted")
		}
		return nil, model.Wrap(model.CodeInternal, err, "read the gitopstui server's answer")
	}
	if x.resp.Error != nil {
		x.close()
		return nil, x.resp.Error
	}
	return x, nil
}

// Forward sends one procedure call to the gitopstui server that owns
// dataDir's store and returns its JSON result. It returns an error wrapping
// ErrNoServer when no server answers on the socket (none running, or a stale
// socket), and the server's *model.Error when the call fails.
func Forward(ctx context.Context, dataDir, procedure string, input []byte) (json.RawMessage, error) {
	req := ForwardRequest{Procedure: procedure, Input: string(input), Actor: model.ActorFrom(ctx)}
	x, err := dial(ctx, dataDir, req)
	if err != nil {
		return nil, err
	}
	x.close()
	if x.resp.Result == nil {
		return json.RawMessage("null"), nil
	}
	return x.resp.Result, nil
}

// Ping asks the process that owns dataDir's store who it is. The error
// wraps ErrNoServer when nothing answers on the socket.
func Ping(ctx context.Context, dataDir string) (ServerInfo, error) {
	var info ServerInfo
	x, err := dial(ctx, dataDir, ForwardRequest{Op: OpPing})
	if err != nil {
		return info, err
	}
	x.close()
	if err := json.Unmarshal(x.resp.Result, &info); err != nil {
		return info, model.Wrap(model.CodeInternal, err, "read the gitopstui server's ping answer")
	}
	return info, nil
}

// Subscribe opens the status subscription of the process that owns
// dataDir's store: its status events (resource statuses, deployments and a
// change note after every successful mutation there) until ctx ends or the
// server goes away, when the channel is closed.
func Subscribe(ctx context.Context, dataDir string) (<-chan api.StatusEvent, error) {
	x, err := dial(ctx, dataDir, ForwardRequest{Op: OpSubscribe})
	if err != nil {
		return nil, err
	}
	ch := make(chan api.StatusEvent)
	go func() {
		defer close(ch)
		defer x.close()
		for {
			var e api.StatusEvent
			if err := x.dec.Decode(&e); err != nil {
				return
			}
			select {
			case ch <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

// Client is an api.Caller that runs every call in the process that owns
// DataDir's store (`gitopstui serve` or a TUI), through the forwarding
// socket: what a second UI on the same data dir is given instead of the
// store it cannot lock.
type Client struct {
	// DataDir is the data dir whose owner answers.
	DataDir string
	// Log receives what a UI cannot show: a subscription that failed to open
	// (discarded when nil).
	Log *slog.Logger
}

// Call implements api.Caller. When the owner has gone away the error says
// so and what to do.
func (c Client) Call(ctx context.Context, name string, raw []byte) (any, error) {
	res, err := Forward(ctx, c.DataDir, name, raw)
	if errors.Is(err, ErrNoServer) {
		return nil, model.Wrap(model.CodeInternal, err,
			"the gitopstui that owned the store has quit: start gitopstui again ("+c.DataDir+")")
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Procedures lists the contract's procedures by name: the owner runs
// forwarded calls as the local admin, so every one of them is open.
func (c Client) Procedures() []api.Info {
	infos := api.Infos()
	slices.SortFunc(infos, func(a, b api.Info) int { return strings.Compare(a.Name, b.Name) })
	return infos
}

// Subscribe is the owner's status subscription (see the package function);
// nil, and a log entry, when the owner offers none or cannot be reached.
func (c Client) Subscribe(ctx context.Context) <-chan api.StatusEvent {
	ch, err := Subscribe(ctx, c.DataDir)
	if err != nil {
		if c.Log != nil {
			c.Log.Warn("no live updates from the process that owns the store", LogKeyDataDir, c.DataDir, LogKeyErr, err)
		}
		return nil
	}
	return ch
}
