package manifest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path"
	"reflect"
	"sort"
	"strings"
	"testing"

	yamlcheck "github.com/gitopstui/gitopstui/services/validate"
	yaml "go.yaml.in/yaml/v3"
)

// The shop fixture (testdata/repo/apps/shop) is one image,
// ghcr.io/acme/shop, running four workloads: Deployment/backend (and its
// migrate init container), Deployment/frontend, Deployment/worker (with a
// redis sidecar) and StatefulSet/db. production pins the shared image in
// images: and patches backend and frontend; staging has a namePrefix, no
// images: entry for the shared image and a patch for backend.

const shopRepo = "ghcr.io/acme/shop"

// buildAll builds a path into its objects by "Kind/name": `kustomize build`
// for a kustomization, the documents themselves for a plain directory.
func buildAll(t *testing.T, files map[string][]byte, gitPath string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	if _, ok := files[path.Join(gitPath, "kustomization.yaml")]; ok {
		for _, r := range buildInMemory(t, files, gitPath).Resources() {
			m, err := r.Map()
			if err != nil {
				t.Fatal(err)
			}
			out[r.GetKind()+"/"+r.GetName()] = m
		}
		return out
	}
	var names []string
	for p := range files {
		if strings.HasPrefix(p, gitPath+"/") {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	for _, p := range names {
		dec := yaml.NewDecoder(bytes.NewReader(files[p]))
		for {
			var m map[string]any
			err := dec.Decode(&m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if m != nil {
				md, _ := m["metadata"].(map[string]any)
				out[m["kind"].(string)+"/"+md["name"].(string)] = m
			}
		}
	}
	return out
}

// podContainer returns container name of list in a built object.
func podContainer(obj map[string]any, list, name string) map[string]any {
	spec, _ := obj["spec"].(map[string]any)
	tpl, _ := spec["template"].(map[string]any)
	ps, _ := tpl["spec"].(map[string]any)
	items, _ := ps[list].([]any)
	for _, it := range items {
		if c, _ := it.(map[string]any); c["name"] == name {
			return c
		}
	}
	return nil
}

// deepCopy copies a built object tree.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}

// dropEmpty removes keys holding empty lists (env: [] is no env to the API server).
func dropEmpty(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if l, ok := e.([]any); ok && len(l) == 0 {
				delete(x, k)
				continue
			}
			dropEmpty(e)
		}
	case []any:
		for _, e := range x {
			dropEmpty(e)
		}
	}
}

// site is one container of a built object.
type site struct{ obj, list, name string }

// applyPlan returns files with res.Files written over them.
func applyPlan(files map[string][]byte, res *Result) map[string][]byte {
	out := make(map[string][]byte, len(files)+len(res.Files))
	for k, v := range files {
		out[k] = v
	}
	for k, v := range res.Files {
		out[k] = v
	}
	return out
}

// expectImages plans ch on files and checks (expectBuild) that the build
// changes exactly the given containers' images to ch.Image.
func expectImages(t *testing.T, files map[string][]byte, gitPath string, ch Change, sites ...site) (map[string][]byte, *Result) {
	t.Helper()
	return expectBuild(t, files, gitPath, ch, func(want map[string]any) {
		for _, s := range sites {
			c := podContainer(want[s.obj].(map[string]any), s.list, s.name)
			if c == nil {
				t.Fatalf("no container %s %s in %s", s.list, s.name, s.obj)
			}
			c["image"] = ch.Image
		}
	})
}

// expectBuild plans ch on files and checks that building the result gives
// the build of files changed by intend and nothing else, that git apply of
// the diff gives the same files, that planning again is a no-op and that
// the written files pass deploy's validation; it returns the files after the
// change.
func expectBuild(t *testing.T, files map[string][]byte, gitPath string, ch Change, intend func(map[string]any)) (map[string][]byte, *Result) {
	t.Helper()
	res, err := Plan(files, gitPath, ch)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	after := applyPlan(files, res)
	b, a := buildAll(t, files, gitPath), buildAll(t, after, gitPath)
	want := map[string]any{}
	for k, v := range b {
		want[k] = deepCopy(v)
	}
	intend(want)
	for k := range a {
		dropEmpty(want[k])
		dropEmpty(a[k])
		if !reflect.DeepEqual(want[k], a[k]) {
			gy, _ := yaml.Marshal(a[k])
			wy, _ := yaml.Marshal(want[k])
			t.Errorf("built %s is not the original with only the change\n%s\n--- got ---\n%s\n--- want ---\n%s", k, res.Diff, gy, wy)
		}
	}
	if len(a) != len(b) {
		t.Errorf("built %d objects, had %d", len(a), len(b))
	}
	gitApply(t, files, res)
	again, err := Plan(after, gitPath, ch)
	if err != nil || len(again.Files) != 0 {
		t.Errorf("planning again: %v\n%s", err, again.Diff)
	}
	deployCheck(t, files, res)
	return after, res
}

var validator = func() *yamlcheck.Validator {
	v, err := yamlcheck.New(yamlcheck.Options{})
	if err != nil {
		panic(err)
	}
	return v
}()

// deployCheck runs on the files a plan writes the check deployWithGitOps
// runs before it commits (services.checkChangedYAML): a validator error the
// new content has and the old did not fails, except a missing required
// field in a created file (a partial patch) and a strategic-merge-patch
// directive.
func deployCheck(t *testing.T, files map[string][]byte, res *Result) {
	t.Helper()
	ctx := context.Background()
	for p, b := range res.Files {
		before := map[string]bool{}
		old, existed := files[p]
		if existed {
			for _, e := range validator.ValidateFile(ctx, p, old).Errors {
				before[e.Field+"\x00"+e.Message] = true
			}
		}
		for _, e := range validator.ValidateFile(ctx, p, b).Errors {
			if before[e.Field+"\x00"+e.Message] || (!existed && strings.HasSuffix(e.Message, "Required value")) || PatchDirective(e.Field) {
				continue
			}
			t.Errorf("deploy would refuse %s: %d:%d %s: %s\n%s", p, e.Line, e.Column, e.Field, e.Message, b)
		}
	}
}

func editsOf(res *Result, field string) []Edit {
	var out []Edit
	for _, e := range res.Edits {
		if strings.HasPrefix(e.Field, field) {
			out = append(out, e)
		}
	}
	return out
}

func createdFiles(res *Result) []string {
	var out []string
	for _, e := range res.Edits {
		if strings.HasPrefix(e.Note, "created") {
			out = append(out, e.Path)
		}
	}
	sort.Strings(out)
	return out
}

// TestSharedImageOneWorkload deploys the shared image to one workload (one
// container) at a time: the build changes that container's image and
// nothing else, the shared images: entry is not edited, and the impact names
// that workload alone.
func TestSharedImageOneWorkload(t *testing.T) {
	repo := loadRepo(t)
	overlays := []struct{ path, prefix, ns string }{
		{"apps/shop/production", "", "shop-prod"},
		{"apps/shop/staging", "staging-", "shop-staging"},
		{"apps/shop/base", "", ""},
	}
	targets := []struct{ kind, workload, container, list string }{
		{"Deployment", "frontend", "", "containers"},
		{"Deployment", "backend", "backend", "containers"},
		{"Deployment", "backend", "migrate", "initContainers"},
		{"Deployment", "worker", "", "containers"},
		{"StatefulSet", "db", "", "containers"},
	}
	for _, ov := range overlays {
		for _, tg := range targets {
			t.Run(ov.path+"/"+tg.workload+"/"+tg.container, func(t *testing.T) {
				obj := tg.kind + "/" + ov.prefix + tg.workload
				name := tg.container
				if name == "" {
					name = tg.workload
				}
				ch := Change{Workload: tg.workload, Container: tg.container, Image: shopRepo + ":2.0.0"}
				after, res := expectImages(t, repo, ov.path, ch, site{obj, tg.list, name})
				label := obj
				if ov.ns != "" {
					label += " (namespace " + ov.ns + ")"
				}
				if got := res.Impact.AffectedResources; len(got) != 1 || got[0] != label {
					t.Errorf("affectedResources = %v, want [%s]", got, label)
				}
				if es := editsOf(res, "images"); len(es) != 0 {
					t.Errorf("edited images: %+v", es)
				}
				if !strings.Contains(strings.Join(res.Warnings, "\n"), "also used by") {
					t.Errorf("warnings %q do not say who else uses the image", res.Warnings)
				}
				// The next release of the same workload edits the same place.
				ch.Image = shopRepo + ":2.0.1"
				_, res2 := expectImages(t, after, ov.path, ch, site{obj, tg.list, name})
				if c := createdFiles(res2); len(c) != 0 {
					t.Errorf("second deploy created %v\n%s", c, res2.Diff)
				}
			})
		}
	}
}

// TestSharedImageWhere checks where a one-workload change of the shared
// image lands.
func TestSharedImageWhere(t *testing.T) {
	repo := loadRepo(t)
	cases := []struct {
		path, workload string
		files          []string
		kustHas        string
	}{
		// production pins the shared image in images:, which kustomize
		// applies after patches: the pin goes in a patch of transformers:.
		{"apps/shop/production", "frontend", []string{"apps/shop/production/frontend-image-patch.yaml", "apps/shop/production/kustomization.yaml"}, "kind: PatchTransformer"},
		// no images: entry for it in staging: the workload's own patch...
		{"apps/shop/staging", "backend", []string{"apps/shop/staging/backend-patch.yaml"}, ""},
		// ... or a new one.
		{"apps/shop/staging", "frontend", []string{"apps/shop/staging/frontend-patch.yaml", "apps/shop/staging/kustomization.yaml"}, "- path: frontend-patch.yaml"},
		// the workload's file lies under gitPath.
		{"apps/shop/base", "db", []string{"apps/shop/base/db.yaml"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.path+"/"+tc.workload, func(t *testing.T) {
			res, err := Plan(repo, tc.path, Change{Workload: tc.workload, Image: shopRepo + ":2.0.0"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for p := range res.Files {
				got = append(got, p)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tc.files, ",") {
				t.Errorf("files %v, want %v\n%s", got, tc.files, res.Diff)
			}
			if k := res.Files[path.Join(tc.path, "kustomization.yaml")]; tc.kustHas != "" && !bytes.Contains(k, []byte(tc.kustHas)) {
				t.Errorf("kustomization.yaml lacks %q:\n%s", tc.kustHas, k)
			}
		})
	}
}

var shopUses = []site{
	{"Deployment/backend", "initContainers", "migrate"},
	{"Deployment/backend", "containers", "backend"},
	{"Deployment/frontend", "containers", "frontend"},
	{"Deployment/worker", "containers", "worker"},
	{"StatefulSet/db", "containers", "db"},
}

func prefixed(sites []site, prefix string) []site {
	out := make([]site, len(sites))
	for i, s := range sites {
		kind, name, _ := strings.Cut(s.obj, "/")
		out[i] = site{kind + "/" + prefix + name, s.list, s.name}
	}
	return out
}

// TestSharedImageEnvironment deploys the shared image without a workload:
// every container using it changes, the result names every workload and
// warns that all of them change.
func TestSharedImageEnvironment(t *testing.T) {
	repo := loadRepo(t)
	for _, ov := range []struct{ path, prefix, ns string }{
		{"apps/shop/production", "", "shop-prod"},
		{"apps/shop/staging", "staging-", "shop-staging"},
		{"apps/shop/base", "", ""},
	} {
		t.Run(ov.path, func(t *testing.T) {
			_, res := expectImages(t, repo, ov.path, Change{Image: shopRepo + ":2.0.0"}, prefixed(shopUses, ov.prefix)...)
			var want []string
			for _, w := range []string{"Deployment/backend", "Deployment/frontend", "Deployment/worker", "StatefulSet/db"} {
				kind, name, _ := strings.Cut(w, "/")
				l := kind + "/" + ov.prefix + name
				if ov.ns != "" {
					l += " (namespace " + ov.ns + ")"
				}
				want = append(want, l)
			}
			if got := res.Impact.AffectedResources; strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("affectedResources = %v, want %v", got, want)
			}
			p := ov.prefix
			sentence := "image ghcr.io/acme/shop is used by Deployment/" + p + "backend, Deployment/" + p + "frontend, Deployment/" + p + "worker, StatefulSet/" + p + "db: all of them change"
			if !contains(res.Warnings, sentence) {
				t.Errorf("warnings %q lack %q", res.Warnings, sentence)
			}
			if res.Workload != "Deployment/backend, Deployment/frontend, Deployment/worker, StatefulSet/db" {
				t.Errorf("workload = %q", res.Workload)
			}
			for _, w := range []string{"Deployment/backend", "Deployment/frontend", "Deployment/worker", "StatefulSet/db"} {
				if !strings.Contains(res.Impact.DowntimeReason, w+": ") {
					t.Errorf("downtimeReason %q says nothing of %s", res.Impact.DowntimeReason, w)
				}
			}
			if !res.Impact.WillRestartPods {
				t.Error("willRestartPods = false")
			}
			if ov.path != "apps/shop/base" && len(editsOf(res, "images[name=ghcr.io/acme/shop]")) == 0 {
				t.Errorf("the images: entry is not set\n%s", res.Diff)
			}
		})
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestSharedImageReleases runs a sequence of releases on each overlay: one
// workload, then all, then one again, then another one: each build changes
// exactly the containers the change names.
func TestSharedImageReleases(t *testing.T) {
	repo := loadRepo(t)
	for _, ov := range []struct{ path, prefix string }{
		{"apps/shop/production", ""},
		{"apps/shop/staging", "staging-"},
	} {
		t.Run(ov.path, func(t *testing.T) {
			fe := site{"Deployment/" + ov.prefix + "frontend", "containers", "frontend"}
			db := site{"StatefulSet/" + ov.prefix + "db", "containers", "db"}
			files := repo
			files, _ = expectImages(t, files, ov.path, Change{Workload: "frontend", Image: shopRepo + ":2.0.0"}, fe)
			files, _ = expectImages(t, files, ov.path, Change{Image: shopRepo + ":2.1.0"}, prefixed(shopUses, ov.prefix)...)
			files, _ = expectImages(t, files, ov.path, Change{Workload: "frontend", Image: shopRepo + ":2.2.0"}, fe)
			files, _ = expectImages(t, files, ov.path, Change{Workload: "StatefulSet/db", Image: shopRepo + ":2.3.0"}, db)
			_, res := expectImages(t, files, ov.path, Change{Image: shopRepo + ":3.0.0"}, prefixed(shopUses, ov.prefix)...)
			if len(res.Impact.AffectedResources) != 4 {
				t.Errorf("affectedResources = %v", res.Impact.AffectedResources)
			}
		})
	}
}

// TestSharedImagePlain covers a plain manifest directory holding the shop's
// workloads: one workload's file, or every file for the environment.
func TestSharedImagePlain(t *testing.T) {
	repo := loadRepo(t)
	files := map[string][]byte{}
	for p, b := range repo {
		if strings.HasPrefix(p, "apps/shop/base/") && !strings.HasSuffix(p, "kustomization.yaml") {
			files["apps/shop-plain/"+path.Base(p)] = b
		}
	}
	_, res := expectImages(t, files, "apps/shop-plain", Change{Workload: "worker", Image: shopRepo + ":2.0.0"}, site{"Deployment/worker", "containers", "worker"})
	if len(res.Files) != 1 || res.Files["apps/shop-plain/worker.yaml"] == nil {
		t.Errorf("changed %v", res.Files)
	}
	_, res = expectImages(t, files, "apps/shop-plain", Change{Image: shopRepo + ":2.0.0"}, shopUses...)
	if len(res.Files) != 4 || len(res.Impact.AffectedResources) != 4 {
		t.Errorf("changed %d files, affected %v", len(res.Files), res.Impact.AffectedResources)
	}
}
