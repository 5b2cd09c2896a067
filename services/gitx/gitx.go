// Package gitx owns gitopstui's Git layer: one bare cache clone per
// repository (fetched on demand), reading files at a revision, building
// commits directly from tree objects (no worktree, no index, no status),
// and pushing them over HTTPS or SSH with a bounded, jittered
// fetch-reapply-retry loop. Nothing is ever force-pushed, and nothing built
// is lost: a commit not (yet) pushed stays reachable from a ref under
// refs/gitopstui/unpushed/ until a push lands it or DropUnpushed drops it,
// so `git gc --prune=now` on the cache keeps it. Reads follow symbolic links
// in the repository while they stay inside it; writes never go through one.
//
// Errors are model errors: GIT_AUTH_FAILED for credential and host-key
// problems (carrying the remote's message), INSUFFICIENT_PERMISSIONS for a
// remote that refuses the push (read-only, protected branch, hook),
// REPOSITORY_NOT_FOUND, NOT_FOUND for missing paths and branches,
// CONFLICT_DETECTED when the branch moved and retries ran out (intent
// errors are returned as they are).
package gitx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/gitopstui/gitopstui/model"
)

// remoteName is the only remote a cache clone has.
const remoteName = "origin"

// Option tunes a Repo.
type Option func(*settings)

type settings struct {
	env []string
}

// WithEnv adds KEY=VALUE pairs that take precedence over the process
// environment for every lookup the Repo makes: the variables named in Auth,
// SSH_AUTH_SOCK, HOME, and the environment of the git CLI that answers
// `git credential fill` and `git config` (for example GIT_CONFIG_GLOBAL).
func WithEnv(kv ...string) Option {
	return func(s *settings) { s.env = append(s.env, kv...) }
}

// Repo is the bare cache clone of one remote repository. Its methods are
// safe for concurrent use; they are serialised per Repo. Use one Repo per
// directory at a time (Cache does that).
type Repo struct {
	dir  string
	url  string
	auth Auth
	env  []string

	mu     sync.Mutex
	fsys   *filesystem.Storage
	repo   *git.Repository
	author *Signature // resolved default author, lazily
}

// Open opens the bare cache clone in dir (for example
// <data-dir>/git/<repo-id>.git), creating it when missing, and points its
// remote at url. Nothing is fetched until a method needs it.
func Open(dir, url string, auth Auth, opts ...Option) (*Repo, error) {
	if strings.TrimSpace(url) == "" {
		return nil, model.Errorf(model.CodeBadRequest, "git remote url is empty").WithDetail("fields", map[string]any{"url": "required"})
	}
	if _, err := transport.NewEndpoint(url); err != nil {
		return nil, model.Errorf(model.CodeBadRequest, "git remote url %q: %v", redact(url), err).WithDetail("fields", map[string]any{"url": err.Error()})
	}
	var st settings
	for _, o := range opts {
		o(&st)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, model.Wrap(model.CodeInternal, err, "create git cache dir")
	}
	fsys := filesystem.NewStorageWithOptions(osfs.New(dir), cache.NewObjectLRUDefault(),
		filesystem.Options{KeepDescriptors: true})
	var repo *git.Repository
	var err error
	if _, statErr := os.Stat(filepath.Join(dir, "HEAD")); statErr == nil {
		repo, err = git.Open(fsys, nil)
	} else {
		repo, err = git.Init(fsys, nil)
	}
	if err != nil {
		_ = fsys.Close()
		return nil, model.Wrap(model.CodeInternal, err, "open git cache "+dir)
	}
	r := &Repo{dir: dir, url: url, auth: auth, env: st.env, fsys: fsys, repo: repo}
	if err := r.setRemote(url); err != nil {
		_ = fsys.Close()
		return nil, err
	}
	return r, nil
}

func (r *Repo) setRemote(url string) error {
	cfg, err := r.repo.Config()
	if err != nil {
		return model.Wrap(model.CodeInternal, err, "read git cache config")
	}
	rc, ok := cfg.Remotes[remoteName]
	if ok && len(rc.URLs) == 1 && rc.URLs[0] == url {
		return nil
	}
	cfg.Remotes[remoteName] = &config.RemoteConfig{
		Name:  remoteName,
		URLs:  []string{url},
		Fetch: []config.RefSpec{config.RefSpec("+refs/heads/*:refs/remotes/" + remoteName + "/*")},
	}
	if err := r.repo.SetConfig(cfg); err != nil {
		return model.Wrap(model.CodeInternal, err, "write git cache config")
	}
	return nil
}

// Dir is the cache clone's directory.
func (r *Repo) Dir() string { return r.dir }

// URL is the remote URL.
func (r *Repo) URL() string { return r.url }

// Close releases the open pack files.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fsys.Close()
}

// Fetch brings branch from the remote into the cache (refs/remotes/origin/
// <branch>) and returns its head SHA; "" when the remote has no such branch
// (or is empty).
func (r *Repo) Fetch(ctx context.Context, branch string) (string, error) {
	if err := checkBranch(branch); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	h, err := r.fetch(ctx, branch)
	if err != nil || h.IsZero() {
		return "", err
	}
	return h.String(), nil
}

func trackingRef(branch string) plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName(remoteName, branch)
}

// fetch runs a fetch of one branch ("" = all branches); it returns the
// branch's head (zero when absent or when branch is "").
func (r *Repo) fetch(ctx context.Context, branch string) (plumbing.Hash, error) {
	creds, err := r.transportAuth(ctx)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer creds.close()
	spec := config.RefSpec("+refs/heads/*:refs/remotes/" + remoteName + "/*")
	if branch != "" {
		spec = config.RefSpec("+refs/heads/" + branch + ":" + trackingRef(branch).String())
	}
	err = r.repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: remoteName,
		RefSpecs:   []config.RefSpec{spec},
		Auth:       creds.method,
		Tags:       git.NoTags,
	})
	var noMatch git.NoMatchingRefSpecError
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
	case errors.As(err, &noMatch), errors.Is(err, transport.ErrEmptyRemoteRepository):
		// the branch does not exist (yet) on the remote
		if branch != "" {
			_ = r.fsys.RemoveReference(trackingRef(branch))
		}
		r.credentialDone(ctx, creds, true)
		return plumbing.ZeroHash, nil
	default:
		return plumbing.ZeroHash, r.remoteError(ctx, "fetch", err, "", creds)
	}
	r.credentialDone(ctx, creds, true)
	if packs, err := r.fsys.ObjectPacks(); err == nil && len(packs) > maxPacks {
		_ = r.compact(ctx) // best effort; the cache stays valid without it
	}
	if branch == "" {
		return plumbing.ZeroHash, nil
	}
	ref, err := r.fsys.Reference(trackingRef(branch))
	if err != nil {
		return plumbing.ZeroHash, nil
	}
	return ref.Hash(), nil
}

// maxPacks is the pack count above which a fetch compacts the cache (every
// fetch adds one pack; lookups visit each).
const maxPacks = 50

// Compact repacks the cache clone with `git gc` (the cache is an ordinary
// bare repository) and reopens it. Fetch calls it when packs pile up.
func (r *Repo) Compact(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.compact(ctx)
}

func (r *Repo) compact(ctx context.Context) error {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		return model.Wrap(model.CodeInternal, err, "compact git cache")
	}
	if err := r.fsys.Close(); err != nil {
		return model.Wrap(model.CodeInternal, err, "compact git cache")
	}
	cmd := exec.CommandContext(ctx, gitBin, "-C", r.dir, "gc", "--quiet", "--prune=now")
	cmd.Env = append(cmd.Environ(), r.env...)
	out, runErr := cmd.CombinedOutput()
	fsys := filesystem.NewStorageWithOptions(osfs.New(r.dir), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	repo, err := git.Open(fsys, nil)
	if err != nil {
		return model.Wrap(model.CodeInternal, err, "reopen git cache "+r.dir)
	}
	r.fsys, r.repo = fsys, repo
	if runErr != nil {
		return model.Wrap(model.CodeInternal, runErr, "git gc: "+strings.TrimSpace(string(out)))
	}
	return nil
}

var hexSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

// resolve turns rev into a commit, fetching on demand: a branch name is
// fetched first (so reads see the remote's current state); a full SHA that
// the cache lacks triggers a fetch of all branches. "" means the default
// branch the remote's HEAD points to is not known, so it is an error.
func (r *Repo) resolve(ctx context.Context, rev string) (*object.Commit, error) {
	if rev == "" {
		return nil, model.Errorf(model.CodeBadRequest, "revision is empty").WithDetail("fields", map[string]any{"rev": "required"})
	}
	if hexSHA.MatchString(rev) {
		h := plumbing.NewHash(rev)
		if c, err := object.GetCommit(r.fsys, h); err == nil {
			return c, nil
		}
		if _, err := r.fetch(ctx, ""); err != nil {
			return nil, err
		}
		c, err := object.GetCommit(r.fsys, h)
		if err != nil {
			return nil, model.NotFound("commit", rev)
		}
		return c, nil
	}
	if err := checkBranch(rev); err != nil {
		return nil, err
	}
	h, err := r.fetch(ctx, rev)
	if err != nil {
		return nil, err
	}
	if h.IsZero() {
		return nil, model.NotFound("branch", rev)
	}
	c, err := object.GetCommit(r.fsys, h)
	if err != nil {
		return nil, model.Wrap(model.CodeInternal, err, "read commit "+h.String())
	}
	return c, nil
}

func checkBranch(b string) error {
	if b == "" || strings.HasPrefix(b, "-") || strings.HasPrefix(b, "refs/") ||
		!plumbing.NewBranchReferenceName(b).IsBranch() || strings.ContainsAny(b, " ~^:?*[\\\x00") || strings.Contains(b, "..") {
		return model.Errorf(model.CodeBadRequest, "invalid branch name %q", b).WithDetail("fields", map[string]any{"branch": "invalid branch name"})
	}
	return nil
}

// getenv looks name up in the Repo's extra environment, then the process's.
func (r *Repo) getenv(name string) string {
	for i := len(r.env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(r.env[i], "="); ok && k == name {
			return v
		}
	}
	return os.Getenv(name)
}

// Cache hands out one Repo per repository id under a root directory (the
// data dir's git/), so that writers in one process share a clone.
type Cache struct {
	root string
	opts []Option

	mu    sync.Mutex
	repos map[string]*Repo
}

// NewCache returns a Cache whose clones live in root/<id>.git.
func NewCache(root string, opts ...Option) *Cache {
	return &Cache{root: root, opts: opts, repos: map[string]*Repo{}}
}

var repoID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Repo returns the clone of repository id, opening it on first use. A changed
// url or auth replaces the remote settings of the open clone.
func (c *Cache) Repo(id, url string, auth Auth) (*Repo, error) {
	if !repoID.MatchString(id) || strings.Contains(id, "..") {
		return nil, model.Errorf(model.CodeBadRequest, "invalid repository id %q", id).WithDetail("fields", map[string]any{"id": "invalid"})
	}
	c.mu.Lock()
	r, ok := c.repos[id]
	if !ok {
		var err error
		if r, err = Open(filepath.Join(c.root, id+".git"), url, auth, c.opts...); err != nil {
			c.mu.Unlock()
			return nil, err
		}
		c.repos[id] = r
		c.mu.Unlock()
		return r, nil
	}
	c.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.auth = auth
	if r.url != url {
		if err := r.setRemote(url); err != nil {
			return nil, err
		}
		r.url = url
	}
	return r, nil
}

// Close closes every open clone.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for id, r := range c.repos {
		errs = append(errs, r.Close())
		delete(c.repos, id)
	}
	return errors.Join(errs...)
}

// String names the Repo by its remote (password redacted).
func (r *Repo) String() string { return fmt.Sprintf("gitx.Repo(%s)", redact(r.url)) }
