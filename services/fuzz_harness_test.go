package services_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gate"
	"github.com/gitopstui/gitopstui/store"
)

// fuzzHarness is the real registry over a real bbolt store with the
// fixtures of fuzzFixtures; its cluster's kubeconfig does not exist, so a
// call that needs the cluster ends at K3S_NOT_READY.
type fuzzHarness struct {
	db  *store.DB
	reg *gate.Registry
	ctx context.Context
}

func newFuzzHarness(f *testing.F) *fuzzHarness {
	f.Helper()
	dir := f.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = db.Close() })
	// Thousands of calls a second: skip bbolt's fsync (the file and its
	// transactions are otherwise the real ones).
	db.Bolt().NoSync = true
	fuzzFixtures(f, db)
	svc := services.New(services.Config{DataDir: dir, DB: db})
	return &fuzzHarness{db: db, reg: svc.Registry(),
		ctx: model.WithActor(context.Background(), model.Actor{User: "fuzz", Role: model.RoleAdmin, Source: "test"})}
}

// call runs procedure name with input and checks the invariants every
// outcome keeps (checkCallOutcome) and that the store is still readable.
func (h *fuzzHarness) call(t *testing.T, name string, input []byte) (any, *model.Error) {
	t.Helper()
	p, ok := h.reg.Lookup(name)
	if !ok {
		t.Fatalf("procedure %s is not registered", name)
	}
	res, err := h.reg.Call(h.ctx, name, input)
	me := checkCallOutcome(t, p, input, res, err)
	checkStoreReadable(t, h.db)
	return res, me
}

// checkCallOutcome asserts what holds whatever the input: success with a
// result that encodes as JSON, or a *model.Error with a known code and a
// message, never INTERNAL. Input the decoder refuses is refused with exactly
// the decoder's BAD_REQUEST; every BAD_REQUEST names the fields of the input
// it is about (details.fields, each rooted at an input field or "(input)"),
// or where the input stops being JSON (details.offset), or, from a handler,
// names an input field or value in its message or says what it found in
// details.
func checkCallOutcome(t *testing.T, p api.Info, input []byte, res any, err error) *model.Error {
	t.Helper()
	decodeErr := gate.DecodeInput(input, reflect.New(p.Input).Interface())
	if err == nil {
		if _, merr := json.Marshal(res); merr != nil {
			t.Fatalf("%s %q: result does not encode: %v", p.Name, short(input), merr)
		}
		if decodeErr != nil {
			t.Fatalf("%s accepted %q, which the decoder refuses: %v", p.Name, short(input), decodeErr)
		}
		return nil
	}
	var me *model.Error
	if !errors.As(err, &me) {
		t.Fatalf("%s %q: untyped error %T: %v", p.Name, short(input), err, err)
	}
	if !knownCodes[me.Code] || me.Message == "" {
		t.Fatalf("%s %q: error without a known code and a message: %#v", p.Name, short(input), me)
	}
	if me.Code == model.CodeInternal {
		t.Fatalf("%s %q: INTERNAL for a caller's input: %s", p.Name, short(input), me.Message)
	}
	if _, merr := json.Marshal(me); merr != nil {
		t.Fatalf("%s %q: error does not encode: %v", p.Name, short(input), merr)
	}
	if decodeErr != nil {
		want := model.AsError(decodeErr)
		if me.Code != want.Code || !reflect.DeepEqual(catalogErrFields(me), catalogErrFields(want)) {
			t.Fatalf("%s %q: %v, want the decoder's %v", p.Name, short(input), me, want)
		}
	}
	if me.Code == model.CodeBadRequest {
		if why := badRequestUnnamed(p, input, me); why != "" {
			t.Fatalf("%s %q: BAD_REQUEST %q %s (details %v)", p.Name, short(input), me.Message, why, me.Details)
		}
	}
	return me
}

// badRequestUnnamed says how a BAD_REQUEST fails to name what in the input
// it is about ("" when it names it).
func badRequestUnnamed(p api.Info, input []byte, me *model.Error) string {
	if fields, ok := me.Details["fields"].(map[string]any); ok && len(fields) > 0 {
		for path := range fields {
			if !isInputFieldPath(p, path) {
				return "names " + path + ", which is not a field of the input"
			}
		}
		return ""
	}
	if _, ok := me.Details["offset"]; ok {
		return ""
	}
	// A handler's refusal of input that decoded may be about the input as a
	// whole ("nothing to deploy: ... already has these values"): it then
	// carries what it found (details) or names a field or value.
	if len(me.Details) > 0 && gate.DecodeInput(input, reflect.New(p.Input).Interface()) == nil {
		return ""
	}
	for _, f := range p.Fields {
		if strings.Contains(me.Message, f.Name) {
			return ""
		}
	}
	var obj map[string]any
	if json.Unmarshal(input, &obj) == nil {
		for _, v := range obj {
			if s, ok := v.(string); ok && len(s) >= 3 && strings.Contains(me.Message, s) {
				return ""
			}
		}
	}
	return "names no field of the input"
}

// isInputFieldPath: path ("config.gitBranch", "healthChecks[0].kind",
// "(input)") starts at one of p's input fields.
func isInputFieldPath(p api.Info, path string) bool {
	if path == "(input)" {
		return true
	}
	root := path
	if i := strings.IndexAny(root, ".["); i >= 0 {
		root = root[:i]
	}
	for _, f := range p.Fields {
		if f.Name == root {
			return true
		}
	}
	return false
}

// checkStoreReadable reads every record of the catalog's collections
// through each one's full index, and the newest audit entries: the store
// decodes, and the index and the records agree.
func checkStoreReadable(t *testing.T, db *store.DB) {
	t.Helper()
	err := db.View(func(tx *store.Tx) error {
		_, _, auditErr := store.Audit.List(tx, store.Query[model.AuditEntry]{Newest: true, Limit: 20})
		return errors.Join(
			listAll(tx, store.Clusters), listAll(tx, store.Projects), listAll(tx, store.Environments),
			listAll(tx, store.Repositories), listAll(tx, store.Resources), listAll(tx, store.Deployments), auditErr,
		)
	})
	if err != nil {
		t.Fatalf("store no longer readable: %v", err)
	}
}

func listAll[T any](tx *store.Tx, c *store.Collection[T]) error {
	all, _, err := c.List(tx, store.Query[T]{})
	if err != nil {
		return err
	}
	n, err := c.Count(tx, "", "")
	if err != nil {
		return err
	}
	if n != len(all) {
		return errors.New("index and records disagree: " + strings.Join(c.Buckets(), ","))
	}
	return nil
}
