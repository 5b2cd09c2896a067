package api

import (
	"context"
	"strings"
	"time"

	"github.com/gitopstui/gitopstui/model"
)

// Diagnosis classes: why a GitOps resource is (not) ready, one per resource.
const (
	DiagReady       = "ready"
	DiagFirstApply  = "first-apply"
	DiagProgressing = "progressing"
	DiagRetrying    = "retrying"
	DiagHealthCheck = "health-check"
	DiagBlocked     = "blocked"
	DiagSourceFail  = "source-failed"
	DiagBuildFail   = "build-failed"
	DiagStalled     = "stalled"
	DiagSuspended   = "suspended"
	DiagFailed      = "failed"
	// DiagMissing is a dependency named by dependsOn that is not on the cluster.
	DiagMissing = "missing"
)

// ChainLink is one object on the way from a blocked resource to its root cause.
type ChainLink struct {
	Node    string `json:"node" doc:"Kind/namespace/name"`
	Class   string `json:"class"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// SourceState is what the source of a resource says.
type SourceState struct {
	Node    string `json:"node" doc:"Kind/namespace/name"`
	Ready   bool   `json:"ready"`
	Found   bool   `json:"found"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Suspension is why, by whom and until when a resource is suspended (the
// gitopstui.io/suspend-* annotations on the Flux object).
type Suspension struct {
	Reason  string `json:"reason,omitempty"`
	By      string `json:"by,omitempty"`
	Until   string `json:"until,omitempty" doc:"RFC 3339"`
	Expired bool   `json:"expired,omitempty" doc:"until has passed: the watcher of the TUI or serve resumes it"`
}

// Diagnosis says why a resource is where it is: one class, the facts behind
// it, one sentence and the next action a person would take.
type Diagnosis struct {
	Class      string `json:"class" doc:"ready | first-apply | progressing | retrying | health-check | blocked | source-failed | build-failed | stalled | suspended | failed | missing"`
	Sentence   string `json:"sentence"`
	NextAction string `json:"nextAction,omitempty"`
	Reason     string `json:"reason,omitempty" doc:"Flux's reason of the Ready condition"`
	Message    string `json:"message,omitempty" doc:"Flux's message"`
	// Retrying: the failed attempts so far and when Flux tries again.
	Attempts    int        `json:"attempts,omitempty"`
	NextRetryAt *time.Time `json:"nextRetryAt,omitempty"`
	// Health checks: the objects waited for and the time left of the timeout.
	HealthChecks   []string   `json:"healthChecks,omitempty"`
	HealthDeadline *time.Time `json:"healthDeadline,omitempty"`
	TimeLeft       string     `json:"timeLeft,omitempty"`
	// Blocked: the dependencies from this resource down to the root cause.
	Chain      []ChainLink  `json:"chain,omitempty"`
	RootCause  string       `json:"rootCause,omitempty" doc:"Kind/namespace/name of the root cause"`
	Source     *SourceState `json:"source,omitempty"`
	Suspension *Suspension  `json:"suspension,omitempty"`
}

// TriageInput scopes gitops.triage.
type TriageInput struct {
	ProjectID     string `json:"projectId,omitempty" doc:"only this project"`
	EnvironmentID string `json:"environmentId,omitempty" doc:"only this environment"`
	ClusterID     string `json:"clusterId,omitempty" doc:"only this cluster"`
}

// NodeRef names a Flux object and, when gitopstui manages it, its resource.
type NodeRef struct {
	Node       string `json:"node" doc:"Kind/namespace/name"`
	ClusterID  string `json:"clusterId"`
	ResourceID string `json:"resourceId,omitempty"`
	Status     string `json:"status,omitempty"`
}

// TriageEntry is one root cause with every non-ready resource it explains.
type TriageEntry struct {
	Root       NodeRef   `json:"root"`
	Diagnosis  Diagnosis `json:"diagnosis" doc:"the root cause's own diagnosis"`
	Dependents []NodeRef `json:"dependents" doc:"resources blocked by the root cause"`
	Severity   int       `json:"severity" doc:"higher is worse"`
}

// TriageResult is gitops.triage's result, worst first.
type TriageResult struct {
	Entries  []TriageEntry `json:"entries"`
	NotReady int           `json:"notReady"`
	Total    int           `json:"total"`
	Errors   []string      `json:"errors,omitempty" doc:"clusters that could not be read"`
}

// Graph output formats.
const (
	GraphJSON    = "json"
	GraphDot     = "dot"
	GraphMermaid = "mermaid"
)

// GraphInput is gitops.dependencyGraph's input.
type GraphInput struct {
	ProjectID string `json:"projectId,omitempty" doc:"only the objects of this project's clusters, with their dependencies"`
	ClusterID string `json:"clusterId,omitempty" doc:"only this cluster"`
	Format    string `json:"format,omitempty" doc:"json (default) | dot | mermaid"`
	Node      string `json:"node,omitempty" doc:"Kind/namespace/name or resource id: report only its dependents (the blast radius)"`
}

// Validate checks the input beyond types and required fields.
func (in *GraphInput) Validate(fe model.FieldErrors) {
	switch in.Format {
	case "", GraphJSON, GraphDot, GraphMermaid:
	default:
		fe.Add("format", "must be json, dot or mermaid")
	}
}

// GraphNode is one Kustomization or HelmRelease of the dependency graph.
type GraphNode struct {
	Node       string   `json:"node" doc:"Kind/namespace/name"`
	ClusterID  string   `json:"clusterId"`
	ResourceID string   `json:"resourceId,omitempty"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Name       string   `json:"name"`
	Status     string   `json:"status"`
	Class      string   `json:"class"`
	Suspended  bool     `json:"suspended"`
	DependsOn  []string `json:"dependsOn"`
	Dependents []string `json:"dependents" doc:"every object that waits for this one, directly or not"`
	Wave       int      `json:"wave" doc:"topological wave: 0 needs nothing, n needs wave n-1 (-1 in a cycle)"`
	Missing    bool     `json:"missing,omitempty" doc:"named by dependsOn but not on the cluster"`
}

// Graph is gitops.dependencyGraph's result.
type Graph struct {
	Nodes  []GraphNode `json:"nodes"`
	Waves  [][]string  `json:"waves"`
	Cycles [][]string  `json:"cycles,omitempty"`
	Errors []string    `json:"errors,omitempty" doc:"cycles and unreadable clusters, each named"`
	Text   string      `json:"text,omitempty" doc:"the graph in dot or mermaid"`
}

// BulkAction is what gitops.bulk does: 'resume' | 'suspend' | 'sync'.
type BulkAction string

// Bulk actions.
const (
	BulkResume  BulkAction = "resume"
	BulkSuspend BulkAction = "suspend"
	BulkSync    BulkAction = "sync"
)

// Values implements Enum.
func (BulkAction) Values() []string {
	return []string{string(BulkResume), string(BulkSuspend), string(BulkSync)}
}

// BulkSelector chooses the resources of gitops.bulk.
type BulkSelector struct {
	ProjectID     string   `json:"projectId,omitempty" doc:"only this project"`
	EnvironmentID string   `json:"environmentId,omitempty" doc:"only this environment"`
	ClusterID     string   `json:"clusterId,omitempty" doc:"only this cluster"`
	Status        string   `json:"status,omitempty" doc:"only this status; !status for every other"`
	Suspended     *bool    `json:"suspended,omitempty" doc:"only suspended (true) or running (false) resources"`
	Names         []string `json:"names,omitempty" doc:"only these names (or resource ids)"`
}

// BulkInput is gitops.bulk's input.
type BulkInput struct {
	Action      BulkAction   `json:"action" required:"true" doc:"resume | suspend | sync"`
	Selector    BulkSelector `json:"selector" doc:"which resources"`
	Reason      string       `json:"reason,omitempty" doc:"suspend: why (stored on each object)"`
	Until       string       `json:"until,omitempty" doc:"suspend: RFC 3339 time or duration (2h) after which the suspension expires"`
	WaitSeconds int          `json:"waitSeconds,omitempty" doc:"resume and sync: how long to wait for everything to be Ready (default 300)"`
}

// Validate checks the input beyond types and required fields.
func (in *BulkInput) Validate(fe model.FieldErrors) {
	if in.Action != BulkSuspend && (in.Reason != "" || in.Until != "") {
		fe.Add("reason", "reason and until go with action suspend")
	}
	checkUntil(fe, "until", in.Until)
	checkStatusFilter(fe, "selector.status", in.Selector.Status)
	if in.WaitSeconds < 0 || in.WaitSeconds > 3600 {
		fe.Add("waitSeconds", "must be between 0 and 3600")
	}
}

// BulkItem is what happened to one object of a bulk action.
type BulkItem struct {
	ResourceID string `json:"resourceId"`
	Node       string `json:"node"`
	Wave       int    `json:"wave"`
	State      string `json:"state" doc:"ran | failed | skipped"`
	Status     string `json:"status,omitempty"`
	Message    string `json:"message,omitempty"`
	ElapsedMS  int64  `json:"elapsedMs,omitempty" doc:"from the start of the action until this object was done"`
}

// Bulk item states.
const (
	BulkRan     = "ran"
	BulkFailed  = "failed"
	BulkSkipped = "skipped"
	BulkStarted = "started"
)

// BulkResult is gitops.bulk's result.
type BulkResult struct {
	Action    BulkAction `json:"action"`
	Ran       []BulkItem `json:"ran"`
	Failed    []BulkItem `json:"failed"`
	Skipped   []BulkItem `json:"skipped"`
	Waves     [][]string `json:"waves"`
	ElapsedMS int64      `json:"elapsedMs"`
}

// BulkProgress is one progress report of gitops.bulk: an object started or done.
type BulkProgress struct {
	Item  BulkItem `json:"item"`
	Done  int      `json:"done"`
	Total int      `json:"total"`
}

// SuspendInput is gitops.suspendGitOpsResource's input.
type SuspendInput struct {
	ID     string `json:"id" required:"true" doc:"resource id"`
	Reason string `json:"reason,omitempty" doc:"why (stored on the Flux object)"`
	Until  string `json:"until,omitempty" doc:"RFC 3339 time or duration (2h) after which it is resumed"`
}

// Validate checks the input beyond types and required fields.
func (in *SuspendInput) Validate(fe model.FieldErrors) {
	checkUntil(fe, "until", in.Until)
	if len(in.Reason) > 1024 {
		fe.Add("reason", "at most 1024 characters")
	}
}

// ParseUntil reads an until: an RFC 3339 time, or a Go duration from now.
func ParseUntil(v string, now time.Time) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), true
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(d).UTC().Truncate(time.Second), true
	}
	return time.Time{}, false
}

func checkUntil(fe model.FieldErrors, field, v string) {
	if v == "" {
		return
	}
	if _, ok := ParseUntil(v, time.Now()); !ok {
		fe.Add(field, "must be an RFC 3339 time (2026-01-02T15:04:05Z) or a positive duration (2h, 30m)")
	}
}

// StatusFilterValues are the statuses a status filter may name.
var StatusFilterValues = []string{model.StatusPending, model.StatusReady, model.StatusReconciling, model.StatusFailed, model.StatusSuspended}

func checkStatusFilter(fe model.FieldErrors, field, v string) {
	s := strings.TrimPrefix(v, "!")
	if v == "" {
		return
	}
	for _, ok := range StatusFilterValues {
		if s == ok {
			return
		}
	}
	fe.Add(field, "must be one of "+strings.Join(StatusFilterValues, ", ")+", optionally after ! to negate")
}

// MatchStatus reports whether status passes filter ("" passes all, "!x" all but x).
func MatchStatus(filter, status string) bool {
	if filter == "" {
		return true
	}
	if neg, ok := strings.CutPrefix(filter, "!"); ok {
		return status != neg
	}
	return status == filter
}

type progressKey struct{}

// WithProgress returns ctx carrying a sink for the progress reports of a
// long procedure (gitops.bulk) run in this process.
func WithProgress(ctx context.Context, sink func(BulkProgress)) context.Context {
	return context.WithValue(ctx, progressKey{}, sink)
}

// ReportProgress hands p to ctx's progress sink, if any.
func ReportProgress(ctx context.Context, p BulkProgress) {
	if sink, ok := ctx.Value(progressKey{}).(func(BulkProgress)); ok && sink != nil {
		sink(p)
	}
}

// Procedures of triage, the dependency graph and bulk actions.
var (
	Triage = query[TriageInput, TriageResult]("gitops.triage",
		"Group every resource that is not ready under its root cause, worst first")
	DependencyGraph = query[GraphInput, Graph]("gitops.dependencyGraph",
		"The dependsOn graph of Kustomizations and HelmReleases, with status, cycles and dependents")
	Bulk = mutation[BulkInput, BulkResult]("gitops.bulk", model.RoleOperator,
		"Resume, sync (in dependency order) or suspend (in reverse) many resources")
)

// suspensionOf is the suspension annotations of a stored resource (nil when
// it is not suspended or has none); expired is judged now.
func suspensionOf(r model.GitOpsResource) *Suspension {
	if !r.Suspended || r.SuspendReason == "" && r.SuspendedBy == "" && r.SuspendUntil == "" {
		return nil
	}
	s := &Suspension{Reason: r.SuspendReason, By: r.SuspendedBy, Until: r.SuspendUntil}
	if t, err := time.Parse(time.RFC3339, r.SuspendUntil); err == nil && !time.Now().Before(t) {
		s.Expired = true
	}
	return s
}
