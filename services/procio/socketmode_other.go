//go:build !unix

package procio

// restrictSocket does nothing where files have no unix modes: the socket
// lives in the data dir and inherits its access control, and the server
// refuses every forwarded call there anyway (no peer credentials).
func restrictSocket(string) error { return nil }
