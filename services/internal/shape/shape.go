// Package shape owns the small helpers that give the services' answers and
// messages their shape: lists that are [] and never null, sorted keys and
// id lists, and times in RFC 3339.
package shape

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// IDs maps xs to their ids.
func IDs[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

// JoinIDs is IDs joined with ", ", for messages.
func JoinIDs[T any](xs []T, id func(T) string) string { return strings.Join(IDs(xs, id), ", ") }

// JoinSorted joins a sorted copy of xs with ", ".
func JoinSorted(xs []string) string {
	c := slices.Clone(xs)
	sort.Strings(c)
	return strings.Join(c, ", ")
}

// NonNil returns xs, or an empty list for nil, so that JSON says [] not null.
func NonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// SortedKeys returns the keys of m in order.
func SortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// MergeSorted is the sorted set of the non-empty strings of a and b.
func MergeSorted(a, b []string) []string {
	set := map[string]bool{}
	for _, x := range append(slices.Clone(a), b...) {
		if x != "" {
			set[x] = true
		}
	}
	return SortedKeys(set)
}

// Time formats t as RFC 3339 in UTC, "" for the zero time.
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// SetIf sets *dst to *v when v is given: a patch field that was sent.
func SetIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
