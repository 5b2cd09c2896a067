package ui

import (
	"slices"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/services/api"
)

// TestBulkOnMarkedRows marks two rows with space, suspends them with T
// and a reason (dependents first) and reads the bulk screen's bar and per-object lines.
func TestBulkOnMarkedRows(t *testing.T) {
	fc := catalogFake().ret("gitops.bulk", api.BulkResult{Action: api.BulkSuspend,
		Ran:     []api.BulkItem{{ResourceID: "res-00001", Node: "Kustomization/flux-system/app-00001", Wave: 1, State: api.BulkRan, Status: "suspended", Message: "suspended"}},
		Failed:  []api.BulkItem{{ResourceID: "res-00000", Node: "Kustomization/flux-system/app-00000", Wave: 0, State: api.BulkFailed, Message: "forbidden"}},
		Skipped: []api.BulkItem{}, Waves: [][]string{{"Kustomization/flux-system/app-00000"}, {"Kustomization/flux-system/app-00001"}}, ElapsedMS: 1500})
	h := newHarness(t, fc, 120, 40)
	h.press("2", "enter", "enter", "g", "space", "space")
	h.contains("● app-00000", "● app-00001")
	h.press("T")
	h.contains("Suspend 2 marked resources, dependents first", "reason")
	h.typ("maintenance window")
	h.press("ctrl+s")
	in := fc.last("gitops.bulk")
	names, _ := in["selector"].(map[string]any)["names"].([]any)
	if in["action"] != string(api.BulkSuspend) || in["reason"] != "maintenance window" || len(names) != 2 || names[0] != "res-00000" || names[1] != "res-00001" {
		t.Fatalf("bulk input %v", in)
	}
	h.contains("suspend 2 resources", "] 2/2", "failed   Kustomization/flux-system/app-00000 forbidden",
		"ran      Kustomization/flux-system/app-00001", "1 ran, 1 failed, 0 skipped")
	h.press("esc")
	if strings.Contains(h.screen(), "● app-00000") {
		t.Fatal("marks stay after the action took them")
	}
}

// TestTriageAndGraphScreens opens triage (t) and the dependency tree (v)
// from the resources list.
func TestTriageAndGraphScreens(t *testing.T) {
	root := api.Diagnosis{Class: api.DiagBuildFail, Sentence: "Kustomization/flux-system/db cannot be built", NextAction: "Fix the manifests"}
	fc := catalogFake().
		ret("gitops.triage", api.TriageResult{NotReady: 3, Total: 12, Entries: []api.TriageEntry{
			{Root: api.NodeRef{Node: "Kustomization/flux-system/db", ResourceID: "res-00002"}, Diagnosis: root, Severity: 8002,
				Dependents: []api.NodeRef{{Node: "Kustomization/flux-system/web"}, {Node: "Kustomization/flux-system/api"}}},
		}}).
		ret("gitops.dependencyGraph", api.Graph{Errors: []string{"dependency cycle: Kustomization/x/a → Kustomization/x/b → Kustomization/x/a"},
			Nodes: []api.GraphNode{
				{Node: "Kustomization/flux-system/api", Class: api.DiagBlocked, DependsOn: []string{"Kustomization/flux-system/db"}},
				{Node: "Kustomization/flux-system/db", Class: api.DiagBuildFail, Dependents: []string{"Kustomization/flux-system/api", "Kustomization/flux-system/web"}},
				{Node: "Kustomization/flux-system/web", Class: api.DiagBlocked, DependsOn: []string{"Kustomization/flux-system/api", "Kustomization/flux-system/db"}},
			}})
	h := newHarness(t, fc, 120, 40)
	h.press("2", "enter", "enter", "t")
	h.contains("ROOT CAUSE", "Kustomization/flux-system/db", "build-failed", "2", "cannot be built", "3 of 12 not ready")
	h.press("esc", "v")
	h.contains("✗ dependency cycle: Kustomization/x/a → Kustomization/x/b → Kustomization/x/a",
		"Kustomization/flux-system/db  build-failed  blocks 2",
		"  └ Kustomization/flux-system/api  blocked",
		"    └ Kustomization/flux-system/web  blocked",
		"  └ Kustomization/flux-system/web ↑")
}

func TestGraphTreeOrder(t *testing.T) {
	rows := graphTree([]api.GraphNode{
		{ClusterID: "c", Node: "c"}, {ClusterID: "c", Node: "b", DependsOn: []string{"a"}},
		{ClusterID: "c", Node: "a"}, {ClusterID: "c", Node: "x", DependsOn: []string{"y"}}, {ClusterID: "c", Node: "y", DependsOn: []string{"x"}},
	})
	var got []string
	for _, r := range rows {
		got = append(got, strings.Repeat(".", r.depth)+r.n.Node+map[bool]string{true: "^"}[r.again])
	}
	want := []string{"c", "a", ".b", "x", ".y", "..x^"}
	if !slices.Equal(got, want) {
		t.Fatalf("tree %v, want %v", got, want)
	}
}
