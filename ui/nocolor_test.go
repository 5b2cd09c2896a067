package ui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/creack/pty"

	"github.com/gitopstui/gitopstui/model"
)

// runFrames runs the real program with env until the clusters screen is
// drawn, types keys and waits for until, and returns every byte it wrote.
func runFrames(t *testing.T, env []string, keys, until string) string {
	t.Helper()
	// A real pseudo-terminal: colors are only chosen for terminals.
	ptm, pts, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptm.Close()
	defer pts.Close()
	out := &syncWriter{b: &bytes.Buffer{}}
	go func() { _, _ = io.Copy(out, ptm) }()
	in, inW := io.Pipe()
	defer inW.Close()
	m := New(Options{Caller: catalogFake(), Actor: model.Actor{User: "alice", Role: model.RoleAdmin}, Dark: true, Ctx: context.Background()})
	p := tea.NewProgram(m, tea.WithInput(in), tea.WithOutput(pts), tea.WithEnvironment(env), tea.WithWindowSize(80, 24))
	done := make(chan error, 1)
	go func() { _, err := p.Run(); done <- err }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "degraded") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if keys != "" {
		_, _ = inW.Write([]byte(keys))
		for !strings.Contains(out.String(), until) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	p.Quit()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestNoColorHonoured(t *testing.T) {
	colored := runFrames(t, []string{"TERM=xterm-256color", "COLORTERM=truecolor"}, "", "")
	if !strings.Contains(colored, "degraded") || !strings.Contains(colored, "\x1b[38;") {
		t.Fatalf("expected colored output without NO_COLOR")
	}
	plain := runFrames(t, []string{"TERM=xterm-256color", "COLORTERM=truecolor", "NO_COLOR=1"}, "", "")
	if !strings.Contains(plain, "degraded") {
		t.Fatal("nothing drawn with NO_COLOR")
	}
	for _, sgr := range []string{"\x1b[38;", "\x1b[48;", ";38;", ";48;"} {
		if i := strings.Index(plain, sgr); i >= 0 {
			t.Fatalf("NO_COLOR output has color sequence %q at %d", sgr, i)
		}
	}
}

// Under NO_COLOR a placeholder cannot pass for a value: it is drawn in
// angle brackets, and dim (an attribute, not a color).
func TestNoColorPlaceholders(t *testing.T) {
	out := runFrames(t, []string{"TERM=xterm-256color", "NO_COLOR=1"}, "c", "the kubeconfig's current one")
	if !strings.Contains(out, "e.g. prod›") || !strings.Contains(out, "‹$KUBECONFIG, then ~/.kube/config›") {
		t.Fatalf("placeholders without brackets:\n%q", out)
	}
	i := strings.Index(out, "$KUBECONFIG")
	if j := strings.LastIndex(out[:i], "\x1b[2m"); j < 0 || strings.Contains(out[j:i], "\x1b[m") || strings.Contains(out[j:i], "\x1b[0m") {
		t.Fatalf("the placeholder is not dim:\n%q", out[max(0, i-80):i+20])
	}
	for _, sgr := range []string{"\x1b[38;", "\x1b[48;", ";38;", ";48;"} {
		if strings.Contains(out, sgr) {
			t.Fatalf("NO_COLOR output has color sequence %q", sgr)
		}
	}
}
