package sshserver

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/store"
)

// harness is a real server over a real store on 127.0.0.1.
type harness struct {
	t       testing.TB
	dir     string
	db      *store.DB
	svc     *services.Services
	srv     *Server
	addr    string
	hostKey gossh.PublicKey
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

type harnessOpt func(*Config)

func newHarness(t testing.TB, keysFile string, opts ...harnessOpt) *harness {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := services.New(services.Config{DataDir: dir, DB: db})
	if keysFile != "" {
		if err := os.WriteFile(filepath.Join(dir, AuthorizedKeysFile), []byte(keysFile), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{DataDir: dir, Registry: svc.Registry(), RatePerIP: 1000, RateBurst: 1000}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pubBytes, err := os.ReadFile(srv.HostKeyPath() + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	hostKey, _, _, _, err := gossh.ParseAuthorizedKey(pubBytes)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, dir: dir, db: db, svc: svc, srv: srv, addr: ln.Addr().String(), hostKey: hostKey, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		h.stop()
		_ = db.Close()
	})
	return h
}

// stop cancels Serve and returns its result.
func (h *harness) stop() error {
	if h.stopped {
		return nil
	}
	h.stopped = true
	h.cancel()
	return <-h.done
}

// key is a client key pair.
type key struct {
	priv   ed25519.PrivateKey
	signer gossh.Signer
}

func newKey(t testing.TB) key {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return key{priv: priv, signer: s}
}

// writeOpenSSH writes the key pair as OpenSSH files path and path.pub (mode 0600).
func (k key) writeOpenSSH(t testing.TB, path string) {
	t.Helper()
	block, err := gossh.MarshalPrivateKey(k.priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", gossh.MarshalAuthorizedKey(k.signer.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// line is the key's authorized_keys line with options and user.
func (k key) line(options, user string) string {
	l := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k.signer.PublicKey())))
	if options != "" {
		l = options + " " + l
	}
	return l + " " + user + "\n"
}

func (h *harness) clientConfig(auth ...gossh.AuthMethod) *gossh.ClientConfig {
	return &gossh.ClientConfig{
		User:            "anyone",
		Auth:            auth,
		HostKeyCallback: gossh.FixedHostKey(h.hostKey),
		Timeout:         10 * time.Second,
	}
}

func (h *harness) dial(auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", h.addr, h.clientConfig(auth...))
}

func (h *harness) mustDial(k key) *gossh.Client {
	h.t.Helper()
	c, err := h.dial(gossh.PublicKeys(k.signer))
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	h.t.Cleanup(func() { _ = c.Close() })
	return c
}

// result of one exec request.
type result struct {
	code   int
	stdout string
	stderr string
}

func run(t testing.TB, c *gossh.Client, cmd, stdin string) result {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	defer sess.Close()
	var out, errOut bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errOut
	sess.Stdin = strings.NewReader(stdin)
	err = sess.Run(cmd)
	r := result{stdout: out.String(), stderr: errOut.String()}
	var ee *gossh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitStatus()
	default:
		t.Fatalf("run %q: %v\nstderr: %s", cmd, err, errOut.String())
	}
	return r
}

// errorOf decodes error JSON.
func errorOf(t testing.TB, s string) model.Error {
	t.Helper()
	var e model.Error
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		t.Fatalf("not error JSON: %v\n%s", err, s)
	}
	return e
}

// fakeSigner offers one public key but signs with another key: it can
// offer a key it does not hold, never authenticate with it.
type fakeSigner struct {
	offered gossh.PublicKey
	holds   gossh.Signer
}

func (f fakeSigner) PublicKey() gossh.PublicKey { return f.offered }
func (f fakeSigner) Sign(r io.Reader, data []byte) (*gossh.Signature, error) {
	return f.holds.Sign(r, data)
}

// screen collects a pty session's output.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan struct{}
}

func newScreen() *screen { return &screen{ch: make(chan struct{}, 1)} }

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.buf.Write(p)
	s.mu.Unlock()
	select {
	case s.ch <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (s *screen) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Len()
}

// waitFor blocks until the output after offset contains want (or the
// hang guard fires, which fails the test).
func (s *screen) waitFor(t testing.TB, offset int, want string) {
	t.Helper()
	guard := time.NewTimer(20 * time.Second)
	defer guard.Stop()
	for {
		out := s.String()
		if offset <= len(out) && strings.Contains(out[offset:], want) {
			return
		}
		select {
		case <-s.ch:
		case <-guard.C:
			t.Fatalf("screen never showed %q; got:\n%q", want, out[min(offset, len(out)):])
		}
	}
}

// waitGrowth blocks until output beyond offset arrived (hang-guarded).
func (s *screen) waitGrowth(t testing.TB, offset int) {
	t.Helper()
	guard := time.NewTimer(20 * time.Second)
	defer guard.Stop()
	for s.Len() <= offset {
		select {
		case <-s.ch:
		case <-guard.C:
			t.Fatalf("no output after offset %d", offset)
		}
	}
}

// uiSession is an interactive session with a pty.
type uiSession struct {
	sess   *gossh.Session
	stdin  io.WriteCloser
	screen *screen
	done   chan error
}

func openUI(t testing.TB, c *gossh.Client) *uiSession {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	if err := sess.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err != nil {
		t.Fatalf("pty: %v", err)
	}
	scr := newScreen()
	sess.Stdout = scr
	sess.Stderr = scr
	stdin, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatalf("shell: %v", err)
	}
	u := &uiSession{sess: sess, stdin: stdin, screen: scr, done: make(chan error, 1)}
	go func() { u.done <- sess.Wait() }()
	return u
}

func (u *uiSession) wait(t testing.TB) error {
	t.Helper()
	select {
	case err := <-u.done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("session did not end")
		return nil
	}
}

func mustJSON(t testing.TB, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
}

// openSSH runs the OpenSSH client against h with the given extra options and
// returns its exit status, stdout and stderr.
func (h *harness) openSSH(t testing.TB, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := h.sshCommand(ctx, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	return exitResult(t, cmd.Run(), out.String(), errOut.String())
}

// sshCommand is the OpenSSH client command for h with the given extra
// options; the last argument is the remote command.
func (h *harness) sshCommand(ctx context.Context, args ...string) *exec.Cmd {
	host, port, _ := net.SplitHostPort(h.addr)
	base := []string{"-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-p", port, "-l", "someone"}
	if !slices.Contains(args, "-v") {
		base = append(base, "-o", "LogLevel=ERROR")
	}
	return exec.CommandContext(ctx, "ssh", append(append(base, args[:len(args)-1]...), host, args[len(args)-1])...)
}

// exitResult is the result of a finished OpenSSH command.
func exitResult(t testing.TB, err error, stdout, stderr string) result {
	t.Helper()
	r := result{stdout: stdout, stderr: stderr}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("ssh: %v", err)
	}
	return r
}
