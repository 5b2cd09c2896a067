package fluxbundle_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gitopstui/gitopstui/services/fluxbundle/internal/generate"
)

// TestRegenerateGivesSameBytes runs the generator (which fetches the Flux
// modules through the go command and runs controller-gen where needed) into
// a temporary directory and compares every file with the embedded bundle.
func TestRegenerateGivesSameBytes(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bundles")
	var log bytes.Buffer
	if err := generate.Run(context.Background(), generate.Config{OutDir: out, Log: &log}); err != nil {
		t.Fatalf("generate: %v\n%s", err, log.String())
	}
	want := readTree(t, "bundles")
	got := readTree(t, out)
	if len(want) == 0 {
		t.Fatal("no embedded bundle files")
	}
	var names []string
	for name := range want {
		names = append(names, name)
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		w, inWant := want[name]
		g, inGot := got[name]
		switch {
		case !inGot:
			t.Errorf("%s is embedded but no longer generated", name)
		case !inWant:
			t.Errorf("%s is generated but not embedded (run go generate ./services/fluxbundle)", name)
		case !bytes.Equal(w, g):
			t.Errorf("%s differs from a fresh generation (run go generate ./services/fluxbundle)", name)
		}
	}
}

func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
