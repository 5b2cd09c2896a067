package procio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

func TestReadInputSources(t *testing.T) {
	file := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(file, []byte(`{"from":"file"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		arg, stdin string
		files      bool
		want       string
	}{
		{"", "ignored", true, "{}"},
		{`{"a":1}`, "", true, `{"a":1}`},
		{"-", `{"from":"stdin"}`, true, `{"from":"stdin"}`},
		{"-", "", false, ""},
		{"@" + file, "", true, `{"from":"file"}`},
		// Not JSON is passed on as it is: the registry names the problem.
		{"not json", "", false, "not json"},
	}
	for _, c := range cases {
		got, err := ReadInput(c.arg, strings.NewReader(c.stdin), c.files)
		if err != nil || string(got) != c.want {
			t.Errorf("ReadInput(%q, files=%v) = %q, %v; want %q", c.arg, c.files, got, err, c.want)
		}
	}
}

func TestReadInputFileErrors(t *testing.T) {
	// A remote front end never reads the server's files.
	_, err := ReadInput("@/etc/passwd", strings.NewReader(""), false)
	if err == nil || err.Error() != "the server cannot read your files; send the file on stdin: ssh HOST procedure NAME - < /etc/passwd" {
		t.Errorf("@file refused: %v", err)
	}
	_, err = ReadInput("@"+filepath.Join(t.TempDir(), "missing.json"), strings.NewReader(""), true)
	if err == nil || !strings.HasPrefix(err.Error(), "read input file: ") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// endless is an infinite stream of spaces that counts what was read.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestReadInputIsBounded(t *testing.T) {
	src := &endless{}
	got, err := ReadInput("-", src, true)
	if err != nil {
		t.Fatal(err)
	}
	// One byte past the limit, so that the registry reports the input as too big.
	if len(got) != api.MaxInputBytes+1 {
		t.Errorf("read %d bytes from an endless stdin, want %d", len(got), api.MaxInputBytes+1)
	}
	if src.n > 2*api.MaxInputBytes {
		t.Errorf("consumed %d bytes of stdin", src.n)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if got, err := ReadInput("@/dev/zero", nil, true); err != nil || len(got) != api.MaxInputBytes+1 {
			t.Errorf("@/dev/zero: %d bytes, %v", len(got), err)
		}
	}
	// The registry turns the extra byte into BAD_REQUEST.
	_, _, reg := registry(t)
	var stdout, stderr bytes.Buffer
	if code := Run(model.WithActor(context.Background(), model.LocalActor("test")), reg, "projects.list", got, JSON, &stdout, &stderr); code != ExitError ||
		!strings.Contains(stderr.String(), "over the 8388608 byte limit") || stdout.Len() != 0 {
		t.Errorf("oversized input: exit %d, stdout %q, stderr %s", code, stdout.String(), stderr.String())
	}
}

func TestParseFormat(t *testing.T) {
	for _, ok := range []string{"json", "yaml"} {
		if f, err := ParseFormat(ok); err != nil || string(f) != ok {
			t.Errorf("ParseFormat(%q) = %q, %v", ok, f, err)
		}
	}
	for _, bad := range []string{"xml", "", "JSON", "yml"} {
		_, err := ParseFormat(bad)
		if err == nil || !strings.Contains(err.Error(), "--output must be json or yaml, not ") {
			t.Errorf("ParseFormat(%q): %v, want a usage error", bad, err)
		}
	}
}

func TestWriteResultFormats(t *testing.T) {
	v := map[string]any{"name": "Web Shop", "envs": []string{"dev", "prod"}, "count": 2, "empty": []string{}}
	var b bytes.Buffer
	if err := WriteResult(&b, JSON, v); err != nil {
		t.Fatal(err)
	}
	wantJSON := "{\n  \"count\": 2,\n  \"empty\": [],\n  \"envs\": [\n    \"dev\",\n    \"prod\"\n  ],\n  \"name\": \"Web Shop\"\n}\n"
	if b.String() != wantJSON {
		t.Errorf("JSON = %q, want %q", b.String(), wantJSON)
	}
	b.Reset()
	if err := WriteResult(&b, YAML, v); err != nil {
		t.Fatal(err)
	}
	wantYAML := "count: 2\nempty: []\nenvs:\n- dev\n- prod\nname: Web Shop\n"
	if b.String() != wantYAML {
		t.Errorf("YAML = %q, want %q", b.String(), wantYAML)
	}
	// Raw JSON (a forwarded result) is written like the value it encodes.
	b.Reset()
	if err := WriteResult(&b, JSON, json.RawMessage(`{"count":2,"empty":[],"envs":["dev","prod"],"name":"Web Shop"}`)); err != nil || b.String() != wantJSON {
		t.Errorf("raw JSON = %q, %v", b.String(), err)
	}
	if err := WriteResult(io.Discard, JSON, func() {}); model.CodeOf(err) != model.CodeInternal {
		t.Errorf("unencodable result: %v, want INTERNAL", err)
	}
	if err := WriteResult(io.Discard, Format("xml"), v); model.CodeOf(err) != model.CodeInternal {
		t.Errorf("unknown format: %v, want INTERNAL", err)
	}
}

func TestWriteErrorShape(t *testing.T) {
	var b bytes.Buffer
	code := WriteError(&b, model.NotFound("project", "p1"))
	want := "{\n  \"code\": \"NOT_FOUND\",\n  \"message\": \"project \\\"p1\\\" not found\",\n  \"details\": {\n    \"id\": \"p1\",\n    \"kind\": \"project\"\n  }\n}\n"
	if code != ExitError || b.String() != want {
		t.Errorf("WriteError = %d %q, want 1 %q", code, b.String(), want)
	}
	// An untyped error is INTERNAL, without details.
	b.Reset()
	WriteError(&b, errors.New("disk on fire"))
	if b.String() != "{\n  \"code\": \"INTERNAL\",\n  \"message\": \"disk on fire\"\n}\n" {
		t.Errorf("untyped error = %q", b.String())
	}
}

func TestRunExitCodesAndStreams(t *testing.T) {
	_, db, reg := registry(t)
	ctx := model.WithActor(context.Background(), model.Actor{User: "alice", Role: model.RoleAdmin, Source: "cli"})
	var stdout, stderr bytes.Buffer

	code := Run(ctx, reg, "projects.create", []byte(`{"id":"p1","name":"One"}`), JSON, &stdout, &stderr)
	var p model.Project
	if code != ExitOK || stderr.Len() != 0 || json.Unmarshal(stdout.Bytes(), &p) != nil || p.ID != "p1" {
		t.Fatalf("create: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	if code = Run(ctx, reg, "projects.get", []byte(`{"id":"p1"}`), YAML, &stdout, &stderr); code != ExitOK ||
		!strings.Contains(stdout.String(), "\nid: p1\n") || !strings.Contains(stdout.String(), "name: One\n") {
		t.Errorf("get as YAML: exit %d\n%s", code, stdout.String())
	}

	// Failures: error JSON on stderr, nothing on stdout, exit 1, whatever the format.
	for _, c := range []struct {
		name, input string
		want        model.Code
	}{
		{"projects.create", `{"name":`, model.CodeBadRequest},
		{"projects.get", `{"id":"nope"}`, model.CodeNotFound},
		{"no.such", `{}`, model.CodeNotFound},
	} {
		stdout.Reset()
		stderr.Reset()
		code := Run(ctx, reg, c.name, []byte(c.input), YAML, &stdout, &stderr)
		var e model.Error
		if code != ExitError || stdout.Len() != 0 || json.Unmarshal(stderr.Bytes(), &e) != nil || e.Code != c.want {
			t.Errorf("%s %s: exit %d, stdout %q, stderr %s; want exit 1 and %s", c.name, c.input, code, stdout.String(), stderr.String(), c.want)
		}
	}
	// The actor in ctx is the one the registry audits.
	entries := auditEntries(t, db)
	if !slices.ContainsFunc(entries, func(e model.AuditEntry) bool {
		return e.Actor == "alice" && e.Procedure == "projects.create" && e.Source == "cli" && e.Code == ""
	}) {
		t.Errorf("no audit entry of alice's projects.create: %+v", entries)
	}
}
