// Package gittest runs real Git remotes on 127.0.0.1 for tests: a smart
// HTTP server (`git http-backend` behind basic auth, through net/http/cgi)
// and an SSH server (golang.org/x/crypto/ssh running git-upload-pack and
// git-receive-pack for public-key logins), plus helpers to create seeded
// bare repositories and inspect them with the git CLI.
package gittest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Env is the environment every git command of this package runs with: no
// system or user config, fixed identity.
func Env() []string {
	return append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=gittest", "GIT_AUTHOR_EMAIL=gittest@example.com",
		"GIT_COMMITTER_NAME=gittest", "GIT_COMMITTER_EMAIL=gittest@example.com",
	)
}

// GitPath is the git executable; it fails the test when git is missing.
func GitPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git is required: %v", err)
	}
	return p
}

// Git runs git in dir (may be "") with Env and returns trimmed stdout.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := RunGit(dir, nil, args...)
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// RunGit runs git in dir with Env, stdin (may be nil) and returns trimmed
// stdout, or an error carrying stderr.
func RunGit(dir string, stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = Env()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// InitBare creates the bare repository dir whose branch "main" holds one
// commit with files (path -> content; none for an empty repository) and
// returns that commit's SHA ("" when files is empty). It uses git
// fast-import, so 10,000 files take well under a second.
func InitBare(t testing.TB, dir string, files map[string]string) string {
	t.Helper()
	Git(t, "", "init", "--quiet", "--bare", "--initial-branch=main", dir)
	if len(files) == 0 {
		return ""
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b bytes.Buffer
	msg := "seed\n"
	fmt.Fprintf(&b, "commit refs/heads/main\ncommitter gittest <gittest@example.com> 1700000000 +0000\ndata %d\n%s", len(msg), msg)
	for _, p := range paths {
		fmt.Fprintf(&b, "M 100644 inline %s\ndata %d\n%s\n", p, len(files[p]), files[p])
	}
	b.WriteString("\n")
	if _, err := RunGit(dir, b.Bytes(), "fast-import", "--quiet"); err != nil {
		t.Fatalf("seed %s: %v", dir, err)
	}
	return Git(t, dir, "rev-parse", "refs/heads/main")
}

// Log lists the commit SHAs of branch in the bare repository dir, newest first.
func Log(t testing.TB, dir, branch string) []string {
	t.Helper()
	out := Git(t, dir, "log", "--format=%H", "refs/heads/"+branch)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// Show returns the content of path at rev in the repository dir.
func Show(t testing.TB, dir, rev, path string) string {
	t.Helper()
	out, err := RunGit(dir, nil, "show", rev+":"+path)
	if err != nil {
		t.Fatalf("git show %s:%s: %v", rev, path, err)
	}
	return out
}

// RejectPushes installs a pre-receive hook in the bare repository dir that
// prints message and refuses every push.
func RejectPushes(t testing.TB, dir, message string) {
	t.Helper()
	hook := filepath.Join(dir, "hooks", "pre-receive")
	script := "#!/bin/sh\necho " + shellQuote(message) + " >&2\nexit 1\n"
	if err := os.WriteFile(hook, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// AddSymlinks commits symbolic links (path -> target, stored as Git stores
// them: mode 120000, the target as the blob) on top of branch in the bare
// repository dir and returns the new head.
func AddSymlinks(t testing.TB, dir, branch string, links map[string]string) string {
	t.Helper()
	paths := make([]string, 0, len(links))
	for p := range links {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b bytes.Buffer
	msg := "add symbolic links\n"
	ref := "refs/heads/" + branch
	fmt.Fprintf(&b, "commit %s\ncommitter gittest <gittest@example.com> 1700000100 +0000\ndata %d\n%sfrom %s^0\n", ref, len(msg), msg, ref)
	for _, p := range paths {
		fmt.Fprintf(&b, "M 120000 inline %s\ndata %d\n%s\n", p, len(links[p]), links[p])
	}
	b.WriteString("\n")
	if _, err := RunGit(dir, b.Bytes(), "fast-import", "--quiet"); err != nil {
		t.Fatalf("add symbolic links to %s: %v", dir, err)
	}
	return Git(t, dir, "rev-parse", ref)
}
