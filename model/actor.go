package model

import (
	"context"
	"os"
	"os/user"
)

// Role is what a caller may do: viewers query, operators also sync, suspend,
// edit resources and deploy, admins also install Flux and edit the catalog.
type Role string

// Roles, weakest first.
const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
)

// Allows reports whether r grants what need requires.
func (r Role) Allows(need Role) bool { return r.rank() >= need.rank() }

func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleOperator:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// ParseRole returns the role named s, and false when s names none.
func ParseRole(s string) (Role, bool) {
	switch r := Role(s); r {
	case RoleViewer, RoleOperator, RoleAdmin:
		return r, true
	}
	return "", false
}

// Actor is who calls a procedure and through which front end (cli, tui, ssh).
type Actor struct {
	User   string `json:"user"`
	Email  string `json:"email,omitempty"`
	Role   Role   `json:"role"`
	Source string `json:"source"`
}

type actorKey struct{}

// WithActor returns ctx carrying the caller's identity and role.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the caller in ctx; without one it is the zero Actor,
// whose empty role allows nothing (the gate refuses such calls first).
func ActorFrom(ctx context.Context) Actor {
	a, _ := ActorIn(ctx)
	return a
}

// ActorIn returns the caller in ctx and whether there is one.
func ActorIn(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// LocalActor is the user running this process, with the admin role.
func LocalActor(source string) Actor {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "local"
	}
	return Actor{User: name, Role: RoleAdmin, Source: source}
}
