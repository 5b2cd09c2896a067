// Command lint holds gitopstui to its architecture and size rules: the
// import map of DESIGN.md (cmd → ui → services/* → store → model, rules.go)
// checked on `go list -deps -json ./...`, files of at most 600 lines and
// functions of at most 80 (size.go). It prints one `path:line: message` per
// violation and exits 1 if there is any, 2 if it cannot run.
//
// Run it from the module root: go run ./testdata/lint
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/build"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// violation is one broken rule at a position (file:line).
type violation struct {
	pos string
	msg string
}

func (v violation) String() string { return v.pos + ": " + v.msg }

// targets are the release platforms of .goreleaser.yaml; a file belongs to
// a package if it builds on any of them.
var targets = [][2]string{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

func main() {
	vs, err := run(".", rules)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lint:", err)
		os.Exit(2)
	}
	for _, v := range vs {
		fmt.Println(v)
	}
	if len(vs) > 0 {
		fmt.Fprintf(os.Stderr, "lint: %d violations\n", len(vs))
		os.Exit(1)
	}
}

// run checks the module whose root (or any directory in it) is dir against
// rules and the size limits, and returns the violations sorted by file and line.
func run(dir string, rules []rule) ([]violation, error) {
	listed, err := goList(dir)
	if err != nil {
		return nil, err
	}
	mod, root, pkgs, g, err := load(listed)
	if err != nil {
		return nil, err
	}
	vs := checkImports(mod, rules, pkgs, g)
	sizes, err := checkTree(root)
	if err != nil {
		return nil, err
	}
	vs = append(vs, sizes...)
	slices.SortStableFunc(vs, func(a, b violation) int {
		af, al := splitPos(a.pos)
		bf, bl := splitPos(b.pos)
		if c := strings.Compare(af, bf); c != 0 {
			return c
		}
		return al - bl
	})
	return vs, nil
}

// splitPos splits file:line.
func splitPos(pos string) (string, int) {
	i := strings.LastIndexByte(pos, ':')
	if i < 0 {
		return pos, 0
	}
	n, err := strconv.Atoi(pos[i+1:])
	if err != nil {
		return pos, 0
	}
	return pos[:i], n
}

// listedPkg is the part of go list's JSON the checker reads.
type listedPkg struct {
	ImportPath string
	Dir        string
	Module     *struct {
		Path, Dir string
		Main      bool
	}
	DepOnly        bool
	Imports        []string
	GoFiles        []string
	CgoFiles       []string
	IgnoredGoFiles []string
	TestGoFiles    []string
	XTestGoFiles   []string
	Error          *struct{ Err string }
}

func goList(dir string) ([]listedPkg, error) {
	cmd := exec.Command("go", "list", "-e", "-deps",
		"-json=ImportPath,Dir,Module,DepOnly,Imports,GoFiles,CgoFiles,IgnoredGoFiles,TestGoFiles,XTestGoFiles,Error", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v: %s", err, stderr.Bytes())
	}
	var pkgs []listedPkg
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p listedPkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs, nil
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
}

// load turns go list's packages into the module path, its root directory,
// the project packages with every import spec of every file (whatever its
// build constraints, as long as it builds on some release target) and the
// import graph.
func load(listed []listedPkg) (mod, root string, pkgs []pkg, g graph, err error) {
	g = graph{}
	for _, lp := range listed {
		g[lp.ImportPath] = lp.Imports
		if lp.Module != nil && lp.Module.Main && mod == "" {
			mod, root = lp.Module.Path, lp.Module.Dir
		}
	}
	if mod == "" {
		return "", "", nil, nil, errors.New("go list reported no package of the main module")
	}
	for _, lp := range listed {
		if lp.DepOnly || lp.Module == nil || !lp.Module.Main {
			continue
		}
		if lp.Error != nil {
			return "", "", nil, nil, fmt.Errorf("%s: %s", lp.ImportPath, lp.Error.Err)
		}
		p := pkg{path: lp.ImportPath, dir: rel(root, lp.Dir)}
		files := slices.Concat(lp.GoFiles, lp.CgoFiles, lp.IgnoredGoFiles, lp.TestGoFiles, lp.XTestGoFiles)
		for _, name := range files {
			sites, err := fileImports(root, lp.Dir, name)
			if err != nil {
				return "", "", nil, nil, err
			}
			p.imports = append(p.imports, sites...)
		}
		pkgs = append(pkgs, p)
	}
	return mod, root, pkgs, g, nil
}

// fileImports reads the import specs of one file, or none if the file
// builds on no release target (a //go:build ignore generator, say).
func fileImports(root, dir, name string) ([]importSite, error) {
	builds := false
	for _, t := range targets {
		ctx := build.Default
		ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = t[0], t[1], false
		if ok, err := ctx.MatchFile(dir, name); err != nil {
			return nil, err
		} else if ok {
			builds = true
			break
		}
	}
	if !builds {
		return nil, nil
	}
	path := filepath.Join(dir, name)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	var sites []importSite
	for _, spec := range f.Imports {
		ip, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			return nil, err
		}
		sites = append(sites, importSite{
			path: ip,
			pos:  fmt.Sprintf("%s:%d", rel(root, path), fset.Position(spec.Pos()).Line),
			test: strings.HasSuffix(name, "_test.go"),
		})
	}
	return sites, nil
}

// checkTree checks the size of every .go file under root, skipping what the
// go command skips too (directories starting with . or _, vendor).
func checkTree(root string) ([]violation, error) {
	var out []violation
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out = append(out, checkSize(rel(root, path), src)...)
		return nil
	})
	return out, err
}

// rel is path relative to root with forward slashes, or path itself.
func rel(root, path string) string {
	r, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(r)
}
