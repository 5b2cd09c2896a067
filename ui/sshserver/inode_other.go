//go:build !unix

package sshserver

import "os"

// hasInodes: this platform's os.FileInfo carries no inode number.
const hasInodes = false

// inode is always 0 here: changes to the authorized keys file are noticed by
// its size and modification time alone.
func inode(os.FileInfo) uint64 { return 0 }
