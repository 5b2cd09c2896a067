package ui

import (
	"strings"
	"testing"
)

// footerOf is the last line of the screen: the key hints.
func footerOf(h *harness) string {
	ls := strings.Split(h.screen(), "\n")
	return ls[len(ls)-1]
}

// Number keys and `:name` switch the top-level view as k9s does: the
// stack is the one view, so no amount of switching needs more than one
// esc, and a view opened from a context keeps it.
func TestNumberKeysSwitchTopLevel(t *testing.T) {
	fc := catalogFake()
	h := newHarness(t, fc, 80, 24)
	h.press("1", "2", "3", "4", "1", "2", "3", "4")
	if n := len(h.m.stack); n != 1 {
		t.Fatalf("stack has %d screens after 1 2 3 4 1 2 3 4, want 1", n)
	}
	h.contains("gitopstui › Deployments", "Deployments (50)")
	h.press("esc")
	h.contains("gitopstui › Deployments")
	for _, v := range []struct{ name, crumb string }{
		{"clusters", "gitopstui › Clusters"}, {"projects", "gitopstui › Projects"},
		{"resources", "gitopstui › Resources"}, {"deployments", "gitopstui › Deployments"},
	} {
		h.press("2", "enter") // an environment list, two deep
		h.press(":")
		h.typ(v.name)
		h.press("enter")
		if n := len(h.m.stack); n != 1 {
			t.Fatalf(":%s left %d screens", v.name, n)
		}
		if crumb := strings.Split(h.screen(), "\n")[0]; crumb != v.crumb {
			t.Fatalf(":%s breadcrumb %q, want %q", v.name, crumb, v.crumb)
		}
	}
	// From an environment, 4 shows that environment's deployments.
	h.press("2", "enter", "4")
	if in := fc.last("deployments.list"); in["projectId"] != "shop" || in["environmentId"] != "env-prod" {
		t.Fatalf("deployments.list input %v", in)
	}
	if n := len(h.m.stack); n != 1 {
		t.Fatalf("4 from an environment left %d screens", n)
	}
}

func TestPaletteQuit(t *testing.T) {
	for _, cmd := range []string{"q", "quit"} {
		h := newHarness(t, catalogFake(), 80, 24)
		h.press(":")
		h.typ(cmd)
		h.press("enter")
		if !h.quit {
			t.Fatalf(":%s did not quit:\n%s", cmd, h.screen())
		}
	}
}

// The full help lists every key of the screen once, the cursor keys of a
// list included.
func TestHelpListsEachKeyOnce(t *testing.T) {
	h := newHarness(t, catalogFake(), 120, 40)
	for _, path := range [][]string{{"1"}, {"2"}, {"2", "enter"}, {"2", "enter", "enter"}, {"2", "enter", "r"}, {"4"}} {
		h.press(path...)
		h.press("?")
		s := h.screen()
		body := strings.Join(strings.Split(s, "\n")[2:len(strings.Split(s, "\n"))-1], "\n")
		for _, k := range []string{"g/home", "G/end", "pgup/ctrl+b", "pgdn/ctrl+f", "ctrl+r", ":", "?"} {
			if n := countKey(body, k); n != 1 {
				t.Errorf("%v: help lists %q %d times:\n%s", path, k, n, s)
			}
		}
		for _, k := range []string{"esc", "enter", "tab"} {
			if n := countKey(body, k); n > 1 {
				t.Errorf("%v: help lists %q %d times:\n%s", path, k, n, s)
			}
		}
		h.press("esc", "1")
	}
}

// countKey counts the help entries whose key is k (a key is followed by
// spaces and its description).
func countKey(body, k string) int {
	n := 0
	for _, f := range strings.Fields(strings.ReplaceAll(body, "  ", "\t")) {
		if f == k {
			n++
		}
	}
	return n
}

// The footer keeps `:` and `?` at 80 columns on every screen, and is not
// cut at 120; a form (where `:` and `?` are typed) offers its own keys.
func TestFooterKeepsCommandAndHelp(t *testing.T) {
	for _, w := range []int{80, 120} {
		h := newHarness(t, previewFake(), w, 24)
		for _, path := range [][]string{{"1"}, {"2"}, {"2", "enter"}, {"2", "enter", "enter"}, {"2", "enter", "enter", "d"}, {"4"}, {"2", "enter", "r"}} {
			h.press("1")
			h.press(path...)
			f := footerOf(h)
			if !strings.HasSuffix(f, ": command • ? help") || strings.Contains(f, "…") {
				t.Errorf("%d columns, %v: footer %q", w, path, f)
			}
		}
		for _, path := range [][]string{{"2", "enter", "D"}, {"2", "enter", "o"}, {"2", "c"}} {
			h.press("1")
			h.press(path...)
			f := footerOf(h)
			if !strings.Contains(f, "esc cancel") || strings.Contains(f, ": command") || strings.Contains(f, "…") {
				t.Errorf("%d columns, %v: form footer %q", w, path, f)
			}
			h.press("esc")
		}
	}
}

// Enter on a cluster opens the environments on it (h is health).
func TestEnterOnClusterOpensEnvironments(t *testing.T) {
	fc := catalogFake()
	h := newHarness(t, fc, 80, 24)
	h.press("enter")
	h.contains("Environments on prod (2)", "PROJECT", "shop", "./k8s/overlays/prod")
	if in := fc.last("environments.list"); in["clusterId"] != "prod" {
		t.Fatalf("environments.list input %v", in)
	}
	h.golden("cluster_environments")
	h.press("enter") // an environment's resources
	h.contains("Resources prod")
	h.press("esc", "esc", "h")
	h.contains("Flux health of prod")
}

// `/` filters every list, and the title says the list is filtered.
func TestFilterOnEveryList(t *testing.T) {
	h := newHarness(t, catalogFake(), 120, 40)
	for _, c := range []struct {
		path  []string
		query string
		want  string
	}{
		{[]string{"1"}, "edge", "Clusters (1 of 2"},
		{[]string{"2"}, "blog", "Projects (1 of 2"},
		{[]string{"2", "enter"}, "stag", "Environments of shop (1 of 2"},
		{[]string{"2", "enter", "r"}, "acme", "Repositories of shop (1 of 1"},
		{[]string{"1", "enter"}, "stag", "Environments on prod (1 of 2"},
		{[]string{"3"}, "app-00003", "Resources (1 of 12"},
		{[]string{"4"}, "1.4.7", "Deployments ("}, // (at the end of the list the next page loads)
	} {
		h.press("1")
		h.press(c.path...)
		h.press("/")
		h.typ(c.query)
		h.press("enter")
		h.contains(c.want, ", filtered /"+c.query+")", " /"+c.query+"\n")
		h.press("esc") // clears the filter, stays
		if strings.Contains(h.screen(), "filtered") {
			t.Errorf("%v: esc left the filter:\n%s", c.path, h.screen())
		}
	}
}
