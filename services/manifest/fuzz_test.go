package manifest

import (
	"strings"
	"testing"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// FuzzEnvValue checks that any env value is written so that Kubernetes'
// YAML reader (sigs.k8s.io/yaml, YAML 1.1 rules) reads back the same string,
// whichever quoting style the replaced value had.
func FuzzEnvValue(f *testing.F) {
	for _, s := range []string{"yes", "no", "on", "0755", "1e3", "0x1F", "a: b", "#x", "x #y", "multi\nline", "", " lead", "trail ",
		"'q'", `"dq"`, "\t", "null", "~", "@x", "*a", "&a", "!tag", "- x", "[x]", "{x}", "%x", "`x", "é", "\\", "\x00", "1.27", ".inf"} {
		f.Add(s)
	}
	repo := loadRepo(f)
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) {
			return
		}
		for _, name := range []string{"MODE", "TOKEN", "NEW"} {
			res, err := Plan(repo, "apps/plain", Change{Workload: "web", Container: "web", Env: map[string]*string{name: &v}})
			if err != nil {
				t.Fatalf("%s=%q: %v", name, v, err)
			}
			out, ok := res.Files["apps/plain/web.yaml"]
			if !ok {
				t.Fatalf("%s=%q: no change", name, v)
			}
			doc := strings.SplitN(string(out), "\n---\n", 3)[1]
			var d appsv1.Deployment
			if err := sigsyaml.UnmarshalStrict([]byte(doc), &d); err != nil {
				t.Fatalf("%s=%q: %v\n%s", name, v, err, res.Diff)
			}
			found := false
			for _, e := range d.Spec.Template.Spec.Containers[0].Env {
				if e.Name == name {
					found = true
					if e.Value != v || e.ValueFrom != nil {
						t.Fatalf("%s=%q reads back as %q\n%s", name, v, e.Value, res.Diff)
					}
				}
			}
			if !found {
				t.Fatalf("%s missing\n%s", name, res.Diff)
			}
		}
	})
}
