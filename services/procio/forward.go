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

// ForwardRequest is one call sent to the process that owns the store.
// Input is the procedure's raw input text (forwarded verbatim, valid JSON or
// not, so that errors match a local call). Actor is what the client believes
// it is; the server ignores it and derives the caller from the socket peer.
type ForwardRequest struct {
	Procedure string      `json:"procedure"`
	Input     string      `json:"input"`
	Actor     model.Actor `json:"actor"`
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
	caller api.Caller
	uid    int
	log    *slog.Logger
}

// NewForwardServer serves calls through caller (the procedure registry).
func NewForwardServer(caller api.Caller, log *slog.Logger) *ForwardServer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ForwardServer{caller: caller, uid: os.Getuid(), log: log}
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
			f.serveConn(hard, conn)
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

func (f *ForwardServer) serveConn(hard context.Context, conn *net.UnixConn) {
	defer conn.Close()
	stop := context.AfterFunc(hard, func() { _ = conn.Close() })
	defer stop()
	_ = conn.SetReadDeadline(time.Now().Add(forwardIOTimeout))
	uid, err := peerUID(conn)
	if err != nil {
		f.log.Warn("forward: peer refused", "err", err)
		f.respond(conn, nil, model.Wrap(model.CodeInsufficientPermission, err, "forwarded call refused: cannot identify the peer"))
		return
	}
	if uid != f.uid {
		f.log.Warn("forward: peer refused", "uid", uid)
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
	actor := model.Actor{User: userName(uid), Role: model.RoleAdmin, Source: "cli"}
	// A call survives the server's shutdown signal (it may finish within the
	// grace period) but not the client going away.
	ctx, cancel := context.WithCancel(hard)
	defer cancel()
	go func() {
		// The client sends nothing after its request: a read returning means
		// it closed the connection (for example on Ctrl-C).
		_, _ = conn.Read(make([]byte, 1))
		cancel()
	}()
	res, callErr := f.caller.Call(model.WithActor(ctx, actor), req.Procedure, []byte(req.Input))
	f.log.Info("forwarded call", "procedure", req.Procedure, "user", actor.User, "code", model.CodeOf(callErr))
	f.respond(conn, res, callErr)
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
		f.log.Warn("forward: write response", "err", err)
	}
}

func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return u.Username
	}
	return model.LocalActor("cli").User
}

// Forward sends one procedure call to the gitopstui server that owns
// dataDir's store and returns its JSON result. It returns an error wrapping
// ErrNoServer when no server answers on the socket (none running, or a stale
// socket), and the server's *model.Error when the call fails.
func Forward(ctx context.Context, dataDir, procedure string, input []byte) (json.RawMessage, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", SocketPath(dataDir))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoServer, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	req := ForwardRequest{Procedure: procedure, Input: string(input), Actor: model.ActorFrom(ctx)}
	// A server that refuses the peer answers without reading the request,
	// so a failed write is only reported when no answer follows.
	werr := json.NewEncoder(conn).Encode(req)
	var resp ForwardResponse
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		if werr != nil {
			return nil, model.Wrap(model.CodeInternal, werr, "forward call to the gitopstui server")
		}
		if ctx.Err() != nil {
			return nil, model.Wrap(model.CodeInternal, ctx.Err(), "forwarded call interrupted")
		}
		return nil, model.Wrap(model.CodeInternal, err, "read the gitopstui server's answer")
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	if resp.Result == nil {
		return json.RawMessage("null"), nil
	}
	return resp.Result, nil
}
