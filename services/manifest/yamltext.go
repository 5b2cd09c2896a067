package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gitopstui/gitopstui/model"
	yaml "go.yaml.in/yaml/v3"
)

// yfile is one YAML file: its original bytes, its documents parsed as
// yaml.v3 nodes (for positions) and the text edits planned on it. Edits are
// byte ranges of the original text, so every untouched byte stays as it was.
type yfile struct {
	path      string
	src       []byte
	lineStart []int // byte offset of the start of each line (index 0 = line 1)
	docs      []*ydoc
	edits     []textEdit
	created   bool // the file does not exist yet
	crlf      bool // lines end in CR LF: inserted lines do too
	st        style
	styleDone bool
	seq       int
}

// ydoc is one document of a file.
type ydoc struct {
	index                           int
	root                            *yaml.Node // top mapping (nil if the document is not a mapping)
	apiVersion, kind, name, namespa string
}

// textEdit replaces src[start:end] with text.
type textEdit struct {
	start, end int
	text       string
	order      int
}

// style is how a file indents: the step of nested mappings and whether a
// block sequence under a key is indented ("key:\n  - a") or not ("key:\n- a").
type style struct {
	step      int
	seqIndent bool
}

// parseYAML parses every document of a file.
func parseYAML(path string, src []byte) (*yfile, error) {
	return parseYAMLKinds(path, src, nil)
}

// parseYAMLKinds parses a file; when want is set, documents whose top-level
// kind it rejects are only split off, not parsed (large multi-document
// files are mostly resources a change does not touch).
func parseYAMLKinds(path string, src []byte, want func(kind string, text []byte) bool) (*yfile, error) {
	f := &yfile{path: path, src: src, crlf: bytes.Contains(src, []byte("\r\n"))}
	f.lineStart = append(f.lineStart, 0)
	for i, c := range src {
		if c == '\n' {
			f.lineStart = append(f.lineStart, i+1)
		}
	}
	for _, ch := range f.chunks() {
		if want != nil {
			if k := quickKind(src[ch.start:ch.end]); k != "" && !want(k, src[ch.start:ch.end]) {
				f.docs = append(f.docs, &ydoc{index: len(f.docs), kind: k})
				continue
			}
		}
		docs, err := decodeChunk(path, src[ch.start:ch.end], ch.line)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			d.index = len(f.docs)
			f.docs = append(f.docs, d)
		}
	}
	return f, nil
}

// chunk is one document's text: a byte range and its first line.
type chunk struct{ start, end, line int }

func isDocMarker(b []byte) bool {
	return len(b) >= 3 && b[0] == '-' && b[1] == '-' && b[2] == '-' && (len(b) == 3 || b[3] == ' ' || b[3] == '\t' || b[3] == '\r')
}

// chunks splits the file at "---" lines.
func (f *yfile) chunks() []chunk {
	var out []chunk
	cur := chunk{start: 0, line: 1}
	for l := 1; l <= len(f.lineStart); l++ {
		if l > 1 && isDocMarker(f.line(l)) {
			cur.end = f.lineStart[l-1]
			out = append(out, cur)
			cur = chunk{start: f.lineStart[l-1], line: l}
		}
	}
	cur.end = len(f.src)
	return append(out, cur)
}

// quickKind returns the value of a top-level "kind:" line, or "".
func quickKind(b []byte) string {
	i := 0
	for {
		if bytes.HasPrefix(b[i:], []byte("kind:")) {
			rest := b[i+5:]
			if j := bytes.IndexByte(rest, '\n'); j >= 0 {
				rest = rest[:j]
			}
			if j := bytes.Index(rest, []byte(" #")); j >= 0 {
				rest = rest[:j]
			}
			return strings.Trim(string(bytes.TrimSpace(rest)), `"'`)
		}
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return ""
		}
		i += j + 1
	}
}

func decodeChunk(path string, src []byte, firstLine int) ([]*ydoc, error) {
	var out []*ydoc
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			msg := err.Error()
			if firstLine > 1 {
				msg = fmt.Sprintf("%s (in the document starting at line %d)", msg, firstLine)
			}
			return nil, model.Errorf(model.CodeYAMLInvalid, "parse %s: %s", path, msg).WithDetail("path", path)
		}
		if firstLine > 1 {
			shiftLines(&n, firstLine-1, map[*yaml.Node]bool{})
		}
		d := &ydoc{}
		if n.Kind == yaml.DocumentNode && len(n.Content) == 1 && n.Content[0].Kind == yaml.MappingNode {
			d.root = n.Content[0]
			d.apiVersion = scalarAt(d.root, "apiVersion")
			d.kind = scalarAt(d.root, "kind")
			if md := mapValue(d.root, "metadata"); md != nil {
				d.name = scalarAt(md, "name")
				d.namespa = scalarAt(md, "namespace")
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func shiftLines(n *yaml.Node, by int, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by, seen)
	}
}

// checkEdited parses the documents of out that differ from f's original text.
func (f *yfile) checkEdited(out []byte) error {
	g := &yfile{path: f.path, src: out}
	g.lineStart = append(g.lineStart, 0)
	for i, c := range out {
		if c == '\n' {
			g.lineStart = append(g.lineStart, i+1)
		}
	}
	oc, nc := f.chunks(), g.chunks()
	for i, ch := range nc {
		if len(oc) == len(nc) && bytes.Equal(f.src[oc[i].start:oc[i].end], out[ch.start:ch.end]) {
			continue
		}
		if _, err := decodeChunk(f.path, out[ch.start:ch.end], ch.line); err != nil {
			return err
		}
	}
	return nil
}

// mapEntry returns the key and value nodes of key in mapping m.
func mapEntry(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], resolveAlias(m.Content[i+1])
		}
	}
	return nil, nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	_, v := mapEntry(m, key)
	return v
}

func scalarAt(m *yaml.Node, key string) string {
	v := mapValue(m, key)
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}

// line returns the bytes of line l (1-based) without its newline.
func (f *yfile) line(l int) []byte {
	if l < 1 || l > len(f.lineStart) {
		return nil
	}
	s := f.lineStart[l-1]
	e := len(f.src)
	if l < len(f.lineStart) {
		e = f.lineStart[l] - 1
	}
	if e < s {
		e = s
	}
	b := f.src[s:e]
	return bytes.TrimSuffix(b, []byte{'\r'})
}

func (f *yfile) numLines() int {
	n := len(f.lineStart)
	if n > 0 && f.lineStart[n-1] == len(f.src) {
		n-- // trailing newline: no content on the last "line"
	}
	return n
}

// offset converts a yaml.v3 position (1-based line, 1-based character column) to a byte offset.
func (f *yfile) offset(line, col int) int {
	ln := f.line(line)
	base := f.lineStart[line-1]
	b := 0
	for c := 1; c < col && b < len(ln); c++ {
		_, w := utf8.DecodeRune(ln[b:])
		b += w
	}
	return base + b
}

func indentOf(b []byte) int {
	n := 0
	for n < len(b) && b[n] == ' ' {
		n++
	}
	return n
}

func isBlankOrComment(b []byte) bool {
	t := bytes.TrimSpace(b)
	return len(t) == 0 || t[0] == '#'
}

func isDashItem(b []byte, at int) bool {
	return at < len(b) && b[at] == '-' && (at+1 == len(b) || b[at+1] == ' ')
}

// blockEnd returns the last line that belongs to the block that starts at
// line start with its key or dash at column col: every following line that is
// indented deeper, or (for a key) a "- " item at the same column. Trailing
// blank and comment lines are not included.
func (f *yfile) blockEnd(start, col int, allowDash bool) int {
	last := start
	ind := col - 1
	for l := start + 1; l <= f.numLines(); l++ {
		b := f.line(l)
		if isBlankOrComment(b) {
			continue
		}
		i := indentOf(b)
		if i > ind || (allowDash && i == ind && isDashItem(b, i)) {
			last = l
			continue
		}
		break
	}
	return last
}

// keyStartsLine reports whether only spaces precede the node on its line.
func (f *yfile) keyStartsLine(n *yaml.Node) bool {
	return indentOf(f.line(n.Line)) == n.Column-1
}

func (f *yfile) add(start, end int, text string) {
	if f.crlf {
		text = strings.ReplaceAll(text, "\n", "\r\n")
	}
	f.seq++
	f.edits = append(f.edits, textEdit{start: start, end: end, text: text, order: f.seq})
}

// insertLinesAfter inserts whole lines after line l (0 = at the top).
func (f *yfile) insertLinesAfter(l int, lines []string) {
	text := strings.Join(lines, "\n") + "\n"
	var at int
	switch {
	case l <= 0:
		at = 0
	case l < len(f.lineStart):
		at = f.lineStart[l]
	default:
		at = len(f.src)
	}
	if at == len(f.src) && len(f.src) > 0 && f.src[len(f.src)-1] != '\n' {
		text = "\n" + text
	}
	f.add(at, at, text)
}

// deleteLines removes lines from..to (inclusive).
func (f *yfile) deleteLines(from, to int) {
	s := f.lineStart[from-1]
	e := len(f.src)
	if to < len(f.lineStart) {
		e = f.lineStart[to]
	}
	f.add(s, e, "")
}

// result applies the planned edits to the original text.
func (f *yfile) result() ([]byte, error) {
	es := append([]textEdit(nil), f.edits...)
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].start != es[j].start {
			return es[i].start < es[j].start
		}
		// Pure insertions go before a replacement that starts at the same place.
		if ii, ji := es[i].end == es[i].start, es[j].end == es[j].start; ii != ji {
			return ii
		}
		return es[i].order < es[j].order
	})
	var out bytes.Buffer
	out.Grow(len(f.src) + 256)
	pos := 0
	for _, e := range es {
		if e.start < pos {
			return nil, model.Errorf(model.CodeInternal, "overlapping edits in %s at byte %d", f.path, e.start)
		}
		out.Write(f.src[pos:e.start])
		out.WriteString(e.text)
		pos = e.end
	}
	out.Write(f.src[pos:])
	return out.Bytes(), nil
}

// scalarSpan returns the byte range of a scalar's text in the source.
func (f *yfile) scalarSpan(n *yaml.Node, inFlow bool) (int, int, error) {
	start := f.offset(n.Line, n.Column)
	src := f.src
	// Skip a tag or an anchor in front of the value.
	for start < len(src) && (src[start] == '!' || src[start] == '&') {
		for start < len(src) && src[start] != ' ' && src[start] != '\n' {
			start++
		}
		for start < len(src) && src[start] == ' ' {
			start++
		}
	}
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := start + 1; i < len(src); i++ {
			switch src[i] {
			case '\\':
				i++
			case '"':
				return start, i + 1, nil
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := start + 1; i < len(src); i++ {
			if src[i] == '\'' {
				if i+1 < len(src) && src[i+1] == '\'' {
					i++
					continue
				}
				return start, i + 1, nil
			}
		}
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		ind := indentOf(f.line(n.Line))
		last := n.Line
		for l := n.Line + 1; l <= f.numLines(); l++ {
			b := f.line(l)
			if len(bytes.TrimSpace(b)) == 0 {
				continue
			}
			if indentOf(b) > ind {
				last = l
				continue
			}
			break
		}
		return start, f.lineStart[last-1] + len(f.line(last)), nil
	default:
		end := f.lineStart[n.Line-1] + len(f.line(n.Line))
		i := start
		for ; i < end; i++ {
			c := src[i]
			if c == '#' && i > start && (src[i-1] == ' ' || src[i-1] == '\t') {
				break
			}
			if inFlow && (c == ',' || c == ']' || c == '}') {
				break
			}
			if c == ':' && (i+1 == end || src[i+1] == ' ') {
				break
			}
		}
		j := i
		for j > start && (src[j-1] == ' ' || src[j-1] == '\t') {
			j--
		}
		text := string(src[start:j])
		if text == n.Value || (n.Tag == "!!null" && (text == "" || text == "~" || strings.EqualFold(text, "null"))) {
			return start, j, nil
		}
		return 0, 0, model.Errorf(model.CodeBadRequest, "%s:%d: cannot edit a value that spans several lines", f.path, n.Line)
	}
	return 0, 0, model.Errorf(model.CodeYAMLInvalid, "%s:%d: unterminated scalar", f.path, n.Line)
}

// flowEnd returns the byte offset just after the flow collection starting at start.
func (f *yfile) flowEnd(start int) (int, error) {
	depth := 0
	src := f.src
	for i := start; i < len(src); i++ {
		switch src[i] {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		case '"':
			for i++; i < len(src) && src[i] != '"'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '\'':
			for i++; i < len(src); i++ {
				if src[i] == '\'' {
					if i+1 < len(src) && src[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '#':
			if i > 0 && (src[i-1] == ' ' || src[i-1] == '\n') {
				for i < len(src) && src[i] != '\n' {
					i++
				}
			}
		}
	}
	return 0, model.Errorf(model.CodeYAMLInvalid, "%s: unterminated flow collection", f.path)
}

// nodeSpan returns the byte span of a scalar or flow collection.
func (f *yfile) nodeSpan(n *yaml.Node) (int, int, error) {
	if n.Kind == yaml.ScalarNode {
		return f.scalarSpan(n, false)
	}
	start := f.offset(n.Line, n.Column)
	end, err := f.flowEnd(start)
	return start, end, err
}

// detectStyle guesses the indentation step and sequence style from the file.
func (f *yfile) style() style {
	if f.styleDone {
		return f.st
	}
	f.styleDone = true
	steps := map[int]int{}
	seqIn, seqOut := 0, 0
	n := f.numLines()
	for l := 1; l < n && l < 2000; l++ {
		b := f.line(l)
		t := bytes.TrimRight(b, " ")
		if isBlankOrComment(b) || len(t) == 0 || t[len(t)-1] != ':' {
			continue
		}
		ind := indentOf(b)
		if isDashItem(b, ind) {
			ind += 2
		}
		nl := l + 1
		for nl <= n && isBlankOrComment(f.line(nl)) {
			nl++
		}
		if nl > n {
			break
		}
		nb := f.line(nl)
		ni := indentOf(nb)
		if isDashItem(nb, ni) {
			if ni == ind {
				seqOut++
			} else if ni > ind {
				seqIn++
				steps[ni-ind]++
			}
		} else if ni > ind {
			steps[ni-ind]++
		}
	}
	st := style{step: 2, seqIndent: seqIn >= seqOut}
	best := 0
	for s, c := range steps {
		if c > best || (c == best && s < st.step) {
			best, st.step = c, s
		}
	}
	if st.step > 8 {
		st.step = 2
	}
	f.st = st
	return st
}
