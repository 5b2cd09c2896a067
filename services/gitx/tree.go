package gitx

import (
	"context"
	"io"
	"os/exec"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/config"
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
	rel := cleanRel(p)
	f, err := t.File(rel)
	if err != nil {
		return nil, model.NotFound("file", p)
	}
	return blobBytes(f)
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

func readTree(t *object.Tree, p string) (map[string][]byte, error) {
	rel := cleanRel(p)
	sub := t
	prefix := ""
	if rel != "" {
		e, err := t.FindEntry(rel)
		if err != nil {
			return nil, model.NotFound("path", p)
		}
		if e.Mode != filemode.Dir {
			b, err := readFile(t, rel)
			if err != nil {
				return nil, err
			}
			return map[string][]byte{rel: b}, nil
		}
		if sub, err = t.Tree(rel); err != nil {
			return nil, model.Wrap(model.CodeInternal, err, "read tree "+rel)
		}
		prefix = rel + "/"
	}
	out := map[string][]byte{}
	err := sub.Files().ForEach(func(f *object.File) error {
		b, err := blobBytes(f)
		if err != nil {
			return err
		}
		out[prefix+f.Name] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Commit builds a commit on parent (a branch name, fetched first, or a
// commit SHA; "" for a root commit) from changes, without any worktree: only
// the trees on the changed paths are rewritten. No ref moves. It returns the
// new commit's SHA; BAD_REQUEST "nothing to commit" when the tree is unchanged.
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
			m, err := keptMode(entries[i].Mode, path.Join(dir, name))
			if err != nil {
				return plumbing.ZeroHash, err
			}
			mode = m
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

// keptMode is the mode a file written over an entry of mode m at p keeps
// (a deprecated group-writable mode becomes regular); a directory or
// submodule cannot be written over.
func keptMode(m filemode.FileMode, p string) (filemode.FileMode, error) {
	switch m {
	case filemode.Regular, filemode.Executable, filemode.Symlink:
		return m, nil
	case filemode.Deprecated:
		return filemode.Regular, nil
	}
	return 0, model.Errorf(model.CodeBadRequest, "cannot write %s: it is a directory or submodule", p).
		WithDetail("fields", map[string]any{"changes.write." + p: "is a directory"})
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

// buildCommit writes the commit for ch on parent (nil: root commit) and
// returns it with the objects it wrote (the push pack). changed is false when
// the tree would stay the same; no commit is written then.
func (r *Repo) buildCommit(ctx context.Context, parent *object.Commit, ch Changes, meta CommitMeta) (plumbing.Hash, []plumbing.Hash, bool, error) {
	subject, body, err := message(meta)
	if err != nil {
		return plumbing.ZeroHash, nil, false, err
	}
	edits, err := buildEdits(ch)
	if err != nil {
		return plumbing.ZeroHash, nil, false, err
	}
	w := &writer{r: r}
	base := plumbing.ZeroHash
	if parent != nil {
		base = parent.TreeHash
	}
	th, err := w.apply(base, edits, "")
	if err != nil {
		return plumbing.ZeroHash, nil, false, err
	}
	if th.IsZero() {
		if th, err = w.put(plumbing.TreeObject, nil); err != nil {
			return plumbing.ZeroHash, nil, false, model.Wrap(model.CodeInternal, err, "write tree")
		}
	}
	if parent != nil && th == parent.TreeHash {
		return parent.Hash, nil, false, nil
	}
	author, committer := r.signatures(ctx, meta)
	c := &object.Commit{
		Author:    author,
		Committer: committer,
		Message:   subject + "\n",
		TreeHash:  th,
	}
	if body != "" {
		c.Message = subject + "\n\n" + body + "\n"
	}
	if parent != nil {
		c.ParentHashes = []plumbing.Hash{parent.Hash}
	}
	ch2, err := w.putObject(c)
	if err != nil {
		return plumbing.ZeroHash, nil, false, model.Wrap(model.CodeInternal, err, "write commit")
	}
	return ch2, w.new, true, nil
}

func message(meta CommitMeta) (string, string, error) {
	subject := strings.TrimSpace(strings.ReplaceAll(meta.Subject, "\r\n", "\n"))
	body := strings.TrimSpace(strings.ReplaceAll(meta.Body, "\r\n", "\n"))
	if first, rest, ok := strings.Cut(subject, "\n"); ok {
		subject = strings.TrimSpace(first)
		body = strings.TrimSpace(strings.TrimSpace(rest) + "\n\n" + body)
	}
	if subject == "" {
		return "", "", model.Errorf(model.CodeBadRequest, "commit message is empty").WithDetail("fields", map[string]any{"commitMessage": "required"})
	}
	return subject, body, nil
}

func (r *Repo) signatures(ctx context.Context, meta CommitMeta) (object.Signature, object.Signature) {
	now := time.Now()
	fill := func(s Signature) object.Signature {
		if s.Name == "" || s.Email == "" {
			def := r.defaultAuthor(ctx)
			if s.Name == "" {
				s.Name = def.Name
			}
			if s.Email == "" {
				s.Email = def.Email
			}
		}
		if s.When.IsZero() {
			s.When = now
		}
		return object.Signature{Name: s.Name, Email: s.Email, When: s.When}
	}
	a := fill(meta.Author)
	if meta.Committer == nil {
		return a, a
	}
	return a, fill(*meta.Committer)
}

// DefaultAuthor is the author used when CommitMeta leaves it empty:
// user.name and user.email of the global git config, else "gitopstui".
func (r *Repo) DefaultAuthor(ctx context.Context) Signature {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.defaultAuthor(ctx)
}

func (r *Repo) defaultAuthor(ctx context.Context) Signature {
	if r.author != nil {
		return *r.author
	}
	s := Signature{}
	if git, err := exec.LookPath("git"); err == nil {
		get := func(key string) string {
			cmd := exec.CommandContext(ctx, git, "config", "--global", "--get", key)
			cmd.Env = append(cmd.Environ(), r.env...)
			out, err := cmd.Output()
			if err != nil {
				return ""
			}
			return strings.TrimSpace(string(out))
		}
		s.Name, s.Email = get("user.name"), get("user.email")
	} else if cfg, err := config.LoadConfig(config.GlobalScope); err == nil {
		s.Name, s.Email = cfg.User.Name, cfg.User.Email
	}
	if s.Name == "" {
		s.Name = "gitopstui"
	}
	if s.Email == "" {
		s.Email = "gitopstui@localhost"
	}
	r.author = &s
	return s
}
