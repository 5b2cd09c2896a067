// Package model owns gitopstui's domain types (clusters, projects,
// environments, repositories, GitOps resources, deployments, audit entries)
// and the typed error codes of the platform API. It imports nothing of the
// project and neither charm nor client-go.
package model
