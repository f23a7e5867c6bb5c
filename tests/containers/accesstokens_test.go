//go:build integration

package containers

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/redisstore"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
	"github.com/onestroke/onestroke/tests/testenv"
)

// runAccessTokenContract runs the AccessTokenStore contract on client,
// each test under its own key prefix: isolation without a flush. On a
// Cluster it also checks that the store's keys share one slot.
func runAccessTokenContract(t *testing.T, client redis.UniversalClient, name string) {
	t.Run("AccessTokenStore", func(t *testing.T) {
		porttest.TestAccessTokenStore(t, func(t *testing.T, clock *porttest.Clock) porttest.AccessTokenStoreHarness {
			st := redisstore.NewAccessTokens(client, redisstore.AccessTokenOptions{Prefix: unique(name)})
			// Redis keeps its own time for the lease and the token's end.
			return porttest.AccessTokenStoreHarness{Store: st, Advance: func(d time.Duration) { clock.Advance(d); time.Sleep(d) }}
		})
	})
	cc, ok := client.(*redis.ClusterClient)
	if !ok {
		return
	}
	t.Run("AccessTokenKeysShareOneSlot", func(t *testing.T) {
		ctx := context.Background()
		st := redisstore.NewAccessTokens(client, redisstore.AccessTokenOptions{Prefix: unique(name)})
		now := time.Now()
		ok, err := st.Lease(ctx, "holder", time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		_, _, err = st.TakeForcedRefresh(ctx, now)
		require.NoError(t, err)
		ok, err = st.Complete(ctx, "holder", ports.StoredAccessToken{Token: "AT-cluster", Expires: now.Add(time.Hour)}, now)
		require.NoError(t, err, "the script uses the lease's and the token's keys together")
		require.True(t, ok)
		slots := map[int64][]string{}
		for _, k := range st.Keys() {
			slot, err := cc.ClusterKeySlot(ctx, k).Result()
			require.NoError(t, err)
			slots[slot] = append(slots[slot], k)
		}
		assert.Len(t, slots, 1, "every key of the store in one slot: %v", slots)
	})
}

func TestRedis_AccessTokenStoreContract(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	client, _ := tokenClient(t, srv.RedisURL())
	runAccessTokenContract(t, client, "at-test")
}

func TestRedisSentinel_AccessTokenStoreContract(t *testing.T) {
	client, mode := tokenClient(t, startSentinel(t, "sentinel-pw"))
	require.Equal(t, redisstore.ModeSentinel, mode)
	runAccessTokenContract(t, client, "at-sentinel")
}

func TestRedisCluster_AccessTokenStoreContractAndTwoInstances(t *testing.T) {
	url := startCluster(t)
	client, mode := tokenClient(t, url)
	require.Equal(t, redisstore.ModeCluster, mode)
	runAccessTokenContract(t, client, "at-cluster")
	t.Run("TwoInstances", func(t *testing.T) { twoAccessTokenInstances(t, url) })
}

// stableToken is a fake ports.AccessTokenSource shared by the instances
// (one WeChat): the same token until 5 minutes before its end, a new one
// on force_refresh; each call takes a little while, so that concurrent
// callers really overlap.
type stableToken struct {
	mu              sync.Mutex
	gen             int
	tok             domain.AccessToken
	end             time.Time
	fetches, forced atomic.Int32
}

func (f *stableToken) StableToken(ctx context.Context, force bool) (domain.AccessToken, time.Duration, error) {
	if force {
		f.forced.Add(1)
	} else {
		f.fetches.Add(1)
	}
	time.Sleep(30 * time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if f.tok == "" || force || f.end.Sub(now) < 5*time.Minute {
		f.gen++
		f.tok = domain.AccessToken(fmt.Sprintf("AT-%d-%s", f.gen, unique("secret")))
		f.end = now.Add(2 * time.Hour)
	}
	return f.tok, f.end.Sub(now), nil
}

// twoAccessTokenInstances is the test: two AccessTokenServices,
// each with a client of its own (two instances), on one Redis, both cold.
// 100 concurrent Token calls split between them make exactly one
// stable_token call; then both see the same token rejected (50 calls)
// and exactly one forced refresh happens.
func twoAccessTokenInstances(t *testing.T, url string) {
	ctx := context.Background()
	wx := &stableToken{}
	prefix := unique("at-two")
	var instances []*app.AccessTokenService
	for range 2 {
		rdb, _ := tokenClient(t, url)
		instances = append(instances, &app.AccessTokenService{
			Store:  redisstore.NewAccessTokens(rdb, redisstore.AccessTokenOptions{Prefix: prefix}),
			Source: wx,
		})
	}

	split := func(n int, call func(s *app.AccessTokenService) (domain.AccessToken, error)) map[string]int {
		var wg sync.WaitGroup
		var mu sync.Mutex
		tokens := map[string]int{}
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				tok, err := call(instances[i%2])
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				tokens[tok.Reveal()]++
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		return tokens
	}

	tokens := split(100, func(s *app.AccessTokenService) (domain.AccessToken, error) { return s.Token(ctx) })
	require.Len(t, tokens, 1, "every call got the one token")
	assert.EqualValues(t, 1, wx.fetches.Load(), "exactly one stable_token call for both instances")
	var first domain.AccessToken
	for tok := range tokens {
		first = domain.AccessToken(tok)
	}

	tokens = split(50, func(s *app.AccessTokenService) (domain.AccessToken, error) { return s.Rejected(ctx, first) })
	require.Len(t, tokens, 1, "every rejection got the one replacement")
	assert.NotContains(t, tokens, first.Reveal())
	assert.EqualValues(t, 1, wx.forced.Load(), "exactly one forced refresh for both instances")
	assert.EqualValues(t, 1, wx.fetches.Load(), "and no further fetch")
	t.Logf("two instances, 100 Token + 50 Rejected calls: %d stable_token fetches, %d forced refreshes", wx.fetches.Load(), wx.forced.Load())
}

func TestRedis_TwoAccessTokenServicesMakeOneFetchAndOneForcedRefresh(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	twoAccessTokenInstances(t, srv.RedisURL())
}

// A Redis that stops answering makes every call of the store fail with
// EUNAVAILABLE within about the op timeout, and Token too once the
// process's copy has aged; they work again when it answers.
func TestRedisPaused_AccessTokenStoreFailsCleanlyAndRecovers(t *testing.T) {
	const password = "paused-Redis-pw"
	srv := testenv.StartRedis(t, testenv.Options{Args: []string{"--requirepass", password}})
	rdb, _ := tokenClient(t, "redis://:"+password+"@"+srv.HostPort+"/0")
	ctx := context.Background()
	st := redisstore.NewAccessTokens(rdb, redisstore.AccessTokenOptions{Prefix: unique("at-paused")})
	svc := &app.AccessTokenService{Store: st, Source: &stableToken{}, CacheFor: time.Millisecond, Margin: 2*time.Hour - time.Second}
	_, err := svc.Token(ctx)
	require.NoError(t, err)

	unpause := pauseRedis(t, srv)
	time.Sleep(1100 * time.Millisecond) // past the margin: the process's copy no longer serves

	now := time.Now()
	assertEachUnavailable(t, password, map[string]func() error{
		"Current": func() error { _, err := st.Current(ctx); return err },
		"Lease":   func() error { _, err := st.Lease(ctx, "holder", time.Second); return err },
		"Complete": func() error {
			_, err := st.Complete(ctx, "holder", ports.StoredAccessToken{Token: "AT-x", Expires: now.Add(time.Hour)}, now)
			return err
		},
		"Release":           func() error { return st.Release(ctx, "holder") },
		"TakeForcedRefresh": func() error { _, _, err := st.TakeForcedRefresh(ctx, now); return err },
		"Token":             func() error { _, err := svc.Token(ctx); return err },
	})

	unpause()
	require.Eventually(t, func() bool {
		_, err := st.Current(ctx)
		return err == nil
	}, 10*time.Second, 100*time.Millisecond, "the store recovers by itself when Redis returns")
}
