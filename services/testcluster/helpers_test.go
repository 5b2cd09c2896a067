package testcluster_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
)

var authnReview = authenticationv1.SelfSubjectReview{}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// fatalRecorder is a testing.TB whose Fatalf records the message and ends the goroutine,
// so that a test can assert on the helper's own failures.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
