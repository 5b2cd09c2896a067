package model

import "testing"

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"plain message":                            "plain message",
		"line one\nline\ttwo":                      "line one\nline\ttwo",
		"\x1b[31mred\x1b[0m text":                  "red text",
		"title \x1b]0;pwned\x07done":               "title done",
		"link \x1b]8;;http://x\x1b\\here":          "link here",
		"bell\x07 and back\bspace":                 "bell and backspace",
		"bidi \u202eevil\u202c name":               "bidi evil name",
		"c1 \u009b2Jclear":                         "c1 clear",
		"bad \xff byte":                            "bad \ufffd byte",
		"unterminated \x1b[":                       "unterminated ",
		"erase \x1b[2K\x1b[1Ahidden line repaints": "erase hidden line repaints",
	} {
		if got := CleanText(in); got != want {
			t.Errorf("CleanText(%q) = %q, want %q", in, got, want)
		}
	}
	if e := Errorf(CodeInternal, "remote said: %s", "\x1b[2Jgone"); e.Message != "remote said: gone" {
		t.Fatalf("Errorf keeps escapes: %q", e.Message)
	}
}
