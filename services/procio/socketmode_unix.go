//go:build unix

package procio

import "os"

// restrictSocket makes the socket file owner-only.
func restrictSocket(path string) error { return os.Chmod(path, 0o600) }
