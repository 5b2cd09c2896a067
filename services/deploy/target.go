package deploy

import (
	"cmp"
	"context"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/catalog"
	"github.com/gitopstui/gitopstui/services/gitops"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/policy"
)

// gitTarget is where an environment's manifests live.
type gitTarget struct {
	env    model.Environment
	repo   model.Repository
	git    *gitx.Repo
	branch string
	path   string
}

// gitAuth turns a repository's credential reference into gitx's, as the
// lending policy allows the caller: an SSH user of a serving process may
// name only the variables and files its operator allowed, and no serving
// process lends its user's SSH agent or git credential helper to anyone
// (one clone serves every caller, so this cannot differ per call).
func (s *Deploy) gitAuth(ctx context.Context, repo model.Repository) (gitx.Auth, error) {
	actor := model.ActorFrom(ctx)
	if err := s.policy.CheckRemoteURL(actor, "url", repo.URL); err != nil {
		return gitx.Auth{}, err
	}
	out := gitx.Auth{NoCredentialHelper: s.policy.Serving, NoSSHAgent: s.policy.Serving}
	a := repo.Auth
	if a == nil {
		return out, nil
	}
	for field, name := range map[string]string{"auth.tokenEnv": a.TokenEnv, "auth.usernameEnv": a.UsernameEnv} {
		if err := s.policy.CheckEnv(actor, field, name); err != nil {
			return gitx.Auth{}, err
		}
	}
	for field, path := range map[string]string{"auth.keyFile": a.KeyFile, "auth.knownHosts": a.KnownHosts} {
		if path == "" {
			continue
		}
		if err := s.policy.CheckFile(actor, field, path); err != nil {
			return gitx.Auth{}, err
		}
		if err := policy.CheckRegular(field, path, policy.MaxFileBytes); err != nil {
			return gitx.Auth{}, err
		}
	}
	out.Username, out.KnownHostsFile = a.Username, a.KnownHosts
	if a.UsernameEnv != "" {
		out.Username = os.Getenv(a.UsernameEnv)
	}
	switch a.Type {
	case model.AuthTokenEnv, model.AuthBasicEnv:
		out.PasswordEnv, out.NoCredentialHelper = a.TokenEnv, true
		if out.Username == "" {
			out.Username = "git"
		}
	case model.AuthSSHKey:
		out.SSHKeyFile = a.KeyFile
	case model.AuthNone:
		out.NoCredentialHelper = true
	}
	return out, nil
}

func (s *Deploy) gitTarget(ctx context.Context, projectID, envID string) (gitTarget, error) {
	var t gitTarget
	env, err := s.catalog.Environment(envID)
	if err != nil {
		return t, catalog.RefErr("environmentId", "environment", envID)
	}
	if env.ProjectID != projectID {
		fe := model.FieldErrors{}
		fe.Add("environmentId", "environment "+env.ID+" belongs to project "+env.ProjectID)
		return t, fe.Err()
	}
	g := env.GitOpsConfig
	if !g.Enabled {
		return t, model.Errorf(model.CodeGitOpsNotEnabled, "GitOps is not enabled for environment %s: run environments.configureGitOps with enabled:true", env.ID).
			WithDetail("environmentId", env.ID)
	}
	repo, err := s.gitops.EnvRepository(env, "environmentId")
	if err != nil {
		return t, err
	}
	auth, err := s.gitAuth(ctx, repo)
	if err != nil {
		return t, err
	}
	gr, err := s.git.Repo(repo.ID, repo.URL, auth)
	if err != nil {
		return t, err
	}
	return gitTarget{env: env, repo: repo, git: gr, branch: gitops.EnvBranch(env, repo), path: strings.TrimPrefix(path.Clean(g.GitPath), "./")}, nil
}

// commitAuthor is the author of commits made for the caller: an SSH
// session's user, else the git config's (gitx's default).
func commitAuthor(ctx context.Context) gitx.Signature {
	a := model.ActorFrom(ctx)
	if a.Source != "ssh" {
		return gitx.Signature{}
	}
	email := a.Email
	if email == "" {
		email = a.User + "@gitopstui"
	}
	return gitx.Signature{Name: a.User, Email: email}
}

// configFile picks the file commitConfigChanges and readConfig work on: the
// given one, else the only YAML file in gitPath, else its kustomization.yaml.
func configFile(fsys fs.FS, gitPath, given string) (string, []string, error) {
	var files []string
	_ = fs.WalkDir(fsys, cmp.Or(gitPath, "."), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (path.Ext(p) == ".yaml" || path.Ext(p) == ".yml") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	if given != "" {
		return strings.TrimPrefix(path.Clean(given), "./"), files, nil
	}
	if len(files) == 1 {
		return files[0], files, nil
	}
	for _, name := range []string{"kustomization.yaml", "kustomization.yml"} {
		p := path.Join(gitPath, name)
		if slices.Contains(files, p) {
			return p, files, nil
		}
	}
	fe := model.FieldErrors{}
	if len(files) == 0 {
		fe.Add("file", "no YAML file in "+gitPath+"; name the file to create")
	} else {
		fe.Add("file", "name one of: "+strings.Join(files, ", "))
	}
	e := fe.Err().(*model.Error)
	return "", files, e.WithDetail("files", files)
}

// readConfig implements gitops.readConfig. A file that is a symbolic link
// inside the repository is read through: file names the path it resolves
// to (the one a commit can write); a link leaving the repository is
// BAD_REQUEST.
func (s *Deploy) readConfig(ctx context.Context, in api.ReadConfigInput) (api.ConfigFile, error) {
	env, err := s.catalog.Environment(in.EnvironmentID)
	if err != nil {
		return api.ConfigFile{}, err
	}
	t, err := s.gitTarget(ctx, env.ProjectID, env.ID)
	if err != nil {
		return api.ConfigFile{}, err
	}
	snap, err := t.git.Snapshot(ctx, t.branch)
	if err != nil {
		return api.ConfigFile{}, err
	}
	file, files, err := configFile(snap.FS(), t.path, in.File)
	if err != nil {
		return api.ConfigFile{}, err
	}
	if file, err = snap.Resolve(file); err != nil {
		return api.ConfigFile{}, err
	}
	b, err := snap.ReadFile(file)
	if err != nil {
		return api.ConfigFile{}, err
	}
	return api.ConfigFile{File: file, YAML: string(b), Revision: snap.Head, Branch: t.branch, Files: files}, nil
}
