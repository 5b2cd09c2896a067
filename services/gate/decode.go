package gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

var rawMessageType = reflect.TypeOf(json.RawMessage{})

// DecodeInput decodes JSON into a procedure input strictly, in the spirit of
// zod: every unknown field and every value of the wrong type is named in one
// BAD_REQUEST, then required fields and the input's Validate rules are checked.
func DecodeInput(raw []byte, in any) error {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		trimmed = []byte("{}")
	}
	if !json.Valid(trimmed) {
		var probe any
		err := json.Unmarshal(trimmed, &probe)
		if se, ok := err.(*json.SyntaxError); ok {
			return model.Errorf(model.CodeBadRequest, "input is not valid JSON at byte %d: %v", se.Offset, err).WithDetail("offset", se.Offset)
		}
		return model.Errorf(model.CodeBadRequest, "input is not valid JSON: %v", err)
	}
	if !utf8.Valid(trimmed) {
		at := 0
		for at < len(trimmed) {
			r, n := utf8.DecodeRune(trimmed[at:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			at += n
		}
		return model.Errorf(model.CodeBadRequest, "input is not valid UTF-8 at byte %d", at).WithDetail("offset", at)
	}
	fe := model.FieldErrors{}
	decodeValue(trimmed, reflect.ValueOf(in).Elem(), "", fe)
	if _, bad := fe["(input)"]; bad {
		return fe.Err() // not an object: nothing else is worth a word
	}
	checkRequired(reflect.ValueOf(in).Elem(), "", fe)
	if v, ok := in.(Validator); ok {
		v.Validate(fe)
	}
	return fe.Err()
}

func fieldPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func describeJSON(raw []byte) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// decodeValue decodes raw into v, recording problems under path.
func decodeValue(raw []byte, v reflect.Value, path string, fe model.FieldErrors) {
	name := path
	if name == "" {
		name = "(input)"
	}
	t := v.Type()
	switch {
	case t == rawMessageType:
		v.SetBytes(append([]byte(nil), raw...))
		return
	case t.Kind() == reflect.Pointer:
		if bytes.Equal(raw, []byte("null")) {
			v.SetZero()
			return
		}
		p := reflect.New(t.Elem())
		decodeValue(raw, p.Elem(), path, fe)
		if _, bad := fe[name]; !bad {
			v.Set(p) // a value of the wrong kind stays absent, so rules on its insides keep quiet
		}
		return
	case t.Kind() == reflect.Struct && t.PkgPath() != "time":
		if raw[0] != '{' {
			fe.Add(name, "must be an object, got "+describeJSON(raw))
			return
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			fe.Add(name, err.Error())
			return
		}
		known := structFields(t)
		for key, val := range fields {
			idx, ok := known[key]
			if !ok {
				fe.Add(fieldPath(path, key), "unknown field")
				continue
			}
			decodeValue(val, v.FieldByIndex(idx), fieldPath(path, key), fe)
		}
		return
	case t.Kind() == reflect.Slice && (t.Elem().Kind() == reflect.Struct || api.EnumValues(t.Elem()) != nil):
		if bytes.Equal(raw, []byte("null")) {
			v.SetZero()
			return
		}
		var items []json.RawMessage
		if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
			fe.Add(name, "must be an array, got "+describeJSON(raw))
			return
		}
		s := reflect.MakeSlice(t, len(items), len(items))
		for i, it := range items {
			decodeValue(it, s.Index(i), path+"["+strconv.Itoa(i)+"]", fe)
		}
		v.Set(s)
		return
	}
	if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
		if te, ok := err.(*json.UnmarshalTypeError); ok {
			sub := name
			if te.Field != "" {
				sub = fieldPath(path, te.Field)
			}
			fe.Add(sub, fmt.Sprintf("must be %s, got %s", jsonTypeName(te.Type), te.Value))
			return
		}
		fe.Add(name, strings.TrimPrefix(err.Error(), "json: "))
		return
	}
	checkEnumValue(v, name, fe)
}

// checkEnumValue refuses a value of an enum type (api.Enum) that is not one
// of its values; the empty string is absent.
func checkEnumValue(v reflect.Value, name string, fe model.FieldErrors) {
	allowed := api.EnumValues(v.Type())
	if allowed == nil || v.Kind() != reflect.String || v.String() == "" {
		return
	}
	if !slices.Contains(allowed, v.String()) {
		fe.Add(name, fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), v.String()))
	}
}

// structFields maps JSON names to field indexes, including embedded structs.
func structFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
			for k, idx := range structFields(f.Type) {
				out[k] = append([]int{i}, idx...)
			}
			continue
		}
		if name, ok := api.JSONName(f); ok {
			out[name] = []int{i}
		}
	}
	return out
}
