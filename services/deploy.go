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
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/manifest"
	"github.com/gitopstui/gitopstui/services/validate"
	"github.com/gitopstui/gitopstui/store"
)

// ChangeSet is what to change in an environment's manifests.
type ChangeSet struct {
	Image     string              `json:"image,omitempty" doc:"new image, e.g. ghcr.io/acme/web:1.4.2"`
	Replicas  *int32              `json:"replicas,omitempty" doc:"new replica count"`
	Env       map[string]*string  `json:"env,omitempty" doc:"environment variables to set (null removes)"`
	Resources *manifest.Resources `json:"resources,omitempty" doc:"requests/limits {cpu, memory}"`
}

// PreviewInput is gitops.previewChanges's input.
type PreviewInput struct {
	ProjectID     string    `json:"projectId" required:"true" doc:"project id"`
	EnvironmentID string    `json:"environmentId" required:"true" doc:"environment id"`
	Changes       ChangeSet `json:"changes" doc:"what to change"`
	Workload      string    `json:"workload,omitempty" doc:"Deployment/StatefulSet/DaemonSet to change when the path holds several"`
	Container     string    `json:"container,omitempty" doc:"container to change when the workload has several"`
}

// Validate implements Validator.
func (in *PreviewInput) Validate(fe model.FieldErrors) { in.Changes.check(fe) }

func (c *ChangeSet) check(fe model.FieldErrors) {
	if c.Image == "" && c.Replicas == nil && len(c.Env) == 0 && c.Resources == nil {
		fe.Add("changes", "name at least one of image, replicas, env, resources")
	}
	if c.Image != "" {
		if _, err := manifest.ParseImage(c.Image); err != nil {
			fe.Add("changes.image", err.Error())
		}
	}
	if c.Replicas != nil && *c.Replicas < 0 {
		fe.Add("changes.replicas", "must be 0 or more")
	}
	for k := range c.Env {
		if k == "" || strings.ContainsAny(k, "= \t") {
			fe.Add("changes.env", fmt.Sprintf("%q is not a valid variable name", k))
		}
	}
}

// PreviewResult is gitops.previewChanges's result: the files exactly as they
// would be committed, as a diff, with the impact.
type PreviewResult struct {
	Diff         string           `json:"diff"`
	Summary      manifest.Summary `json:"summary"`
	Impact       manifest.Impact  `json:"impact"`
	Warnings     []string         `json:"warnings"`
	Edits        []manifest.Edit  `json:"edits"`
	Workload     string           `json:"workload"`
	Files        []string         `json:"files"`
	BaseRevision string           `json:"baseRevision"`
	Branch       string           `json:"branch"`
}

// DeployInput is gitops.deployWithGitOps's input.
type DeployInput struct {
	ProjectID     string    `json:"projectId" required:"true" doc:"project id"`
	EnvironmentID string    `json:"environmentId" required:"true" doc:"environment id"`
	Changes       ChangeSet `json:"changes" doc:"what to change"`
	Workload      string    `json:"workload,omitempty" doc:"workload to change when the path holds several"`
	Container     string    `json:"container,omitempty" doc:"container to change when the workload has several"`
	CommitMessage string    `json:"commitMessage,omitempty" doc:"commit message (default a conventional one)"`
}

// Validate implements Validator.
func (in *DeployInput) Validate(fe model.FieldErrors) { in.Changes.check(fe) }

// DeployResult is gitops.deployWithGitOps's result.
type DeployResult struct {
	DeploymentID string `json:"deploymentId"`
	CommitSha    string `json:"commitSha"`
	GitURL       string `json:"gitUrl"`
	Message      string `json:"message"`
	Branch       string `json:"branch"`
	Attempts     int    `json:"attempts"`
}

// CommitConfigInput is gitops.commitConfigChanges's input.
type CommitConfigInput struct {
	ProjectID         string `json:"projectId" required:"true" doc:"project id"`
	EnvironmentID     string `json:"environmentId" required:"true" doc:"environment id"`
	YAML              string `json:"yaml" required:"true" doc:"the new content of the file"`
	CommitMessage     string `json:"commitMessage" required:"true" doc:"commit subject"`
	CommitDescription string `json:"commitDescription,omitempty" doc:"commit body"`
	File              string `json:"file,omitempty" doc:"file to write (default the environment's manifest in gitPath)"`
	BaseRevision      string `json:"baseRevision,omitempty" doc:"commit the edit started from: upstream changes since are a conflict"`
}

// Validate implements Validator.
func (in *CommitConfigInput) Validate(fe model.FieldErrors) {
	if in.File != "" {
		checkGitPath(fe, "file", in.File)
	}
	if in.BaseRevision != "" && !isHexSHA(in.BaseRevision) {
		fe.Add("baseRevision", "must be a commit SHA")
	}
	if strings.ContainsAny(in.CommitMessage, "\n\r") {
		fe.Add("commitMessage", "must be one line; put details in commitDescription")
	}
}

// CommitConfigResult is gitops.commitConfigChanges's result.
type CommitConfigResult struct {
	CommitSha string `json:"commitSha"`
	GitURL    string `json:"gitUrl"`
	Branch    string `json:"branch"`
	File      string `json:"file"`
}

// ValidateYAMLInput is gitops.validateYAML's input.
type ValidateYAMLInput struct {
	YAML string `json:"yaml" required:"true" doc:"one or more YAML documents"`
}

// ReadConfigInput is gitops.readConfig's input.
type ReadConfigInput struct {
	EnvironmentID string `json:"environmentId" required:"true" doc:"environment id"`
	File          string `json:"file,omitempty" doc:"file to read (default the environment's manifest)"`
}

// ConfigFile is a manifest file at a revision.
type ConfigFile struct {
	File     string   `json:"file"`
	YAML     string   `json:"yaml"`
	Revision string   `json:"revision"`
	Branch   string   `json:"branch"`
	Files    []string `json:"files"`
}

func (s *Services) registerDeploy(r *Registry) {
	register(r, "gitops.previewChanges", model.RoleViewer, false, "Show the diff and impact of a change before it is committed", s.PreviewChanges)
	register(r, "gitops.deployWithGitOps", model.RoleOperator, true, "Commit and push a change to the environment's manifests; Flux applies it", s.DeployWithGitOps)
	register(r, "gitops.commitConfigChanges", model.RoleOperator, true, "Validate and commit an edited manifest file", s.CommitConfigChanges)
	register(r, "gitops.readConfig", model.RoleViewer, false, "Read an environment's manifest file at the branch head", s.ReadConfig)
	register(r, "gitops.validateYAML", model.RoleViewer, false, "Validate YAML: syntax, schema of built-in and Flux kinds, warnings", s.ValidateYAML)
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

func (in PreviewInput) change() manifest.Change {
	return manifest.Change{Workload: in.Workload, Container: in.Container, Image: in.Changes.Image, Replicas: in.Changes.Replicas,
		Env: in.Changes.Env, Resources: in.Changes.Resources}
}

// PreviewChanges implements gitops.previewChanges.
func (s *Services) PreviewChanges(ctx context.Context, in PreviewInput) (PreviewResult, error) {
	t, err := s.gitTarget(in.ProjectID, in.EnvironmentID)
	if err != nil {
		return PreviewResult{}, err
	}
	snap, err := t.git.Snapshot(ctx, t.branch)
	if err != nil {
		return PreviewResult{}, err
	}
	plan, err := manifest.PlanFS(snap.FS(), t.path, in.change())
	if err != nil {
		return PreviewResult{}, err
	}
	return previewOf(plan, snap.Head, t.branch), nil
}

func previewOf(p *manifest.Result, head, branch string) PreviewResult {
	files := make([]string, 0, len(p.Files))
	for f := range p.Files {
		files = append(files, f)
	}
	sort.Strings(files)
	warnings := p.Warnings
	if warnings == nil {
		warnings = []string{}
	}
	return PreviewResult{Diff: p.Diff, Summary: p.Summary, Impact: p.Impact, Warnings: warnings, Edits: p.Edits,
		Workload: p.Workload, Files: files, BaseRevision: head, Branch: branch}
}

// commitAuthor is the author of commits made for the caller: an SSH
// session's user, else the git config's (gitx's default).
func commitAuthor(ctx context.Context) gitx.Signature {
	a := ActorFrom(ctx)
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
// required fields are not counted there.
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
			if before[e.Field+"\x00"+e.Message] || (readErr != nil && strings.HasSuffix(e.Message, "Required value")) {
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
func (s *Services) DeployWithGitOps(ctx context.Context, in DeployInput) (DeployResult, error) {
	t, err := s.gitTarget(in.ProjectID, in.EnvironmentID)
	if err != nil {
		return DeployResult{}, err
	}
	ch := PreviewInput{Changes: in.Changes, Workload: in.Workload, Container: in.Container}.change()
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
		subject = conventionalMessage(t.env.Name, in.Workload, in.Changes)
	} else if i := strings.IndexByte(subject, '\n'); i >= 0 {
		subject, body = subject[:i], strings.TrimSpace(subject[i+1:])
	}
	res, err := t.git.CommitAndPush(ctx, t.branch, intent, gitx.CommitMeta{Subject: subject, Body: body, Author: commitAuthor(ctx)}, gitx.RetryOpts{MaxAttempts: 10})
	if err != nil {
		return DeployResult{}, err
	}
	if res.NoOp {
		return DeployResult{}, model.Errorf(model.CodeBadRequest, "nothing to deploy: %s already has these values at %s", t.path, shortSHA(res.Commit)).
			WithDetail("commitSha", res.Commit)
	}
	now := s.now()
	d := model.Deployment{ID: newID("dep"), ProjectID: t.env.ProjectID, EnvironmentID: t.env.ID, DeploymentMethod: model.MethodGitOpsUI,
		Status: model.DeployPending, Image: in.Changes.Image, Replicas: in.Changes.Replicas, GitCommitSha: res.Commit,
		GitCommitURL: gitx.CommitURL(t.repo.URL, res.Commit), Message: subject, Diff: last.Diff, DeployedBy: ActorFrom(ctx).User,
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
		return DeployResult{}, err
	}
	msg := fmt.Sprintf("committed %s to %s (%s); Flux applies it on its next sync", shortSHA(res.Commit), t.branch, t.path)
	if t.env.GitOpsConfig.AutoSync && len(kustomizations) > 0 {
		if s.requestReconcile(ctx, t.env, kustomizations) {
			msg = fmt.Sprintf("committed %s to %s (%s); asked Flux to apply it now", shortSHA(res.Commit), t.branch, t.path)
		}
	} else if !t.env.GitOpsConfig.AutoSync {
		msg += " (manual sync: run gitops.triggerSync)"
	}
	return DeployResult{DeploymentID: d.ID, CommitSha: res.Commit, GitURL: d.GitCommitURL, Message: msg, Branch: t.branch, Attempts: res.Attempts}, nil
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// conventionalMessage is the default commit subject of a deploy.
func conventionalMessage(env, workload string, c ChangeSet) string {
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
func (s *Services) ReadConfig(ctx context.Context, in ReadConfigInput) (ConfigFile, error) {
	env, err := s.environment(in.EnvironmentID)
	if err != nil {
		return ConfigFile{}, err
	}
	t, err := s.gitTarget(env.ProjectID, env.ID)
	if err != nil {
		return ConfigFile{}, err
	}
	snap, err := t.git.Snapshot(ctx, t.branch)
	if err != nil {
		return ConfigFile{}, err
	}
	file, files, err := configFile(snap.FS(), t.path, in.File)
	if err != nil {
		return ConfigFile{}, err
	}
	b, err := snap.ReadFile(file)
	if err != nil {
		return ConfigFile{}, err
	}
	return ConfigFile{File: file, YAML: string(b), Revision: snap.Head, Branch: t.branch, Files: files}, nil
}

// CommitConfigChanges implements gitops.commitConfigChanges: validated first
// (YAML_INVALID with the errors), then committed on the branch head; when the
// file changed upstream since baseRevision, CONFLICT_DETECTED with base, ours
// and theirs.
func (s *Services) CommitConfigChanges(ctx context.Context, in CommitConfigInput) (CommitConfigResult, error) {
	t, err := s.gitTarget(in.ProjectID, in.EnvironmentID)
	if err != nil {
		return CommitConfigResult{}, err
	}
	rev := in.BaseRevision
	if rev == "" {
		rev = t.branch
	}
	snap, err := t.git.Snapshot(ctx, rev)
	if err != nil {
		if in.BaseRevision != "" {
			fe := model.FieldErrors{}
			fe.Add("baseRevision", "commit "+in.BaseRevision+" is not in the repository")
			return CommitConfigResult{}, fe.Err()
		}
		return CommitConfigResult{}, err
	}
	file, _, err := configFile(snap.FS(), t.path, in.File)
	if err != nil {
		return CommitConfigResult{}, err
	}
	var baseContent []byte
	if in.BaseRevision != "" {
		baseContent, _ = snap.ReadFile(file)
	}
	if res, err := s.validateFile(ctx, file, []byte(in.YAML)); err != nil {
		return CommitConfigResult{}, err
	} else if !res.Valid {
		return CommitConfigResult{}, model.Errorf(model.CodeYAMLInvalid, "%s has %d error(s); first: line %d: %s", file, len(res.Errors), res.Errors[0].Line, res.Errors[0].Message).
			WithDetail("errors", res.Errors).WithDetail("warnings", res.Warnings).WithDetail("file", file)
	}
	intent := func(head gitx.Snapshot) (gitx.Changes, error) {
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
		return CommitConfigResult{}, err
	}
	return CommitConfigResult{CommitSha: res.Commit, GitURL: gitx.CommitURL(t.repo.URL, res.Commit), Branch: t.branch, File: file}, nil
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
func (s *Services) ValidateYAML(ctx context.Context, in ValidateYAMLInput) (validate.Result, error) {
	v, err := s.yamlValidator()
	if err != nil {
		return validate.Result{}, err
	}
	return v.Validate(ctx, []byte(in.YAML)), nil
}
