package sshserver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nobody is a uid that is neither root nor the test's user.
const nobody = 65534

// TestDataDirStrictModes: a data dir that group or others may write, or that
// another user owns, is refused when the server starts.
func TestDataDirStrictModes(t *testing.T) {
	if !hasFileModes {
		t.Skip("no unix file modes on this platform")
	}
	dir := t.TempDir()
	newIn := func() error {
		_, err := New(Config{DataDir: dir, Registry: emptyRegistry{}})
		return err
	}
	for _, mode := range []os.FileMode{0o770, 0o703, 0o777} {
		chmod(t, dir, mode)
		if err := newIn(); err == nil || !strings.Contains(err.Error(), "is writable by group or others") || !strings.Contains(err.Error(), "chmod go-w "+dir) {
			t.Errorf("data dir mode %04o: New = %v", mode, err)
		}
		if err := CheckDataDir(dir); err == nil {
			t.Errorf("CheckDataDir passed a dir of mode %04o", mode)
		}
	}
	chmod(t, dir, 0o755)
	if err := newIn(); err != nil {
		t.Fatalf("data dir 0755: %v", err)
	}
	if err := CheckDataDir(filepath.Join(dir, "not-yet")); err != nil {
		t.Errorf("a data dir still to be created: %v", err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(dir, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		if err := newIn(); err == nil || !strings.Contains(err.Error(), "is owned by uid 65534, not by this server's user") {
			t.Errorf("data dir owned by another user: New = %v", err)
		}
	}
}

// TestAuthorizedKeysStrictModes: while the authorized keys file or its
// directory may be written by group or others, or the file belongs to
// another user, every key is refused (through OpenSSH) and the reason is
// logged; fixing it lets the keys in again.
func TestAuthorizedKeysStrictModes(t *testing.T) {
	if !hasFileModes {
		t.Skip("no unix file modes on this platform")
	}
	k := newKey(t)
	var log logBuffer
	h := newHarness(t, k.line("", "bob"), func(c *Config) { c.Logger = log.logger() })
	keyPath, keysFile := filepath.Join(t.TempDir(), "id"), filepath.Join(h.dir, AuthorizedKeysFile)
	k.writeOpenSSH(t, keyPath)
	whoami := func() result { return h.openSSH(t, "-i", keyPath, "whoami") }
	if r := whoami(); r.code != 0 {
		t.Fatalf("safe file: exit %d %s", r.code, r.stderr)
	}
	refused := func(what, why string) {
		t.Helper()
		if r := whoami(); r.code != 255 || !strings.Contains(r.stderr, "Permission denied (publickey)") {
			t.Errorf("%s: exit %d, stderr %q; want the key refused", what, r.code, r.stderr)
		}
		if !strings.Contains(log.String(), "authorized keys file refused, as OpenSSH's StrictModes would") || !strings.Contains(log.String(), why) {
			t.Errorf("%s: the log does not say why:\n%s", what, log.String())
		}
	}
	admitted := func(what string) {
		t.Helper()
		if r := whoami(); r.code != 0 || !strings.Contains(r.stdout, `"user": "bob"`) {
			t.Errorf("%s: exit %d %s", what, r.code, r.stderr)
		}
	}
	chmod(t, keysFile, 0o620)
	refused("group-writable file", keysFile+" is writable by group or others (mode 0620")
	chmod(t, keysFile, 0o644)
	admitted("file fixed (0644)")
	chmod(t, h.dir, 0o777)
	refused("world-writable directory", h.dir+" is writable by group or others (mode 0777")
	chmod(t, h.dir, 0o700)
	admitted("directory fixed")
	if os.Geteuid() == 0 {
		chown(t, keysFile, nobody)
		refused("file of another user", keysFile+" is owned by uid 65534")
		chown(t, keysFile, 0)
		admitted("file owned by root again")
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, path string, uid int) {
	t.Helper()
	if err := os.Chown(path, uid, uid); err != nil {
		t.Fatal(err)
	}
}
