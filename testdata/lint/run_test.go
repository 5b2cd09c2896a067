package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree writes files (slash paths relative to dir) into dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRunOnAModule runs the whole checker (go list, the real rule table,
// the file walk) on a small module where the contract reaches a stand-in
// for client-go, a windows-only file imports against the map, a generator
// excluded from every build does too, and a file is one line too long.
func TestRunOnAModule(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"go.mod":                            "module example.com/m\n\ngo 1.26\n\nrequire k8s.io/client-go v0.0.0\n\nreplace k8s.io/client-go => ./third_party/clientgo\n",
		"third_party/clientgo/go.mod":       "module k8s.io/client-go\n\ngo 1.26\n",
		"third_party/clientgo/rest/rest.go": "package rest\n\nconst Name = \"rest\"\n",
		"model/model.go":                    "package model\n\n// Name is a name.\ntype Name string\n",
		"model/big.go":                      "package model\n" + strings.Repeat("\n", 600),
		"services/manifest/manifest.go":     "package manifest\n\nimport \"k8s.io/client-go/rest\"\n\nconst Name = rest.Name\n",
		"services/api/api.go":               "package api\n\nimport (\n\t\"example.com/m/model\"\n\t\"example.com/m/services/manifest\"\n)\n\nvar _ = model.Name(manifest.Name)\n",
		"ui/ui.go":                          "package ui\n\nimport \"example.com/m/services/api\"\n\nvar _ = api.Name\n",
		"ui/peer_windows.go":                "package ui\n\nimport _ \"example.com/m/services/manifest\"\n",
		"ui/gen.go":                         "//go:build ignore\n\npackage main\n\nimport _ \"example.com/m/services/manifest\"\n\nfunc main() {}\n",
		"ui/ui_test.go":                     "package ui\n\nimport (\n\t\"testing\"\n\n\t_ \"example.com/m/store\"\n)\n\nfunc TestX(t *testing.T) {}\n",
		"store/store.go":                    "package store\n\nimport _ \"example.com/m/model\"\n",
	})
	vs, err := run(dir, rules)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"model/big.go:601: file is 601 lines (limit 600)",
		`services/api/api.go:5: services/api imports services/manifest: rule "api"`,
		`services/api/api.go:5: services/api links k8s.io/client-go via services/manifest → k8s.io/client-go/rest: rule "api"`,
		`ui/peer_windows.go:3: ui imports services/manifest: rule "ui"`,
		`ui/ui.go:3: ui links k8s.io/client-go via services/api → services/manifest → k8s.io/client-go/rest: rule "ui"`,
	}
	got := messages(vs)
	if len(got) != len(want) {
		t.Fatalf("want %d violations, got %d:\n%s", len(want), len(got), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("violation %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}
}
