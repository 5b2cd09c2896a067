package services_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
)

func TestEnvironmentsCreate(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("cluster-123")
	h.mkProject("shop")
	h.mkProject("blog")

	e := h.ok("environments.create", `{"id":"env-prod","projectId":"shop","name":"prod","clusterId":"cluster-123","namespace":"shop-prod"}`)
	catEq(t, "id", catS(t, e, "id"), "env-prod")
	catEq(t, "projectId", catS(t, e, "projectId"), "shop")
	catEq(t, "clusterId", catS(t, e, "clusterId"), "cluster-123")
	catEq(t, "namespace", catS(t, e, "namespace"), "shop-prod")
	catEq(t, "gitBranch", catS(t, e, "gitopsConfig.gitBranch"), "main")
	catEq(t, "gitPath", catS(t, e, "gitopsConfig.gitPath"), "./k8s/overlays/prod")
	catEq(t, "syncInterval", catS(t, e, "gitopsConfig.syncInterval"), "5m")
	catEq(t, "enabled", catJ(t, e, "gitopsConfig.enabled"), any(false))

	e = h.ok("environments.create", `{"projectId":"shop","name":"staging","clusterId":"cluster-123","namespace":"shop-staging"}`)
	catEq(t, "generated id", catS(t, e, "id"), "env-shop-staging")
	// The same name in another project is fine.
	h.ok("environments.create", `{"projectId":"blog","name":"prod","clusterId":"cluster-123","namespace":"blog"}`)
	// A 63-character name is the longest RFC 1123 label.
	h.ok("environments.create", map[string]any{"projectId": "blog", "name": strings.Repeat("a", 63), "clusterId": "cluster-123", "namespace": "blog"})

	ok := `"projectId":"shop","clusterId":"cluster-123"`
	h.runErrCases(t, "environments.create", []catErrCase{
		{"all required missing", `{}`, model.CodeBadRequest, []string{"projectId", "name", "clusterId", "namespace"}},
		{"uppercase name", `{` + ok + `,"name":"Prod","namespace":"x"}`, model.CodeBadRequest, []string{"name"}},
		{"underscore name", `{` + ok + `,"name":"my_env","namespace":"x"}`, model.CodeBadRequest, []string{"name"}},
		{"leading dash namespace", `{` + ok + `,"name":"qa","namespace":"-x"}`, model.CodeBadRequest, []string{"namespace"}},
		{"dotted namespace", `{` + ok + `,"name":"qa","namespace":"a.b"}`, model.CodeBadRequest, []string{"namespace"}},
		{"64-char name", `{` + ok + `,"name":"` + strings.Repeat("a", 64) + `","namespace":"x"}`, model.CodeBadRequest, []string{"name"}},
		{"bad name and namespace", `{` + ok + `,"name":"A B","namespace":"Z"}`, model.CodeBadRequest, []string{"name", "namespace"}},
		{"bad id", `{` + ok + `,"id":"env prod","name":"qa","namespace":"x"}`, model.CodeBadRequest, []string{"id"}},
		{"unknown field", `{` + ok + `,"name":"qa","namespace":"x","cluster":"c"}`, model.CodeBadRequest, []string{"cluster"}},
		{"namespace wrong type", `{` + ok + `,"name":"qa","namespace":["x"]}`, model.CodeBadRequest, []string{"namespace"}},
		{"unknown project", `{"projectId":"nope","clusterId":"cluster-123","name":"qa","namespace":"x"}`, model.CodeNotFound, []string{"projectId"}},
		{"unknown cluster", `{"projectId":"shop","clusterId":"nope","name":"qa","namespace":"x"}`, model.CodeNotFound, []string{"clusterId"}},
		{"duplicate name", `{` + ok + `,"name":"prod","namespace":"x"}`, model.CodeBadRequest, []string{"name"}},
		{"duplicate id", `{` + ok + `,"id":"env-prod","name":"qa","namespace":"x"}`, model.CodeBadRequest, []string{"id"}},
	})
	h.failCtx(h.as("val", model.RoleViewer), "environments.create", `{`+ok+`,"name":"qa","namespace":"x"}`, model.CodeInsufficientPermission)
	h.failCtx(h.as("otto", model.RoleOperator), "environments.create", `{`+ok+`,"name":"qa","namespace":"x"}`, model.CodeInsufficientPermission)
}

func TestEnvironmentsListGet(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("c1")
	h.mkCluster("c2")
	h.mkProject("shop")
	h.mkProject("blog")
	h.mkEnv("env-dev", "shop", "dev", "c1")
	h.mkEnv("env-prod", "shop", "prod", "c2")
	h.mkEnv("env-blog", "blog", "prod", "c1")

	for _, tc := range []struct{ input, want string }{
		{`{}`, "env-blog,env-dev,env-prod"},
		{``, "env-blog,env-dev,env-prod"},
		{`{"projectId":"shop"}`, "env-dev,env-prod"},
		{`{"clusterId":"c1"}`, "env-blog,env-dev"},
		{`{"projectId":"shop","clusterId":"c1"}`, "env-dev"},
		{`{"projectId":"nope"}`, ""},
	} {
		l := h.ok("environments.list", tc.input)
		got := catIDs(t, l, "")
		sort.Strings(got)
		catEq(t, "environments.list "+tc.input, strings.Join(got, ","), tc.want)
	}
	h.runErrCases(t, "environments.list", []catErrCase{
		{"unknown field", `{"project":"shop"}`, model.CodeBadRequest, []string{"project"}},
		{"wrong type", `{"projectId":1}`, model.CodeBadRequest, []string{"projectId"}},
	})

	e := h.ok("environments.get", `{"id":"env-prod"}`)
	catEq(t, "clusterId", catS(t, e, "clusterId"), "c2")
	h.runErrCases(t, "environments.get", []catErrCase{
		{"missing id", `{}`, model.CodeBadRequest, []string{"id"}},
		{"not found", `{"id":"env-nope"}`, model.CodeNotFound, nil},
	})
}

func TestEnvironmentsUpdate(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("c1")
	h.mkCluster("c2")
	h.mkProject("shop")
	h.mkEnv("env-dev", "shop", "dev", "c1")
	h.mkEnv("env-qa", "shop", "qa", "c1")

	e := h.ok("environments.update", `{"id":"env-dev","name":"development","clusterId":"c2","namespace":"shop-dev"}`)
	catEq(t, "name", catS(t, e, "name"), "development")
	catEq(t, "clusterId", catS(t, e, "clusterId"), "c2")
	catEq(t, "namespace", catS(t, e, "namespace"), "shop-dev")
	catEq(t, "default gitPath follows the name", catS(t, e, "gitopsConfig.gitPath"), "./k8s/overlays/development")
	// Absent fields stay.
	e = h.ok("environments.update", `{"id":"env-dev","namespace":"shop-dev2"}`)
	catEq(t, "name kept", catS(t, e, "name"), "development")
	catEq(t, "cluster kept", catS(t, e, "clusterId"), "c2")
	// A custom gitPath is not touched by a rename.
	h.ok("environments.configureGitOps", `{"environmentId":"env-dev","config":{"gitPath":"./clusters/dev"}}`)
	e = h.ok("environments.update", `{"id":"env-dev","name":"dev"}`)
	catEq(t, "custom gitPath kept", catS(t, e, "gitopsConfig.gitPath"), "./clusters/dev")
	// The cluster index follows the move.
	l := h.ok("environments.list", `{"clusterId":"c2"}`)
	catEq(t, "on c2", strings.Join(catIDs(t, l, ""), ","), "env-dev")

	h.runErrCases(t, "environments.update", []catErrCase{
		{"missing id", `{"name":"x"}`, model.CodeBadRequest, []string{"id"}},
		{"empty name", `{"id":"env-dev","name":""}`, model.CodeBadRequest, []string{"name"}},
		{"bad name", `{"id":"env-dev","name":"Dev!"}`, model.CodeBadRequest, []string{"name"}},
		{"empty namespace", `{"id":"env-dev","namespace":""}`, model.CodeBadRequest, []string{"namespace"}},
		{"bad namespace", `{"id":"env-dev","namespace":"ns_1"}`, model.CodeBadRequest, []string{"namespace"}},
		{"unknown field", `{"id":"env-dev","projectId":"blog"}`, model.CodeBadRequest, []string{"projectId"}},
		{"wrong type", `{"id":"env-dev","clusterId":3}`, model.CodeBadRequest, []string{"clusterId"}},
		{"not found", `{"id":"env-nope","name":"x"}`, model.CodeNotFound, nil},
		{"unknown cluster", `{"id":"env-dev","clusterId":"c9"}`, model.CodeNotFound, []string{"clusterId"}},
		{"duplicate name", `{"id":"env-dev","name":"qa"}`, model.CodeBadRequest, []string{"name"}},
	})
	h.failCtx(h.as("otto", model.RoleOperator), "environments.update", `{"id":"env-dev","namespace":"x"}`, model.CodeInsufficientPermission)
	e = h.ok("environments.get", `{"id":"env-dev"}`)
	catEq(t, "unchanged by refused updates", catS(t, e, "namespace"), "shop-dev2")
}

func TestEnvironmentsDelete(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("c1")
	h.mkProject("shop")
	h.mkEnv("env-dev", "shop", "dev", "c1")
	h.mkEnv("env-prod", "shop", "prod", "c1")
	h.putResource("res-web", "shop", "env-prod")

	d := h.ok("environments.delete", `{"id":"env-dev"}`)
	catEq(t, "success", catJ(t, d, "success"), any(true))
	h.fail("environments.get", `{"id":"env-dev"}`, model.CodeNotFound)

	e := h.fail("environments.delete", `{"id":"env-prod"}`, model.CodeBadRequest)
	catEq(t, "details.resources", fmt.Sprint(e.Details["resources"]), "[res-web]")
	h.ok("environments.get", `{"id":"env-prod"}`)

	h.runErrCases(t, "environments.delete", []catErrCase{
		{"missing id", `{}`, model.CodeBadRequest, []string{"id"}},
		{"not found", `{"id":"env-dev"}`, model.CodeNotFound, nil},
		{"unknown field", `{"id":"env-prod","cascade":true}`, model.CodeBadRequest, []string{"cascade"}},
	})
	h.ok("environments.delete", `{"id":"env-prod","force":true}`)
	h.fail("environments.get", `{"id":"env-prod"}`, model.CodeNotFound)
	p := h.ok("projects.get", `{"id":"shop"}`)
	if n := len(catA(t, p, "environments")); n != 0 {
		t.Fatalf("project still lists %d environments", n)
	}
	// The project can now be deleted without force.
	h.ok("projects.delete", `{"id":"shop"}`)
}

func TestEnvironmentsGitOpsConfig(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("c1")
	h.mkProject("shop")
	h.mkProject("blog")
	h.mkEnv("env-prod", "shop", "prod", "c1")
	h.mkEnv("env-dev", "shop", "dev", "c1")
	h.mkRepo("repo-456", "shop", "acme/shop-config")
	h.mkRepo("repo-blog", "blog", "acme/blog-config")

	checkGitOpsConfigDefaults(t, h)
	checkGitOpsConfigUpdates(t, h)

	// An operator may configure GitOps; a viewer may only read it.
	h.okAs(h.as("otto", model.RoleOperator), "environments.configureGitOps", `{"environmentId":"env-dev","config":{"syncInterval":"10m"}}`)
	h.okAs(h.as("val", model.RoleViewer), "environments.getGitOpsConfig", `{"environmentId":"env-dev"}`)
	h.failCtx(h.as("val", model.RoleViewer), "environments.configureGitOps", `{"environmentId":"env-dev","config":{"syncInterval":"1m"}}`, model.CodeInsufficientPermission)

	h.runErrCases(t, "environments.configureGitOps", []catErrCase{
		{"missing environmentId", `{"config":{}}`, model.CodeBadRequest, []string{"environmentId"}},
		{"bad duration 5x", `{"environmentId":"env-prod","config":{"syncInterval":"5x"}}`, model.CodeBadRequest, []string{"config.syncInterval"}},
		{"bad duration 5", `{"environmentId":"env-prod","config":{"syncInterval":"5"}}`, model.CodeBadRequest, []string{"config.syncInterval"}},
		{"bad duration m5", `{"environmentId":"env-prod","config":{"syncInterval":"m5"}}`, model.CodeBadRequest, []string{"config.syncInterval"}},
		{"empty duration", `{"environmentId":"env-prod","config":{"syncInterval":""}}`, model.CodeBadRequest, []string{"config.syncInterval"}},
		{"duration wrong type", `{"environmentId":"env-prod","config":{"syncInterval":300}}`, model.CodeBadRequest, []string{"config.syncInterval"}},
		{"bad branch", `{"environmentId":"env-prod","config":{"gitBranch":"a..b"}}`, model.CodeBadRequest, []string{"config.gitBranch"}},
		{"branch with space", `{"environmentId":"env-prod","config":{"gitBranch":"my branch"}}`, model.CodeBadRequest, []string{"config.gitBranch"}},
		{"empty branch", `{"environmentId":"env-prod","config":{"gitBranch":""}}`, model.CodeBadRequest, []string{"config.gitBranch"}},
		{"absolute path", `{"environmentId":"env-prod","config":{"gitPath":"/etc"}}`, model.CodeBadRequest, []string{"config.gitPath"}},
		{"path escapes", `{"environmentId":"env-prod","config":{"gitPath":"./a/../../b"}}`, model.CodeBadRequest, []string{"config.gitPath"}},
		{"enabled wrong type", `{"environmentId":"env-prod","config":{"enabled":"yes"}}`, model.CodeBadRequest, []string{"config.enabled"}},
		{"unknown config field", `{"environmentId":"env-prod","config":{"interval":"5m"}}`, model.CodeBadRequest, []string{"config.interval"}},
		{"config not an object", `{"environmentId":"env-prod","config":"5m"}`, model.CodeBadRequest, []string{"config"}},
		{"unknown top field", `{"environmentId":"env-prod","gitBranch":"main"}`, model.CodeBadRequest, []string{"gitBranch"}},
		{"several bad fields", `{"environmentId":"env-prod","config":{"syncInterval":"5x","gitBranch":"a b","gitPath":"/x"}}`, model.CodeBadRequest, []string{"config.syncInterval", "config.gitBranch", "config.gitPath"}},
		{"environment not found", `{"environmentId":"env-nope","config":{"enabled":true}}`, model.CodeNotFound, nil},
		{"repository not found", `{"environmentId":"env-prod","config":{"repositoryId":"repo-nope"}}`, model.CodeRepositoryNotFound, nil},
		{"repository of another project", `{"environmentId":"env-prod","config":{"repositoryId":"repo-blog"}}`, model.CodeBadRequest, []string{"config.repositoryId"}},
	})
	g := h.ok("environments.getGitOpsConfig", `{"environmentId":"env-prod"}`)
	catEq(t, "unchanged by refused calls", catS(t, g, "syncInterval"), "500ms")

	h.runErrCases(t, "environments.getGitOpsConfig", []catErrCase{
		{"missing environmentId", `{}`, model.CodeBadRequest, []string{"environmentId"}},
		{"unknown field", `{"environmentId":"env-prod","id":"x"}`, model.CodeBadRequest, []string{"id"}},
		{"not found", `{"environmentId":"env-nope"}`, model.CodeNotFound, nil},
	})
}

// checkGitOpsConfigDefaults: env-prod's GitOps config has its defaults
// before and after it is enabled with repo-456.
func checkGitOpsConfigDefaults(t *testing.T, h *catalogHarness) {
	t.Helper()
	g := h.ok("environments.getGitOpsConfig", `{"environmentId":"env-prod"}`)
	catEq(t, "environmentId", catS(t, g, "environmentId"), "env-prod")
	catEq(t, "gitBranch", catS(t, g, "gitBranch"), "main")
	catEq(t, "gitPath", catS(t, g, "gitPath"), "./k8s/overlays/prod")
	catEq(t, "syncInterval", catS(t, g, "syncInterval"), "5m")
	g = configured(t, h.ok("environments.configureGitOps", `{"environmentId":"env-prod","config":{"enabled":true,"repositoryId":"repo-456"}}`))
	catEq(t, "enabled", catJ(t, g, "enabled"), any(true))
	catEq(t, "autoSync default", catJ(t, g, "autoSync"), any(true))
	catEq(t, "gitBranch default", catS(t, g, "gitBranch"), "main")
	catEq(t, "gitPath default", catS(t, g, "gitPath"), "./k8s/overlays/prod")
	catEq(t, "syncInterval default", catS(t, g, "syncInterval"), "5m")
	catEq(t, "repositoryId", catS(t, g, "repositoryId"), "repo-456")
}

// checkGitOpsConfigUpdates: configureGitOps takes the spec's example and the
// durations Flux accepts, normalises paths, keeps absent fields, touches only
// its environment and clears repositoryId when given "".
func checkGitOpsConfigUpdates(t *testing.T, h *catalogHarness) {
	t.Helper()
	var g any
	// The spec's example, and the durations Flux accepts.
	for _, iv := range []string{"1m", "10m", "1h30m", "30s", "1.5h", "500ms"} {
		g = configured(t, h.ok("environments.configureGitOps", map[string]any{"environmentId": "env-prod",
			"config": map[string]any{"enabled": true, "autoSync": false, "gitBranch": "release/1.x", "gitPath": "k8s/overlays/prod/", "syncInterval": iv}}))
		catEq(t, "syncInterval", catS(t, g, "syncInterval"), iv)
	}
	catEq(t, "autoSync", catJ(t, g, "autoSync"), any(false))
	catEq(t, "gitBranch", catS(t, g, "gitBranch"), "release/1.x")
	catEq(t, "gitPath normalised", catS(t, g, "gitPath"), "./k8s/overlays/prod")
	// Stored: getGitOpsConfig and environments.get agree; absent fields stay.
	g = configured(t, h.ok("environments.configureGitOps", `{"environmentId":"env-prod","config":{"gitPath":"./apps/../apps/prod"}}`))
	catEq(t, "gitPath cleaned", catS(t, g, "gitPath"), "./apps/prod")
	g = h.ok("environments.getGitOpsConfig", `{"environmentId":"env-prod"}`)
	catEq(t, "syncInterval kept", catS(t, g, "syncInterval"), "500ms")
	catEq(t, "branch kept", catS(t, g, "gitBranch"), "release/1.x")
	e := h.ok("environments.get", `{"id":"env-prod"}`)
	catEq(t, "environment's gitPath", catS(t, e, "gitopsConfig.gitPath"), "./apps/prod")
	// The other environment keeps its defaults.
	g = h.ok("environments.getGitOpsConfig", `{"environmentId":"env-dev"}`)
	catEq(t, "dev gitPath", catS(t, g, "gitPath"), "./k8s/overlays/dev")
	// An empty repositoryId clears it.
	g = configured(t, h.ok("environments.configureGitOps", `{"environmentId":"env-prod","config":{"repositoryId":""}}`))
	catEq(t, "repositoryId cleared", catS(t, g, "repositoryId"), "")
}
