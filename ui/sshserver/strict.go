package sshserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// StrictModes, as OpenSSH's sshd applies it: a file that decides who may log
// in, and the directory that holds it, must be owned by the server's user
// (or root) and writable by nobody else. Otherwise anyone who can write
// them can let themselves in. The data dir is checked when the server
// starts (it refuses to start), the authorized keys file and its directory
// whenever they change (every key is refused while they are unsafe).

// CheckDataDir refuses a data dir that another user could write: owned by
// someone other than this process's user or root, or writable by group or
// others. A data dir that does not exist yet is fine (it is created 0700).
// On platforms without unix file modes it checks nothing.
func CheckDataDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("data dir %s is not a directory", dir)
	}
	if why := unsafeReason(dir, fi); why != "" {
		return fmt.Errorf("data dir: %s; refusing to serve from it (it holds the host key and the store)", why)
	}
	return nil
}

// checkAuthorizedKeysFile refuses an authorized keys file that another user
// could write, or could replace through its directory.
func checkAuthorizedKeysFile(path string) error {
	for _, p := range []string{path, filepath.Dir(path)} {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if why := unsafeReason(p, fi); why != "" {
			return errors.New(why)
		}
	}
	return nil
}

// unsafeReason says why fi, found at path, cannot be trusted ("" when it
// can).
func unsafeReason(path string, fi os.FileInfo) string {
	if !hasFileModes {
		return ""
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Sprintf("%s is writable by group or others (mode %04o; chmod go-w %s)", path, perm, path)
	}
	if uid, ok := owner(fi); ok && uid != serverUID() && uid != 0 {
		return fmt.Sprintf("%s is owned by uid %d, not by this server's user (uid %d) or root", path, uid, serverUID())
	}
	return ""
}
