package validate

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fluxCRDs reads the Flux CRDs checked in under testdata/crds (copied from
// the kustomize-controller v1.9.6, source-controller v1.9.6 and
// helm-controller v1.6.4 modules' config/crd/bases).
func fluxCRDs(t testing.TB) [][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/crds/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in testdata/crds: %v", err)
	}
	sort.Strings(files)
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func newValidator(t testing.TB) *Validator {
	t.Helper()
	v, err := New(Options{}, fluxCRDs(t)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestGolden validates every testdata/golden/*.yaml and compares the
// result with the .json beside it (go test -update rewrites them).
func TestGolden(t *testing.T) {
	v := newValidator(t)
	files, _ := filepath.Glob("testdata/golden/*.yaml")
	if len(files) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.MarshalIndent(v.Validate(context.Background(), in), "", "  ")
			got = append(got, '\n')
			want := strings.TrimSuffix(f, ".yaml") + ".json"
			if *update {
				if err := os.WriteFile(want, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			exp, err := os.ReadFile(want)
			if err != nil {
				t.Fatal(err)
			}
			if string(exp) != string(got) {
				t.Errorf("result differs from %s:\n--- want\n%s\n--- got\n%s", want, exp, got)
			}
		})
	}
}

// corpusManifest is testdata/corpus/manifest.json: the verdict the real
// API server gives each file (kubectl apply --dry-run=server).
type corpusManifest struct {
	Documents []struct {
		File          string `json:"file"`
		Valid         bool   `json:"valid"`
		NeedsFluxCRDs bool   `json:"needsFluxCRDs"`
		Why           string `json:"why"`
	} `json:"documents"`
}

// TestCorpus checks Validate's verdict on every corpus file against the
// manifest; the same corpus is meant for a cross-check with the API server.
func TestCorpus(t *testing.T) {
	v := newValidator(t)
	b, err := os.ReadFile("testdata/corpus/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m corpusManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Documents) < 30 {
		t.Fatalf("corpus has %d documents, want at least 30", len(m.Documents))
	}
	for _, d := range m.Documents {
		in, err := os.ReadFile(filepath.Join("testdata/corpus", d.File))
		if err != nil {
			t.Fatal(err)
		}
		res := v.Validate(context.Background(), in)
		if res.Valid != d.Valid {
			t.Errorf("%s: valid=%v, manifest says %v (%s); errors: %+v", d.File, res.Valid, d.Valid, d.Why, res.Errors)
		}
		if res.Documents != 1 {
			t.Errorf("%s: %d documents, want 1", d.File, res.Documents)
		}
	}
}

// TestValidateFileKustomization: a kustomization file needs no apiVersion or
// kind, any other file does; syntax errors count in both.
func TestValidateFileKustomization(t *testing.T) {
	v, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k := []byte("# overlay\nresources:\n  - ../../base\nimages:\n  - name: web\n    newTag: \"1.2\"\n")
	if res := v.ValidateFile(ctx, "k8s/overlays/prod/kustomization.yaml", k); !res.Valid {
		t.Fatalf("kustomization.yaml: %+v", res.Errors)
	}
	if res := v.ValidateFile(ctx, "k8s/overlays/prod/extra.yaml", k); res.Valid {
		t.Fatal("a plain file without apiVersion and kind passed")
	}
	if res := v.ValidateFile(ctx, "kustomization.yml", []byte("resources: [a\n")); res.Valid {
		t.Fatal("a kustomization with a syntax error passed")
	}
	typed := []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n")
	if res := v.ValidateFile(ctx, "Kustomization", typed); !res.Valid {
		t.Fatalf("typed Kustomization: %+v", res.Errors)
	}
}
