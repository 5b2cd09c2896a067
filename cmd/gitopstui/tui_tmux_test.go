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
	dir := t.TempDir()
	bin := filepath.Join(dir, "gitopstui")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
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
`), 0o600); err != nil {
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
	sock := fmt.Sprintf("gitopstui-test-%d", os.Getpid())
	tmux := func(args ...string) string {
		out, err := exec.Command(tmuxBin, append([]string{"-L", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	tmux("-f", "/dev/null", "new-session", "-d", "-s", "ui", "-x", "80", "-y", "24",
		"env", "TERM=xterm-256color", "EDITOR=", "VISUAL=", bin, "--data-dir", data)
	t.Cleanup(func() { _ = exec.Command(tmuxBin, "-L", sock, "kill-server").Run() })

	screen := func() string { return tmux("capture-pane", "-p", "-t", "ui") }
	// wait polls the pane until it shows every one of want (the bound is
	// generous; this is not a speed check).
	wait := func(want ...string) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			s := screen()
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(s, w)
			}
			if ok {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("pane never showed %q:\n%s", want, s)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	keys := func(k ...string) { tmux(append([]string{"send-keys", "-t", "ui"}, k...)...) }

	s := wait("gitopstui › Clusters", "Clusters (1)", "lab", "unreachable")
	if lines := strings.Split(strings.TrimRight(s, "\n"), "\n"); len(lines) > 24 {
		t.Fatalf("pane has %d lines", len(lines))
	}
	keys("2")
	wait("Projects (1)", "shop")
	keys("Enter")
	wait("Environments of shop (1)", "prod", "./k8s/overlays/prod")
	keys("o")
	wait("GitOps config of prod", "interval")
	// Type an invalid interval: validation shows as you type.
	keys("Down", "Down", "Down", "Down", "BSpace", "BSpace", "x", "y")
	wait(`"xy" is not a duration Flux accepts`)
	keys("BSpace", "BSpace", "1", "0", "m", "C-s")
	wait("GitOps config of prod saved", "10m")
	keys(":")
	wait("Command")
	keys("-l", "deployments")
	keys("Enter")
	wait("No deployments yet")
	keys("?")
	wait("Keys: Deployments")
	// Escape and q apart: together a terminal reads them as alt+q.
	keys("Escape")
	wait("Deployments (0)")
	keys("q")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.Command(tmuxBin, "-L", sock, "has-session", "-t", "ui").CombinedOutput()
		if err != nil {
			break // the program quit and tmux closed the session
		}
		if time.Now().After(deadline) {
			t.Fatalf("q did not quit: %s\n%s", out, screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
