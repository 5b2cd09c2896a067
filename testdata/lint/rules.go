package main

// The import map of DESIGN.md §1 and §6.12 (cmd → ui → services/* → store →
// model) as data. Patterns are relative to the module path: "ui" is that one
// package, "ui/..." is ui and everything under it, "..." is every package.
// A package may always import itself (its external test package does).
//
// A rule that fails today stays strict: the change that fixes the code makes
// it pass. Such rules say so in their comment.

// seams are the sub-packages of services: reachable only through the wiring
// package services, from each other, and from tests.
var seams = []string{
	"services/gate/...",
	"services/catalog/...",
	"services/kube/...",
	"services/flux/...",
	"services/gitops/...",
	"services/deploy/...",
	"services/watch/...",
}

// rules is the import map. Edit it here; rules_test.go shows each kind of
// rule failing on a synthetic package list.
var rules = []rule{
	{
		name:   "model",
		of:     []string{"model/..."},
		only:   []string{}, // nothing of the project
		noLink: []string{"k8s.io/client-go", "charm.land", "github.com/charmbracelet"},
		why:    "model imports nothing of the project and links neither charm nor client-go",
	},
	{
		name: "store",
		of:   []string{"store/..."},
		only: []string{"model/..."},
		why:  "store persists model types and never imports services",
	},
	{
		// The contract may use apimachinery's value validators (DNS labels,
		// quantities: the rules the API server applies), not the Kubernetes
		// API types or object metadata, nor any client.
		name:   "api",
		of:     []string{"services/api/..."},
		only:   []string{"model/..."},
		noLink: []string{"k8s.io/client-go", "k8s.io/api/", "k8s.io/apimachinery/pkg/apis", "github.com/go-git", "sigs.k8s.io/kustomize", "helm.sh/"},
		why:    "services/api is the contract ui imports: only model, and no cluster, git or kustomize library",
	},
	{
		name:  "services",
		of:    []string{"services/..."},
		never: []string{"ui/...", "cmd/..."},
		why:   "services never imports ui or cmd",
	},
	{
		name: "ui",
		of:   []string{"ui/..."},
		only: []string{"model/...", "services/api/...", "services/procio/...", "ui/..."},
		// Tests drive the screens against the real procedures.
		testAlso: []string{
			"services", "store/...",
			"services/testcluster/...", "services/gitx/gittest/...", "services/proctest/...", "services/helmchart/helmtest",
		},
		noLink: []string{"k8s.io/client-go", "github.com/go-git", "helm.sh/"},
		why:    "ui imports only model, the contract (services/api), services/procio and ui/..., and links neither client-go, go-git nor Helm",
	},
	{
		// Helm's SDK is linked by helmchart alone: fetching and rendering
		// charts. The planner (manifest) stays pure and Helm-free.
		name: "helmchart",
		of:   []string{"services/helmchart/..."},
		only: []string{"model/...", "services/manifest/...", "services/helmchart/..."},
		why:  "services/helmchart fetches and renders charts: it imports only model and the manifest planner",
	},
	{
		name:   "manifest",
		of:     []string{"services/manifest/..."},
		noLink: []string{"helm.sh/"},
		why:    "the manifest planner is pure and links no Helm (services/helmchart renders)",
	},
	{
		name:      "seams",
		of:        []string{"..."},
		except:    append([]string{"services"}, seams...),
		never:     seams,
		skipTests: true,
		why:       "the services sub-packages are reached only through services (the wiring package), each other and tests",
	},
}
