package ui

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// Forms are generated from the contract's field declarations (api.Field):
// a text input per field, a box for booleans, the enum's values for enum
// fields, required fields marked. A screen shapes its form with a
// formSpec, then decodes the form into the procedure's typed input
// (formInput) and calls it with invoke: the input's own checks (its
// Validate method, the server's rules) run as you type.

// fieldOpt overrides one generated field.
type fieldOpt struct {
	label string
	// value is the initial text, choice, or "true"/"false" for a box. A
	// boolean or enum field with a value always sends one; without, it
	// offers "unset" unless it is required.
	value string
	hint  string
	// required makes an optional field required by this form.
	required bool
	// omitOff leaves an unticked box out of the input.
	omitOff bool
	// choices limits an enum field to these values, or turns a text field
	// into a choice.
	choices []string
	// check adds a problem of the text; parse turns the text into the
	// field's JSON value (e.g. "A=1, -B" into an env map).
	check func(string) string
	parse func(string) (any, error)
	// pick makes the field a picker of these records (value pre-selects
	// one); fields named projectId, environmentId, clusterId and
	// repositoryId are pickers without it.
	pick pickKind
}

// formSpec shapes a generated form.
type formSpec struct {
	// only lists the keys (dotted JSON paths) shown, in order; when empty
	// every declared field is shown in the declaration's order.
	only []string
	// hide lists keys not shown when only is empty.
	hide []string
	// strip is cut from the front of keys to make the default labels.
	strip string
	// requiredFirst puts the required fields first.
	requiredFirst bool
	fields        map[string]fieldOpt
	// idPick makes the field "id" a picker of these records (procedures
	// acting on an existing record).
	idPick pickKind
}

// idFields are the fields that name a record, and what they pick.
var idFields = map[string]pickKind{
	"projectId": pickProject, "environmentId": pickEnv, "clusterId": pickCluster, "repositoryId": pickRepo,
}

// pickOf is what the field at path picks ("" for a plain field).
func pickOf(l leaf, o fieldOpt, spec formSpec) pickKind {
	switch name := l.path[len(l.path)-1]; {
	case o.pick != "":
		return o.pick
	case l.f.Type != "string":
		return ""
	case len(l.path) == 1 && name == "id":
		return spec.idPick
	default:
		return idFields[name]
	}
}

// leaf is one field of an input with its dotted path; required says the
// field and every object holding it are required.
type leaf struct {
	path     []string
	f        api.Field
	required bool
}

func (l leaf) key() string { return strings.Join(l.path, ".") }

// leaves flattens the fields of objects into their leaves.
func leaves(prefix []string, fs []api.Field, required bool) []leaf {
	var out []leaf
	for _, f := range fs {
		p := append(append([]string(nil), prefix...), f.Name)
		if f.Type == "object" && len(f.Fields) > 0 {
			out = append(out, leaves(p, f.Fields, required && f.Required)...)
			continue
		}
		out = append(out, leaf{path: p, f: f, required: required && f.Required})
	}
	return out
}

// pick orders and filters the leaves by spec. A key of spec.only that the
// declaration lacks is a programming error caught by every test of the form.
func pick(all []leaf, spec formSpec) []leaf {
	if len(spec.only) > 0 {
		byKey := make(map[string]leaf, len(all))
		for _, l := range all {
			byKey[l.key()] = l
		}
		out := make([]leaf, 0, len(spec.only))
		for _, k := range spec.only {
			l, ok := byKey[k]
			if !ok {
				panic("form: the contract declares no field " + k)
			}
			out = append(out, l)
		}
		return out
	}
	out := make([]leaf, 0, len(all))
	for _, l := range all {
		hidden := false
		for _, h := range spec.hide {
			hidden = hidden || l.key() == h
		}
		if !hidden {
			out = append(out, l)
		}
	}
	if spec.requiredFirst {
		sort.SliceStable(out, func(i, j int) bool { return out[i].required && !out[j].required })
	}
	return out
}

// fieldsForm builds the form of the declared fields fs as spec shapes it.
func fieldsForm(fs []api.Field, spec formSpec) form {
	ls := pick(leaves(nil, fs, true), spec)
	fields := make([]field, 0, len(ls))
	for _, l := range ls {
		fields = append(fields, genField(l, spec))
	}
	return newForm(fields...)
}

// genField builds the field of one leaf.
func genField(l leaf, spec formSpec) field {
	k := l.key()
	o := spec.fields[k]
	fl := field{key: k, path: l.path, typ: l.f.Type, required: l.required || o.required, omitOff: o.omitOff,
		check: o.check, parse: o.parse}
	fl.label = o.label
	if fl.label == "" {
		fl.label = strings.TrimPrefix(k, spec.strip)
	}
	if fl.required {
		fl.label += "*"
	}
	choices := o.choices
	if len(choices) == 0 && !strings.HasPrefix(l.f.Type, "[]") {
		choices = l.f.Enum // a list of enum values is typed as a comma list
	}
	switch kind := pickOf(l, o, spec); {
	case kind != "":
		fl.kind, fl.pick = pickField, newPicker(kind, o.value)
		if !fl.required {
			fl.pick.none = cmp.Or(o.hint, "none")
		}
	case l.f.Type == "boolean" && (o.value != "" || fl.required):
		fl.kind, fl.on = boolField, o.value == "true"
	case l.f.Type == "boolean":
		fl.kind, fl.choices = choiceField, []string{unset, "true", "false"}
	case len(choices) > 0:
		fl.kind, fl.choices = choiceField, choices
		if o.value == "" && !fl.required {
			fl.choices = append([]string{unset}, choices...)
		}
		for i, c := range fl.choices {
			if c == o.value {
				fl.choice = i
			}
		}
	default:
		fl.kind = textField
		fl.input = newInput()
		fl.input.Prompt = ""
		fl.input.CharLimit = 4096
		fl.input.SetValue(o.value)
		fl.input.Placeholder = hint(o.hint)
		if o.hint == "" {
			fl.input.Placeholder = hint(l.f.Doc)
		}
	}
	return fl
}

// jsonValue converts the field's text to its JSON value.
func (fl *field) jsonValue(v string) (any, error) {
	if fl.parse != nil {
		return fl.parse(v)
	}
	return typedValue(fl.typ, v)
}

// object returns the form's values as the JSON object of the input:
// empty text, unset choices and unticked omitOff boxes are left out.
// Text that does not convert is recorded in fe.
func (f *form) object(fe model.FieldErrors) map[string]any {
	in := map[string]any{}
	for i := range f.fields {
		fl := &f.fields[i]
		if fl.path == nil {
			continue
		}
		v := fl.text()
		switch {
		case fl.kind == boolField:
			if fl.on || !fl.omitOff {
				setPath(in, fl.path, fl.on)
			}
		case v == "" || v == unset:
		case fl.kind == choiceField && fl.typ == "boolean":
			setPath(in, fl.path, v == "true")
		default:
			val, err := fl.jsonValue(v)
			if err != nil {
				fe.Add(fl.key, err.Error())
				continue
			}
			setPath(in, fl.path, val)
		}
	}
	return in
}

// validator is implemented by inputs with checks beyond types and
// required fields (the contract's Validate methods).
type validator interface{ Validate(fe model.FieldErrors) }

// decodeInto decodes the form's values into the input ptr points at as
// the server would, runs fill (what the screen knows), then the input's
// own checks. It returns the problems by field key.
func decodeInto(f *form, ptr any, fill func()) model.FieldErrors {
	fe := model.FieldErrors{}
	raw, err := json.Marshal(f.object(fe))
	if err != nil {
		fe.Add("", err.Error())
		return fe
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(ptr); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			fe.Add(te.Field, "does not fit "+te.Type.String())
		} else {
			fe.Add("", err.Error())
		}
	}
	if fill != nil {
		fill()
	}
	if v, ok := ptr.(validator); ok {
		v.Validate(fe)
	}
	return fe
}

// formInput returns the typed input the form holds, with what fill sets,
// and its problems.
func formInput[I any](f *form, fill func(*I)) (I, model.FieldErrors) {
	var in I
	fe := decodeInto(f, &in, func() {
		if fill != nil {
			fill(&in)
		}
	})
	return in, fe
}

// inputForm builds the form of procedure p's input from its declaration,
// shaped by spec; fill sets what the screen knows (ids) before the
// input's checks run as you type.
func inputForm[I, O any](p api.Proc[I, O], spec formSpec, fill func(*I)) form {
	f := fieldsForm(p.Info().Fields, spec)
	f.verify = func(f *form) map[string]string {
		_, fe := formInput(f, fill)
		return fe
	}
	f.recheck()
	return f
}

// typedValue converts form text to the JSON value of a field type: numbers,
// comma lists for []string, and JSON for arrays, maps and any.
func typedValue(t, v string) (any, error) {
	switch {
	case t == "string" || t == "time" || t == "":
		return v, nil
	case t == "integer":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("must be an integer")
		}
		return n, nil
	case t == "number":
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("must be a number")
		}
		return n, nil
	case t == "boolean":
		return v == "true", nil
	case t == "[]string" && !strings.HasPrefix(v, "["):
		parts := strings.Split(v, ",")
		out := make([]string, 0, len(parts))
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	}
	var out any
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return nil, fmt.Errorf("must be JSON (%s)", t)
	}
	return out, nil
}

func setPath(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}
