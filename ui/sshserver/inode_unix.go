//go:build unix

package sshserver

import (
	"os"
	"syscall"
)

// hasInodes: unix file systems report inode numbers.
const hasInodes = true

// inode is fi's inode number, so that a file replaced by another of the
// same size and modification time is still noticed.
func inode(fi os.FileInfo) uint64 {
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Ino)
	}
	return 0
}
