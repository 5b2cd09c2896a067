package gitx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/gitopstui/gitopstui/model"
)

// Symbolic links in a repository are Git tree entries of mode 120000 whose
// blob is the target path. Reads follow them while the target stays inside
// the repository (as a checkout would see it), and refuse them when it
// leaves; writes never go through one (see writer.apply).

// maxLinkHops bounds the symbolic links followed for one path (Linux's limit).
const maxLinkHops = 40

// maxLinkTarget bounds a link's blob: a target path, not content.
const maxLinkTarget = 4096

// ErrSymlinkOutside is the cause of a read through a symbolic link whose
// target lies outside the repository (an absolute path, or one that climbs
// above the root).
var ErrSymlinkOutside = errors.New("symbolic link leads outside the repository")

// ErrSymlinkLoop is the cause of a read through more than 40 symbolic links.
var ErrSymlinkLoop = errors.New("too many levels of symbolic links")

// LinkError is a symbolic link a read does not follow.
type LinkError struct {
	// Link is the link's path and Target what it points to, as stored.
	Link, Target string
	// Err is ErrSymlinkOutside or ErrSymlinkLoop.
	Err error
}

func (e *LinkError) Error() string {
	if errors.Is(e.Err, ErrSymlinkLoop) {
		return fmt.Sprintf("%s: %v", e.Link, e.Err)
	}
	return fmt.Sprintf("%s is a symbolic link to %s, outside the repository: not followed", e.Link, e.Target)
}

func (e *LinkError) Unwrap() error { return e.Err }

// linkModelError turns a LinkError met reading p into BAD_REQUEST naming the
// file; other errors are returned as they are.
func linkModelError(p string, err error) error {
	var le *LinkError
	if !errors.As(err, &le) {
		return err
	}
	return model.Errorf(model.CodeBadRequest, "read %s: %v", p, le).
		WithDetail("file", p).WithDetail("link", le.Link).WithDetail("target", le.Target)
}

// resolved is a path with every symbolic link on it followed.
type resolved struct {
	path   string            // relative to the root; "" for the root itself
	entry  *object.TreeEntry // nil for the root
	parent *object.Tree      // the tree holding entry
	dir    *object.Tree      // the directory's tree when entry is one (or the root)
}

func (r resolved) isDir() bool { return r.dir != nil }

// resolvePath follows the symbolic links on p (on every component, the last
// one included) inside root. A missing component is fs.ErrNotExist; a link
// leaving the repository or a loop is a *LinkError.
func resolvePath(root *object.Tree, p string) (resolved, error) {
	todo := splitRel(cleanRel(p))
	var done []string
	trees := []*object.Tree{root}
	var last *object.TreeEntry
	for hops := 0; len(todo) > 0; {
		name := todo[0]
		todo = todo[1:]
		if last != nil && last.Mode != filemode.Dir {
			return resolved{}, fs.ErrNotExist // a file in the middle of the path
		}
		cur := trees[len(trees)-1]
		e, err := cur.FindEntry(name)
		if err != nil || e.Mode == filemode.Submodule {
			return resolved{}, fs.ErrNotExist
		}
		if e.Mode == filemode.Symlink {
			link := path.Join(append(append([]string{}, done...), name)...)
			if hops++; hops > maxLinkHops {
				return resolved{}, &LinkError{Link: link, Err: ErrSymlinkLoop}
			}
			target, err := linkTarget(cur, e)
			if err != nil {
				return resolved{}, err
			}
			joined := path.Join(path.Dir(link), target)
			if path.IsAbs(target) || joined == ".." || strings.HasPrefix(joined, "../") {
				return resolved{}, &LinkError{Link: link, Target: target, Err: ErrSymlinkOutside}
			}
			todo = append(splitRel(joined), todo...)
			done, trees, last = nil, trees[:1], nil
			continue
		}
		done = append(done, name)
		last = e
		if e.Mode == filemode.Dir {
			sub, err := cur.Tree(name)
			if err != nil {
				return resolved{}, model.Wrap(model.CodeInternal, err, "read tree "+path.Join(done...))
			}
			trees = append(trees, sub)
		}
	}
	r := resolved{path: strings.Join(done, "/"), entry: last}
	if last == nil || last.Mode == filemode.Dir {
		r.dir = trees[len(trees)-1]
		if len(trees) > 1 {
			r.parent = trees[len(trees)-2]
		}
	} else {
		r.parent = trees[len(trees)-1]
	}
	return r, nil
}

// splitRel splits a clean relative path into its components ("" and "."
// have none).
func splitRel(p string) []string {
	if p == "" || p == "." {
		return nil
	}
	return strings.Split(p, "/")
}

// linkTarget reads the target of the symbolic link e of tree t.
func linkTarget(t *object.Tree, e *object.TreeEntry) (string, error) {
	f, err := t.TreeEntryFile(e)
	if err != nil {
		return "", model.Wrap(model.CodeInternal, err, "read symbolic link "+e.Name)
	}
	if f.Size > maxLinkTarget {
		return "", model.Errorf(model.CodeBadRequest, "symbolic link %s has a %d-byte target: not a path", e.Name, f.Size)
	}
	rd, err := f.Reader()
	if err != nil {
		return "", model.Wrap(model.CodeInternal, err, "read symbolic link "+e.Name)
	}
	defer rd.Close()
	b, err := io.ReadAll(io.LimitReader(rd, maxLinkTarget))
	if err != nil {
		return "", model.Wrap(model.CodeInternal, err, "read symbolic link "+e.Name)
	}
	return string(b), nil
}

// readResolved returns the content of the file p names, following symbolic
// links inside the repository: NOT_FOUND when missing or a directory,
// BAD_REQUEST naming p for a link that leaves the repository.
func readResolved(t *object.Tree, p string) ([]byte, error) {
	r, err := resolvePath(t, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, model.NotFound("file", p)
		}
		return nil, linkModelError(p, err)
	}
	if r.isDir() {
		return nil, model.NotFound("file", p)
	}
	f, err := r.parent.TreeEntryFile(r.entry)
	if err != nil {
		return nil, model.NotFound("file", p)
	}
	return blobBytes(f)
}

// Resolve returns the path p names with every symbolic link on it followed
// (p itself when it has none): NOT_FOUND when missing, BAD_REQUEST naming p
// when a link on it leaves the repository.
func (s Snapshot) Resolve(p string) (string, error) {
	defer s.lock()()
	if s.tree == nil {
		return "", model.NotFound("file", p)
	}
	r, err := resolvePath(s.tree, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", model.NotFound("file", p)
		}
		return "", linkModelError(p, err)
	}
	return r.path, nil
}

// Symlink reports the first symbolic link on p (p itself or one of its
// directories) without following any: its path and target; ok is false when
// p goes through none (or does not exist).
func (s Snapshot) Symlink(p string) (link, target string, ok bool) {
	defer s.lock()()
	if s.tree == nil {
		return "", "", false
	}
	return firstLink(s.tree, p)
}

// firstLink is the first symbolic link on p in t, not following any.
func firstLink(t *object.Tree, p string) (string, string, bool) {
	cur := t
	parts := splitRel(cleanRel(p))
	for i, name := range parts {
		e, err := cur.FindEntry(name)
		if err != nil {
			return "", "", false
		}
		switch e.Mode {
		case filemode.Symlink:
			target, _ := linkTarget(cur, e)
			return strings.Join(parts[:i+1], "/"), target, true
		case filemode.Dir:
			if cur, err = cur.Tree(name); err != nil {
				return "", "", false
			}
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// linkRefused is the BAD_REQUEST for a write to file that goes through the
// symbolic link e of directory dir: Git would store the content as the
// link's target path, so the link is never written through or replaced.
func (w *writer) linkRefused(th plumbing.Hash, e object.TreeEntry, dir, file string) error {
	link := path.Join(dir, e.Name)
	target := ""
	if t, err := object.GetTree(w.r.fsys, th); err == nil {
		target, _ = linkTarget(t, &e)
	}
	what := "is"
	if file != link {
		what = "goes through " + link + ", which is"
	}
	return model.Errorf(model.CodeBadRequest, "cannot write %s: it %s a symbolic link to %s in the repository; write the file it points to instead", file, what, target).
		WithDetail("file", file).WithDetail("link", link).WithDetail("target", target).
		WithDetail("fields", map[string]any{"changes.write." + file: "is a symbolic link"})
}

// first is the first path written or deleted under e, for naming it in an
// error.
func (e *edit) first() string {
	names := make([]string, 0, len(e.files)+len(e.dirs)+len(e.del))
	for n := range e.files {
		names = append(names, n)
	}
	for n := range e.del {
		names = append(names, n)
	}
	for n := range e.dirs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	if sub, ok := e.dirs[names[0]]; ok {
		return path.Join(names[0], sub.first())
	}
	return names[0]
}
