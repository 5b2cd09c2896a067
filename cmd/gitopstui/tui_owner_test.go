package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/services/procio"
)

// TestTUIOwnsTheStore: while a TUI runs, `gitopstui --procedure` on its
// data dir is forwarded to it (instead of STORE_LOCKED) and what it creates
// appears on the open screen; a second TUI attaches to the first and
// follows the store too; a cluster whose kubeconfig is gone is a warning in
// the log file, and `gitopstui doctor` names the log, the owner and that
// warning. Quitting the owner removes its socket.
func TestTUIOwnsTheStore(t *testing.T) {
	tmuxBin, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatalf("tmux is required: %v", err)
	}
	bin, data := tmuxFixture(t)
	state := os.Getenv("XDG_STATE_HOME")
	gitopstui := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"--data-dir", data}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("gitopstui %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// A cluster whose kubeconfig has gone: its watcher cannot start.
	kc := filepath.Join(t.TempDir(), "gone.kubeconfig")
	if err := os.WriteFile(kc, []byte(offlineKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	gitopstui("--procedure", "clusters.register", "--input", `{"name":"gone","id":"gone","kubeconfig":"`+kc+`","context":"lab"}`)
	if err := os.Remove(kc); err != nil {
		t.Fatal(err)
	}

	sock := fmt.Sprintf("gitopstui-owner-%d", os.Getpid())
	owner := &tmuxPane{t: t, tmux: tmuxBin, sock: sock, target: "owner"}
	owner.run("-f", "/dev/null", "new-session", "-d", "-s", "owner", "-x", "100", "-y", "24",
		"env", "TERM=xterm-256color", "EDITOR=", "VISUAL=", bin, "--data-dir", data)
	t.Cleanup(func() { _ = exec.Command(tmuxBin, "-L", sock, "kill-server").Run() })
	owner.wait("Clusters (2)", "lab", "gone")
	owner.keys("2")
	owner.wait("Projects (1)", "shop")

	// A script while the TUI is open: forwarded, and on the screen.
	gitopstui("--procedure", "projects.create", "--input", `{"id":"forwarded","name":"Forwarded"}`)
	owner.wait("Projects (2)", "Forwarded")

	// A second TUI attaches and shows the same store.
	second := &tmuxPane{t: t, tmux: tmuxBin, sock: sock, target: "second"}
	second.run("new-session", "-d", "-s", "second", "-x", "100", "-y", "24",
		"env", "TERM=xterm-256color", "EDITOR=", "VISUAL=", bin, "--data-dir", data)
	second.wait("Clusters (2)", "lab", "gone")
	second.keys("2")
	second.wait("Projects (2)", "shop", "Forwarded")
	// Both follow a change made elsewhere.
	gitopstui("--procedure", "projects.create", "--input", `{"id":"third","name":"Third"}`)
	second.wait("Projects (3)", "Third")
	owner.wait("Projects (3)", "Third")

	pid := strings.TrimSpace(owner.run("display-message", "-p", "-t", "owner", "#{pane_pid}"))
	logFile := filepath.Join(state, "gitopstui", "gitopstui.log")
	waitFileContains(t, logFile, `msg="status watcher stopped; restarting" cluster=gone`)
	doc := gitopstui("doctor")
	for _, want := range []string{
		"log file:  " + logFile + " (",
		"data dir:  " + data + "\n",
		"locked by pid " + pid + " (",
		"owner:     tui, pid " + pid + ", since ",
		"with live updates for attached UIs",
		`level=WARN msg="status watcher stopped; restarting" cluster=gone`,
		"no such file or directory",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("doctor does not say %q:\n%s", want, doc)
		}
	}

	second.keys("q")
	second.waitClosed()
	owner.keys("q")
	owner.waitClosed()
	if _, err := os.Lstat(procio.SocketPath(data)); !os.IsNotExist(err) {
		t.Errorf("socket after the owner quit: %v", err)
	}
	// The store is free again: a script opens it itself.
	if out := gitopstui("--procedure", "projects.list"); !strings.Contains(out, `"third"`) {
		t.Errorf("projects.list after the TUIs quit:\n%s", out)
	}
}

// offlineKubeconfig points at a port where nothing listens.
const offlineKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {server: "https://127.0.0.1:1"}
contexts:
- name: lab
  context: {cluster: lab, user: lab}
current-context: lab
users:
- name: lab
  user: {token: not-a-secret}
`

// waitFileContains polls the file at path until it contains want (the
// bound is generous; this is not a speed check).
func waitFileContains(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never contained %q:\n%s", path, want, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
