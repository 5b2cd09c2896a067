package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/procio"
	"github.com/gitopstui/gitopstui/store"
)

// serveProc is a `gitopstui serve` process.
type serveProc struct {
	cmd    *exec.Cmd
	addr   string
	dir    string
	mu     sync.Mutex
	log    bytes.Buffer
	exited chan error
}

func (p *serveProc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// startServe runs `gitopstui --data-dir DIR serve --listen 127.0.0.1:0` and
// waits for its "serving" log line.
func startServe(t *testing.T, dir string, args ...string) *serveProc {
	t.Helper()
	return startServeEnv(t, dir, nil, args...)
}

// startServeEnv is startServe with env added to the process's environment.
func startServeEnv(t *testing.T, dir string, env []string, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(lookPath(t, "gitopstui"), append([]string{"--data-dir", dir, "serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, dir: dir, exited: make(chan error, 1)}
	addrc := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`msg=serving addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.log.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case p.addr = <-addrc:
	case err := <-p.exited:
		t.Fatalf("serve exited: %v\n%s", err, p.logText())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start\n%s", p.logText())
	}
	return p
}

// stop sends SIGTERM and requires a clean exit.
func (p *serveProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, p.logText())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve ignored SIGTERM\n%s", p.logText())
	}
}

// keygen makes an OpenSSH ed25519 key pair with ssh-keygen and returns its
// authorized_keys line (without options and comment).
func keygen(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(pub))
	return f[0] + " " + f[1]
}

func sshArgs(addr, key string) []string {
	host, port, _ := net.SplitHostPort(addr)
	return []string{"-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-i", key, "-p", port, host}
}

// runCmd runs name args with stdin and returns exit status, stdout, stderr.
func runCmd(t *testing.T, stdin string, name string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errOut.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errOut.String()
	}
	t.Fatalf("%s: %v", name, err)
	return -1, "", ""
}

// TestServeOverOpenSSH drives `gitopstui serve` with the OpenSSH client:
// the UI in tmux (its screen read with capture-pane), exec procedures with
// headless exit statuses, roles, and --procedure forwarding while it runs.
func TestServeOverOpenSSH(t *testing.T) {
	work := t.TempDir()
	dir := filepath.Join(work, "data")
	adminKey, viewerKey := filepath.Join(work, "admin"), filepath.Join(work, "viewer")
	keys := "role=admin " + keygen(t, adminKey) + " alice\n" + keygen(t, viewerKey) + " bob\n"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), []byte(keys), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, dir, "--max-sessions", "8", "--idle-timeout", "5m", "--max-session", "1h", "--rate", "50/s")

	// Exec: a mutation as admin, JSON on stdout, exit 0.
	code, out, errOut := runCmd(t, "", "ssh", append(sshArgs(srv.addr, adminKey), "procedure", "projects.create", `'{"id":"web","name":"Web Shop"}'`)...)
	if code != 0 || !strings.Contains(out, `"id": "web"`) {
		t.Fatalf("admin projects.create: exit %d\n%s\n%s", code, out, errOut)
	}
	// The viewer lists (JSON on stdin) but may not mutate.
	code, out, errOut = runCmd(t, "{}", "ssh", append(sshArgs(srv.addr, viewerKey), "procedure", "projects.list", "-")...)
	var projects []model.Project
	if code != 0 || json.Unmarshal([]byte(out), &projects) != nil || len(projects) != 1 {
		t.Fatalf("viewer projects.list: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCmd(t, "", "ssh", append(sshArgs(srv.addr, viewerKey), "procedure", "projects.create", `'{"name":"x"}'`)...)
	var e model.Error
	if code != 1 || out != "" || json.Unmarshal([]byte(errOut), &e) != nil || e.Code != model.CodeInsufficientPermission {
		t.Errorf("viewer projects.create: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	if code, _, errOut = runCmd(t, "", "ssh", append(sshArgs(srv.addr, viewerKey), "frobnicate")...); code != 2 {
		t.Errorf("unknown command: exit %d %s", code, errOut)
	}
	if code, out, _ = runCmd(t, "", "ssh", append(sshArgs(srv.addr, viewerKey), "procedures")...); code != 0 || !strings.Contains(out, "projects.list") {
		t.Errorf("procedures: exit %d\n%s", code, out)
	}

	// --procedure on this machine is forwarded to the server that holds the store.
	code, out, errOut = runCmd(t, "", lookPath(t, "gitopstui"), "--data-dir", dir, "--procedure", "projects.get", "--input", `{"id":"web"}`)
	if code != 0 || !strings.Contains(out, `"name": "Web Shop"`) {
		t.Fatalf("forwarded projects.get: exit %d\n%s\n%s\n%s", code, out, errOut, srv.logText())
	}
	code, out, _ = runCmd(t, "", lookPath(t, "gitopstui"), "--data-dir", dir, "--procedure", "projects.create", "--input", `{"id":"api","name":"API"}`, "--output", "yaml")
	if code != 0 || !strings.Contains(out, "name: API") {
		t.Errorf("forwarded create as yaml: exit %d\n%s", code, out)
	}
	code, _, errOut = runCmd(t, "", lookPath(t, "gitopstui"), "--data-dir", dir, "--procedure", "projects.get", "--input", `{"id":"nope"}`)
	if code != 1 || json.Unmarshal([]byte(errOut), &e) != nil || e.Code != model.CodeNotFound {
		t.Errorf("forwarded error: exit %d %s", code, errOut)
	}
	if !strings.Contains(srv.logText(), "forwarded call") {
		t.Errorf("the server did not log the forwarded calls:\n%s", srv.logText())
	}

	// The UI in tmux over OpenSSH.
	tmuxUI(t, srv.addr, adminKey)

	srv.stop(t)
	if _, err := os.Stat(procio.SocketPath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after shutdown: %v", err)
	}
	// With the server gone, --procedure opens the store itself.
	if code, out, errOut = runCmd(t, "", lookPath(t, "gitopstui"), "--data-dir", dir, "--procedure", "projects.list"); code != 0 || !strings.Contains(out, "API") {
		t.Errorf("after serve stopped: exit %d %s %s", code, out, errOut)
	}
}

func tmuxUI(t *testing.T, addr, key string) {
	t.Helper()
	sock := fmt.Sprintf("gitopstui-serve-test-%d", os.Getpid())
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", append([]string{"-L", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	// The pane stays after ssh exits and shows its exit status.
	sshCmd := "ssh -t " + strings.Join(sshArgs(addr, key), " ") + "; echo ssh-exit=$?; sleep 600"
	tmux("new-session", "-d", "-s", "ui", "-x", "100", "-y", "30", sshCmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", sock, "kill-server").Run() })
	waitScreen := func(what string, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		var screen string
		for time.Now().Before(deadline) {
			screen = tmux("capture-pane", "-p", "-t", "ui")
			if ok(screen) {
				return screen
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("the screen never showed %s:\n%s", what, screen)
		return ""
	}
	first := waitScreen("gitopstui with its Clusters pane", func(s string) bool {
		return strings.Contains(s, "gitopstui") && strings.Contains(s, "Clusters")
	})
	if !strings.Contains(first, "alice") {
		t.Errorf("the UI does not show the SSH user:\n%s", first)
	}
	tmux("send-keys", "-t", "ui", "?")
	waitScreen("the help after ?", func(s string) bool { return s != first })
	tmux("send-keys", "-t", "ui", "C-c")
	waitScreen("ssh exiting with status 0", func(s string) bool { return strings.Contains(s, "ssh-exit=0") })
}

// TestProcedureStoreLockedWhenHolderIsNotAServer: a store held by another
// process that is not a gitopstui server (even with a stale socket left by a
// server that died) is STORE_LOCKED, not a hang and not a forward.
func TestProcedureStoreLockedWhenHolderIsNotAServer(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: procio.SocketPath(dir), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	_ = ln.Close()

	holder := exec.Command(lookPath(t, "holdstore"), dir)
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = holder.Wait() }()
	if line, err := readLine(stdout); line != "ready" {
		t.Fatalf("holdstore: %q %v", line, err)
	}
	code, out, errOut := runCmd(t, "", lookPath(t, "gitopstui"), "--data-dir", dir, "--procedure", "projects.list")
	var e model.Error
	if code != 1 || out != "" || json.Unmarshal([]byte(errOut), &e) != nil || e.Code != model.CodeStoreLocked {
		t.Errorf("locked by a non-server: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
}

// TestServeUsage: bad serve flags are usage errors (exit 2) naming the
// flag; limits that would switch a protection off (a NaN or infinite rate,
// zero or negative counts and durations) are among them.
func TestServeUsage(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate", "fast"}, "--rate: \"fast\" is not a number"},
		{[]string{"--rate", "NaN"}, "--rate: \"NaN\" is not a number"},
		{[]string{"--rate", "Inf"}, "--rate: \"Inf\" is not a number"},
		{[]string{"--rate", "+Inf/s"}, "--rate: \"+Inf/s\" is not a number"},
		{[]string{"--rate", "1e400"}, "--rate: \"1e400\" is not a number"},
		{[]string{"--rate", "-1"}, "--rate: \"-1\" is not a number"},
		{[]string{"--rate", "0"}, "--rate: \"0\" is not a number"},
		{[]string{"--rate", "20000"}, "at most 10000"},
		{[]string{"--max-sessions", "0"}, "--max-sessions: 0 is not between 1 and 10000"},
		{[]string{"--max-sessions", "-1"}, "--max-sessions: -1 is not between 1 and 10000"},
		{[]string{"--max-sessions", "1000000"}, "--max-sessions: 1000000 is not between 1 and 10000"},
		{[]string{"--max-sessions", "NaN"}, "invalid value \"NaN\" for flag -max-sessions"},
		{[]string{"--idle-timeout", "0"}, "--idle-timeout: 0s is not a duration of at least 1s"},
		{[]string{"--idle-timeout", "-5m"}, "--idle-timeout: -5m0s is not a duration of at least 1s"},
		{[]string{"--max-session", "10ms"}, "--max-session: 10ms is not a duration of at least 1s"},
		{[]string{"--shutdown-timeout", "-1s"}, "--shutdown-timeout: -1s is not a duration"},
		{[]string{"--credential-env", "GIT TOKEN"}, "--credential-env: \"GIT TOKEN\" is not an environment variable name"},
		{[]string{"--credential-env", ""}, "--credential-env: \"\" is not an environment variable name"},
		{[]string{"--allow-file", ""}, "--allow-file: the path is empty"},
		{[]string{"--allow-file", dir}, "would lend the server's data dir"},
		{[]string{"--allow-file", filepath.Join(dir, "ssh_host_ed25519_key")}, "would lend the server's data dir"},
		{[]string{"--allow-file", filepath.Dir(dir)}, "would lend the server's data dir"},
		{[]string{"extra"}, "unexpected arguments to serve: extra"},
	} {
		var stderr bytes.Buffer
		args := append([]string{"--data-dir", dir, "serve"}, c.args...)
		code := run(args, strings.NewReader(""), io.Discard, &stderr)
		if code != procio.ExitUsage || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("serve %q: exit %d, stderr %q; want exit 2 saying %s", c.args, code, stderr.String(), c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, store.FileName)); err == nil {
		t.Error("a usage error opened the store")
	}
}

// TestServeRefusesUnsafeDataDir: serve does not start (exit 1, the reason
// on stderr) from a data dir that group or others may write, and opens
// nothing in it.
func TestServeRefusesUnsafeDataDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix file modes")
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o775); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, "", lookPath(t, "gitopstui"), "--data-dir", dir, "serve", "--listen", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, dir+" is writable by group or others (mode 0775; chmod go-w "+dir+"); refusing to serve from it") {
		t.Errorf("serve from a group-writable data dir: exit %d, stderr %q", code, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("serve wrote into the unsafe data dir: %v", entries)
	}
}
