package deploy

import (
	"bytes"
	"fmt"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/manifest"
)

// revertPlan is what undoing one commit writes on a branch head.
type revertPlan struct {
	writes  map[string][]byte
	deletes []string
	// before holds the head's content of every written or deleted file
	// that exists there.
	before    map[string][]byte
	conflicts []manifest.Conflict
}

func (p *revertPlan) empty() bool { return len(p.writes) == 0 && len(p.deletes) == 0 }

// Whole-file states in a conflict, where a file rather than a field differs.
const (
	fileAdded    = "file added by the deployment"
	fileChanged  = "file changed since the deployment"
	fileRestored = "file as it was before the deployment"
	fileRecreate = "file created again since the deployment"
)

// planRevert undoes changes (the files a commit C changed: Old at C's
// parent, New at C) on head, file by file, as `git revert` would but
// without a worktree: a file C modified gets a three-way merge whose base
// is the file at C, with upstream's edits (C to head) on one side and the
// revert's (C to its parent) on the other; edits to the same lines are a
// conflict labelled with the YAML field there and its value at C (base),
// before C (ours) and at head (theirs). A file C added is deleted unless
// it changed since; a file C deleted is restored unless it was created
// again. Symbolic links and submodules are refused.
func planRevert(head gitx.Snapshot, changes []gitx.FileChange) (*revertPlan, error) {
	p := &revertPlan{writes: map[string][]byte{}, before: map[string][]byte{}}
	for _, fc := range changes {
		if fc.Special || fc.ModeChange {
			return nil, model.Errorf(model.CodeBadRequest, "the deployment's commit changes %s, a symbolic link, submodule or file mode: roll it back by hand", fc.Path).
				WithDetail("file", fc.Path)
		}
		cur, err := head.ReadFile(fc.Path)
		exists := err == nil
		if err != nil && model.CodeOf(err) != model.CodeNotFound {
			return nil, err
		}
		if exists {
			p.before[fc.Path] = cur
		}
		switch {
		case !fc.NewExists: // the commit deleted it: restore it
			switch {
			case !exists:
				p.writes[fc.Path] = fc.Old
			case !bytes.Equal(cur, fc.Old):
				p.conflicts = append(p.conflicts, manifest.Conflict{Path: fc.Path, Base: nil, Ours: strPtr(fileRestored), Theirs: strPtr(fileRecreate)})
			}
		case !fc.OldExists: // the commit added it: delete it
			switch {
			case !exists:
			case bytes.Equal(cur, fc.New):
				p.deletes = append(p.deletes, fc.Path)
			default:
				p.conflicts = append(p.conflicts, manifest.Conflict{Path: fc.Path, Base: strPtr(fileAdded), Ours: nil, Theirs: strPtr(fileChanged)})
			}
		case !exists:
			p.conflicts = append(p.conflicts, manifest.Conflict{Path: fc.Path, Base: strPtr(fileAdded), Ours: strPtr(fileRestored), Theirs: nil})
		default:
			merged, cs := merge3(fc.Path, fc.New, fc.Old, cur)
			p.conflicts = append(p.conflicts, cs...)
			if len(cs) == 0 && !bytes.Equal(merged, cur) {
				p.writes[fc.Path] = merged
			}
		}
	}
	return p, nil
}

// merge3 merges ours (the revert of base) and theirs (upstream's change of
// base) line by line; a region both change differently is a conflict.
func merge3(path string, base, ours, theirs []byte) ([]byte, []manifest.Conflict) {
	b := string(base)
	x := udiff.Lines(b, string(theirs))               // upstream
	y := alreadyDone(x, udiff.Lines(b, string(ours))) // the revert
	var out []manifest.Conflict
	seen := map[string]bool{}
	for _, xe := range x {
		for _, ye := range y {
			if xe == ye || !(xe.Start < ye.End && ye.Start < xe.End) {
				continue
			}
			c := conflictAt(path, base, ours, theirs, xe, ye)
			if k := c.Field; !seen[k] {
				seen[k] = true
				out = append(out, c)
			}
		}
	}
	if len(out) > 0 {
		return nil, out
	}
	edits, ok := udiff.Merge(x, y)
	if ok {
		if merged, err := udiff.Apply(b, edits); err == nil {
			return []byte(merged), nil
		}
	}
	return nil, []manifest.Conflict{{Path: path, Base: strPtr(fileAdded), Ours: strPtr(fileRestored), Theirs: strPtr(fileChanged)}}
}

// alreadyDone drops from y the edits that an edit of x already makes: the
// same lines replaced by text that starts or ends with y's (upstream made
// the same change and added lines next to it).
func alreadyDone(x, y []udiff.Edit) []udiff.Edit {
	out := y[:0:0]
	for _, ye := range y {
		done := false
		for _, xe := range x {
			if ye.New != "" && xe.Start == ye.Start && xe.End == ye.End && (strings.HasPrefix(xe.New, ye.New) || strings.HasSuffix(xe.New, ye.New)) {
				done = true
				break
			}
		}
		if !done {
			out = append(out, ye)
		}
	}
	return out
}

// conflictAt describes the conflict of upstream's edit xe and the revert's
// ye: by YAML field when the first line both touch lies in one, by line
// otherwise.
func conflictAt(path string, base, ours, theirs []byte, xe, ye udiff.Edit) manifest.Conflict {
	start := max(xe.Start, ye.Start)
	line := bytes.Count(base[:start], []byte("\n")) + 1
	obj, field := manifest.FieldAt(path, base, line)
	if field != "" {
		bv := manifest.FieldValue(path, base, obj, field)
		ov := manifest.FieldValue(path, ours, obj, field)
		tv := manifest.FieldValue(path, theirs, obj, field)
		if bv != nil || ov != nil || tv != nil {
			label := field
			if obj != "" {
				label = obj + " " + field
			}
			return manifest.Conflict{Path: path, Field: label, Base: bv, Ours: ov, Theirs: tv}
		}
	}
	lo, hi := min(xe.Start, ye.Start), max(xe.End, ye.End)
	bt := strings.TrimRight(string(base[lo:hi]), "\n")
	ot, tt := strings.TrimRight(ye.New, "\n"), strings.TrimRight(xe.New, "\n")
	label := fmt.Sprintf("line %d", line)
	if field != "" {
		label = strings.TrimSpace(obj+" "+field) + fmt.Sprintf(" (line %d)", line)
	}
	return manifest.Conflict{Path: path, Field: label, Base: &bt, Ours: &ot, Theirs: &tt}
}
