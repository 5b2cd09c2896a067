package model

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
