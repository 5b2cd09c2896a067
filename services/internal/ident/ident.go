// Package ident owns how the services name new records: random ids with a
// kind prefix, and readable ids derived from display names.
package ident

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// New returns prefix-<random>, 12 characters of crypto randomness.
func New(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + encoding.EncodeToString(b[:])[:12]
}

// Slug turns a display name into an id-friendly lowercase token of at most
// 40 characters.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// Pick returns given when set, else prefix-Slug(name) when free, else a random id.
func Pick(given, prefix, name string, taken func(string) bool) string {
	if given != "" {
		return given
	}
	if sl := Slug(name); sl != "" {
		id := prefix + "-" + sl
		if !taken(id) {
			return id
		}
	}
	return New(prefix)
}
