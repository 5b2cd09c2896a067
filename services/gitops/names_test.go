package gitops_test

import (
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/services/gitops"
)

// TestFluxName: a repository's GitRepository name is an RFC 1123 label,
// bounded and stable, and two long names do not collide.
func TestFluxName(t *testing.T) {
	for in, want := range map[string]string{
		"acme/shop-config":  "acme-shop-config",
		"Acme/Shop_Config.": "acme-shop-config",
		"a//b":              "a-b",
		"///":               "repo",
	} {
		if got := gitops.FluxName(in); got != want {
			t.Errorf("FluxName(%q) = %q, want %q", in, got, want)
		}
	}
	long := gitops.FluxName(strings.Repeat("x", 50) + "/" + strings.Repeat("y", 50))
	if len(long) > 63 || long != gitops.FluxName(strings.Repeat("x", 50)+"/"+strings.Repeat("y", 50)) {
		t.Errorf("long name %q (%d) not bounded or not stable", long, len(long))
	}
	if long == gitops.FluxName(strings.Repeat("x", 50)+"/"+strings.Repeat("y", 49)+"z") {
		t.Error("two long names collide")
	}
}

// TestFluxSourceName: the GitRepository of a branch other than the default
// one has a name of its own that is a bounded, stable RFC 1123 label.
func TestFluxSourceName(t *testing.T) {
	if got := gitops.FluxSourceName("acme/shop", "develop"); got != "acme-shop-develop" {
		t.Fatalf("develop: %s", got)
	}
	names := map[string]string{}
	for _, br := range []string{"release/1.x", "release-1-x", "Release-1-x", "feature/" + strings.Repeat("a", 80), "feature/" + strings.Repeat("a", 79) + "b", "_"} {
		n := gitops.FluxSourceName("acme/shop", br)
		if len(n) > 63 || n != strings.ToLower(n) || strings.HasPrefix(n, "-") || strings.HasSuffix(n, "-") || strings.ContainsAny(n, "/._") {
			t.Errorf("%q: %q is not an RFC 1123 label", br, n)
		}
		if other, dup := names[n]; dup {
			t.Errorf("%q and %q share %s", br, other, n)
		}
		names[n] = br
		if n != gitops.FluxSourceName("acme/shop", br) {
			t.Errorf("%q: name not stable", br)
		}
	}
	if n := gitops.FluxSourceName("acme/shop", "release/1.x"); !strings.HasPrefix(n, "acme-shop-release-1-x-") {
		t.Errorf("release/1.x: %s", n)
	}
}
