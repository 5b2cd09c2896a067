package api

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gitopstui/gitopstui/model"
)

// fluxDuration is the pattern Flux's CRDs accept for intervals and timeouts.
var fluxDuration = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

func checkID(fe model.FieldErrors, field, id string) {
	if id != "" && !idPattern.MatchString(id) {
		fe.Add(field, "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
}

func checkDNSLabel(fe model.FieldErrors, field, v string) {
	if p := DNSLabelProblem(v); p != "" {
		fe.Add(field, p)
	}
}

// DNSLabelProblem says why v is not an RFC 1123 label ("" when fine or empty).
func DNSLabelProblem(v string) string {
	if v == "" {
		return ""
	}
	if errs := validation.IsDNS1123Label(v); len(errs) > 0 {
		return fmt.Sprintf("%q is not a valid Kubernetes name (RFC 1123 label): lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit", v)
	}
	return ""
}

func checkDuration(fe model.FieldErrors, field, v string) {
	if p := DurationProblem(v); p != "" {
		fe.Add(field, p)
	}
}

// DurationProblem says what is wrong with an interval Flux would refuse ("" when fine or empty).
func DurationProblem(v string) string {
	if v != "" && !fluxDuration.MatchString(v) {
		return fmt.Sprintf("%q is not a duration Flux accepts (e.g. 30s, 5m, 1h30m)", v)
	}
	return ""
}

// checkDisplayName checks a display name and normalises it to NFC, so that
// two spellings of one name are one name: control characters and invisible
// or bidirectional formatting characters (zero-width space, right-to-left
// override, ...) are refused, naming the field and the character.
func checkDisplayName(fe model.FieldErrors, field string, v *string) {
	if *v == "" {
		return
	}
	if msg := DisplayNameProblem(*v); msg != "" {
		fe.Add(field, msg)
		return
	}
	*v = norm.NFC.String(*v)
}

// DisplayNameProblem says why v is not a display name ("" when it is one).
func DisplayNameProblem(v string) string {
	if !utf8.ValidString(v) {
		return "must be valid UTF-8"
	}
	if len(v) > 253 {
		return "must be at most 253 characters"
	}
	for i, r := range v {
		switch {
		case unicode.IsControl(r):
			return fmt.Sprintf("must not contain control characters (U+%04X at byte %d)", r, i)
		case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r), r == '\u115f', r == '\u1160', r == '\u3164', r == '\uffa0':
			return fmt.Sprintf("must not contain invisible or bidirectional formatting characters (U+%04X at byte %d)", r, i)
		}
	}
	if strings.TrimSpace(v) != v {
		return "must not start or end with spaces"
	}
	return ""
}

// checkGitPath accepts a repository-relative path such as ./k8s/overlays/prod.
func checkGitPath(fe model.FieldErrors, field, p string) {
	if msg := GitPathProblem(p); msg != "" {
		fe.Add(field, msg)
	}
}

// GitPathProblem says why p is not a path inside a repository ("" when fine or empty).
func GitPathProblem(p string) string {
	if p == "" {
		return ""
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return "must not contain control characters"
		}
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

// checkBranch applies git's ref-name rules to a branch name.
func checkBranch(fe model.FieldErrors, field, b string) {
	if msg := BranchProblem(b); msg != "" {
		fe.Add(field, msg)
	}
}

// BranchProblem says why b is not a valid git branch name ("" when fine or empty).
func BranchProblem(b string) string {
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

var scpLike = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/].*$`)

func checkGitURL(fe model.FieldErrors, field, raw string) {
	if raw == "" {
		return
	}
	if scpLike.MatchString(raw) {
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		fe.Add(field, "not a URL: "+err.Error())
		return
	}
	switch u.Scheme {
	case "https", "http", "ssh":
		if u.Host == "" {
			fe.Add(field, "URL needs a host")
		}
		if _, hasPass := u.User.Password(); hasPass {
			fe.Add(field, "must not embed a password; use auth.tokenEnv or the git credential helper")
		}
	case "file":
	default:
		fe.Add(field, "must be an https://, http://, ssh://, file:// or user@host:path URL")
	}
}

func checkEnum(fe model.FieldErrors, field, v string, allowed ...string) {
	if v == "" {
		return
	}
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	fe.Add(field, fmt.Sprintf("must be one of %s", strings.Join(allowed, ", ")))
}

var envVarPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// maxFullName bounds a repository's owner/name; it is a store index key.
const maxFullName = 256

func checkFullName(fe model.FieldErrors, v string) {
	if len(v) > maxFullName {
		fe.Add("fullName", "must be at most "+strconv.Itoa(maxFullName)+" characters")
		return
	}
	if v != "" && !fullNamePattern.MatchString(v) {
		fe.Add("fullName", "must look like owner/name")
	}
}

func checkAuth(fe model.FieldErrors, a *model.RepoAuth) {
	if a == nil {
		return
	}
	checkEnum(fe, "auth.type", a.Type, model.AuthNone, model.AuthTokenEnv, model.AuthBasicEnv, model.AuthSSHKey, model.AuthSSHAgent, model.AuthCredentialHelper)
	if a.Type == "" {
		fe.Add("auth.type", "required")
	}
	for field, v := range map[string]string{"auth.tokenEnv": a.TokenEnv, "auth.usernameEnv": a.UsernameEnv} {
		if v != "" && !envVarPattern.MatchString(v) {
			fe.Add(field, "must be the name of an environment variable (the secret stays in the environment)")
		}
	}
	switch a.Type {
	case model.AuthTokenEnv, model.AuthBasicEnv:
		if a.TokenEnv == "" {
			fe.Add("auth.tokenEnv", "required for auth type "+a.Type)
		}
	case model.AuthSSHKey:
		if a.KeyFile == "" {
			fe.Add("auth.keyFile", "required for auth type ssh-key")
		}
	}
}

func isHexSHA(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

var fullNamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)+$`)

// ImageProblem says why s is not an image reference ("" when it is one).
func ImageProblem(s string) string { return model.ImageProblem(s) }
