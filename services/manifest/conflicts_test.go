package manifest

import (
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
)

func withFile(files map[string][]byte, p, old, new string) map[string][]byte {
	out := make(map[string][]byte, len(files))
	for k, v := range files {
		out[k] = v
	}
	s := string(out[p])
	if !strings.Contains(s, old) {
		panic("fixture lacks " + old)
	}
	out[p] = []byte(strings.Replace(s, old, new, 1))
	return out
}

func TestConflicts(t *testing.T) {
	base := loadRepo(t)
	const kust = "apps/overlays/prod/kustomization.yaml"
	const patch = "apps/overlays/prod/web-patch.yaml"
	cases := []struct {
		name    string
		gitPath string
		ch      Change
		theirs  map[string][]byte
		field   string // "" = no conflict
		base    string
		theirsV string
		want    string // text the rebased plan must contain in its files
	}{
		{name: "same image entry", gitPath: "apps/overlays/prod", ch: Change{Workload: "web", Image: "ghcr.io/acme/web:1.4.0"},
			theirs: withFile(base, kust, `newTag: "1.3.2"`, `newTag: "1.3.3"`), field: "images[name=ghcr.io/acme/web].newTag", base: "1.3.2", theirsV: "1.3.3"},
		{name: "other image entry", gitPath: "apps/overlays/prod", ch: Change{Workload: "web", Image: "ghcr.io/acme/web:1.4.0"},
			theirs: withFile(base, kust, "newTag: 2.0.1", "newTag: 2.0.2 # api fix"), want: "newTag: 2.0.2 # api fix"},
		{name: "same change upstream", gitPath: "apps/overlays/prod", ch: Change{Workload: "web", Image: "ghcr.io/acme/web:1.4.0"},
			theirs: withFile(base, kust, `newTag: "1.3.2"`, `newTag: "1.4.0"`)},
		{name: "replicas vs env in the same patch", gitPath: "apps/overlays/prod", ch: Change{Workload: "web", Env: map[string]*string{"LOG_LEVEL": sp("error")}},
			theirs: withFile(base, patch, "replicas: 4", "replicas: 5"), want: "replicas: 5"},
		{name: "same env var", gitPath: "apps/overlays/prod", ch: Change{Workload: "web", Env: map[string]*string{"LOG_LEVEL": sp("error")}},
			theirs: withFile(base, patch, "value: warn", "value: debug"), field: "Deployment/web spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value", base: "warn", theirsV: "debug"},
		{name: "plain image vs replicas", gitPath: "apps/plain", ch: Change{Workload: "web", Image: "nginx:1.27"},
			theirs: withFile(base, "apps/plain/web.yaml", "replicas: 2", "replicas: 3"), want: "replicas: 3"},
		{name: "plain image vs image", gitPath: "apps/plain", ch: Change{Workload: "web", Image: "nginx:1.27"},
			theirs: withFile(base, "apps/plain/web.yaml", `"nginx:1.25"`, `"nginx:1.26"`), field: "Deployment/web spec.template.spec.containers[name=web].image", base: "nginx:1.25", theirsV: "nginx:1.26"},
		{name: "added entry vs upstream added entry", gitPath: "apps/overlays/staging", ch: Change{Replicas: i32(3)},
			theirs: withFile(base, "apps/overlays/staging/kustomization.yaml", "commonLabels:", "replicas:\n  - name: web\n    count: 2\ncommonLabels:"),
			field:  "replicas[name=web].count", theirsV: "2"},
		{name: "new patch file vs upstream file of that name", gitPath: "apps/overlays/staging", ch: Change{Env: map[string]*string{"A": sp("1")}},
			theirs: func() map[string][]byte {
				m := withFile(base, "apps/overlays/staging/kustomization.yaml", "env: staging", "env: staging2")
				m["apps/overlays/staging/web-patch.yaml"] = []byte("# unrelated\n")
				return m
			}(), want: "path: web-patch-2.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prev, err := Plan(base, tc.gitPath, tc.ch)
			if err != nil {
				t.Fatal(err)
			}
			cs := Conflicts(base, tc.theirs, prev.Edits)
			res, err := Rebase(base, tc.theirs, tc.gitPath, tc.ch, prev)
			if tc.field == "" {
				if len(cs) != 0 || err != nil {
					t.Fatalf("conflicts %+v, err %v; want none", cs, err)
				}
				all := ""
				for _, b := range res.Files {
					all += string(b)
				}
				if !strings.Contains(all, tc.want) {
					t.Errorf("rebased files lack %q:\n%s", tc.want, res.Diff)
				}
				return
			}
			if len(cs) != 1 {
				t.Fatalf("conflicts = %+v, want one on %s", cs, tc.field)
			}
			c := cs[0]
			if c.Field != tc.field || deref(c.Base) != tc.base || deref(c.Theirs) != tc.theirsV || c.Ours == nil {
				t.Errorf("conflict = {%s %s base=%q ours=%q theirs=%q}, want field %s base %q theirs %q",
					c.Path, c.Field, deref(c.Base), deref(c.Ours), deref(c.Theirs), tc.field, tc.base, tc.theirsV)
			}
			e := model.AsError(err)
			if e == nil || e.Code != model.CodeConflictDetected {
				t.Fatalf("Rebase err = %v, want CONFLICT_DETECTED", err)
			}
			if got, ok := e.Details["conflicts"].([]Conflict); !ok || len(got) != 1 {
				t.Errorf("details.conflicts = %#v", e.Details["conflicts"])
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
