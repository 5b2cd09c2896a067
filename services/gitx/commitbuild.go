package gitx

import (
	"context"
	"os/exec"
	"strings"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// buildCommit writes the commit for ch on parent (nil: root commit) and
// returns it with the objects it wrote (the push pack). changed is false when
// the tree would stay the same; no commit is written then. ch's Subject,
// when set, is the message instead of meta's.
func (r *Repo) buildCommit(ctx context.Context, parent *object.Commit, ch Changes, meta CommitMeta) (plumbing.Hash, []plumbing.Hash, bool, error) {
	if ch.Subject != "" {
		meta.Subject, meta.Body = ch.Subject, ch.Body
	}
	subject, body, err := message(meta)
	if err != nil {
		return plumbing.ZeroHash, nil, false, err
	}
	edits, err := buildEdits(ch)
	if err != nil {
		return plumbing.ZeroHash, nil, false, err
	}
	w := &writer{r: r}
	base := plumbing.ZeroHash
	if parent != nil {
		base = parent.TreeHash
	}
	th, err := w.apply(base, edits, "")
	if err != nil {
		return plumbing.ZeroHash, nil, false, err
	}
	if th.IsZero() {
		if th, err = w.put(plumbing.TreeObject, nil); err != nil {
			return plumbing.ZeroHash, nil, false, model.Wrap(model.CodeInternal, err, "write tree")
		}
	}
	if parent != nil && th == parent.TreeHash {
		return parent.Hash, nil, false, nil
	}
	author, committer := r.signatures(ctx, meta)
	c := &object.Commit{
		Author:    author,
		Committer: committer,
		Message:   subject + "\n",
		TreeHash:  th,
	}
	if body != "" {
		c.Message = subject + "\n\n" + body + "\n"
	}
	if parent != nil {
		c.ParentHashes = []plumbing.Hash{parent.Hash}
	}
	ch2, err := w.putObject(c)
	if err != nil {
		return plumbing.ZeroHash, nil, false, model.Wrap(model.CodeInternal, err, "write commit")
	}
	return ch2, w.new, true, nil
}

func message(meta CommitMeta) (string, string, error) {
	subject := strings.TrimSpace(strings.ReplaceAll(meta.Subject, "\r\n", "\n"))
	body := strings.TrimSpace(strings.ReplaceAll(meta.Body, "\r\n", "\n"))
	if first, rest, ok := strings.Cut(subject, "\n"); ok {
		subject = strings.TrimSpace(first)
		body = strings.TrimSpace(strings.TrimSpace(rest) + "\n\n" + body)
	}
	if subject == "" {
		return "", "", model.Errorf(model.CodeBadRequest, "commit message is empty").WithDetail("fields", map[string]any{"commitMessage": "required"})
	}
	return subject, body, nil
}

func (r *Repo) signatures(ctx context.Context, meta CommitMeta) (object.Signature, object.Signature) {
	now := time.Now()
	fill := func(s Signature) object.Signature {
		if s.Name == "" || s.Email == "" {
			def := r.defaultAuthor(ctx)
			if s.Name == "" {
				s.Name = def.Name
			}
			if s.Email == "" {
				s.Email = def.Email
			}
		}
		if s.When.IsZero() {
			s.When = now
		}
		return object.Signature{Name: s.Name, Email: s.Email, When: s.When}
	}
	a := fill(meta.Author)
	if meta.Committer == nil {
		return a, a
	}
	return a, fill(*meta.Committer)
}

// DefaultAuthor is the author used when CommitMeta leaves it empty:
// user.name and user.email of the global git config, else "gitopstui".
func (r *Repo) DefaultAuthor(ctx context.Context) Signature {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.defaultAuthor(ctx)
}

func (r *Repo) defaultAuthor(ctx context.Context) Signature {
	if r.author != nil {
		return *r.author
	}
	s := Signature{}
	if git, err := exec.LookPath("git"); err == nil {
		get := func(key string) string {
			cmd := exec.CommandContext(ctx, git, "config", "--global", "--get", key)
			cmd.Env = append(cmd.Environ(), r.env...)
			out, err := cmd.Output()
			if err != nil {
				return ""
			}
			return strings.TrimSpace(string(out))
		}
		s.Name, s.Email = get("user.name"), get("user.email")
	} else if cfg, err := config.LoadConfig(config.GlobalScope); err == nil {
		s.Name, s.Email = cfg.User.Name, cfg.User.Email
	}
	if s.Name == "" {
		s.Name = "gitopstui"
	}
	if s.Email == "" {
		s.Email = "gitopstui@localhost"
	}
	r.author = &s
	return s
}
