// Package services wires the service layer: it builds the sub-packages that
// own the procedures (catalog, flux, gitops, deploy) over their explicit
// dependencies (the store, the clock, the cluster clients in kube, the status
// watch, the Git cache) and binds every handler to one gate.Registry, which
// the TUI, the headless --procedure mode, SSH exec and the forwarding socket
// all call. Its tests run the procedures end to end through that registry.
// It never imports the UI.
package services
