package sshserver

import (
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gitopstui/gitopstui/model"
)

// TestExecOutputFormatsOverOpenSSH: `procedure --output yaml|json NAME`
// through the OpenSSH client writes the result in that format; errors stay
// JSON on stderr; a bad or missing --output value is a usage error (exit 2).
func TestExecOutputFormatsOverOpenSSH(t *testing.T) {
	admin := newKey(t)
	h := newHarness(t, admin.line("role=admin", "alice"))
	keyPath := filepath.Join(t.TempDir(), "admin")
	admin.writeOpenSSH(t, keyPath)
	ssh := func(cmd string) result { return h.openSSH(t, "-i", keyPath, cmd) }

	r := ssh(`procedure --output yaml projects.create '{"id":"web","name":"Web Shop"}'`)
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "\nid: web\n") || !strings.Contains(r.stdout, "\nname: Web Shop\n") ||
		strings.HasPrefix(r.stdout, "{") {
		t.Fatalf("create as YAML: exit %d\nstdout:\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	var p model.Project
	if err := yaml.UnmarshalStrict([]byte(r.stdout), &p); err != nil || p.ID != "web" || p.Name != "Web Shop" {
		t.Errorf("YAML result %+v: %v", p, err)
	}
	r = ssh(`procedure --output=yaml projects.list`)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "- createdAt: ") || !strings.Contains(r.stdout, "\n  id: web\n") {
		t.Errorf("list as YAML: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// --output json is the default's bytes.
	def, explicit := ssh(`procedure projects.get '{"id":"web"}'`), ssh(`procedure --output json projects.get '{"id":"web"}'`)
	if def.code != 0 || explicit.code != 0 || def.stdout != explicit.stdout || !strings.HasPrefix(def.stdout, "{\n  \"") {
		t.Errorf("--output json: exit %d %q, default: exit %d %q", explicit.code, explicit.stdout, def.code, def.stdout)
	}

	// Errors are JSON on stderr whatever the format.
	r = ssh(`procedure --output yaml projects.get '{"id":"nope"}'`)
	if r.code != 1 || r.stdout != "" || errorOf(t, r.stderr).Code != model.CodeNotFound {
		t.Errorf("error with --output yaml: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}

	for cmd, want := range map[string]string{
		`procedure --output xml projects.list`: `--output must be json or yaml, not "xml"`,
		`procedure --output=XML projects.list`: `--output must be json or yaml, not "XML"`,
		`procedure --output`:                   `--output must be json or yaml, not ""`,
		`procedure --verbose projects.list`:    `unknown flag "--verbose"`,
		`procedure --output yaml`:              "procedure needs a NAME",
	} {
		r := ssh(cmd)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "--output json|yaml") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 saying %s and the usage", cmd, r.code, r.stdout, r.stderr, want)
		}
	}
}
