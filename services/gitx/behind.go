package gitx

import (
	"context"
	"errors"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// errFound stops a history walk.
var errFound = errors.New("found")

// Behind fetches branch and counts the commits on it after rev: 0 when rev
// is the head, -1 when rev is not among the head's newest limit ancestors
// (another branch, or too far behind). It also returns the head.
func (r *Repo) Behind(ctx context.Context, branch, rev string, limit int) (int, string, error) {
	if err := checkBranch(branch); err != nil {
		return -1, "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	head, err := r.fetch(ctx, branch)
	if err != nil || head.IsZero() {
		return -1, "", err
	}
	target := plumbing.NewHash(rev)
	if !hexSHA.MatchString(rev) {
		return -1, head.String(), nil
	}
	c, err := object.GetCommit(r.fsys, head)
	if err != nil {
		return -1, head.String(), err
	}
	n, found := 0, false
	err = object.NewCommitPreorderIter(c, nil, nil).ForEach(func(c *object.Commit) error {
		if c.Hash == target {
			found = true
			return errFound
		}
		if n++; n >= limit {
			return storer.ErrStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return -1, head.String(), err
	}
	if !found {
		return -1, head.String(), nil
	}
	return n, head.String(), nil
}
