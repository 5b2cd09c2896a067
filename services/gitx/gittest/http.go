package gittest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// HTTPServer is a smart HTTP Git server on 127.0.0.1: the real
// `git http-backend` run through net/http/cgi, behind basic auth. Every
// repository under Root is served at URL/<name>.
type HTTPServer struct {
	// URL is the server's base URL (http://127.0.0.1:port).
	URL string
	// Root holds the bare repositories (GIT_PROJECT_ROOT).
	Root string
	// User and Password are the only accepted credentials.
	User, Password string
}

// NewHTTPServer starts a server with a fresh root and random password; it
// stops when the test ends.
func NewHTTPServer(t testing.TB) *HTTPServer {
	t.Helper()
	git := GitPath(t)
	root := t.TempDir()
	pw := make([]byte, 12)
	_, _ = rand.Read(pw)
	s := &HTTPServer{Root: root, User: "gitops", Password: hex.EncodeToString(pw)}
	backend := cgi.Handler{
		Path:   git,
		Args:   []string{"http-backend"},
		Dir:    root,
		Stderr: io.Discard,
		Env: []string{
			"GIT_PROJECT_ROOT=" + root,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=" + os.DevNull,
			"HOME=" + root,
		},
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="gittest"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		if subtle.ConstantTimeCompare([]byte(u), []byte(s.User)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(s.Password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="gittest"`)
			http.Error(w, "invalid username or password for "+u, http.StatusUnauthorized)
			return
		}
		b := backend
		b.Env = append(append([]string{}, backend.Env...), "REMOTE_USER="+u)
		b.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// CreateRepo creates the bare repository name (e.g. "org/app.git") seeded
// with files on branch main and returns the seed commit SHA.
func (s *HTTPServer) CreateRepo(t testing.TB, name string, files map[string]string) string {
	t.Helper()
	return InitBare(t, s.Dir(name), files)
}

// Dir is the bare repository directory of name.
func (s *HTTPServer) Dir(name string) string { return filepath.Join(s.Root, filepath.FromSlash(name)) }

// RepoURL is the clone URL of name without credentials.
func (s *HTTPServer) RepoURL(name string) string {
	return s.URL + "/" + strings.TrimPrefix(name, "/")
}

// RepoURLWithCreds is the clone URL of name with the user and password in it.
func (s *HTTPServer) RepoURLWithCreds(name string) string {
	u, _ := url.Parse(s.RepoURL(name))
	u.User = url.UserPassword(s.User, s.Password)
	return u.String()
}

// SetReadOnly turns pushes to name off (http.receivepack=false: the server
// answers 403 to receive-pack) or back on.
func (s *HTTPServer) SetReadOnly(t testing.TB, name string, readOnly bool) {
	t.Helper()
	v := "true"
	if readOnly {
		v = "false"
	}
	Git(t, s.Dir(name), "config", "http.receivepack", v)
}
