package validate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzValidate feeds arbitrary input to Validate: it must not panic (the
// recover in Validate would turn a panic into an "internal validator
// error" issue, which fails here), must respect its limits and must return
// a consistent Result. The seed corpus (golden inputs, limit cases and
// testdata/fuzz/FuzzValidate) runs in every go test.
func FuzzValidate(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/*.yaml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(billionLaughs())
	f.Add(deepFlow(500))
	f.Add([]byte("--- !!binary aGVsbG8=\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {? [a]: b}\n"))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: ConfigMap}]\n"))
	f.Add([]byte("<<: *nope\n"))
	f.Add([]byte("a: 1\n--- {a: [1, \"x\\\"\", 'it''s',\n  b: |\n    [\n"))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- kind: Pod\n"))
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  <<: [{namespace: a}, {labels: {a: b}}]\n"))
	v, err := New(Options{MaxBytes: 64 << 10, MaxNodes: 100000}, fluxCRDs(f)...)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		res := v.Validate(context.Background(), in)
		if res.Valid != (len(res.Errors) == 0) {
			t.Fatalf("valid=%v with %d errors", res.Valid, len(res.Errors))
		}
		for _, is := range append(res.Errors, res.Warnings...) {
			if strings.HasPrefix(is.Message, "internal validator error") {
				t.Fatalf("panic: %s", is.Message)
			}
			if is.Line < 0 || is.Column < 0 || is.Message == "" {
				t.Fatalf("bad issue %+v", is)
			}
		}
	})
}
