package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"

	"github.com/gitopstui/gitopstui/services/api"
)

// TestProgressLinesAreJSONLines checks --progress's format: one JSON
// document a line, each a BulkProgress that reads back as written.
func TestProgressLinesAreJSONLines(t *testing.T) {
	var buf bytes.Buffer
	sink := progressLines(&buf)
	sink(api.BulkProgress{Item: api.BulkItem{Node: "Kustomization/flux-system/a", State: api.BulkStarted}, Done: 0, Total: 2})
	sink(api.BulkProgress{Item: api.BulkItem{Node: "Kustomization/flux-system/a", State: api.BulkRan, Status: "ready"}, Done: 1, Total: 2})
	sc := bufio.NewScanner(&buf)
	var got []api.BulkProgress
	for sc.Scan() {
		var p api.BulkProgress
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, p)
	}
	if len(got) != 2 || got[1].Item.State != api.BulkRan || got[1].Done != 1 || got[1].Total != 2 {
		t.Fatalf("progress lines: %+v", got)
	}
}
