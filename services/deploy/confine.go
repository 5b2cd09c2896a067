package deploy

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/internal/shape"
)

// scope is where one commitConfigChanges or deployWithGitOps call may
// write: under the environment's gitPath, or anywhere in the repository
// when an admin passes allowOutsidePath. Reading is not confined: a
// kustomize overlay builds on bases outside it, and the planner and the
// placement change such an object through a patch in the overlay.
type scope struct {
	gitPath string // clean, relative to the repository root; "." is the whole repository
	wide    bool
}

// checkWide refuses allowOutsidePath from anyone but an admin
// (INSUFFICIENT_PERMISSIONS); it is checked before anything else.
func checkWide(ctx context.Context, allowOutsidePath bool) error {
	if a := model.ActorFrom(ctx); allowOutsidePath && a.Role != model.RoleAdmin {
		return model.Errorf(model.CodeInsufficientPermission, "allowOutsidePath needs role admin; %s has role %s", a.User, a.Role).
			WithDetail("field", "allowOutsidePath").WithDetail("required", string(model.RoleAdmin)).WithDetail("role", string(a.Role))
	}
	return nil
}

// newScope is the scope of a call on the environment at gitPath; wide
// (allowOutsidePath, checked by checkWide) lifts the confinement.
func newScope(gitPath string, wide bool) scope {
	return scope{gitPath: cleanGitPath(gitPath), wide: wide}
}

// cleanGitPath is gitPath relative to the repository root, "." for all of it.
func cleanGitPath(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" {
		return "."
	}
	return p
}

// contains reports whether p (clean, relative to the repository root) may
// be written.
func (s scope) contains(p string) bool {
	return s.wide || s.gitPath == "." || p == s.gitPath || strings.HasPrefix(p, s.gitPath+"/")
}

// escapes reports whether p leaves the repository.
func escapes(p string) bool {
	return p == "" || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../")
}

// checkFile refuses commitConfigChanges' file (already cleaned) when it
// leaves the repository or the scope: BAD_REQUEST naming the field file.
func (s scope) checkFile(file string) error {
	fe := model.FieldErrors{}
	switch {
	case escapes(file):
		fe.Add("file", "must be a path inside the repository, relative to its root")
	case !s.contains(file):
		fe.Add("file", fmt.Sprintf("%s is outside the environment's gitPath %s: name a file under %s (an admin may pass allowOutsidePath)", file, s.gitPath, s.gitPath))
	}
	if err := fe.Err(); err != nil {
		return err.(*model.Error).WithDetail("file", file).WithDetail("gitPath", s.gitPath)
	}
	return nil
}

// checkWrites refuses a plan or placement that would write outside the
// scope: BAD_REQUEST naming the first such file.
func (s scope) checkWrites(files map[string][]byte) error {
	for _, p := range shape.SortedKeys(files) {
		if escapes(p) || !s.contains(p) {
			return model.Errorf(model.CodeBadRequest, "the change would write %s, outside the environment's gitPath %s: change the object through a patch in the overlay at %s instead (an admin may pass allowOutsidePath)",
				p, s.gitPath, s.gitPath).WithDetail("file", p).WithDetail("gitPath", s.gitPath)
		}
	}
	return nil
}

// checkNotLink refuses writing file when it, or a directory on its path, is
// a symbolic link in head: Git would store the YAML as the link's target.
func checkNotLink(head gitx.Snapshot, file string) error {
	link, target, ok := head.Symlink(file)
	if !ok {
		return nil
	}
	msg := fmt.Sprintf("%s is a symbolic link to %s in the repository: name the file it points to instead", file, target)
	if link != file {
		msg = fmt.Sprintf("%s goes through %s, a symbolic link to %s in the repository: name the file it points to instead", file, link, target)
	}
	fe := model.FieldErrors{}
	fe.Add("file", msg)
	return fe.Err().(*model.Error).WithDetail("file", file).WithDetail("link", link).WithDetail("target", target)
}

// checkNoLinks refuses a plan or placement that would write a file that is,
// or lies under, a symbolic link in head.
func checkNoLinks(head gitx.Snapshot, files map[string][]byte) error {
	for _, p := range shape.SortedKeys(files) {
		if link, target, ok := head.Symlink(p); ok {
			return model.Errorf(model.CodeBadRequest, "the change would write %s, which is or goes through %s, a symbolic link to %s in the repository: write the file it points to, or change the object through a patch in the overlay",
				p, link, target).WithDetail("file", p).WithDetail("link", link).WithDetail("target", target)
		}
	}
	return nil
}
