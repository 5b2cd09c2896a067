// Package proctest owns the helpers that tests use to call procedures the
// way every front end does: JSON in through the registry, JSON out, errors
// round-tripped as {code, message, details}.
package proctest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// Caller runs a procedure: the contract's api.Caller (gate.Registry is one).
type Caller = api.Caller

// Timeout bounds one call.
const Timeout = 3 * time.Minute

// Call runs name with in as JSON input and decodes the result into out (when not nil).
func Call(t testing.TB, c Caller, name string, in, out any) error {
	t.Helper()
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(model.WithActor(context.Background(), model.LocalActor("test")), Timeout)
	defer cancel()
	res, err := c.Call(ctx, name, raw)
	if err != nil {
		return err
	}
	if out != nil {
		b, _ := json.Marshal(res)
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("decode %s result: %v", name, err)
		}
	}
	return nil
}

// MustCall is Call that fails the test on an error.
func MustCall(t testing.TB, c Caller, name string, in, out any) {
	t.Helper()
	if err := Call(t, c, name, in, out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// WantCode fails the test unless err has code, and returns the error as a
// front end sees it (through JSON).
func WantCode(t testing.TB, err error, code model.Code) *model.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s, got success", code)
	}
	e := model.AsError(err)
	if e.Code != code {
		t.Fatalf("want %s, got %s: %s", code, e.Code, e.Message)
	}
	b, _ := json.Marshal(e)
	var out model.Error
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}
