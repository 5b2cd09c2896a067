package api

import (
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
)

func TestDisplayNamesAreNormalisedAndVisible(t *testing.T) {
	for _, bad := range []string{"shop\u200b", "shop\u202eevil", "a\u2066b", "x\u00ady", "bad\xffutf8", "tab\there", " padded"} {
		in := CreateProjectInput{Name: bad}
		fe := model.FieldErrors{}
		in.Validate(fe)
		if _, ok := fe["name"]; !ok {
			t.Errorf("%q accepted", bad)
		}
	}
	in := CreateProjectInput{Name: "Cafe\u0301"}
	fe := model.FieldErrors{}
	in.Validate(fe)
	if len(fe) != 0 || in.Name != "Caf\u00e9" {
		t.Fatalf("NFC: %q %v", in.Name, fe)
	}
	fe = model.FieldErrors{}
	(&CreateProjectInput{Name: "shop\u200b"}).Validate(fe)
	if !strings.Contains(fe["name"], "U+200B") {
		t.Fatalf("the message does not name the character: %v", fe)
	}
}
