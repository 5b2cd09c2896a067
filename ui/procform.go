package ui

import (
	"encoding/json"
	"reflect"
	"strings"

	tea "charm.land/bubbletea/v2"
	"sigs.k8s.io/yaml"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// The palette runs any procedure through a form built from its declared
// fields: ids are pickers pre-filled from the screens below, and the
// destructive procedures ask for the record's name first.

// destructive are the procedures that delete, with the field naming the
// record they delete.
var destructive = map[string]string{
	api.RemoveCluster.Name:        "id",
	api.DeleteProject.Name:        "id",
	api.DeleteEnvironment.Name:    "id",
	api.DeleteRepository.Name:     "id",
	api.DeleteGitOpsResource.Name: "id",
	api.UninstallFlux.Name:        "clusterId",
}

// idPickOf is what the field "id" of procedure name picks: the record an
// existing-record procedure acts on ("" for creates and deployments).
func idPickOf(name string) pickKind {
	group, proc, _ := strings.Cut(name, ".")
	if strings.HasPrefix(proc, "create") || proc == "register" || proc == "importKubeconfig" {
		return ""
	}
	switch group {
	case "clusters":
		return pickCluster
	case "projects":
		return pickProject
	case "environments":
		return pickEnv
	case "repositories":
		return pickRepo
	case "gitops":
		if strings.Contains(proc, "GitOpsResource") || proc == "triggerSync" {
			return pickResource
		}
	}
	return ""
}

// procSpec shapes a procedure's form: required fields first, the ids as
// pickers pre-selecting the context's records.
func procSpec(name string, sc scopeInfo) formSpec {
	spec := formSpec{requiredFirst: true, idPick: idPickOf(name), fields: map[string]fieldOpt{
		"projectId":     {value: sc.projectID},
		"environmentId": {value: sc.envID},
		"clusterId":     {value: sc.clusterID},
	}}
	switch spec.idPick {
	case pickProject:
		spec.fields["id"] = fieldOpt{value: sc.projectID}
	case pickEnv:
		spec.fields["id"] = fieldOpt{value: sc.envID}
	case pickCluster:
		spec.fields["id"] = fieldOpt{value: sc.clusterID}
	}
	return spec
}

// newProcForm builds a form from a procedure's input fields and runs it:
// the one place a procedure is called by its name.
func newProcForm(s *session, pr api.Info, sc scopeInfo) screen {
	f := fieldsForm(pr.Fields, procSpec(pr.Name, sc))
	if pr.Input != nil {
		f.verify = func(f *form) map[string]string {
			return decodeInto(f, reflect.New(pr.Input).Interface(), nil)
		}
		f.recheck()
	}
	if len(f.fields) == 0 {
		f = newForm(field{label: "no input", kind: choiceField, choices: []string{"run"}})
	}
	intro := pr.Description + " (role " + string(pr.Role) + ")"
	done := func(msg tea.Msg) tea.Cmd {
		res := msg.(doneMsg[any]).val
		b, err := json.Marshal(res)
		text := ""
		if err == nil {
			if y, err := yaml.JSONToYAML(b); err == nil {
				text = string(y)
			}
		}
		return replace(newTextScreen(s, pr.Name+" result", "yaml", text))
	}
	var fs *formScreen
	fs = newFormScreen(s, pr.Name, intro, f,
		func(f *form, to int) tea.Cmd {
			raw, err := json.Marshal(f.object(model.FieldErrors{}))
			if err != nil {
				return fail(err)
			}
			if key, ok := destructive[pr.Name]; ok {
				fs.working = ""
				return replace(newDelete(s, procDelete(s, pr, f, key, raw, done)))
			}
			return invokeRaw(s, to, pr, raw)
		}, done)
	return fs
}

// procDelete is the typed-name confirmation of a destructive procedure
// run from the palette: the name is the picked record's (or the typed id).
func procDelete(s *session, pr api.Info, f *form, key string, raw json.RawMessage, done func(tea.Msg) tea.Cmd) deleteSpec {
	id := f.value(key)
	name := f.picked(key)
	if name == "" {
		name = id
	}
	what := strings.TrimSuffix(string(idPickOf(pr.Name)), "s")
	if pr.Name == api.UninstallFlux.Name {
		what = "Flux from cluster"
	}
	return deleteSpec{
		what: strings.TrimSpace(what + " " + name), name: name,
		note: pr.Description + ".",
		run:  func(_ bool, to int) tea.Cmd { return invokeRaw(s, to, pr, raw) },
		done: done,
	}
}
