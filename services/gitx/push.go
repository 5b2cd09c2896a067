package gitx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/revlist"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"

	"github.com/gitopstui/gitopstui/model"
)

// ErrNonFastForward is the cause of a push refused because the branch moved
// (someone else pushed first). Push returns it inside CONFLICT_DETECTED;
// CommitAndPush handles it by fetching and re-applying the intent.
var ErrNonFastForward = errors.New("the remote branch moved (non-fast-forward)")

// PushResult is the outcome of CommitAndPush.
type PushResult struct {
	// Commit is the branch head after the call: the pushed commit, or the
	// unchanged head when NoOp.
	Commit string `json:"commit"`
	// Parent is the head the intent was applied to ("" for a new branch).
	Parent string `json:"parent"`
	Branch string `json:"branch"`
	// Attempts is how many times the intent ran (1 when nobody raced us).
	Attempts int `json:"attempts"`
	// NoOp: the intent changed nothing, so nothing was committed or pushed.
	NoOp bool `json:"noOp,omitempty"`
	// WebURL is CommitURL(remote, Commit).
	WebURL string `json:"webUrl,omitempty"`
	// CommittedAt is when the pushed commit was built (zero when NoOp).
	CommittedAt time.Time `json:"committedAt,omitzero"`
}

// RetryOpts bounds the fetch-reapply-retry loop of CommitAndPush.
type RetryOpts struct {
	MaxAttempts int // default 5
	// Budget lets a writer keep retrying past MaxAttempts while each
	// rejection comes from someone else's progress (the branch moved on),
	// so that a writer losing races to a busy neighbour is not starved;
	// default 60s, bounded by the context.
	Budget    time.Duration
	BaseDelay time.Duration // first backoff ceiling, default 50ms; doubles per attempt
	MaxDelay  time.Duration // backoff ceiling, default 2s
}

func (o RetryOpts) withDefaults() RetryOpts {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = 50 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 2 * time.Second
	}
	if o.Budget <= 0 {
		o.Budget = 60 * time.Second
	}
	return o
}

// backoff is a full-jitter delay for the given (1-based) failed attempt.
func (o RetryOpts) backoff(attempt int) time.Duration {
	ceil := o.BaseDelay << min(attempt-1, 20)
	if ceil > o.MaxDelay || ceil <= 0 {
		ceil = o.MaxDelay
	}
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// Intent computes the changes to commit from the branch head. It is called
// again on the new head after a rejected push, so it must derive everything
// from head (and its own inputs). An error it returns (for example
// CONFLICT_DETECTED) ends CommitAndPush and is returned as is.
type Intent func(head Snapshot) (Changes, error)

// CommitAndPush applies intent to the current head of branch, commits the
// result with meta and pushes it (never forced). When the push is refused
// because the branch moved, it fetches the new head, calls intent again and
// retries with jittered backoff: at most opts.MaxAttempts times, and beyond
// that for as long as opts.Budget allows while every rejection was another
// writer's push (the branch head kept moving), so no writer starves. A branch the
// remote lacks is created (its first commit has no parent).
func (r *Repo) CommitAndPush(ctx context.Context, branch string, intent Intent, meta CommitMeta, opts RetryOpts) (PushResult, error) {
	if err := checkBranch(branch); err != nil {
		return PushResult{}, err
	}
	if _, _, err := message(meta); err != nil {
		return PushResult{}, err
	}
	opts = opts.withDefaults()
	r.mu.Lock()
	defer r.mu.Unlock()
	var lastErr error
	start, attempt := time.Now(), 0
	for seen := map[string]bool{}; attempt < opts.MaxAttempts || time.Since(start) < opts.Budget; {
		attempt++
		if attempt > 1 {
			t := time.NewTimer(opts.backoff(attempt - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return PushResult{}, model.Wrap(model.CodeInternal, ctx.Err(), "push "+branch)
			case <-t.C:
			}
		}
		res, err := r.attempt(ctx, branch, intent, meta)
		res.Attempts = attempt
		if err == nil {
			return res, nil
		}
		if !errors.Is(err, ErrNonFastForward) {
			return res, err
		}
		lastErr = err
		if seen[res.Parent] && attempt >= opts.MaxAttempts {
			break // rejected twice on one head: not a race others are winning
		}
		seen[res.Parent] = true
	}
	return PushResult{Branch: branch, Attempts: attempt}, model.Wrap(model.CodeConflictDetected, lastErr,
		fmt.Sprintf("branch %s kept moving: gave up after %d attempts", branch, attempt)).
		WithDetail("branch", branch).WithDetail("attempts", attempt).WithDetail("reason", "retries_exhausted")
}

// raceErr marks a rejection that a fetch and retry can fix.
type raceErr struct{ msg string }

func (e *raceErr) Error() string { return ErrNonFastForward.Error() + ": " + e.msg }
func (e *raceErr) Unwrap() error { return ErrNonFastForward }

func (r *Repo) attempt(ctx context.Context, branch string, intent Intent, meta CommitMeta) (PushResult, error) {
	res := PushResult{Branch: branch}
	ps, err := r.openPush(ctx)
	if err != nil {
		return res, err
	}
	defer ps.close()
	head := ps.head(branch)
	var parent *object.Commit
	snap := Snapshot{r: r}
	if !head.IsZero() {
		if parent, err = r.ensureCommit(ctx, branch, head); err != nil {
			return res, err
		}
		if snap.tree, err = parent.Tree(); err != nil {
			return res, model.Wrap(model.CodeInternal, err, "read tree")
		}
		snap.Head = head.String()
		res.Parent = snap.Head
	}
	ch, err := intent(snap)
	if err != nil {
		return res, err
	}
	commit, objs, changed, err := r.buildCommit(ctx, parent, ch, meta)
	if err != nil {
		return res, err
	}
	committedAt := time.Now()
	if !changed {
		res.NoOp, res.Commit, res.WebURL = true, snap.Head, CommitURL(r.url, snap.Head)
		return res, nil
	}
	if err := r.send(ctx, ps, branch, head, commit, objs); err != nil {
		if errors.Is(err, ErrNonFastForward) {
			// superseded: the intent is applied again on the new head
			_ = r.fsys.RemoveReference(unpushedRef(commit))
		}
		return res, err
	}
	res.Commit, res.WebURL, res.CommittedAt = commit.String(), CommitURL(r.url, commit.String()), committedAt
	return res, nil
}

// ensureCommit returns commit h of branch, fetching when the cache lacks it,
// and points the tracking ref at it.
func (r *Repo) ensureCommit(ctx context.Context, branch string, h plumbing.Hash) (*object.Commit, error) {
	c, err := object.GetCommit(r.fsys, h)
	if err != nil {
		if _, err := r.fetch(ctx, branch); err != nil {
			return nil, err
		}
		if c, err = object.GetCommit(r.fsys, h); err != nil {
			// the branch moved again between the two requests
			return nil, &raceErr{msg: "branch moved during fetch"}
		}
		return c, nil
	}
	if ref, err := r.fsys.Reference(trackingRef(branch)); err != nil || ref.Hash() != h {
		_ = r.fsys.SetReference(plumbing.NewHashReference(trackingRef(branch), h))
	}
	return c, nil
}

// Push pushes commit sha (built with Commit) to branch without force: the
// remote head must be an ancestor of sha, else CONFLICT_DETECTED wrapping
// ErrNonFastForward. The tracking ref moves only when the push lands.
func (r *Repo) Push(ctx context.Context, branch, sha string) error {
	if err := checkBranch(branch); err != nil {
		return err
	}
	if !hexSHA.MatchString(sha) {
		return model.Errorf(model.CodeBadRequest, "invalid commit %q", sha).WithDetail("fields", map[string]any{"sha": "not a commit SHA"})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	tip := plumbing.NewHash(sha)
	if _, err := object.GetCommit(r.fsys, tip); err != nil {
		return model.NotFound("commit", sha)
	}
	ps, err := r.openPush(ctx)
	if err != nil {
		return err
	}
	defer ps.close()
	head := ps.head(branch)
	if head == tip {
		return nil
	}
	if !head.IsZero() {
		if _, err := object.GetCommit(r.fsys, head); err != nil {
			if _, err := r.fetch(ctx, branch); err != nil {
				return err
			}
		}
	}
	objs, err := r.objectsBetween(tip, head)
	if err == nil {
		err = r.send(ctx, ps, branch, head, tip, objs)
	}
	if errors.Is(err, ErrNonFastForward) {
		return model.Wrap(model.CodeConflictDetected, err, "push "+branch+" rejected").
			WithDetail("branch", branch).WithDetail("commitSha", sha).WithDetail("reason", "non_fast_forward")
	}
	return err
}

// objectsBetween lists the objects reachable from tip and not from base,
// walking only the trees that differ; ErrNonFastForward when base is not an
// ancestor of tip.
func (r *Repo) objectsBetween(tip, base plumbing.Hash) ([]plumbing.Hash, error) {
	if base.IsZero() {
		return revlist.Objects(r.fsys, []plumbing.Hash{tip}, nil)
	}
	var out []plumbing.Hash
	cur := tip
	for range 10000 {
		if cur == base {
			return out, nil
		}
		c, err := object.GetCommit(r.fsys, cur)
		if err != nil {
			return nil, model.Wrap(model.CodeInternal, err, "read commit")
		}
		if len(c.ParentHashes) != 1 {
			if len(c.ParentHashes) > 1 {
				if ok, _ := isAncestor(r, base, tip); !ok {
					return nil, &raceErr{msg: "the remote head is not an ancestor of the commit"}
				}
				return revlist.Objects(r.fsys, []plumbing.Hash{tip}, []plumbing.Hash{base})
			}
			return nil, &raceErr{msg: "the remote head is not an ancestor of the commit"}
		}
		p, err := object.GetCommit(r.fsys, c.ParentHashes[0])
		if err != nil {
			return nil, model.Wrap(model.CodeInternal, err, "read commit")
		}
		out = append(out, c.Hash)
		if err := r.treeDiff(c.TreeHash, p.TreeHash, &out); err != nil {
			return nil, err
		}
		cur = p.Hash
	}
	return nil, &raceErr{msg: "the remote head is not an ancestor of the commit"}
}

func isAncestor(r *Repo, a, b plumbing.Hash) (bool, error) {
	ca, err := object.GetCommit(r.fsys, a)
	if err != nil {
		return false, err
	}
	cb, err := object.GetCommit(r.fsys, b)
	if err != nil {
		return false, err
	}
	return ca.IsAncestor(cb)
}

// treeDiff appends the objects of tree nt that tree ot lacks.
func (r *Repo) treeDiff(nt, ot plumbing.Hash, out *[]plumbing.Hash) error {
	if nt == ot {
		return nil
	}
	*out = append(*out, nt)
	n, err := object.GetTree(r.fsys, nt)
	if err != nil {
		return err
	}
	old := map[string]object.TreeEntry{}
	if !ot.IsZero() {
		o, err := object.GetTree(r.fsys, ot)
		if err != nil {
			return err
		}
		for _, e := range o.Entries {
			old[e.Name] = e
		}
	}
	for _, e := range n.Entries {
		oe, had := old[e.Name]
		if had && oe.Hash == e.Hash {
			continue
		}
		switch e.Mode {
		case filemode.Submodule:
		case filemode.Dir:
			prev := plumbing.ZeroHash
			if had && oe.Mode == filemode.Dir {
				prev = oe.Hash
			}
			if err := r.treeDiff(e.Hash, prev, out); err != nil {
				return err
			}
		default:
			*out = append(*out, e.Hash)
		}
	}
	return nil
}

// pushSession is an open receive-pack session with the advertised refs.
type pushSession struct {
	sess transport.ReceivePackSession
	adv  *packp.AdvRefs
	auth *remoteAuth
}

func (p *pushSession) close() {
	_ = p.sess.Close()
	p.auth.close()
}

func (p *pushSession) head(branch string) plumbing.Hash {
	if p.adv == nil {
		return plumbing.ZeroHash
	}
	return p.adv.References[plumbing.NewBranchReferenceName(branch).String()]
}

func (r *Repo) openPush(ctx context.Context) (*pushSession, error) {
	ep, err := r.endpoint()
	if err != nil {
		return nil, err
	}
	a, err := r.transportAuth(ctx)
	if err != nil {
		return nil, err
	}
	cl, err := client.NewClient(ep)
	if err != nil {
		a.close()
		return nil, model.Wrap(model.CodeBadRequest, err, "git remote "+redact(r.url))
	}
	sess, err := cl.NewReceivePackSession(ep, a.method)
	if err != nil {
		defer a.close()
		return nil, r.remoteError(ctx, "push", err, "", a)
	}
	adv, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil && !errors.Is(err, transport.ErrEmptyRemoteRepository) {
		_ = sess.Close()
		defer a.close()
		return nil, r.remoteError(ctx, "push", err, "", a)
	}
	return &pushSession{sess: sess, adv: adv, auth: a}, nil
}

// limitedBuffer keeps the first 64 KiB of what the remote says.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := 64<<10 - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// send pushes objs and the update old -> new of branch.
func (r *Repo) send(ctx context.Context, ps *pushSession, branch string, old, new plumbing.Hash, objs []plumbing.Hash) error {
	caps := capability.NewList()
	if ps.adv != nil {
		caps = ps.adv.Capabilities
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(caps)
	said := &limitedBuffer{}
	req.Progress = said
	if caps.Supports(capability.Sideband64k) {
		_ = req.Capabilities.Set(capability.Sideband64k)
	} else if caps.Supports(capability.Sideband) {
		_ = req.Capabilities.Set(capability.Sideband)
	}
	name := plumbing.NewBranchReferenceName(branch)
	req.Commands = []*packp.Command{{Name: name, Old: old, New: new}}
	var pack bytes.Buffer
	if _, err := packfile.NewEncoder(&pack, r.fsys, false).Encode(objs, 0); err != nil {
		return model.Wrap(model.CodeInternal, err, "build pack")
	}
	req.Packfile = io.NopCloser(&pack)
	if err := r.keepUnpushed(new); err != nil {
		return err
	}
	ref := unpushedRef(new).String()
	report, err := ps.sess.ReceivePack(ctx, req)
	msg := remoteText(said.String())
	if err == nil && report != nil {
		err = report.Error()
	}
	if err == nil {
		r.credentialDone(ctx, ps.auth, true)
		_ = r.fsys.SetReference(plumbing.NewHashReference(trackingRef(branch), new))
		r.forgetPushed(append(objs, new))
		return nil
	}
	if report == nil || report.UnpackStatus == "" {
		err = r.remoteError(ctx, "push", err, msg, ps.auth)
		if e, ok := err.(*model.Error); ok {
			e.WithDetail("commitSha", new.String()).WithDetail("unpushedRef", ref)
		}
		return err
	}
	if report.UnpackStatus != "ok" {
		return model.Errorf(model.CodeInternal, "git push %s: the remote could not store the commit (unpack %s); the commit %s is kept in the local cache as %s",
			redact(r.url), report.UnpackStatus, new.String()[:12], ref).
			WithDetail("remoteMessage", msg).WithDetail("commitSha", new.String()).WithDetail("unpushedRef", ref)
	}
	status := ""
	for _, cs := range report.CommandStatuses {
		if cs.Status != "ok" {
			status = cs.Status
		}
	}
	if isRace(status) {
		return &raceErr{msg: strings.TrimSpace(status + " " + msg)}
	}
	why := status
	if msg != "" {
		why += "; remote said: " + msg
	}
	return model.Errorf(model.CodeInsufficientPermission, "git push %s to %s was rejected by the remote: %s (the commit %s is kept in the local cache as %s until it is pushed or dropped)",
		redact(r.url), branch, why, new.String()[:12], ref).
		WithDetail("remote", redact(r.url)).WithDetail("branch", branch).WithDetail("status", status).
		WithDetail("remoteMessage", msg).WithDetail("commitSha", new.String()).WithDetail("unpushedRef", ref).WithDetail("reason", "rejected")
}

// isRace reports whether a ref update failed because the ref moved
// (git's statuses for a lost compare-and-swap).
func isRace(status string) bool {
	for _, s := range []string{"non-fast-forward", "fetch first", "stale info", "failed to lock", "failed to update ref", "cannot lock ref"} {
		if strings.Contains(status, s) {
			return true
		}
	}
	return false
}

// remoteText cleans sideband progress into the remote's message lines.
func remoteText(s string) string {
	var lines []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "Resolving deltas") || strings.HasPrefix(l, "Counting objects") ||
			strings.HasPrefix(l, "Compressing objects") || strings.HasPrefix(l, "Writing objects") {
			continue
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}
