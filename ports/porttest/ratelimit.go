package porttest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/ports"
)

// RateLimiterHarness is one fresh rate limiter under test.
type RateLimiterHarness struct {
	Limiter ports.RateLimiter
	// Advance moves the limiter's time forward by d: a fake clock for an
	// in-process limiter, a real wait for a server that keeps its own time.
	Advance func(d time.Duration)
}

// TestRateLimiter runs the RateLimiter contract. newHarness must return a
// limiter with the given limit whose keys no other test shares.
func TestRateLimiter(t *testing.T, newHarness func(t *testing.T, limit ports.RateLimit) RateLimiterHarness) {
	ctx := context.Background()
	allow := func(t *testing.T, l ports.RateLimiter, key string) (bool, time.Duration) {
		t.Helper()
		ok, retryAfter, err := l.Allow(ctx, key)
		require.NoError(t, err)
		if ok {
			assert.Zero(t, retryAfter, "no wait when allowed")
		}
		return ok, retryAfter
	}

	t.Run("Burst_ThenRefusedWithRetryAfter", func(t *testing.T) {
		h := newHarness(t, ports.RateLimit{Events: 1, Per: time.Minute, Burst: 3})
		for i := range 3 {
			ok, _ := allow(t, h.Limiter, "198.51.100.7")
			require.True(t, ok, "attempt %d of the burst", i+1)
		}
		ok, retryAfter := allow(t, h.Limiter, "198.51.100.7")
		assert.False(t, ok, "past the burst")
		assert.Greater(t, retryAfter, 55*time.Second, "one token comes back per minute")
		assert.LessOrEqual(t, retryAfter, time.Minute)
	})

	t.Run("Refused_AttemptsCostNothing", func(t *testing.T) {
		h := newHarness(t, ports.RateLimit{Events: 10, Per: time.Second, Burst: 1})
		ok, _ := allow(t, h.Limiter, "k")
		require.True(t, ok)
		for range 5 {
			ok, retryAfter := allow(t, h.Limiter, "k")
			require.False(t, ok)
			assert.LessOrEqual(t, retryAfter, 100*time.Millisecond, "refusals do not push the next token further out")
		}
		h.Advance(150 * time.Millisecond)
		ok, _ = allow(t, h.Limiter, "k")
		assert.True(t, ok, "one interval after the last allowed attempt")
	})

	t.Run("RetryAfter_IsLongEnough", func(t *testing.T) {
		h := newHarness(t, ports.RateLimit{Events: 20, Per: time.Second, Burst: 2})
		for range 2 {
			ok, _ := allow(t, h.Limiter, "k")
			require.True(t, ok)
		}
		ok, retryAfter := allow(t, h.Limiter, "k")
		require.False(t, ok)
		require.Greater(t, retryAfter, time.Duration(0))
		assert.LessOrEqual(t, retryAfter, 50*time.Millisecond)
		h.Advance(retryAfter + 10*time.Millisecond)
		ok, _ = allow(t, h.Limiter, "k")
		assert.True(t, ok, "waiting retryAfter is enough")
		ok, _ = allow(t, h.Limiter, "k")
		assert.False(t, ok, "and it bought one attempt")
	})

	t.Run("Idle_KeyStartsAfreshWithAFullBurst", func(t *testing.T) {
		h := newHarness(t, ports.RateLimit{Events: 20, Per: time.Second, Burst: 3})
		for range 3 {
			ok, _ := allow(t, h.Limiter, "k")
			require.True(t, ok)
		}
		h.Advance(250 * time.Millisecond) // more than three intervals
		for i := range 3 {
			ok, _ := allow(t, h.Limiter, "k")
			assert.True(t, ok, "attempt %d of the refilled burst", i+1)
		}
		ok, _ := allow(t, h.Limiter, "k")
		assert.False(t, ok, "the burst is the most a key saves up")
	})

	t.Run("Keys_AreIndependent", func(t *testing.T) {
		h := newHarness(t, ports.RateLimit{Events: 1, Per: time.Minute, Burst: 1})
		for _, key := range []string{"198.51.100.7", "198.51.100.8", "2001:db8:1:2::/64", "{hash}:tag", ""} {
			ok, _ := allow(t, h.Limiter, key)
			assert.True(t, ok, "%q: first attempt", key)
			ok, _ = allow(t, h.Limiter, key)
			assert.False(t, ok, "%q: second attempt", key)
		}
	})

	t.Run("Concurrent_ExactlyTheBurstGoesThrough", func(t *testing.T) {
		h := newHarness(t, ports.RateLimit{Events: 1, Per: time.Minute, Burst: 5})
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := h.Limiter.Allow(ctx, "203.0.113.1")
				assert.NoError(t, err)
				if ok {
					allowed.Add(1)
				}
			}()
		}
		wg.Wait()
		assert.EqualValues(t, 5, allowed.Load())
	})
}
