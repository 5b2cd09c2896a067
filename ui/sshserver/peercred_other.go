//go:build !linux

package sshserver

import (
	"errors"
	"net"
)

// peerUID is only implemented on Linux (SO_PEERCRED); elsewhere forwarded
// calls are refused.
func peerUID(*net.UnixConn) (int, error) {
	return -1, errors.New("peer credentials are not supported on this platform")
}
