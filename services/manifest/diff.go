package manifest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"

	udiff "github.com/aymanbagabas/go-udiff"
)

type fileDiff struct {
	path     string
	old, new []byte
	edits    []textEdit // byte edits of old, when known (saves a diff computation)
	created  bool
}

// blobID is git's object id of a blob, as in `index` lines.
func blobID(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))[:7]
}

// gitDiff renders files as `git diff` does (headers, index lines, hunks
// with 3 lines of context) and counts added and deleted lines.
func gitDiff(files []fileDiff) (string, Summary) {
	var b strings.Builder
	var sum Summary
	for _, fd := range files {
		var body string
		if fd.created {
			body = udiff.Unified("/dev/null", "b/"+fd.path, "", string(fd.new))
		} else {
			body = unified(fd)
		}
		if body == "" {
			continue
		}
		sum.Files++
		fmt.Fprintf(&b, "diff --git a/%s b/%s\n", fd.path, fd.path)
		if fd.created {
			fmt.Fprintf(&b, "new file mode 100644\nindex 0000000..%s\n", blobID(fd.new))
		} else {
			fmt.Fprintf(&b, "index %s..%s\n", blobID(fd.old), blobID(fd.new))
		}
		b.WriteString(body)
		inHunk := false
		for _, l := range strings.Split(body, "\n") {
			switch {
			case strings.HasPrefix(l, "@@"):
				inHunk = true
			case !inHunk:
			case strings.HasPrefix(l, "+"):
				sum.Additions++
			case strings.HasPrefix(l, "-"):
				sum.Deletions++
			}
		}
	}
	return b.String(), sum
}

// unified diffs only the window of lines that the edits touch (the rest of
// the file is known to be equal), so large files cost little.
func unified(fd fileDiff) string {
	old, new := string(fd.old), string(fd.new)
	a, b := 0, len(old)
	if len(fd.edits) > 0 {
		a, b = len(old), 0
		for _, e := range fd.edits {
			a, b = min(a, e.start), max(b, e.end)
		}
		a = strings.LastIndexByte(old[:a], '\n') + 1
		if i := strings.IndexByte(old[b:], '\n'); i >= 0 {
			b += i + 1
		} else {
			b = len(old)
		}
	}
	nb := b + len(new) - len(old)
	if a > len(new) || nb < a || old[:a] != new[:a] || old[b:] != new[nb:] {
		a, b, nb = 0, len(old), len(new)
	}
	es := udiff.Lines(old[a:b], new[a:nb])
	for i := range es {
		es[i].Start += a
		es[i].End += a
	}
	body, err := udiff.ToUnified("a/"+fd.path, "b/"+fd.path, old, es, udiff.DefaultContextLines)
	if err != nil {
		return udiff.Unified("a/"+fd.path, "b/"+fd.path, old, new)
	}
	return body
}
