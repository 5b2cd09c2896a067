package gitx_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gitopstui/gitopstui/services/gitx"
)

// TestBehind: one call counts every revision's distance from the branch
// head in one walk: the head is 0, its parents 1 and 2, an unknown commit,
// a non-commit text and a commit beyond the walk limit are -1.
func TestBehind(t *testing.T) {
	_, r := newHTTP(t)
	ctx := context.Background()
	var commits []string
	for i := range 3 {
		res, err := r.CommitAndPush(ctx, "main", func(gitx.Snapshot) (gitx.Changes, error) {
			return gitx.Changes{Write: map[string][]byte{"README.md": fmt.Appendf(nil, "# fleet %d\n", i)}}, nil
		}, meta(fmt.Sprintf("commit %d", i)), gitx.RetryOpts{})
		if err != nil {
			t.Fatal(err)
		}
		commits = append(commits, res.Commit)
	}
	unknown := "0123456789abcdef0123456789abcdef01234567"
	got, head, err := r.Behind(ctx, "main", []string{commits[2], commits[1], commits[0], unknown, "main@sha1:x"}, 100)
	if err != nil || head != commits[2] {
		t.Fatalf("head %s, err %v", head, err)
	}
	want := map[string]int{commits[2]: 0, commits[1]: 1, commits[0]: 2, unknown: -1, "main@sha1:x": -1}
	for rev, n := range want {
		if got[rev] != n {
			t.Errorf("%s: %d behind, want %d", rev, got[rev], n)
		}
	}
	if got, _, _ := r.Behind(ctx, "main", []string{commits[0]}, 2); got[commits[0]] != -1 {
		t.Errorf("beyond the limit: %d", got[commits[0]])
	}
}
