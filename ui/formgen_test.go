package ui

import (
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/gitopstui/gitopstui/services/api"
)

// The palette's form of gitops.createGitOpsResource is generated from the
// real declaration: required fields are marked, a submit with any missing
// shows each problem at its field and calls nothing, the input's own
// checks run as you type, and what is sent fits the declared input.
func TestGeneratedFormRequiredFieldMissing(t *testing.T) {
	fc := catalogFake().ret("gitops.createGitOpsResource", api.ResourceSummary{ID: "res-x", Name: "web", Type: "kustomization", Status: "pending"})
	h := newHarness(t, fc, 120, 40, func(o *Options) { o.Procedures = api.Infos() })
	h.press(":")
	h.typ("gitops.createGitOpsResource")
	h.press("enter")
	// The ids are pickers: the first project and its first environment.
	h.contains("projectId*", "environmentId*", "type*", "name*", "config.chartName", "shop", "prod env-prod")
	h.press("ctrl+s")
	h.contains("BAD_REQUEST", "name: required")
	if n := strings.Count(h.screen(), "✗ required"); n != 1 {
		t.Errorf("%d fields show they are required, want 1 (name):\n%s", n, h.screen())
	}
	if fc.called("gitops.createGitOpsResource") {
		t.Fatal("a form missing required fields made the call")
	}
	h.press("tab")
	h.typ("stag") // the environment picker narrows to staging
	h.contains("staging env-staging")
	h.press("tab", "tab") // type keeps kustomization
	h.typ("Bad_Name")
	h.contains(`"Bad_Name" is not a valid Kubernetes name`) // the input's Validate, as you type
	h.press("ctrl+s")
	if fc.called("gitops.createGitOpsResource") {
		t.Fatal("a name the contract refuses was sent")
	}
	for range len("Bad_Name") {
		h.press("backspace")
	}
	h.typ("web")
	h.press("ctrl+s")
	in := fc.last("gitops.createGitOpsResource")
	if in["projectId"] != "shop" || in["environmentId"] != "env-staging" || in["type"] != "kustomization" || in["name"] != "web" || len(in) != 4 {
		t.Fatalf("input %v", in)
	}
	h.contains("gitops.createGitOpsResource result", "status: pending")
}

// An enum field offers its enum's values and nothing else; the chosen
// value decodes into the typed input.
func TestGeneratedEnumOffersOnlyItsValues(t *testing.T) {
	fill := func(in *api.CreateResourceInput) { in.ProjectID, in.EnvironmentID = "shop", "env-prod" }
	f := inputForm(api.CreateGitOpsResource, formSpec{only: []string{"type", "name"}}, fill)
	values := api.ResourceType("").Values()
	if fl := f.fields[0]; fl.key != "type" || fl.kind != choiceField || !slices.Equal(fl.choices, values) {
		t.Fatalf("type field %q offers %v, want exactly %v", fl.key, fl.choices, values)
	}
	keys := NewKeyMap()
	seen := map[string]bool{}
	for range 2 * len(values) {
		seen[f.value("type")] = true
		f.update(keys, keyMsg("space"))
	}
	if len(seen) != len(values) {
		t.Fatalf("cycling offered %v", seen)
	}
	f.update(keys, keyMsg("space")) // helm
	out := ansi.Strip(f.view(NewStyles(true), 80))
	if !strings.Contains(out, "( ) kustomization  (•) helm") || strings.Contains(out, unset) {
		t.Fatalf("rendered choices:\n%s", out)
	}
	f.update(keys, keyMsg("tab"))
	for _, r := range "podinfo" {
		f.update(keys, keyMsg(string(r)))
	}
	in, fe := formInput(&f, fill)
	if in.Type != api.TypeHelm || in.Name != "podinfo" {
		t.Fatalf("input %+v", in)
	}
	// The contract wants a chart for helm; this form does not ask for one
	// (the wizard's second step does), so the problem does not block it.
	if len(fe) != 1 || fe["config.chartName"] == "" || !f.valid() {
		t.Fatalf("problems %v, form valid %v", fe, f.valid())
	}
	// An optional enum also offers to leave the field out.
	g := fieldsForm(api.CreateGitOpsResource.Info().Fields, formSpec{only: []string{"config.sourceType"}})
	if want := append([]string{unset}, api.SourceType("").Values()...); !slices.Equal(g.fields[0].choices, want) {
		t.Fatalf("optional enum offers %v, want %v", g.fields[0].choices, want)
	}
}

// A screen's spec overrides the declaration: labels, defaults, which
// fields show and in what order.
func TestGeneratedFormOverrides(t *testing.T) {
	f := fieldsForm(api.DeployWithGitOps.Info().Fields, formSpec{
		only:   []string{"commitMessage", "resources.limits.cpu"},
		fields: map[string]fieldOpt{"commitMessage": {label: "message", value: "ship it"}, "resources.limits.cpu": {label: "cpu limit", hint: "1"}},
	})
	if len(f.fields) != 2 || f.fields[0].label != "message" || f.fields[1].label != "cpu limit" || f.value("commitMessage") != "ship it" {
		t.Fatalf("fields %+v", f.fields)
	}
	obj := f.object(nil)
	lim := obj["resources"]
	if obj["commitMessage"] != "ship it" || lim != nil {
		t.Fatalf("object %v: empty fields are left out", obj)
	}
}
