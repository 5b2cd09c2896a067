package ui

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// Views are pure: rendering changes no state of the model. The harness
// checks it on every frame it reads: the model's state is fingerprinted
// before and after View and must not differ.

const modulePath = "github.com/gitopstui/gitopstui/"

// fingerprint writes the state reachable from v: every field of the
// project's own types (followed through pointers, slices, maps and
// interfaces), whether each func is set, and nothing inside other
// modules' types (their internals, such as memo caches, are theirs).
func fingerprint(v any) string {
	var b strings.Builder
	seen := map[uintptr]bool{}
	walk(&b, reflect.ValueOf(v), seen)
	return b.String()
}

func ours(t reflect.Type) bool {
	return t.PkgPath() == "" || strings.HasPrefix(t.PkgPath(), modulePath) || t.PkgPath() == "github.com/gitopstui/gitopstui"
}

func walk(b *strings.Builder, v reflect.Value, seen map[uintptr]bool) {
	if !v.IsValid() {
		b.WriteString("∅")
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		if seen[v.Pointer()] {
			b.WriteString("@")
			return
		}
		seen[v.Pointer()] = true
		walk(b, v.Elem(), seen)
	case reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		b.WriteString(v.Elem().Type().String() + ":")
		walk(b, v.Elem(), seen)
	case reflect.Struct:
		if !ours(v.Type()) {
			return
		}
		b.WriteString("{")
		for i := 0; i < v.NumField(); i++ {
			b.WriteString(v.Type().Field(i).Name + "=")
			walk(b, v.Field(i), seen)
			b.WriteString(" ")
		}
		b.WriteString("}")
	case reflect.Slice, reflect.Array:
		b.WriteString(fmt.Sprintf("[%d:", v.Len()))
		for i := 0; i < v.Len(); i++ {
			walk(b, v.Index(i), seen)
			b.WriteString(",")
		}
		b.WriteString("]")
	case reflect.Map:
		keys := make([]string, 0, v.Len())
		vals := map[string]reflect.Value{}
		for it := v.MapRange(); it.Next(); {
			var kb strings.Builder
			walk(&kb, it.Key(), seen)
			keys = append(keys, kb.String())
			vals[kb.String()] = it.Value()
		}
		sort.Strings(keys)
		b.WriteString("map[")
		for _, k := range keys {
			b.WriteString(k + ":")
			walk(b, vals[k], seen)
			b.WriteString(",")
		}
		b.WriteString("]")
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		b.WriteString(fmt.Sprint(!v.IsNil()))
	default:
		b.WriteString(fmt.Sprint(valueOf(v)))
	}
}

// valueOf reads a basic value, exported or not.
func valueOf(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.String:
		return v.String()
	}
	return v.Kind().String()
}

// viewPure renders m and fails t when that changed m's state.
func viewPure(t testing.TB, m Model) string {
	t.Helper()
	before := fingerprint(&m)
	content := m.View().Content
	if after := fingerprint(&m); after != before {
		i := 0
		for i < len(before) && i < len(after) && before[i] == after[i] {
			i++
		}
		from := max(0, i-200)
		t.Fatalf("View changed the model's state near:\nbefore …%s\nafter  …%s", before[from:min(len(before), i+80)], after[from:min(len(after), i+80)])
	}
	return content
}

func TestFingerprintSeesWrites(t *testing.T) {
	h := newHarness(t, catalogFake(), 80, 24)
	h.press("3")
	before := fingerprint(&h.m)
	r := h.m.top().(*resourcesScreen)
	r.l.offset++
	if fingerprint(&h.m) == before {
		t.Fatal("a changed list offset went unseen")
	}
	r.l.offset--
	r.s.hl.cache["x"] = nil
	if fingerprint(&h.m) == before {
		t.Fatal("a write to the session's highlighter cache went unseen")
	}
	delete(r.s.hl.cache, "x")
	if fingerprint(&h.m) != before {
		t.Fatal("the fingerprint is not stable")
	}
}
