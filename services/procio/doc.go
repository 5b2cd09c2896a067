// Package procio owns how a procedure call travels as bytes: reading its
// input (inline JSON, - for stdin, @file where the front end allows it),
// writing its result as JSON or YAML, writing its error as {code, message,
// details} JSON, the exit codes of the headless contract, and the
// forwarding socket of the process that owns a data dir's store (`gitopstui
// serve` or the TUI): `gitopstui --procedure` reaches it there (Forward),
// doctor asks who it is (Ping), and a second TUI runs through it (Client)
// and follows its status events (Subscribe). It also names the log keys
// the front ends share.
//
// Every headless front end goes through Run: `gitopstui --procedure`, SSH
// exec (`ssh HOST procedure NAME ...`) and, on the far side of the socket,
// the forwarding server. The package imports only the standard library,
// model, services/api and sigs.k8s.io/yaml: it knows the contract's bytes,
// not the machinery behind a Caller.
package procio
