package api

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"time"
)

// Field describes one input field of a procedure, for `gitopstui procedures`
// and for the forms the UI builds.
type Field struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Doc      string   `json:"doc,omitempty"`
	Enum     []string `json:"enum,omitempty"`
	Fields   []Field  `json:"fields,omitempty"`
}

// Enum is implemented by the contract's enum types: the decoder accepts only
// these values, and listings and forms show them.
type Enum interface {
	Values() []string
}

var enumType = reflect.TypeFor[Enum]()

// EnumValues returns the values of t when it is an enum type (nil otherwise).
func EnumValues(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(enumType) {
		return reflect.Zero(t).Interface().(Enum).Values()
	}
	return nil
}

// JSONName returns the JSON name of a struct field, and false for fields
// JSON skips.
func JSONName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("json")
	if tag == "-" || !f.IsExported() {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, true
}

// Describe lists the input fields of struct type t (embedded structs
// flattened), with their types, required flags, docs and enum values.
func Describe(t reflect.Type) []Field {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []Field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
			out = append(out, Describe(f.Type)...)
			continue
		}
		name, ok := JSONName(f)
		if !ok {
			continue
		}
		fd := Field{Name: name, Type: typeName(f.Type), Required: f.Tag.Get("required") == "true", Doc: f.Tag.Get("doc"),
			Enum: EnumValues(f.Type)}
		if fd.Enum == nil && f.Type.Kind() == reflect.Slice {
			fd.Enum = EnumValues(f.Type.Elem()) // a list of enum values
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
			fd.Fields = Describe(ft)
		}
		out = append(out, fd)
	}
	return out
}

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[json.RawMessage]():
		return "any"
	case t == reflect.TypeFor[time.Time]():
		return "time"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Slice:
		return "[]" + typeName(t.Elem())
	case reflect.Map:
		return "map[string]" + typeName(t.Elem())
	case reflect.Struct:
		return "object"
	}
	return t.String()
}

// WriteProcedures prints procedures and their input fields as text, required
// fields first, for `gitopstui procedures` and the SSH `procedures` command.
func WriteProcedures(w io.Writer, procs []Info) {
	for _, p := range procs {
		fmt.Fprintf(w, "%-36s %-8s %s\n", p.Name, p.Role, p.Description)
		writeFields(w, p.Fields, "    ")
	}
}

func writeFields(w io.Writer, fields []Field, indent string) {
	fields = append([]Field(nil), fields...)
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Required && !fields[j].Required })
	for _, f := range fields {
		req := ""
		if f.Required {
			req = " (required)"
		}
		enum := ""
		if len(f.Enum) > 0 {
			enum = " [" + strings.Join(f.Enum, "|") + "]"
		}
		fmt.Fprintf(w, "%s%s: %s%s%s  %s\n", indent, f.Name, f.Type, req, enum, f.Doc)
		writeFields(w, f.Fields, indent+"  ")
	}
}
