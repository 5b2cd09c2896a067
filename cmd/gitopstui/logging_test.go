package main

import (
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"k8s.io/klog/v2"
)

// nextMillisecond waits for the clock to pass into the next millisecond:
// rotated files are named by the millisecond of their rotation.
func nextMillisecond() {
	t0 := time.Now().Truncate(time.Millisecond)
	for !time.Now().Truncate(time.Millisecond).After(t0) {
		runtime.Gosched()
	}
}

// TestLogRotation writes about 6 MiB of records through a log rotated at
// 1 MiB keeping 3 old files: the directory and files are owner-only, no
// file passes the size, exactly 3 old files stay (the oldest records are
// gone), and doctor's reader finds the last 20 warnings across the current
// and the rotated files, in order.
func TestLogRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "gitopstui", logFileName)
	w := newRotatingFile(path, 1, 3)
	t.Cleanup(func() { _ = w.Close() })
	lg := slog.New(slog.NewTextHandler(w, nil))
	pad := strings.Repeat("x", 64<<10)
	const records = 96
	for i := range records {
		nextMillisecond()
		if i%2 == 0 {
			lg.Warn("record", "n", i, "pad", pad)
		} else {
			lg.Info("record", "n", i, "pad", pad)
		}
	}
	// Old files are removed in the library's background goroutine.
	deadline := time.Now().Add(30 * time.Second)
	for len(rotatedLogs(path)) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("rotated files: %v, want 3", rotatedLogs(path))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("log dir: %v, %v; want 0700", fi.Mode(), err)
	}
	var all string
	for _, f := range append(rotatedLogs(path), path) {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 1<<20 || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %d bytes, mode %v; want at most 1 MiB, 0600", f, fi.Size(), fi.Mode())
		}
		b, _ := os.ReadFile(f)
		all += string(b)
	}
	if strings.Contains(all, " n=0 ") || !strings.Contains(all, fmt.Sprintf(" n=%d ", records-1)) {
		t.Error("the kept files do not end with the newest records, or keep the oldest")
	}
	lines, err := lastProblems(path, 20)
	if err != nil || len(lines) != 20 {
		t.Fatalf("lastProblems: %d lines, %v", len(lines), err)
	}
	for i, l := range lines {
		want := fmt.Sprintf(" level=WARN msg=record n=%d ", records-40+2*i)
		if !strings.Contains(l, want) {
			t.Errorf("problem %d = %.80s…, want %q", i, l, want)
		}
	}
	// The current file alone holds fewer: the rotated ones were read too.
	if cur, _ := problemsIn(path, 20); len(cur) >= 20 {
		t.Errorf("the current file alone has %d warnings: the test does not span files", len(cur))
	}
}

// TestLibrariesLogIntoTheFile: client-go's klog and the standard log
// package write into the file logger, not to the terminal.
func TestLibrariesLogIntoTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), logFileName)
	w := newRotatingFile(path, 1, 1)
	t.Cleanup(func() { _ = w.Close() })
	prev := slog.Default()
	t.Cleanup(func() { klog.ClearLogger(); slog.SetDefault(prev) })
	redirectLibraries(slog.New(slog.NewTextHandler(w, nil)))
	klog.ErrorS(nil, "planted klog error")
	klog.Info("planted klog info")
	log.Print("planted std log")
	klog.Flush()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`level=ERROR msg="planted klog error" component=client-go`,
		`level=INFO msg="planted klog info" component=client-go`,
		`level=INFO msg="planted std log"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("log lacks %q:\n%s", want, b)
		}
	}
}

func TestLogPath(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/x/state")
	if p, err := logPath(); err != nil || p != "/x/state/gitopstui/gitopstui.log" {
		t.Errorf("with XDG_STATE_HOME: %s, %v", p, err)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/someone")
	if p, err := logPath(); err != nil || p != "/home/someone/.local/state/gitopstui/gitopstui.log" {
		t.Errorf("default: %s, %v", p, err)
	}
}
