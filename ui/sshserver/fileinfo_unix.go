//go:build unix

package sshserver

import (
	"os"
	"syscall"
)

// hasInodes: unix file systems report inode numbers.
const hasInodes = true

// hasFileModes: unix files have an owner and permission bits that say who
// may write them, so StrictModes-style checks apply.
const hasFileModes = true

// inode is fi's inode number, so that a file replaced by another of the
// same size and modification time is still noticed.
func inode(fi os.FileInfo) uint64 {
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Ino)
	}
	return 0
}

// owner is the uid that owns fi.
func owner(fi os.FileInfo) (uint32, bool) {
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		return sys.Uid, true
	}
	return 0, false
}

// serverUID is the effective uid of this process.
func serverUID() uint32 { return uint32(os.Geteuid()) }
