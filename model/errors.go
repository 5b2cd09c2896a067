package model

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Code is one of the platform API's error codes (DESIGN.md §3).
type Code string

// The error codes every front end reports.
const (
	CodeFluxAlreadyInstalled   Code = "FLUX_ALREADY_INSTALLED"
	CodeFluxNotInstalled       Code = "FLUX_NOT_INSTALLED"
	CodeK3sNotReady            Code = "K3S_NOT_READY"
	CodeInsufficientPermission Code = "INSUFFICIENT_PERMISSIONS"
	CodeRepositoryNotFound     Code = "REPOSITORY_NOT_FOUND"
	CodeGitOpsNotEnabled       Code = "GITOPS_NOT_ENABLED"
	CodeGitAuthFailed          Code = "GIT_AUTH_FAILED"
	CodeYAMLInvalid            Code = "YAML_INVALID"
	CodeConflictDetected       Code = "CONFLICT_DETECTED"
	CodeBadRequest             Code = "BAD_REQUEST"
	CodeNotFound               Code = "NOT_FOUND"
	CodeStoreLocked            Code = "STORE_LOCKED"
	CodeInternal               Code = "INTERNAL"
)

// Error is the typed error of every procedure: {code, message, details}.
// Wrapped errors keep their code: use AsError to recover it.
type Error struct {
	Code    Code           `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
	cause   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Errorf builds an Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: CleanText(fmt.Sprintf(format, args...))}
}

// Wrap builds an Error of code whose message is msg followed by the cause's text.
func Wrap(code Code, cause error, msg string) *Error {
	m := msg
	if cause != nil {
		m = msg + ": " + cause.Error()
	}
	return &Error{Code: code, Message: CleanText(m), cause: cause}
}

// WithDetail returns e with details[key] = value.
func (e *Error) WithDetail(key string, value any) *Error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details[key] = value
	return e
}

// NotFound is the NOT_FOUND error for a kind and id.
func NotFound(kind, id string) *Error {
	return Errorf(CodeNotFound, "%s %q not found", kind, id).WithDetail("kind", kind).WithDetail("id", id)
}

// AsError returns err as an *Error, turning untyped errors into INTERNAL.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: CleanText(err.Error()), cause: err}
}

// CodeOf returns the code of err (INTERNAL for untyped errors, "" for nil).
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return AsError(err).Code
}

// FieldErrors collects validation problems by field path; it becomes one
// BAD_REQUEST whose details.fields names every bad field.
type FieldErrors map[string]string

// Add records a problem with field (first one wins).
func (f FieldErrors) Add(field, problem string) {
	if _, ok := f[field]; !ok {
		f[field] = problem
	}
}

// Err returns nil when there are no problems, else a BAD_REQUEST Error.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	fields := make(map[string]any, len(f))
	for _, k := range keys {
		parts = append(parts, k+": "+f[k])
		fields[k] = f[k]
	}
	return Errorf(CodeBadRequest, "invalid input: %s", strings.Join(parts, "; ")).WithDetail("fields", fields)
}
