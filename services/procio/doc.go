// Package procio owns how a procedure call travels as bytes: reading its
// input (inline JSON, - for stdin, @file where the front end allows it),
// writing its result as JSON or YAML, writing its error as {code, message,
// details} JSON, the exit codes of the headless contract, and the
// forwarding socket through which `gitopstui --procedure` on the machine
// that runs `gitopstui serve` reaches the process that owns the store.
//
// Every headless front end goes through Run: `gitopstui --procedure`, SSH
// exec (`ssh HOST procedure NAME ...`) and, on the far side of the socket,
// the forwarding server. The package imports only the standard library,
// model, services/api and sigs.k8s.io/yaml: it knows the contract's bytes,
// not the machinery behind a Caller.
package procio
