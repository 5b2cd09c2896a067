package services_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/services/validate"
)

// FuzzYAML feeds arbitrary bytes to the YAML validator as gitops.validateYAML
// and the deploys build it (the embedded Flux CRDs known): as a stream and as
// a kustomization.yaml. It never panics (the validator's recover would
// report an "internal validator error"), valid means no errors, and every
// issue is positioned inside the input: its line exists, its column is at
// most one past that line's end, its document is one of the stream's. The
// procedure gitops.validateYAML gives the same verdict through the registry.
func FuzzYAML(f *testing.F) {
	for _, glob := range []string{"validate/testdata/golden/*.yaml", "validate/testdata/corpus/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	for _, s := range []string{
		"", "---\n", "a: 1\r\nb: [\r\n", "apiVersion: v1\rkind: ConfigMap\rmetadata: {name: x}\rdata: {a: 1}\r",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n", "\ufeffapiVersion: v1\nkind: Pod\n",
		"apiVersion: v1\u2028kind: ConfigMap\u2029metadata: {name: é}\u0085data: {k: \"\\xff\"}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 名前\n  labels: {ü: x}\n", "--- |\n  text\n...\n--- [1, 2\n",
		"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: web, namespace: flux-system}\nspec: {interval: 5x, prune: true, sourceRef: {kind: GitRepository, name: r}}\n",
		"a: &x [*x, *x]\n", "\"unterminated\n", "key: 'it''s'\n  bad: indent\n", "\xff\xfe\x00a\x00:\x00 \x001\x00\n",
	} {
		f.Add([]byte(s))
	}
	v := newFuzzValidator(f)
	reg := services.New(services.Config{DataDir: f.TempDir()}).Registry()
	ctx := model.WithActor(context.Background(), model.Actor{User: "fuzz", Role: model.RoleViewer, Source: "test"})
	f.Fuzz(func(t *testing.T, in []byte) {
		stream := v.Validate(context.Background(), in)
		checkYAMLResult(t, "stream", in, stream)
		checkYAMLResult(t, "kustomization.yaml", in, v.ValidateFile(context.Background(), "kustomization.yaml", in))

		// Through the registry the YAML is a JSON string: invalid UTF-8
		// arrives as U+FFFD, so the verdict is compared on that text.
		raw, _ := json.Marshal(map[string]string{"yaml": string(in)})
		var sent struct{ YAML string }
		_ = json.Unmarshal(raw, &sent)
		res, err := reg.Call(ctx, "gitops.validateYAML", raw)
		p, _ := reg.Lookup("gitops.validateYAML")
		if me := checkCallOutcome(t, p, raw, res, err); me != nil {
			if sent.YAML != "" {
				t.Fatalf("validateYAML %q: %v", short(in), me)
			}
			return // yaml is required
		}
		got := res.(api.ValidateResult)
		want := v.Validate(context.Background(), []byte(sent.YAML))
		if got.Valid != want.Valid || len(got.Errors) != len(want.Errors) || got.Documents != want.Documents {
			t.Fatalf("validateYAML %q: valid=%v errors=%d documents=%d; the validator says %v, %d, %d",
				short(in), got.Valid, len(got.Errors), got.Documents, want.Valid, len(want.Errors), want.Documents)
		}
	})
}

// newFuzzValidator builds the validator as the services do: default limits,
// the embedded Flux CRDs.
func newFuzzValidator(f *testing.F) *validate.Validator {
	f.Helper()
	b, err := fluxbundle.Load("")
	if err != nil {
		f.Fatal(err)
	}
	crds, err := b.CRDs(fluxbundle.Options{})
	if err != nil {
		f.Fatal(err)
	}
	raw, err := fluxbundle.Marshal(crds)
	if err != nil {
		f.Fatal(err)
	}
	v, err := validate.New(validate.Options{}, raw)
	if err != nil {
		f.Fatal(err)
	}
	return v
}

// checkYAMLResult: no panic, valid iff no errors, every issue inside in.
func checkYAMLResult(t *testing.T, what string, in []byte, r validate.Result) {
	t.Helper()
	if r.Valid != (len(r.Errors) == 0) {
		t.Fatalf("%s %q: valid=%v with %d errors", what, short(in), r.Valid, len(r.Errors))
	}
	lines := inputLines(in)
	for _, is := range append(append([]validate.Issue(nil), r.Errors...), r.Warnings...) {
		if strings.HasPrefix(is.Message, "internal validator error") {
			t.Fatalf("%s %q: the validator panicked: %s", what, short(in), is.Message)
		}
		if is.Message == "" {
			t.Fatalf("%s %q: issue without a message: %+v", what, short(in), is)
		}
		if is.Line < 1 || is.Line > len(lines) || is.Column < 1 || is.Column > len(lines[is.Line-1])+1 {
			t.Fatalf("%s %q: issue at line %d column %d, outside the input (%d lines; that line: %q): %s",
				what, short(in), is.Line, is.Column, len(lines), lineAt(lines, is.Line), is.Message)
		}
		if is.Document < 0 || is.Document > r.Documents {
			t.Fatalf("%s %q: issue in document %d of %d: %s", what, short(in), is.Document, r.Documents, is.Message)
		}
	}
}

// inputLines are the lines positions may count: when "\n" is the only
// line break in the input, exactly its lines. A lone "\r" and the Unicode
// breaks U+0085, U+2028 and U+2029 also end a line for a YAML reader, so with
// any of them the count is the larger of the two ways of counting, and each
// line is as long as the longest "\n"-terminated one (a bound, not a place).
func inputLines(in []byte) [][]byte {
	byLF := bytes.Split(in, []byte("\n"))
	if !bytes.ContainsAny(in, "\r\u0085\u2028\u2029") {
		return byLF
	}
	wide := strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n").Replace(string(in))
	out := make([][]byte, max(len(byLF), strings.Count(wide, "\n")+1))
	var longest []byte
	for _, l := range byLF {
		if len(l) > len(longest) {
			longest = l
		}
	}
	for i := range out {
		out[i] = longest
	}
	return out
}

func lineAt(lines [][]byte, n int) string {
	if n < 1 || n > len(lines) {
		return ""
	}
	return string(lines[n-1])
}
