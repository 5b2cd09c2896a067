package shape

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestShapes(t *testing.T) {
	if b, _ := json.Marshal(NonNil[string](nil)); string(b) != "[]" {
		t.Fatalf("NonNil(nil) = %s", b)
	}
	if got := MergeSorted([]string{"b", "", "a"}, []string{"a", "c"}); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("MergeSorted = %v", got)
	}
	a := []string{"z", "y"}
	_ = MergeSorted(a[:1], []string{"x"})
	if a[1] != "y" {
		t.Fatal("MergeSorted wrote into its argument's backing array")
	}
	if got := JoinSorted([]string{"b", "a"}); got != "a, b" {
		t.Fatalf("JoinSorted = %q", got)
	}
	if Time(time.Time{}) != "" || Time(time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))) != "2026-01-02T02:04:05Z" {
		t.Fatal("Time is not RFC 3339 in UTC")
	}
	if got := JoinIDs([]int{1, 2}, func(i int) string { return string(rune('a' + i)) }); got != "b, c" {
		t.Fatalf("JoinIDs = %q", got)
	}
}
