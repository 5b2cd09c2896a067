package validate

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// billionLaughs is the classic alias bomb: 9 levels of 9 aliases.
func billionLaughs() []byte {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\nx:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		fmt.Fprintf(&b, "  %s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", n, n, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = n
	}
	return []byte(b.String())
}

func deepFlow(depth int) []byte {
	return []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n")
}

func deepBlock(depth int) []byte {
	var b bytes.Buffer
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n")
	b.WriteString(strings.Repeat("- ", depth))
	b.WriteString("x\n")
	return b.Bytes()
}

func oneError(t *testing.T, res Result, want string) Issue {
	t.Helper()
	if res.Valid || len(res.Errors) == 0 {
		t.Fatalf("want an error containing %q, got %+v", want, res)
	}
	for _, e := range res.Errors {
		if strings.Contains(e.Message, want) {
			if e.Line < 1 || e.Column < 1 {
				t.Errorf("issue without a position: %+v", e)
			}
			return e
		}
	}
	t.Fatalf("no error contains %q: %+v", want, res.Errors)
	return Issue{}
}

func TestAliasBomb(t *testing.T) {
	v := newValidator(t)
	is := oneError(t, v.Validate(context.Background(), billionLaughs()), "too many YAML nodes")
	if is.Line < 5 {
		t.Errorf("alias bomb reported at line %d, want the aliasing line", is.Line)
	}
}

func TestDeepNesting(t *testing.T) {
	v := newValidator(t)
	for name, in := range map[string][]byte{
		"flow-10000":  deepFlow(10000),
		"flow-9990":   deepFlow(9990),
		"block-10000": deepBlock(10000),
		"flow-300":    deepFlow(300),
	} {
		t.Run(name, func(t *testing.T) {
			res := v.Validate(context.Background(), in)
			if res.Valid {
				t.Fatalf("deep input accepted")
			}
			if !strings.Contains(res.Errors[0].Message, "deep") && !strings.Contains(res.Errors[0].Message, "depth") {
				t.Errorf("unclear error: %+v", res.Errors[0])
			}
		})
	}
}

func TestSizeLimit(t *testing.T) {
	v, err := New(Options{MaxBytes: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	in := bytes.Repeat([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"), 100)
	is := oneError(t, v.Validate(context.Background(), in), "over the 1.0 KiB limit")
	if want := bytes.Count(in[:1<<10], []byte("\n")) + 1; is.Line != want {
		t.Errorf("cut at line %d, want %d", is.Line, want)
	}
	def := newValidator(t)
	oneError(t, def.Validate(context.Background(), make([]byte, DefaultMaxBytes+1)), "over the 4.0 MiB limit")
}

func TestDocumentLimit(t *testing.T) {
	v, err := New(Options{MaxDocuments: 3})
	if err != nil {
		t.Fatal(err)
	}
	in := bytes.Repeat([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"), 5)
	res := v.Validate(context.Background(), in)
	oneError(t, res, "more than 3 documents")
	if res.Documents != 3 {
		t.Errorf("documents = %d, want 3", res.Documents)
	}
}

func TestCanceled(t *testing.T) {
	v := newValidator(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	oneError(t, v.Validate(ctx, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")), "validation stopped")
}

// TestConcurrent runs one Validator from many goroutines (go test -race).
func TestConcurrent(t *testing.T) {
	v := newValidator(t)
	in := mixedStream(40)
	want := v.Validate(context.Background(), in)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := v.Validate(context.Background(), in)
			if got.Valid != want.Valid || len(got.Errors) != len(want.Errors) || len(got.Warnings) != len(want.Warnings) {
				t.Errorf("concurrent result differs: %d/%d errors", len(got.Errors), len(want.Errors))
			}
		}()
	}
	wg.Wait()
}

func TestNewRejectsBadCRD(t *testing.T) {
	if _, err := New(Options{}, []byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: [")); err == nil {
		t.Fatal("broken CRD stream accepted")
	}
	if _, err := New(Options{KubernetesVersion: "latest"}); err == nil {
		t.Fatal("bad Kubernetes version accepted")
	}
}

func BenchmarkAliasBomb(b *testing.B) {
	v := newValidator(b)
	in := billionLaughs()
	b.ReportAllocs()
	for b.Loop() {
		v.Validate(context.Background(), in)
	}
}

func BenchmarkDeepNesting10000(b *testing.B) {
	v := newValidator(b)
	in := deepFlow(10000)
	b.ReportAllocs()
	for b.Loop() {
		v.Validate(context.Background(), in)
	}
}

func BenchmarkOversized(b *testing.B) {
	v := newValidator(b)
	in := bytes.Repeat([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"), (DefaultMaxBytes/48)+10)
	b.ReportAllocs()
	for b.Loop() {
		v.Validate(context.Background(), in)
	}
}
