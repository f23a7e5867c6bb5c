//go:build integration

package containers

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/redisstore"
	"github.com/onestroke/onestroke/adapters/sessioncache"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports/porttest"
	"github.com/onestroke/onestroke/tests/testenv"
)

// cachedInstance is one service instance's stores: its own Redis client,
// and the session cache in front of them on the shared channel.
type cachedInstance struct {
	store  *redisstore.Store
	cache  *sessioncache.Cache
	legacy *sessioncache.Sessions
	tokens *sessioncache.Tokens
}

func newCachedInstance(t *testing.T, url, prefix, channel string, opts sessioncache.Options) *cachedInstance {
	t.Helper()
	store := redisStore(t, url, redisstore.Options{Prefix: prefix + ":"})
	cache := sessioncache.New(sessioncache.NewRedisInvalidations(store.Client(), channel, 0, 0), opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { cache.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	require.Eventually(t, func() bool { return cache.Stats().Up }, 5*time.Second, time.Millisecond, "subscribed")
	return &cachedInstance{store: store, cache: cache, legacy: cache.Sessions(store),
		tokens: cache.Tokens(redisstore.NewTokenSessions(store.Client(), redisstore.TokenOptions{Prefix: prefix}))}
}

func TestRedis_SessionCacheKeepsTheContracts(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	t.Run("SessionStore", func(t *testing.T) {
		porttest.TestSessionStore(t, func(t *testing.T) porttest.SessionHarness {
			in := newCachedInstance(t, srv.RedisURL(), unique("cache"), unique("ch"), sessioncache.Options{})
			return porttest.SessionHarness{Store: in.legacy, Advance: time.Sleep}
		})
	})
	t.Run("TokenSessionStore", func(t *testing.T) {
		porttest.TestTokenSessionStore(t, func(t *testing.T) porttest.TokenSessionHarness {
			in := newCachedInstance(t, srv.RedisURL(), unique("cache"), unique("ch"), sessioncache.Options{})
			return porttest.TokenSessionHarness{Store: in.tokens}
		})
	})
}

// A revocation on one instance is refused on the other within 100 ms at
// the 99th percentile (issue 12). Each round caches a session on B, revokes
// it on A, and times B until it refuses. The bound is generous on purpose:
// on one Redis a message takes well under a millisecond; a loaded CI
// machine (two cores shared with other suites) adds scheduling delays.
func TestRedis_SessionCacheRevocationIsRefusedOnTheOtherInstanceWithin100ms(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	prefix, channel := unique("prop"), unique("ch")
	a := newCachedInstance(t, srv.RedisURL(), prefix, channel, sessioncache.Options{TTL: time.Minute})
	b := newCachedInstance(t, srv.RedisURL(), prefix, channel, sessioncache.Options{TTL: time.Minute})
	ctx := context.Background()
	policy := domain.SessionPolicy{}
	const rounds = 200
	var lat []time.Duration
	for i := range rounds {
		owner := fmt.Sprintf("oPROP%d", i)
		now := time.Now()
		s, _, d := porttest.NewTokenSession(t, owner, "", now)
		_, err := a.tokens.Create(ctx, d, s, now, policy)
		require.NoError(t, err)
		for range 2 {
			_, err := b.tokens.Authenticate(ctx, d, now, policy)
			require.NoError(t, err)
		}
		hits := b.cache.Stats().Hits
		_, err = b.tokens.Authenticate(ctx, d, now, policy)
		require.NoError(t, err)
		require.Equal(t, hits+1, b.cache.Stats().Hits, "B answers from its cache before the revocation")

		start := time.Now()
		require.NoError(t, a.tokens.Revoke(ctx, owner, s.ID(), now))
		_, err = a.tokens.Authenticate(ctx, d, now, policy)
		require.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "refused at once on its own instance")
		for {
			_, err := b.tokens.Authenticate(ctx, d, now, policy)
			if domain.ErrorCode(err) == domain.ESESSIONEXPIRED {
				break
			}
			require.NoError(t, err)
			require.Less(t, time.Since(start), 5*time.Second, "never refused")
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	t.Logf("revocation propagation over %d rounds: p50 %v, p99 %v, max %v", rounds, p50, p99, lat[len(lat)-1])
	assert.Less(t, p99, 100*time.Millisecond)

	// The legacy re-login revokes the previous code on the other instance too.
	alice := porttest.User(t, "oALICE", `{"nickName":"alice"}`)
	require.NoError(t, a.legacy.Login(ctx, domain.Session{Code: "old", User: alice}, time.Hour))
	_, err := b.legacy.User(ctx, "old")
	require.NoError(t, err)
	require.NoError(t, a.legacy.Login(ctx, domain.Session{Code: "new", User: alice}, time.Hour))
	assert.Eventually(t, func() bool {
		_, err := b.legacy.User(ctx, "old")
		return domain.ErrorCode(err) == domain.ESESSIONEXPIRED
	}, 100*time.Millisecond, time.Millisecond)
}

// When the subscription is lost (here: Redis kills the pub/sub clients)
// the cache is dropped at once and refills only once subscribed again.
func TestRedis_SessionCacheDropsEverythingWhileTheChannelIsDown(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	in := newCachedInstance(t, srv.RedisURL(), unique("down"), unique("ch"), sessioncache.Options{TTL: time.Minute})
	ctx := context.Background()
	alice := porttest.User(t, "oALICE", `{"nickName":"alice"}`)
	require.NoError(t, in.legacy.Login(ctx, domain.Session{Code: "c1", User: alice}, time.Hour))
	_, err := in.legacy.User(ctx, "c1")
	require.NoError(t, err)
	require.Equal(t, 1, in.cache.Stats().Entries)

	require.NoError(t, in.store.Client().Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err())
	require.Eventually(t, func() bool { return !in.cache.Stats().Up }, 2*time.Second, time.Millisecond, "the loss is noticed")
	assert.Equal(t, 0, in.cache.Stats().Entries, "and the cache dropped")
	require.Eventually(t, func() bool { return in.cache.Stats().Up }, 5*time.Second, 5*time.Millisecond, "subscribed again")
	_, err = in.legacy.User(ctx, "c1")
	require.NoError(t, err)
	assert.Equal(t, 1, in.cache.Stats().Entries, "caching again")
}
