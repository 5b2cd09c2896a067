package manifest

import (
	"strings"
	"testing"
)

// dropEnv returns a build edit that removes variable name from a container.
func dropEnv(obj, container, name string) func(map[string]any) {
	return func(want map[string]any) {
		c := podContainer(want[obj].(map[string]any), "containers", container)
		env, _ := c["env"].([]any)
		var kept []any
		for _, e := range env {
			if e.(map[string]any)["name"] != name {
				kept = append(kept, e)
			}
		}
		if len(kept) == len(env) {
			panic("fixture: " + obj + " has no env " + name)
		}
		if len(kept) == 0 {
			delete(c, "env")
		} else {
			c["env"] = kept
		}
	}
}

// TestEnvRemoval removes variables where they are defined: from the
// workload's file when it lies under gitPath (the item goes), else with a
// "$patch: delete" item in a patch (kustomize drops the base's item). The
// build loses exactly that variable, and the files pass the check deploy
// runs before it commits (previewChanges and deployWithGitOps agree).
func TestEnvRemoval(t *testing.T) {
	repo := loadRepo(t)
	cases := []struct {
		name, gitPath, workload, obj, variable string
		file                                   string // the one file holding the removal
		directive                              bool   // removed with $patch: delete
	}{
		{"workload-file", "apps/shop/base", "frontend", "Deployment/frontend", "NODE_ENV", "apps/shop/base/frontend.yaml", false},
		{"workload-file-valueFrom", "apps/shop/base", "backend", "Deployment/backend", "SECRET_KEY_BASE", "apps/shop/base/backend.yaml", false},
		{"base-existing-patch", "apps/shop/production", "frontend", "Deployment/frontend", "NODE_ENV", "apps/shop/production/frontend-patch.yaml", true},
		{"base-and-patch", "apps/shop/production", "backend", "Deployment/backend", "LOG_LEVEL", "apps/shop/production/backend-patch.yaml", true},
		{"base-valueFrom", "apps/shop/production", "backend", "Deployment/backend", "SECRET_KEY_BASE", "apps/shop/production/backend-patch.yaml", true},
		{"base-new-patch", "apps/shop/staging", "frontend", "Deployment/staging-frontend", "API_URL", "apps/shop/staging/frontend-patch.yaml", true},
		{"plain-overlay", "apps/overlays/staging", "", "Deployment/web", "LOG_LEVEL", "apps/overlays/staging/web-patch.yaml", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := Change{Workload: tc.workload, Env: map[string]*string{tc.variable: nil}}
			_, container, _ := strings.Cut(tc.obj, "/")
			container = strings.TrimPrefix(container, "staging-")
			_, res := expectBuild(t, repo, tc.gitPath, ch, dropEnv(tc.obj, container, tc.variable))
			out := string(res.Files[tc.file])
			if out == "" {
				t.Fatalf("%s not written; files %v", tc.file, res.Files)
			}
			if got := strings.Contains(out, "$patch: delete"); got != tc.directive {
				t.Errorf("$patch: delete in %s = %v, want %v\n%s", tc.file, got, tc.directive, out)
			}
			if !tc.directive && strings.Contains(out, tc.variable) {
				t.Errorf("%s still names %s\n%s", tc.file, tc.variable, out)
			}
			for _, bad := range []string{"value: null", "valueFrom: null", "env: []", "env: null"} {
				if strings.Contains(out, bad) {
					t.Errorf("%s holds %q\n%s", tc.file, bad, out)
				}
			}
		})
	}
}

// TestPlannedFilesPassDeployCheck runs deploy's check on the files of every
// golden case: what previewChanges shows, deployWithGitOps commits.
func TestPlannedFilesPassDeployCheck(t *testing.T) {
	repo := loadRepo(t)
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Plan(repo, tc.gitPath, tc.ch)
			if err != nil {
				t.Fatal(err)
			}
			deployCheck(t, repo, res)
		})
	}
}

// TestPatchDirective pins which validator field paths are strategic-merge
// patch directives.
func TestPatchDirective(t *testing.T) {
	for f, want := range map[string]bool{
		"spec.template.spec.containers[0].env[1].$patch":                    true,
		"spec.template.spec.$setElementOrder/containers[0].name":            true,
		"spec.template.spec.containers[0].$deleteFromPrimitiveList/args[0]": true,
		"spec.$retainKeys": true,
		"spec.template.spec.containers[0].env[1].value": false,
		"metadata.annotations.$patch-note":              false,
		"spec.template.spec.containers[0].image":        false,
	} {
		if got := PatchDirective(f); got != want {
			t.Errorf("PatchDirective(%q) = %v, want %v", f, got, want)
		}
	}
}
