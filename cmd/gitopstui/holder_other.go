//go:build !linux

package main

// lockHolder names the process holding the store's lock; only Linux
// (/proc/locks) tells which one.
func lockHolder(string) string { return "another process" }
