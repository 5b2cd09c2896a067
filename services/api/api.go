// Package api is gitopstui's typed contract: every procedure of the GitOps
// API reference (shared/reference/gitops-api-reference.zh.md) and the
// product's own procedures, declared once with its name, role, description
// and the Go types of its input and result. The types mirror the reference's
// TypeScript field by field (same names, nesting, enum values); extensions
// are extra optional fields.
//
// Every front end calls procedures through these declarations (Invoke), so a
// renamed field or a changed result type is a compile error in every caller.
// The services registry binds one handler to each declaration. The package
// imports only model and the standard library's neighbours (no client-go, no
// go-git), so the terminal UI links the contract without the machinery.
package api

import (
	"context"
	"encoding/json"
	"reflect"

	"github.com/gitopstui/gitopstui/model"
)

// MaxInputBytes bounds a procedure's JSON input.
const MaxInputBytes = 8 << 20

// Caller runs a procedure by name with JSON input; gate.Registry, the
// forwarding client and test harnesses are Callers. The result is the
// procedure's typed result in process, or anything that marshals to it.
type Caller interface {
	Call(ctx context.Context, name string, raw []byte) (any, error)
}

// Info describes one procedure for listings and forms.
type Info struct {
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Role        model.Role `json:"role"`
	Mutation    bool       `json:"mutation"`
	Fields      []Field    `json:"input"`
	// Input and Result are the Go types of the input and result (not serialised).
	Input  reflect.Type `json:"-"`
	Result reflect.Type `json:"-"`
}

// Decl is a procedure declaration of any input and result type.
type Decl interface {
	Info() Info
}

// Proc declares a procedure whose input is I and result is O.
type Proc[I, O any] struct {
	Name        string
	Role        model.Role
	Mutation    bool
	Description string
}

// Info implements Decl.
func (p Proc[I, O]) Info() Info {
	t := reflect.TypeFor[I]()
	return Info{Name: p.Name, Description: p.Description, Role: p.Role, Mutation: p.Mutation, Fields: Describe(t), Input: t,
		Result: reflect.TypeFor[O]()}
}

func query[I, O any](name, desc string) Proc[I, O] {
	return Proc[I, O]{Name: name, Role: model.RoleViewer, Description: desc}
}

func mutation[I, O any](name string, role model.Role, desc string) Proc[I, O] {
	return Proc[I, O]{Name: name, Role: role, Mutation: true, Description: desc}
}

// Invoke runs procedure p with input in through c and returns its typed
// result. In process the registry's typed result is used as it is; over a
// wire the JSON result is decoded into O.
func Invoke[I, O any](ctx context.Context, c Caller, p Proc[I, O], in I) (O, error) {
	var out O
	raw, err := json.Marshal(in)
	if err != nil {
		return out, model.Wrap(model.CodeInternal, err, "encode input of "+p.Name)
	}
	res, err := c.Call(ctx, p.Name, raw)
	if err != nil {
		return out, err
	}
	return Convert[O](p.Name, res)
}

// Convert returns res as an O: itself when it is one, else through JSON
// (results that crossed a wire, or raw JSON).
func Convert[O any](name string, res any) (O, error) {
	var out O
	if v, ok := res.(O); ok {
		return v, nil
	}
	b, ok := res.(json.RawMessage)
	if !ok {
		var err error
		if b, err = json.Marshal(res); err != nil {
			return out, model.Wrap(model.CodeInternal, err, "encode result of "+name)
		}
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, model.Wrap(model.CodeInternal, err, "decode result of "+name)
	}
	return out, nil
}
