package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
)

var adminCtx = model.WithActor(context.Background(), model.Actor{User: "alice", Role: model.RoleAdmin, Source: "test"})

// call calls a procedure of the real registry.
func call[I, O any](t *testing.T, svc *services.Services, p api.Proc[I, O], in I) O {
	t.Helper()
	out, err := api.Invoke(adminCtx, svc.Registry(), p, in)
	if err != nil {
		t.Fatalf("%s: %v", p.Name, err)
	}
	return out
}

// Every list creates with c and deletes with ctrl+d over the real
// registry: a cluster, a project, an environment and a repository are
// made without typing an id (pickers, pre-filled from the screen), and
// each delete asks for the record's typed name.
func TestCreateAndDeleteOnEveryList(t *testing.T) {
	svc := realServices(t)
	kc := call(t, svc, api.ListClusters, api.ClusterListInput{Live: new(false)})[0].Kubeconfig
	h := newHarness(t, svc.Registry(), 120, 40, func(o *Options) { o.Ctx = adminCtx })
	h.contains("Clusters (1)")
	h.press("c")
	h.typ("edge")
	h.press("tab")
	h.typ(kc)
	h.press("ctrl+s")
	h.contains("registered cluster edge", "Clusters (2)")

	h.press("2", "c")
	h.typ("blog")
	h.press("ctrl+s")
	h.contains("created project blog", "Projects (2)")
	h.press("/")
	h.typ("blog")
	h.press("enter", "enter")
	h.contains("Environments of blog (0)", "Press c to create one")
	h.press("c")
	h.contains("project*    / blog proj-blog", "cluster*") // the project of the screen, picked
	h.press("tab")
	h.typ("staging")
	h.press("tab")
	h.typ("edg") // the cluster picker narrows to edge
	h.press("tab")
	h.typ("blog-staging")
	h.golden("environment_form")
	h.press("ctrl+s")
	h.contains("created environment staging", "Environments of blog (1)", "staging edge ")
	if strings.Contains(h.screen(), "cluster-edge") {
		t.Fatalf("the cluster's id, not its name:\n%s", h.screen())
	}
	envs := call(t, svc, api.ListEnvironments, api.ListEnvironmentsInput{ProjectID: "proj-blog"})
	if len(envs) != 1 || envs[0].ClusterID != "cluster-edge" || envs[0].Namespace != "blog-staging" {
		t.Fatalf("environments of blog: %+v", envs)
	}

	h.press("r", "c")
	h.contains("Add a repository", "blog proj-blog")
	h.press("tab")
	h.typ("acme/blog-config")
	h.press("tab")
	h.typ("https://git.example.com/acme/blog-config.git")
	h.press("ctrl+s")
	h.contains("added repository acme/blog-config", "Repositories of blog (1)")
	if repos := call(t, svc, api.ListRepositories, api.ListRepositoriesInput{ProjectID: "proj-blog"}); len(repos) != 1 || repos[0].URL != "https://git.example.com/acme/blog-config.git" {
		t.Fatalf("repositories of blog: %+v", repos)
	}

	// Deletes, each behind the record's name.
	deleteNamed(t, h, "acme/blog-config", "deleted repository acme/blog-config", "Repositories of blog (0)")
	h.press("esc")
	deleteNamed(t, h, "staging", "deleted environment staging", "Environments of blog (0)")
	h.press("esc")
	deleteNamed(t, h, "blog", "deleted project blog", "Projects (0 of 1, filtered /blog)")
	h.press("1", "/")
	h.typ("edge")
	h.press("enter")
	deleteNamed(t, h, "edge", "deleted cluster edge", "Clusters (0 of 1, filtered /edge)")
	if cs := call(t, svc, api.ListClusters, api.ClusterListInput{Live: new(false)}); len(cs) != 1 || cs[0].ID != "lab" {
		t.Fatalf("clusters left: %+v", cs)
	}
	if ps := call(t, svc, api.ListProjects, api.Empty{}); len(ps) != 1 || ps[0].ID != "shop" {
		t.Fatalf("projects left: %+v", ps)
	}
}

// deleteNamed presses ctrl+d on the selected row, is refused with a wrong
// name, then types the right one.
func deleteNamed(t *testing.T, h *harness, name string, want ...string) {
	t.Helper()
	h.press("ctrl+d")
	h.contains("Type " + name + " to confirm")
	h.typ(name + "x")
	h.press("enter")
	h.contains(`type "` + name + `" to delete`)
	h.press("backspace")
	h.press("enter")
	h.contains(want...)
}

// A delete from the palette asks for the picked record's name like a list
// does, and its error opens in full with enter.
func TestPaletteDeleteConfirmsAndErrorOpens(t *testing.T) {
	svc := realServices(t)
	h := newHarness(t, svc.Registry(), 80, 24, func(o *Options) { o.Ctx = adminCtx })
	h.press("2") // the project in context is shop
	h.press(":")
	h.typ("projects.delete")
	h.press("enter")
	h.contains("id*", "shop")
	h.press("ctrl+s")
	h.contains("Delete project shop", "Type shop to confirm")
	h.press("enter")
	h.contains(`type "shop" to delete project shop`)
	h.typ("shop")
	h.press("enter")
	// The project has an environment: the server refuses, in words.
	h.contains("BAD_REQUEST: project shop has 1 environment", "enter: full error")
	h.golden("palette_delete_refused")
	if ps := call(t, svc, api.ListProjects, api.Empty{}); len(ps) != 1 {
		t.Fatalf("the project went: %+v", ps)
	}
	h.press("enter")
	h.contains("✗ BAD_REQUEST", "project shop has 1 environment(s): env-prod; delete them first, or tick the", "environments:\n- env-prod", "any key closes")
	h.golden("error_full")
	if strings.Contains(h.screen(), "pass force") {
		t.Fatalf("procedure-speak in the error:\n%s", h.screen())
	}
	h.press("esc")
	h.contains("Delete project shop")
	if strings.Contains(h.screen(), "BAD_REQUEST") {
		t.Fatal("the error stayed after it was read")
	}
}
