package validate

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	yaml2 "go.yaml.in/yaml/v2"
	yaml "go.yaml.in/yaml/v3"
)

// Positions of YAML syntax errors.
//
// libyaml (which yaml.v3 and yaml.v2 port) keeps two marks for a syntax
// error: the problem mark (the token it could not accept) and the context
// mark (the start of the construct it was reading: the "[" of a flow
// sequence, the opening quote of a string, a block mapping). The Go ports
// print only one line number and no column:
//
//   - yaml.v3 prints the context mark's line, or the problem mark's when the
//     context mark is on line 0 (then no line at all when that is 0 too);
//   - yaml.v2 prints the problem mark's line, or the context mark's;
//   - both print the 0-based line of the mark for parser errors and the
//     1-based line for scanner errors.
//
// Parsing the document once more with one line in front of it moves every
// mark off line 0, so yaml.v3 then prints the context line and yaml.v2 the
// problem line; knowing from the problem which stage raised it undoes the
// 0/1-based difference. That gives both lines exactly. Columns are not
// printed at all: scanConstructs finds, on the line the parser named, the
// bracket or quote the context mark stands on.

var yamlErrRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// splitYAMLError returns the problem text of a yaml.v2/v3 error and the line
// number it printed (0 when it printed none).
func splitYAMLError(err error) (problem string, line int) {
	if err == nil {
		return "", 0
	}
	m := yamlErrRE.FindStringSubmatch(err.Error())
	if m == nil {
		return err.Error(), 0
	}
	line, _ = strconv.Atoi(m[1])
	return m[2], line
}

// scannerProblems are the problems libyaml's scanner (not its parser)
// reports; for these the Go ports print 1-based lines.
var scannerProblems = map[string]bool{
	"block sequence entries are not allowed in this context":       true,
	"could not find expected ':'":                                  true,
	"could not find expected directive name":                       true,
	"did not find URI escaped octet":                               true,
	"did not find expected '!'":                                    true,
	"did not find expected alphabetic or numeric character":        true,
	"did not find expected comment or line break":                  true,
	"did not find expected digit or '.' character":                 true,
	"did not find expected hexdecimal number":                      true,
	"did not find expected tag URI":                                true,
	"did not find expected version number":                         true,
	"did not find expected whitespace or line break":               true,
	"did not find expected whitespace":                             true,
	"did not find the expected '>'":                                true,
	"found a tab character that violates indentation":              true,
	"found a tab character where an indentation space is expected": true,
	"found an incorrect leading UTF-8 octet":                       true,
	"found an incorrect trailing UTF-8 octet":                      true,
	"found an indentation indicator equal to 0":                    true,
	"found character that cannot start any token":                  true,
	"found extremely long version number":                          true,
	"found invalid Unicode character escape code":                  true,
	"found unexpected document indicator":                          true,
	"found unexpected end of stream":                               true,
	"found unexpected non-alphabetical character":                  true,
	"found unknown directive name":                                 true,
	"found unknown escape character":                               true,
	"mapping keys are not allowed in this context":                 true,
	"mapping values are not allowed in this context":               true,
}

func scannerProblem(p string) bool {
	return scannerProblems[p] || strings.HasPrefix(p, "exceeded max depth")
}

// Problems whose context mark is what a user points at: the unclosed
// bracket, the unclosed quote, the key that lacks its colon.
const (
	problemFlowSeq   = "did not find expected ',' or ']'"
	problemFlowMap   = "did not find expected ',' or '}'"
	problemEOF       = "found unexpected end of stream"
	problemDocInStr  = "found unexpected document indicator"
	problemSimpleKey = "could not find expected ':'"
	problemNoContent = "did not find expected node content"
)

// yamlMarks returns the 1-based lines, in chunk, of the context mark and
// the problem mark of the error yaml.v3 reports as problem (0 when one
// cannot be recovered).
func yamlMarks(chunk []byte, problem string) (ctx, prob int) {
	adj := 0
	if scannerProblem(problem) {
		adj = 1
	}
	shifted := make([]byte, 0, len(chunk)+1)
	shifted = append(append(shifted, '\n'), chunk...)
	var n yaml.Node
	if p, l := splitYAMLError(parseYAML(shifted, &n)); p == problem && l > 0 {
		ctx = l - adj
	}
	if p, l := splitYAMLError(parseYAMLv2(shifted)); p == problem && l > 0 {
		prob = l - adj
	}
	return ctx, prob
}

// parseYAMLv2 parses in with yaml.v2 (the parser sigs.k8s.io/yaml, and so
// kubectl, uses) only for its error. The target is an empty struct, so a
// document that parses is not expanded.
func parseYAMLv2(in []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	var sink struct{}
	return yaml2.Unmarshal(in, &sink)
}

// syntaxPos is where a syntax error is reported, relative to its chunk.
type syntaxPos struct {
	line, column int
	message      string
	suggestion   string
}

const defaultSyntaxHint = "check indentation and quoting on this line and the one above it"

// syntaxHints are suggestions for the problems people run into most.
var syntaxHints = map[string]string{
	"did not find expected key":                      "indent this line like the other keys of its mapping",
	"did not find expected '-' indicator":            "indent this line like the other '- ' items of its list (or like the key that holds the list)",
	"mapping values are not allowed in this context": "align this key with the keys above it, or quote a value that contains ': '",
	"found character that cannot start any token":    "quote the value: characters such as @ and ` cannot start a plain YAML value",
}

// locateSyntaxError positions a yaml.v3 parse error of chunk.
func locateSyntaxError(chunk []byte, err error) syntaxPos {
	problem, printed := splitYAMLError(err)
	at := syntaxPos{line: 1, message: problem, suggestion: defaultSyntaxHint}
	if h, ok := syntaxHints[problem]; ok {
		at.suggestion = h
	}
	ctx, prob := yamlMarks(chunk, problem)
	if ctx == 0 && printed > 0 {
		// the shifted parse disagreed: convert the printed line the same way
		ctx = printed + 1
		if scannerProblem(problem) {
			ctx = printed
		}
	}
	if ctx == 0 {
		// not from the scanner or parser: the composer's (unknown anchor) or a recovered panic
		if name, ok := strings.CutPrefix(problem, "unknown anchor '"); ok {
			name = strings.TrimSuffix(name, "' referenced")
			if p, found := scanConstructs(chunk).aliases[name]; found {
				at.line, at.column = p.line, p.column
				at.suggestion = fmt.Sprintf("define the anchor &%s before this alias, in the same document", name)
				return at
			}
		}
		at.column = firstColumn(chunk, 1)
		return at
	}
	switch problem {
	case problemFlowSeq, problemFlowMap:
		open, shut, kind := byte('['), "]", "sequence"
		if problem == problemFlowMap {
			open, shut, kind = '{', "}", "mapping"
		}
		at.message = fmt.Sprintf("the flow %s %c started here is not closed (%s)", kind, open, problem)
		at.suggestion = fmt.Sprintf("close it with %s and separate its entries with commas", shut)
		return placeOpener(chunk, at, ctx, prob, open)
	case problemEOF, problemDocInStr:
		at.message = fmt.Sprintf("the quoted string started here is not closed (%s)", problem)
		at.suggestion = "add the closing quote (inside \"...\" escape a quote as \\\", inside '...' write it twice)"
		return placeOpener(chunk, at, ctx, 0, '"')
	case problemSimpleKey:
		at.line = ctx
		at.suggestion = "a key must be followed by ': ' on the same line"
	default:
		at.line = ctx
		if prob > 0 {
			at.line = prob
		}
		if at.line > contentLines(chunk) {
			// the parser hit the end of the document: point at what it interrupted
			return placeOpener(chunk, at, 0, 0, 0)
		}
	}
	at.column = firstColumn(chunk, at.line)
	if line := lineOf(chunk, at.line); bytes.HasPrefix(bytes.TrimLeft(line, " "), []byte("\t")) {
		at.suggestion = "indent with spaces: YAML does not allow tabs in indentation"
	}
	return at
}

// placeOpener reports at the opening bracket or quote the error is about:
// with want '[' or '{' the innermost flow collection of that kind opened on
// line ctx that is still open at line prob; with '"' the quoted string
// opened on line ctx that is not closed; with 0 (end of input) the
// innermost construct still open at the end. Without such a construct it
// reports line ctx (or the last line) at its first non-blank column.
func placeOpener(chunk []byte, at syntaxPos, ctx, prob int, want byte) syntaxPos {
	cs := scanConstructs(chunk).constructs
	var best *construct
	for i := range cs {
		c := &cs[i]
		switch want {
		case '[', '{':
			if c.ch == want && c.line == ctx && (c.closeLine == 0 || c.closeLine >= prob) {
				best = c // later openers on the line are nested inside earlier ones
			}
		case '"':
			if (c.ch == '"' || c.ch == '\'') && c.line == ctx && c.closeLine == 0 && best == nil {
				best = c
			}
		default:
			if c.closeLine == 0 {
				best = c
			}
		}
	}
	if best != nil {
		at.line, at.column = best.line, best.column
		if want == 0 {
			at.message = fmt.Sprintf("the %s started here is not closed (%s)", best.what(), at.message)
			at.suggestion = "close it: the document ends inside it"
		}
		return at
	}
	at.line = ctx
	if at.line <= 0 || at.line > contentLines(chunk) {
		at.line = max(contentLines(chunk), 1)
	}
	at.column = firstColumn(chunk, at.line)
	return at
}

// contentLines is the number of the last line of chunk that holds more
// than blanks.
func contentLines(chunk []byte) int {
	last := 0
	for i, l := range bytes.Split(chunk, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			last = i + 1
		}
	}
	return last
}

// lineOf returns line l (1-based) of chunk without its line break.
func lineOf(chunk []byte, l int) []byte {
	for i := 1; i < l; i++ {
		j := bytes.IndexByte(chunk, '\n')
		if j < 0 {
			return nil
		}
		chunk = chunk[j+1:]
	}
	if j := bytes.IndexByte(chunk, '\n'); j >= 0 {
		chunk = chunk[:j]
	}
	return bytes.TrimSuffix(chunk, []byte("\r"))
}

// firstColumn is the column of the first character of line l (1-based) in
// chunk that is not a space (YAML indents with spaces only, so a tab there
// is itself the problem).
func firstColumn(chunk []byte, l int) int {
	line := lineOf(chunk, l)
	if i := bytes.IndexFunc(line, func(r rune) bool { return r != ' ' }); i >= 0 {
		return i + 1
	}
	return 1
}
