// Package manifest owns the manifest edits behind previewChanges and
// deployWithGitOps: given the files of a repository at a commit, an
// environment's gitPath and a change (image, replicas, env, resources of one
// workload, or the image of every workload using it), it computes the files exactly as they would be committed, a
// git-style unified diff, a summary and the impact of the change (pod
// restarts, downtime from the rollout strategy, immutable fields), and it
// checks a planned change against upstream edits (three-way conflicts).
//
// Edits land where a person would make them: in a kustomize overlay the image
// goes in `images:`, replicas in `replicas:` or a patch the overlay already
// uses, env and resources in the Deployment in the path or in the overlay's
// strategic-merge patch (creating and referencing one when needed); in a
// plain manifest directory the workload's YAML is edited. A change touches
// exactly the workload it names, or every workload using its image when it
// names none: an image repository that several workloads share is changed
// for one of them in its own documents (or a patch kustomize applies after
// `images:`), never in a shared `images:` entry (see planimage.go).
//
// A path that builds a Flux HelmRelease is planned by PlanHelmFS instead:
// the change maps onto the chart's values by the common conventions and
// lands in the overlay's values patch for the release (else the release
// itself, else a new patch the overlay references); RenderedChange diffs
// two rendered manifests and derives the impact from their workloads. The
// package links no Helm: the chart's values come in as HelmChart.
//
// The package parses YAML with go.yaml.in/yaml/v3 (node positions) and
// edits the original text by byte ranges, so comments, key order, quoting
// and formatting of every untouched line stay as they were. The diff comes
// from github.com/aymanbagabas/go-udiff.
//
// PlaceDocuments serves commitConfigChanges without a file: it decides
// where each document of a complete-YAML commit goes (the object's own
// file under gitPath, a strategic-merge patch in the overlay for an object
// from a base, or a new file listed in resources:) and checks the result
// with kustomize's own build (sigs.k8s.io/kustomize/api/krusty, run on an
// in-memory copy of the files).
//
// The package is pure: no I/O beyond reading the given fs.FS, no git.
package manifest

import (
	"io/fs"
	"strings"
)

// Change is one change request for one workload.
type Change struct {
	// Workload names the Deployment, StatefulSet or DaemonSet ("web" or
	// "Deployment/web"); optional when the path holds only one, or when the
	// change only sets the image: it then applies to every container whose
	// image has that repository (the environment as a whole).
	Workload string `json:"workload,omitempty"`
	// Container names the container to change; optional when the workload
	// has one container (or one whose image repository matches Image, or one
	// named like the workload).
	Container string `json:"container,omitempty"`
	// Image is the new image reference ("nginx:1.27", "ghcr.io/org/app:v2",
	// "repo@sha256:...").
	Image string `json:"image,omitempty"`
	// Replicas is the new replica count.
	Replicas *int32 `json:"replicas,omitempty"`
	// Env sets (non-nil value) or removes (nil value) environment variables.
	Env map[string]*string `json:"env,omitempty"`
	// Resources sets requests and limits; empty values are left unchanged.
	Resources *Resources `json:"resources,omitempty"`
}

// Resources holds the container resource requests and limits to set.
type Resources struct {
	Requests ResourceValues `json:"requests,omitzero"`
	Limits   ResourceValues `json:"limits,omitzero"`
}

// ResourceValues is a set of quantities ("250m", "512Mi"); "" leaves a value unchanged.
type ResourceValues struct {
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// Result is what a change would commit.
type Result struct {
	// Files holds every changed or created file (full new content), by path
	// relative to the repository root.
	Files map[string][]byte `json:"-"`
	// Diff is a git-style unified diff of Files against the input.
	Diff     string   `json:"diff"`
	Summary  Summary  `json:"summary"`
	Impact   Impact   `json:"impact"`
	Warnings []string `json:"warnings"`
	// Edits lists every field changed, for commit messages, audit and
	// conflict checks (see Conflicts).
	Edits []Edit `json:"edits"`
	// Workload is the workload changed ("Deployment/web") and Container the
	// container. A change naming no workload whose image several workloads
	// use lists them all ("Deployment/api, StatefulSet/db"); Container is
	// then set only when they all use the same container name.
	Workload  string `json:"workload"`
	Container string `json:"container,omitempty"`
}

// Summary counts the diff.
type Summary struct {
	Additions int `json:"additions"`
	Deletions int `json:"deletions"`
	Files     int `json:"files"`
}

// Impact is what applying the change does to running pods.
type Impact struct {
	WillRestartPods   bool   `json:"willRestartPods"`
	EstimatedDowntime string `json:"estimatedDowntime"` // "none", "~20s", "until scaled up"
	DowntimeReason    string `json:"downtimeReason"`
	// AffectedResources lists "Kind/name" or "Kind/name (namespace ns)".
	AffectedResources []string `json:"affectedResources"`
	// ImmutableChanges lists immutable fields the change touches
	// ("Deployment/web spec.selector"); the API server rejects those updates.
	ImmutableChanges []string `json:"immutableChanges,omitempty"`
}

// Edit is one field changed in one file. Old is nil when the field was
// absent, New is nil when the change removes it. A created file has one Edit
// with an empty Field and Note "created".
type Edit struct {
	Path string `json:"path"`
	// Object is the document edited ("Deployment/web"); "" for a
	// kustomization file or a file's only document.
	Object string  `json:"object,omitempty"`
	Field  string  `json:"field"` // e.g. spec.template.spec.containers[name=web].image, images[name=nginx].newTag
	Old    *string `json:"old"`
	New    *string `json:"new"`
	Note   string  `json:"note,omitempty"`
}

// Conflict is an upstream change to a field that the planned change also
// changes: the value at the base commit, ours and theirs (nil = absent).
type Conflict struct {
	Path   string  `json:"path"`
	Field  string  `json:"field"`
	Base   *string `json:"base"`
	Ours   *string `json:"ours"`
	Theirs *string `json:"theirs"`
}

// Plan computes the files a change would commit. files maps paths relative
// to the repository root to their content at the head commit; it must hold
// the gitPath directory and every file its kustomizations reference (the
// whole tree is simplest). Plan is pure: calling it again with the files of
// a new head re-applies the same intent there.
func Plan(files map[string][]byte, gitPath string, ch Change) (*Result, error) {
	return plan(newMapTree(files), gitPath, ch)
}

// PlanFS is Plan over a file system rooted at the repository root; it reads
// only the files it needs.
func PlanFS(fsys fs.FS, gitPath string, ch Change) (*Result, error) {
	return plan(fsTree{fsys}, gitPath, ch)
}

// PatchDirective reports whether a field path as a validator reports it
// ("spec.template.spec.containers[0].env[1].$patch") is, or lies under, a
// strategic-merge-patch directive: $patch, $retainKeys,
// $setElementOrder/<list> or $deleteFromPrimitiveList/<list>. Plan writes
// "$patch: delete" into a patch to remove a list item that a base the path
// cannot edit defines; kustomize consumes the directive and the API server
// never sees it, so a check of the files a plan writes must not count it as
// an unknown field.
func PatchDirective(field string) bool {
	for _, seg := range splitField(field) {
		if i := strings.IndexByte(seg, '['); i >= 0 {
			seg = seg[:i]
		}
		if seg == "$patch" || seg == "$retainKeys" || strings.HasPrefix(seg, "$setElementOrder/") || strings.HasPrefix(seg, "$deleteFromPrimitiveList/") {
			return true
		}
	}
	return false
}
