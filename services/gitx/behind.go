package gitx

import (
	"context"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Behind fetches branch once and counts, for each of revs, the commits on
// it after that revision: 0 for the head, -1 for a revision that is not
// among the head's newest limit ancestors (another branch, too far behind,
// or not a commit id). One walk of the history answers every revision. It
// also returns the head.
func (r *Repo) Behind(ctx context.Context, branch string, revs []string, limit int) (map[string]int, string, error) {
	out := make(map[string]int, len(revs))
	for _, rev := range revs {
		out[rev] = -1
	}
	if err := checkBranch(branch); err != nil {
		return out, "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	head, err := r.fetch(ctx, branch)
	if err != nil || head.IsZero() {
		return out, "", err
	}
	want := map[plumbing.Hash]string{}
	for _, rev := range revs {
		if hexSHA.MatchString(rev) {
			want[plumbing.NewHash(rev)] = rev
		}
	}
	if len(want) == 0 {
		return out, head.String(), nil
	}
	c, err := object.GetCommit(r.fsys, head)
	if err != nil {
		return out, head.String(), err
	}
	n, left := 0, len(want)
	err = object.NewCommitPreorderIter(c, nil, nil).ForEach(func(c *object.Commit) error {
		if rev, ok := want[c.Hash]; ok {
			out[rev] = n
			if left--; left == 0 {
				return storer.ErrStop
			}
		}
		if n++; n >= limit {
			return storer.ErrStop
		}
		return nil
	})
	return out, head.String(), err
}
