package ui

import "github.com/gitopstui/gitopstui/services/api"

// The form checks are the server's own input rules (services), run as you
// type; the server checks again when the form is sent.
func checkDuration(v string) string { return api.DurationProblem(v) }
func checkDNSLabel(v string) string { return api.DNSLabelProblem(v) }
func checkGitPath(v string) string  { return api.GitPathProblem(v) }
func checkBranch(v string) string   { return api.BranchProblem(v) }

func nonEmpty(check func(string) string) func(string) string {
	return func(v string) string {
		if v == "" {
			return "must not be empty"
		}
		if check != nil {
			return check(v)
		}
		return ""
	}
}
