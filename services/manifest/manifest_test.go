package manifest

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gitopstui/gitopstui/model"
)

var update = flag.Bool("update", false, "rewrite golden files")

func loadRepo(t testing.TB) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	root := filepath.Join("testdata", "repo")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func i32(v int32) *int32  { return &v }
func sp(s string) *string { return &s }

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name+".diff")
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("missing golden file (run go test -update): %v", err)
	}
	if string(want) != got {
		t.Errorf("diff differs from %s\n--- got ---\n%s\n--- want ---\n%s", p, got, want)
	}
}

// gitApply checks the diff with the real git: applied to the original tree
// it must give exactly res.Files.
func gitApply(t *testing.T, files map[string][]byte, res *Result) {
	t.Helper()
	dir := t.TempDir()
	for p, b := range files {
		fp := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fp, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(stdin string, args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s\ndiff:\n%s", args, err, out, res.Diff)
		}
		return string(out)
	}
	run("", "init", "-q")
	run(res.Diff, "apply", "--whitespace=nowarn", "-")
	for p, want := range res.Files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			t.Fatalf("after git apply: %v", err)
		}
		if string(got) != string(want) {
			t.Errorf("git apply of the diff gives a different %s:\n%s\nwant:\n%s", p, got, want)
		}
	}
	stat := run(res.Diff, "apply", "--numstat", "-")
	add, del := 0, 0
	for _, l := range strings.Split(strings.TrimSpace(stat), "\n") {
		var a, d int
		var name string
		if _, err := fmt.Sscan(l, &a, &d, &name); err == nil {
			add += a
			del += d
		}
	}
	if add != res.Summary.Additions || del != res.Summary.Deletions {
		t.Errorf("summary %+v, git apply --numstat says +%d -%d", res.Summary, add, del)
	}
	if res.Summary.Files != len(res.Files) {
		t.Errorf("summary.files = %d, want %d", res.Summary.Files, len(res.Files))
	}
}

type planCase struct {
	name      string
	gitPath   string
	ch        Change
	files     []string // changed files
	restart   bool
	downtime  string
	reasonHas string
	warnHas   string
	affected  []string
}

func goldenCases() []planCase {
	return []planCase{
		{name: "overlay-staging-image", gitPath: "apps/overlays/staging", ch: Change{Image: "ghcr.io/acme/web:1.4.0"},
			files: []string{"apps/overlays/staging/kustomization.yaml"}, restart: true, downtime: "none",
			reasonHas: "keeps at least 2 of 2", affected: []string{"Deployment/web (namespace staging)"}},
		{name: "overlay-staging-replicas", gitPath: "apps/overlays/staging", ch: Change{Replicas: i32(3)},
			files: []string{"apps/overlays/staging/kustomization.yaml"}, restart: false, downtime: "none", reasonHas: "2 to 3"},
		{name: "overlay-staging-env", gitPath: "apps/overlays/staging", ch: Change{Env: map[string]*string{"LOG_LEVEL": sp("debug"), "NEW_VAR": sp("1")}},
			files: []string{"apps/overlays/staging/kustomization.yaml", "apps/overlays/staging/web-patch.yaml"}, restart: true, downtime: "none"},
		{name: "overlay-staging-new-registry", gitPath: "apps/overlays/staging", ch: Change{Image: "registry.example.com:5000/mirror/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
			files: []string{"apps/overlays/staging/kustomization.yaml"}, restart: true, downtime: "none"},
		{name: "overlay-prod-image", gitPath: "apps/overlays/prod", ch: Change{Workload: "web", Image: "ghcr.io/acme/web:1.4.0"},
			files: []string{"apps/overlays/prod/kustomization.yaml"}, restart: true, downtime: "none", reasonHas: "keeps at least 3 of 4"},
		{name: "overlay-prod-replicas", gitPath: "apps/overlays/prod", ch: Change{Workload: "web", Replicas: i32(6)},
			files: []string{"apps/overlays/prod/web-patch.yaml"}, restart: false, downtime: "none", reasonHas: "4 to 6"},
		{name: "overlay-prod-env", gitPath: "apps/overlays/prod", ch: Change{Workload: "Deployment/web", Env: map[string]*string{"LOG_LEVEL": sp("error"), "FEATURE_X": nil, "NEW": sp("yes")}},
			files: []string{"apps/overlays/prod/web-patch.yaml"}, restart: true, downtime: "none"},
		{name: "overlay-prod-resources", gitPath: "apps/overlays/prod", ch: Change{Workload: "web", Resources: &Resources{Requests: ResourceValues{CPU: "500m"}, Limits: ResourceValues{CPU: "1", Memory: "512Mi"}}},
			files: []string{"apps/overlays/prod/web-patch.yaml"}, restart: true, downtime: "none"},
		{name: "overlay-prod-api-resources", gitPath: "apps/overlays/prod", ch: Change{Workload: "api", Resources: &Resources{Requests: ResourceValues{Memory: "128Mi"}}},
			files: []string{"apps/overlays/prod/api-patch.yaml"}, restart: true, downtime: "~20s", reasonHas: "Recreate"},
		{name: "overlay-staging-base-env-removal", gitPath: "apps/overlays/staging", ch: Change{Env: map[string]*string{"LOG_LEVEL": nil}},
			files: []string{"apps/overlays/staging/kustomization.yaml", "apps/overlays/staging/web-patch.yaml"}, restart: true, downtime: "none"},
		{name: "plain-image", gitPath: "apps/plain", ch: Change{Workload: "web", Image: "nginx:1.27"},
			files: []string{"apps/plain/web.yaml"}, restart: true, downtime: "none", reasonHas: "maxUnavailable 0", affected: []string{"Deployment/web (namespace shop)"}},
		{name: "plain-replicas-zero", gitPath: "apps/plain", ch: Change{Workload: "web", Replicas: i32(0)},
			files: []string{"apps/plain/web.yaml"}, restart: false, downtime: "until scaled up", warnHas: "to 0 replicas"},
		{name: "plain-env", gitPath: "apps/plain", ch: Change{Workload: "web", Container: "web", Env: map[string]*string{"MODE": sp("staging"), "TOKEN": sp("plain"), "ADDED": sp("true")}},
			files: []string{"apps/plain/web.yaml"}, restart: true, downtime: "none"},
		{name: "plain-env-metrics", gitPath: "apps/plain", ch: Change{Workload: "web", Container: "metrics", Env: map[string]*string{"PORT": sp("9113")}},
			files: []string{"apps/plain/web.yaml"}, restart: true, downtime: "none"},
		{name: "plain-resources", gitPath: "apps/plain", ch: Change{Workload: "worker", Resources: &Resources{Requests: ResourceValues{Memory: "64Mi"}, Limits: ResourceValues{CPU: "500m"}}},
			files: []string{"apps/plain/worker.yaml"}, restart: true, downtime: "~30s", reasonHas: "initialDelaySeconds 20 + periodSeconds 10"},
		{name: "plain-image-digest-to-tag", gitPath: "apps/plain", ch: Change{Workload: "worker", Image: "ghcr.io/acme/worker:v2"},
			files: []string{"apps/plain/worker.yaml"}, restart: true, downtime: "~30s"},
		{name: "plain-replicas-up", gitPath: "apps/plain", ch: Change{Workload: "worker", Replicas: i32(3)},
			files: []string{"apps/plain/worker.yaml"}, restart: false, downtime: "none"},
		{name: "base-api-image", gitPath: "apps/base/api", ch: Change{Image: "ghcr.io/acme/api:2.1.0"},
			files: []string{"apps/base/api/deployment.yaml"}, restart: true, downtime: "~10s", reasonHas: "no readinessProbe"},
		{name: "base-api-resources", gitPath: "apps/base/api", ch: Change{Resources: &Resources{Limits: ResourceValues{Memory: "1Gi"}}},
			files: []string{"apps/base/api/deployment.yaml"}, restart: true, downtime: "~10s"},
		{name: "edge-replicas-added", gitPath: "apps/edge", ch: Change{Replicas: i32(2)},
			files: []string{"apps/edge/edge.yaml"}, restart: false, downtime: "none"},
		{name: "edge-image-env", gitPath: "apps/edge", ch: Change{Container: "edge", Image: "registry.local:5000/edge:1.1", Env: map[string]*string{"GREETING": sp("on")}},
			files: []string{"apps/edge/edge.yaml"}, restart: true, downtime: "none", reasonHas: "keeps at least 1 of 1"},
		{name: "edge-flow-container", gitPath: "apps/edge", ch: Change{Container: "helper", Image: "busybox:1.37", Env: map[string]*string{"A": nil, "B": sp("2")}},
			files: []string{"apps/edge/edge.yaml"}, restart: true, downtime: "none"},
	}
}

func TestPlanGolden(t *testing.T) {
	repo := loadRepo(t)
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Plan(repo, tc.gitPath, tc.ch)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			golden(t, tc.name, res.Diff)
			var got []string
			for p := range res.Files {
				got = append(got, p)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tc.files, ",") {
				t.Errorf("changed files %v, want %v", got, tc.files)
			}
			gitApply(t, repo, res)
			if res.Impact.WillRestartPods != tc.restart {
				t.Errorf("willRestartPods = %v, want %v", res.Impact.WillRestartPods, tc.restart)
			}
			if res.Impact.EstimatedDowntime != tc.downtime {
				t.Errorf("estimatedDowntime = %q (%s), want %q", res.Impact.EstimatedDowntime, res.Impact.DowntimeReason, tc.downtime)
			}
			if !strings.Contains(res.Impact.DowntimeReason, tc.reasonHas) {
				t.Errorf("downtimeReason %q does not mention %q", res.Impact.DowntimeReason, tc.reasonHas)
			}
			if tc.warnHas != "" && !strings.Contains(strings.Join(res.Warnings, "\n"), tc.warnHas) {
				t.Errorf("warnings %q do not mention %q", res.Warnings, tc.warnHas)
			}
			if tc.affected != nil && strings.Join(res.Impact.AffectedResources, ",") != strings.Join(tc.affected, ",") {
				t.Errorf("affectedResources = %v, want %v", res.Impact.AffectedResources, tc.affected)
			}
			if len(res.Edits) == 0 {
				t.Error("no edits recorded")
			}
			// The same intent on the result is a no-op: the plan is idempotent.
			next := map[string][]byte{}
			for k, v := range repo {
				next[k] = v
			}
			for k, v := range res.Files {
				next[k] = v
			}
			again, err := Plan(next, tc.gitPath, tc.ch)
			if err != nil {
				t.Fatalf("Plan on the result: %v", err)
			}
			if len(again.Files) != 0 {
				t.Errorf("re-planning on the result changes files again:\n%s", again.Diff)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	repo := loadRepo(t)
	repo["multi/d.yaml"] = []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: multi\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: a:1\n      - name: sidecar\n        image: b:1\n")
	cases := []struct {
		name, gitPath string
		ch            Change
		detail        string
		want          []string
	}{
		{"several-overlay", "apps/overlays/prod", Change{Image: "x:1"}, "workloads", []string{"Deployment/api", "Deployment/web"}},
		{"several-plain", "apps/plain", Change{Replicas: i32(2)}, "workloads", []string{"Deployment/web", "Deployment/worker"}},
		{"not-found", "apps/plain", Change{Workload: "nope", Replicas: i32(2)}, "workloads", []string{"Deployment/web", "Deployment/worker"}},
		{"several-containers", "multi", Change{Image: "busybox:1"}, "containers", []string{"app", "sidecar"}},
		{"bad-image", "apps/plain", Change{Workload: "web", Image: "Not A Ref"}, "fields", nil},
		{"nothing", "apps/plain", Change{Workload: "web"}, "fields", nil},
		{"bad-quantity", "apps/plain", Change{Workload: "worker", Resources: &Resources{Limits: ResourceValues{CPU: "lots"}}}, "fields", nil},
		{"daemonset-like-replicas-negative", "apps/plain", Change{Workload: "worker", Replicas: i32(-1)}, "fields", nil},
		{"no-dir", "apps/none", Change{Replicas: i32(1)}, "gitPath", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Plan(repo, tc.gitPath, tc.ch)
			e := model.AsError(err)
			if e == nil || e.Code != model.CodeBadRequest {
				t.Fatalf("err = %v, want BAD_REQUEST", err)
			}
			d, ok := e.Details[tc.detail]
			if !ok {
				t.Fatalf("details %v lack %s", e.Details, tc.detail)
			}
			if tc.want != nil {
				got, _ := d.([]string)
				if strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Errorf("details.%s = %v, want %v", tc.detail, got, tc.want)
				}
				for _, w := range tc.want {
					if !strings.Contains(e.Message, w) {
						t.Errorf("message %q does not name %s", e.Message, w)
					}
				}
			}
		})
	}
}

func TestPlanFS(t *testing.T) {
	repo := loadRepo(t)
	m := fstest.MapFS{}
	for k, v := range repo {
		m[k] = &fstest.MapFile{Data: v}
	}
	a, err := PlanFS(m, "./apps/overlays/prod/", Change{Workload: "web", Image: "ghcr.io/acme/web:1.4.0"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Plan(repo, "apps/overlays/prod", Change{Workload: "web", Image: "ghcr.io/acme/web:1.4.0"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Diff != b.Diff || a.Diff == "" {
		t.Errorf("PlanFS and Plan disagree:\n%s\n%s", a.Diff, b.Diff)
	}
}

func TestParseImage(t *testing.T) {
	cases := map[string]ImageRef{
		"nginx":                           {Name: "nginx"},
		"nginx:1.27":                      {Name: "nginx", Tag: "1.27"},
		"ghcr.io/org/app:v2":              {Name: "ghcr.io/org/app", Tag: "v2"},
		"localhost:5000/app":              {Name: "localhost:5000/app"},
		"localhost:5000/team/app:1.0-rc1": {Name: "localhost:5000/team/app", Tag: "1.0-rc1"},
		"repo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef":     {Name: "repo", Digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		"repo:1.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": {Name: "repo", Tag: "1.2", Digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	}
	for in, want := range cases {
		got, err := ParseImage(in)
		if err != nil || got != want {
			t.Errorf("ParseImage(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("String() = %q, want %q", got.String(), in)
		}
	}
	for _, bad := range []string{"", "case/UPPER:1", "nginx:", "nginx:bad tag", "repo@sha256:xyz", "a//b"} {
		if _, err := ParseImage(bad); model.CodeOf(err) != model.CodeBadRequest {
			t.Errorf("ParseImage(%q) err = %v, want BAD_REQUEST", bad, err)
		}
	}
}
