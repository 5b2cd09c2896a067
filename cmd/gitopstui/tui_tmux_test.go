package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTUIInTmux builds the binary, prepares a data dir through --procedure,
// starts the TUI in a real tmux terminal at 80×24, types keys and reads the
// screen with capture-pane.
func TestTUIInTmux(t *testing.T) {
	tmuxBin, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatalf("tmux is required: %v", err)
	}
	bin, data := tmuxFixture(t)
	p := &tmuxPane{t: t, tmux: tmuxBin, sock: fmt.Sprintf("gitopstui-test-%d", os.Getpid())}
	p.run("-f", "/dev/null", "new-session", "-d", "-s", "ui", "-x", "80", "-y", "24",
		"env", "TERM=xterm-256color", "EDITOR=", "VISUAL=", bin, "--data-dir", data)
	t.Cleanup(func() { _ = exec.Command(tmuxBin, "-L", p.sock, "kill-server").Run() })

	s := p.wait("gitopstui › Clusters", "Clusters (1)", "lab", "unreachable")
	if lines := strings.Split(strings.TrimRight(s, "\n"), "\n"); len(lines) > 24 {
		t.Fatalf("pane has %d lines", len(lines))
	}
	p.keys("2")
	p.wait("Projects (1)", "shop")
	p.keys("Enter")
	p.wait("Environments of shop (1)", "prod", "./k8s/overlays/prod")
	p.keys("o")
	p.wait("GitOps config of prod", "interval")
	// Type an invalid interval: validation shows as you type.
	p.keys("Down", "Down", "Down", "Down", "BSpace", "BSpace", "x", "y")
	p.wait(`"xy" is not a duration Flux accepts`)
	p.keys("BSpace", "BSpace", "1", "0", "m", "C-s")
	p.wait("GitOps config of prod saved", "10m")
	p.keys(":")
	p.wait("Command")
	p.keys("-l", "deployments")
	p.keys("Enter")
	p.wait("No deployments yet")
	p.keys("?")
	p.wait("Keys: Deployments")
	// Escape and q apart: together a terminal reads them as alt+q.
	p.keys("Escape")
	p.wait("Deployments (0)")
	p.keys("q")
	p.waitClosed()
}

// tmuxFixture builds the binary and prepares its data dir through
// --procedure: a project, an unreachable cluster and an environment. The
// log goes to dir/state (XDG_STATE_HOME, set for the test, so for tmux and
// the commands it starts too), not to the user's.
func tmuxFixture(t *testing.T) (bin, data string) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	bin = filepath.Join(dir, "gitopstui")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data = filepath.Join(dir, "data")
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(offlineKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{
		{"projects.create", `{"name":"shop","id":"shop"}`},
		{"clusters.register", `{"name":"lab","id":"lab","kubeconfig":"` + kc + `","context":"lab"}`},
		{"environments.create", `{"projectId":"shop","name":"prod","id":"env-prod","clusterId":"lab","namespace":"shop"}`},
	} {
		if out, err := exec.Command(bin, "--data-dir", data, "--procedure", c[0], "--input", c[1]).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", c[0], err, out)
		}
	}
	return bin, data
}

// tmuxPane is the pane of session target ("ui" when empty) of a tmux
// server on its own socket.
type tmuxPane struct {
	t      *testing.T
	tmux   string // the tmux binary
	sock   string // the server's socket name (-L)
	target string // the session
}

func (p *tmuxPane) session() string {
	if p.target == "" {
		return "ui"
	}
	return p.target
}

func (p *tmuxPane) run(args ...string) string {
	p.t.Helper()
	out, err := exec.Command(p.tmux, append([]string{"-L", p.sock}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (p *tmuxPane) screen() string { return p.run("capture-pane", "-p", "-t", p.session()) }

func (p *tmuxPane) keys(k ...string) {
	p.run(append([]string{"send-keys", "-t", p.session()}, k...)...)
}

// wait polls the pane until it shows every one of want (the bound is
// generous; this is not a speed check).
func (p *tmuxPane) wait(want ...string) string {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := p.screen()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("pane never showed %q:\n%s", want, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitClosed waits until the program has quit and tmux closed the session.
func (p *tmuxPane) waitClosed() {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.Command(p.tmux, "-L", p.sock, "has-session", "-t", p.session()).CombinedOutput()
		if err != nil {
			return // the program quit and tmux closed the session
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("q did not quit: %s\n%s", out, p.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
