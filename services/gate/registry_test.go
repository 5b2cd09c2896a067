package gate_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gate"
	"github.com/gitopstui/gitopstui/store"
)

// noteIn and noteOut are the input and result of the test procedures.
type noteIn struct {
	Name string `json:"name" required:"true" doc:"the note's name"`
}

type noteOut struct {
	Name string `json:"name"`
}

var (
	readNote  = api.Proc[noteIn, noteOut]{Name: "notes.get", Role: model.RoleViewer, Description: "reads a note"}
	writeNote = api.Proc[noteIn, noteOut]{Name: "notes.write", Role: model.RoleOperator, Mutation: true, Description: "writes a note"}
)

// auditTime is the first reading of the registry's clock in these tests;
// each reading is one second later than the one before, so that the audit
// log lists entries in the order they were written.
var auditTime = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// gateFixture is a registry over a real bbolt store with notes.get and
// notes.write bound to handlers that count their runs; notes.write refuses
// the name "taken" with CONFLICT_DETECTED.
type gateFixture struct {
	db  *store.DB
	reg *gate.Registry

	mu    sync.Mutex
	runs  map[string]int
	next  time.Time
	notes []api.ChangeNote
}

// note is the registry's notifier: it keeps every change note.
func (f *gateFixture) note(n api.ChangeNote) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notes = append(f.notes, n)
}

// changeNotes returns the notes received so far.
func (f *gateFixture) changeNotes() []api.ChangeNote {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.notes)
}

func newGateFixture(t *testing.T) *gateFixture {
	t.Helper()
	db, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	f := &gateFixture{db: db, runs: map[string]int{}, next: auditTime}
	f.reg = gate.New(gate.NewAudit(db, f.now, slog.New(slog.DiscardHandler), gate.Retention{}), slog.New(slog.DiscardHandler), f.note)
	gate.Bind(f.reg, readNote, func(_ context.Context, in noteIn) (noteOut, error) {
		f.ran(readNote.Name)
		return noteOut{Name: in.Name}, nil
	})
	gate.Bind(f.reg, writeNote, func(_ context.Context, in noteIn) (noteOut, error) {
		f.ran(writeNote.Name)
		if in.Name == "taken" {
			return noteOut{}, model.Errorf(model.CodeConflictDetected, "note %s is taken", in.Name)
		}
		return noteOut{Name: in.Name}, nil
	})
	return f
}

func (f *gateFixture) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.next
	f.next = f.next.Add(time.Second)
	return t
}

func (f *gateFixture) ran(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs[name]++
}

// handlerRuns says how often the handler of name ran.
func (f *gateFixture) handlerRuns(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runs[name]
}

// audit returns the audit log, oldest first.
func (f *gateFixture) audit(t *testing.T) []model.AuditEntry {
	t.Helper()
	var out []model.AuditEntry
	err := f.db.View(func(tx *store.Tx) error {
		var err error
		out, _, err = store.Audit.List(tx, store.Query[model.AuditEntry]{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// onlyAuditEntry returns the one audit entry, failing when there is not exactly one.
func (f *gateFixture) onlyAuditEntry(t *testing.T) model.AuditEntry {
	t.Helper()
	log := f.audit(t)
	if len(log) != 1 {
		t.Fatalf("audit log has %d entries, want 1: %+v", len(log), log)
	}
	return log[0]
}

func as(user string, role model.Role) context.Context {
	return model.WithActor(context.Background(), model.Actor{User: user, Role: role, Source: "test"})
}

func TestBindTwicePanics(t *testing.T) {
	f := newGateFixture(t)
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("binding notes.get twice did not panic")
		}
		if !strings.Contains(fmt.Sprint(r), "notes.get") {
			t.Fatalf("panic %v does not name the procedure", r)
		}
	}()
	gate.Bind(f.reg, readNote, func(context.Context, noteIn) (noteOut, error) { return noteOut{}, nil })
}

func TestProceduresAndLookup(t *testing.T) {
	f := newGateFixture(t)
	var names []string
	for _, p := range f.reg.Procedures() {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"notes.get", "notes.write"}) {
		t.Fatalf("Procedures() = %v", names)
	}
	p, ok := f.reg.Lookup("notes.write")
	if !ok || p.Role != model.RoleOperator || !p.Mutation || p.Description != "writes a note" ||
		len(p.Fields) != 1 || p.Fields[0].Name != "name" || !p.Fields[0].Required {
		t.Fatalf("Lookup(notes.write) = %+v, %v", p, ok)
	}
	if _, ok := f.reg.Lookup("notes.nope"); ok {
		t.Fatal("Lookup found an unknown procedure")
	}
}

func TestCallUnknownProcedure(t *testing.T) {
	f := newGateFixture(t)
	for _, name := range []string{"notes.nope", "", "NOTES.GET"} {
		_, err := f.reg.Call(as("alice", model.RoleAdmin), name, []byte(`{"name":"a"}`))
		e := wantError(t, err, model.CodeNotFound)
		if !strings.Contains(e.Message, fmt.Sprintf("%q", name)) || e.Details["procedure"] != name {
			t.Fatalf("%q: %s %v does not name the procedure", name, e.Message, e.Details)
		}
	}
	if log := f.audit(t); len(log) != 0 {
		t.Fatalf("unknown procedures audited: %+v", log)
	}
}

// TestCallRunsTheHandler: a query runs unaudited; a mutation runs and is
// audited with the caller and its input, compacted.
func TestCallRunsTheHandler(t *testing.T) {
	f := newGateFixture(t)
	res, err := f.reg.Call(as("val", model.RoleViewer), "notes.get", []byte(`{"name":"a"}`))
	if err != nil || res != (noteOut{Name: "a"}) {
		t.Fatalf("notes.get = %#v, %v", res, err)
	}
	if log := f.audit(t); len(log) != 0 {
		t.Fatalf("a query was audited: %+v", log)
	}
	res, err = f.reg.Call(as("otto", model.RoleOperator), "notes.write", []byte(" {\n  \"name\" : \"b\"\n}\n"))
	if err != nil || res != (noteOut{Name: "b"}) {
		t.Fatalf("notes.write = %#v, %v", res, err)
	}
	e := f.onlyAuditEntry(t)
	if e.ID == "" || !e.Time.Equal(auditTime) || e.Actor != "otto" || e.Role != "operator" || e.Source != "test" ||
		e.Procedure != "notes.write" || string(e.Input) != `{"name":"b"}` || e.Code != "" || e.Message != "" {
		t.Fatalf("audit entry %+v (input %s)", e, e.Input)
	}
}

func TestViewerCallingMutationIsRefusedAndAudited(t *testing.T) {
	f := newGateFixture(t)
	_, err := f.reg.Call(as("val", model.RoleViewer), "notes.write", []byte(`{"name":"a"}`))
	me := wantError(t, err, model.CodeInsufficientPermission)
	if me.Details["procedure"] != "notes.write" || me.Details["required"] != "operator" || me.Details["role"] != "viewer" {
		t.Fatalf("details %v", me.Details)
	}
	if n := f.handlerRuns("notes.write"); n != 0 {
		t.Fatalf("the handler ran %d times for a refused caller", n)
	}
	e := f.onlyAuditEntry(t)
	if e.Actor != "val" || e.Role != "viewer" || e.Procedure != "notes.write" || e.Code != model.CodeInsufficientPermission ||
		e.Message != me.Message || !strings.HasPrefix(string(e.Input), `{"undecoded":{"sha256":`) || strings.Contains(string(e.Input), `"a"`) {
		t.Fatalf("audit entry %+v (input %s)", e, e.Input)
	}
}

func TestOversizedInputIsRefusedAndNotKept(t *testing.T) {
	f := newGateFixture(t)
	big := []byte(`{"name":"` + strings.Repeat("x", api.MaxInputBytes) + `"}`)
	_, err := f.reg.Call(as("otto", model.RoleOperator), "notes.write", big)
	me := wantError(t, err, model.CodeBadRequest)
	if !strings.Contains(me.Message, fmt.Sprint(api.MaxInputBytes)) {
		t.Fatalf("message does not name the limit: %s", me.Message)
	}
	if n := f.handlerRuns("notes.write"); n != 0 {
		t.Fatalf("the handler ran %d times for an oversized input", n)
	}
	e := f.onlyAuditEntry(t)
	if e.Procedure != "notes.write" || e.Code != model.CodeBadRequest || len(e.Input) != 0 {
		t.Fatalf("audit entry %+v keeps %d input bytes", e, len(e.Input))
	}
	// A query with an oversized input is refused the same way, unaudited.
	_, err = f.reg.Call(as("val", model.RoleViewer), "notes.get", big)
	wantError(t, err, model.CodeBadRequest)
	if n := f.handlerRuns("notes.get"); n != 0 || len(f.audit(t)) != 1 {
		t.Fatalf("oversized query: handler ran %d times, audit log %d entries", n, len(f.audit(t)))
	}
}

// TestRefusedInputAndHandlerErrorsAreAudited: a mutation whose input does
// not decode never reaches its handler; one whose handler fails keeps the
// handler's code and message; both are audited.
func TestRefusedInputAndHandlerErrorsAreAudited(t *testing.T) {
	f := newGateFixture(t)
	ctx := as("otto", model.RoleOperator)
	_, err := f.reg.Call(ctx, "notes.write", []byte(`{"nmae":"a"}`))
	wantError(t, err, model.CodeBadRequest, "nmae", "name")
	if n := f.handlerRuns("notes.write"); n != 0 {
		t.Fatalf("the handler ran %d times for an input that does not decode", n)
	}
	_, err = f.reg.Call(ctx, "notes.write", []byte(`{"name":"taken"}`))
	handlerErr := wantError(t, err, model.CodeConflictDetected)
	log := f.audit(t)
	if len(log) != 2 {
		t.Fatalf("audit log has %d entries, want 2: %+v", len(log), log)
	}
	// Input that did not decode is not trusted: only its digest is kept.
	if log[0].Code != model.CodeBadRequest || !strings.HasPrefix(string(log[0].Input), `{"undecoded":{"sha256":`) {
		t.Errorf("refused input audited as %+v (input %s)", log[0], log[0].Input)
	}
	if log[1].Code != model.CodeConflictDetected || log[1].Message != handlerErr.Message || string(log[1].Input) != `{"name":"taken"}` {
		t.Errorf("handler error audited as %+v (input %s)", log[1], log[1].Input)
	}
}
