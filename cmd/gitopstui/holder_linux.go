package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/gitopstui/gitopstui/model"
)

// lockHolder names the process holding the lock on the file at path, from
// /proc/locks (bbolt locks its file with flock): its pid and command line.
// A lock on the file's device and inode wins; the inode alone is the
// fallback, since some file systems (btrfs subvolumes, overlays) report
// another device to stat than to /proc/locks.
func lockHolder(path string) string {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return "another process"
	}
	dev := uint64(st.Dev) // uint32 on some platforms
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	exact := fmt.Sprintf("%02x:%02x:%d", major, minor, st.Ino)
	inode := fmt.Sprintf(":%d", st.Ino)
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return "another process"
	}
	found := 0
	for l := range strings.Lines(string(b)) {
		// "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1575 0 EOF"; "->" marks a waiter.
		fields := strings.Fields(l)
		if len(fields) < 6 || fields[1] == "->" || !strings.HasSuffix(fields[5], inode) {
			continue
		}
		pid, err := strconv.Atoi(fields[4])
		if err != nil || pid <= 0 {
			continue
		}
		if fields[5] == exact {
			return fmt.Sprintf("pid %d (%s)", pid, commandLine(pid))
		}
		if found == 0 {
			found = pid
		}
	}
	if found > 0 {
		return fmt.Sprintf("pid %d (%s)", found, commandLine(found))
	}
	return "another process"
}

// commandLine is pid's command line, shortened and safe to print.
func commandLine(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(b) == 0 {
		return "command unknown"
	}
	cmd := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
	return shorten(model.CleanText(cmd), 160)
}
