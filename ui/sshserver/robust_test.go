package sshserver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// panicRegistry panics in Call for the procedures in calls, or in
// Procedures when procs is set: a bug the registry does not wrap.
type panicRegistry struct {
	Registry
	calls map[string]bool
	procs bool
}

func (p panicRegistry) Call(ctx context.Context, name string, raw []byte) (any, error) {
	if p.calls[name] {
		panic("injected panic in " + name)
	}
	return p.Registry.Call(ctx, name, raw)
}

func (p panicRegistry) Procedures() []api.Info {
	if p.procs {
		panic("injected panic listing procedures")
	}
	return p.Registry.Procedures()
}

// TestPanickingCallIsAnErrorForThatCall: a caller that panics makes that
// call INTERNAL (exec: error JSON on stderr, exit 1; UI: the error on the
// screen, the session goes on) and a log entry with the stack; the server
// keeps serving.
func TestPanickingCallIsAnErrorForThatCall(t *testing.T) {
	k := newKey(t)
	var log logBuffer
	h := newHarness(t, k.line("role=admin", "alice"), func(c *Config) {
		c.Logger = log.logger()
		c.Registry = panicRegistry{Registry: c.Registry, calls: map[string]bool{"clusters.list": true, "projects.list": true}}
	})
	keyPath := filepath.Join(t.TempDir(), "id")
	k.writeOpenSSH(t, keyPath)

	r := h.openSSH(t, "-i", keyPath, "procedure projects.list")
	if e := errorOf(t, r.stderr); r.code != 1 || r.stdout != "" || e.Code != model.CodeInternal || !strings.Contains(e.Message, "projects.list failed with an internal error") {
		t.Errorf("panicking exec call: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if l := log.String(); !strings.Contains(l, `msg="procedure call panicked" procedure=projects.list user=alice panic="injected panic in projects.list"`) ||
		!strings.Contains(l, "robust_test.go") {
		t.Errorf("the panic is not logged with its stack:\n%s", l)
	}

	u := openUI(t, h.mustDial(k))
	u.screen.waitFor(t, 0, "failed with an internal error") // the UI names the procedure in words
	n := u.screen.Len()
	_, _ = u.stdin.Write([]byte("?"))
	u.screen.waitGrowth(t, n)
	_, _ = u.stdin.Write([]byte("\x03"))
	if err := u.wait(t); err != nil {
		t.Errorf("the UI session after a panicking call: %v", err)
	}

	if r := h.openSSH(t, "-i", keyPath, `procedure projects.get '{"id":"nope"}'`); r.code != 1 || errorOf(t, r.stderr).Code != model.CodeNotFound {
		t.Errorf("the server after the panics: exit %d %s", r.code, r.stderr)
	}
}

// TestPanickingSessionEndsOnlyThatSession: a panic in a session handler
// outside a call (here listing procedures, which the UI does when it
// starts) ends that session with a message and exit status 1, and is
// logged with its stack; the server goes on.
func TestPanickingSessionEndsOnlyThatSession(t *testing.T) {
	k := newKey(t)
	var log logBuffer
	h := newHarness(t, k.line("role=admin", "alice"), func(c *Config) {
		c.Logger = log.logger()
		c.Registry = panicRegistry{Registry: c.Registry, procs: true}
	})
	keyPath := filepath.Join(t.TempDir(), "id")
	k.writeOpenSSH(t, keyPath)

	r := h.openSSH(t, "-i", keyPath, "procedures")
	if r.code != 1 || !strings.Contains(r.stderr, "gitopstui: internal error (logged on the server); the session ends") {
		t.Errorf("panicking exec session: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	u := openUI(t, h.mustDial(k))
	u.screen.waitFor(t, 0, "internal error (logged on the server)")
	var ee *gossh.ExitError
	if err := u.wait(t); !errors.As(err, &ee) || ee.ExitStatus() != 1 {
		t.Errorf("panicking UI session ended with %v, want exit status 1", err)
	}
	if n := strings.Count(log.String(), `msg="session panicked"`); n != 2 || !strings.Contains(log.String(), "robust_test.go") {
		t.Errorf("%d session panics logged, want 2 with their stacks:\n%s", n, log.String())
	}
	if r := h.openSSH(t, "-i", keyPath, "whoami"); r.code != 0 || !strings.Contains(r.stdout, "alice") {
		t.Errorf("the server after the panics: exit %d %s", r.code, r.stderr)
	}
}

// sshProc is an OpenSSH client running in the background with a stdin pipe.
type sshProc struct {
	stdin       io.WriteCloser
	out, errOut bytes.Buffer
	done        chan error
}

func (h *harness) startOpenSSH(t *testing.T, args ...string) *sshProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := h.sshCommand(ctx, args...)
	p := &sshProc{done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = &p.out, &p.errOut
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	return p
}

// wait returns the client's result (hang-guarded).
func (p *sshProc) wait(t *testing.T) result {
	t.Helper()
	select {
	case err := <-p.done:
		return exitResult(t, err, p.out.String(), p.errOut.String())
	case <-time.After(30 * time.Second):
		t.Fatal("ssh did not end")
		return result{}
	}
}

// waitLog blocks until log holds want at least n times (hang-guarded).
func waitLog(t *testing.T, log *logBuffer, want string, n int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); strings.Count(log.String(), want) < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never showed %q %d times:\n%s", want, n, log.String())
		}
	}
}

// TestIdentityRecheckedOnEveryCall: a role lowered while a session is open
// applies to its next call; a key removed while its sessions are open
// closes them (UI and exec, through the OpenSSH client) and leaves other
// keys' sessions alone.
func TestIdentityRecheckedOnEveryCall(t *testing.T) {
	admin, other := newKey(t), newKey(t)
	var log logBuffer
	h := newHarness(t, admin.line("role=admin", "alice")+other.line("", "bob"), func(c *Config) { c.Logger = log.logger() })
	keyPath, keysFile := filepath.Join(t.TempDir(), "id"), filepath.Join(h.dir, AuthorizedKeysFile)
	admin.writeOpenSSH(t, keyPath)
	writeKeys := func(s string) {
		if err := os.WriteFile(keysFile, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// The session starts as admin; its input arrives after the role was lowered.
	p := h.startOpenSSH(t, "-i", keyPath, "procedure projects.create -")
	waitLog(t, &log, "msg=exec user=alice role=admin", 1)
	writeKeys(admin.line("role=viewer", "alice") + other.line("", "bob"))
	_, _ = p.stdin.Write([]byte(`{"name":"after the demotion"}`))
	_ = p.stdin.Close()
	r := p.wait(t)
	if e := errorOf(t, r.stderr); r.code != 1 || e.Code != model.CodeInsufficientPermission || !strings.Contains(e.Message, "alice has role viewer") {
		t.Fatalf("a call after the role was lowered: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// Removing the key closes its open sessions, UI and exec.
	ua, ub := openUI(t, h.mustDial(admin)), openUI(t, h.mustDial(other))
	ua.screen.waitFor(t, 0, "Clusters")
	ub.screen.waitFor(t, 0, "Clusters")
	p = h.startOpenSSH(t, "-i", keyPath, "procedure projects.list -")
	waitLog(t, &log, "msg=exec user=alice role=viewer", 1)
	writeKeys(other.line("", "bob"))
	ua.screen.waitFor(t, 0, "your key is no longer authorized")
	_ = ua.wait(t)
	if r := p.wait(t); r.code == 0 || !strings.Contains(r.stderr, "your key is no longer authorized") {
		t.Errorf("exec session of a removed key: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if c, err := h.dial(gossh.PublicKeys(admin.signer)); err == nil {
		_ = c.Close()
		t.Error("a removed key authenticated")
	}
	// bob's session is untouched.
	n := ub.screen.Len()
	_, _ = ub.stdin.Write([]byte("?"))
	ub.screen.waitGrowth(t, n)
	_, _ = ub.stdin.Write([]byte("\x03"))
	if err := ub.wait(t); err != nil {
		t.Errorf("another key's session: %v", err)
	}
}
