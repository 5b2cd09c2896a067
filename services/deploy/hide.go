package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"

	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/manifest"
)

// Environment variable values may be secrets: answers and the deployment
// history show that a value changed, and its digest, never the value.

// isEnvValue says whether an edit's field is a container env entry's value.
func isEnvValue(field string) bool {
	return strings.Contains(field, ".env[") && strings.HasSuffix(field, "].value")
}

// hidden is what stands in for a value: its short digest.
func hidden(v string) string {
	sum := sha256.Sum256([]byte(v))
	return "<hidden sha256:" + hex.EncodeToString(sum[:4]) + ">"
}

// hideEnvValues replaces the old and new values of env edits.
func hideEnvValues(edits []api.Edit) {
	for i := range edits {
		if !isEnvValue(edits[i].Field) {
			continue
		}
		for _, p := range []**string{&edits[i].Old, &edits[i].New} {
			if *p != nil {
				h := hidden(**p)
				*p = &h
			}
		}
	}
}

// diffValueLine is an added or removed `value:` line of a unified diff.
var diffValueLine = regexp.MustCompile(`^([-+][ \t]*(?:- )?value:[ \t]*)(.+?)[ \t]*$`)

// hideEnvDiff replaces, in the added and removed lines of diff, the values
// that the plan's env edits set or removed.
func hideEnvDiff(diff string, edits []manifest.Edit) string {
	secret := map[string]bool{}
	for _, e := range edits {
		if isEnvValue(e.Field) {
			for _, v := range []*string{e.Old, e.New} {
				if v != nil && *v != "" {
					secret[*v] = true
				}
			}
		}
	}
	if len(secret) == 0 {
		return diff
	}
	lines := strings.Split(diff, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "+++") || strings.HasPrefix(l, "---") {
			continue
		}
		m := diffValueLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		v := m[2]
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		} else if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = strings.ReplaceAll(v[1:len(v)-1], "''", "'")
		}
		if secret[v] {
			lines[i] = m[1] + hidden(v)
		}
	}
	return strings.Join(lines, "\n")
}
