package sshserver

import (
	"bytes"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh/agent"
)

// TestNoForwarding: the server lends no agent and forwards no port. An
// agent forwarding request is answered "no" (the SSH library alone says
// yes); OpenSSH's ssh -A, whose request wants no answer, is refused and
// logged; ssh -R fails; a direct-tcpip channel (ssh -L) is rejected.
func TestNoForwarding(t *testing.T) {
	k := newKey(t)
	var log logBuffer
	h := newHarness(t, k.line("role=admin", "alice"), func(c *Config) { c.Logger = log.logger() })
	c := h.mustDial(k)

	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.RequestAgentForwarding(sess); err == nil {
		t.Error("the server accepted agent forwarding")
	}
	// The session goes on without the agent.
	if out, err := sess.Output("whoami"); err != nil || !strings.Contains(string(out), `"user": "alice"`) {
		t.Errorf("whoami after the refused agent request: %v %s", err, out)
	}
	if conn, err := c.Dial("tcp", h.addr); err == nil {
		_ = conn.Close()
		t.Error("direct-tcpip (ssh -L) accepted")
	}
	if ln, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		_ = ln.Close()
		t.Error("tcpip-forward (ssh -R) accepted")
	}

	// OpenSSH with a real agent and -A.
	dir := t.TempDir()
	keyPath, sock := filepath.Join(dir, "id"), filepath.Join(dir, "agent.sock")
	k.writeOpenSSH(t, keyPath)
	startAgent(t, sock)
	r := h.openSSH(t, "-i", keyPath, "-A", "-o", "ForwardAgent="+sock, "whoami")
	if r.code != 0 || !strings.Contains(r.stdout, `"user": "alice"`) {
		t.Fatalf("ssh -A whoami: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(log.String(), "agent forwarding refused") {
		t.Errorf("ssh -A: the agent request was not refused:\n%s", log.String())
	}
	r = h.openSSH(t, "-i", keyPath, "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:1", "whoami")
	if r.code != 255 || !strings.Contains(r.stderr, "remote port forwarding failed") {
		t.Errorf("ssh -R: exit %d, stderr %q; want 255 and remote port forwarding failed", r.code, r.stderr)
	}
}

// startAgent runs ssh-agent on sock; it returns once the agent listens
// (ssh-agent forks only then) and stops it when the test ends.
func startAgent(t *testing.T, sock string) {
	t.Helper()
	out, err := exec.Command("ssh-agent", "-s", "-a", sock).Output()
	if err != nil {
		t.Fatalf("ssh-agent: %v", err)
	}
	m := regexp.MustCompile(`SSH_AGENT_PID=(\d+);`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("ssh-agent said %q", out)
	}
	pid, _ := strconv.Atoi(string(m[1]))
	t.Cleanup(func() {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	})
}

// logBuffer collects a server's log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
