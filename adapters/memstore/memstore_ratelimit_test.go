package memstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
)

func TestRateLimiterContract(t *testing.T) {
	porttest.TestRateLimiter(t, func(t *testing.T, limit ports.RateLimit) porttest.RateLimiterHarness {
		clock := porttest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		return porttest.RateLimiterHarness{Limiter: memstore.NewRateLimiter(limit, clock.Now, 0), Advance: clock.Advance}
	})
}

func TestRateLimiter_IdleKeysAreDropped(t *testing.T) {
	clock := porttest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := memstore.NewRateLimiter(ports.RateLimit{Events: 60, Per: time.Minute, Burst: 20}, clock.Now, 0)
	ctx := context.Background()
	for i := range 1000 {
		_, _, err := l.Allow(ctx, fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		require.NoError(t, err)
	}
	assert.Equal(t, 1000, l.Len())
	clock.Advance(21 * time.Second) // every bucket has refilled: the same as none
	_, _, err := l.Allow(ctx, "192.0.2.1")
	require.NoError(t, err)
	assert.Equal(t, 1, l.Len(), "idle keys do not accumulate")
}

func TestRateLimiter_KeysAreBoundedUnderASpray(t *testing.T) {
	clock := porttest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := memstore.NewRateLimiter(ports.RateLimit{Events: 60, Per: time.Minute, Burst: 20}, clock.Now, 100)
	ctx := context.Background()
	for i := range 10_000 { // a new address every time, faster than buckets refill
		ok, _, err := l.Allow(ctx, fmt.Sprintf("2001:db8:%x::/64", i))
		require.NoError(t, err)
		require.True(t, ok)
	}
	assert.LessOrEqual(t, l.Len(), 100)
}

func TestRateLimiter_CancelledContextIsUnavailable(t *testing.T) {
	l := memstore.NewRateLimiter(ports.RateLimit{Events: 1, Per: time.Second, Burst: 1}, nil, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := l.Allow(ctx, "k")
	assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err))
}
