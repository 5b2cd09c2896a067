package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/procio"
	"github.com/gitopstui/gitopstui/store"
)

// doctorProblems is how many of the log's last warnings and errors doctor
// prints; doctorLineMax bounds one printed line (a panic's stack is long:
// the log has it whole).
const (
	doctorProblems = 20
	doctorLineMax  = 400
)

// doctorLockWait is how long doctor waits for the store's lock before it
// reports the store as locked.
const doctorLockWait = 200 * time.Millisecond

// runDoctor is `gitopstui doctor`: where the log is, the data dir, the
// store's state (free or locked, and by which process), the process that
// answers on the forwarding socket, and the log's last warnings and errors.
// It reads, never repairs: the store is opened read-only, if at all.
func runDoctor(ctx context.Context, o options, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return procio.ExitOK
		}
		return procio.ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gitopstui: unexpected arguments to doctor: %s\n", strings.Join(fs.Args(), " "))
		return procio.ExitUsage
	}
	fmt.Fprintf(stdout, "gitopstui %s\n", version)
	logFile, err := logPath()
	if err != nil {
		fmt.Fprintf(stdout, "log file:  none: %v\n", err)
	} else {
		fmt.Fprintf(stdout, "log file:  %s\n", describeLog(logFile))
	}
	if abs, err := filepath.Abs(o.dataDir); err == nil {
		o.dataDir = abs
	}
	fmt.Fprintf(stdout, "data dir:  %s\n", o.dataDir)
	fmt.Fprintf(stdout, "store:     %s\n", describeStore(o.dataDir))
	fmt.Fprintf(stdout, "owner:     %s\n", describeOwner(ctx, o.dataDir))
	if err != nil {
		return procio.ExitOK
	}
	lines, err := lastProblems(logFile, doctorProblems)
	switch {
	case err != nil:
		fmt.Fprintf(stdout, "\nlast warnings and errors: cannot read the log: %v\n", err)
	case len(lines) == 0:
		fmt.Fprintln(stdout, "\nlast warnings and errors: none in the log")
	default:
		fmt.Fprintf(stdout, "\nlast warnings and errors (%d, oldest first):\n", len(lines))
		for _, l := range lines {
			fmt.Fprintf(stdout, "  %s\n", shorten(model.CleanText(l), doctorLineMax))
		}
	}
	return procio.ExitOK
}

// describeLog says where the log is, how big, and how many rotated files
// are kept beside it.
func describeLog(path string) string {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return path + " (nothing logged yet)"
	}
	if err != nil {
		return fmt.Sprintf("%s (%v)", path, err)
	}
	return fmt.Sprintf("%s (%s, %d rotated)", path, byteSize(fi.Size()), len(rotatedLogs(path)))
}

// rotatedLogs lists the rotated files of the log at path, oldest first
// (their names end in the UTC time of the rotation, which sorts).
func rotatedLogs(path string) []string {
	ext := filepath.Ext(path)
	matches, _ := filepath.Glob(strings.TrimSuffix(path, ext) + "-*" + ext)
	slices.Sort(matches)
	return matches
}

// describeStore says whether the data dir has a store, and whether a
// process holds it (which one, where the platform says).
func describeStore(dataDir string) string {
	path := filepath.Join(dataDir, store.FileName)
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return path + ": none yet (the first call creates it)"
	}
	if err != nil {
		return fmt.Sprintf("%s: %v", path, err)
	}
	size := byteSize(fi.Size())
	db, err := store.Open(dataDir, store.Options{ReadOnly: true, Timeout: doctorLockWait})
	switch {
	case model.CodeOf(err) == model.CodeStoreLocked:
		return fmt.Sprintf("%s (%s): locked by %s", path, size, lockHolder(path))
	case err != nil:
		return fmt.Sprintf("%s (%s): unreadable: %v", path, size, err)
	}
	defer db.Close()
	v, err := db.SchemaVersion()
	if err != nil {
		return fmt.Sprintf("%s (%s): unreadable: %v", path, size, err)
	}
	return fmt.Sprintf("%s (%s, schema %d): free, no process holds it", path, size, v)
}

// describeOwner says which process answers on the data dir's forwarding
// socket, if any.
func describeOwner(ctx context.Context, dataDir string) string {
	sock := procio.SocketPath(dataDir)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := procio.Ping(ctx, dataDir)
	switch {
	case err == nil:
		mode := info.Mode
		if mode == "" {
			mode = "gitopstui"
		}
		live := "without live updates for attached UIs"
		if info.Streams {
			live = "with live updates for attached UIs"
		}
		return fmt.Sprintf("%s, pid %d, since %s, answers on %s: --procedure calls and other TUIs go through it (%s)",
			mode, info.PID, info.Since.Local().Format(time.DateTime), sock, live)
	case errors.Is(err, procio.ErrNoServer):
		if _, serr := os.Lstat(sock); serr == nil {
			return "none: a stale socket " + sock + " is left, no process answers on it"
		}
		return "none: no TUI or serve answers on " + sock
	}
	return fmt.Sprintf("a process answers on %s but: %v", sock, err)
}

// lastProblems returns the last n WARN and ERROR records of the log at
// path, oldest first, reading the rotated files too when the current one
// has fewer.
func lastProblems(path string, n int) ([]string, error) {
	files := append(rotatedLogs(path), path)
	var out []string
	for i := len(files) - 1; i >= 0 && len(out) < n; i-- {
		lines, err := problemsIn(files[i], n-len(out))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(lines, out...)
	}
	return out, nil
}

// problemsIn returns the last n WARN and ERROR records of one log file.
func problemsIn(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ring []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.Contains(l, " level=WARN ") && !strings.Contains(l, " level=ERROR ") {
			continue
		}
		if len(ring) == n {
			ring = ring[1:]
		}
		ring = append(ring, l)
	}
	if err := sc.Err(); err != nil {
		return ring, fmt.Errorf("read %s: %w", path, err)
	}
	return ring, nil
}

// shorten cuts s to at most max bytes on a rune boundary, marking the cut.
func shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + " …"
}

// byteSize is n in B, KiB or MiB.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
