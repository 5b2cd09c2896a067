// Package e2e owns gitopstui's end-to-end tests: the whole GitOps loop run against the real
// Flux source-controller and kustomize-controller (built from the Go module proxy by
// testdata/fluxcontrollers/build.sh and started as local processes), the real helm-controller
// for HelmReleases (testdata/helmcontroller/build.sh; a loopback Helm repository serves the
// charts, and waiting is disabled as no kubelet runs pods), a real kube-apiserver and
// etcd (services/testcluster) and a real Git server on 127.0.0.1 with basic auth
// (services/gitx/gittest). A deploy in gitopstui becomes a commit, Flux applies it, the
// cluster changes, and the procedures say so.
//
// The package has no non-test code besides this comment; `make e2e` runs it.
package e2e
