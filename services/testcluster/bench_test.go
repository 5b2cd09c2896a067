package testcluster_test

import (
	"testing"

	"github.com/gitopstui/gitopstui/services/testcluster"
)

// BenchmarkStartStop measures a fresh control plane (etcd + kube-apiserver, ready to
// serve) and its teardown.
func BenchmarkStartStop(b *testing.B) {
	for b.Loop() {
		c := testcluster.Start(b)
		if err := c.Stop(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRestartAPIServer measures stopping kube-apiserver and having it ready again
// over the same etcd data.
func BenchmarkRestartAPIServer(b *testing.B) {
	c := shared.Get(b)
	for b.Loop() {
		c.Restart(b)
	}
}
