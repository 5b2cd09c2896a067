package sshserver

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
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

// TestConfigLimitsValidated: a limit that would switch a protection off is
// refused by New, whoever builds the server; zero values take defaults.
func TestConfigLimitsValidated(t *testing.T) {
	reg := emptyRegistry{}
	for name, c := range map[string]Config{
		"NaN rate":          {RatePerIP: math.NaN()},
		"infinite rate":     {RatePerIP: math.Inf(1)},
		"negative rate":     {RatePerIP: -1},
		"rate above max":    {RatePerIP: MaxRatePerIP * 2},
		"negative burst":    {RateBurst: -1},
		"negative sessions": {MaxSessions: -1},
		"too many sessions": {MaxSessions: MaxSessionsLimit + 1},
		"negative idle":     {IdleTimeout: -time.Second},
		"negative max":      {MaxSessionTime: -time.Second},
		"negative check":    {KeysCheckInterval: -time.Second},
	} {
		c.DataDir, c.Registry = t.TempDir(), reg
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), "sshserver: ") {
			t.Errorf("%s: New = %v, want an error", name, err)
		}
	}
	s, err := New(Config{DataDir: t.TempDir(), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.RatePerIP != DefaultRatePerIP || s.cfg.MaxSessions != DefaultMaxSessions || s.cfg.KeysCheckInterval != DefaultKeysCheckInterval {
		t.Errorf("defaults: %+v", s.cfg)
	}
}

// emptyRegistry has no procedures.
type emptyRegistry struct{}

func (emptyRegistry) Call(context.Context, string, []byte) (any, error) {
	return nil, model.Errorf(model.CodeNotFound, "no procedures")
}
func (emptyRegistry) Procedures() []api.Info { return nil }
