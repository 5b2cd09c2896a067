package services_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gate"
)

func TestRegistryProcedures(t *testing.T) {
	h := newCatalogHarness(t)
	procs := h.reg.Procedures()
	names := make([]string, len(procs))
	for i, p := range procs {
		names[i] = p.Name
	}
	if !slices.IsSorted(names) {
		t.Fatalf("Procedures() not sorted by name: %v", names)
	}
	for _, name := range sortedProcedureNames() {
		want := procedureRoles[name]
		p, ok := h.reg.Lookup(name)
		if !ok {
			t.Fatalf("%s not registered", name)
		}
		if !slices.Contains(names, name) {
			t.Fatalf("%s missing from Procedures()", name)
		}
		catEq(t, name+" role", p.Role, want.role)
		catEq(t, name+" mutation", p.Mutation, want.mutation)
		if p.Description == "" {
			t.Fatalf("%s has no description", name)
		}
		for _, f := range p.Fields {
			if f.Name == "" || f.Type == "" || f.Doc == "" {
				t.Fatalf("%s: field %+v is not fully described", name, f)
			}
		}
	}
	if _, ok := h.reg.Lookup("projects.nope"); ok {
		t.Fatal("Lookup found an unknown procedure")
	}

	checkCatalogInputFields(t, h.reg)
	checkProceduresJSON(t, procs)
}

// inputField returns the input field of proc at path, a field name and the
// names of its nested fields.
func inputField(t *testing.T, reg *gate.Registry, proc string, path ...string) api.Field {
	t.Helper()
	p, _ := reg.Lookup(proc)
	fields := p.Fields
	for i, name := range path {
		j := slices.IndexFunc(fields, func(f api.Field) bool { return f.Name == name })
		if j < 0 {
			t.Fatalf("%s has no input field %s", proc, strings.Join(path[:i+1], "."))
		}
		if i == len(path)-1 {
			return fields[j]
		}
		fields = fields[j].Fields
	}
	return api.Field{}
}

// checkCatalogInputFields: the catalog's input fields are declared with the
// required flags, types, enums and nesting of the contract.
func checkCatalogInputFields(t *testing.T, reg *gate.Registry) {
	t.Helper()
	f := inputField(t, reg, "projects.create", "name")
	if !f.Required || f.Type != "string" {
		t.Fatalf("projects.create name: %+v", f)
	}
	if f = inputField(t, reg, "projects.create", "id"); f.Required {
		t.Fatalf("projects.create id is optional: %+v", f)
	}
	for _, name := range []string{"projectId", "name", "clusterId", "namespace"} {
		if !inputField(t, reg, "environments.create", name).Required {
			t.Fatalf("environments.create %s should be required", name)
		}
	}
	f = inputField(t, reg, "deployments.create", "deploymentMethod")
	if !f.Required || !slices.Equal(f.Enum, model.DeploymentMethods) {
		t.Fatalf("deployments.create deploymentMethod: %+v", f)
	}
	catEq(t, "replicas type", inputField(t, reg, "deployments.create", "replicas").Type, "integer")
	catEq(t, "config type", inputField(t, reg, "environments.configureGitOps", "config").Type, "object")
	for _, name := range []string{"enabled", "autoSync", "gitBranch", "gitPath", "syncInterval", "repositoryId"} {
		inputField(t, reg, "environments.configureGitOps", "config", name)
	}
	catEq(t, "autoSync type", inputField(t, reg, "environments.configureGitOps", "config", "autoSync").Type, "boolean")
	inputField(t, reg, "repositories.create", "auth", "tokenEnv")
	catEq(t, "live type", inputField(t, reg, "clusters.get", "live").Type, "boolean")
	catEq(t, "limit type", inputField(t, reg, "deployments.list", "limit").Type, "integer")
}

// checkProceduresJSON: `gitopstui procedures` prints procs as JSON, each with
// its name, description, role, mutation flag and input.
func checkProceduresJSON(t *testing.T, procs []api.Info) {
	t.Helper()
	raw, err := json.Marshal(procs)
	if err != nil {
		t.Fatal(err)
	}
	var wire []map[string]any
	if err := json.Unmarshal(raw, &wire); err != nil {
		t.Fatal(err)
	}
	for _, p := range wire {
		for _, k := range []string{"name", "description", "role", "mutation", "input"} {
			if _, ok := p[k]; !ok {
				t.Fatalf("procedure JSON %v has no %q", p, k)
			}
		}
	}
}

func TestRegistryUnknownProcedure(t *testing.T) {
	h := newCatalogHarness(t)
	for _, name := range []string{"projects.nope", "", "PROJECTS.LIST"} {
		e := h.fail(name, `{}`, model.CodeNotFound)
		catEq(t, "details.procedure", e.Details["procedure"], any(name))
	}
}

// TestRegistryRoles checks every procedure against every role: the role
// check comes before decoding, so the refusal names the role whatever the
// input, and an allowed caller's input is decoded.
func TestRegistryRoles(t *testing.T) {
	h := newCatalogHarness(t)
	for _, name := range sortedProcedureNames() {
		p := procedureRoles[name]
		for _, role := range []model.Role{"", "guest", model.RoleViewer, model.RoleOperator, model.RoleAdmin} {
			ctx := h.as("someone", role)
			_, err := h.callCtx(ctx, name, `{"unknownFieldForRoleTest":1}`)
			if roleRank(role) < roleRank(p.role) {
				e := wantCatalogErr(t, err, model.CodeInsufficientPermission)
				catEq(t, name+" details.required", e.Details["required"], any(string(p.role)))
				catEq(t, name+" details.role", e.Details["role"], any(string(role)))
				continue
			}
			// Allowed: the input is decoded and its unknown field refused.
			e := wantCatalogErr(t, err, model.CodeBadRequest)
			if !slices.Contains(catalogErrFields(e), "unknownFieldForRoleTest") {
				t.Fatalf("%s as %q: unknown field not named: %v", name, role, e)
			}
		}
	}
}

func TestRegistryRefusesACallWithoutActor(t *testing.T) {
	h := newCatalogHarness(t)
	// Every front end says who calls; a context without an actor is refused,
	// never taken for the local admin.
	if a := model.ActorFrom(context.Background()); a.Role.Allows(model.RoleViewer) {
		t.Fatalf("a missing actor has role %q", a.Role)
	}
	_, err := h.reg.Call(context.Background(), "projects.create", []byte(`{"name":"Local"}`))
	if model.CodeOf(err) != model.CodeInsufficientPermission {
		t.Fatalf("no actor: %v", err)
	}
	h.fail("projects.get", `{"id":"proj-local"}`, model.CodeNotFound)
	p := h.ok("audit.list", `{"limit":1}`)
	catEq(t, "audit code", catS(t, p, "items.0.code"), "INSUFFICIENT_PERMISSIONS")
	catEq(t, "audit actor", catS(t, p, "items.0.actor"), "")
}

func TestRegistryInputLimit(t *testing.T) {
	h := newCatalogHarness(t)
	big := `{"name":"` + strings.Repeat("x", api.MaxInputBytes) + `"}`
	h.fail("projects.create", big, model.CodeBadRequest)
	p := h.ok("audit.list", `{}`)
	catEq(t, "audited", catS(t, p, "items.0.code"), "BAD_REQUEST")
	if _, has := catJ(t, p, "items.0").(map[string]any)["input"]; has {
		t.Fatal("an oversized input was copied into the audit log")
	}
	if l := h.ok("projects.list", nil); len(catA(t, l, "")) != 0 {
		t.Fatalf("oversized input created %v", l)
	}
}

// TestEveryDeclarationIsBound: the registry serves exactly the procedures the
// contract declares, each with the declared role and input fields.
func TestEveryDeclarationIsBound(t *testing.T) {
	reg := services.New(services.Config{}).Registry()
	decls := api.Infos()
	if got := reg.Procedures(); len(got) != len(decls) {
		t.Fatalf("registry serves %d procedures, the contract declares %d", len(got), len(decls))
	}
	for _, d := range decls {
		p, ok := reg.Lookup(d.Name)
		if !ok {
			t.Fatalf("%s is declared but not bound", d.Name)
		}
		if p.Role != d.Role || p.Mutation != d.Mutation || p.Input != d.Input || p.Result != d.Result {
			t.Fatalf("%s bound as %+v, declared %+v", d.Name, p, d)
		}
	}
}
