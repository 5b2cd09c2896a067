package gitx

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitopstui/gitopstui/model"
)

// Signature is a commit author or committer.
type Signature struct {
	Name  string    `json:"name"`
	Email string    `json:"email"`
	When  time.Time `json:"when"` // zero: now
}

// CommitMeta describes the commit to make.
type CommitMeta struct {
	// Subject is the first line of the message (required). Extra lines move
	// to the top of the body.
	Subject string
	// Body is the rest of the message, separated from the subject by a blank line.
	Body string
	// Author: empty Name or Email are taken from the global git config
	// (user.name, user.email), else "gitopstui".
	Author Signature
	// Committer defaults to Author.
	Committer *Signature
}

// Changes is what one commit changes, by path relative to the repository
// root ("apps/web/deployment.yaml"). Existing files keep their mode; new
// files are 0644. Deleting a missing path is a no-op; deleting a directory
// removes all of it; directories left empty disappear (as in Git).
type Changes struct {
	Write  map[string][]byte
	Delete []string
	// Subject and Body, when Subject is set, replace the commit meta's
	// message: an intent whose message depends on what it found on the
	// head (a promotion names what it copied) writes it here.
	Subject, Body string
}

// Empty reports whether c changes nothing.
func (c Changes) Empty() bool { return len(c.Write) == 0 && len(c.Delete) == 0 }

// Snapshot is one commit's files: the head an intent is computed against
// (valid only during that intent call), or a commit from Repo.Snapshot.
type Snapshot struct {
	// Head is the commit SHA of the branch; "" when the branch does not
	// exist yet.
	Head string
	r    *Repo
	tree *object.Tree
	// mu is the Repo's lock for a snapshot read outside it (Repo.Snapshot);
	// nil inside an intent, which already runs under the lock.
	mu *sync.Mutex
}

// lock takes the Repo's lock when the snapshot is read from outside it and
// returns its release.
func (s Snapshot) lock() func() {
	if s.mu == nil {
		return func() {}
	}
	s.mu.Lock()
	return s.mu.Unlock
}

// ReadFile returns the file at path (NOT_FOUND when missing).
func (s Snapshot) ReadFile(p string) ([]byte, error) {
	defer s.lock()()
	if s.tree == nil {
		return nil, model.NotFound("file", p)
	}
	return readFile(s.tree, p)
}

// ReadTree returns the files under path (or the file at path), keyed by
// path relative to the repository root; NOT_FOUND when path is missing.
// "" or "." is the whole repository.
func (s Snapshot) ReadTree(p string) (map[string][]byte, error) {
	defer s.lock()()
	if s.tree == nil {
		if cleanRel(p) == "" {
			return map[string][]byte{}, nil
		}
		return nil, model.NotFound("path", p)
	}
	return readTree(s.tree, p)
}

// ReadTree returns the files under path at rev (a branch name, fetched first,
// or a commit SHA) keyed by path relative to the repository root, and the
// commit SHA read.
func (r *Repo) ReadTree(ctx context.Context, rev, p string) (map[string][]byte, string, error) {
	s, err := r.Snapshot(ctx, rev)
	if err != nil {
		return nil, "", err
	}
	files, err := s.ReadTree(p)
	return files, s.Head, err
}

// ReadFile returns the file at path at rev (a branch name, fetched first, or
// a commit SHA) and the commit SHA read.
func (r *Repo) ReadFile(ctx context.Context, rev, p string) ([]byte, string, error) {
	s, err := r.Snapshot(ctx, rev)
	if err != nil {
		return nil, "", err
	}
	b, err := s.ReadFile(p)
	return b, s.Head, err
}

func cleanRel(p string) string {
	p = path.Clean("/" + strings.TrimSpace(p))
	return strings.TrimPrefix(p, "/")
}

func readFile(t *object.Tree, p string) ([]byte, error) {
	return readResolved(t, p)
}

func blobBytes(f *object.File) ([]byte, error) {
	rd, err := f.Reader()
	if err != nil {
		return nil, model.Wrap(model.CodeInternal, err, "read "+f.Name)
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, model.Wrap(model.CodeInternal, err, "read "+f.Name)
	}
	return b, nil
}

// readTree reads the files under p (or the file p), following symbolic
// links inside the repository for p and for every file link under it; a
// link to a directory under p is not descended into, and a link leaving the
// repository is BAD_REQUEST naming it.
func readTree(t *object.Tree, p string) (map[string][]byte, error) {
	rel := cleanRel(p)
	r, err := resolvePath(t, rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, model.NotFound("path", p)
		}
		return nil, linkModelError(p, err)
	}
	if !r.isDir() {
		b, err := readResolved(t, rel)
		if err != nil {
			return nil, err
		}
		return map[string][]byte{rel: b}, nil
	}
	prefix := ""
	if rel != "" {
		prefix = rel + "/"
	}
	out := map[string][]byte{}
	err = r.dir.Files().ForEach(func(f *object.File) error {
		name := prefix + f.Name
		if f.Mode == filemode.Symlink {
			lr, err := resolvePath(t, r.path+"/"+f.Name)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // a dangling link has no content
				}
				return linkModelError(name, err)
			}
			if lr.isDir() {
				return nil
			}
			if f, err = lr.parent.TreeEntryFile(lr.entry); err != nil {
				return model.Wrap(model.CodeInternal, err, "read "+lr.path)
			}
		}
		b, err := blobBytes(f)
		if err != nil {
			return err
		}
		out[name] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Commit builds a commit on parent (a branch name, fetched first, or a
// commit SHA; "" for a root commit) from changes, without any worktree: only
// the trees on the changed paths are rewritten. No branch moves. It returns the
// new commit's SHA; BAD_REQUEST "nothing to commit" when the tree is unchanged.
// The cache keeps the commit under UnpushedRefPrefix until Push lands it or
// DropUnpushed drops it.
func (r *Repo) Commit(ctx context.Context, parent string, ch Changes, meta CommitMeta) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var pc *object.Commit
	if parent != "" {
		var err error
		if pc, err = r.resolve(ctx, parent); err != nil {
			return "", err
		}
	}
	h, _, changed, err := r.buildCommit(ctx, pc, ch, meta)
	if err != nil {
		return "", err
	}
	if !changed {
		return "", model.Errorf(model.CodeBadRequest, "nothing to commit: the changes leave the tree as it is")
	}
	if err := r.keepUnpushed(h); err != nil {
		return "", err
	}
	return h.String(), nil
}

// edit is the trie of changes under one directory.
type edit struct {
	files map[string][]byte // nil value: delete
	del   map[string]bool
	dirs  map[string]*edit
}

func newEdit() *edit {
	return &edit{files: map[string][]byte{}, del: map[string]bool{}, dirs: map[string]*edit{}}
}

func validPath(p string) (string, []string, bool) {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsRune(p, 0) {
		return "", nil, false
	}
	parts := strings.Split(p, "/")
	for _, s := range parts {
		if s == "" || s == "." || s == ".." || strings.EqualFold(s, ".git") {
			return "", nil, false
		}
	}
	return p, parts, true
}

func buildEdits(ch Changes) (*edit, error) {
	root := newEdit()
	bad := model.FieldErrors{}
	node := func(parts []string) (*edit, bool) {
		n := root
		for _, d := range parts {
			if _, isFile := n.files[d]; isFile || n.del[d] {
				return nil, false
			}
			c, ok := n.dirs[d]
			if !ok {
				c = newEdit()
				n.dirs[d] = c
			}
			n = c
		}
		return n, true
	}
	paths := make([]string, 0, len(ch.Write))
	for p := range ch.Write {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		_, parts, ok := validPath(p)
		if !ok {
			bad.Add("changes.write."+p, "invalid path")
			continue
		}
		n, ok := node(parts[:len(parts)-1])
		name := parts[len(parts)-1]
		if _, isDir := n.dirs[name]; !ok || isDir {
			bad.Add("changes.write."+p, "path is both a file and a directory in the changes")
			continue
		}
		b := ch.Write[p]
		if b == nil {
			b = []byte{}
		}
		n.files[name] = b
	}
	for _, p := range ch.Delete {
		_, parts, ok := validPath(p)
		if !ok {
			bad.Add("changes.delete."+p, "invalid path")
			continue
		}
		n, ok := node(parts[:len(parts)-1])
		name := parts[len(parts)-1]
		_, written := n.files[name]
		_, under := n.dirs[name]
		if !ok || written || under {
			bad.Add("changes.delete."+p, "path is also written or is inside a written file")
			continue
		}
		delete(n.dirs, name)
		n.del[name] = true
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	return root, nil
}

// writer writes new objects and remembers them for the push pack.
type writer struct {
	r    *Repo
	new  []plumbing.Hash
	seen map[plumbing.Hash]bool
}

func (w *writer) put(t plumbing.ObjectType, content []byte) (plumbing.Hash, error) {
	h := plumbing.ComputeHash(t, content)
	if w.seen[h] {
		return h, nil
	}
	if w.seen == nil {
		w.seen = map[plumbing.Hash]bool{}
	}
	w.seen[h] = true
	w.new = append(w.new, h)
	if w.r.fsys.HasEncodedObject(h) == nil {
		return h, nil
	}
	obj := w.r.fsys.NewEncodedObject()
	obj.SetType(t)
	obj.SetSize(int64(len(content)))
	ow, err := obj.Writer()
	if err != nil {
		return h, err
	}
	if _, err := ow.Write(content); err != nil {
		return h, err
	}
	if err := ow.Close(); err != nil {
		return h, err
	}
	return w.r.fsys.SetEncodedObject(obj)
}

func (w *writer) putObject(o interface {
	Encode(plumbing.EncodedObject) error
}) (plumbing.Hash, error) {
	mem := &plumbing.MemoryObject{}
	if err := o.Encode(mem); err != nil {
		return plumbing.ZeroHash, err
	}
	rd, err := mem.Reader()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return w.put(mem.Type(), b)
}

// apply rewrites the tree th (zero: none) with e; it returns the new tree
// hash, or zero when the result is empty.
func (w *writer) apply(th plumbing.Hash, e *edit, dir string) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if !th.IsZero() {
		t, err := object.GetTree(w.r.fsys, th)
		if err != nil {
			return plumbing.ZeroHash, model.Wrap(model.CodeInternal, err, "read tree "+dir)
		}
		entries = make([]object.TreeEntry, 0, len(t.Entries)+len(e.files)+len(e.dirs))
		entries = append(entries, t.Entries...)
	}
	idx := make(map[string]int, len(entries))
	for i, en := range entries {
		idx[en.Name] = i
	}
	removed := map[string]bool{}
	set := func(en object.TreeEntry) {
		if i, ok := idx[en.Name]; ok {
			entries[i] = en
			delete(removed, en.Name)
			return
		}
		idx[en.Name] = len(entries)
		entries = append(entries, en)
	}
	for name := range e.del {
		if _, ok := idx[name]; ok {
			removed[name] = true
		}
	}
	for name, content := range e.files {
		mode := filemode.Regular
		if i, ok := idx[name]; ok {
			var err error
			if mode, err = w.writeMode(th, entries[i], dir); err != nil {
				return plumbing.ZeroHash, err
			}
		}
		h, err := w.put(plumbing.BlobObject, content)
		if err != nil {
			return plumbing.ZeroHash, model.Wrap(model.CodeInternal, err, "write blob")
		}
		set(object.TreeEntry{Name: name, Mode: mode, Hash: h})
	}
	for name, sub := range e.dirs {
		child := plumbing.ZeroHash
		if i, ok := idx[name]; ok && !removed[name] {
			if entries[i].Mode == filemode.Symlink {
				return plumbing.ZeroHash, w.linkRefused(th, entries[i], dir, path.Join(dir, name, sub.first()))
			}
			if entries[i].Mode != filemode.Dir {
				return plumbing.ZeroHash, model.Errorf(model.CodeBadRequest, "cannot write under %s: it is a file", path.Join(dir, name)).
					WithDetail("fields", map[string]any{"changes.write." + path.Join(dir, name): "is a file"})
			}
			child = entries[i].Hash
		}
		nh, err := w.apply(child, sub, path.Join(dir, name))
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if nh.IsZero() {
			if _, ok := idx[name]; ok {
				removed[name] = true
			}
			continue
		}
		set(object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: nh})
	}
	return w.writeTree(entries, removed, dir)
}

// writeTree writes the tree of entries but the removed ones and returns its
// hash, or zero when nothing is left.
func (w *writer) writeTree(entries []object.TreeEntry, removed map[string]bool, dir string) (plumbing.Hash, error) {
	out := entries[:0]
	for _, en := range entries {
		if !removed[en.Name] {
			out = append(out, en)
		}
	}
	if len(out) == 0 {
		return plumbing.ZeroHash, nil
	}
	sort.Sort(object.TreeEntrySorter(out))
	h, err := w.putObject(&object.Tree{Entries: out})
	if err != nil {
		return plumbing.ZeroHash, model.Wrap(model.CodeInternal, err, "write tree "+dir)
	}
	return h, nil
}

// writeMode is the mode a file keeps when its entry e of directory dir (tree
// th) is written: a regular or executable file stays one; a symbolic link,
// directory or submodule is refused.
func (w *writer) writeMode(th plumbing.Hash, e object.TreeEntry, dir string) (filemode.FileMode, error) {
	switch e.Mode {
	case filemode.Regular, filemode.Executable:
		return e.Mode, nil
	case filemode.Deprecated:
		return filemode.Regular, nil
	case filemode.Symlink:
		return 0, w.linkRefused(th, e, dir, path.Join(dir, e.Name))
	}
	return 0, model.Errorf(model.CodeBadRequest, "cannot write %s: it is a directory or submodule", path.Join(dir, e.Name)).
		WithDetail("fields", map[string]any{"changes.write." + path.Join(dir, e.Name): "is a directory"})
}
