package sshserver

import (
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxTrackedIPs bounds the per-IP limiter table. When it is full, entries
// whose bucket refilled are dropped; when none has, a new address is refused
// until one does: a flood of addresses never resets anyone's limit.
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

// allow takes one token from the bucket of ip's source: the address, or
// for IPv6 its /64, which one host usually holds whole.
func (l *ipRateLimiter) allow(ip string, now time.Time) bool {
	key := rateKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[key]
	if !ok {
		if len(l.m) >= maxTrackedIPs && !l.evictLocked(now) {
			return false
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.m[key] = lim
	}
	return lim.AllowN(now, 1)
}

// evictLocked drops limiters whose bucket is full again (they would allow a
// burst anyway) and reports whether that made room.
func (l *ipRateLimiter) evictLocked(now time.Time) bool {
	for ip, lim := range l.m {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.m, ip)
		}
	}
	return len(l.m) < maxTrackedIPs
}

// rateKey is the unit the limiter counts: an IPv4 address, or an IPv6
// address's /64.
func rateKey(ip string) string {
	a := net.ParseIP(ip)
	if a == nil || a.To4() != nil {
		return ip
	}
	return a.Mask(net.CIDRMask(64, 128)).String() + "/64"
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
