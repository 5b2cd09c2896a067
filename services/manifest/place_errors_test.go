package manifest

import (
	"io"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

func TestPlaceDocumentsErrors(t *testing.T) {
	cases := []struct {
		name, gitPath, yaml string
		code                model.Code
		has                 []string
		details             map[string]any
	}{
		{name: "syntax", gitPath: "clusters/prod", yaml: "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n   bad: indent\n",
			code: model.CodeYAMLInvalid, has: []string{"yaml line 8"}, details: map[string]any{"line": 8}},
		{name: "no-name", gitPath: "clusters/prod", yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# second\napiVersion: v1\nkind: ConfigMap\ndata: {}\n",
			code: model.CodeYAMLInvalid, has: []string{"document 2 (line 7) has no metadata.name"}, details: map[string]any{"doc": 2, "line": 7}},
		{name: "no-kind", gitPath: "plain", yaml: "apiVersion: v1\nmetadata:\n  name: a\n",
			code: model.CodeYAMLInvalid, has: []string{"document 1 (line 1) has no kind"}},
		{name: "kustomization", gitPath: "clusters/prod", yaml: "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../base/app]\n",
			code: model.CodeBadRequest, has: []string{"is a kustomize Kustomization", "pass file (\"clusters/prod/kustomization.yaml\")"}},
		{name: "kustomization-without-kind", gitPath: "clusters/prod", yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\nresources: [a.yaml]\nnamePrefix: x-\n",
			code: model.CodeBadRequest, has: []string{"document 2 (line 5) is a kustomize Kustomization"}},
		{name: "not-a-mapping", gitPath: "plain", yaml: "- a\n- b\n", code: model.CodeYAMLInvalid, has: []string{"document 1 (line 1) is not a mapping"}},
		{name: "duplicate", gitPath: "plain", yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
			code: model.CodeBadRequest, has: []string{"documents 1 and 2 are the same object"}},
		{name: "images-override", gitPath: "clusters/prod",
			yaml: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web:1.5.0\n",
			code: model.CodeBadRequest, has: []string{"spec.template.spec.containers[name=web].image = ghcr.io/acme/web:1.2.0, not ghcr.io/acme/web:1.5.0", "images:"}},
		{name: "breaks-build", gitPath: "clusters/staging", // commonLabels cannot label a template that is not a mapping
			yaml: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: batch\nspec:\n  template: none\n",
			code: model.CodeYAMLInvalid, has: []string{"after placing the documents, kustomize build clusters/staging"}},
		{name: "not-a-dir", gitPath: "nope", yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", code: model.CodeBadRequest, has: []string{"gitPath nope"}},
		{name: "empty", gitPath: "plain", yaml: "# nothing\n---\n", code: model.CodeBadRequest, has: []string{"no document"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pl, err := PlaceDocuments(os.DirFS(placeRoot), c.gitPath, []byte(c.yaml))
			if err == nil {
				t.Fatalf("no error; placement: %+v\n%s", pl.Documents, pl.Diff)
			}
			me := model.AsError(err)
			t.Log(me.Message)
			if me.Code != c.code {
				t.Errorf("code %s, want %s: %v", me.Code, c.code, err)
			}
			for _, s := range c.has {
				if !strings.Contains(me.Message, s) {
					t.Errorf("message lacks %q: %s", s, me.Message)
				}
			}
			for k, v := range c.details {
				if me.Details[k] != v {
					t.Errorf("details[%s] = %v, want %v (%v)", k, me.Details[k], v, me.Details)
				}
			}
		})
	}
}

// TestPlaceDocumentsQuiet: kustomize prints deprecation warnings on stderr
// when it loads bases, commonLabels, imageTags or patchesStrategicMerge;
// the in-memory builds rewrite those fields first, so placing documents
// writes nothing there (stderr carries the headless error JSON and would
// garble the TUI).
func TestPlaceDocumentsQuiet(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	_, err1 := PlaceDocuments(os.DirFS(placeRoot), "clusters/legacy", []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\nspec:\n  replicas: 4\n"))
	_, err2 := PlaceDocuments(os.DirFS(placeRoot), "clusters/staging", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"))
	os.Stderr = stderr
	w.Close()
	out, _ := io.ReadAll(r)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if len(out) > 0 {
		t.Errorf("wrote to stderr:\n%s", out)
	}
}

// TestPreparedKustomizationsBuildTheSame: the rewritten deprecated fields
// build exactly what kustomize builds from the original files.
func TestPreparedKustomizationsBuildTheSame(t *testing.T) {
	for _, c := range []struct {
		files   map[string][]byte
		gitPath string
	}{
		{placeFiles(t), "clusters/legacy"}, {placeFiles(t), "clusters/staging"}, {placeFiles(t), "clusters/prod"},
		{loadRepo(t), "apps/overlays/staging"}, {loadRepo(t), "apps/overlays/prod"},
	} {
		want := kustomizeBuild(t, c.files, c.gitPath)
		e := &env{t: newMapTree(c.files), gitPath: c.gitPath, files: c.files}
		objs, err := e.build(c.files, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != len(want) {
			t.Fatalf("%s: %d objects, kustomize builds %d", c.gitPath, len(objs), len(want))
		}
		for i, o := range objs {
			b, err := yaml.Marshal(o.root)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := sigsyaml.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want[i]) {
				t.Errorf("%s: object %d differs:\n%v\nkustomize:\n%v", c.gitPath, i, got, want[i])
			}
		}
	}
}

// TestPlaceDocumentsConcurrent: placements from several goroutines give
// the same result as one alone (run with -race to check the kustomize
// state they share).
func TestPlaceDocumentsConcurrent(t *testing.T) {
	c := placeCases[1]
	one, err := PlaceDocuments(os.DirFS(placeRoot), c.gitPath, []byte(c.yaml))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	diffs := make([]string, 4)
	errs := make([]error, 4)
	for i := range diffs {
		wg.Go(func() {
			pl, err := PlaceDocuments(os.DirFS(placeRoot), c.gitPath, []byte(c.yaml))
			errs[i] = err
			if err == nil {
				diffs[i] = pl.Diff
			}
		})
	}
	wg.Wait()
	for i := range diffs {
		if errs[i] != nil || diffs[i] != one.Diff {
			t.Errorf("goroutine %d: %v\n%s", i, errs[i], diffs[i])
		}
	}
}
