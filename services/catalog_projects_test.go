package services_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

func TestProjectsCreate(t *testing.T) {
	h := newCatalogHarness(t)
	p := h.ok("projects.create", `{"name":"Web Shop"}`)
	catEq(t, "generated id", catS(t, p, "id"), "proj-web-shop")
	catEq(t, "name", catS(t, p, "name"), "Web Shop")
	if catS(t, p, "createdAt") == "" {
		t.Fatal("no createdAt")
	}
	p = h.ok("projects.create", `{"id":"project-1","name":"Billing"}`)
	catEq(t, "given id", catS(t, p, "id"), "project-1")
	// A name without any slug-able character still gets an id.
	p = h.ok("projects.create", `{"name":"日本"}`)
	if id := catS(t, p, "id"); !strings.HasPrefix(id, "proj-") || len(id) <= len("proj-") {
		t.Fatalf("generated id %q", id)
	}

	h.runErrCases(t, "projects.create", []catErrCase{
		{"missing name", `{}`, model.CodeBadRequest, []string{"name"}},
		{"empty input", ``, model.CodeBadRequest, []string{"name"}},
		{"name wrong type", `{"name":5}`, model.CodeBadRequest, []string{"name"}},
		{"id wrong type", `{"id":true,"name":"x"}`, model.CodeBadRequest, []string{"id"}},
		{"unknown field", `{"name":"x","owner":"bob"}`, model.CodeBadRequest, []string{"owner"}},
		{"bad id", `{"id":"-bad id","name":"x"}`, model.CodeBadRequest, []string{"id"}},
		{"control char in name", `{"name":"a\u0007b"}`, model.CodeBadRequest, []string{"name"}},
		{"leading space", `{"name":" x"}`, model.CodeBadRequest, []string{"name"}},
		{"name too long", `{"name":"` + strings.Repeat("n", 254) + `"}`, model.CodeBadRequest, []string{"name"}},
		{"duplicate name", `{"name":"web shop"}`, model.CodeBadRequest, []string{"name"}},
		{"duplicate id", `{"id":"project-1","name":"Other"}`, model.CodeBadRequest, []string{"id"}},
		{"every bad field named", `{"id":"!","name":"","extra":1}`, model.CodeBadRequest, []string{"id", "name", "extra"}},
		{"not JSON", `{"name":`, model.CodeBadRequest, nil},
		{"not an object", `["x"]`, model.CodeBadRequest, []string{"(input)"}},
	})

	h.failCtx(h.as("val", model.RoleViewer), "projects.create", `{"name":"V"}`, model.CodeInsufficientPermission)
	h.failCtx(h.as("otto", model.RoleOperator), "projects.create", `{"name":"O"}`, model.CodeInsufficientPermission)
	list := h.ok("projects.list", nil)
	if n := len(catA(t, list, "")); n != 3 {
		t.Fatalf("projects.list has %d projects after refused creates, want 3", n)
	}
}

func TestProjectsListGet(t *testing.T) {
	h := newCatalogHarness(t)
	if l := h.ok("projects.list", `{}`); len(catA(t, l, "")) != 0 {
		t.Fatalf("empty store lists %v", l)
	}
	h.mkCluster("cluster-123")
	h.mkProject("shop")
	h.mkProject("blog")
	h.mkEnv("env-prod", "shop", "prod", "cluster-123")
	h.mkEnv("env-blog", "blog", "prod", "cluster-123")
	h.mkRepo("repo-456", "shop", "acme/shop-config")

	l := h.ok("projects.list", `{}`)
	got := catIDs(t, l, "")
	sort.Strings(got)
	catEq(t, "projects", strings.Join(got, ","), "blog,shop")
	// A viewer may read.
	if _, err := h.callCtx(h.as("val", model.RoleViewer), "projects.list", nil); err != nil {
		t.Fatalf("viewer projects.list: %v", err)
	}

	p := h.ok("projects.get", `{"id":"shop"}`)
	catEq(t, "id", catS(t, p, "id"), "shop")
	catEq(t, "environments", strings.Join(catIDs(t, p, "environments"), ","), "env-prod")
	catEq(t, "repositories", strings.Join(catIDs(t, p, "repositories"), ","), "repo-456")
	p = h.ok("projects.get", `{"id":"blog"}`)
	if n := len(catA(t, p, "repositories")); n != 0 {
		t.Fatalf("blog has %d repositories", n)
	}

	h.runErrCases(t, "projects.list", []catErrCase{
		{"unknown field", `{"projectId":"shop"}`, model.CodeBadRequest, []string{"projectId"}},
	})
	h.runErrCases(t, "projects.get", []catErrCase{
		{"missing id", `{}`, model.CodeBadRequest, []string{"id"}},
		{"id wrong type", `{"id":7}`, model.CodeBadRequest, []string{"id"}},
		{"unknown field", `{"id":"shop","x":1}`, model.CodeBadRequest, []string{"x"}},
		{"not found", `{"id":"nope"}`, model.CodeNotFound, nil},
	})
}

func TestProjectsDelete(t *testing.T) {
	h := newCatalogHarness(t)
	h.mkCluster("c1")
	h.mkProject("shop")
	h.mkProject("empty")
	h.mkEnv("env-dev", "shop", "dev", "c1")
	h.mkEnv("env-prod", "shop", "prod", "c1")
	h.mkRepo("repo-1", "shop", "acme/shop")
	h.putResource("res-1", "shop", "env-prod")
	h.ok("deployments.create", `{"projectId":"shop","environmentId":"env-prod","deploymentMethod":"manual","image":"shop:1"}`)

	e := h.fail("projects.delete", `{"id":"shop"}`, model.CodeBadRequest)
	envs, _ := e.Details["environments"].([]string)
	sort.Strings(envs)
	catEq(t, "details.environments", strings.Join(envs, ","), "env-dev,env-prod")
	if !strings.Contains(e.Message, "force") {
		t.Fatalf("refusal does not say how to proceed: %s", e.Message)
	}
	// Nothing was removed.
	h.ok("environments.get", `{"id":"env-dev"}`)

	h.runErrCases(t, "projects.delete", []catErrCase{
		{"missing id", `{}`, model.CodeBadRequest, []string{"id"}},
		{"force wrong type", `{"id":"shop","force":"yes"}`, model.CodeBadRequest, []string{"force"}},
		{"not found", `{"id":"nope"}`, model.CodeNotFound, nil},
	})

	d := h.ok("projects.delete", `{"id":"empty"}`)
	catEq(t, "success", catJ(t, d, "success"), any(true))
	catEq(t, "id", catS(t, d, "id"), "empty")
	h.fail("projects.get", `{"id":"empty"}`, model.CodeNotFound)

	h.ok("projects.delete", `{"id":"shop","force":true}`)
	h.fail("projects.get", `{"id":"shop"}`, model.CodeNotFound)
	h.fail("environments.get", `{"id":"env-prod"}`, model.CodeNotFound)
	h.fail("repositories.get", `{"id":"repo-1"}`, model.CodeRepositoryNotFound)
	if l := h.ok("environments.list", nil); len(catA(t, l, "")) != 0 {
		t.Fatalf("environments left: %v", l)
	}
	if l := h.ok("deployments.list", `{"projectId":"shop"}`); len(catA(t, l, "")) != 0 {
		t.Fatalf("deployments left: %v", l)
	}
	// The resource record is soft-deleted, not gone.
	err := h.db.View(func(tx *store.Tx) error {
		r, err := store.Resources.Get(tx, "res-1")
		if err == nil && r.DeletedAt == nil {
			return fmt.Errorf("resource not marked deleted")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The cluster stays.
	h.ok("clusters.get", `{"id":"c1","live":false}`)
}
