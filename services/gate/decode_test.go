package gate_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/gate"
)

type decInner struct {
	A string `json:"a" required:"true"`
	N int    `json:"n,omitempty"`
}

type decEmbedded struct {
	Extra string `json:"extra,omitempty"`
}

type decInput struct {
	Name   string            `json:"name" required:"true"`
	Count  int32             `json:"count,omitempty"`
	Ratio  float64           `json:"ratio,omitempty"`
	On     *bool             `json:"on,omitempty"`
	Tags   []string          `json:"tags,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	Inner  *decInner         `json:"inner,omitempty"`
	Items  []decInner        `json:"items,omitempty"`
	Raw    json.RawMessage   `json:"raw,omitempty"`
	When   time.Time         `json:"when,omitempty"`
	Skip   string            `json:"-"`
	decEmbedded
}

// Validate implements gate.Validator.
func (in *decInput) Validate(fe model.FieldErrors) {
	if in.Count > 10 {
		fe.Add("count", "must be at most 10")
	}
}

func TestDecodeInputAccepts(t *testing.T) {
	var in decInput
	err := gate.DecodeInput([]byte(`{
		"name":"web","count":3,"ratio":0.5,"on":false,"tags":["a","b"],"labels":{"k":"v"},
		"inner":{"a":"x","n":2},"items":[{"a":"1"},{"a":"2","n":5}],"raw":{"any":[1,"json",null]},
		"when":"2025-01-02T03:04:05Z","extra":"embedded"}`), &in)
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "web" || in.Count != 3 || in.Ratio != 0.5 || in.On == nil || *in.On || len(in.Tags) != 2 ||
		in.Labels["k"] != "v" || in.Inner == nil || in.Inner.N != 2 || len(in.Items) != 2 || in.Items[1].N != 5 ||
		string(in.Raw) != `{"any":[1,"json",null]}` || !in.When.Equal(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) || in.Extra != "embedded" {
		t.Fatalf("decoded %+v", in)
	}
	// null for optional values leaves them unset.
	in = decInput{}
	if err := gate.DecodeInput([]byte(`{"name":"x","on":null,"inner":null,"items":null,"tags":null}`), &in); err != nil {
		t.Fatal(err)
	}
	if in.On != nil || in.Inner != nil || in.Items != nil || in.Tags != nil {
		t.Fatalf("nulls decoded as %+v", in)
	}
}

func TestDecodeInputRejects(t *testing.T) {
	deep := strings.Repeat(`{"inner":`, 20000) + "{}" + strings.Repeat("}", 20000)
	for _, tc := range []struct {
		name   string
		input  string
		fields []string // nil: no details.fields expected
	}{
		{"empty", ``, []string{"name"}},
		{"whitespace", " \n\t", []string{"name"}},
		{"null", `null`, []string{"name"}},
		{"empty object", `{}`, []string{"name"}},
		{"name null", `{"name":null}`, []string{"name"}},
		{"invalid JSON", `{"name":"x",}`, nil},
		{"truncated", `{"name":`, nil},
		{"trailing data", `{"name":"x"} {}`, nil},
		{"too deep", deep, nil},
		{"array", `[{"name":"x"}]`, []string{"(input)"}},
		{"string", `"x"`, []string{"(input)"}},
		{"number", `12`, []string{"(input)"}},
		{"unknown field", `{"name":"x","nmae":"y"}`, []string{"nmae"}},
		{"json:\"-\" field is unknown", `{"name":"x","Skip":"y"}`, []string{"Skip"}},
		{"Go field name is unknown", `{"Name":"x"}`, []string{"Name", "name"}},
		{"unknown nested", `{"name":"x","inner":{"a":"1","b":2}}`, []string{"inner.b"}},
		{"unknown in array item", `{"name":"x","items":[{"a":"1"},{"a":"2","zzz":1}]}`, []string{"items[1].zzz"}},
		{"string for int", `{"name":"x","count":"3"}`, []string{"count"}},
		{"fraction for int", `{"name":"x","count":1.5}`, []string{"count"}},
		{"int32 overflow", `{"name":"x","count":4294967296}`, []string{"count"}},
		{"float overflow", `{"name":"x","ratio":1e400}`, []string{"ratio"}},
		{"string for bool", `{"name":"x","on":"true"}`, []string{"on"}},
		{"number for string", `{"name":1}`, []string{"name"}},
		{"object for string", `{"name":{"a":1}}`, []string{"name"}},
		{"string for array", `{"name":"x","tags":"a"}`, []string{"tags"}},
		{"string for object", `{"name":"x","inner":"a"}`, []string{"inner"}},
		{"object for array of objects", `{"name":"x","items":{"a":"1"}}`, []string{"items"}},
		{"scalar in array of objects", `{"name":"x","items":[1]}`, []string{"items[0]"}},
		{"bad time", `{"name":"x","when":"yesterday"}`, []string{"when"}},
		{"nested required", `{"name":"x","inner":{"n":1}}`, []string{"inner.a"}},
		{"required in array item", `{"name":"x","items":[{"a":"1"},{"n":1}]}`, []string{"items[1].a"}},
		{"validator", `{"name":"x","count":11}`, []string{"count"}},
		{"all problems at once", `{"count":11,"bogus":true,"inner":{"a":5},"ratio":"x"}`, []string{"name", "count", "bogus", "inner.a", "ratio"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in decInput
			err := gate.DecodeInput([]byte(tc.input), &in)
			if err == nil {
				t.Fatalf("accepted %q as %+v", tc.input, in)
			}
			me := wantError(t, err, model.CodeBadRequest, tc.fields...)
			if tc.fields == nil {
				if _, has := me.Details["fields"]; has {
					t.Fatalf("syntax error with field details: %v", me.Details)
				}
				if !strings.Contains(me.Message, "JSON") {
					t.Fatalf("message does not say the input is not JSON: %s", me.Message)
				}
			}
			for _, f := range tc.fields {
				if !strings.Contains(me.Message, f) {
					t.Fatalf("message %q does not name %s", me.Message, f)
				}
			}
		})
	}
	// A syntax error says where.
	err := gate.DecodeInput([]byte(`{"name": x}`), &decInput{})
	me := wantError(t, err, model.CodeBadRequest)
	if me.Details["offset"] == nil {
		t.Fatalf("syntax error without offset: %v", me.Details)
	}
}

// TestDecodeInputWrongTypeMessage checks the message a script author reads.
func TestDecodeInputWrongTypeMessage(t *testing.T) {
	err := gate.DecodeInput([]byte(`{"name":"x","count":"three"}`), &decInput{})
	me := wantError(t, err, model.CodeBadRequest, "count")
	got := me.Details["fields"].(map[string]any)["count"].(string)
	if !strings.Contains(got, "must be an integer") || !strings.Contains(got, "string") {
		t.Fatalf("count: %q", got)
	}
	err = gate.DecodeInput([]byte(`{"name":"x","inner":[]}`), &decInput{})
	me = wantError(t, err, model.CodeBadRequest, "inner")
	if got := me.Details["fields"].(map[string]any)["inner"].(string); got != "must be an object, got an array" {
		t.Fatalf("inner: %q", got)
	}
}
