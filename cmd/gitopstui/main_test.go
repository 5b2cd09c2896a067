package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"sigs.k8s.io/yaml"

	"github.com/gitopstui/gitopstui/store"
)

// TestMain lets the test binary stand in for the real commands: scripts run
// `exec gitopstui ...` (the real run function, as a separate process) and the
// lock test runs `holdstore DIR` to keep a store open from another process.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"gitopstui": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		"holdstore": holdStore,
	})
}

// holdStore opens the store in os.Args[1], prints "ready" and keeps the file
// locked until its stdin closes.
func holdStore() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: holdstore DATADIR")
		os.Exit(2)
	}
	db, err := store.Open(os.Args[1], store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "holdstore:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = db.Close()
	os.Exit(0)
}

// TestScripts runs testdata/script/*.txtar against the gitopstui command.
// Each script starts with GITOPSTUI_DATA_DIR=$WORK/data and HOME=$WORK/home.
//
// Extra script commands (SRC is stdout, stderr or a file; its text is JSON or
// YAML; PATH is slash-separated keys and array indexes, e.g. items/0/id, or
// "." for the whole document):
//
//	exitcode N PROG [ARGS...]   run PROG (like exec) and require exit status N
//	value SRC PATH WANT         the scalar at PATH is WANT (strings unquoted)
//	length SRC PATH N           the array or object at PATH has N elements
//	capture VAR SRC PATH        set $VAR to the scalar at PATH
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("GITOPSTUI_DATA_DIR", filepath.Join(env.WorkDir, "data"))
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitCode,
			"value":    cmdValue,
			"length":   cmdLength,
			"capture":  cmdCapture,
		},
	})
}

func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("exitcode does not support !")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("run %s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// lookup parses src as JSON (or YAML) and walks path.
func lookup(ts *testscript.TestScript, src, path string) (any, bool) {
	text := ts.ReadFile(src)
	raw := []byte(text)
	if !json.Valid(raw) {
		j, err := yaml.YAMLToJSON(raw)
		if err != nil {
			ts.Fatalf("%s is neither JSON nor YAML: %v", src, err)
		}
		raw = j
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		ts.Fatalf("parse %s: %v", src, err)
	}
	if path == "." {
		return doc, true
	}
	cur := doc
	for _, key := range strings.Split(path, "/") {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[key]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

func cmdValue(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: value SRC PATH WANT")
	}
	v, ok := lookup(ts, args[0], args[1])
	match := ok && scalar(v) == args[2]
	switch {
	case neg && match:
		ts.Fatalf("%s %s is %q", args[0], args[1], args[2])
	case !neg && !ok:
		ts.Fatalf("%s has no %s", args[0], args[1])
	case !neg && !match:
		ts.Fatalf("%s %s is %q, want %q", args[0], args[1], scalar(v), args[2])
	}
}

func cmdLength(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: length SRC PATH N")
	}
	want, err := strconv.Atoi(args[2])
	ts.Check(err)
	v, ok := lookup(ts, args[0], args[1])
	if !ok {
		ts.Fatalf("%s has no %s", args[0], args[1])
	}
	n := -1
	switch x := v.(type) {
	case []any:
		n = len(x)
	case map[string]any:
		n = len(x)
	default:
		ts.Fatalf("%s %s is not an array or object", args[0], args[1])
	}
	if (n == want) == neg {
		ts.Fatalf("%s %s has %d elements, want %s%d", args[0], args[1], n, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: capture VAR SRC PATH")
	}
	v, ok := lookup(ts, args[1], args[2])
	if !ok {
		ts.Fatalf("%s has no %s", args[1], args[2])
	}
	ts.Setenv(args[0], scalar(v))
}

// lookPath finds a command that testscript.Main installed in $PATH.
func lookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not in PATH (TestMain installs it): %v", name, err)
	}
	return p
}

// readLine reads one line from r.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	return strings.TrimSpace(line), err
}
