package validate

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// document is one YAML document of the input stream.
type document struct {
	index    int        // 1-based position in the stream
	line     int        // first line of the document's text in the input (1-based)
	root     *yaml.Node // the document's content node (nil when empty)
	json     []byte     // the JSON form Kubernetes tools send to the API server
	sops     bool       // the document carries a top-level sops key (SOPS-encrypted)
	parseErr *Issue     // syntax or limit error; root and json are unusable
}

// splitDocuments cuts the stream at document markers ("---" at column 0),
// the way kubectl's YAML reader does, so that one broken document does not
// hide the others. It returns each chunk with its first line number.
func splitDocuments(in []byte) (chunks [][]byte, lines []int) {
	start, startLine, line := 0, 1, 1
	for off := 0; off < len(in); {
		end := bytes.IndexByte(in[off:], '\n')
		next := len(in)
		if end >= 0 {
			next = off + end + 1
		}
		l := in[off:next]
		if isMarker(l, "---") {
			chunks = append(chunks, in[start:off])
			lines = append(lines, startLine)
			// Content after "--- " on the same line belongs to the new document:
			// keep the marker in the chunk so that yaml positions stay right.
			start, startLine = off, line
		} else if isMarker(l, "...") {
			chunks = append(chunks, in[start:off])
			lines = append(lines, startLine)
			start, startLine = next, line+1
		}
		off = next
		line++
	}
	chunks = append(chunks, in[start:])
	lines = append(lines, startLine)
	return chunks, lines
}

func isMarker(line []byte, m string) bool {
	if !bytes.HasPrefix(line, []byte(m)) {
		return false
	}
	rest := line[len(m):]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r'
}

// parseDocument parses one chunk into a node tree and its JSON form.
func (v *Validator) parseDocument(chunk []byte, index, firstLine int, budget *int) *document {
	d := &document{index: index, line: firstLine}
	if len(bytes.TrimSpace(chunk)) == 0 {
		return d
	}
	var n yaml.Node
	if err := parseYAML(chunk, &n); err != nil {
		at := locateSyntaxError(chunk, err)
		d.parseErr = &Issue{Document: index, Line: firstLine + at.line - 1, Column: at.column,
			Message: "YAML syntax error: " + at.message, Suggestion: at.suggestion}
		if strings.Contains(at.message, "exceeded max depth") {
			d.parseErr.Message = "YAML nesting too deep: " + at.message
			d.parseErr.Suggestion = fmt.Sprintf("Kubernetes objects are never nested more than %d levels", v.opts.MaxDepth)
		}
		return d
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		d.root = n.Content[0]
	}
	if d.root == nil || (d.root.Kind == yaml.ScalarNode && d.root.Tag == "!!null") {
		d.root = nil
		return d
	}
	shiftLines(d.root, firstLine-1, map[*yaml.Node]bool{})
	if at := aliasOverflow(d.root, *budget); at != nil {
		*budget = -1
		d.parseErr = &Issue{Document: index, Line: at.Line, Column: at.Column,
			Message:    fmt.Sprintf("input expands to too many YAML nodes (more than %d once aliases are resolved): alias bomb", v.opts.MaxNodes),
			Suggestion: "avoid anchors/aliases that reference other aliases; split very large inputs"}
		return d
	}
	c := converter{maxDepth: v.opts.MaxDepth, budget: budget}
	if err := c.value(d.root, 0); err != nil {
		var ce *convertError
		if errors.As(err, &ce) {
			d.parseErr = &Issue{Document: index, Line: ce.node.Line, Column: ce.node.Column, Message: ce.msg, Suggestion: ce.suggestion}
		} else {
			d.parseErr = &Issue{Document: index, Line: firstLine, Column: 1, Message: err.Error()}
		}
		return d
	}
	d.json = c.buf.Bytes()
	d.sops = hasSOPS(d.root)
	return d
}

// hasSOPS reports whether an object carries a top-level sops mapping (it
// is SOPS-encrypted; Flux decrypts it before applying).
func hasSOPS(n *yaml.Node) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "sops" && n.Content[i+1].Kind == yaml.MappingNode {
			return true
		}
	}
	return false
}

// aliasOverflow computes, in time linear in the parsed nodes, how many
// nodes the document expands to once aliases are resolved; when that is
// more than limit it returns the alias at which the limit is crossed.
func aliasOverflow(root *yaml.Node, limit int) *yaml.Node {
	memo := map[*yaml.Node]int{}
	var at *yaml.Node
	var size func(n *yaml.Node, depth int) int
	size = func(n *yaml.Node, depth int) int {
		if n == nil || depth > 20000 {
			return 1
		}
		if s, ok := memo[n]; ok {
			return s
		}
		memo[n] = limit + 1 // cycles count as overflow
		total := 1
		if n.Kind == yaml.AliasNode {
			total = size(n.Alias, depth+1)
			if total > limit && at == nil {
				at = n
			}
		}
		for _, c := range n.Content {
			total += size(c, depth+1)
			if total > limit {
				if at == nil {
					at = c
				}
				total = limit + 1
				break
			}
		}
		memo[n] = total
		return total
	}
	if size(root, 0) > limit {
		if at == nil {
			at = root
		}
		return at
	}
	return nil
}

// parseYAML runs the yaml.v3 parser, turning its rare panics into errors.
func parseYAML(in []byte, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return yaml.Unmarshal(in, n)
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
	if n.Alias != nil {
		shiftLines(n.Alias, by, seen)
	}
}

// convertError is a conversion problem at a node.
type convertError struct {
	node       *yaml.Node
	msg        string
	suggestion string
}

func (e *convertError) Error() string { return e.msg }

// converter writes the JSON that sigs.k8s.io/yaml (and so kubectl) produces
// for a YAML node: YAML 1.1 scalar resolution (yes/no/on/off are booleans),
// merge keys, aliases expanded, non-string keys stringified. It bounds depth
// and the number of nodes written, which is what stops alias bombs.
type converter struct {
	buf      bytes.Buffer
	maxDepth int
	budget   *int // nodes left for the whole input
}

func (c *converter) value(n *yaml.Node, depth int) error {
	if depth > c.maxDepth {
		return &convertError{node: n, msg: fmt.Sprintf("YAML nesting deeper than %d levels", c.maxDepth),
			suggestion: "Kubernetes objects are never this deep; check for runaway indentation or generated input"}
	}
	*c.budget--
	if *c.budget < 0 {
		return &convertError{node: n, msg: "input expands to too many YAML nodes (alias bomb or oversized document)",
			suggestion: "avoid anchors/aliases that reference other aliases; split very large inputs"}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return &convertError{node: n, msg: "unknown anchor " + n.Value}
		}
		return c.value(n.Alias, depth)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			c.buf.WriteString("null")
			return nil
		}
		return c.value(n.Content[0], depth)
	case yaml.SequenceNode:
		c.buf.WriteByte('[')
		for i, e := range n.Content {
			if i > 0 {
				c.buf.WriteByte(',')
			}
			if err := c.value(e, depth+1); err != nil {
				return err
			}
		}
		c.buf.WriteByte(']')
		return nil
	case yaml.MappingNode:
		pairs, err := mappingPairs(n, c.budget)
		if err != nil {
			return err
		}
		c.buf.WriteByte('{')
		for i, p := range pairs {
			if i > 0 {
				c.buf.WriteByte(',')
			}
			k, err := keyString(p[0])
			if err != nil {
				return err
			}
			writeJSONString(&c.buf, k)
			c.buf.WriteByte(':')
			if err := c.value(p[1], depth+1); err != nil {
				return err
			}
		}
		c.buf.WriteByte('}')
		return nil
	case yaml.ScalarNode:
		return c.scalar(n)
	}
	return &convertError{node: n, msg: "unsupported YAML node"}
}

// mappingPairs returns the key/value pairs of a mapping with merge keys
// ("<<") applied: explicit keys win over merged ones, earlier merges over
// later ones. Duplicate explicit keys are an error.
func mappingPairs(n *yaml.Node, budget *int) ([][2]*yaml.Node, error) {
	pairs := make([][2]*yaml.Node, 0, len(n.Content)/2)
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 && (k.Tag == "!!merge" || k.Tag == "") {
			merges = append(merges, val)
			continue
		}
		ks, err := keyString(k)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[ks]; ok {
			return nil, &convertError{node: k, msg: fmt.Sprintf("mapping key %q already defined at line %d", ks, prev.Line),
				suggestion: "remove one of the duplicate keys; Kubernetes tools would silently keep only the last one"}
		}
		seen[ks] = k
		pairs = append(pairs, [2]*yaml.Node{k, val})
	}
	for _, m := range merges {
		var srcs []*yaml.Node
		m = deref(m)
		switch m.Kind {
		case yaml.MappingNode:
			srcs = []*yaml.Node{m}
		case yaml.SequenceNode:
			for _, s := range m.Content {
				srcs = append(srcs, deref(s))
			}
		}
		for _, s := range srcs {
			if s.Kind != yaml.MappingNode {
				return nil, &convertError{node: m, msg: "merge key << needs a mapping or a list of mappings"}
			}
			*budget -= len(s.Content)
			if *budget < 0 {
				return nil, &convertError{node: m, msg: "input expands to too many YAML nodes (alias bomb or oversized document)"}
			}
			sub, err := mappingPairs(s, budget)
			if err != nil {
				return nil, err
			}
			for _, p := range sub {
				ks, _ := keyString(p[0])
				if _, ok := seen[ks]; ok {
					continue
				}
				seen[ks] = p[0]
				pairs = append(pairs, p)
			}
		}
	}
	return pairs, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// keyString is the JSON object key sigs.k8s.io/yaml makes of a YAML key.
func keyString(k *yaml.Node) (string, error) {
	k = deref(k)
	if k == nil || k.Kind != yaml.ScalarNode {
		return "", &convertError{node: k, msg: "mapping keys must be scalars"}
	}
	tag, val := resolveScalar(k)
	switch tag {
	case "!!bool", "!!int", "!!float":
		return val, nil
	case "!!null":
		return "null", nil
	}
	return k.Value, nil
}

func (c *converter) scalar(n *yaml.Node) error {
	tag, val := resolveScalar(n)
	switch tag {
	case "!!null":
		c.buf.WriteString("null")
	case "!!bool", "!!int", "!!float":
		c.buf.WriteString(val)
	case "!!nonjson":
		return &convertError{node: n, msg: fmt.Sprintf("value %s cannot be represented in JSON", n.Value), suggestion: "quote the value if it is meant as a string"}
	case "!!binary":
		c.buf.WriteString(strconv.Quote(strings.Join(strings.Fields(n.Value), "")))
	default:
		writeJSONString(&c.buf, n.Value)
	}
	return nil
}

var yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "true": true, "True": true, "TRUE": true, "on": true, "On": true, "ON": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false, "false": false, "False": false, "FALSE": false, "off": false, "Off": false, "OFF": false,
}

// resolveScalar resolves a scalar the way go.yaml.in/yaml/v2 (used by
// sigs.k8s.io/yaml, so by kubectl and Flux) does: YAML 1.1 booleans, ints
// with underscores and 0b/0x/0 prefixes, timestamps kept as strings.
// It returns the tag and, for booleans and numbers, their JSON text.
func resolveScalar(n *yaml.Node) (tag, text string) {
	quoted := n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0
	if n.Style&yaml.TaggedStyle != 0 {
		switch n.ShortTag() {
		case "!!str", "!!timestamp":
			return "!!str", ""
		case "!!binary":
			return "!!binary", ""
		case "!!null", "!!bool", "!!int", "!!float":
			// fall through to resolution; a mismatch is kept as a string
		default:
			return "!!str", ""
		}
	} else if quoted {
		return "!!str", ""
	}
	in := n.Value
	switch in {
	case "", "~", "null", "Null", "NULL":
		return "!!null", ""
	case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return "!!nonjson", ""
	}
	if b, ok := yaml11Bools[in]; ok {
		return "!!bool", strconv.FormatBool(b)
	}
	c := in[0]
	if c == '.' {
		if f, err := strconv.ParseFloat(in, 64); err == nil {
			return floatJSON(f)
		}
		return "!!str", ""
	}
	if c != '+' && c != '-' && (c < '0' || c > '9') {
		return "!!str", ""
	}
	if looksLikeTimestamp(in) {
		return "!!str", ""
	}
	plain := strings.ReplaceAll(in, "_", "")
	if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return "!!int", strconv.FormatInt(i, 10)
	}
	if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return "!!int", strconv.FormatUint(u, 10)
	}
	if yamlStyleFloat.MatchString(plain) {
		if f, err := strconv.ParseFloat(plain, 64); err == nil {
			return floatJSON(f)
		}
	}
	if strings.HasPrefix(plain, "0b") || strings.HasPrefix(plain, "-0b") {
		neg := plain[0] == '-'
		digits := strings.TrimPrefix(strings.TrimPrefix(plain, "-"), "0b")
		if u, err := strconv.ParseUint(digits, 2, 64); err == nil {
			if neg {
				return "!!int", "-" + strconv.FormatUint(u, 10)
			}
			return "!!int", strconv.FormatUint(u, 10)
		}
	}
	return "!!str", ""
}

var timestampRE = regexp.MustCompile(`^\d{4}-\d\d?-\d\d?([Tt ].*)?$`)

func looksLikeTimestamp(s string) bool { return len(s) >= 8 && timestampRE.MatchString(s) }

// floatJSON formats f as encoding/json does.
func floatJSON(f float64) (string, string) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "!!nonjson", ""
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return "!!float", strconv.FormatFloat(f, format, -1, 64)
}

func writeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '"' && c != '\\' && c >= 0x20 {
			continue
		}
		b.WriteString(s[start:i])
		if c < 0x20 {
			fmt.Fprintf(b, `\u%04x`, c)
		} else {
			b.WriteByte('\\')
			b.WriteByte(c)
		}
		start = i + 1
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}
