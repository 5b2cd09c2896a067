package services_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
)

const catSHA = "0123456789abcdef0123456789abcdef01234567"

func TestDeploymentsCreate(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("c1")
	h.mkProject("shop")
	h.mkProject("blog")
	h.mkEnv("env-prod", "shop", "prod", "c1")
	h.mkEnv("env-blog", "blog", "prod", "c1")
	h.putResource("res-web", "shop", "env-prod")

	d := h.ok("deployments.create", `{"projectId":"shop","environmentId":"env-prod","deploymentMethod":"manual","image":"ghcr.io/acme/shop:1.2.3","replicas":3}`)
	if id := catS(t, d, "id"); !strings.HasPrefix(id, "dep-") {
		t.Fatalf("id %q", id)
	}
	catEq(t, "projectId", catS(t, d, "projectId"), "shop")
	catEq(t, "environmentId", catS(t, d, "environmentId"), "env-prod")
	catEq(t, "deploymentMethod", catS(t, d, "deploymentMethod"), "manual")
	catEq(t, "status default", catS(t, d, "status"), model.DeployPending)
	catEq(t, "image", catS(t, d, "image"), "ghcr.io/acme/shop:1.2.3")
	catEq(t, "replicas", catJ(t, d, "replicas"), any(3.0))
	catEq(t, "deployedBy", catS(t, d, "deployedBy"), "alice")
	if _, has := d.(map[string]any)["completedAt"]; has {
		t.Fatal("pending deployment has completedAt")
	}
	got := h.ok("deployments.get", map[string]any{"id": catS(t, d, "id")})
	catEq(t, "stored image", catS(t, got, "image"), "ghcr.io/acme/shop:1.2.3")

	d = h.okAs(h.as("otto", model.RoleOperator), "deployments.create", map[string]any{"projectId": "shop", "environmentId": "env-prod",
		"deploymentMethod": "gitops-ui", "gitCommitSha": catSHA, "gitCommitUrl": "https://github.com/acme/shop/commit/" + catSHA,
		"gitopsResourceId": "res-web", "status": "success", "replicas": 0, "message": "bump"})
	catEq(t, "deployedBy operator", catS(t, d, "deployedBy"), "otto")
	catEq(t, "status", catS(t, d, "status"), model.DeploySuccess)
	catEq(t, "gitCommitSha", catS(t, d, "gitCommitSha"), catSHA)
	catEq(t, "gitopsResourceId", catS(t, d, "gitopsResourceId"), "res-web")
	catEq(t, "replicas 0 kept", catJ(t, d, "replicas"), any(0.0))
	if catS(t, d, "completedAt") == "" {
		t.Fatal("finished deployment has no completedAt")
	}
	h.ok("deployments.create", `{"projectId":"shop","environmentId":"env-prod","deploymentMethod":"gitops-git","gitCommitSha":"abcdef0"}`)
	h.ok("deployments.create", `{"projectId":"shop","environmentId":"env-prod","deploymentMethod":"pipeline","status":"failed","errorMessage":"image pull"}`)

	base := `"projectId":"shop","environmentId":"env-prod"`
	h.runErrCases(t, "deployments.create", []catErrCase{
		{"all required missing", `{}`, model.CodeBadRequest, []string{"projectId", "environmentId", "deploymentMethod"}},
		{"bad method", `{` + base + `,"deploymentMethod":"ftp"}`, model.CodeBadRequest, []string{"deploymentMethod"}},
		{"method wrong type", `{` + base + `,"deploymentMethod":1}`, model.CodeBadRequest, []string{"deploymentMethod"}},
		{"bad status", `{` + base + `,"deploymentMethod":"manual","status":"done"}`, model.CodeBadRequest, []string{"status"}},
		{"negative replicas", `{` + base + `,"deploymentMethod":"manual","replicas":-1}`, model.CodeBadRequest, []string{"replicas"}},
		{"replicas string", `{` + base + `,"deploymentMethod":"manual","replicas":"3"}`, model.CodeBadRequest, []string{"replicas"}},
		{"replicas fraction", `{` + base + `,"deploymentMethod":"manual","replicas":1.5}`, model.CodeBadRequest, []string{"replicas"}},
		{"replicas overflow", `{` + base + `,"deploymentMethod":"manual","replicas":99999999999}`, model.CodeBadRequest, []string{"replicas"}},
		{"sha not hex", `{` + base + `,"deploymentMethod":"manual","gitCommitSha":"main"}`, model.CodeBadRequest, []string{"gitCommitSha"}},
		{"sha too short", `{` + base + `,"deploymentMethod":"manual","gitCommitSha":"abc12"}`, model.CodeBadRequest, []string{"gitCommitSha"}},
		{"gitops-ui without sha", `{` + base + `,"deploymentMethod":"gitops-ui"}`, model.CodeBadRequest, []string{"gitCommitSha"}},
		{"gitops-git without sha", `{` + base + `,"deploymentMethod":"gitops-git"}`, model.CodeBadRequest, []string{"gitCommitSha"}},
		{"unknown field", `{` + base + `,"deploymentMethod":"manual","who":"bob"}`, model.CodeBadRequest, []string{"who"}},
		{"deployedBy not settable", `{` + base + `,"deploymentMethod":"manual","deployedBy":"bob"}`, model.CodeBadRequest, []string{"deployedBy"}},
		{"unknown project", `{"projectId":"nope","environmentId":"env-prod","deploymentMethod":"manual"}`, model.CodeNotFound, []string{"projectId"}},
		{"unknown environment", `{"projectId":"shop","environmentId":"env-nope","deploymentMethod":"manual"}`, model.CodeNotFound, []string{"environmentId"}},
		{"environment of another project", `{"projectId":"shop","environmentId":"env-blog","deploymentMethod":"manual"}`, model.CodeBadRequest, []string{"environmentId"}},
		{"unknown resource", `{` + base + `,"deploymentMethod":"manual","gitopsResourceId":"res-nope"}`, model.CodeNotFound, []string{"gitopsResourceId"}},
	})
	h.failCtx(h.as("val", model.RoleViewer), "deployments.create", `{`+base+`,"deploymentMethod":"manual"}`, model.CodeInsufficientPermission)
	l := h.ok("deployments.list", `{}`)
	catEq(t, "deployments stored", len(catA(t, l, "")), 4)

	h.runErrCases(t, "deployments.get", []catErrCase{
		{"missing id", `{}`, model.CodeBadRequest, []string{"id"}},
		{"not found", `{"id":"dep-nope"}`, model.CodeNotFound, nil},
		{"unknown field", `{"id":"x","projectId":"shop"}`, model.CodeBadRequest, []string{"projectId"}},
	})
}

// catDeployFixture creates n deployments spread over two projects, three
// environments and the four methods; it returns their ids, oldest first.
func catDeployFixture(t *testing.T, h *catalogHarness, n int) (ids []string, byID map[string]map[string]any) {
	t.Helper()
	h.mkCluster("c1")
	h.mkProject("shop")
	h.mkProject("blog")
	h.mkEnv("env-dev", "shop", "dev", "c1")
	h.mkEnv("env-prod", "shop", "prod", "c1")
	h.mkEnv("env-blog", "blog", "prod", "c1")
	h.putResource("res-web", "shop", "env-prod")
	envs := []struct{ project, env string }{{"shop", "env-dev"}, {"shop", "env-prod"}, {"blog", "env-blog"}}
	byID = map[string]map[string]any{}
	for i := range n {
		pe := envs[i%3]
		method := model.DeploymentMethods[i%4]
		in := map[string]any{"projectId": pe.project, "environmentId": pe.env, "deploymentMethod": method,
			"image": fmt.Sprintf("acme/app:%d", i), "status": []string{"pending", "success", "failed"}[(i/3)%3]}
		if method == model.MethodGitOpsUI || method == model.MethodGitOpsGit {
			in["gitCommitSha"] = fmt.Sprintf("%040x", i+1)
		}
		if method == model.MethodGitOpsUI && in["status"] == model.DeployPending {
			// A pending gitops-ui deployment makes deployments.list ask the
			// (unreachable) cluster for Flux's outcome first.
			in["status"] = model.DeploySuccess
		}
		if pe.env == "env-prod" && i%2 == 1 {
			in["gitopsResourceId"] = "res-web"
		}
		d := h.ok("deployments.create", in).(map[string]any)
		ids = append(ids, d["id"].(string))
		byID[d["id"].(string)] = d
	}
	return ids, byID
}

// pageAll pages through deployments.list with filter and limit, checking
// that every page but the last is full and carries a cursor.
func catPageAll(t *testing.T, h *catalogHarness, filter map[string]any, limit int) []string {
	t.Helper()
	var out []string
	before := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		in := map[string]any{"limit": limit}
		for k, v := range filter {
			in[k] = v
		}
		if before != "" {
			in["before"] = before
		}
		p := h.okAs(h.as("val", model.RoleViewer), "deployments.list", in)
		items := catIDs(t, p, "")
		if len(items) > limit {
			t.Fatalf("page %d has %d items, over the limit %d", pages, len(items), limit)
		}
		out = append(out, items...)
		if len(items) < limit {
			return out
		}
		before = items[len(items)-1]
	}
}

func TestDeploymentsListPaging(t *testing.T) {
	h := newCatalogHarness(t)
	const n = 120
	ids, byID := catDeployFixture(t, h, n)
	newestFirst := slices.Clone(ids)
	slices.Reverse(newestFirst)

	// Default page: 50, newest first.
	p := h.ok("deployments.list", `{}`)
	catEq(t, "default page size", len(catA(t, p, "")), 50)
	catEq(t, "first is newest", catS(t, p, "0.id"), ids[n-1])
	p = h.ok("deployments.list", `{"limit":1000}`)
	catEq(t, "all on one page", strings.Join(catIDs(t, p, ""), ","), strings.Join(newestFirst, ","))

	// Every page size walks all records newest first, no duplicates, no gaps.
	for _, limit := range []int{1, 7, 25, 40, 119, 120, 121} {
		got := catPageAll(t, h, nil, limit)
		if strings.Join(got, ",") != strings.Join(newestFirst, ",") {
			t.Fatalf("limit %d: paged %d ids, want all %d newest first", limit, len(got), n)
		}
	}

	checkDeploymentsListFilters(t, h, newestFirst, byID)

	// Records written between two pages do not shift the pages after before.
	p = h.ok("deployments.list", `{"limit":30}`)
	first := catIDs(t, p, "")
	for range 5 {
		h.ok("deployments.create", `{"projectId":"shop","environmentId":"env-dev","deploymentMethod":"manual"}`)
	}
	p = h.ok("deployments.list", map[string]any{"limit": 1000, "before": first[len(first)-1]})
	rest := catIDs(t, p, "")
	catEq(t, "pages after a concurrent write", strings.Join(append(first, rest...), ","), strings.Join(newestFirst, ","))

	h.runErrCases(t, "deployments.list", []catErrCase{
		{"unknown before", `{"before":"dep-nope"}`, model.CodeBadRequest, []string{"before"}},
		{"cursor is not the contract's", `{"cursor":"not-a-cursor"}`, model.CodeBadRequest, []string{"cursor"}},
		{"limit too large", `{"limit":1001}`, model.CodeBadRequest, []string{"limit"}},
		{"negative limit", `{"limit":-1}`, model.CodeBadRequest, []string{"limit"}},
		{"limit wrong type", `{"limit":"10"}`, model.CodeBadRequest, []string{"limit"}},
		{"bad method", `{"deploymentMethod":"helm"}`, model.CodeBadRequest, []string{"deploymentMethod"}},
		{"bad status", `{"status":"ok"}`, model.CodeBadRequest, []string{"status"}},
		{"unknown field", `{"project":"shop"}`, model.CodeBadRequest, []string{"project"}},
		{"several bad fields", `{"limit":5000,"status":"x","sort":"asc"}`, model.CodeBadRequest, []string{"limit", "status", "sort"}},
	})
}

// checkDeploymentsListFilters pages deployments.list with each filter, alone
// and combined, and compares with the fixture's records that match it,
// newest first.
func checkDeploymentsListFilters(t *testing.T, h *catalogHarness, newestFirst []string, byID map[string]map[string]any) {
	t.Helper()
	want := func(keep func(d map[string]any) bool) []string {
		var out []string
		for _, id := range newestFirst {
			if keep(byID[id]) {
				out = append(out, id)
			}
		}
		return out
	}
	field := func(k, v string) func(map[string]any) bool {
		return func(d map[string]any) bool { return d[k] == v }
	}
	for _, tc := range []struct {
		filter map[string]any
		keep   func(map[string]any) bool
	}{
		{map[string]any{"projectId": "shop"}, field("projectId", "shop")},
		{map[string]any{"projectId": "blog"}, field("projectId", "blog")},
		{map[string]any{"environmentId": "env-dev"}, field("environmentId", "env-dev")},
		{map[string]any{"deploymentMethod": "gitops-ui"}, field("deploymentMethod", "gitops-ui")},
		{map[string]any{"deploymentMethod": "pipeline"}, field("deploymentMethod", "pipeline")},
		{map[string]any{"status": "failed"}, field("status", "failed")},
		{map[string]any{"gitopsResourceId": "res-web"}, field("gitopsResourceId", "res-web")},
		{map[string]any{"projectId": "shop", "deploymentMethod": "manual"}, func(d map[string]any) bool {
			return d["projectId"] == "shop" && d["deploymentMethod"] == "manual"
		}},
		{map[string]any{"environmentId": "env-prod", "deploymentMethod": "gitops-git", "status": "success"}, func(d map[string]any) bool {
			return d["environmentId"] == "env-prod" && d["deploymentMethod"] == "gitops-git" && d["status"] == "success"
		}},
		{map[string]any{"projectId": "blog", "environmentId": "env-dev"}, func(map[string]any) bool { return false }},
		{map[string]any{"environmentId": "env-nope"}, func(map[string]any) bool { return false }},
	} {
		w := want(tc.keep)
		for _, limit := range []int{4, 1000} {
			got := catPageAll(t, h, tc.filter, limit)
			if strings.Join(got, ",") != strings.Join(w, ",") {
				t.Fatalf("filter %v limit %d: got %d ids %v, want %d %v", tc.filter, limit, len(got), got, len(w), w)
			}
		}
	}
}

func TestDeploymentsListEmpty(t *testing.T) {
	h := newCatalogHarness(t)
	p := h.ok("deployments.list", nil)
	catEq(t, "an empty array, not null", len(catA(t, p, "")), 0)
}

func TestAuditList(t *testing.T) {
	h := newCatalogHarness(t)
	admin := h.as("alice", model.RoleAdmin)
	op := h.as("otto", model.RoleOperator)
	viewer := h.as("val", model.RoleViewer)

	h.okAs(admin, "clusters.register", map[string]any{"id": "c1", "name": "c1", "kubeconfig": h.kubeconfig("dev", "dev")})
	h.okAs(admin, "projects.create", `{"id":"shop",  "name":"Shop"}`)
	h.failCtx(admin, "projects.create", `{"id":"shop","name":"Shop"}`, model.CodeBadRequest)
	h.okAs(admin, "environments.create", `{"id":"env-prod","projectId":"shop","name":"prod","clusterId":"c1","namespace":"shop"}`)
	h.okAs(op, "environments.configureGitOps", `{"environmentId":"env-prod","config":{"syncInterval":"1m"}}`)
	h.failCtx(op, "environments.configureGitOps", `{"environmentId":"env-nope","config":{}}`, model.CodeNotFound)
	h.failCtx(viewer, "projects.delete", `{"id":"shop","force":true}`, model.CodeInsufficientPermission)
	// Queries are not audited.
	h.okAs(viewer, "projects.list", nil)
	h.okAs(admin, "environments.get", `{"id":"env-prod"}`)
	h.failCtx(admin, "projects.get", `{"id":"nope"}`, model.CodeNotFound)

	p := h.okAs(admin, "audit.list", `{}`)
	type row struct{ actor, role, source, procedure, code string }
	var got []row
	for _, it := range catA(t, p, "items") {
		m := it.(map[string]any)
		s := func(k string) string { v, _ := m[k].(string); return v }
		if s("id") == "" || s("time") == "" {
			t.Fatalf("audit entry without id or time: %v", m)
		}
		if (s("code") == "") != (s("message") == "") {
			t.Fatalf("audit entry with code but no message (or the reverse): %v", m)
		}
		got = append(got, row{s("actor"), s("role"), s("source"), s("procedure"), s("code")})
	}
	want := []row{
		{"val", "viewer", "test", "projects.delete", "INSUFFICIENT_PERMISSIONS"},
		{"otto", "operator", "test", "environments.configureGitOps", "NOT_FOUND"},
		{"otto", "operator", "test", "environments.configureGitOps", ""},
		{"alice", "admin", "test", "environments.create", ""},
		{"alice", "admin", "test", "projects.create", "BAD_REQUEST"},
		{"alice", "admin", "test", "projects.create", ""},
		{"alice", "admin", "test", "clusters.register", ""},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("audit log, newest first:\n got %v\nwant %v", got, want)
	}
	// The input is kept, compacted.
	catEq(t, "input", fmt.Sprint(catJ(t, p, "items.5.input")), fmt.Sprint(map[string]any{"id": "shop", "name": "Shop"}))

	// Paged, newest first.
	p = h.okAs(admin, "audit.list", `{"limit":3}`)
	catEq(t, "page 1", len(catA(t, p, "items")), 3)
	p = h.okAs(admin, "audit.list", map[string]any{"limit": 3, "cursor": catS(t, p, "nextCursor")})
	catEq(t, "page 2 first", catS(t, p, "items.0.procedure"), "environments.create")
	p = h.okAs(admin, "audit.list", map[string]any{"limit": 3, "cursor": catS(t, p, "nextCursor")})
	catEq(t, "page 3", len(catA(t, p, "items")), 1)

	h.failCtx(op, "audit.list", `{}`, model.CodeInsufficientPermission)
	h.failCtx(viewer, "audit.list", `{}`, model.CodeInsufficientPermission)
	h.runErrCases(t, "audit.list", []catErrCase{
		{"bad cursor", `{"cursor":"zz"}`, model.CodeBadRequest, []string{"cursor"}},
		{"unknown field", `{"actor":"val"}`, model.CodeBadRequest, []string{"actor"}},
	})
}
