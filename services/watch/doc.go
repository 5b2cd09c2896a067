// Package watch owns the live view of the clusters: one informer set per
// cluster feeds the stored status of managed Flux objects and the
// correlation of applied revisions with deployments (watch.go), the
// timelines of deployments' commits (timeline.go), helm-controller's
// verdict on the deployments of environments whose Kustomization applies
// HelmReleases (helmfollow.go) and the fleet of every
// cluster's Flux objects with each cluster's reachability (fleet.go); the
// Hub fans what changed out to subscribers.
package watch
