package main

import (
	"fmt"
	"slices"
	"strings"
)

// A rule constrains the imports of the packages matching of (minus except).
type rule struct {
	name   string
	of     []string // packages the rule constrains
	except []string // packages among of that it leaves alone
	// only, when non-nil, lists the project packages that may be imported;
	// an empty, non-nil list allows none.
	only  []string
	never []string // project packages that must not be imported
	// testAlso lists project packages _test.go files may import on top of only.
	testAlso []string
	// skipTests leaves imports made by _test.go files unchecked.
	skipTests bool
	// noLink lists import-path prefixes that must not be among the
	// package's transitive (non-test) dependencies.
	noLink []string
	why    string
}

// importSite is one import spec of a package's source.
type importSite struct {
	path string // full import path
	pos  string // file:line, relative to the module root
	test bool   // in a _test.go file
}

// pkg is one project package as the checker sees it.
type pkg struct {
	path    string       // full import path
	dir     string       // relative to the module root, for messages
	imports []importSite // every import spec of every file of the package
}

// graph is the import graph of everything go list -deps reported (the
// project's packages and their dependencies, without tests): package path →
// its direct imports.
type graph map[string][]string

// match reports whether the module-relative package rel matches pattern.
func match(pattern, rel string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return rel == pattern
}

func matchAny(patterns []string, rel string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return match(p, rel) })
}

// hasPrefix reports whether import path p is prefix or under it.
func hasPrefix(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// checkImports applies rules to the project packages pkgs of module mod.
func checkImports(mod string, rules []rule, pkgs []pkg, g graph) []violation {
	var out []violation
	for _, p := range pkgs {
		rel := relPath(mod, p.path)
		for _, r := range rules {
			if !matchAny(r.of, rel) || matchAny(r.except, rel) {
				continue
			}
			out = append(out, r.direct(mod, rel, p)...)
			out = append(out, r.links(mod, rel, p, g)...)
		}
	}
	return out
}

// relPath is path relative to mod, or "" for a path outside the module.
func relPath(mod, path string) string {
	if path == mod {
		return "."
	}
	rel, ok := strings.CutPrefix(path, mod+"/")
	if !ok {
		return ""
	}
	return rel
}

// direct checks each project import of p against r.
func (r rule) direct(mod, rel string, p pkg) []violation {
	var out []violation
	for _, imp := range p.imports {
		to := relPath(mod, imp.path)
		if to == "" || to == rel || (imp.test && r.skipTests) {
			continue
		}
		bad := matchAny(r.never, to)
		if r.only != nil && !matchAny(r.only, to) && !(imp.test && matchAny(r.testAlso, to)) {
			bad = true
		}
		if !bad {
			continue
		}
		what := "imports"
		if imp.test {
			what = "test imports"
		}
		out = append(out, violation{pos: imp.pos,
			msg: fmt.Sprintf("%s %s %s: rule %q: %s", rel, what, to, r.name, r.why)})
	}
	return out
}

// links checks p's transitive dependencies against r.noLink, naming the
// shortest chain of imports that brings each forbidden prefix in.
func (r rule) links(mod, rel string, p pkg, g graph) []violation {
	var out []violation
	for _, prefix := range r.noLink {
		chain := findChain(g, p.path, prefix)
		if chain == nil {
			continue
		}
		pos := p.dir
		for _, imp := range p.imports {
			if !imp.test && imp.path == chain[1] {
				pos = imp.pos
				break
			}
		}
		via := make([]string, 0, len(chain)-1)
		for _, c := range chain[1:] {
			if r := relPath(mod, c); r != "" {
				c = r
			}
			via = append(via, c)
		}
		out = append(out, violation{pos: pos,
			msg: fmt.Sprintf("%s links %s via %s: rule %q: %s", rel, prefix, strings.Join(via, " → "), r.name, r.why)})
	}
	return out
}

// findChain returns the shortest import chain from 'from' to a package
// under prefix (from first), or nil if there is none.
func findChain(g graph, from, prefix string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, next := range g[cur] {
			if _, seen := prev[next]; seen {
				continue
			}
			prev[next] = cur
			if hasPrefix(next, prefix) {
				var chain []string
				for at := next; at != ""; at = prev[at] {
					chain = append(chain, at)
				}
				slices.Reverse(chain)
				return chain
			}
			queue = append(queue, next)
		}
	}
	return nil
}
