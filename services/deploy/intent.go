package deploy

import (
	"context"
	"io/fs"

	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/manifest"
)

// planner plans a change on the files of a commit (the repository root).
type planner func(fsys fs.FS) (*manifest.Result, error)

// planned is the commit intent of a planned change, for gitx.CommitAndPush:
// the change is planned on each head it is tried on; after the first try,
// an upstream change to a field the change also changes is
// CONFLICT_DETECTED. Every plan is checked (confined to the scope, written
// through no link, valid YAML) before it is committed. last returns the
// plan of the newest try.
type planned struct {
	s    *Deploy
	ctx  context.Context
	sc   scope
	plan planner
	// check validates the files the plan writes (checkChangedYAML unless set).
	check func(head gitx.Snapshot) error
	first *manifest.Result
	base  map[string][]byte
	last  *manifest.Result
}

func (p *planned) intent(head gitx.Snapshot) (gitx.Changes, error) {
	if p.first != nil {
		theirs := map[string][]byte{}
		for path := range p.base {
			if b, err := head.ReadFile(path); err == nil {
				theirs[path] = b
			}
		}
		if cs := manifest.Conflicts(p.base, theirs, p.first.Edits); len(cs) > 0 {
			hideConflictValues(cs) // an env value may be a secret
			return gitx.Changes{}, manifest.ConflictError(cs)
		}
	}
	plan, err := p.plan(head.FS())
	if err != nil {
		return gitx.Changes{}, err
	}
	if err := p.sc.checkWrites(plan.Files); err != nil {
		return gitx.Changes{}, err
	}
	if err := checkNoLinks(head, plan.Files); err != nil {
		return gitx.Changes{}, err
	}
	check := func(head gitx.Snapshot) error { return p.s.checkChangedYAML(p.ctx, head, plan.Files) }
	if p.check != nil {
		check = p.check
	}
	if err := check(head); err != nil {
		return gitx.Changes{}, err
	}
	if p.first == nil {
		p.first = plan
		p.base = map[string][]byte{}
		for _, e := range plan.Edits {
			if b, err := head.ReadFile(e.Path); err == nil {
				p.base[e.Path] = b
			}
		}
	}
	p.last = plan
	return gitx.Changes{Write: plan.Files}, nil
}
