// Package store owns gitopstui's persistence: one bbolt file holding the
// catalog (clusters, projects, environments, repositories), the GitOps
// resources, the deployment history and the audit log, with secondary
// indexes for the list filters and forward schema migrations.
package store
