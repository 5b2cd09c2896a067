package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/store"
)

type secretInput struct {
	Name string            `json:"name" required:"true"`
	URL  string            `json:"url,omitempty"`
	YAML string            `json:"yaml,omitempty" audit:"digest"`
	Env  map[string]string `json:"env,omitempty" audit:"digest"`
}

var (
	secretProc = api.Proc[secretInput, string]{Name: "test.secret", Role: model.RoleOperator, Mutation: true}
	panicProc  = api.Proc[secretInput, string]{Name: "test.panic", Role: model.RoleViewer, Mutation: true}
)

// testGate is a registry over a real bbolt file, logging into logs.
func testGate(t *testing.T, keep Retention, clock func() time.Time) (*Registry, *store.DB, *bytes.Buffer, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	r := New(NewAudit(db, clock, log, keep), log, nil)
	Bind(r, secretProc, func(_ context.Context, in secretInput) (string, error) {
		if in.Name == "refuse" {
			return "", model.Errorf(model.CodeBadRequest, "cannot clone %s", in.URL)
		}
		return "ok", nil
	})
	Bind(r, panicProc, func(context.Context, secretInput) (string, error) { panic("boom") })
	return r, db, &logs, filepath.Join(dir, store.FileName)
}

func auditEntries(t *testing.T, db *store.DB) []model.AuditEntry {
	t.Helper()
	var out []model.AuditEntry
	if err := db.View(func(tx *store.Tx) error {
		var err error
		out, _, err = store.Audit.List(tx, store.Query[model.AuditEntry]{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAuditKeepsNoSecret(t *testing.T) {
	r, db, _, file := testGate(t, Retention{}, time.Now)
	op := model.WithActor(context.Background(), model.Actor{User: "bob", Role: model.RoleOperator, Source: "test"})
	viewer := model.WithActor(context.Background(), model.Actor{User: "eve", Role: model.RoleViewer, Source: "test"})
	planted := []string{"TOKEN-planted-1", "yaml-planted-2", "env-planted-3", "viewer-planted-4", "baddecode-planted-5"}
	in := `{"name":"x","url":"https://u:TOKEN-planted-1@git.example.com/x.git","yaml":"stringData: {p: yaml-planted-2}","env":{"API_KEY":"env-planted-3"}}`
	if _, err := r.Call(op, "test.secret", []byte(in)); err != nil {
		t.Fatal(err)
	}
	refused := `{"name":"refuse","url":"https://u:TOKEN-planted-1@git.example.com/x.git"}`
	if _, err := r.Call(op, "test.secret", []byte(refused)); model.CodeOf(err) != model.CodeBadRequest {
		t.Fatalf("refuse: %v", err)
	}
	if _, err := r.Call(viewer, "test.secret", []byte(`{"name":"viewer-planted-4"}`)); model.CodeOf(err) != model.CodeInsufficientPermission {
		t.Fatalf("viewer: %v", err)
	}
	if _, err := r.Call(op, "test.secret", []byte(`{"name":"x","bogus":"baddecode-planted-5"}`)); model.CodeOf(err) != model.CodeBadRequest {
		t.Fatalf("bad decode: %v", err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	entries := auditEntries(t, db)
	all, _ := json.Marshal(entries)
	for _, p := range planted {
		if bytes.Contains(raw, []byte(p)) || bytes.Contains(all, []byte(p)) {
			t.Errorf("%s reached the store", p)
		}
	}
	if len(entries) != 4 {
		t.Fatalf("%d audit entries, want 4 (refused calls are audited)", len(entries))
	}
	first := string(entries[0].Input)
	if !strings.Contains(first, `"url":"https://git.example.com/x.git"`) || !strings.Contains(first, `"API_KEY":{"sha256":`) || !strings.Contains(first, `"yaml":{"sha256":`) {
		t.Fatalf("redacted input lost its shape: %s", first)
	}
	if entries[1].Code != model.CodeBadRequest || !strings.Contains(entries[1].Message, "https://git.example.com/x.git") {
		t.Fatalf("refused entry: %+v", entries[1])
	}
	if !strings.Contains(string(entries[2].Input), `"undecoded":{"sha256":`) || entries[2].Actor != "eve" {
		t.Fatalf("a refused role keeps only a digest: %+v", entries[2])
	}
}

func TestOversizedInputIsRefusedBeforeAnythingIsStored(t *testing.T) {
	r, db, _, file := testGate(t, Retention{}, time.Now)
	viewer := model.WithActor(context.Background(), model.Actor{User: "eve", Role: model.RoleViewer})
	big := `{"name":"` + strings.Repeat("A", api.MaxInputBytes) + `"}`
	for range 3 {
		if _, err := r.Call(viewer, "test.secret", []byte(big)); err == nil {
			t.Fatal("oversized input accepted")
		}
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 1<<20 {
		t.Fatalf("three refused %d-byte calls grew the store to %d bytes", len(big), fi.Size())
	}
	for _, e := range auditEntries(t, db) {
		if len(e.Input) > 200 {
			t.Fatalf("audit kept %d bytes of a refused input", len(e.Input))
		}
	}
}

func TestCallWithoutActorIsRefused(t *testing.T) {
	r, db, _, _ := testGate(t, Retention{}, time.Now)
	if _, err := r.Call(context.Background(), "test.secret", []byte(`{"name":"x"}`)); model.CodeOf(err) != model.CodeInsufficientPermission {
		t.Fatalf("no actor: %v", err)
	}
	if es := auditEntries(t, db); len(es) != 1 || es[0].Code != model.CodeInsufficientPermission {
		t.Fatalf("the refusal is not audited: %+v", es)
	}
}

func TestPanicBecomesInternalAndIsLogged(t *testing.T) {
	r, _, logs, _ := testGate(t, Retention{}, time.Now)
	ctx := model.WithActor(context.Background(), model.Actor{User: "eve", Role: model.RoleViewer})
	_, err := r.Call(ctx, "test.panic", []byte(`{"name":"x"}`))
	if model.CodeOf(err) != model.CodeInternal {
		t.Fatalf("panic: %v", err)
	}
	if !strings.Contains(logs.String(), "procedure panicked") || !strings.Contains(logs.String(), "boom") {
		t.Fatalf("panic not logged: %s", logs.String())
	}
	if _, err := r.Call(ctx, "test.panic", []byte(`{"name":"x"}`)); model.CodeOf(err) != model.CodeInternal {
		t.Fatal("the registry did not survive its first panic")
	}
}

func TestAuditRetention(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	r, db, _, _ := testGate(t, Retention{MaxEntries: 10, MaxAge: 48 * time.Hour}, clock)
	op := model.WithActor(context.Background(), model.Actor{User: "bob", Role: model.RoleOperator})
	for i := range 30 {
		now = now.Add(time.Minute)
		if _, err := r.Call(op, "test.secret", []byte(`{"name":"x"}`)); err != nil {
			t.Fatal(i, err)
		}
	}
	if err := r.audit.Prune(); err != nil {
		t.Fatal(err)
	}
	if n := len(auditEntries(t, db)); n != 10 {
		t.Fatalf("%d entries kept, want the newest 10", n)
	}
	now = now.Add(72 * time.Hour)
	if err := r.audit.Prune(); err != nil {
		t.Fatal(err)
	}
	if n := len(auditEntries(t, db)); n != 0 {
		t.Fatalf("%d entries older than the max age kept", n)
	}
}

func TestInvalidUTF8InputIsRefused(t *testing.T) {
	r, _, _, _ := testGate(t, Retention{}, time.Now)
	op := model.WithActor(context.Background(), model.Actor{User: "bob", Role: model.RoleOperator})
	_, err := r.Call(op, "test.secret", []byte("{\"name\":\"shop\xff\"}"))
	if e := model.AsError(err); e.Code != model.CodeBadRequest || !strings.Contains(e.Message, "UTF-8 at byte 13") {
		t.Fatalf("invalid UTF-8: %v", err)
	}
}
