//go:build integration

package containers

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/redisstore"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
	"github.com/onestroke/onestroke/tests/testenv"
)

// redisLimiter opens a limiter with its own client on url, as another
// instance of the service would.
func redisLimiter(t *testing.T, url string, limit ports.RateLimit, prefix string) *redisstore.RateLimiter {
	t.Helper()
	client, _, err := redisstore.ParseURL(url, 0)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	return redisstore.NewRateLimiter(client, limit, redisstore.RateLimiterOptions{Prefix: prefix})
}

func TestRedisRateLimiterContract(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	porttest.TestRateLimiter(t, func(t *testing.T, limit ports.RateLimit) porttest.RateLimiterHarness {
		return porttest.RateLimiterHarness{Limiter: redisLimiter(t, srv.RedisURL(), limit, unique("rl:")+":"), Advance: time.Sleep}
	})
}

func TestRedisRateLimiter_InstancesShareOneBudget(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	limit, prefix := ports.RateLimit{Events: 1, Per: time.Minute, Burst: 6}, unique("shared:")+":"
	instances := []*redisstore.RateLimiter{
		redisLimiter(t, srv.RedisURL(), limit, prefix),
		redisLimiter(t, srv.RedisURL(), limit, prefix),
		redisLimiter(t, srv.RedisURL(), limit, prefix),
	}
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := instances[i%len(instances)].Allow(context.Background(), "203.0.113.9")
			assert.NoError(t, err)
			if ok {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 6, allowed.Load(), "the burst is the deployment's, not each instance's")
}

func TestRedisRateLimiter_RedisDownIsUnavailable(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	l := redisLimiter(t, srv.RedisURL(), ports.RateLimit{Events: 1, Per: time.Minute, Burst: 1}, unique("down:")+":")
	ok, _, err := l.Allow(context.Background(), "k")
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, srv.Container.Stop(context.Background(), nil))
	start := time.Now()
	_, _, err = l.Allow(context.Background(), "k")
	assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err))
	assert.Less(t, time.Since(start), 3*time.Second, "within the op timeout, not a hang")
}

func TestRedisCluster_RateLimiterContract(t *testing.T) {
	url := startCluster(t)
	porttest.TestRateLimiter(t, func(t *testing.T, limit ports.RateLimit) porttest.RateLimiterHarness {
		return porttest.RateLimiterHarness{Limiter: redisLimiter(t, url, limit, unique("crl:")+":"), Advance: time.Sleep}
	})
}
