package validate

import (
	"bytes"
	"strings"
)

// construct is a flow collection or quoted string of a document: where it
// opens and the line where it closes.
type construct struct {
	ch           byte // '[', '{', '"' or '\''
	line, column int  // 1-based; columns count characters, as yaml.v3's do
	closeLine    int  // 0 while it is not closed
}

func (c *construct) what() string {
	switch c.ch {
	case '[':
		return "flow sequence ["
	case '{':
		return "flow mapping {"
	}
	return "quoted string"
}

// constructs is what scanConstructs finds in a document.
type constructs struct {
	constructs []construct         // in the order they open
	aliases    map[string]position // the first alias (*name) of each anchor name
}

// scanConstructs reads a document the way YAML's scanner tokenizes it, as
// far as brackets, quotes, comments and block scalars go: it finds where
// flow collections and quoted strings open and close, and where aliases
// are. It is used only on the error path, on a line the parser named, to
// give the column of the construct the parser's error is about. Linear in
// the input.
func scanConstructs(chunk []byte) constructs {
	s := lexer{out: constructs{aliases: map[string]position{}}, quote: -1, blockIndent: -1}
	for off, line := 0, 1; off < len(chunk); line++ {
		end := bytes.IndexByte(chunk[off:], '\n')
		next := len(chunk)
		if end >= 0 {
			next = off + end + 1
		} else {
			end = len(chunk) - off
		}
		s.line(bytes.TrimSuffix(chunk[off:off+end], []byte("\r")), line)
		off = next
	}
	return s.out
}

type lexer struct {
	out         constructs
	flow        []int // indexes of the open flow collections in out.constructs
	quote       int   // index of the open quoted string, or -1
	blockIndent int   // while >= 0, lines indented more are block scalar content
	nodeStart   bool  // the next character may start a node
	text        []byte
	i, col      int // byte offset in text and its 1-based character column
	lineNo      int
}

func (s *lexer) advance(n int) {
	for ; n > 0 && s.i < len(s.text); n-- {
		s.i++
		if s.i >= len(s.text) || s.text[s.i]&0xC0 != 0x80 {
			s.col++
		}
	}
}

func (s *lexer) open(ch byte) int {
	s.out.constructs = append(s.out.constructs, construct{ch: ch, line: s.lineNo, column: s.col})
	return len(s.out.constructs) - 1
}

func isBlankByte(c byte) bool { return c == ' ' || c == '\t' }

func (s *lexer) line(text []byte, lineNo int) {
	indent := len(text) - len(bytes.TrimLeft(text, " "))
	if s.blockIndent >= 0 {
		if len(bytes.TrimSpace(text)) == 0 || indent > s.blockIndent {
			return
		}
		s.blockIndent = -1
	}
	s.text, s.i, s.col, s.lineNo = text, 0, 1, lineNo
	if len(s.flow) == 0 && s.quote < 0 {
		s.nodeStart = true
		if isDocMarker(text) {
			s.advance(3)
		}
	}
	for s.i < len(s.text) {
		if s.quote >= 0 {
			s.inQuote()
			continue
		}
		s.token(indent)
	}
}

func isDocMarker(text []byte) bool {
	return (bytes.HasPrefix(text, []byte("---")) || bytes.HasPrefix(text, []byte("..."))) &&
		(len(text) == 3 || isBlankByte(text[3]))
}

// inQuote scans the inside of a quoted string up to its closing quote.
func (s *lexer) inQuote() {
	q := s.out.constructs[s.quote].ch
	for s.i < len(s.text) {
		c := s.text[s.i]
		switch {
		case q == '"' && c == '\\':
			s.advance(2)
		case c == q && q == '\'' && s.i+1 < len(s.text) && s.text[s.i+1] == '\'':
			s.advance(2)
		case c == q:
			s.out.constructs[s.quote].closeLine = s.lineNo
			s.quote = -1
			s.nodeStart = false
			s.advance(1)
			return
		default:
			s.advance(1)
		}
	}
}

// token handles the character at s.i outside quoted strings.
func (s *lexer) token(indent int) {
	c := s.text[s.i]
	inFlow := len(s.flow) > 0
	sepNext := s.i+1 >= len(s.text) || isBlankByte(s.text[s.i+1])
	switch {
	case isBlankByte(c):
		s.advance(1)
	case c == '#' && (s.i == 0 || isBlankByte(s.text[s.i-1])):
		s.i = len(s.text) // comment
	case c == '"' || c == '\'':
		if s.nodeStart {
			s.quote = s.open(c)
		} else {
			s.nodeStart = false
		}
		s.advance(1)
	case c == '[' || c == '{':
		if inFlow || s.nodeStart {
			s.flow = append(s.flow, s.open(c))
			s.nodeStart = true
		}
		s.advance(1)
	case (c == ']' || c == '}') && inFlow:
		s.out.constructs[s.flow[len(s.flow)-1]].closeLine = s.lineNo
		s.flow = s.flow[:len(s.flow)-1]
		s.nodeStart = false
		s.advance(1)
	case c == ',' && inFlow:
		s.nodeStart = true
		s.advance(1)
	case c == ':' && (sepNext || inFlow), (c == '-' || c == '?') && s.nodeStart && sepNext:
		s.nodeStart = true
		s.advance(1)
	case (c == '|' || c == '>') && s.nodeStart && !inFlow:
		s.blockIndent = indent // the rest of the line is the block scalar header
		s.i = len(s.text)
	case (c == '&' || c == '!' || c == '*') && s.nodeStart:
		j := s.i + 1
		for j < len(s.text) && !isBlankByte(s.text[j]) && !(inFlow && strings.IndexByte(",[]{}", s.text[j]) >= 0) {
			j++
		}
		if c == '*' {
			if name := string(s.text[s.i+1 : j]); name != "" {
				if _, seen := s.out.aliases[name]; !seen {
					s.out.aliases[name] = position{s.lineNo, s.col}
				}
			}
			s.nodeStart = false
		}
		s.advance(j - s.i)
	default:
		s.nodeStart = false
		s.advance(1)
	}
}
