package manifest

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/gitopstui/gitopstui/model"
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

// ParseImage splits an image reference such as "nginx:1.27",
// "ghcr.io/org/app:v2", "localhost:5000/app" or "repo@sha256:...". It
// accepts what a container runtime accepts and fails with BAD_REQUEST
// (details.fields.image) otherwise.
func ParseImage(s string) (ImageRef, error) {
	r, why := parseImage(s)
	if why != "" {
		fe := model.FieldErrors{}
		fe.Add("image", why)
		return ImageRef{}, fe.Err()
	}
	return r, nil
}

// parseImage returns the reference or why it is not one.
func parseImage(s string) (ImageRef, string) {
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

// imageName returns the repository part of an image string, lenient
// (manifests may hold anything).
func imageName(s string) string {
	if r, why := parseImage(s); why == "" {
		return r.Name
	}
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 && !strings.Contains(s[i+1:], "/") {
		s = s[:i]
	}
	return s
}

// imagesEntry is one entry of a kustomization's `images:` list.
type imagesEntry struct {
	Name, NewName, NewTag, Digest string
}

// apply returns image as kustomize's image transformer would rewrite it.
func (e imagesEntry) apply(image string) (string, bool) {
	if imageName(image) != e.Name {
		return image, false
	}
	name := e.Name
	tag := ""
	if r, why := parseImage(image); why == "" {
		if r.Tag != "" {
			tag = ":" + r.Tag
		}
		if r.Digest != "" {
			tag += "@" + r.Digest
		}
	} else if i := strings.IndexAny(image[len(e.Name):], ":@"); i >= 0 {
		tag = image[len(e.Name)+i:]
	}
	if e.NewName != "" {
		name = e.NewName
	}
	if e.NewTag != "" {
		tag = ":" + e.NewTag
	}
	if e.Digest != "" {
		tag = "@" + e.Digest
	}
	return name + tag, true
}
