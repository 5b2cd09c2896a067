package deploy

import (
	"fmt"
	"sort"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/services/manifest"
)

// revertDiff renders the plan as `git diff` would (head to the result) and
// counts it.
func revertDiff(p *revertPlan) (string, api.Summary) {
	paths := shape.SortedKeys(p.writes)
	paths = append(paths, p.deletes...)
	sort.Strings(paths)
	var b strings.Builder
	sum := api.Summary{Files: []string{}}
	for _, path := range paths {
		old, had := p.before[path]
		nw, writes := p.writes[path]
		from, to := "a/"+path, "b/"+path
		header := ""
		switch {
		case !writes:
			to, header = "/dev/null", "deleted file mode 100644\n"
		case !had:
			from, header = "/dev/null", "new file mode 100644\n"
		}
		body := udiff.Unified(from, to, string(old), string(nw))
		if body == "" {
			continue
		}
		sum.Files = append(sum.Files, path)
		fmt.Fprintf(&b, "diff --git a/%s b/%s\n%s", path, path, header)
		b.WriteString(body)
		for _, l := range strings.Split(body, "\n") {
			switch {
			case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			case strings.HasPrefix(l, "+"):
				sum.Additions++
			case strings.HasPrefix(l, "-"):
				sum.Deletions++
			}
		}
	}
	return b.String(), sum
}

// revertEdits lists the YAML fields the plan changes, with their values at
// head (old) and after (new): the lines the revert adds name a field in the
// result, the lines it removes one at head.
func revertEdits(p *revertPlan) []manifest.Edit {
	var out []manifest.Edit
	seen := map[string]bool{}
	add := func(path, obj, field string) {
		k := path + "\x00" + obj + "\x00" + field
		if field == "" || seen[k] {
			return
		}
		seen[k] = true
		var oldV, newV *string
		if b, ok := p.before[path]; ok {
			oldV = manifest.FieldValue(path, b, obj, field)
		}
		if b, ok := p.writes[path]; ok {
			newV = manifest.FieldValue(path, b, obj, field)
		}
		if oldV == nil && newV == nil {
			return
		}
		out = append(out, manifest.Edit{Path: path, Object: obj, Field: field, Old: oldV, New: newV})
	}
	for _, path := range shape.SortedKeys(p.writes) {
		old, nw := p.before[path], p.writes[path]
		var oldLines, newLines []int
		delta := 0 // how far the edits so far moved offsets from old to new
		for _, e := range udiff.Lines(string(old), string(nw)) {
			start := e.Start + delta
			delta += len(e.New) - (e.End - e.Start)
			for l := lineOf(old, e.Start); e.End > e.Start && l <= lineOf(old, e.End-1); l++ {
				oldLines = append(oldLines, l)
			}
			if e.New == "" {
				continue
			}
			first := lineOf(nw, start)
			for i := range strings.Count(strings.TrimSuffix(e.New, "\n"), "\n") + 1 {
				newLines = append(newLines, first+i)
			}
		}
		for _, f := range manifest.FieldsAt(path, old, oldLines) {
			add(path, f[0], f[1])
		}
		for _, f := range manifest.FieldsAt(path, nw, newLines) {
			add(path, f[0], f[1])
		}
	}
	// A deleted file's every field is removed.
	for _, path := range p.deletes {
		old := p.before[path]
		lines := make([]int, strings.Count(string(old), "\n")+1)
		for i := range lines {
			lines[i] = i + 1
		}
		for _, f := range manifest.FieldsAt(path, old, lines) {
			add(path, f[0], f[1])
		}
	}
	return out
}

// lineOf is the 1-based line of byte offset off in b.
func lineOf(b []byte, off int) int {
	return strings.Count(string(b[:min(off, len(b))]), "\n") + 1
}

// toAPIEdits converts edits to the contract's, env values hidden.
func toAPIEdits(edits []manifest.Edit) []api.Edit {
	out := make([]api.Edit, len(edits))
	for i, e := range edits {
		out[i] = api.Edit{Path: e.Path, Object: e.Object, Field: e.Field, Old: e.Old, New: e.New, Note: e.Note}
	}
	hideEnvValues(out)
	return out
}
