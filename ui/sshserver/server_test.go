package sshserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/store"
)

func TestHostKeyGeneratedOnceOwnerOnly(t *testing.T) {
	h := newHarness(t, "")
	fi, err := os.Stat(h.srv.HostKeyPath())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("host key mode = %v, want 0600", fi.Mode().Perm())
	}
	before, _ := os.ReadFile(h.srv.HostKeyPath())
	// A second server over the same data dir keeps the key.
	if _, err := New(Config{DataDir: h.dir, Registry: h.svc.Registry()}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(h.srv.HostKeyPath())
	if string(before) != string(after) {
		t.Error("host key was regenerated")
	}
	if h.hostKey.Type() != gossh.KeyAlgoED25519 {
		t.Errorf("host key type = %s, want ed25519", h.hostKey.Type())
	}
}

func TestUnauthenticatedClientsRefused(t *testing.T) {
	admin := newKey(t)
	h := newHarness(t, admin.line("role=admin", "alice"))
	cases := map[string][]gossh.AuthMethod{
		"none":     nil,
		"password": {gossh.Password("alice")},
		"keyboard-interactive": {gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return []string{"alice"}, nil
		})},
		"unknown key": {gossh.PublicKeys(newKey(t).signer)},
	}
	for name, auth := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := h.dial(auth...)
			if err == nil {
				_ = c.Close()
				t.Fatal("connection authenticated")
			}
			if !strings.Contains(err.Error(), "unable to authenticate") {
				t.Errorf("err = %v, want an authentication failure", err)
			}
		})
	}
	// The server advertises public keys only.
	_, err := h.dial()
	if !strings.Contains(err.Error(), "[none]") && !strings.Contains(err.Error(), "publickey") {
		t.Logf("none-auth error: %v", err)
	}
}

// TestOfferedKeyCannotImpersonate: a client that offers admin's public key
// but holds only the viewer's private key is the viewer, never the admin.
func TestOfferedKeyCannotImpersonate(t *testing.T) {
	// alice's key is encrypted and its passphrase never given to ssh: a
	// client can offer her public key but cannot sign with it.
	dir := t.TempDir()
	adminPath, viewerPath := filepath.Join(dir, "admin"), filepath.Join(dir, "viewer")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-a", "1", "-N", "not given to ssh", "-C", "", "-f", adminPath).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	adminPub, err := os.ReadFile(adminPath + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	adminKey, _, _, _, err := gossh.ParseAuthorizedKey(adminPub)
	if err != nil {
		t.Fatal(err)
	}
	viewer := newKey(t)
	viewer.writeOpenSSH(t, viewerPath)
	h := newHarness(t, "role=admin "+strings.TrimSpace(string(adminPub))+" alice\n"+viewer.line("", "bob"))
	impostor := fakeSigner{offered: adminKey, holds: viewer.signer}

	// Offering admin's key and signing with another gets nowhere.
	if c, err := h.dial(gossh.PublicKeys(impostor)); err == nil {
		_ = c.Close()
		t.Fatal("authenticated with a key the client does not hold")
	}
	// Then trying the viewer key: either the server already dropped the
	// connection (a bad signature ends it) or the session is bob the viewer.
	if c, err := h.dial(gossh.PublicKeys(impostor, viewer.signer)); err == nil {
		var id Identity
		mustJSON(t, run(t, c, "whoami", "").stdout, &id)
		_ = c.Close()
		if id.User != "bob" || id.Role != model.RoleViewer {
			t.Fatalf("impostor became %+v", id)
		}
	}

	// OpenSSH with admin's key encrypted (BatchMode cannot ask for the
	// passphrase, so the client can offer the public key but not sign) and
	// the viewer's key: the server's key handler accepts admin's key when it
	// is offered, the client cannot sign with it and goes on to authenticate
	// with the viewer key. The session is bob, a viewer.
	r := h.openSSH(t, "-v", "-i", adminPath, "-i", viewerPath, "whoami")
	if !strings.Contains(r.stderr, "Server accepts key: "+adminPath) {
		t.Fatalf("the server never accepted the offered admin key; ssh said:\n%s", r.stderr)
	}
	var id Identity
	mustJSON(t, r.stdout, &id)
	if r.code != 0 || id.User != "bob" || id.Role != model.RoleViewer || id.Fingerprint != gossh.FingerprintSHA256(viewer.signer.PublicKey()) {
		t.Fatalf("offered admin, used viewer: exit %d, whoami %+v", r.code, id)
	}
	r = h.openSSH(t, "-i", adminPath, "-i", viewerPath, `procedure projects.create '{"name":"pwned"}'`)
	if r.code != 1 || errorOf(t, r.stderr).Code != model.CodeInsufficientPermission {
		t.Errorf("impostor mutation: exit %d, stderr %s; want exit 1 INSUFFICIENT_PERMISSIONS", r.code, r.stderr)
	}
}

// TestExecProceduresRolesAndAudit: exec procedures run as the key's user
// and role, with the headless contract's output and exit statuses, and are
// audited as that user over SSH. The subtests run in order on one server.
func TestExecProceduresRolesAndAudit(t *testing.T) {
	admin, op, viewer := newKey(t), newKey(t), newKey(t)
	h := newHarness(t, "# team\n"+admin.line(`role=admin,email="alice@example.com"`, "alice")+op.line("role=operator", "olga")+viewer.line("", "bob"))
	ca, cv, co := h.mustDial(admin), h.mustDial(viewer), h.mustDial(op)

	t.Run("admin creates", func(t *testing.T) {
		r := run(t, ca, `procedure projects.create {"id":"project-1","name":"Web Shop"}`, "")
		if r.code != 0 {
			t.Fatalf("create: exit %d\n%s", r.code, r.stderr)
		}
		var p model.Project
		mustJSON(t, r.stdout, &p)
		if p.ID != "project-1" || p.Name != "Web Shop" {
			t.Errorf("created %+v", p)
		}
		if !strings.HasSuffix(r.stdout, "}\n") || !strings.Contains(r.stdout, "\n  \"id\"") {
			t.Errorf("result is not indented JSON with a final newline: %q", r.stdout)
		}
	})
	t.Run("viewer reads", func(t *testing.T) {
		// JSON on stdin with "-" works too.
		r := run(t, cv, "procedure projects.list -", "{}")
		var list []model.Project
		mustJSON(t, r.stdout, &list)
		if r.code != 0 || len(list) != 1 {
			t.Errorf("viewer list: exit %d, %s %s", r.code, r.stdout, r.stderr)
		}
		// A single-quoted argument that reached the server with its quotes.
		if r = run(t, cv, `procedure projects.list '{}'`, ""); r.code != 0 {
			t.Errorf("quoted input: exit %d %s", r.code, r.stderr)
		}
	})
	t.Run("mutations need admin", func(t *testing.T) {
		// The viewer's mutation is refused by the registry, and audited as bob.
		r := run(t, cv, `procedure projects.create {"name":"x"}`, "")
		if r.code != 1 || r.stdout != "" {
			t.Fatalf("viewer create: exit %d stdout %q", r.code, r.stdout)
		}
		if e := errorOf(t, r.stderr); e.Code != model.CodeInsufficientPermission {
			t.Errorf("viewer create: %s %s", e.Code, e.Message)
		}
		// The operator is not an admin either.
		if r = run(t, co, `procedure projects.create {"name":"y"}`, ""); errorOf(t, r.stderr).Code != model.CodeInsufficientPermission {
			t.Errorf("operator create: %s", r.stderr)
		}
	})
	t.Run("errors and usage", func(t *testing.T) { execErrorsAndUsage(t, ca) })
	t.Run("procedures listing", func(t *testing.T) {
		if r := run(t, cv, "procedures", ""); r.code != 0 || !strings.Contains(r.stdout, "projects.list") || !strings.Contains(r.stdout, "gitops.installFlux") {
			t.Errorf("procedures: exit %d\n%s", r.code, r.stdout)
		}
		var procs []api.Info
		mustJSON(t, run(t, cv, "procedures --json", "").stdout, &procs)
		if len(procs) < 10 {
			t.Errorf("procedures --json listed %d", len(procs))
		}
	})
	t.Run("audit", func(t *testing.T) { auditedOverSSH(t, h.db, "alice", "projects.create") })
}

// execErrorsAndUsage: bad input is BAD_REQUEST with exit 1, usage errors
// exit 2, and a session with neither pty nor command is a usage error.
func execErrorsAndUsage(t *testing.T, c *gossh.Client) {
	t.Helper()
	if r := run(t, c, `procedure projects.create {"name":`, ""); r.code != 1 || errorOf(t, r.stderr).Code != model.CodeBadRequest {
		t.Errorf("bad JSON: exit %d %s", r.code, r.stderr)
	}
	if r := run(t, c, `procedure no.such {}`, ""); r.code != 1 || errorOf(t, r.stderr).Code != model.CodeNotFound {
		t.Errorf("unknown procedure: exit %d %s", r.code, r.stderr)
	}
	for _, cmd := range []string{"procedure", "rm -rf /", "procedure projects.list @/etc/passwd", "procedures --yaml"} {
		if r := run(t, c, cmd, ""); r.code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", cmd, r.code, r.stderr)
		}
	}
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	err = sess.Shell()
	if err == nil {
		err = sess.Wait()
	}
	var ee *gossh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 2 {
		t.Errorf("shell without pty: %v, want exit 2", err)
	}
}

// auditedOverSSH requires every audit record to come from SSH and exactly
// one successful call of procedure by user, with the admin role.
func auditedOverSSH(t *testing.T, db *store.DB, user, procedure string) {
	t.Helper()
	var entries []model.AuditEntry
	if err := db.View(func(tx *store.Tx) error {
		var err error
		entries, _, err = store.Audit.List(tx, store.Query[model.AuditEntry]{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var n int
	for _, e := range entries {
		if e.Source != "ssh" {
			t.Errorf("audit source = %q, want ssh: %+v", e.Source, e)
		}
		if e.Actor == user && e.Procedure == procedure && e.Role == string(model.RoleAdmin) && e.Code == "" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("want one audit entry of %s's %s, got %+v", user, procedure, entries)
	}
}

func TestIdleAndMaxSessionTimeouts(t *testing.T) {
	k := newKey(t)
	idle := newHarness(t, k.line("", "bob"), func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
	waitClosed(t, idle.mustDial(k))
	// A busy UI session is still cut at the maximum length.
	long := newHarness(t, k.line("", "bob"), func(c *Config) { c.MaxSessionTime = 1500 * time.Millisecond })
	c := long.mustDial(k)
	u := openUI(t, c)
	u.screen.waitFor(t, 0, "Clusters")
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				_, _ = u.stdin.Write([]byte("j"))
			}
		}
	}()
	_ = u.wait(t)
	close(stop)
	waitClosed(t, c)
}

// waitClosed requires the server to close c (hang-guarded).
func waitClosed(t *testing.T, c *gossh.Client) {
	t.Helper()
	done := make(chan struct{})
	go func() { _ = c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not close the connection")
	}
}

func TestAuthorizedKeysReloadedWhenChanged(t *testing.T) {
	k := newKey(t)
	h := newHarness(t, "")
	if c, err := h.dial(gossh.PublicKeys(k.signer)); err == nil {
		_ = c.Close()
		t.Fatal("authenticated before the file exists")
	}
	path := filepath.Join(h.dir, AuthorizedKeysFile)
	if err := os.WriteFile(path, []byte(k.line("", "carol")), 0o600); err != nil {
		t.Fatal(err)
	}
	c := h.mustDial(k)
	var id Identity
	mustJSON(t, run(t, c, "whoami", "").stdout, &id)
	if id.User != "carol" || id.Role != model.RoleViewer {
		t.Errorf("whoami = %+v", id)
	}
	// Promote carol: new sessions, even on the same connection, see the change.
	if err := os.WriteFile(path, []byte(k.line("role=operator", "carol")+"# padding so the size changes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustJSON(t, run(t, c, "whoami", "").stdout, &id)
	if id.Role != model.RoleOperator {
		t.Errorf("after promotion: %+v", id)
	}
	// Remove the key: existing connections get no new session, new ones fail.
	if err := os.WriteFile(path, []byte("# nobody\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, c, "whoami", ""); r.code != 1 || !strings.Contains(r.stderr, "permission denied") {
		t.Errorf("revoked key: exit %d %q", r.code, r.stderr)
	}
	if c2, err := h.dial(gossh.PublicKeys(k.signer)); err == nil {
		_ = c2.Close()
		t.Error("revoked key authenticated")
	}
}

func TestAuthorizedKeysParsing(t *testing.T) {
	a, b, c, d := newKey(t), newKey(t), newKey(t), newKey(t)
	data := "\n# comment\n" + a.line("role=admin", "alice extra words") + b.line(`from="10.0.0.1"`, "bob") +
		c.line("role=root", "carl") + "not a key\n" + strings.TrimSuffix(d.line("", ""), " \n") + "\n"
	keys := parseAuthorizedKeys([]byte(data), slog.New(slog.DiscardHandler))
	if id := keys[string(a.signer.PublicKey().Marshal())]; id.User != "alice" || id.Role != model.RoleAdmin {
		t.Errorf("alice = %+v", id)
	}
	if _, ok := keys[string(b.signer.PublicKey().Marshal())]; ok {
		t.Error("a key with an unsupported restriction (from=) was accepted")
	}
	if _, ok := keys[string(c.signer.PublicKey().Marshal())]; ok {
		t.Error("a key with an unknown role was accepted")
	}
	if id := keys[string(d.signer.PublicKey().Marshal())]; id.Role != model.RoleViewer || !strings.HasPrefix(id.User, "SHA256:") {
		t.Errorf("key without comment = %+v", id)
	}
	if len(keys) != 2 {
		t.Errorf("%d keys, want 2", len(keys))
	}
}

func TestSessionLimit(t *testing.T) {
	k := newKey(t)
	h := newHarness(t, k.line("", "bob"), func(c *Config) { c.MaxSessions = 2 })
	c := h.mustDial(k)
	u1, u2 := openUI(t, c), openUI(t, c)
	u1.screen.waitFor(t, 0, "Clusters")
	u2.screen.waitFor(t, 0, "Clusters")
	r := run(t, c, "whoami", "")
	if r.code != 1 || !strings.Contains(r.stderr, "too many sessions") {
		t.Errorf("third session: exit %d %q", r.code, r.stderr)
	}
	// Quitting one UI frees its slot.
	_, _ = u1.stdin.Write([]byte("\x03"))
	if err := u1.wait(t); err != nil {
		t.Errorf("quit: %v", err)
	}
	if r := run(t, c, "whoami", ""); r.code != 0 {
		t.Errorf("after a session ended: exit %d %s", r.code, r.stderr)
	}
	_ = u2.sess.Close()
}

func TestRateLimitPerIP(t *testing.T) {
	k := newKey(t)
	h := newHarness(t, k.line("", "bob"), func(c *Config) { c.RatePerIP, c.RateBurst = 0.0001, 2 })
	for i := 0; i < 2; i++ {
		c := h.mustDial(k)
		_ = c.Close()
	}
	c, err := h.dial(gossh.PublicKeys(k.signer))
	if err == nil {
		_ = c.Close()
		t.Fatal("third connection within the burst window was accepted")
	}
	// The refusal is explained before the SSH version line.
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 256)
	n, _ := conn.Read(buf)
	if !strings.Contains(string(buf[:n]), "too many connections") {
		t.Errorf("refusal said %q", buf[:n])
	}
}

// TestClientDisconnectMidRenderLeavesNoGoroutine: clients that vanish while
// their UI renders (and while keys are in flight) leave nothing running.
func TestClientDisconnectMidRenderLeavesNoGoroutine(t *testing.T) {
	k := newKey(t)
	h := newHarness(t, k.line("role=admin", "alice"))
	// Warm up: one full session so lazily started goroutines exist in the baseline.
	c := h.mustDial(k)
	u := openUI(t, c)
	u.screen.waitFor(t, 0, "Clusters")
	_, _ = u.stdin.Write([]byte("\x03"))
	_ = u.wait(t)
	_ = c.Close()
	base := settledGoroutines(t, -1)

	for i := 0; i < 5; i++ {
		conn, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		cc, chans, reqs, err := gossh.NewClientConn(conn, h.addr, h.clientConfig(gossh.PublicKeys(k.signer)))
		if err != nil {
			t.Fatal(err)
		}
		client := gossh.NewClient(cc, chans, reqs)
		u := openUI(t, client)
		// Some output arrived: the UI is rendering. Press keys and vanish.
		u.screen.waitFor(t, 0, "gitopstui")
		_, _ = u.stdin.Write([]byte("?j\tk"))
		_ = conn.Close()
		_ = u.wait(t)
	}
	if n := settledGoroutines(t, base); n > base {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%d goroutines after the disconnects, %d before\n%s", n, base, buf)
	}
}

// settledGoroutines waits (bounded) until the goroutine count is at most
// want (or, with want < 0, stops changing) and returns it.
func settledGoroutines(t *testing.T, want int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last, stable := runtime.NumGoroutine(), 0
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n := runtime.NumGoroutine()
		if want >= 0 && n <= want {
			return n
		}
		if n == last {
			stable++
			if want < 0 && stable >= 6 {
				return n
			}
		} else {
			last, stable = n, 0
		}
	}
	return runtime.NumGoroutine()
}

// slowRegistry blocks one procedure until released.
type slowRegistry struct {
	Registry
	name    string
	started chan struct{}
	release chan struct{}
}

func (s slowRegistry) Call(ctx context.Context, name string, raw []byte) (any, error) {
	if name == s.name {
		close(s.started)
		<-s.release
	}
	return s.Registry.Call(ctx, name, raw)
}

// TestGracefulShutdownLetsOperationsFinish: on shutdown the listener closes,
// the running call completes and is delivered, open UIs are asked to quit,
// and Serve returns cleanly.
func TestGracefulShutdownLetsOperationsFinish(t *testing.T) {
	k := newKey(t)
	slow := slowRegistry{name: "projects.create", started: make(chan struct{}), release: make(chan struct{})}
	h := newHarness(t, k.line("role=admin", "alice"), func(c *Config) {
		slow.Registry = c.Registry
		c.Registry = slow
	})
	c := h.mustDial(k)
	u := openUI(t, c)
	u.screen.waitFor(t, 0, "Clusters")
	got := make(chan result, 1)
	go func() { got <- run(t, c, `procedure projects.create {"id":"p-late","name":"Late"}`, "") }()
	<-slow.started

	served := make(chan error, 1)
	go func() { served <- h.stop() }()
	// New connections are refused once shutdown began.
	for {
		conn, err := net.DialTimeout("tcp", h.addr, time.Second)
		if err != nil {
			break
		}
		_ = conn.Close()
		time.Sleep(10 * time.Millisecond)
	}
	close(slow.release)
	r := <-got
	if r.code != 0 || !strings.Contains(r.stdout, "p-late") {
		t.Fatalf("call running at shutdown: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	if err := u.wait(t); err != nil {
		t.Errorf("UI session at shutdown: %v", err)
	}
	_ = c.Close()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	var p model.Project
	if err := h.db.View(func(tx *store.Tx) error {
		var err error
		p, err = store.Projects.Get(tx, "p-late")
		return err
	}); err != nil || p.Name != "Late" {
		t.Errorf("the call's write: %+v %v", p, err)
	}
}

func TestInteractiveSessionIsPerSession(t *testing.T) {
	admin, viewer := newKey(t), newKey(t)
	h := newHarness(t, admin.line("role=admin", "alice")+viewer.line("", "bob"))
	ua := openUI(t, h.mustDial(admin))
	ub := openUI(t, h.mustDial(viewer))
	// Each session shows its own user on its first screen.
	ua.screen.waitFor(t, 0, "alice")
	ub.screen.waitFor(t, 0, "bob")
	ua.screen.waitFor(t, 0, "Clusters")
	if strings.Contains(ub.screen.String(), "alice") || strings.Contains(ua.screen.String(), "bob") {
		t.Error("one session shows the other's user")
	}
	// The client's TERM (xterm-256color) picks a 256-color profile: no truecolor sequences.
	if strings.Contains(ua.screen.String(), "38;2;") {
		t.Error("truecolor escapes sent to a 256-color terminal")
	}
	// Keys and window changes reach the session and redraw it.
	n := ua.screen.Len()
	_, _ = ua.stdin.Write([]byte("?"))
	ua.screen.waitGrowth(t, n)
	n = ua.screen.Len()
	if err := ua.sess.WindowChange(40, 120); err != nil {
		t.Fatal(err)
	}
	ua.screen.waitGrowth(t, n)
	// ctrl+c quits from any screen.
	for _, u := range []*uiSession{ua, ub} {
		_, _ = u.stdin.Write([]byte("\x03"))
		if err := u.wait(t); err != nil {
			t.Error(err)
		}
	}
}
