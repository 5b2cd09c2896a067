package manifest

import (
	"strings"

	"github.com/gitopstui/gitopstui/model"
)

// ImageRef is a container image reference (model.ImageRef).
type ImageRef = model.ImageRef

// ParseImage splits an image reference such as "nginx:1.27",
// "ghcr.io/org/app:v2", "localhost:5000/app" or "repo@sha256:...". It
// accepts what a container runtime accepts and fails with BAD_REQUEST
// (details.fields.image) otherwise.
func ParseImage(s string) (ImageRef, error) {
	r, why := model.SplitImage(s)
	if why != "" {
		fe := model.FieldErrors{}
		fe.Add("image", why)
		return ImageRef{}, fe.Err()
	}
	return r, nil
}

// imageName returns the repository part of an image string, lenient
// (manifests may hold anything).
func imageName(s string) string {
	if r, why := model.SplitImage(s); why == "" {
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
	if r, why := model.SplitImage(image); why == "" {
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
