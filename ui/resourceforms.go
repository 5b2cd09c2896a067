package ui

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// The forms of GitOps resources, generated from the contract's
// declarations of gitops.createGitOpsResource and ResourceConfig.

// newCreateWizard asks for the type and name, then the type's settings.
func newCreateWizard(s *session, parent int, projectID, envID string) screen {
	fill := func(in *api.CreateResourceInput) { in.ProjectID, in.EnvironmentID = projectID, envID }
	f := inputForm(api.CreateGitOpsResource, formSpec{only: []string{"type", "name"}, fields: map[string]fieldOpt{
		"type": {value: string(api.TypeKustomization)},
		"name": {hint: "my-app"},
	}}, fill)
	return newFormScreen(s, "Create resource (1/2)", "A Flux Kustomization applies a path of the repository; a HelmRelease installs a chart.", f,
		func(f *form, to int) tea.Cmd {
			in, _ := formInput(f, fill)
			return replace(newCreateStep2(s, parent, in))
		}, nil)
}

// createSpec is the second step's form for a resource of type typ.
func createSpec(typ api.ResourceType) formSpec {
	if typ == api.TypeHelm {
		return formSpec{strip: "config.",
			only: []string{"config.chartName", "config.chartVersion", "config.sourceType", "config.source.url",
				"config.interval", "config.install.createNamespace"},
			fields: map[string]fieldOpt{
				"config.chartName":               {hint: "podinfo", required: true},
				"config.chartVersion":            {hint: "6.x"},
				"config.sourceType":              {value: string(api.SourceHelmRepository)},
				"config.source.url":              {label: "repository URL", hint: "https://charts.example.com"},
				"config.interval":                {hint: "env default"},
				"config.install.createNamespace": {label: "createNamespace", value: "false", omitOff: true},
			}}
	}
	return formSpec{strip: "config.",
		only: []string{"config.path", "config.prune", "config.wait", "config.interval", "config.timeout"},
		fields: map[string]fieldOpt{
			"config.path":     {hint: "env gitPath"},
			"config.prune":    {value: "true"},
			"config.wait":     {value: "false"},
			"config.interval": {hint: "env default"},
		}}
}

// newCreateStep2 asks for the settings of the resource step 1 named.
func newCreateStep2(s *session, parent int, first api.CreateResourceInput) screen {
	fill := func(in *api.CreateResourceInput) {
		in.ProjectID, in.EnvironmentID, in.Type, in.Name = first.ProjectID, first.EnvironmentID, first.Type, first.Name
	}
	f := inputForm(api.CreateGitOpsResource, createSpec(first.Type), fill)
	name := fmt.Sprintf("Create %s %s (2/2)", first.Type, first.Name)
	return newFormScreen(s, name, "Empty fields take the environment's defaults.", f,
		func(f *form, to int) tea.Cmd {
			in, _ := formInput(f, fill)
			return invoke(s, to, "", api.CreateGitOpsResource, in)
		},
		func(msg tea.Msg) tea.Cmd {
			r := msg.(doneMsg[api.ResourceSummary])
			r.tag = "created"
			r.to = parent
			return tea.Batch(pop(""), func() tea.Msg { return r })
		})
}

// editSpec is the edit form of a resource with config cfg.
func editSpec(typ string, cfg api.ResourceConfig) formSpec {
	spec := formSpec{strip: "config.",
		only: []string{"config.interval", "config.timeout", "config.retryInterval"},
		fields: map[string]fieldOpt{
			"config.interval":      {value: cfg.Interval, hint: "5m"},
			"config.timeout":       {value: cfg.Timeout},
			"config.retryInterval": {value: cfg.RetryInterval},
		}}
	if typ == model.ResourceHelm {
		spec.only = append(spec.only, "config.chartName", "config.chartVersion")
		spec.fields["config.chartName"] = fieldOpt{value: cfg.ChartName, required: true}
		spec.fields["config.chartVersion"] = fieldOpt{value: cfg.ChartVersion, hint: "*"}
		return spec
	}
	spec.only = append(spec.only, "config.path", "config.prune", "config.wait")
	spec.fields["config.path"] = fieldOpt{value: cfg.Path, hint: "./k8s/overlays/…"}
	spec.fields["config.prune"] = fieldOpt{value: strconv.FormatBool(cfg.Prune == nil || *cfg.Prune)}
	spec.fields["config.wait"] = fieldOpt{value: strconv.FormatBool(cfg.Wait != nil && *cfg.Wait)}
	return spec
}

// newEditResource edits a resource's main settings, generated from the
// contract's ResourceConfig; the change is sent as a JSON merge patch
// through gitops.updateGitOpsResource.
func newEditResource(s *session, v api.ResourceDetail) screen {
	var cfg api.ResourceConfig
	if len(v.Config) > 0 {
		_ = json.Unmarshal(v.Config, &cfg)
	}
	decl := []api.Field{{Name: "config", Type: "object", Fields: api.Describe(reflect.TypeFor[api.ResourceConfig]())}}
	f := fieldsForm(decl, editSpec(v.Type, cfg))
	f.verify = func(f *form) map[string]string {
		var in struct {
			Config api.ResourceConfig `json:"config"`
		}
		fe := decodeInto(f, &in, nil)
		in.Config.Check(fe, "config.", api.ResourceType(v.Type))
		return fe
	}
	f.recheck()
	orig := map[string]string{}
	for i := range f.fields {
		orig[f.fields[i].key] = f.fields[i].text()
	}
	return newFormScreen(s, "Edit "+v.Name, "Changed settings are merged into the resource and re-applied.", f,
		func(f *form, to int) tea.Cmd {
			patch := mergePatch(f, orig)
			if len(patch) == 0 {
				return pop("nothing changed")
			}
			raw, err := json.Marshal(patch)
			if err != nil {
				return fail(err)
			}
			return invoke(s, to, "", api.UpdateGitOpsResource, api.UpdateResourceInput{ID: v.ID, Config: raw})
		},
		func(msg tea.Msg) tea.Cmd {
			r := msg.(doneMsg[api.UpdateResult]).val
			return pop(fmt.Sprintf("updated %s: %s", r.Name, r.Status))
		})
}

// mergePatch is the JSON merge patch from the original values (by key)
// to f's: changed fields with their new value, emptied ones null.
func mergePatch(f *form, orig map[string]string) map[string]any {
	patch := map[string]any{}
	for i := range f.fields {
		fl := &f.fields[i]
		nv := fl.text()
		if nv == orig[fl.key] {
			continue
		}
		k := strings.TrimPrefix(fl.key, "config.")
		switch {
		case fl.kind == boolField:
			patch[k] = fl.on
		case nv == "":
			patch[k] = nil
		default:
			val, err := fl.jsonValue(nv)
			if err != nil {
				continue // the form refused it already
			}
			patch[k] = val
		}
	}
	return patch
}
