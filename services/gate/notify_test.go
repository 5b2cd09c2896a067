package gate_test

import (
	"context"
	"log/slog"
	"reflect"
	"slices"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gate"
)

type idIn struct {
	ID string `json:"id" required:"true" doc:"the record's id"`
}

type made struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

var (
	touchProject = api.Proc[idIn, made]{Name: "projects.touch", Role: model.RoleOperator, Mutation: true, Description: "touches a project"}
	makeEnv      = api.Proc[noteIn, made]{Name: "environments.make", Role: model.RoleOperator, Mutation: true, Description: "makes an environment"}
	peekProject  = api.Proc[idIn, made]{Name: "projects.peek", Role: model.RoleViewer, Description: "reads a project"}
)

// TestSuccessfulMutationNotifiesFailedDoesNot: every successful mutation is
// noted once with its kinds and the ids its input and result name; a query,
// a refused caller, bad input, a handler's error and a handler's panic are
// not.
func TestSuccessfulMutationNotifiesFailedDoesNot(t *testing.T) {
	f := newGateFixture(t)
	gate.Bind(f.reg, touchProject, func(_ context.Context, in idIn) (made, error) {
		switch in.ID {
		case "taken":
			return made{}, model.Errorf(model.CodeConflictDetected, "project %s is busy", in.ID)
		case "boom":
			panic("handler bug")
		}
		return made{ID: in.ID}, nil
	})
	gate.Bind(f.reg, makeEnv, func(_ context.Context, in noteIn) (made, error) { return made{ID: "env-1", Name: in.Name}, nil })
	gate.Bind(f.reg, peekProject, func(_ context.Context, in idIn) (made, error) { return made{ID: in.ID}, nil })
	op := as("otto", model.RoleOperator)

	failing := []struct {
		ctx       context.Context
		name, raw string
	}{
		{op, "projects.peek", `{"id":"shop"}`},                           // a query
		{as("val", model.RoleViewer), "projects.touch", `{"id":"shop"}`}, // refused caller
		{op, "projects.touch", `{"id":7}`},                               // bad input
		{op, "projects.touch", `{}`},                                     // missing required field
		{op, "projects.touch", `{"id":"taken"}`},                         // the handler's error
		{op, "projects.touch", `{"id":"boom"}`},                          // the handler's panic
		{model.WithActor(context.Background(), model.Actor{}), "projects.touch", `{"id":"shop"}`},
	}
	for _, c := range failing {
		_, _ = f.reg.Call(c.ctx, c.name, []byte(c.raw))
		if n := f.changeNotes(); len(n) != 0 {
			t.Fatalf("%s %s noted %+v", c.name, c.raw, n)
		}
	}
	if _, err := f.reg.Call(op, "projects.touch", []byte(`{"id":"shop"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Call(op, "environments.make", []byte(`{"name":"prod"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Call(op, "notes.write", []byte(`{"name":"a"}`)); err != nil {
		t.Fatal(err)
	}
	want := []api.ChangeNote{
		{Procedure: "projects.touch", Kinds: []string{api.KindProjects}, IDs: []string{"shop"}},
		{Procedure: "environments.make", Kinds: []string{api.KindEnvironments}, IDs: []string{"env-1"}},
		{Procedure: "notes.write"}, // an unknown namespace: noted, no kind
	}
	if got := f.changeNotes(); !reflect.DeepEqual(got, want) {
		t.Fatalf("notes\n got %+v\nwant %+v", got, want)
	}
}

// TestNoNotifierIsFine: a registry built without a notifier runs mutations.
func TestNoNotifierIsFine(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	f := newGateFixture(t)
	reg := gate.New(gate.NewAudit(f.db, f.now, log, gate.Retention{}), log, nil)
	gate.Bind(reg, touchProject, func(_ context.Context, in idIn) (made, error) { return made{ID: in.ID}, nil })
	if _, err := reg.Call(as("otto", model.RoleOperator), "projects.touch", []byte(`{"id":"shop"}`)); err != nil {
		t.Fatal(err)
	}
}

// TestEveryDeclaredMutationHasKinds: each mutation of the contract changes
// a known kind of record (a commit to Git alone changes none), and the
// cascading and cross-namespace ones name every kind they change.
func TestEveryDeclaredMutationHasKinds(t *testing.T) {
	for _, info := range api.Infos() {
		if !info.Mutation {
			continue
		}
		kinds := gate.KindsOf(info.Name)
		if len(kinds) == 0 && info.Name != "gitops.commitConfigChanges" {
			t.Errorf("%s changes no kind", info.Name)
		}
	}
	cases := map[string][]string{
		"clusters.register":       {api.KindClusters},
		"projects.create":         {api.KindProjects},
		"repositories.update":     {api.KindRepositories},
		"gitops.triggerSync":      {api.KindResources},
		"gitops.installFlux":      {api.KindClusters},
		"gitops.deployWithGitOps": {api.KindDeployments, api.KindResources},
		"deployments.create":      {api.KindDeployments},
		"environments.delete":     {api.KindEnvironments, api.KindResources},
	}
	for name, want := range cases {
		if got := gate.KindsOf(name); !reflect.DeepEqual(got, want) {
			t.Errorf("KindsOf(%s) = %v, want %v", name, got, want)
		}
	}
	if got := gate.KindsOf("projects.delete"); !slices.Contains(got, api.KindDeployments) || !slices.Contains(got, api.KindEnvironments) {
		t.Errorf("projects.delete cascades, but KindsOf says %v", got)
	}
}
