package validate

import (
	"context"
	"strings"
	"testing"
)

// TestSyntaxErrorPositions: each syntax error is reported once, at the
// line and column a user would point at (lines of the whole input).
func TestSyntaxErrorPositions(t *testing.T) {
	v := newValidator(t)
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n\n"
	for _, tc := range []struct {
		name, in  string
		doc       int
		line, col int
		msg, sugg string
	}{
		{name: "unclosed flow sequence", in: cm + "data: [a, b\n", doc: 1, line: 6, col: 7,
			msg: "the flow sequence [ started here is not closed (did not find expected ',' or ']')", sugg: "close it with ]"},
		{name: "unclosed flow sequence, more keys follow", in: cm + "data: [a, b\nimmutable: true\n", doc: 1, line: 6, col: 7,
			msg: "flow sequence [ started here is not closed"},
		{name: "unclosed flow mapping", in: cm + "data: {a: 1\n", doc: 1, line: 6, col: 7,
			msg: "the flow mapping { started here is not closed (did not find expected ',' or '}')", sugg: "close it with }"},
		{name: "unclosed flow mapping, more keys follow", in: cm + "data: {a: \"1\"\nimmutable: true\nbinaryData: {}\n", doc: 1, line: 6, col: 7,
			msg: "flow mapping { started here is not closed"},
		{name: "unclosed flow collection on the first line", in: "{apiVersion: v1, kind: ConfigMap\n", doc: 1, line: 1, col: 1,
			msg: "flow mapping { started here is not closed"},
		{name: "inner sequence left open", in: cm + "data:\n  a: [x, [y\n", doc: 1, line: 7, col: 10,
			msg: "flow sequence [ started here is not closed"},
		{name: "outer sequence left open, inner closed on a later line", in: cm + "data:\n  a: [x, [y,\n    z], w\n", doc: 1, line: 7, col: 6,
			msg: "flow sequence [ started here is not closed"},
		{name: "brackets in quotes, comments and block scalars do not count", in: cm + "# [ {\nscript: |\n  echo [x \"\nlist: [\"]\", 'it''s [', b # ]\n", doc: 1, line: 9, col: 7,
			msg: "flow sequence [ started here is not closed"},
		{name: "sequence closed by a brace", in: cm + "data: {b: [1, 2}\n", doc: 1, line: 6, col: 11,
			msg: "flow sequence [ started here is not closed"},
		{name: "trailing comma at the end of the document", in: cm + "data:\n  a: [1,\n", doc: 1, line: 7, col: 6,
			msg: "the flow sequence [ started here is not closed (did not find expected node content)"},
		{name: "characters counted, not bytes", in: cm + "data: {é: ü, ö: [\"ä\", ß\n", doc: 1, line: 6, col: 17,
			msg: "flow sequence [ started here is not closed"},
		{name: "unclosed double quote", in: cm + "data:\n  a: \"open\n  b: c\n", doc: 1, line: 7, col: 6,
			msg: "the quoted string started here is not closed (found unexpected end of stream)", sugg: "closing quote"},
		{name: "unclosed single quote after an escaped one", in: cm + "data:\n  a: 'it''s\n", doc: 1, line: 7, col: 6,
			msg: "quoted string started here is not closed"},
		{name: "tab in indentation", in: cm + "data:\n\ta: b\n", doc: 1, line: 7, col: 1,
			msg: "found character that cannot start any token", sugg: "indent with spaces"},
		{name: "key indented less than its siblings", in: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n labels: {}\n", doc: 1, line: 5, col: 2,
			msg: "did not find expected key", sugg: "indent this line like the other keys"},
		{name: "key indented more than its siblings", in: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n    labels: {}\n", doc: 1, line: 5, col: 5,
			msg: "mapping values are not allowed in this context"},
		{name: "list item out of line", in: cm + "data:\n  a: b\n- c\n", doc: 1, line: 8, col: 1,
			msg: "did not find expected key"},
		{name: "mapping inside a list", in: "apiVersion: v1\nkind: List\nitems:\n  - a\n  b: c\n", doc: 1, line: 5, col: 3,
			msg: "did not find expected '-' indicator", sugg: "indent this line like the other '- ' items"},
		{name: "key without a colon after a block scalar", in: cm + "data:\n  a: |\n   x\n  b\n", doc: 1, line: 9, col: 3,
			msg: "could not find expected ':'"},
		{name: "unknown anchor", in: cm + "data:\n  a: &x 1\n  b: *y\n", doc: 1, line: 8, col: 6,
			msg: "unknown anchor 'y' referenced", sugg: "define the anchor &y"},
		{name: "duplicate key", in: cm + "data:\n  a: \"1\"\n  a: \"2\"\n", doc: 1, line: 8, col: 3,
			msg: "mapping key \"a\" already defined at line 7"},
		{name: "second document, lines of the whole input", in: cm + "data: {}\n---\n" + cm + "data: [a, b\n", doc: 2, line: 13, col: 7,
			msg: "flow sequence [ started here is not closed"},
		{name: "flow sequence on the document marker line", in: cm + "---\n--- [a, b\n", doc: 2, line: 7, col: 5,
			msg: "flow sequence [ started here is not closed"},
		{name: "third document after an empty one, CRLF", in: strings.ReplaceAll(cm+"---\n---\n"+cm+"data: {a: 1\n", "\n", "\r\n"), doc: 2, line: 13, col: 7,
			msg: "flow mapping { started here is not closed"},
		{name: "quote left open in the first of two documents", in: cm + "data:\n  a: \"x\n---\n" + cm + "data: {}\n", doc: 1, line: 7, col: 6,
			msg: "quoted string started here is not closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := v.Validate(context.Background(), []byte(tc.in))
			if len(res.Errors) != 1 {
				t.Fatalf("want 1 error, got %+v", res.Errors)
			}
			e := res.Errors[0]
			if !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("error %q does not contain %q", e.Message, tc.msg)
			}
			if e.Document != tc.doc || e.Line != tc.line || e.Column != tc.col {
				t.Errorf("document %d at %d:%d, want document %d at %d:%d (%s)", e.Document, e.Line, e.Column, tc.doc, tc.line, tc.col, e.Message)
			}
			if !strings.Contains(e.Suggestion, tc.sugg) {
				t.Errorf("suggestion %q does not contain %q", e.Suggestion, tc.sugg)
			}
		})
	}
}

// TestYAMLMarks: the lines of both marks libyaml keeps, recovered from
// what yaml.v3 and yaml.v2 print.
func TestYAMLMarks(t *testing.T) {
	for _, tc := range []struct {
		in        string
		problem   string
		ctx, prob int
	}{
		// parser error: context = the "[", problem = the end of the input
		{"a: 1\n\ndata: [a, b\n", problemFlowSeq, 3, 4},
		// context on the first line: yaml.v3 alone prints no line at all;
		// the problem is the ':' (a flow key cannot span lines)
		{"data: [a, b\nc: d\n", problemFlowSeq, 1, 2},
		// scanner error: context = the opening quote
		{"a: 1\nb: \"x\n\n", problemEOF, 2, 4},
		// parser error in a block mapping: context = the mapping, problem = the bad key
		{"a:\n  b: 1\n c: 2\n", "did not find expected key", 1, 3},
	} {
		ctx, prob := yamlMarks([]byte(tc.in), tc.problem)
		if ctx != tc.ctx || prob != tc.prob {
			t.Errorf("%q: marks at lines %d (context) and %d (problem), want %d and %d", tc.in, ctx, prob, tc.ctx, tc.prob)
		}
	}
}
