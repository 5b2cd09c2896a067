package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
	"sort"
	"strconv"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// procedure is one bound procedure: its declaration, its input decoder and
// its handler.
type procedure struct {
	info   api.Info
	decode func(raw []byte) (any, error)
	run    func(ctx context.Context, in any) (any, error)
}

// Registry maps every procedure name to its typed handler. It is the only
// way in: the sub-packages bind unexported handlers to it, and Call alone
// checks the caller and its role, recovers a handler's panic and writes the
// audit record, and tells the notifier what a successful mutation changed.
type Registry struct {
	procs  map[string]*procedure
	audit  *Audit
	log    *slog.Logger
	notify Notifier
}

// New returns an empty registry that audits into a, logs to log and, when
// notify is not nil, notes every successful mutation to it.
func New(a *Audit, log *slog.Logger, notify Notifier) *Registry {
	return &Registry{procs: map[string]*procedure{}, audit: a, log: log, notify: notify}
}

// Validator is implemented by inputs that check more than required fields.
type Validator interface {
	Validate(fe model.FieldErrors)
}

// Procedures lists every procedure, sorted by name.
func (r *Registry) Procedures() []api.Info {
	out := make([]api.Info, 0, len(r.procs))
	for _, p := range r.procs {
		out = append(out, p.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the procedure called name.
func (r *Registry) Lookup(name string) (api.Info, bool) {
	p, ok := r.procs[name]
	if !ok {
		return api.Info{}, false
	}
	return p.info, true
}

// Call runs procedure name with JSON input raw as the actor in ctx: check
// the caller and its role, bound and decode the input, run, and audit
// mutations (refused ones included), then note a successful mutation to the
// notifier. A context without an actor is refused: every front end says who
// calls.
func (r *Registry) Call(ctx context.Context, name string, raw []byte) (any, error) {
	p, ok := r.procs[name]
	if !ok {
		return nil, model.Errorf(model.CodeNotFound, "unknown procedure %q (run `gitopstui procedures` for the list)", name).
			WithDetail("procedure", name)
	}
	actor, known := model.ActorIn(ctx)
	var in any
	var res any
	var err error
	decoded := false
	switch {
	case !known:
		err = model.Errorf(model.CodeInsufficientPermission, "%s: the call carries no caller identity", name).WithDetail("procedure", name)
	case !actor.Role.Allows(p.info.Role):
		err = model.Errorf(model.CodeInsufficientPermission, "%s needs role %s; %s has role %s", name, p.info.Role, actor.User, actor.Role).
			WithDetail("procedure", name).WithDetail("required", string(p.info.Role)).WithDetail("role", string(actor.Role))
	case len(raw) > api.MaxInputBytes:
		err = model.Errorf(model.CodeBadRequest, "input is %d bytes, over the %d byte limit", len(raw), api.MaxInputBytes)
		raw = nil // not even its digest is worth hashing a megabyte for
	default:
		if in, err = p.decode(raw); err == nil {
			decoded = true
			res, err = r.run(ctx, p, in)
		}
	}
	if p.info.Mutation {
		r.audit.Record(actor, name, auditInput(in, decoded, raw), err)
	}
	if err != nil {
		return nil, model.AsError(err)
	}
	if p.info.Mutation && r.notify != nil {
		r.notify(changeNote(name, in, res))
	}
	return res, nil
}

// run calls the handler; a panic becomes INTERNAL for this call and a log
// entry with the stack, never the end of the process.
func (r *Registry) run(ctx context.Context, p *procedure, in any) (res any, err error) {
	defer func() {
		if v := recover(); v != nil {
			r.log.Error("procedure panicked", "procedure", p.info.Name, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			res, err = nil, model.Errorf(model.CodeInternal, "%s failed with an internal error (logged)", p.info.Name).WithDetail("procedure", p.info.Name)
		}
	}()
	return p.run(ctx, in)
}

// Bind registers handler h for the declaration p: decode and check the
// input strictly, then run h. Binding a name twice panics: that is a wiring
// bug, found by the first test that builds the registry.
func Bind[I, O any](r *Registry, p api.Proc[I, O], h func(ctx context.Context, in I) (O, error)) {
	if _, dup := r.procs[p.Name]; dup {
		panic("duplicate procedure " + p.Name)
	}
	r.procs[p.Name] = &procedure{
		info: p.Info(),
		decode: func(raw []byte) (any, error) {
			var in I
			if err := DecodeInput(raw, &in); err != nil {
				return nil, err
			}
			return in, nil
		},
		run: func(ctx context.Context, in any) (any, error) { return h(ctx, in.(I)) },
	}
}

func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(json.RawMessage{}) {
		return "any JSON value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// checkRequired reports every zero field tagged required:"true", recursing
// into nested structs and slices of structs that are present and were decoded
// without a problem of their own.
func checkRequired(v reflect.Value, prefix string, fe model.FieldErrors) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.Slice {
		et := v.Type().Elem()
		for et.Kind() == reflect.Pointer {
			et = et.Elem()
		}
		if et.Kind() != reflect.Struct {
			return
		}
		for i := 0; i < v.Len(); i++ {
			path := prefix + "[" + strconv.Itoa(i) + "]"
			if _, bad := fe[path]; !bad {
				checkRequired(v.Index(i), path, fe)
			}
		}
		return
	}
	if v.Kind() != reflect.Struct || v.Type() == reflect.TypeOf(time.Time{}) {
		return
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, ok := api.JSONName(f)
		if !ok {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		fv := v.Field(i)
		if _, bad := fe[path]; bad {
			continue // already reported (wrong type, ...): its insides are not worth a word
		}
		if f.Tag.Get("required") == "true" && fv.IsZero() {
			fe.Add(path, "required")
			continue
		}
		checkRequired(fv, path, fe)
	}
}
