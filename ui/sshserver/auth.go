package sshserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/gitopstui/gitopstui/model"
)

// Permission extensions the public-key handler records for the key it
// accepts. The SSH library keeps one Permissions per verified key, so after
// authentication they describe the key the connection signed with, never a
// key it only offered.
const (
	extUser        = "gitopstui-user"
	extRole        = "gitopstui-role"
	extFingerprint = "gitopstui-fingerprint"
)

// maxAuthorizedKeysBytes bounds the authorized_keys file read into memory.
const maxAuthorizedKeysBytes = 4 << 20

// Identity is the person behind an authorized key.
type Identity struct {
	// User is the key's comment in authorized_keys.
	User string `json:"user"`
	// Email is the optional email="..." option, used as commit author email.
	Email string `json:"email,omitempty"`
	// Role is the role=... option, viewer when absent.
	Role model.Role `json:"role"`
	// Fingerprint is the key's SHA256 fingerprint.
	Fingerprint string `json:"fingerprint"`
}

// Actor is the identity as the registry's caller, with Source "ssh".
func (id Identity) Actor() model.Actor {
	return model.Actor{User: id.User, Email: id.Email, Role: id.Role, Source: "ssh"}
}

// AuthorizedKeys is an OpenSSH authorized_keys file whose lines read
// `[role=admin|operator|viewer][,email=ADDR] KEYTYPE BASE64 USER`. The file is
// re-read whenever its size, modification time, inode, owner or mode (or its
// directory's owner or mode) changes, checked on every lookup, so edits take
// effect for the next authentication and the next procedure call. While the
// file or its directory is unsafe (see CheckDataDir) every key is refused.
// Lines with options gitopstui does not know (from=, command=, ...) are
// ignored with a warning rather than half-honoured.
type AuthorizedKeys struct {
	path string
	log  *slog.Logger

	mu    sync.Mutex
	stamp fileStamp
	keys  map[string]Identity // by the key's wire encoding
	gen   uint64              // counts the loads of keys
}

// fileStamp is what says that the file changed: its size, modification
// time and inode, and the owner and mode of the file and its directory
// (so that fixing the permissions is noticed too).
type fileStamp struct {
	exists  bool
	size    int64
	mtime   time.Time
	ino     uint64
	mode    os.FileMode
	uid     uint32
	dirMode os.FileMode
	dirUID  uint32
}

// NewAuthorizedKeys returns the keys of the file at path, read lazily.
func NewAuthorizedKeys(path string, log *slog.Logger) *AuthorizedKeys {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !hasInodes {
		log.Warn("this platform reports no inode numbers: authorized keys changes are detected by size and modification time only", "path", path)
	}
	if !hasFileModes {
		log.Warn("this platform has no unix file modes: the authorized keys file's owner and permissions are not checked", "path", path)
	}
	return &AuthorizedKeys{path: path, log: log, stamp: fileStamp{exists: true, size: -1}}
}

// Path is the file's path.
func (a *AuthorizedKeys) Path() string { return a.path }

// Lookup returns the identity of key, re-reading the file first when it changed.
func (a *AuthorizedKeys) Lookup(key gossh.PublicKey) (Identity, bool) {
	if key == nil {
		return Identity{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refreshLocked()
	id, ok := a.keys[string(key.Marshal())]
	return id, ok
}

// Generation re-reads the file when it changed and returns a number that
// changes whenever the set of keys was loaded again.
func (a *AuthorizedKeys) Generation() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refreshLocked()
	return a.gen
}

// Len returns how many keys are authorized now.
func (a *AuthorizedKeys) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refreshLocked()
	return len(a.keys)
}

func statFile(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	st := fileStamp{exists: true, size: fi.Size(), mtime: fi.ModTime(), ino: inode(fi), mode: fi.Mode()}
	st.uid, _ = owner(fi)
	if di, err := os.Stat(filepath.Dir(path)); err == nil {
		st.dirMode = di.Mode()
		st.dirUID, _ = owner(di)
	}
	return st, nil
}

func (a *AuthorizedKeys) refreshLocked() {
	st, err := statFile(a.path)
	if st == a.stamp {
		return
	}
	a.stamp, a.keys = st, nil
	a.gen++
	if err != nil {
		a.log.Warn("authorized keys file unreadable: every key is refused until it exists", "path", a.path, "err", err)
		return
	}
	if err := checkAuthorizedKeysFile(a.path); err != nil {
		a.log.Error("authorized keys file refused, as OpenSSH's StrictModes would: every key is refused until it is fixed",
			"path", a.path, "err", err)
		return
	}
	data, err := readBounded(a.path, maxAuthorizedKeysBytes)
	if err != nil {
		a.stamp = fileStamp{}
		a.log.Warn("read authorized keys: every key is refused", "path", a.path, "err", err)
		return
	}
	a.keys = parseAuthorizedKeys(data, a.log.With("path", a.path))
	a.log.Info("authorized keys loaded", "path", a.path, "keys", len(a.keys))
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("file is over %d bytes", limit)
	}
	return data, nil
}

// parseAuthorizedKeys reads every valid line of an authorized_keys file.
// Invalid lines are logged and skipped.
func parseAuthorizedKeys(data []byte, log *slog.Logger) map[string]Identity {
	keys := map[string]Identity{}
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		id, key, err := parseAuthorizedKeyLine(line)
		if err != nil {
			log.Warn("authorized keys: line ignored", "line", i+1, "err", err)
			continue
		}
		keys[string(key.Marshal())] = id
	}
	return keys
}

func parseAuthorizedKeyLine(line []byte) (Identity, gossh.PublicKey, error) {
	key, comment, options, _, err := gossh.ParseAuthorizedKey(line)
	if err != nil {
		return Identity{}, nil, err
	}
	id := Identity{Role: model.RoleViewer, Fingerprint: gossh.FingerprintSHA256(key)}
	for _, opt := range options {
		name, value, hasValue := strings.Cut(opt, "=")
		value = strings.Trim(value, `"`)
		switch {
		case name == "role" && hasValue:
			r, ok := model.ParseRole(value)
			if !ok {
				return Identity{}, nil, fmt.Errorf("role %q is not admin, operator or viewer", value)
			}
			id.Role = r
		case name == "email" && hasValue:
			id.Email = value
		default:
			return Identity{}, nil, fmt.Errorf("option %q is not supported by gitopstui (only role= and email=)", opt)
		}
	}
	if f := strings.Fields(comment); len(f) > 0 {
		id.User = f[0]
	} else {
		id.User = id.Fingerprint
	}
	return id, key, nil
}

// publicKeyHandler accepts keys listed in the authorized keys file and
// records their identity in the permissions of this authentication attempt.
func (s *Server) publicKeyHandler(ctx ssh.Context, key ssh.PublicKey) bool {
	id, ok := s.keys.Lookup(key)
	if !ok {
		s.log.Info("public key refused", "remote", ctx.RemoteAddr().String(), "user", ctx.User(), "fingerprint", gossh.FingerprintSHA256(key))
		return false
	}
	perms := ctx.Permissions()
	if perms.Extensions == nil {
		perms.Extensions = map[string]string{}
	}
	perms.Extensions[extUser] = id.User
	perms.Extensions[extRole] = string(id.Role)
	perms.Extensions[extFingerprint] = id.Fingerprint
	return true
}

// sessionIdentity returns who a session is: the key the connection
// authenticated with, as the authorized keys file lists it now.
func (s *Server) sessionIdentity(sess ssh.Session) (Identity, error) {
	key := sess.PublicKey()
	if key == nil {
		return Identity{}, errors.New("the connection did not authenticate with a public key")
	}
	fp := gossh.FingerprintSHA256(key)
	if got := sess.Permissions().Extensions[extFingerprint]; got != fp {
		return Identity{}, fmt.Errorf("authenticated key %s does not match the accepted key %q", fp, got)
	}
	id, ok := s.keys.Lookup(key)
	if !ok {
		return Identity{}, fmt.Errorf("key %s is no longer authorized", fp)
	}
	return id, nil
}
