package procio

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// SocketFile is the forwarding socket's name inside the data dir.
const SocketFile = "gitopstui.sock"

// maxForwardRequest bounds one forwarded request (input plus envelope).
const maxForwardRequest = 2*api.MaxInputBytes + 64<<10

// forwardIOTimeout bounds reading a request and writing its answer.
const forwardIOTimeout = 30 * time.Second

// ErrNoServer means no gitopstui server answers on the data dir's socket.
var ErrNoServer = errors.New("no gitopstui server is listening")

// The operations of the forwarding socket (ForwardRequest.Op).
const (
	// OpCall (the default) runs one procedure and answers its result.
	OpCall = ""
	// OpPing answers the server's ServerInfo: who owns the data dir.
	OpPing = "ping"
	// OpSubscribe answers an empty response, then streams the server's
	// status events (api.StatusEvent, one JSON document each) until either
	// side ends.
	OpSubscribe = "subscribe"
)

// ForwardRequest is one request sent to the process that owns the store.
// Input is the procedure's raw input text (forwarded verbatim, valid JSON or
// not, so that errors match a local call). Actor is what the client believes
// it is; the server ignores it and derives the caller from the socket peer.
type ForwardRequest struct {
	Op        string      `json:"op,omitempty"`
	Procedure string      `json:"procedure"`
	Input     string      `json:"input"`
	Actor     model.Actor `json:"actor"`
}

// ServerInfo is what a ping answers: the process that owns the data dir.
type ServerInfo struct {
	// PID is the server's process id.
	PID int `json:"pid"`
	// Mode is what the process is ("serve", "tui"; empty when not told).
	Mode string `json:"mode,omitempty"`
	// Since is when the server started answering.
	Since time.Time `json:"since"`
	// Streams says the server offers the status subscription (OpSubscribe).
	Streams bool `json:"streams"`
}

// ForwardResponse carries either the result or the error.
type ForwardResponse struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *model.Error    `json:"error,omitempty"`
}

// SocketPath is the forwarding socket of dataDir.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, SocketFile) }

// ListenForward creates the forwarding socket in dataDir, owner-only where
// the platform has file modes (0600). The socket is bound inside a fresh
// 0700 directory, restricted, and only then renamed into place, so it is
// never reachable with looser permissions. A socket file already there is
// removed: call this only while holding the store's lock, which proves that
// no other server owns the data dir.
func ListenForward(dataDir string) (*net.UnixListener, error) {
	tmp, err := os.MkdirTemp(dataDir, ".sock-")
	if err != nil {
		return nil, fmt.Errorf("forward socket: %w", err)
	}
	defer os.RemoveAll(tmp)
	bound := filepath.Join(tmp, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: bound, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("forward socket: %w", err)
	}
	ln.SetUnlinkOnClose(false)
	final := SocketPath(dataDir)
	if err := restrictSocket(bound); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("forward socket: %w", err)
	}
	if err := os.Remove(final); err != nil && !errors.Is(err, os.ErrNotExist) {
		_ = ln.Close()
		return nil, fmt.Errorf("forward socket: remove stale %s: %w", final, err)
	}
	if err := os.Rename(bound, final); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("forward socket: %w", err)
	}
	return ln, nil
}

// RemoveSocket deletes dataDir's forwarding socket file.
func RemoveSocket(dataDir string) error {
	err := os.Remove(SocketPath(dataDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// ForwardServer answers forwarded procedure calls on a unix socket. A peer
// whose uid (SO_PEERCRED) is the server's runs as that local user with the
// admin role, exactly like a local `gitopstui --procedure`; any other peer,
// and every peer on a platform without peer credentials, is refused with
// INSUFFICIENT_PERMISSIONS.
type ForwardServer struct {
	caller    api.Caller
	uid       int
	log       *slog.Logger
	info      ServerInfo
	subscribe func(context.Context) <-chan api.StatusEvent
}

// NewForwardServer serves calls through caller (the procedure registry).
func NewForwardServer(caller api.Caller, log *slog.Logger) *ForwardServer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ForwardServer{caller: caller, uid: os.Getuid(), log: log, info: ServerInfo{PID: os.Getpid(), Since: time.Now()}}
}

// Describe names what the serving process is (a ping answers it); it
// returns f. Call it before Serve.
func (f *ForwardServer) Describe(mode string) *ForwardServer {
	f.info.Mode = mode
	return f
}

// WithSubscribe offers subscribe (the services' status subscription) to
// clients through OpSubscribe, so that a second UI on the same data dir
// follows the store live; it returns f. Call it before Serve.
func (f *ForwardServer) WithSubscribe(subscribe func(context.Context) <-chan api.StatusEvent) *ForwardServer {
	f.subscribe = subscribe
	f.info.Streams = subscribe != nil
	return f
}

// Serve answers connections on ln until ctx ends, then stops accepting and
// waits up to grace for running calls to finish; calls still running then
// are cancelled and their connections closed. The socket file stays; the
// caller removes it with RemoveSocket.
func (f *ForwardServer) Serve(ctx context.Context, ln *net.UnixListener, grace time.Duration) error {
	// hard outlives ctx by the grace period: it bounds every call and connection.
	hard, kill := context.WithCancel(context.WithoutCancel(ctx))
	defer kill()
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	var err error
	for {
		conn, aerr := ln.AcceptUnix()
		if aerr != nil {
			if ctx.Err() == nil {
				err = fmt.Errorf("forward accept: %w", aerr)
			}
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.serveConn(ctx, hard, conn)
		}()
	}
	_ = ln.Close()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	select {
	case <-done:
	case <-deadline.C:
		f.log.Warn("forward: calls still running at the shutdown deadline: cancelling them")
		kill()
		<-done
	}
	return err
}

// serveConn answers one connection: a call and a ping end with the
// server's hard context, a subscription already with ctx (the shutdown
// signal), since it never finishes on its own.
func (f *ForwardServer) serveConn(ctx, hard context.Context, conn *net.UnixConn) {
	defer conn.Close()
	stop := context.AfterFunc(hard, func() { _ = conn.Close() })
	defer stop()
	_ = conn.SetReadDeadline(time.Now().Add(forwardIOTimeout))
	uid, err := peerUID(conn)
	if err != nil {
		f.log.Warn("forward: peer refused", LogKeyErr, err)
		f.respond(conn, nil, model.Wrap(model.CodeInsufficientPermission, err, "forwarded call refused: cannot identify the peer"))
		return
	}
	if uid != f.uid {
		f.log.Warn("forward: peer refused", LogKeyUID, uid)
		f.respond(conn, nil, model.Errorf(model.CodeInsufficientPermission,
			"forwarded calls are only accepted from uid %d (the server's user); this peer is uid %d", f.uid, uid))
		return
	}
	br := bufio.NewReader(io.LimitReader(conn, maxForwardRequest))
	var req ForwardRequest
	if err := json.NewDecoder(br).Decode(&req); err != nil {
		f.respond(conn, nil, model.Wrap(model.CodeBadRequest, err, "forwarded request"))
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	switch req.Op {
	case OpCall:
		f.call(hard, conn, uid, req)
	case OpPing:
		f.respond(conn, f.info, nil)
	case OpSubscribe:
		f.stream(ctx, conn)
	default:
		f.respond(conn, nil, model.Errorf(model.CodeBadRequest, "forwarded request: unknown op %q", req.Op).WithDetail("field", "op"))
	}
}

// untilClosed returns a context derived from parent that ends when the
// client closes conn: the client sends nothing after its request, so a
// read returning means it went away (for example on Ctrl-C).
func untilClosed(parent context.Context, conn net.Conn) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	go func() {
		_, _ = conn.Read(make([]byte, 1))
		cancel()
	}()
	return ctx, cancel
}

// call runs one procedure as the peer's user with the admin role, from
// source "cli" ("tui" when a UI attached to this process sent it: the
// client's word is taken for the source alone). A call survives the
// server's shutdown signal (it may finish within the grace period) but not
// the client going away.
func (f *ForwardServer) call(hard context.Context, conn net.Conn, uid int, req ForwardRequest) {
	source := "cli"
	if req.Actor.Source == "tui" {
		source = "tui"
	}
	actor := model.Actor{User: userName(uid), Role: model.RoleAdmin, Source: source}
	ctx, cancel := untilClosed(hard, conn)
	defer cancel()
	res, callErr := f.caller.Call(model.WithActor(ctx, actor), req.Procedure, []byte(req.Input))
	f.log.Info("forwarded call", LogKeyProcedure, req.Procedure, LogKeyUser, actor.User, LogKeyCode, model.CodeOf(callErr))
	f.respond(conn, res, callErr)
}

// stream sends the status events of a fresh subscription until the client
// goes away or the server shuts down.
func (f *ForwardServer) stream(ctx context.Context, conn net.Conn) {
	if f.subscribe == nil {
		f.respond(conn, nil, model.Errorf(model.CodeNotFound, "this gitopstui server offers no status subscription"))
		return
	}
	ctx, cancel := untilClosed(ctx, conn)
	defer cancel()
	events := f.subscribe(ctx)
	f.respond(conn, nil, nil)
	enc := json.NewEncoder(conn)
	for e := range events {
		_ = conn.SetWriteDeadline(time.Now().Add(forwardIOTimeout))
		if err := enc.Encode(e); err != nil {
			f.log.Warn("forward: status subscriber dropped", LogKeyErr, err)
			return
		}
	}
}

func (f *ForwardServer) respond(conn net.Conn, res any, callErr error) {
	var resp ForwardResponse
	if callErr != nil {
		resp.Error = model.AsError(callErr)
	} else {
		b, err := json.Marshal(res)
		if err != nil {
			resp.Error = model.Wrap(model.CodeInternal, err, "encode result")
		} else {
			resp.Result = b
		}
	}
	_ = conn.SetWriteDeadline(time.Now().Add(forwardIOTimeout))
	if err := json.NewEncoder(conn).Encode(resp); err != nil {
		f.log.Warn("forward: write response", LogKeyErr, err)
	}
}

func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return u.Username
	}
	return model.LocalActor("cli").User
}
