// Package gate owns the one way into the procedures: the Registry that maps
// every procedure name to its handler, decodes and checks the input strictly
// against the contract (services/api), checks the caller's role, runs the
// handler, writes the audit record of every mutation and notes each
// successful one (procedure, kinds, ids) to the notifier. Front ends (TUI,
// headless, SSH exec, the forwarding socket) call only Registry.Call.
package gate
