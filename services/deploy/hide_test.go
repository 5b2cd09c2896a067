package deploy

import (
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/manifest"
)

func TestEnvValuesHiddenFromDiffAndEdits(t *testing.T) {
	old, neu := "hunter2", "s3cr3t-token"
	field := "spec.template.spec.containers[name=web].env[name=API_TOKEN].value"
	diff := strings.Join([]string{
		"--- a/deploy.yaml", "+++ b/deploy.yaml", "@@ -1,4 +1,4 @@",
		"         - name: API_TOKEN",
		`-          value: "hunter2"`,
		"+          value: s3cr3t-token",
		"           value: keep-me",
	}, "\n")
	got := hideEnvDiff(diff, []manifest.Edit{{Field: field, Old: &old, New: &neu}})
	if strings.Contains(got, old) || strings.Contains(got, neu) {
		t.Fatalf("a value survived:\n%s", got)
	}
	if !strings.Contains(got, "value: keep-me") || !strings.Contains(got, "-          value: <hidden sha256:") {
		t.Fatalf("diff shape lost:\n%s", got)
	}
	edits := []api.Edit{{Field: field, Old: &old, New: &neu}, {Field: "images[name=web].newTag", New: &neu}}
	hideEnvValues(edits)
	if *edits[0].Old == old || *edits[0].New == neu || !strings.HasPrefix(*edits[0].New, "<hidden") {
		t.Fatalf("env edit not hidden: %v %v", *edits[0].Old, *edits[0].New)
	}
	if *edits[1].New != neu {
		t.Fatal("a non-env edit was hidden")
	}
}
