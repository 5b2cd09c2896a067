package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/services/procio"
)

// doctor runs `gitopstui --data-dir data doctor` in this process.
func doctor(t *testing.T, data string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"--data-dir", data, "doctor"}, args...), strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func wantLines(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not say %q:\n%s", what, w, got)
		}
	}
}

// TestDoctorStates: doctor on a data dir without a store, with a store that
// another process holds (named by pid and command line), with a stale
// socket, and with a free store; the log's last warnings and errors, oldest
// first, from the rotated files too.
func TestDoctorStates(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	logFile := filepath.Join(state, "gitopstui", logFileName)
	data := filepath.Join(t.TempDir(), "data")

	code, out, _ := doctor(t, data)
	wantLines(t, "doctor on nothing", out,
		"log file:  "+logFile+" (nothing logged yet)\n",
		"data dir:  "+data+"\n",
		"store:     "+filepath.Join(data, "gitopstui.db")+": none yet",
		"owner:     none: no TUI or serve answers on "+procio.SocketPath(data)+"\n",
		"last warnings and errors: none in the log\n")
	if code != procio.ExitOK {
		t.Errorf("exit %d", code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	release := holdStoreIn(ctx, t, data)
	_, out, _ = doctor(t, data)
	wantLines(t, "doctor on a held store", out, "): locked by pid ", "holdstore "+data+")\n")
	release()

	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: procio.SocketPath(data), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	_ = ln.Close()
	if err := os.MkdirAll(filepath.Dir(logFile), 0o700); err != nil {
		t.Fatal(err)
	}
	rotated := strings.TrimSuffix(logFile, ".log") + "-2026-01-02T03-04-05.000.log"
	writeFile(t, rotated, "time=1 level=ERROR msg=\"old error\"\ntime=2 level=INFO msg=fine\n")
	writeFile(t, logFile, "time=3 level=WARN msg=\"new warning\" err=\"\x1b[31mred\"\ntime=4 level=INFO msg=fine\n")
	_, out, _ = doctor(t, data)
	wantLines(t, "doctor on a free store", out,
		"): free, no process holds it\n", ", schema ",
		"owner:     none: a stale socket "+procio.SocketPath(data)+" is left, no process answers on it\n",
		"log file:  "+logFile+" (", ", 1 rotated)\n",
		"last warnings and errors (2, oldest first):\n"+
			"  time=1 level=ERROR msg=\"old error\"\n"+
			"  time=3 level=WARN msg=\"new warning\" err=\"red\"\n")

	if code, _, errOut := doctor(t, data, "extra"); code != procio.ExitUsage || !strings.Contains(errOut, "unexpected arguments to doctor: extra") {
		t.Errorf("doctor extra: exit %d, %s", code, errOut)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
