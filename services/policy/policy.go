// Package policy owns what the process lends to the callers of its
// procedures. A local user (the TUI, headless) gets everything that user
// has: their environment, files, SSH agent, git credential helper and
// kubeconfigs. Under `gitopstui serve` a remote user gets only what the
// operator configured at start: named environment variables and files;
// file:// remotes and kubeconfig exec plugins only when allowed. Every file
// a caller names is read only when it is a regular file of bounded size.
package policy

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gitopstui/gitopstui/model"
)

// MaxFileBytes bounds a file read because a caller named it (a kubeconfig, a
// key, a manifest bundle).
const MaxFileBytes = 16 << 20

// Policy is the process's lending policy. The zero value is a local
// process's: it lends everything to its (local) callers.
type Policy struct {
	// Serving is set under `gitopstui serve`: calls from SSH users are
	// restricted to what the fields below allow.
	Serving bool
	// Env lists the environment variables remote callers may name as a
	// repository's tokenEnv or usernameEnv.
	Env []string
	// Files lists the files (or directories, allowing what is under them)
	// remote callers may name: SSH keys, known_hosts, kubeconfigs, Flux
	// manifests.
	Files []string
	// FileRemotes allows file:// and local-path Git remotes for remote callers.
	FileRemotes bool
	// ExecPlugins allows kubeconfig exec and auth-provider plugins while
	// serving (they run as the server's user).
	ExecPlugins bool
}

// Remote says whether the caller is one the policy restricts: an SSH user
// of a serving process.
func (p Policy) Remote(a model.Actor) bool { return p.Serving && a.Source == "ssh" }

func refuse(field, msg string) error {
	return model.Errorf(model.CodeInsufficientPermission, "%s: %s", field, msg).
		WithDetail("fields", map[string]any{field: msg})
}

// CheckEnv refuses, for a remote caller, an environment variable the
// operator did not name with --credential-env.
func (p Policy) CheckEnv(a model.Actor, field, name string) error {
	if name == "" || !p.Remote(a) || slices.Contains(p.Env, name) {
		return nil
	}
	return refuse(field, fmt.Sprintf("the server lends no environment variable but those its operator named (--credential-env); %s is not one", name))
}

// CheckFile refuses, for a remote caller, a file the operator did not allow
// with --allow-file.
func (p Policy) CheckFile(a model.Actor, field, path string) error {
	if !p.Remote(a) {
		return nil
	}
	if path == "" {
		return refuse(field, "the server lends none of its own files: name a file its operator allowed (--allow-file)")
	}
	abs := resolve(path)
	for _, f := range p.Files {
		f = resolve(f)
		if abs == f || strings.HasPrefix(abs, strings.TrimSuffix(f, string(filepath.Separator))+string(filepath.Separator)) {
			return nil
		}
	}
	return refuse(field, fmt.Sprintf("%s is not a file the server's operator allowed (--allow-file)", path))
}

// resolve is path absolute, clean, and with its symbolic links resolved
// (as far as it exists), so that a link cannot lead out of an allowed folder.
func resolve(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	dir, base := filepath.Split(abs)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		return filepath.Join(real, base)
	}
	return abs
}

// CheckRemoteURL refuses, for a remote caller, a file:// or local-path Git
// remote unless the operator allowed them.
func (p Policy) CheckRemoteURL(a model.Actor, field, url string) error {
	if !p.Remote(a) || p.FileRemotes || !IsLocalRemote(url) {
		return nil
	}
	return refuse(field, "file:// and local-path remotes would read and write the server's own repositories; the operator did not allow them (--allow-file-remotes)")
}

// IsLocalRemote says whether a Git remote URL is a file on this machine.
func IsLocalRemote(url string) bool {
	if strings.HasPrefix(url, "file://") {
		return true
	}
	return !strings.Contains(url, "://") && !strings.Contains(strings.SplitN(url, "/", 2)[0], ":")
}

// ReadFile reads a file a caller named: a regular file (a device, FIFO or
// directory is refused before it is opened) of at most max bytes.
func ReadFile(field, path string, max int64) ([]byte, error) {
	if err := CheckRegular(field, path, max); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fieldError(field, err.Error())
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fieldError(field, err.Error())
	}
	if int64(len(b)) > max {
		return nil, fieldError(field, fmt.Sprintf("%s is over %d bytes", path, max))
	}
	return b, nil
}

// CheckRegular refuses a path that is not a regular file of at most max bytes.
func CheckRegular(field, path string, max int64) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return fieldError(field, err.Error())
	case !fi.Mode().IsRegular():
		return fieldError(field, fmt.Sprintf("%s is not a regular file (%s)", path, fi.Mode().Type()))
	case fi.Size() > max:
		return fieldError(field, fmt.Sprintf("%s is %d bytes, over %d", path, fi.Size(), max))
	}
	return nil
}

func fieldError(field, msg string) error {
	fe := model.FieldErrors{}
	fe.Add(field, msg)
	return fe.Err()
}
