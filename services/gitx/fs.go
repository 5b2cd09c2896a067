package gitx

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"path"
	"sort"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitopstui/gitopstui/model"
)

// Snapshot resolves rev (a branch name, fetched first, or a commit SHA) and
// returns the commit as a Snapshot whose reads (and FS) go to the cache clone
// lazily, each under the Repo's lock, so that they never race a fetch or push.
func (r *Repo) Snapshot(ctx context.Context, rev string) (Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.resolve(ctx, rev)
	if err != nil {
		return Snapshot{}, err
	}
	t, err := c.Tree()
	if err != nil {
		return Snapshot{}, model.Wrap(model.CodeInternal, err, "read tree")
	}
	return Snapshot{Head: c.Hash.String(), r: r, tree: t, mu: &r.mu}, nil
}

// FS returns the snapshot's files as a read-only fs.FS (paths relative to the
// repository root) that reads only the trees and blobs it is asked for, so
// that a caller can walk one directory of a large repository cheaply.
func (s Snapshot) FS() fs.FS { return treeFS{t: s.tree, lock: s.lock} }

type treeFS struct {
	t    *object.Tree
	lock func() func()
}

var (
	_ fs.ReadFileFS = treeFS{}
	_ fs.ReadDirFS  = treeFS{}
	_ fs.StatFS     = treeFS{}
	_ fs.ReadLinkFS = treeFS{}
)

// resolve follows the symbolic links on name inside the repository; a
// missing path is fs.ErrNotExist, a link leaving it a *LinkError.
func (f treeFS) resolve(name string) (resolved, error) {
	if f.t == nil {
		if name == "." {
			return resolved{dir: &object.Tree{}}, nil
		}
		return resolved{}, fs.ErrNotExist
	}
	return resolvePath(f.t, name)
}

// Stat follows symbolic links inside the repository, as os.Stat does.
func (f treeFS) Stat(name string) (fs.FileInfo, error) {
	defer f.lock()()
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	r, err := f.resolve(name)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	info := entryInfo{name: path.Base(name), dir: r.isDir()}
	if !info.dir {
		if file, err := r.parent.TreeEntryFile(r.entry); err == nil {
			info.size = file.Size
		}
	}
	return info, nil
}

// ReadFile reads a file, following symbolic links inside the repository.
func (f treeFS) ReadFile(name string) ([]byte, error) {
	defer f.lock()()
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	r, err := f.resolve(name)
	if err == nil && r.isDir() {
		err = fs.ErrInvalid
	}
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	file, err := r.parent.TreeEntryFile(r.entry)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return blobBytes(file)
}

// Lstat is Stat without following a symbolic link that name itself is.
func (f treeFS) Lstat(name string) (fs.FileInfo, error) {
	defer f.lock()()
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: fs.ErrInvalid}
	}
	e, t, err := f.lentry(name)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	if e == nil {
		return entryInfo{name: ".", dir: true}, nil
	}
	info := entryInfo{name: e.Name, dir: e.Mode == filemode.Dir, link: e.Mode == filemode.Symlink}
	if !info.dir {
		if file, err := t.TreeEntryFile(e); err == nil {
			info.size = file.Size
		}
	}
	return info, nil
}

// ReadLink returns the target of the symbolic link name, as stored.
func (f treeFS) ReadLink(name string) (string, error) {
	defer f.lock()()
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	e, t, err := f.lentry(name)
	if err == nil && (e == nil || e.Mode != filemode.Symlink) {
		err = fs.ErrInvalid
	}
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return linkTarget(t, e)
}

// lentry is name's own tree entry and the tree holding it (symbolic links
// followed for its directory only); nil for the root.
func (f treeFS) lentry(name string) (*object.TreeEntry, *object.Tree, error) {
	if name == "." {
		return nil, nil, nil
	}
	if f.t == nil {
		return nil, nil, fs.ErrNotExist
	}
	parent, err := resolvePath(f.t, path.Dir(name))
	if err != nil {
		return nil, nil, err
	}
	if !parent.isDir() {
		return nil, nil, fs.ErrNotExist
	}
	e, err := parent.dir.FindEntry(path.Base(name))
	if err != nil || e.Mode == filemode.Submodule {
		return nil, nil, fs.ErrNotExist
	}
	return e, parent.dir, nil
}

// ReadDir lists a directory (following symbolic links inside the
// repository to reach it); a symbolic link in it is listed as one.
func (f treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	defer f.lock()()
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	r, err := f.resolve(name)
	if err == nil && !r.isDir() {
		err = fs.ErrInvalid
	}
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	t := r.dir
	out := make([]fs.DirEntry, 0, len(t.Entries))
	for _, e := range t.Entries {
		if e.Mode == filemode.Submodule {
			continue
		}
		out = append(out, lazyEntry{tree: t, entry: e, lock: f.lock})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

func (f treeFS) Open(name string) (fs.File, error) {
	info, err := f.Stat(name)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		entries, err := f.ReadDir(name)
		if err != nil {
			return nil, err
		}
		return &dirFile{info: info, entries: entries}, nil
	}
	b, err := f.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &memFile{info: info, Reader: bytes.NewReader(b)}, nil
}

type entryInfo struct {
	name string
	dir  bool
	link bool // a symbolic link, listed by ReadDir
	size int64
}

func (e entryInfo) Name() string { return e.name }
func (e entryInfo) Size() int64  { return e.size }
func (e entryInfo) Mode() fs.FileMode {
	switch {
	case e.dir:
		return fs.ModeDir | 0o755
	case e.link:
		return fs.ModeSymlink | 0o777
	}
	return 0o644
}
func (e entryInfo) ModTime() time.Time { return time.Time{} }
func (e entryInfo) IsDir() bool        { return e.dir }
func (e entryInfo) Sys() any           { return nil }

// lazyEntry is a directory entry whose Info reads the blob size only when asked.
type lazyEntry struct {
	tree  *object.Tree
	entry object.TreeEntry
	lock  func() func()
}

func (e lazyEntry) Name() string { return e.entry.Name }
func (e lazyEntry) IsDir() bool  { return e.entry.Mode == filemode.Dir }
func (e lazyEntry) Type() fs.FileMode {
	switch {
	case e.IsDir():
		return fs.ModeDir
	case e.entry.Mode == filemode.Symlink:
		return fs.ModeSymlink
	}
	return 0
}
func (e lazyEntry) Info() (fs.FileInfo, error) {
	info := entryInfo{name: e.entry.Name, dir: e.IsDir(), link: e.entry.Mode == filemode.Symlink}
	if !info.dir {
		unlock := e.lock()
		f, err := e.tree.TreeEntryFile(&e.entry)
		unlock()
		if err != nil {
			return nil, err
		}
		info.size = f.Size
	}
	return info, nil
}

type memFile struct {
	info fs.FileInfo
	*bytes.Reader
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (m *memFile) Close() error               { return nil }

type dirFile struct {
	info    fs.FileInfo
	entries []fs.DirEntry
	off     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.Name(), Err: fs.ErrInvalid}
}
func (d *dirFile) Close() error { return nil }
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.off += n
	return rest[:n], nil
}
