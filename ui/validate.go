package ui

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// The checks below mirror the server's input rules (services/validate.go) so
// that forms can show problems as you type; the server checks again.

var (
	fluxDuration = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`)
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

func checkDuration(v string) string {
	if v != "" && !fluxDuration.MatchString(v) {
		return fmt.Sprintf("%q is not a duration Flux accepts (e.g. 30s, 5m, 1h30m)", v)
	}
	return ""
}

func checkDNSLabel(v string) string {
	if v != "" && (len(v) > 63 || !dnsLabel.MatchString(v)) {
		return fmt.Sprintf("%q is not a DNS label (lowercase letters, digits, '-')", v)
	}
	return ""
}

func checkGitPath(p string) string {
	if p == "" {
		return ""
	}
	if strings.HasPrefix(p, "/") || strings.Contains(p, "\\") {
		return "must be a path relative to the repository root, such as ./k8s/overlays/prod"
	}
	clean := path.Clean(strings.TrimPrefix(p, "./"))
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "must stay inside the repository"
	}
	return ""
}

func checkBranch(b string) string {
	if b == "" {
		return ""
	}
	bad := strings.HasPrefix(b, "-") || strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") ||
		strings.HasSuffix(b, ".lock") || strings.HasSuffix(b, ".") || strings.Contains(b, "..") ||
		strings.Contains(b, "//") || strings.Contains(b, "@{") || b == "@"
	for _, r := range b {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			bad = true
		}
	}
	if bad {
		return fmt.Sprintf("%q is not a valid git branch name", b)
	}
	return ""
}

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
