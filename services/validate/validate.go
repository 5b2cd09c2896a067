// Package validate owns gitops.validateYAML: it checks a multi-document
// Kubernetes YAML stream offline, the way the API server would, and reports
// errors and warnings at the line and column of the offending field.
//
// What it uses, and why:
//   - go.yaml.in/yaml/v3 nodes for positions; scalars are resolved the way
//     sigs.k8s.io/yaml (kubectl, Flux) resolves them (YAML 1.1: yes/no/on/off
//     are booleans), so the JSON checked is the JSON the API server receives.
//     Syntax errors are reported where libyaml's own marks put them (the
//     unclosed bracket or quote, the misindented key), see syntax.go.
//   - Built-in kinds: strict decoding (sigs.k8s.io/json UnmarshalStrict, the
//     API server's own decoder) into client-go's scheme types gives unknown
//     fields, duplicate fields and wrong types exactly as the server reports
//     them. Kubernetes publishes no offline OpenAPI document in a module the
//     binary can depend on (the per-group OpenAPI JSON lives only in
//     k8s.io/kubernetes, which is not importable), and the OpenAPI "required"
//     lists do not match what the server's validation requires anyway (image,
//     metadata.name, selectors), so required fields and the most common
//     server-side rules are a documented table in rules.go, with
//     k8s.io/apimachinery's validation helpers (object meta, label
//     selectors, DNS names, ports) doing the checks.
//   - Custom resources (Flux kinds and any CRD passed to New or found in the
//     same input): the apiextensions-apiserver code the API server runs:
//     structural schema, pruning (unknown fields), defaulting, OpenAPI schema
//     validation (types, required, pattern, enum, formats), embedded object
//     meta, list-type invariants and x-kubernetes-validations CEL rules.
//   - kustomize's own kinds (kustomize.config.k8s.io Kustomization and
//     Component, and a kustomization file without apiVersion and kind) are
//     read with sigs.k8s.io/kustomize/api's types as kustomize build reads
//     them: unknown fields, wrong types, kind/apiVersion and empty
//     kustomizations are errors, deprecated fields warnings (kustomize.go).
//   - Lists (kind List, and <Kind>List with items) are taken apart the way
//     kubectl applies them: each item is checked as its own object and
//     reported at its own lines, named by its place in the list (list.go).
//   - Deprecated and removed built-in APIs come from k8s.io/api's generated
//     prerelease-lifecycle methods; CRD versions from the CRD's own
//     deprecated/served flags.
package validate

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Options bound the work one Validate call may do. Zero values take defaults.
type Options struct {
	// MaxBytes is the largest input accepted (default 4 MiB).
	MaxBytes int
	// MaxDepth is the deepest nesting of mappings and sequences (default 200).
	MaxDepth int
	// MaxDocuments is the most documents in one input (default 10,000).
	MaxDocuments int
	// MaxNodes is the most YAML nodes the input may expand to once aliases are
	// resolved, over all documents (default 1,000,000); it stops alias bombs.
	MaxNodes int
	// MaxIssues caps errors plus warnings reported (default 1,000).
	MaxIssues int
	// KubernetesVersion is the minor release checked against for removed and
	// deprecated APIs, as "1.36" (default: the client-go release built in).
	KubernetesVersion string
}

// Defaults for Options.
const (
	DefaultMaxBytes     = 4 << 20
	DefaultMaxDepth     = 200
	DefaultMaxDocuments = 10000
	DefaultMaxNodes     = 1000000
	DefaultMaxIssues    = 1000
	// DefaultKubernetesVersion is the release of the k8s.io modules built in.
	DefaultKubernetesVersion = "1.36"
)

// Issue is one error or warning, positioned in the input. Document is the
// 1-based index of the object in the stream (0 for the whole input); Line
// and Column are 1-based positions in the whole input.
type Issue struct {
	Document   int    `json:"document"`
	Line       int    `json:"line"`
	Column     int    `json:"column"`
	Field      string `json:"field,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Name       string `json:"name,omitempty"`
	Message    string `json:"message"`
	Suggestion string `json:"suggestion,omitempty"`
}

// Result is what gitops.validateYAML returns. Valid is true when there are
// no errors (warnings do not make a document invalid).
type Result struct {
	Valid     bool    `json:"valid"`
	Errors    []Issue `json:"errors"`
	Warnings  []Issue `json:"warnings"`
	Documents int     `json:"documents"`
}

// Validator checks YAML streams. It is immutable after New and safe for
// concurrent use.
type Validator struct {
	opts      Options
	k8sMajor  int
	k8sMinor  int
	crds      map[schema.GroupKind]*crdInfo
	crdGroups map[string]bool
}

// New builds a Validator that knows the built-in kinds of client-go's scheme
// and the custom resources defined by crds (each a YAML stream of
// apiextensions.k8s.io/v1 CustomResourceDefinitions, such as Flux's).
func New(opts Options, crds ...[]byte) (*Validator, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	if opts.MaxDocuments <= 0 {
		opts.MaxDocuments = DefaultMaxDocuments
	}
	if opts.MaxNodes <= 0 {
		opts.MaxNodes = DefaultMaxNodes
	}
	if opts.MaxIssues <= 0 {
		opts.MaxIssues = DefaultMaxIssues
	}
	if opts.KubernetesVersion == "" {
		opts.KubernetesVersion = DefaultKubernetesVersion
	}
	v := &Validator{opts: opts, crds: map[schema.GroupKind]*crdInfo{}, crdGroups: map[string]bool{}}
	if _, err := fmt.Sscanf(strings.TrimPrefix(opts.KubernetesVersion, "v"), "%d.%d", &v.k8sMajor, &v.k8sMinor); err != nil {
		return nil, fmt.Errorf("kubernetes version %q: want MAJOR.MINOR", opts.KubernetesVersion)
	}
	for i, b := range crds {
		infos, err := loadCRDs(b)
		if err != nil {
			return nil, fmt.Errorf("CRD stream %d: %w", i+1, err)
		}
		for _, info := range infos {
			v.crds[info.gk] = info
			v.crdGroups[info.gk.Group] = true
		}
	}
	return v, nil
}

// object is the identity of one object, for duplicate detection.
type object struct {
	gk              schema.GroupKind
	namespace, name string
}

// run is the state of one Validate call.
type run struct {
	v *Validator
	// kustomizeFile: the input is a kustomization file, whose documents
	// may leave out apiVersion and kind as kustomize allows.
	kustomizeFile bool
	res           Result
	seen          map[object]Issue
	extra         map[schema.GroupKind]*crdInfo // CRDs defined in the input itself
	overflow      bool
}

func (r *run) add(warn bool, is Issue) {
	if len(r.res.Errors)+len(r.res.Warnings) >= r.v.opts.MaxIssues {
		r.overflow = true
		return
	}
	if warn {
		r.res.Warnings = append(r.res.Warnings, is)
	} else {
		r.res.Errors = append(r.res.Errors, is)
	}
}

// Validate checks a YAML stream. It never panics and always returns a
// Result; a canceled ctx ends the check with an error issue.
func (v *Validator) Validate(ctx context.Context, in []byte) (res Result) {
	return v.validate(ctx, in, false)
}

// ValidateFile is Validate for the content of a file: a kustomization file
// (kustomization.yaml, kustomization.yml, Kustomization) is a kustomize
// config, not an API object, so it need not carry apiVersion and kind.
func (v *Validator) ValidateFile(ctx context.Context, name string, in []byte) Result {
	switch path.Base(name) {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return v.validate(ctx, in, true)
	}
	return v.validate(ctx, in, false)
}

func (v *Validator) validate(ctx context.Context, in []byte, kustomizeFile bool) (res Result) {
	r := &run{v: v, kustomizeFile: kustomizeFile, seen: map[object]Issue{}, res: Result{Errors: []Issue{}, Warnings: []Issue{}}}
	defer func() {
		if p := recover(); p != nil {
			r.res.Errors = append(r.res.Errors, Issue{Line: 1, Column: 1, Message: fmt.Sprintf("internal validator error: %v", p)})
		}
		res = r.finish()
	}()
	if len(in) > v.opts.MaxBytes {
		line := bytes.Count(in[:v.opts.MaxBytes], []byte("\n")) + 1
		r.add(false, Issue{Line: line, Column: 1, Message: fmt.Sprintf("input is %s, over the %s limit (cut at line %d)", size(len(in)), size(v.opts.MaxBytes), line),
			Suggestion: "validate the files one at a time"})
		return
	}
	chunks, lines := splitDocuments(in)
	budget := v.opts.MaxNodes
	index := 0
	for i, chunk := range chunks {
		if err := ctx.Err(); err != nil {
			r.add(false, Issue{Document: index + 1, Line: lines[i], Column: 1, Message: "validation stopped: " + err.Error()})
			return
		}
		d := v.parseDocument(chunk, index+1, lines[i], &budget)
		if d.root == nil && d.parseErr == nil {
			continue // empty or comment-only document
		}
		index++
		if index > v.opts.MaxDocuments {
			r.add(false, Issue{Document: index, Line: lines[i], Column: 1, Message: fmt.Sprintf("more than %d documents in one input", v.opts.MaxDocuments),
				Suggestion: "validate the files one at a time"})
			index--
			break
		}
		if d.parseErr != nil {
			r.add(false, *d.parseErr)
			if budget < 0 {
				break // the node budget is spent: the rest cannot be checked
			}
			continue
		}
		r.document(ctx, d)
	}
	r.res.Documents = index
	return
}

func (r *run) finish() Result {
	if r.overflow {
		r.res.Warnings = append(r.res.Warnings, Issue{Line: 1, Column: 1, Message: fmt.Sprintf("more than %d issues; the rest are not reported", r.v.opts.MaxIssues)})
	}
	sortIssues(r.res.Errors)
	sortIssues(r.res.Warnings)
	r.res.Valid = len(r.res.Errors) == 0
	return r.res
}

func sortIssues(is []Issue) {
	sort.SliceStable(is, func(i, j int) bool {
		if is[i].Line != is[j].Line {
			return is[i].Line < is[j].Line
		}
		return is[i].Column < is[j].Column
	})
}

func size(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", math.Round(float64(n)/(1<<20)*10)/10)
	}
	if n >= 1<<10 {
		return fmt.Sprintf("%.1f KiB", math.Round(float64(n)/(1<<10)*10)/10)
	}
	return fmt.Sprintf("%d bytes", n)
}
