package fluxbundle_test

import (
	"testing"

	"github.com/gitopstui/gitopstui/services/fluxbundle"
)

// BenchmarkLoad parses the embedded bundle (CRDs and controller manifests).
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := fluxbundle.Load(""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObjects copies the objects of a loaded bundle as they are.
func BenchmarkObjects(b *testing.B) {
	bundle := mustLoad(b)
	for b.Loop() {
		if _, err := bundle.Objects(fluxbundle.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObjectsRewrite copies the objects with both rewrites.
func BenchmarkObjectsRewrite(b *testing.B) {
	bundle := mustLoad(b)
	opts := fluxbundle.Options{Namespace: "gitops", Registry: "registry.local:5000/fluxcd"}
	for b.Loop() {
		if _, err := bundle.Objects(opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFromManifests parses a `flux install --export`-sized user file.
func BenchmarkFromManifests(b *testing.B) {
	data, err := fluxbundle.Marshal(mustObjects(b, mustLoad(b), fluxbundle.Options{}))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := fluxbundle.FromManifests(data); err != nil {
			b.Fatal(err)
		}
	}
}
