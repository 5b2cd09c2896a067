package deploy

import (
	"strings"
	"testing"
)

func TestMerge3(t *testing.T) {
	const base = "a: 1\nimage: web:2\nreplicas: 2\nz: 9\n"
	cases := []struct {
		name         string
		ours, theirs string
		want         string // "!field" = a conflict on field
	}{
		{"upstream elsewhere", "a: 1\nimage: web:1\nreplicas: 2\nz: 9\n", "a: 1\nimage: web:2\nreplicas: 2\nz: 10\n", "a: 1\nimage: web:1\nreplicas: 2\nz: 10\n"},
		{"adjacent line", "a: 1\nimage: web:1\nreplicas: 2\nz: 9\n", "a: 1\nimage: web:2\nreplicas: 5\nz: 9\n", "a: 1\nimage: web:1\nreplicas: 5\nz: 9\n"},
		{"same line", "a: 1\nimage: web:1\nreplicas: 2\nz: 9\n", "a: 1\nimage: web:3\nreplicas: 2\nz: 9\n", "!image"},
		{"already undone", "a: 1\nimage: web:1\nreplicas: 2\nz: 9\n", "a: 1\nimage: web:1\nreplicas: 2\nz: 9\n", "a: 1\nimage: web:1\nreplicas: 2\nz: 9\n"},
		{"undone and more appended", "a: 1\nimage: web:2\nreplicas: 2\nz: 1\n", "a: 1\nimage: web:2\nreplicas: 2\nz: 1\nq: 3\n", "a: 1\nimage: web:2\nreplicas: 2\nz: 1\nq: 3\n"},
		{"removed line changed upstream", "a: 1\nimage: web:2\nz: 9\n", "a: 1\nimage: web:2\nreplicas: 4\nz: 9\n", "!replicas"},
	}
	for _, c := range cases {
		got, cs := merge3("f.yaml", []byte(base), []byte(c.ours), []byte(c.theirs))
		if field, ok := strings.CutPrefix(c.want, "!"); ok {
			if len(cs) != 1 || cs[0].Field != field || cs[0].Path != "f.yaml" {
				t.Errorf("%s: conflicts %+v, merged %q; want one on %s", c.name, cs, got, field)
			}
			continue
		}
		if len(cs) != 0 || string(got) != c.want {
			t.Errorf("%s: merged %q conflicts %+v, want %q", c.name, got, cs, c.want)
		}
	}
}
