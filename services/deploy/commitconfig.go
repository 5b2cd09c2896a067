package deploy

import (
	"context"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/services/manifest"
)

// commitConfigChanges implements gitops.commitConfigChanges. With file, that
// one file is replaced by yaml. Without, yaml is the reference's "complete
// YAML content": each document is an object of the environment as kustomize
// builds it and lands where a person would put it (its own file, a patch
// of the overlay for an object of a base, a new file added to resources:),
// and the overlay must still build; a kustomization.yaml is never
// overwritten with other kinds. Both are validated first (YAML_INVALID),
// committed on the branch head, and CONFLICT_DETECTED when a file they
// write changed upstream since baseRevision.
//
// Every write stays under the environment's gitPath (BAD_REQUEST naming
// file, or the planned file, otherwise) unless an admin passes
// allowOutsidePath, and never goes through a symbolic link.
func (s *Deploy) commitConfigChanges(ctx context.Context, in api.CommitConfigInput) (api.CommitConfigResult, error) {
	if err := checkWide(ctx, in.AllowOutsidePath); err != nil {
		return api.CommitConfigResult{}, err
	}
	t, err := s.gitTarget(ctx, in.ProjectID, in.EnvironmentID)
	if err != nil {
		return api.CommitConfigResult{}, err
	}
	sc := newScope(t.path, in.AllowOutsidePath)
	if in.File != "" {
		return s.commitFile(ctx, t, sc, in)
	}
	return s.commitDocuments(ctx, t, sc, in)
}

// commitDocuments places complete YAML in the environment's path.
func (s *Deploy) commitDocuments(ctx context.Context, t gitTarget, sc scope, in api.CommitConfigInput) (api.CommitConfigResult, error) {
	v, err := s.yamlValidator()
	if err != nil {
		return api.CommitConfigResult{}, err
	}
	if res := v.Validate(ctx, []byte(in.YAML)); !res.Valid {
		e := res.Errors[0]
		return api.CommitConfigResult{}, model.Errorf(model.CodeYAMLInvalid, "yaml has %d error(s); first: line %d: %s", len(res.Errors), e.Line, e.Message).
			WithDetail("errors", res.Errors).WithDetail("warnings", res.Warnings)
	}
	var base gitx.Snapshot
	if in.BaseRevision != "" {
		if base, err = t.git.Snapshot(ctx, in.BaseRevision); err != nil {
			fe := model.FieldErrors{}
			fe.Add("baseRevision", "commit "+in.BaseRevision+" is not in the repository")
			return api.CommitConfigResult{}, fe.Err()
		}
	}
	var written []string
	intent := func(head gitx.Snapshot) (gitx.Changes, error) {
		p, err := manifest.PlaceDocuments(head.FS(), t.path, []byte(in.YAML))
		if err != nil {
			return gitx.Changes{}, err
		}
		if len(p.Files) == 0 {
			return gitx.Changes{}, model.Errorf(model.CodeBadRequest, "nothing to commit: %s already builds these objects at %s", t.path, shortSHA(head.Head)).
				WithDetail("commitSha", head.Head)
		}
		if err := sc.checkWrites(p.Files); err != nil {
			return gitx.Changes{}, err
		}
		if err := checkNoLinks(head, p.Files); err != nil {
			return gitx.Changes{}, err
		}
		if in.BaseRevision != "" && head.Head != in.BaseRevision {
			if cs := upstreamChanges(base, head, p.Files); len(cs) > 0 {
				return gitx.Changes{}, model.Errorf(model.CodeConflictDetected, "%s changed upstream since %s", cs[0].Path, shortSHA(in.BaseRevision)).
					WithDetail("conflicts", cs).WithDetail("head", head.Head)
			}
		}
		written = shape.SortedKeys(p.Files)
		return gitx.Changes{Write: p.Files}, nil
	}
	res, err := t.git.CommitAndPush(ctx, t.branch, intent,
		gitx.CommitMeta{Subject: in.CommitMessage, Body: in.CommitDescription, Author: commitAuthor(ctx)}, gitx.RetryOpts{MaxAttempts: 10})
	if err != nil {
		return api.CommitConfigResult{}, err
	}
	return api.CommitConfigResult{CommitSha: res.Commit, GitURL: gitx.CommitURL(t.repo.URL, res.Commit), Branch: t.branch,
		File: strings.Join(written, ", "), Files: written}, nil
}

// upstreamChanges lists the files a commit would write that changed between
// base and head, as whole-file conflicts (base, ours, theirs).
func upstreamChanges(base, head gitx.Snapshot, files map[string][]byte) []manifest.Conflict {
	var out []manifest.Conflict
	for _, p := range shape.SortedKeys(files) {
		b, bErr := base.ReadFile(p)
		h, hErr := head.ReadFile(p)
		if (bErr == nil) == (hErr == nil) && string(b) == string(h) {
			continue
		}
		c := manifest.Conflict{Path: p, Ours: strPtr(string(files[p]))}
		if bErr == nil {
			c.Base = strPtr(string(b))
		}
		if hErr == nil {
			c.Theirs = strPtr(string(h))
		}
		out = append(out, c)
	}
	return out
}

// commitFile implements gitops.commitConfigChanges with file: validated first
// (YAML_INVALID with the errors), then committed on the branch head; when the
// file changed upstream since baseRevision, CONFLICT_DETECTED with base, ours
// and theirs.
func (s *Deploy) commitFile(ctx context.Context, t gitTarget, sc scope, in api.CommitConfigInput) (api.CommitConfigResult, error) {
	rev := in.BaseRevision
	if rev == "" {
		rev = t.branch
	}
	snap, err := t.git.Snapshot(ctx, rev)
	if err != nil {
		if in.BaseRevision != "" {
			fe := model.FieldErrors{}
			fe.Add("baseRevision", "commit "+in.BaseRevision+" is not in the repository")
			return api.CommitConfigResult{}, fe.Err()
		}
		return api.CommitConfigResult{}, err
	}
	file, _, err := configFile(snap.FS(), t.path, in.File)
	if err != nil {
		return api.CommitConfigResult{}, err
	}
	if err := sc.checkFile(file); err != nil {
		return api.CommitConfigResult{}, err
	}
	if err := checkNotLink(snap, file); err != nil {
		return api.CommitConfigResult{}, err
	}
	var baseContent []byte
	if in.BaseRevision != "" {
		baseContent, _ = snap.ReadFile(file)
	}
	if res, err := s.validateFile(ctx, file, []byte(in.YAML)); err != nil {
		return api.CommitConfigResult{}, err
	} else if !res.Valid {
		return api.CommitConfigResult{}, model.Errorf(model.CodeYAMLInvalid, "%s has %d error(s); first: line %d: %s", file, len(res.Errors), res.Errors[0].Line, res.Errors[0].Message).
			WithDetail("errors", res.Errors).WithDetail("warnings", res.Warnings).WithDetail("file", file)
	}
	intent := func(head gitx.Snapshot) (gitx.Changes, error) {
		if err := checkNotLink(head, file); err != nil {
			return gitx.Changes{}, err
		}
		if in.BaseRevision != "" && head.Head != in.BaseRevision {
			theirs, _ := head.ReadFile(file)
			if string(theirs) != string(baseContent) && string(theirs) != in.YAML {
				return gitx.Changes{}, model.Errorf(model.CodeConflictDetected, "%s changed upstream since %s", file, shortSHA(in.BaseRevision)).
					WithDetail("conflicts", []manifest.Conflict{{Path: file, Field: "", Base: strPtr(string(baseContent)), Ours: strPtr(in.YAML), Theirs: strPtr(string(theirs))}}).
					WithDetail("head", head.Head)
			}
		}
		return gitx.Changes{Write: map[string][]byte{file: []byte(in.YAML)}}, nil
	}
	res, err := t.git.CommitAndPush(ctx, t.branch, intent,
		gitx.CommitMeta{Subject: in.CommitMessage, Body: in.CommitDescription, Author: commitAuthor(ctx)}, gitx.RetryOpts{MaxAttempts: 10})
	if err != nil {
		return api.CommitConfigResult{}, err
	}
	return api.CommitConfigResult{CommitSha: res.Commit, GitURL: gitx.CommitURL(t.repo.URL, res.Commit), Branch: t.branch, File: file,
		Files: []string{file}}, nil
}
