package gitx

import (
	"errors"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/gitopstui/gitopstui/model"
)

// UnpushedRefPrefix is where a cache clone keeps the commits it built and
// has not pushed, one ref each: refs/gitopstui/unpushed/<sha>. The ref keeps
// the commit (and its trees and blobs) reachable, so `git gc --prune=now`
// on the cache leaves it; a push that lands the commit deletes the ref, and
// DropUnpushed deletes it on request. To recover one by hand:
// git -C <cache> push origin <sha>:refs/heads/<branch>.
const UnpushedRefPrefix = "refs/gitopstui/unpushed/"

func unpushedRef(h plumbing.Hash) plumbing.ReferenceName {
	return plumbing.ReferenceName(UnpushedRefPrefix + h.String())
}

// keepUnpushed points the unpushed ref of commit h at it.
func (r *Repo) keepUnpushed(h plumbing.Hash) error {
	if err := r.fsys.SetReference(plumbing.NewHashReference(unpushedRef(h), h)); err != nil {
		return model.Wrap(model.CodeInternal, err, "keep commit "+h.String()+" in the git cache")
	}
	return nil
}

// forgetPushed deletes the unpushed refs of the commits in pushed (the
// objects a push sent: the commits it landed are among them).
func (r *Repo) forgetPushed(pushed []plumbing.Hash) {
	if len(pushed) == 0 {
		return
	}
	landed := make(map[plumbing.Hash]bool, len(pushed))
	for _, h := range pushed {
		landed[h] = true
	}
	refs, err := r.unpushedRefs()
	if err != nil {
		return // the refs stay; a later push or DropUnpushed clears them
	}
	for _, ref := range refs {
		if landed[ref.Hash()] {
			_ = r.fsys.RemoveReference(ref.Name())
		}
	}
}

func (r *Repo) unpushedRefs() ([]*plumbing.Reference, error) {
	iter, err := r.fsys.IterReferences()
	if err != nil {
		return nil, model.Wrap(model.CodeInternal, err, "list refs of the git cache")
	}
	defer iter.Close()
	var out []*plumbing.Reference
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		if ref.Type() == plumbing.HashReference && strings.HasPrefix(ref.Name().String(), UnpushedRefPrefix) {
			out = append(out, ref)
		}
		return nil
	})
	if err != nil && !errors.Is(err, storer.ErrStop) {
		return nil, model.Wrap(model.CodeInternal, err, "list refs of the git cache")
	}
	return out, nil
}

// Unpushed lists the commits the cache keeps because they were built and
// not pushed (a remote refused them, the push failed, or Commit built them
// and Push has not landed them yet), sorted by SHA.
func (r *Repo) Unpushed() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	refs, err := r.unpushedRefs()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(refs))
	for _, ref := range refs {
		out = append(out, ref.Hash().String())
	}
	sort.Strings(out)
	return out, nil
}

// DropUnpushed lets go of the unpushed commit sha: its ref is deleted, and
// the next `git gc` of the cache may delete the commit. NOT_FOUND when the
// cache keeps no such commit.
func (r *Repo) DropUnpushed(sha string) error {
	if !hexSHA.MatchString(sha) {
		return model.Errorf(model.CodeBadRequest, "invalid commit %q", sha).WithDetail("fields", map[string]any{"sha": "not a commit SHA"})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	name := unpushedRef(plumbing.NewHash(sha))
	if _, err := r.fsys.Reference(name); err != nil {
		return model.NotFound("unpushed commit", sha)
	}
	if err := r.fsys.RemoveReference(name); err != nil {
		return model.Wrap(model.CodeInternal, err, "drop unpushed commit "+sha)
	}
	return nil
}
