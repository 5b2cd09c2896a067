package manifest

import (
	"io/fs"
	"path"
	"sort"
	"strings"
)

// tree is read access to a repository's files.
type tree interface {
	read(p string) ([]byte, bool)
	isDir(p string) bool
	// list returns the files under dir (recursively), sorted.
	list(dir string) []string
}

func cleanPath(p string) string {
	p = path.Clean("/" + strings.ReplaceAll(p, "\\", "/"))
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return "."
	}
	return p
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	return dir == "." || p == dir || strings.HasPrefix(p, dir+"/")
}

type mapTree map[string][]byte

func newMapTree(files map[string][]byte) mapTree {
	for k := range files {
		if cleanPath(k) != k {
			m := make(mapTree, len(files))
			for k, v := range files {
				m[cleanPath(k)] = v
			}
			return m
		}
	}
	return mapTree(files)
}

func (m mapTree) read(p string) ([]byte, bool) {
	b, ok := m[p]
	return b, ok
}

func (m mapTree) isDir(p string) bool {
	if p == "." {
		return len(m) > 0
	}
	for k := range m {
		if strings.HasPrefix(k, p+"/") {
			return true
		}
	}
	return false
}

func (m mapTree) list(dir string) []string {
	var out []string
	for k := range m {
		if k != dir && under(k, dir) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

type fsTree struct{ fsys fs.FS }

func (t fsTree) read(p string) ([]byte, bool) {
	b, err := fs.ReadFile(t.fsys, p)
	return b, err == nil
}

func (t fsTree) isDir(p string) bool {
	st, err := fs.Stat(t.fsys, p)
	return err == nil && st.IsDir()
}

func (t fsTree) list(dir string) []string {
	var out []string
	_ = fs.WalkDir(t.fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == ".git" {
			return fs.SkipDir
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out
}
