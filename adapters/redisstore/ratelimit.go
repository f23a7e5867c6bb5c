package redisstore

import (
	"context"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.RateLimiter = (*RateLimiter)(nil)

// DefaultRatePrefix namespaces the limiter's keys; redis_rate adds its own
// "rate:" in front: rate:onestroke:login-rate:<client address>.
const DefaultRatePrefix = "onestroke:login-rate:"

// UserLoginRatePrefix namespaces the per-user login limit's keys
// (rate:onestroke:user-login-rate:<openId>).
const UserLoginRatePrefix = "onestroke:user-login-rate:"

// UserPlatformRatePrefix namespaces the per-user limit of WeChat platform
// calls (rate:onestroke:user-platform-rate:<openId>).
const UserPlatformRatePrefix = "onestroke:user-platform-rate:"

// RateLimiter is a ports.RateLimiter on Redis, shared by every instance of
// the service that uses the same Redis: github.com/go-redis/redis_rate
// (GCRA in one Lua script on one key, timed by the server's clock, so
// instances with skewed clocks agree). One key per client address, which
// expires once its bucket has refilled; a single key per script works
// unchanged on Cluster, whatever slot it hashes to.
type RateLimiter struct {
	limiter   *redis_rate.Limiter
	limit     redis_rate.Limit
	prefix    string
	opTimeout time.Duration
}

// RateLimiterOptions tune a RateLimiter; zero values take the defaults.
type RateLimiterOptions struct {
	Prefix    string        // default DefaultRatePrefix
	OpTimeout time.Duration // default DefaultOpTimeout
}

// NewRateLimiter returns a limiter of limit on client, typically the
// session store's own client (ParseURL).
func NewRateLimiter(client redis.UniversalClient, limit ports.RateLimit, opts RateLimiterOptions) *RateLimiter {
	l := &RateLimiter{
		limiter:   redis_rate.NewLimiter(batched(client)),
		limit:     redis_rate.Limit{Rate: max(limit.Events, 1), Period: limit.Per, Burst: max(limit.Burst, 1)},
		prefix:    opts.Prefix,
		opTimeout: opts.OpTimeout,
	}
	if l.prefix == "" {
		l.prefix = DefaultRatePrefix
	}
	if l.opTimeout <= 0 {
		l.opTimeout = DefaultOpTimeout
	}
	return l
}

// Allow implements ports.RateLimiter with one script call.
func (l *RateLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, l.opTimeout)
	defer cancel()
	res, err := l.limiter.Allow(ctx, l.prefix+key, l.limit)
	if err != nil {
		return false, 0, domain.Wrap(domain.EUNAVAILABLE, err, "The rate limiter's store is unavailable.")
	}
	if res.Allowed > 0 {
		return true, 0, nil
	}
	return false, max(res.RetryAfter, time.Millisecond), nil
}
