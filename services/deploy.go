package services

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/manifest"
	"github.com/gitopstui/gitopstui/services/validate"
	"github.com/gitopstui/gitopstui/store"
)

func (s *Services) registerDeploy(r *Registry) {
	bind(r, api.PreviewChanges, s.PreviewChanges)
	bind(r, api.DeployWithGitOps, s.DeployWithGitOps)
	bind(r, api.CommitConfigChanges, s.CommitConfigChanges)
	bind(r, api.ReadConfig, s.ReadConfig)
	bind(r, api.ValidateYAML, s.ValidateYAML)
}

// gitTarget is where an environment's manifests live.
type gitTarget struct {
	env    model.Environment
	repo   model.Repository
	git    *gitx.Repo
	branch string
	path   string
}

// gitCache returns the per-process cache of bare clones in <data-dir>/git.
func (s *Services) gitCache() *gitx.Cache {
	s.gitOnce.Do(func() { s.git = gitx.NewCache(path.Join(s.dataDir, "git")) })
	return s.git
}

// gitAuth turns a repository's credential reference into gitx's.
func gitAuth(a *model.RepoAuth) gitx.Auth {
	if a == nil {
		return gitx.Auth{}
	}
	out := gitx.Auth{Username: a.Username, KnownHostsFile: a.KnownHosts}
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
	return out
}

func (s *Services) gitTarget(projectID, envID string) (gitTarget, error) {
	var t gitTarget
	env, err := s.environment(envID)
	if err != nil {
		return t, refErr("environmentId", "environment", envID)
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
	repo, err := s.envRepository(env, "environmentId")
	if err != nil {
		return t, err
	}
	gr, err := s.gitCache().Repo(repo.ID, repo.URL, gitAuth(repo.Auth))
	if err != nil {
		return t, err
	}
	return gitTarget{env: env, repo: repo, git: gr, branch: envBranch(env, repo), path: strings.TrimPrefix(path.Clean(g.GitPath), "./")}, nil
}

// PreviewChanges implements gitops.previewChanges.
func (s *Services) PreviewChanges(ctx context.Context, in api.PreviewInput) (api.PreviewResult, error) {
	t, err := s.gitTarget(in.ProjectID, in.EnvironmentID)
	if err != nil {
		return api.PreviewResult{}, err
	}
	snap, err := t.git.Snapshot(ctx, t.branch)
	if err != nil {
		return api.PreviewResult{}, err
	}
	plan, err := manifest.PlanFS(snap.FS(), t.path, manifestChange(in.Changes, in.Workload, in.Container))
	if err != nil {
		return api.PreviewResult{}, err
	}
	return previewOf(plan, snap.Head, t.branch), nil
}

// manifestChange turns the contract's change into the planner's.
func manifestChange(c api.ChangeSet, workload, container string) manifest.Change {
	ch := manifest.Change{Workload: workload, Container: container, Image: c.Image, Replicas: c.Replicas, Env: c.Env}
	if r := c.Resources; r != nil {
		ch.Resources = &manifest.Resources{}
		if r.Requests != nil {
			ch.Resources.Requests = manifest.ResourceValues{CPU: r.Requests.CPU, Memory: r.Requests.Memory}
		}
		if r.Limits != nil {
			ch.Resources.Limits = manifest.ResourceValues{CPU: r.Limits.CPU, Memory: r.Limits.Memory}
		}
	}
	return ch
}

func previewOf(p *manifest.Result, head, branch string) api.PreviewResult {
	files := sortedKeys(p.Files)
	edits := make([]api.Edit, len(p.Edits))
	for i, e := range p.Edits {
		edits[i] = api.Edit{Path: e.Path, Object: e.Object, Field: e.Field, Old: e.Old, New: e.New, Note: e.Note}
	}
	im := p.Impact
	return api.PreviewResult{Diff: p.Diff,
		Summary: api.Summary{Additions: p.Summary.Additions, Deletions: p.Summary.Deletions, Files: files},
		Impact: api.Impact{WillRestartPods: im.WillRestartPods, EstimatedDowntime: im.EstimatedDowntime,
			AffectedResources: nonNil(im.AffectedResources), DowntimeReason: im.DowntimeReason, ImmutableChanges: im.ImmutableChanges},
		Warnings: nonNil(p.Warnings), Edits: edits, Workload: p.Workload, BaseRevision: head, Branch: branch}
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// nonNil returns xs, or an empty list for nil, so that JSON says [] not null.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
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

// checkChangedYAML re-validates the files a commit writes: an error the new
// content has and the old one did not is YAML_INVALID (details.errors). A
// created file is a strategic-merge patch, partial by design, so missing
// required fields are not counted there; strategic-merge-patch directives
// ($patch: delete) are kustomize's, not unknown fields.
func (s *Services) checkChangedYAML(ctx context.Context, head gitx.Snapshot, files map[string][]byte) error {
	v, err := s.yamlValidator()
	if err != nil {
		return err
	}
	var errs []any
	for p, b := range files {
		if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
			continue
		}
		before := map[string]bool{}
		old, readErr := head.ReadFile(p)
		if readErr == nil {
			for _, e := range v.ValidateFile(ctx, p, old).Errors {
				before[e.Field+"\x00"+e.Message] = true
			}
		}
		for _, e := range v.ValidateFile(ctx, p, b).Errors {
			if before[e.Field+"\x00"+e.Message] || (readErr != nil && strings.HasSuffix(e.Message, "Required value")) || manifest.PatchDirective(e.Field) {
				continue
			}
			errs = append(errs, map[string]any{"file": p, "line": e.Line, "column": e.Column, "field": e.Field, "message": e.Message})
		}
	}
	if len(errs) > 0 {
		return model.Errorf(model.CodeYAMLInvalid, "the change would commit invalid YAML (%d error(s))", len(errs)).WithDetail("errors", errs)
	}
	return nil
}

// DeployWithGitOps implements gitops.deployWithGitOps: the change is planned
// on the branch head, validated, committed from trees and pushed. A push that
// loses a race is re-planned on the new head; an upstream change to a field
// this change also changes is CONFLICT_DETECTED.
func (s *Services) DeployWithGitOps(ctx context.Context, in api.DeployInput) (api.DeployResult, error) {
	t, err := s.gitTarget(in.ProjectID, in.EnvironmentID)
	if err != nil {
		return api.DeployResult{}, err
	}
	ch := manifestChange(in.Change(), in.Workload, in.Container)
	var first *manifest.Result
	var base map[string][]byte
	var last *manifest.Result
	intent := func(head gitx.Snapshot) (gitx.Changes, error) {
		if first != nil {
			theirs := map[string][]byte{}
			for p := range base {
				if b, err := head.ReadFile(p); err == nil {
					theirs[p] = b
				}
			}
			if cs := manifest.Conflicts(base, theirs, first.Edits); len(cs) > 0 {
				return gitx.Changes{}, manifest.ConflictError(cs)
			}
		}
		plan, err := manifest.PlanFS(head.FS(), t.path, ch)
		if err != nil {
			return gitx.Changes{}, err
		}
		if err := s.checkChangedYAML(ctx, head, plan.Files); err != nil {
			return gitx.Changes{}, err
		}
		if first == nil {
			first = plan
			base = map[string][]byte{}
			for _, e := range plan.Edits {
				if b, err := head.ReadFile(e.Path); err == nil {
					base[e.Path] = b
				}
			}
		}
		last = plan
		return gitx.Changes{Write: plan.Files}, nil
	}
	subject, body := in.CommitMessage, ""
	if subject == "" {
		subject = conventionalMessage(t.env.Name, in.Workload, in.Change())
	} else if i := strings.IndexByte(subject, '\n'); i >= 0 {
		subject, body = subject[:i], strings.TrimSpace(subject[i+1:])
	}
	res, err := t.git.CommitAndPush(ctx, t.branch, intent, gitx.CommitMeta{Subject: subject, Body: body, Author: commitAuthor(ctx)}, gitx.RetryOpts{MaxAttempts: 10})
	if err != nil {
		return api.DeployResult{}, err
	}
	if res.NoOp {
		return api.DeployResult{}, model.Errorf(model.CodeBadRequest, "nothing to deploy: %s already has these values at %s", t.path, shortSHA(res.Commit)).
			WithDetail("commitSha", res.Commit)
	}
	now := s.now()
	d := model.Deployment{ID: newID("dep"), ProjectID: t.env.ProjectID, EnvironmentID: t.env.ID, DeploymentMethod: model.MethodGitOpsUI,
		Status: model.DeployPending, Image: in.Image, Replicas: in.Replicas, GitCommitSha: res.Commit,
		GitCommitURL: gitx.CommitURL(t.repo.URL, res.Commit), Message: subject, Diff: last.Diff, DeployedBy: model.ActorFrom(ctx).User,
		CreatedAt: now, UpdatedAt: now}
	var kustomizations []model.GitOpsResource
	err = s.db.Update(func(tx *store.Tx) error {
		res, _, err := store.Resources.List(tx, store.Query[model.GitOpsResource]{Index: "environment", Value: t.env.ID,
			Filter: func(r model.GitOpsResource) bool { return r.Type == model.ResourceKustomization }})
		if err != nil {
			return err
		}
		kustomizations = res
		if len(res) == 1 {
			d.GitOpsResourceID = res[0].ID
		}
		return store.Deployments.Put(tx, d)
	})
	if err != nil {
		return api.DeployResult{}, err
	}
	msg := fmt.Sprintf("committed %s to %s (%s); Flux applies it on its next sync", shortSHA(res.Commit), t.branch, t.path)
	if t.env.GitOpsConfig.AutoSync && len(kustomizations) > 0 {
		if s.requestReconcile(ctx, t.env, kustomizations) {
			msg = fmt.Sprintf("committed %s to %s (%s); asked Flux to apply it now", shortSHA(res.Commit), t.branch, t.path)
		}
	} else if !t.env.GitOpsConfig.AutoSync {
		msg += " (manual sync: run gitops.triggerSync)"
	}
	return api.DeployResult{DeploymentID: d.ID, CommitSha: res.Commit, GitURL: d.GitCommitURL, Message: msg, Branch: t.branch,
		Attempts: res.Attempts, Warnings: nonNil(last.Warnings)}, nil
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// conventionalMessage is the default commit subject of a deploy.
func conventionalMessage(env, workload string, c api.ChangeSet) string {
	var parts []string
	if c.Image != "" {
		parts = append(parts, "image "+c.Image)
	}
	if c.Replicas != nil {
		parts = append(parts, fmt.Sprintf("replicas %d", *c.Replicas))
	}
	if len(c.Env) > 0 {
		keys := make([]string, 0, len(c.Env))
		for k := range c.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts = append(parts, "env "+strings.Join(keys, ","))
	}
	if c.Resources != nil {
		parts = append(parts, "resources")
	}
	scope := env
	if workload != "" {
		scope = env + "/" + workload
	}
	return fmt.Sprintf("deploy(%s): set %s", scope, strings.Join(parts, ", "))
}

// requestReconcile asks Flux to reconcile the environment's Kustomizations
// now (best effort, not waited for); it reports whether the request landed.
// Each one's GitRepository is asked first: only the source fetches the new
// commit, and kustomize-controller applies it when the source's artifact
// changes (a Kustomization reconciled alone re-applies the old artifact).
func (s *Services) requestReconcile(ctx context.Context, env model.Environment, res []model.GitOpsResource) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	k, _, err := s.kubeFor(env.ClusterID)
	if err != nil {
		return false
	}
	at := s.now().Format(time.RFC3339Nano)
	ok := true
	sources := map[string]bool{}
	for _, r := range res {
		if r.Suspended {
			continue
		}
		if !s.reconcileSource(ctx, k, env, r, at, sources) {
			ok = false
		}
		if _, err := k.dyn.Resource(resourceGVR(r.Type)).Namespace(r.Namespace).Patch(ctx, r.Name, types.MergePatchType, annotatePatch(at), metav1.PatchOptions{}); err != nil {
			ok = false
		}
	}
	return ok
}

// configFile picks the file commitConfigChanges and readConfig work on: the
// given one, else the only YAML file in gitPath, else its kustomization.yaml.
func configFile(fsys fs.FS, gitPath, given string) (string, []string, error) {
	var files []string
	_ = fs.WalkDir(fsys, orDefault(gitPath, "."), func(p string, d fs.DirEntry, err error) error {
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
		if contains(files, p) {
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

// ReadConfig implements gitops.readConfig.
func (s *Services) ReadConfig(ctx context.Context, in api.ReadConfigInput) (api.ConfigFile, error) {
	env, err := s.environment(in.EnvironmentID)
	if err != nil {
		return api.ConfigFile{}, err
	}
	t, err := s.gitTarget(env.ProjectID, env.ID)
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
	b, err := snap.ReadFile(file)
	if err != nil {
		return api.ConfigFile{}, err
	}
	return api.ConfigFile{File: file, YAML: string(b), Revision: snap.Head, Branch: t.branch, Files: files}, nil
}

func strPtr(s string) *string { return &s }

// yamlValidator returns the validator, built once with the embedded Flux CRDs.
func (s *Services) yamlValidator() (*validate.Validator, error) {
	s.valOnce.Do(func() {
		b, err := fluxbundle.Load("")
		if err != nil {
			s.valErr = err
			return
		}
		crds, err := b.CRDs(fluxbundle.Options{})
		if err != nil {
			s.valErr = err
			return
		}
		raw, err := fluxbundle.Marshal(crds)
		if err != nil {
			s.valErr = err
			return
		}
		s.val, s.valErr = validate.New(validate.Options{}, raw)
	})
	return s.val, s.valErr
}

// validateFile validates a file that is about to be committed, by its name:
// a kustomization.yaml may leave out apiVersion and kind, as kustomize allows.
func (s *Services) validateFile(ctx context.Context, file string, data []byte) (validate.Result, error) {
	v, err := s.yamlValidator()
	if err != nil {
		return validate.Result{}, err
	}
	return v.ValidateFile(ctx, file, data), nil
}

// ValidateYAML implements gitops.validateYAML.
func (s *Services) ValidateYAML(ctx context.Context, in api.ValidateYAMLInput) (api.ValidateResult, error) {
	v, err := s.yamlValidator()
	if err != nil {
		return api.ValidateResult{}, err
	}
	return validateResult(v.Validate(ctx, []byte(in.YAML))), nil
}

// validateResult is the validator's verdict in the contract's shape.
func validateResult(r validate.Result) api.ValidateResult {
	out := api.ValidateResult{Valid: r.Valid, Documents: r.Documents, Errors: make([]api.YAMLError, len(r.Errors)),
		Warnings: make([]api.YAMLWarning, len(r.Warnings))}
	for i, e := range r.Errors {
		out.Errors[i] = api.YAMLError{Line: e.Line, Column: e.Column, Message: e.Message, Document: e.Document,
			Field: e.Field, Kind: e.Kind, Name: e.Name}
	}
	for i, w := range r.Warnings {
		out.Warnings[i] = api.YAMLWarning{Message: w.Message, Suggestion: w.Suggestion, Line: w.Line, Column: w.Column,
			Document: w.Document, Field: w.Field, Kind: w.Kind, Name: w.Name}
	}
	return out
}
