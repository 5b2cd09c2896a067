// Package kube owns the services' access to clusters: the per-cluster
// client cache, reachability and node checks, the live probe shown in
// cluster lists, access reviews (SelfSubjectAccessReview) before writes,
// server-side apply, and the mapping of API errors to the platform's codes.
// It registers no procedure.
package kube
