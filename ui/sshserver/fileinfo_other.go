//go:build !unix

package sshserver

import "os"

// hasInodes: this platform's os.FileInfo carries no inode number.
const hasInodes = false

// hasFileModes: this platform's files have no unix owner and permission
// bits; the StrictModes-style checks are skipped with a logged warning.
const hasFileModes = false

// inode is always 0 here: changes to the authorized keys file are noticed by
// its size and modification time alone.
func inode(os.FileInfo) uint64 { return 0 }

// owner is unknown here.
func owner(os.FileInfo) (uint32, bool) { return 0, false }

// serverUID is unknown here (and unused: hasFileModes is false).
func serverUID() uint32 { return 0 }
