package sshserver

import (
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxTrackedIPs bounds the per-IP limiter table; idle entries are dropped
// first when it is full.
const maxTrackedIPs = 4096

// ipRateLimiter allows each remote IP a token-bucket rate of new connections.
type ipRateLimiter struct {
	limit rate.Limit
	burst int

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

func newIPRateLimiter(perSecond float64, burst int) *ipRateLimiter {
	if burst < 1 {
		burst = 1
	}
	return &ipRateLimiter{limit: rate.Limit(perSecond), burst: burst, m: map[string]*rate.Limiter{}}
}

// allow takes one token from ip's bucket.
func (l *ipRateLimiter) allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[ip]
	if !ok {
		if len(l.m) >= maxTrackedIPs {
			l.evictLocked(now)
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.m[ip] = lim
	}
	return lim.AllowN(now, 1)
}

// evictLocked drops limiters whose bucket is full again (they would allow a
// burst anyway); when none is, it drops all, which only ever loosens limits.
func (l *ipRateLimiter) evictLocked(now time.Time) {
	for ip, lim := range l.m {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.m, ip)
		}
	}
	if len(l.m) >= maxTrackedIPs {
		clear(l.m)
	}
}

// slots is a counting semaphore that never blocks.
type slots struct {
	ch chan struct{}
}

func newSlots(n int) *slots { return &slots{ch: make(chan struct{}, n)} }

// take reserves a slot and reports whether one was free.
func (s *slots) take() bool {
	select {
	case s.ch <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s *slots) put()       { <-s.ch }
func (s *slots) inUse() int { return len(s.ch) }

// remoteIP is the IP of addr without its port.
func remoteIP(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}

// countedConn gives its slot back once, when it is closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
