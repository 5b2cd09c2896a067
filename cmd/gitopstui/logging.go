package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"gopkg.in/natefinch/lumberjack.v2"
	"k8s.io/klog/v2"

	"github.com/gitopstui/gitopstui/services/procio"
)

// The log file of the TUI and headless modes: $XDG_STATE_HOME/gitopstui/
// gitopstui.log, rotated when it would pass logMaxMB (the old files are
// gitopstui-<UTC time>.log beside it, logBackups of them kept).
const (
	logFileName = "gitopstui.log"
	logMaxMB    = 10
	logBackups  = 3
)

// logPath is $XDG_STATE_HOME/gitopstui/gitopstui.log, else
// ~/.local/state/gitopstui/gitopstui.log.
func logPath() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "gitopstui", logFileName), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory for the log file: %w", err)
	}
	return filepath.Join(home, ".local", "state", "gitopstui", logFileName), nil
}

// rotatingFile is the log file at path, rotated at maxMB megabytes with
// backups old files kept. Its directory (0700) and the file (0600) are
// created on the first record, so a run that logs nothing leaves nothing.
type rotatingFile struct {
	dir  sync.Once
	file *lumberjack.Logger
}

func newRotatingFile(path string, maxMB, backups int) *rotatingFile {
	return &rotatingFile{file: &lumberjack.Logger{Filename: path, MaxSize: maxMB, MaxBackups: backups}}
}

// Write implements io.Writer.
func (r *rotatingFile) Write(p []byte) (int, error) {
	r.dir.Do(func() { _ = os.MkdirAll(filepath.Dir(r.file.Filename), 0o700) })
	return r.file.Write(p)
}

// Close closes the file.
func (r *rotatingFile) Close() error { return r.file.Close() }

// fileLogger is the logger of the TUI and headless modes: text records to
// the rotated log file, so that nothing but the UI or the answer reaches the
// terminal. It becomes the process's default logger (the standard log
// package writes through it) and client-go's klog is redirected into it.
// Without a home directory (no place for the file) records are dropped and
// stderr says why.
func fileLogger(stderr io.Writer) (*slog.Logger, func()) {
	path, err := logPath()
	if err != nil {
		fmt.Fprintf(stderr, "gitopstui: no log file (%v); background errors are not recorded\n", err)
		log := slog.New(slog.DiscardHandler)
		redirectLibraries(log)
		return log, func() {}
	}
	w := newRotatingFile(path, logMaxMB, logBackups)
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
	redirectLibraries(log)
	return log, func() { _ = w.Close() }
}

// stderrLogger is serve's logger: text records on stderr, for the
// operator's terminal or the service manager's journal; klog goes there too.
func stderrLogger(stderr io.Writer) *slog.Logger {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	redirectLibraries(log)
	return log
}

// redirectLibraries sends the records of libraries that log on their own
// (client-go through klog, anything on the standard log package) to log.
func redirectLibraries(log *slog.Logger) {
	slog.SetDefault(log)
	klog.SetSlogLogger(log.With(procio.LogKeyComponent, "client-go"))
}
