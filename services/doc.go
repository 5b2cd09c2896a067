// Package services owns the procedures of the platform API and the one
// Registry that the TUI, the headless --procedure mode and the SSH server all
// call: input decoding and validation, the role check, the audit record, and
// the handlers for the catalog, the Flux lifecycle, the GitOps resources and
// deploy-through-Git. It never imports the UI.
package services
