package gitx

import (
	"context"
	"errors"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitopstui/gitopstui/model"
)

// CommitInfo is a commit's identity: its parents, its root tree and message.
type CommitInfo struct {
	SHA     string
	Parents []string
	Tree    string
	Subject string
}

// Lookup returns commit sha (a full SHA, fetched when the cache lacks it):
// NOT_FOUND when no branch of the remote reaches it.
func (r *Repo) Lookup(ctx context.Context, sha string) (CommitInfo, error) {
	if !hexSHA.MatchString(sha) {
		return CommitInfo{}, model.Errorf(model.CodeBadRequest, "invalid commit %q", sha).WithDetail("fields", map[string]any{"sha": "not a commit SHA"})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.resolve(ctx, sha)
	if err != nil {
		return CommitInfo{}, err
	}
	info := CommitInfo{SHA: c.Hash.String(), Tree: c.TreeHash.String()}
	for _, p := range c.ParentHashes {
		info.Parents = append(info.Parents, p.String())
	}
	info.Subject, _, _ = strings.Cut(c.Message, "\n")
	return info, nil
}

// FileChange is a path whose content differs between two commits. Old is
// its content in the first (nil with !OldExists when absent), New in the
// second. Special is set when either side is not a regular file (a
// symbolic link or a submodule); its contents are then not read.
type FileChange struct {
	Path       string
	Old, New   []byte
	OldExists  bool
	NewExists  bool
	Special    bool
	ModeChange bool
}

// ChangedFiles lists the files that differ between commits from and to
// (full SHAs), sorted by path, comparing only the subtrees whose hashes
// differ (so a one-file commit in a large repository reads one path).
func (r *Repo) ChangedFiles(ctx context.Context, from, to string) ([]FileChange, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	trees := make([]*object.Tree, 2)
	for i, rev := range []string{from, to} {
		c, err := r.resolve(ctx, rev)
		if err != nil {
			return nil, err
		}
		if trees[i], err = c.Tree(); err != nil {
			return nil, model.Wrap(model.CodeInternal, err, "read tree of "+rev)
		}
	}
	var out []FileChange
	if err := r.diffTrees(trees[0], trees[1], "", &out); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// diffTrees appends the files that differ between trees a and b (either may
// be nil: absent) under dir.
func (r *Repo) diffTrees(a, b *object.Tree, dir string, out *[]FileChange) error {
	entries := map[string][2]*object.TreeEntry{}
	for i, t := range []*object.Tree{a, b} {
		if t == nil {
			continue
		}
		for k := range t.Entries {
			e := &t.Entries[k]
			pair := entries[e.Name]
			pair[i] = e
			entries[e.Name] = pair
		}
	}
	for name, pair := range entries {
		ea, eb := pair[0], pair[1]
		if ea != nil && eb != nil && ea.Hash == eb.Hash && ea.Mode == eb.Mode {
			continue
		}
		p := path.Join(dir, name)
		ta, err := r.subtree(ea)
		if err != nil {
			return err
		}
		tb, err := r.subtree(eb)
		if err != nil {
			return err
		}
		if ta != nil || tb != nil {
			if err := r.diffTrees(ta, tb, p, out); err != nil {
				return err
			}
		}
		fa, fb := fileEntry(ea), fileEntry(eb)
		if fa == nil && fb == nil {
			continue
		}
		fc := FileChange{Path: p, OldExists: fa != nil, NewExists: fb != nil}
		fc.ModeChange = fa != nil && fb != nil && fa.Mode != fb.Mode
		for _, e := range []*object.TreeEntry{fa, fb} {
			if e != nil && e.Mode != filemode.Regular && e.Mode != filemode.Executable && e.Mode != filemode.Deprecated {
				fc.Special = true
			}
		}
		if !fc.Special {
			if fc.Old, err = r.blob(fa); err != nil {
				return err
			}
			if fc.New, err = r.blob(fb); err != nil {
				return err
			}
		}
		*out = append(*out, fc)
	}
	return nil
}

// subtree is the tree of a directory entry (nil for anything else).
func (r *Repo) subtree(e *object.TreeEntry) (*object.Tree, error) {
	if e == nil || e.Mode != filemode.Dir {
		return nil, nil
	}
	t, err := object.GetTree(r.fsys, e.Hash)
	if err != nil {
		return nil, model.Wrap(model.CodeInternal, err, "read tree "+e.Hash.String())
	}
	return t, nil
}

// fileEntry is e unless it is a directory.
func fileEntry(e *object.TreeEntry) *object.TreeEntry {
	if e == nil || e.Mode == filemode.Dir {
		return nil
	}
	return e
}

func (r *Repo) blob(e *object.TreeEntry) ([]byte, error) {
	if e == nil {
		return nil, nil
	}
	b, err := object.GetBlob(r.fsys, e.Hash)
	if err != nil {
		return nil, model.Wrap(model.CodeInternal, err, "read blob "+e.Hash.String())
	}
	return blobBytes(&object.File{Name: e.Name, Blob: *b})
}

// TreeAt is the hash of the tree at directory p ("" or "." for the root) in
// commit sha (fetched when the cache lacks it): "" when p is absent or not
// a directory there.
func (r *Repo) TreeAt(ctx context.Context, sha, p string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.resolve(ctx, sha)
	if err != nil {
		return "", err
	}
	rel := cleanRel(p)
	if rel == "" {
		return c.TreeHash.String(), nil
	}
	t, err := c.Tree()
	if err != nil {
		return "", model.Wrap(model.CodeInternal, err, "read tree")
	}
	e, err := t.FindEntry(rel)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return "", nil
	}
	if err != nil {
		return "", model.Wrap(model.CodeInternal, err, "read tree")
	}
	if e.Mode != filemode.Dir {
		return "", nil
	}
	return e.Hash.String(), nil
}

// CommitAndPushBranch applies intent to the head of base and pushes the
// commit to target, a branch the remote must not have yet (CONFLICT_DETECTED
// when it has): the commit's parent is base's head, base itself is never
// written. It serves review branches; PushResult.Parent is base's head.
func (r *Repo) CommitAndPushBranch(ctx context.Context, base, target string, intent Intent, meta CommitMeta) (PushResult, error) {
	res := PushResult{Branch: target, Attempts: 1}
	for _, b := range []string{base, target} {
		if err := checkBranch(b); err != nil {
			return res, err
		}
	}
	if _, _, err := message(meta); err != nil {
		return res, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ps, err := r.openPush(ctx)
	if err != nil {
		return res, err
	}
	defer ps.close()
	if !ps.head(target).IsZero() {
		return res, model.Errorf(model.CodeConflictDetected, "branch %s already exists on the remote", target).
			WithDetail("branch", target).WithDetail("reason", "branch_exists")
	}
	head := ps.head(base)
	if head.IsZero() {
		return res, model.NotFound("branch", base)
	}
	parent, err := r.ensureCommit(ctx, base, head)
	if err != nil {
		return res, err
	}
	snap := Snapshot{r: r, Head: head.String()}
	if snap.tree, err = parent.Tree(); err != nil {
		return res, model.Wrap(model.CodeInternal, err, "read tree")
	}
	res.Parent = snap.Head
	ch, err := intent(snap)
	if err != nil {
		return res, err
	}
	commit, objs, changed, err := r.buildCommit(ctx, parent, ch, meta)
	if err != nil {
		return res, err
	}
	if !changed {
		res.NoOp, res.Commit, res.WebURL = true, snap.Head, CommitURL(r.url, snap.Head)
		return res, nil
	}
	if err := r.send(ctx, ps, target, plumbing.ZeroHash, commit, objs); err != nil {
		if errors.Is(err, ErrNonFastForward) {
			return res, model.Wrap(model.CodeConflictDetected, err, "branch "+target+" was created meanwhile").
				WithDetail("branch", target).WithDetail("reason", "branch_exists")
		}
		return res, err
	}
	res.Commit, res.WebURL = commit.String(), CommitURL(r.url, commit.String())
	return res, nil
}
