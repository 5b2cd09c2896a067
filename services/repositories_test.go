package services_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

func TestRepositoriesCreate(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkProject("shop")
	h.mkProject("blog")

	r := h.ok("repositories.create", `{"id":"repo-456","projectId":"shop","fullName":"acme/shop-config","url":"https://github.com/acme/shop-config.git","auth":{"type":"token-env","tokenEnv":"GITHUB_TOKEN"}}`)
	catEq(t, "id", catS(t, r, "id"), "repo-456")
	catEq(t, "projectId", catS(t, r, "projectId"), "shop")
	catEq(t, "fullName", catS(t, r, "fullName"), "acme/shop-config")
	catEq(t, "url", catS(t, r, "url"), "https://github.com/acme/shop-config.git")
	catEq(t, "default branch", catS(t, r, "defaultBranch"), "main")
	catEq(t, "auth.type", catS(t, r, "auth.type"), "token-env")
	catEq(t, "auth.tokenEnv", catS(t, r, "auth.tokenEnv"), "GITHUB_TOKEN")
	catEq(t, "gitops disabled", catJ(t, r, "gitopsConfig.enabled"), any(false))

	r = h.ok("repositories.create", `{"projectId":"shop","fullName":"acme/infra","url":"git@github.com:acme/infra.git","defaultBranch":"trunk","auth":{"type":"ssh-key","keyFile":"~/.ssh/id_ed25519"}}`)
	catEq(t, "generated id", catS(t, r, "id"), "repo-acme-infra")
	catEq(t, "defaultBranch", catS(t, r, "defaultBranch"), "trunk")
	// Same fullName in another project; other URL forms.
	for i, u := range []string{"ssh://git@example.com/acme/shop-config.git", "http://127.0.0.1:8080/acme/shop-config.git", "file:///srv/git/shop.git"} {
		r = h.ok("repositories.create", map[string]any{"projectId": "blog", "fullName": "acme/shop-config-" + string(rune('a'+i)), "url": u, "auth": map[string]any{"type": "none"}})
		catEq(t, "url", catS(t, r, "url"), u)
	}
	h.ok("repositories.create", `{"projectId":"blog","fullName":"acme/shop-config","url":"https://github.com/acme/shop-config.git","auth":{"type":"credential-helper"}}`)

	base := `"projectId":"shop","fullName":"acme/x","url":"https://github.com/acme/x.git"`
	h.runErrCases(t, "repositories.create", []catErrCase{
		{"all required missing", `{}`, model.CodeBadRequest, []string{"projectId", "fullName", "url"}},
		{"bad fullName", `{"projectId":"shop","fullName":"no-slash","url":"https://h/x.git"}`, model.CodeBadRequest, []string{"fullName"}},
		{"fullName too long", `{"projectId":"shop","fullName":"acme/` + strings.Repeat("r", 40000) + `","url":"https://h/x.git"}`, model.CodeBadRequest, []string{"fullName"}},
		{"fullName with space", `{"projectId":"shop","fullName":"acme/my repo","url":"https://h/x.git"}`, model.CodeBadRequest, []string{"fullName"}},
		{"ftp url", `{"projectId":"shop","fullName":"acme/x","url":"ftp://h/x.git"}`, model.CodeBadRequest, []string{"url"}},
		{"url without host", `{"projectId":"shop","fullName":"acme/x","url":"https:///x.git"}`, model.CodeBadRequest, []string{"url"}},
		{"url with password", `{"projectId":"shop","fullName":"acme/x","url":"https://bob:s3cret@github.com/acme/x.git"}`, model.CodeBadRequest, []string{"url"}},
		{"bare word url", `{"projectId":"shop","fullName":"acme/x","url":"github"}`, model.CodeBadRequest, []string{"url"}},
		{"bad branch", `{` + base + `,"defaultBranch":"feat..x"}`, model.CodeBadRequest, []string{"defaultBranch"}},
		{"bad id", `{` + base + `,"id":"repo 456"}`, model.CodeBadRequest, []string{"id"}},
		{"unknown field", `{` + base + `,"token":"ghp_x"}`, model.CodeBadRequest, []string{"token"}},
		{"secret in auth refused", `{` + base + `,"auth":{"type":"token-env","tokenEnv":"T","token":"ghp_x"}}`, model.CodeBadRequest, []string{"auth.token"}},
		{"auth without type", `{` + base + `,"auth":{"tokenEnv":"T"}}`, model.CodeBadRequest, []string{"auth.type"}},
		{"auth unknown type", `{` + base + `,"auth":{"type":"password"}}`, model.CodeBadRequest, []string{"auth.type"}},
		{"token-env without tokenEnv", `{` + base + `,"auth":{"type":"token-env"}}`, model.CodeBadRequest, []string{"auth.tokenEnv"}},
		{"basic-env without tokenEnv", `{` + base + `,"auth":{"type":"basic-env","usernameEnv":"U"}}`, model.CodeBadRequest, []string{"auth.tokenEnv"}},
		{"tokenEnv not a variable name", `{` + base + `,"auth":{"type":"token-env","tokenEnv":"ghp-123"}}`, model.CodeBadRequest, []string{"auth.tokenEnv"}},
		{"usernameEnv not a variable name", `{` + base + `,"auth":{"type":"basic-env","tokenEnv":"T","usernameEnv":"1USER"}}`, model.CodeBadRequest, []string{"auth.usernameEnv"}},
		{"ssh-key without keyFile", `{` + base + `,"auth":{"type":"ssh-key"}}`, model.CodeBadRequest, []string{"auth.keyFile"}},
		{"auth not an object", `{` + base + `,"auth":"token"}`, model.CodeBadRequest, []string{"auth"}},
		{"url wrong type", `{"projectId":"shop","fullName":"acme/x","url":42}`, model.CodeBadRequest, []string{"url"}},
		{"unknown project", `{"projectId":"nope","fullName":"acme/x","url":"https://h/x.git"}`, model.CodeNotFound, []string{"projectId"}},
		{"duplicate fullName", `{"projectId":"shop","fullName":"acme/shop-config","url":"https://h/x.git"}`, model.CodeBadRequest, []string{"fullName"}},
		{"duplicate id", `{` + base + `,"id":"repo-456"}`, model.CodeBadRequest, []string{"id"}},
	})
	h.failCtx(h.as("otto", model.RoleOperator), "repositories.create", `{`+base+`}`, model.CodeInsufficientPermission)
	h.failCtx(h.as("val", model.RoleViewer), "repositories.create", `{`+base+`}`, model.CodeInsufficientPermission)
}

func TestRepositoriesListGet(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkProject("shop")
	h.mkProject("blog")
	h.mkRepo("repo-a", "shop", "acme/a")
	h.mkRepo("repo-b", "shop", "acme/b")
	h.mkRepo("repo-c", "blog", "acme/c")

	for _, tc := range []struct{ input, want string }{
		{`{}`, "repo-a,repo-b,repo-c"},
		{`{"projectId":"shop"}`, "repo-a,repo-b"},
		{`{"projectId":"blog"}`, "repo-c"},
		{`{"projectId":"none"}`, ""},
	} {
		got := catIDs(t, h.okAs(h.as("val", model.RoleViewer), "repositories.list", tc.input), "")
		sort.Strings(got)
		catEq(t, "repositories.list "+tc.input, strings.Join(got, ","), tc.want)
	}
	h.runErrCases(t, "repositories.list", []catErrCase{
		{"unknown field", `{"fullName":"acme/a"}`, model.CodeBadRequest, []string{"fullName"}},
	})

	r := h.ok("repositories.get", `{"id":"repo-b"}`)
	catEq(t, "fullName", catS(t, r, "fullName"), "acme/b")
	h.runErrCases(t, "repositories.get", []catErrCase{
		{"missing id", `{}`, model.CodeBadRequest, []string{"id"}},
		{"not found", `{"id":"repo-nope"}`, model.CodeRepositoryNotFound, nil},
	})
}

func TestRepositoriesUpdate(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkProject("shop")
	h.mkRepo("repo-a", "shop", "acme/a")
	h.mkRepo("repo-b", "shop", "acme/b")

	r := h.ok("repositories.update", `{"id":"repo-a","url":"git@github.com:acme/a2.git","defaultBranch":"develop","fullName":"acme/a2","auth":{"type":"ssh-agent"}}`)
	catEq(t, "url", catS(t, r, "url"), "git@github.com:acme/a2.git")
	catEq(t, "defaultBranch", catS(t, r, "defaultBranch"), "develop")
	catEq(t, "fullName", catS(t, r, "fullName"), "acme/a2")
	catEq(t, "auth.type", catS(t, r, "auth.type"), "ssh-agent")
	r = h.ok("repositories.update", `{"id":"repo-a","defaultBranch":"main"}`)
	catEq(t, "url kept", catS(t, r, "url"), "git@github.com:acme/a2.git")
	catEq(t, "auth kept", catS(t, r, "auth.type"), "ssh-agent")
	// Keeping its own fullName is not a duplicate.
	h.ok("repositories.update", `{"id":"repo-a","fullName":"acme/a2"}`)
	r = h.ok("repositories.get", `{"id":"repo-a"}`)
	catEq(t, "stored", catS(t, r, "defaultBranch"), "main")

	h.runErrCases(t, "repositories.update", []catErrCase{
		{"missing id", `{"url":"https://h/x.git"}`, model.CodeBadRequest, []string{"id"}},
		{"empty url", `{"id":"repo-a","url":""}`, model.CodeBadRequest, []string{"url"}},
		{"bad url", `{"id":"repo-a","url":"gopher://x"}`, model.CodeBadRequest, []string{"url"}},
		{"empty fullName", `{"id":"repo-a","fullName":""}`, model.CodeBadRequest, []string{"fullName"}},
		{"bad fullName", `{"id":"repo-a","fullName":"x"}`, model.CodeBadRequest, []string{"fullName"}},
		{"fullName too long", `{"id":"repo-a","fullName":"acme/` + strings.Repeat("u", 300) + `"}`, model.CodeBadRequest, []string{"fullName"}},
		{"empty branch", `{"id":"repo-a","defaultBranch":""}`, model.CodeBadRequest, []string{"defaultBranch"}},
		{"bad branch", `{"id":"repo-a","defaultBranch":"-x"}`, model.CodeBadRequest, []string{"defaultBranch"}},
		{"bad auth", `{"id":"repo-a","auth":{"type":"ssh-key"}}`, model.CodeBadRequest, []string{"auth.keyFile"}},
		{"unknown field", `{"id":"repo-a","projectId":"blog"}`, model.CodeBadRequest, []string{"projectId"}},
		{"not found", `{"id":"repo-nope","url":"https://h/x.git"}`, model.CodeRepositoryNotFound, nil},
		{"duplicate fullName", `{"id":"repo-a","fullName":"acme/b"}`, model.CodeBadRequest, []string{"fullName"}},
	})
	h.failCtx(h.as("otto", model.RoleOperator), "repositories.update", `{"id":"repo-a","defaultBranch":"x"}`, model.CodeInsufficientPermission)
	r = h.ok("repositories.get", `{"id":"repo-a"}`)
	catEq(t, "unchanged by refused updates", catS(t, r, "fullName"), "acme/a2")
}

func TestRepositoriesDelete(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("c1")
	h.mkProject("shop")
	h.mkEnv("env-prod", "shop", "prod", "c1")
	h.mkRepo("repo-used", "shop", "acme/used")
	h.mkRepo("repo-free", "shop", "acme/free")
	h.ok("environments.configureGitOps", `{"environmentId":"env-prod","config":{"enabled":true,"repositoryId":"repo-used"}}`)

	d := h.ok("repositories.delete", `{"id":"repo-free"}`)
	catEq(t, "success", catJ(t, d, "success"), any(true))
	h.fail("repositories.get", `{"id":"repo-free"}`, model.CodeRepositoryNotFound)

	e := h.fail("repositories.delete", `{"id":"repo-used"}`, model.CodeBadRequest)
	catEq(t, "details.environments", strings.Join(e.Details["environments"].([]string), ","), "env-prod")
	h.runErrCases(t, "repositories.delete", []catErrCase{
		{"missing id", `{}`, model.CodeBadRequest, []string{"id"}},
		{"not found", `{"id":"repo-free"}`, model.CodeRepositoryNotFound, nil},
		{"force wrong type", `{"id":"repo-used","force":1}`, model.CodeBadRequest, []string{"force"}},
	})
	h.failCtx(h.as("otto", model.RoleOperator), "repositories.delete", `{"id":"repo-used","force":true}`, model.CodeInsufficientPermission)

	h.ok("repositories.delete", `{"id":"repo-used","force":true}`)
	g := h.ok("environments.getGitOpsConfig", `{"environmentId":"env-prod"}`)
	catEq(t, "gitops disabled", catJ(t, g, "enabled"), any(false))
	catEq(t, "repositoryId cleared", catS(t, g, "repositoryId"), "")
}

func TestRepositoriesGetFluxStatus(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkProject("shop")
	h.mkRepo("repo-456", "shop", "acme/shop")
	h.mkRepo("repo-synced", "shop", "acme/synced")

	// Not enabled: the reference's GITOPS_NOT_ENABLED ("call enableGitOps first").
	h.failCtx(h.as("val", model.RoleViewer), "repositories.getFluxStatus", `{"repositoryId":"repo-456"}`, model.CodeGitOpsNotEnabled)

	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	err := h.db.Update(func(tx *store.Tx) error {
		r, err := store.Repositories.Get(tx, "repo-synced")
		if err != nil {
			return err
		}
		r.GitOpsConfig = model.RepoGitOpsConfig{Enabled: true, FluxNamespace: "flux-system", FluxResourceName: "shop-synced",
			LastSyncStatus: model.SyncReady, LastSyncCommit: "0123456789abcdef0123456789abcdef01234567", LastSyncMessage: "stored artifact", LastSyncAt: &at}
		return store.Repositories.Put(tx, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	st := h.ok("repositories.getFluxStatus", `{"repositoryId":"repo-synced"}`)
	catEq(t, "repositoryId", catS(t, st, "repositoryId"), "repo-synced")
	catEq(t, "syncStatus", catS(t, st, "syncStatus"), model.SyncReady)
	catEq(t, "fluxResourceName", catS(t, st, "fluxResourceName"), "shop-synced")
	catEq(t, "lastSyncCommit", catS(t, st, "lastSyncCommit"), "0123456789abcdef0123456789abcdef01234567")
	catEq(t, "lastSyncTime", catS(t, st, "lastSyncTime"), "2025-06-01T12:00:00Z")
	if _, has := st.(map[string]any)["errorMessage"]; has {
		t.Fatalf("a ready source has no errorMessage: %v", st)
	}

	h.runErrCases(t, "repositories.getFluxStatus", []catErrCase{
		{"missing repositoryId", `{}`, model.CodeBadRequest, []string{"repositoryId"}},
		{"id instead of repositoryId", `{"id":"repo-456"}`, model.CodeBadRequest, []string{"id", "repositoryId"}},
		{"not found", `{"repositoryId":"repo-nope"}`, model.CodeRepositoryNotFound, nil},
	})
}
