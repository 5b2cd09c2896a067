package services

import (
	"context"
	"regexp"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

// CreateRepositoryInput is repositories.create's input.
type CreateRepositoryInput struct {
	ID            string          `json:"id,omitempty" doc:"repository id (generated when empty)"`
	ProjectID     string          `json:"projectId" required:"true" doc:"project id"`
	FullName      string          `json:"fullName" required:"true" doc:"owner/name, e.g. acme/shop-config"`
	URL           string          `json:"url" required:"true" doc:"clone URL (https://, ssh:// or git@host:path)"`
	DefaultBranch string          `json:"defaultBranch,omitempty" doc:"default branch (main)"`
	Auth          *model.RepoAuth `json:"auth,omitempty" doc:"where credentials come from (a reference, never a secret)"`
}

var fullNamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)+$`)

var envVarPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate implements Validator.
func (in *CreateRepositoryInput) Validate(fe model.FieldErrors) {
	checkID(fe, "id", in.ID)
	checkFullName(fe, in.FullName)
	checkGitURL(fe, "url", in.URL)
	checkBranch(fe, "defaultBranch", in.DefaultBranch)
	checkAuth(fe, in.Auth)
}

// maxFullName bounds a repository's owner/name; it is a store index key.
const maxFullName = 256

func checkFullName(fe model.FieldErrors, v string) {
	if len(v) > maxFullName {
		fe.Add("fullName", "must be at most "+itoa(maxFullName)+" characters")
		return
	}
	if v != "" && !fullNamePattern.MatchString(v) {
		fe.Add("fullName", "must look like owner/name")
	}
}

func checkAuth(fe model.FieldErrors, a *model.RepoAuth) {
	if a == nil {
		return
	}
	checkEnum(fe, "auth.type", a.Type, model.AuthNone, model.AuthTokenEnv, model.AuthBasicEnv, model.AuthSSHKey, model.AuthSSHAgent, model.AuthCredentialHelper)
	if a.Type == "" {
		fe.Add("auth.type", "required")
	}
	for field, v := range map[string]string{"auth.tokenEnv": a.TokenEnv, "auth.usernameEnv": a.UsernameEnv} {
		if v != "" && !envVarPattern.MatchString(v) {
			fe.Add(field, "must be the name of an environment variable (the secret stays in the environment)")
		}
	}
	switch a.Type {
	case model.AuthTokenEnv, model.AuthBasicEnv:
		if a.TokenEnv == "" {
			fe.Add("auth.tokenEnv", "required for auth type "+a.Type)
		}
	case model.AuthSSHKey:
		if a.KeyFile == "" {
			fe.Add("auth.keyFile", "required for auth type ssh-key")
		}
	}
}

func repoNotFound(id string) error {
	return model.Errorf(model.CodeRepositoryNotFound, "repository %q not found", id).WithDetail("id", id)
}

// CreateRepository implements repositories.create.
func (s *Services) CreateRepository(_ context.Context, in CreateRepositoryInput) (model.Repository, error) {
	now := s.now()
	r := model.Repository{ProjectID: in.ProjectID, FullName: in.FullName, URL: in.URL, DefaultBranch: in.DefaultBranch,
		Auth: in.Auth, CreatedAt: now, UpdatedAt: now}
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	err := s.db.Update(func(tx *store.Tx) error {
		if !store.Projects.Exists(tx, in.ProjectID) {
			return refErr("projectId", "project", in.ProjectID)
		}
		fe := model.FieldErrors{}
		if in.ID != "" && store.Repositories.Exists(tx, in.ID) {
			fe.Add("id", "repository "+in.ID+" already exists")
		}
		repos, _, err := store.Repositories.List(tx, store.Query[model.Repository]{Index: "project", Value: in.ProjectID})
		if err != nil {
			return err
		}
		for _, o := range repos {
			if o.FullName == in.FullName {
				fe.Add("fullName", "project "+in.ProjectID+" already has repository "+in.FullName+" ("+o.ID+")")
			}
		}
		if err := fe.Err(); err != nil {
			return err
		}
		r.ID = pickID(in.ID, "repo", in.FullName, func(id string) bool { return store.Repositories.Exists(tx, id) })
		return store.Repositories.Put(tx, r)
	})
	return r, err
}

// ListRepositoriesInput filters repositories.list.
type ListRepositoriesInput struct {
	ProjectID string `json:"projectId,omitempty" doc:"only this project's repositories"`
}

// ListRepositories implements repositories.list.
func (s *Services) ListRepositories(_ context.Context, in ListRepositoriesInput) ([]model.Repository, error) {
	q := store.Query[model.Repository]{}
	if in.ProjectID != "" {
		q.Index, q.Value = "project", in.ProjectID
	}
	var out []model.Repository
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		out, _, err = store.Repositories.List(tx, q)
		return err
	})
	if out == nil {
		out = []model.Repository{}
	}
	return out, err
}

// GetRepository implements repositories.get.
func (s *Services) GetRepository(_ context.Context, in IDInput) (model.Repository, error) {
	return s.repository(in.ID)
}

func (s *Services) repository(id string) (model.Repository, error) {
	var r model.Repository
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		r, err = store.Repositories.Get(tx, id)
		return err
	})
	if model.CodeOf(err) == model.CodeNotFound {
		return r, repoNotFound(id)
	}
	return r, err
}

// UpdateRepositoryInput is repositories.update's input: absent fields stay.
type UpdateRepositoryInput struct {
	ID            string          `json:"id" required:"true" doc:"repository id"`
	FullName      *string         `json:"fullName,omitempty" doc:"owner/name"`
	URL           *string         `json:"url,omitempty" doc:"clone URL"`
	DefaultBranch *string         `json:"defaultBranch,omitempty" doc:"default branch"`
	Auth          *model.RepoAuth `json:"auth,omitempty" doc:"credential reference"`
}

// Validate implements Validator.
func (in *UpdateRepositoryInput) Validate(fe model.FieldErrors) {
	if in.FullName != nil {
		if *in.FullName == "" {
			fe.Add("fullName", "must not be empty")
		}
		checkFullName(fe, *in.FullName)
	}
	if in.URL != nil {
		if *in.URL == "" {
			fe.Add("url", "must not be empty")
		}
		checkGitURL(fe, "url", *in.URL)
	}
	if in.DefaultBranch != nil {
		if *in.DefaultBranch == "" {
			fe.Add("defaultBranch", "must not be empty")
		}
		checkBranch(fe, "defaultBranch", *in.DefaultBranch)
	}
	checkAuth(fe, in.Auth)
}

// UpdateRepository implements repositories.update.
func (s *Services) UpdateRepository(_ context.Context, in UpdateRepositoryInput) (model.Repository, error) {
	var r model.Repository
	err := s.db.Update(func(tx *store.Tx) error {
		var err error
		if r, err = store.Repositories.Get(tx, in.ID); err != nil {
			return repoNotFound(in.ID)
		}
		if in.FullName != nil && *in.FullName != r.FullName {
			repos, _, err := store.Repositories.List(tx, store.Query[model.Repository]{Index: "project", Value: r.ProjectID})
			if err != nil {
				return err
			}
			for _, o := range repos {
				if o.FullName == *in.FullName && o.ID != r.ID {
					fe := model.FieldErrors{}
					fe.Add("fullName", "project "+r.ProjectID+" already has repository "+o.FullName+" ("+o.ID+")")
					return fe.Err()
				}
			}
		}
		setIf(&r.FullName, in.FullName)
		setIf(&r.URL, in.URL)
		setIf(&r.DefaultBranch, in.DefaultBranch)
		if in.Auth != nil {
			r.Auth = in.Auth
		}
		r.UpdatedAt = s.now()
		return store.Repositories.Put(tx, r)
	})
	return r, err
}

// DeleteRepository implements repositories.delete.
func (s *Services) DeleteRepository(_ context.Context, in RemoveInput) (Deleted, error) {
	err := s.db.Update(func(tx *store.Tx) error {
		r, err := store.Repositories.Get(tx, in.ID)
		if err != nil {
			return repoNotFound(in.ID)
		}
		envs, _, err := store.Environments.List(tx, store.Query[model.Environment]{Index: "project", Value: r.ProjectID,
			Filter: func(e model.Environment) bool { return e.GitOpsConfig.RepositoryID == r.ID }})
		if err != nil {
			return err
		}
		if len(envs) > 0 && !in.Force {
			return model.Errorf(model.CodeBadRequest, "repository %s is the GitOps source of environment(s) %s; reconfigure them or pass force",
				in.ID, joinIDs(envs, func(e model.Environment) string { return e.ID })).
				WithDetail("environments", ids(envs, func(e model.Environment) string { return e.ID }))
		}
		for _, e := range envs {
			e.GitOpsConfig.RepositoryID = ""
			e.GitOpsConfig.Enabled = false
			if err := store.Environments.Put(tx, e); err != nil {
				return err
			}
		}
		return store.Repositories.Delete(tx, in.ID)
	})
	return Deleted{Success: err == nil, ID: in.ID}, err
}

// FluxStatusInput is repositories.getFluxStatus's input.
type FluxStatusInput struct {
	RepositoryID string `json:"repositoryId" required:"true" doc:"repository id"`
}

// FluxStatus is a repository's Flux source status.
type FluxStatus struct {
	RepositoryID     string `json:"repositoryId"`
	Enabled          bool   `json:"enabled"`
	FluxResourceName string `json:"fluxResourceName,omitempty"`
	Status           string `json:"status"`
	LastSyncCommit   string `json:"lastSyncCommit,omitempty"`
	LastSyncAt       any    `json:"lastSyncAt,omitempty"`
	Message          string `json:"message,omitempty"`
}

// GetFluxStatus implements repositories.getFluxStatus: it reads the
// repository's GitRepository live (Ready → ready, in progress → reconciling,
// otherwise failed with the condition message; lastSyncCommit from the artifact).
func (s *Services) GetFluxStatus(ctx context.Context, in FluxStatusInput) (FluxStatus, error) {
	r, err := s.repository(in.RepositoryID)
	if err != nil {
		return FluxStatus{}, err
	}
	g, err := s.liveFluxStatus(ctx, r)
	if err != nil {
		return FluxStatus{}, err
	}
	st := FluxStatus{RepositoryID: r.ID, Enabled: g.Enabled, FluxResourceName: g.FluxResourceName, Status: g.LastSyncStatus,
		LastSyncCommit: g.LastSyncCommit, Message: g.LastSyncMessage}
	if g.LastSyncAt != nil {
		st.LastSyncAt = g.LastSyncAt
	}
	if st.Status == "" {
		st.Status = model.SyncUnknown
	}
	return st, nil
}
