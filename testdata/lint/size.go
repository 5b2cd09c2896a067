package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
)

// The size limits. Generated files (the standard "// Code generated ...
// DO NOT EDIT." header) are exempt; so is a function marked as table data
// by a "//lint:table" comment on the line before its func keyword, as long
// as its body is data: no if, for, switch, select, go or defer outside the
// function literals it holds, each of which stays within maxFuncLines.
const (
	maxFileLines = 600
	maxFuncLines = 80
	tableMarker  = "//lint:table"
)

// checkSize checks one Go source file; name is how violations name it.
func checkSize(name string, src []byte) []violation {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
	if err != nil {
		return []violation{{pos: name + ":1", msg: fmt.Sprintf("does not parse: %v", err)}}
	}
	if ast.IsGenerated(f) {
		return nil
	}
	var out []violation
	if n := countLines(src); n > maxFileLines {
		out = append(out, violation{pos: fmt.Sprintf("%s:%d", name, maxFileLines+1),
			msg: fmt.Sprintf("file is %d lines (limit %d): split it", n, maxFileLines)})
	}
	markers := map[int]bool{}
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if c.Text == tableMarker {
				markers[fset.Position(c.Pos()).Line] = true
			}
		}
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		start := fset.Position(fd.Pos()).Line
		pos := fmt.Sprintf("%s:%d", name, start)
		if markers[start-1] {
			out = append(out, checkTable(fset, name, funcName(fd), fd.Body)...)
			continue
		}
		if n := fset.Position(fd.End()).Line - start + 1; n > maxFuncLines {
			out = append(out, violation{pos: pos, msg: fmt.Sprintf(
				"func %s is %d lines (limit %d): split it, or mark pure data with %s", funcName(fd), n, maxFuncLines, tableMarker)})
		}
	}
	return out
}

// checkTable holds a function marked as table data to being data.
func checkTable(fset *token.FileSet, name, fn string, body *ast.BlockStmt) []violation {
	var out []violation
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			start := fset.Position(n.Pos()).Line
			if l := fset.Position(n.End()).Line - start + 1; l > maxFuncLines {
				out = append(out, violation{pos: fmt.Sprintf("%s:%d", name, start), msg: fmt.Sprintf(
					"function literal in table %s is %d lines (limit %d): split it", fn, l, maxFuncLines)})
			}
			return false
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt,
			*ast.SelectStmt, *ast.GoStmt, *ast.DeferStmt:
			out = append(out, violation{pos: fmt.Sprintf("%s:%d", name, fset.Position(n.Pos()).Line), msg: fmt.Sprintf(
				"func %s is marked %s but has control flow: only data literals may be marked", fn, tableMarker)})
			return false
		}
		return true
	})
	return out
}

// funcName is Recv.Name for methods, Name for functions.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}

// countLines counts lines as an editor does: a final line without a
// newline counts.
func countLines(src []byte) int {
	n := bytes.Count(src, []byte("\n"))
	if len(src) > 0 && src[len(src)-1] != '\n' {
		n++
	}
	return n
}
