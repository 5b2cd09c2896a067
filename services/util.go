package services

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

func contains(xs []string, x string) bool { return slices.Contains(xs, x) }

func joinSorted(xs []string) string {
	c := slices.Clone(xs)
	sort.Strings(c)
	return strings.Join(c, ", ")
}

func itoa(i int) string { return strconv.Itoa(i) }

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func joinIDs[T any](xs []T, id func(T) string) string { return strings.Join(ids(xs, id), ", ") }

// timeString formats t as RFC 3339 in UTC, "" for the zero time.
func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
