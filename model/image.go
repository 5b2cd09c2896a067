package model

import (
	"regexp"
	"strconv"
	"strings"
)

// ImageRef is a container image reference split the way kustomize's
// `images:` transformer sees it: Name is the repository as written
// (registry and path, no tag), Tag and Digest are optional.
type ImageRef struct {
	Name   string `json:"name"`
	Tag    string `json:"tag,omitempty"`
	Digest string `json:"digest,omitempty"`
}

// String returns the reference as it is written in a manifest.
func (r ImageRef) String() string {
	s := r.Name
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Grammar of github.com/distribution/reference (without normalisation).
var (
	reName   = regexp.MustCompile(`^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$`)
	reTag    = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
	reDigest = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$`)
)

// SplitImage returns the reference, or why s is not one (then the
// reference is zero).
func SplitImage(s string) (ImageRef, string) {
	var r ImageRef
	s = strings.TrimSpace(s)
	if s == "" {
		return r, "empty image reference"
	}
	rest := s
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		r.Digest = rest[i+1:]
		rest = rest[:i]
		if !reDigest.MatchString(r.Digest) {
			return ImageRef{}, "invalid digest " + r.Digest
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i+1:], "/") {
		r.Tag = rest[i+1:]
		rest = rest[:i]
		if !reTag.MatchString(r.Tag) {
			return ImageRef{}, "invalid tag " + strconv.Quote(r.Tag)
		}
	}
	r.Name = rest
	if !reName.MatchString(r.Name) || len(r.Name) > 255 {
		return ImageRef{}, "invalid repository name " + strconv.Quote(r.Name) + " (lower case letters, digits and separators)"
	}
	return r, ""
}

// ImageProblem says why s is not an image reference ("" when it is one), for
// input checks that run before any manifest is read.
func ImageProblem(s string) string {
	_, why := SplitImage(s)
	return why
}
