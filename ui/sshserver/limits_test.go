package sshserver

import (
	"fmt"
	"testing"
	"time"
)

// TestRateLimiterNeverResetsUnderAFlood fills the table with addresses that
// all used their burst, then shows that more addresses neither reset the
// limit of one already throttled nor get in until buckets refill.
func TestRateLimiterNeverResetsUnderAFlood(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newIPRateLimiter(1, 1)
	if !l.allow("192.0.2.1", now) || l.allow("192.0.2.1", now) {
		t.Fatal("burst of one not enforced")
	}
	for i := range maxTrackedIPs - 1 {
		l.allow(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now)
	}
	for i := range 100 {
		if l.allow(fmt.Sprintf("172.16.%d.%d", i>>8, i&255), now) {
			t.Fatalf("new address %d let in while every bucket is empty", i)
		}
	}
	if l.allow("192.0.2.1", now) {
		t.Fatal("the flood reset a throttled address's limit")
	}
	later := now.Add(2 * time.Second)
	if !l.allow("172.16.9.9", later) || !l.allow("192.0.2.1", later) {
		t.Fatal("addresses refused after the buckets refilled")
	}
}

func TestRateLimiterCountsAnIPv6HostOnce(t *testing.T) {
	now := time.Now()
	l := newIPRateLimiter(1, 1)
	if !l.allow("2001:db8:1:2::1", now) {
		t.Fatal("first connection refused")
	}
	if l.allow("2001:db8:1:2::ffff", now) {
		t.Fatal("another address of the same /64 got a fresh bucket")
	}
	if !l.allow("2001:db8:1:3::1", now) {
		t.Fatal("another /64 shares the bucket")
	}
}
