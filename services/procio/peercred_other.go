//go:build !linux

package procio

import (
	"fmt"
	"net"
	"runtime"
)

// peerUID is only implemented on Linux (SO_PEERCRED). Elsewhere the server
// cannot tell who is at the other end of the socket, so it trusts no one:
// every forwarded call is refused with this explanation.
func peerUID(*net.UnixConn) (int, error) {
	return -1, fmt.Errorf("peer credentials are not supported on %s, so `gitopstui serve` takes no forwarded calls; "+
		"while it runs, call procedures over SSH (ssh HOST procedure NAME ...)", runtime.GOOS)
}
