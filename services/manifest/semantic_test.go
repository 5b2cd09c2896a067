package manifest

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"
)

// built returns the Deployments a path produces: `kustomize build` (the
// kustomize library Flux uses) for an overlay, the documents themselves for
// a plain directory.
func built(t *testing.T, files map[string][]byte, gitPath string) map[string]*appsv1.Deployment {
	t.Helper()
	var docs [][]byte
	if _, ok := files[path.Join(gitPath, "kustomization.yaml")]; ok {
		for _, r := range buildInMemory(t, files, gitPath).Resources() {
			b, err := r.AsYAML()
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, b)
		}
	} else {
		var names []string
		for p := range files {
			if strings.HasPrefix(p, gitPath+"/") {
				names = append(names, p)
			}
		}
		sort.Strings(names)
		for _, p := range names {
			for _, d := range bytes.Split(files[p], []byte("\n---")) {
				docs = append(docs, d)
			}
		}
	}
	out := map[string]*appsv1.Deployment{}
	for _, d := range docs {
		var dep appsv1.Deployment
		if err := sigsyaml.UnmarshalStrict(d, &dep); err != nil {
			if !strings.Contains(string(d), "kind: Deployment") {
				continue
			}
			t.Fatalf("strict decode of a Deployment: %v\n%s", err, d)
		}
		if dep.Kind == "Deployment" {
			out[dep.Name] = &dep
		}
	}
	return out
}

// intended applies a change to a built Deployment the way the API would see it.
func intended(d *appsv1.Deployment, ch Change, container string) {
	if ch.Replicas != nil && (d.Spec.Replicas != nil || *ch.Replicas != 1) {
		r := *ch.Replicas
		d.Spec.Replicas = &r
	}
	for i := range d.Spec.Template.Spec.Containers {
		c := &d.Spec.Template.Spec.Containers[i]
		if c.Name != container {
			continue
		}
		if ch.Image != "" {
			c.Image = ch.Image
			if r, _ := ParseImage(ch.Image); r.Digest != "" && r.Tag != "" {
				c.Image = r.Name + "@" + r.Digest
			}
		}
		for k, v := range ch.Env {
			found := false
			for j := 0; j < len(c.Env); j++ {
				if c.Env[j].Name != k {
					continue
				}
				found = true
				if v == nil {
					c.Env = append(c.Env[:j], c.Env[j+1:]...)
					j--
				} else {
					c.Env[j] = corev1.EnvVar{Name: k, Value: *v}
				}
			}
			if !found && v != nil {
				c.Env = append(c.Env, corev1.EnvVar{Name: k, Value: *v})
			}
		}
		if r := ch.Resources; r != nil {
			set := func(l *corev1.ResourceList, name corev1.ResourceName, v string) {
				if v == "" {
					return
				}
				if *l == nil {
					*l = corev1.ResourceList{}
				}
				(*l)[name] = resource.MustParse(v)
			}
			set(&c.Resources.Requests, corev1.ResourceCPU, r.Requests.CPU)
			set(&c.Resources.Requests, corev1.ResourceMemory, r.Requests.Memory)
			set(&c.Resources.Limits, corev1.ResourceCPU, r.Limits.CPU)
			set(&c.Resources.Limits, corev1.ResourceMemory, r.Limits.Memory)
		}
	}
}

func sortEnv(d *appsv1.Deployment) {
	for i := range d.Spec.Template.Spec.Containers {
		e := d.Spec.Template.Spec.Containers[i].Env
		sort.SliceStable(e, func(a, b int) bool { return e[a].Name < e[b].Name })
	}
}

// TestPlanSemantics builds every golden case before and after the edit
// (kustomize for overlays) and checks that the result is exactly the
// original workload with the change applied: nothing else moved.
func TestPlanSemantics(t *testing.T) {
	repo := loadRepo(t)
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Plan(repo, tc.gitPath, tc.ch)
			if err != nil {
				t.Fatal(err)
			}
			after := map[string][]byte{}
			for k, v := range repo {
				after[k] = v
			}
			for k, v := range res.Files {
				after[k] = v
			}
			b, a := built(t, repo, tc.gitPath), built(t, after, tc.gitPath)
			name := strings.TrimPrefix(res.Workload, "Deployment/")
			want := b[name].DeepCopy()
			intended(want, tc.ch, res.Container)
			got := a[name]
			sortEnv(want)
			sortEnv(got)
			if !equality.Semantic.DeepEqual(want, got) {
				wy, _ := sigsyaml.Marshal(want)
				gy, _ := sigsyaml.Marshal(got)
				t.Errorf("built %s differs from the intended result\n--- got ---\n%s\n--- want ---\n%s", name, gy, wy)
			}
			for n, d := range b {
				if n != name && !equality.Semantic.DeepEqual(d, a[n]) {
					t.Errorf("Deployment %s changed too", n)
				}
			}
		})
	}
}

// TestPlanCombined applies every kind of change at once to every workload
// of the fixtures and checks the built result (kustomize for overlays)
// against the intent, that git apply of the diff reproduces the files, and
// that planning again on the result changes nothing.
func TestPlanCombined(t *testing.T) {
	repo := loadRepo(t)
	targets := []struct{ gitPath, workload, container string }{
		{"apps/overlays/staging", "web", ""},
		{"apps/overlays/prod", "web", ""},
		{"apps/overlays/prod", "api", ""},
		{"apps/base/web", "", ""},
		{"apps/base/api", "", ""},
		{"apps/plain", "web", "web"},
		{"apps/plain", "web", "metrics"},
		{"apps/plain", "worker", ""},
		{"apps/edge", "", "edge"},
		{"apps/edge", "", "helper"},
	}
	changes := []Change{
		{Image: "ghcr.io/acme/other:9.9", Replicas: i32(5), Env: map[string]*string{"LOG_LEVEL": nil, "A": nil, "MODE": sp("x"), "NEW_ONE": sp("no")},
			Resources: &Resources{Requests: ResourceValues{CPU: "50m", Memory: "1Gi"}, Limits: ResourceValues{CPU: "2", Memory: "2Gi"}}},
		{Env: map[string]*string{"TOKEN": sp("t"), "FEATURE_X": nil, "B": sp("0755")}, Resources: &Resources{Limits: ResourceValues{Memory: "300Mi"}}},
		{Image: "ghcr.io/acme/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Replicas: i32(1)},
	}
	for _, tg := range targets {
		for i, ch := range changes {
			ch.Workload, ch.Container = tg.workload, tg.container
			t.Run(fmt.Sprintf("%s/%s/%s/%d", tg.gitPath, tg.workload, tg.container, i), func(t *testing.T) {
				res, err := Plan(repo, tg.gitPath, ch)
				if err != nil {
					t.Fatal(err)
				}
				after := map[string][]byte{}
				for k, v := range repo {
					after[k] = v
				}
				for k, v := range res.Files {
					after[k] = v
				}
				gitApply(t, repo, res)
				b, a := built(t, repo, tg.gitPath), built(t, after, tg.gitPath)
				name := strings.TrimPrefix(res.Workload, "Deployment/")
				want := b[name].DeepCopy()
				intended(want, ch, res.Container)
				got := a[name]
				sortEnv(want)
				sortEnv(got)
				if !equality.Semantic.DeepEqual(want, got) {
					wy, _ := sigsyaml.Marshal(want)
					gy, _ := sigsyaml.Marshal(got)
					t.Errorf("built %s differs from the intended result\n%s\n--- got ---\n%s\n--- want ---\n%s", name, res.Diff, gy, wy)
				}
				again, err := Plan(after, tg.gitPath, ch)
				if err != nil || len(again.Files) != 0 {
					t.Errorf("re-plan: %v\n%s", err, again.Diff)
				}
			})
		}
	}
}

// buildInMemory runs `kustomize build` (the kustomize library Flux uses) of
// gitPath over files held in memory.
func buildInMemory(t *testing.T, files map[string][]byte, gitPath string) resmap.ResMap {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	for p, b := range files {
		if err := fsys.WriteFile("/"+p, b); err != nil {
			t.Fatal(err)
		}
	}
	rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, "/"+gitPath)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", gitPath, err)
	}
	return rm
}
