package gate

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/gitopstui/gitopstui/services/api"
)

// Notifier receives a note after every successful mutation, on the calling
// goroutine: it must not block (the watch Hub's Publish does not).
type Notifier func(api.ChangeNote)

// kindsByPrefix maps a procedure's namespace to the kind of record its
// mutations change.
var kindsByPrefix = map[string][]string{
	"clusters":     {api.KindClusters},
	"projects":     {api.KindProjects},
	"environments": {api.KindEnvironments},
	"repositories": {api.KindRepositories},
	"gitops":       {api.KindResources},
	"deployments":  {api.KindDeployments},
}

// kindsByName are the mutations that change other kinds than their
// namespace says: cascading deletes, Flux on a cluster, a deploy that
// records a deployment, a commit that stores nothing.
var kindsByName = map[string][]string{
	"projects.delete":            {api.KindProjects, api.KindEnvironments, api.KindRepositories, api.KindResources, api.KindDeployments},
	"clusters.remove":            {api.KindClusters, api.KindEnvironments, api.KindResources},
	"environments.delete":        {api.KindEnvironments, api.KindResources},
	"gitops.installFlux":         {api.KindClusters},
	"gitops.uninstallFlux":       {api.KindClusters},
	"gitops.deployWithGitOps":    {api.KindDeployments, api.KindResources},
	"gitops.commitConfigChanges": nil,
}

// KindsOf returns the kinds of stored records a mutation called procedure
// may change: by its name when it is one of the exceptions, else by the
// prefix before its dot (none for an unknown prefix).
func KindsOf(procedure string) []string {
	if k, ok := kindsByName[procedure]; ok {
		return slices.Clone(k)
	}
	prefix, _, _ := strings.Cut(procedure, ".")
	return slices.Clone(kindsByPrefix[prefix])
}

// changeNote describes a successful call of mutation procedure with input
// in and result res: its kinds, and the ids named by the input's and the
// result's top-level "id".
func changeNote(procedure string, in, res any) api.ChangeNote {
	n := api.ChangeNote{Procedure: procedure, Kinds: KindsOf(procedure)}
	for _, v := range []any{in, res} {
		if id := topLevelID(v); id != "" && !slices.Contains(n.IDs, id) {
			n.IDs = append(n.IDs, id)
		}
	}
	return n
}

// topLevelID is the "id" of v's JSON object ("" when it has none).
func topLevelID(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil || len(b) == 0 || b[0] != '{' {
		return ""
	}
	var x struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(b, &x) != nil {
		return ""
	}
	return x.ID
}
