package gate_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"testing"

	"github.com/gitopstui/gitopstui/model"
)

// wantError checks that err is a typed *model.Error of code with a message;
// when fields are given, details.fields must name exactly those fields, in
// the error value and in the JSON a script receives.
func wantError(t testing.TB, err error, code model.Code, fields ...string) *model.Error {
	t.Helper()
	var me *model.Error
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T) is not a *model.Error", err, err)
	}
	if got := model.CodeOf(err); got != code {
		t.Fatalf("code = %s, want %s (error: %v, details %v)", got, code, err, me.Details)
	}
	if me.Message == "" {
		t.Fatalf("error %s has no message", code)
	}
	if len(fields) == 0 {
		return me
	}
	m, _ := me.Details["fields"].(map[string]any)
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	want := append([]string(nil), fields...)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("details.fields = %v, want %v (error: %v)", got, want, err)
	}
	// The wire shape scripts see: {code, message, details: {fields: {...}}}.
	raw, _ := json.Marshal(me)
	var wire struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details struct {
			Fields map[string]string `json:"fields"`
		} `json:"details"`
	}
	if err := json.Unmarshal(raw, &wire); err != nil || wire.Code != string(code) || len(wire.Details.Fields) != len(want) {
		t.Fatalf("error JSON %s does not carry code and details.fields (%v)", raw, err)
	}
	return me
}
