package memstore

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.RateLimiter = (*RateLimiter)(nil)

// DefaultMaxRateKeys bounds the buckets a RateLimiter keeps: about 100
// bytes each, so some 10 MiB at most.
const DefaultMaxRateKeys = 100_000

// RateLimiter is a ports.RateLimiter in process memory: one token bucket
// (golang.org/x/time/rate) per key, for this instance alone. Memory stays
// bounded: a bucket that has refilled is the same as none, so a periodic
// sweep drops those, and past maxKeys buckets a random one makes room (the
// address it belonged to starts afresh: a spray of addresses weakens the
// limit a little instead of growing the heap).
type RateLimiter struct {
	limit   ports.RateLimit
	every   rate.Limit
	now     ports.Clock
	maxKeys int

	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	nextSweep time.Time
}

// NewRateLimiter returns a limiter of limit that tells time with now (nil
// means time.Now) and keeps at most maxKeys buckets (0 means
// DefaultMaxRateKeys).
func NewRateLimiter(limit ports.RateLimit, now ports.Clock, maxKeys int) *RateLimiter {
	if now == nil {
		now = time.Now
	}
	if maxKeys <= 0 {
		maxKeys = DefaultMaxRateKeys
	}
	limit.Burst = max(limit.Burst, 1)
	return &RateLimiter{limit: limit, every: rate.Every(limit.Interval()), now: now, maxKeys: maxKeys, buckets: map[string]*rate.Limiter{}}
}

// Allow implements ports.RateLimiter.
func (l *RateLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return false, 0, domain.Wrap(domain.EUNAVAILABLE, err, "Rate limit check was cancelled.")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !now.Before(l.nextSweep) {
		l.sweepLocked(now)
		// A bucket is full again a burst's worth of intervals after its last
		// use: sweeping more often would find nothing new.
		l.nextSweep = now.Add(max(time.Duration(l.limit.Burst)*l.limit.Interval(), time.Second))
	}
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.maxKeys {
			for k := range l.buckets { // map order is random
				delete(l.buckets, k)
				break
			}
		}
		b = rate.NewLimiter(l.every, l.limit.Burst)
		l.buckets[key] = b
	}
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now) // a refused attempt costs nothing
		return false, d, nil
	}
	return true, 0, nil
}

func (l *RateLimiter) sweepLocked(now time.Time) {
	full := float64(l.limit.Burst)
	for k, b := range l.buckets {
		if b.TokensAt(now) >= full {
			delete(l.buckets, k)
		}
	}
}

// Len returns the number of buckets kept; for tests.
func (l *RateLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
