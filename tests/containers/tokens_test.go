//go:build integration

package containers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/redisstore"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
	"github.com/onestroke/onestroke/tests/testenv"
)

// tokenClient returns a client of url as the service makes it.
func tokenClient(t *testing.T, url string) (redis.UniversalClient, redisstore.Mode) {
	t.Helper()
	client, mode, err := redisstore.ParseURL(url, 0)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	return client, mode
}

// runTokenContracts runs the TokenSessionStore and LoginCodes contracts on
// client, each test under its own key prefix: isolation without a flush.
func runTokenContracts(t *testing.T, client redis.UniversalClient, name string) {
	t.Run("TokenSessionStore", func(t *testing.T) {
		porttest.TestTokenSessionStore(t, func(t *testing.T) porttest.TokenSessionHarness {
			return porttest.TokenSessionHarness{Store: redisstore.NewTokenSessions(client, redisstore.TokenOptions{Prefix: unique(name)})}
		})
	})
	t.Run("LoginCodes", func(t *testing.T) {
		porttest.TestLoginCodes(t, func(t *testing.T) porttest.LoginCodesHarness {
			codes := redisstore.NewLoginCodes(client, redisstore.TokenOptions{Prefix: unique(name)})
			return porttest.LoginCodesHarness{Codes: codes, Advance: time.Sleep} // Redis keeps its own time
		})
	})
}

func TestRedis_TokenSessionsAndLoginCodesContract(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	client, _ := tokenClient(t, srv.RedisURL())
	runTokenContracts(t, client, "ost-test")
}

func TestRedisWithPassword_TokenSessionsAndLoginCodesContract(t *testing.T) {
	const password = "s3cret-Redis-pw"
	srv := testenv.StartRedis(t, testenv.Options{Args: []string{"--requirepass", password}})
	client, _ := tokenClient(t, "redis://:"+password+"@"+srv.HostPort+"/0")
	runTokenContracts(t, client, "ost-pw")
}

func TestRedisSentinel_TokenSessionsAndLoginCodesContract(t *testing.T) {
	client, mode := tokenClient(t, startSentinel(t, "sentinel-pw"))
	require.Equal(t, redisstore.ModeSentinel, mode)
	runTokenContracts(t, client, "ost-sentinel")
}

func TestRedisCluster_TokenSessionsAndLoginCodes(t *testing.T) {
	client, mode := tokenClient(t, startCluster(t))
	require.Equal(t, redisstore.ModeCluster, mode)
	cc := client.(*redis.ClusterClient)
	ctx := context.Background()
	runTokenContracts(t, client, "ost-cluster")

	// clusterKeys returns every key of prefix on each master, by master.
	clusterKeys := func(t *testing.T, prefix string) map[string][]string {
		var mu sync.Mutex
		byMaster := map[string][]string{}
		require.NoError(t, cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			keys, err := c.Keys(ctx, prefix+":*").Result()
			mu.Lock()
			byMaster[c.Options().Addr] = keys
			mu.Unlock()
			return err
		}))
		return byMaster
	}

	t.Run("AUsersKeysShareOneSlot", func(t *testing.T) {
		prefix := unique("ost-slot")
		st := redisstore.NewTokenSessions(client, redisstore.TokenOptions{Prefix: prefix})
		s1, _, d1 := porttest.NewTokenSession(t, "oALICE", "phone", porttest.Start)
		_, err := st.Create(ctx, d1, s1, porttest.Start, domain.SessionPolicy{})
		require.NoError(t, err)
		s2, _, d2 := porttest.NewTokenSession(t, "oALICE", "pad", porttest.Start)
		_, err = st.Create(ctx, d2, s2, porttest.Start, domain.SessionPolicy{})
		require.NoError(t, err)
		_, d3, err := domain.MintToken("oALICE")
		require.NoError(t, err)
		require.NoError(t, st.AddToken(ctx, "oALICE", s1.ID(), d3, porttest.Start))
		_, err = st.Authenticate(ctx, d3, porttest.Start.Add(2*time.Minute), domain.SessionPolicy{}) // a touch
		require.NoError(t, err)

		slots := map[int64][]string{}
		n := 0
		for _, keys := range clusterKeys(t, prefix) {
			for _, k := range keys {
				slot, err := cc.ClusterKeySlot(ctx, k).Result()
				require.NoError(t, err)
				slots[slot] = append(slots[slot], k)
				n++
			}
		}
		assert.Equal(t, 6, n, "the index, two sessions and three tokens: %v", slots)
		assert.Len(t, slots, 1, "every key of the user in one slot: %v", slots)
	})

	t.Run("ManyUsersSpreadOverTheMasters", func(t *testing.T) {
		prefix := unique("ost-spread")
		st := redisstore.NewTokenSessions(client, redisstore.TokenOptions{Prefix: prefix})
		for i := range 40 {
			owner := fmt.Sprintf("oUSER%02d", i)
			s, _, d := porttest.NewTokenSession(t, owner, "", porttest.Start)
			_, err := st.Create(ctx, d, s, porttest.Start, domain.SessionPolicy{})
			require.NoError(t, err)
			_, err = st.Authenticate(ctx, d, porttest.Start, domain.SessionPolicy{})
			require.NoError(t, err, "each user's token authenticates")
		}
		masters := 0
		for addr, keys := range clusterKeys(t, prefix) {
			t.Logf("%s holds %d keys", addr, len(keys))
			if len(keys) > 0 {
				masters++
			}
		}
		assert.Greater(t, masters, 1, "the users' keys spread over more than one master")
	})
}

// The rule: a token's digest is the only lookup key, and nothing
// in the store can be turned back into a token; the session_key is kept
// sealed. After logins, a retried login code, touches and a revoke, no key
// or value in Redis holds a token's text, the session_key's plain text or a
// login code.
func TestRedis_NoTokenSessionKeyOrLoginCodeInAnyKeyOrValue(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	client, _ := tokenClient(t, srv.RedisURL())
	ctx := context.Background()
	st := redisstore.NewTokenSessions(client, redisstore.TokenOptions{})
	codes := redisstore.NewLoginCodes(client, redisstore.TokenOptions{})
	sealer, err := domain.NewSessionKeySealer("the-app-secret")
	require.NoError(t, err)
	const plainKey = "HyVFkGl5F5OQWJZZaNzBBg=="
	policy := domain.SessionPolicy{}
	now := time.Now()

	var secrets []string
	var sealed []string
	for i, owner := range []string{"oALICE", "oALICE", "oBOB", "oCAROL"} {
		code := fmt.Sprintf("0a1b2c3d4e5f-login-code-%02d", i)
		claimed, _, err := codes.Claim(ctx, code, time.Minute)
		require.NoError(t, err)
		require.True(t, claimed)
		id, err := domain.NewSessionID()
		require.NoError(t, err)
		seal, err := sealer.Seal(domain.SessionKey(plainKey), id)
		require.NoError(t, err)
		sess, err := domain.NewTokenSession(id, domain.WxSession{OpenID: owner, SessionKey: plainKey}, seal, "phone", now, policy)
		require.NoError(t, err)
		tok, d, err := domain.MintToken(owner)
		require.NoError(t, err)
		_, err = st.Create(ctx, d, sess, now, policy)
		require.NoError(t, err)
		require.NoError(t, codes.Complete(ctx, code, ports.LoginResult{Owner: owner, SessionID: id}, 5*time.Minute))
		retry, d2, err := domain.MintToken(owner) // the code's retry: a second token of the session
		require.NoError(t, err)
		require.NoError(t, st.AddToken(ctx, owner, id, d2, now))
		for _, at := range []time.Duration{time.Second, 2 * time.Minute, 4 * time.Minute} {
			got, err := st.Authenticate(ctx, d, now.Add(at), policy)
			require.NoError(t, err)
			key, err := sealer.Open(got.SealedKey(), id)
			require.NoError(t, err)
			require.Equal(t, plainKey, key.Reveal(), "the stored seal opens to the session_key")
		}
		secrets = append(secrets, tok.Reveal(), strings.TrimPrefix(tok.Reveal(), domain.TokenPrefix),
			retry.Reveal(), strings.TrimPrefix(retry.Reveal(), domain.TokenPrefix), code)
		sealed = append(sealed, seal)
	}
	_, err = st.RevokeAll(ctx, "oCAROL", now)
	require.NoError(t, err)
	secrets = append(secrets, plainKey, strings.TrimRight(plainKey, "="))

	var keys []string
	iter := client.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	require.NoError(t, iter.Err())
	require.NotEmpty(t, keys)
	sealSeen := 0
	for _, k := range keys {
		typ, err := client.Type(ctx, k).Result()
		require.NoError(t, err)
		require.Equal(t, "string", typ, k)
		v, err := client.Get(ctx, k).Result()
		require.NoError(t, err)
		ttl, err := client.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assert.Positive(t, ttl, "%s expires by itself", k)
		for _, secret := range secrets {
			assert.NotContains(t, k, secret, "key %s", k)
			assert.NotContains(t, v, secret, "value of %s", k)
		}
		for _, s := range sealed {
			if strings.Contains(v, s) {
				sealSeen++
			}
		}
	}
	t.Logf("%d keys scanned", len(keys))
	assert.Positive(t, sealSeen, "the sealed session_key is what is kept")
}

// A value under a token's key that is not a session (junk, another JSON,
// another type, another shard's user's record) answers as an unknown
// token, never as an outage.
func TestRedis_TokenKeyHoldingSomethingElseIsExpired(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	client, _ := tokenClient(t, srv.RedisURL())
	ctx := context.Background()
	prefix := unique("ost-junk")
	st := redisstore.NewTokenSessions(client, redisstore.TokenOptions{Prefix: prefix})
	tokenKey := func(d domain.TokenDigest) string {
		return fmt.Sprintf("%s:{%s:%02d}:t:%s", prefix, prefix, d.Shard(), d)
	}

	// A real record, to copy under a digest of another shard.
	s, _, d := porttest.NewTokenSession(t, "oALICE", "", porttest.Start)
	_, err := st.Create(ctx, d, s, porttest.Start, domain.SessionPolicy{})
	require.NoError(t, err)
	_, err = st.Authenticate(ctx, d, porttest.Start, domain.SessionPolicy{})
	require.NoError(t, err, "the layout the test writes under is the store's")
	record, err := client.Get(ctx, tokenKey(d)).Result()
	require.NoError(t, err)

	for name, write := range map[string]func(key string) error{
		"junk":        func(k string) error { return client.Set(ctx, k, "not json", time.Hour).Err() },
		"other json":  func(k string) error { return client.Set(ctx, k, `[{"id":"x"}]`, time.Hour).Err() },
		"empty":       func(k string) error { return client.Set(ctx, k, `{}`, time.Hour).Err() },
		"hash":        func(k string) error { return client.HSet(ctx, k, "id", "x").Err() },
		"list":        func(k string) error { return client.RPush(ctx, k, "x").Err() },
		"other shard": func(k string) error { return client.Set(ctx, k, record, time.Hour).Err() },
	} {
		var other domain.TokenDigest
		for {
			_, other, err = domain.MintToken(unique("o"))
			require.NoError(t, err)
			if other.Shard() != d.Shard() {
				break
			}
		}
		require.NoError(t, write(tokenKey(other)), name)
		_, err := st.Authenticate(ctx, other, porttest.Start, domain.SessionPolicy{})
		assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), name)
	}
}

// countingHook counts the commands a client sends, pipelined ones each.
type countingHook struct {
	mu   sync.Mutex
	cmds []string
}

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.record(cmd)
		return next(ctx, cmd)
	}
}
func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			h.record(c)
		}
		return next(ctx, cmds)
	}
}
func (h *countingHook) record(c redis.Cmder) {
	h.mu.Lock()
	h.cmds = append(h.cmds, c.Name())
	h.mu.Unlock()
}
func (h *countingHook) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.cmds
	h.cmds = nil
	return out
}

// The hot path: authenticating a token is one store read, and the
// use is written back at most once a minute per session. Every key expires
// by itself with its session, a touch extends them all, and a revoke
// leaves nothing of the user behind.
func TestRedis_TokenAuthenticateIsOneReadAndKeysExpireWithTheSession(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	client, _ := tokenClient(t, srv.RedisURL())
	hook := &countingHook{}
	client.AddHook(hook)
	ctx := context.Background()
	prefix := unique("ost-ttl")
	st := redisstore.NewTokenSessions(client, redisstore.TokenOptions{Prefix: prefix})
	policy := domain.SessionPolicy{Idle: 62 * time.Second, MaxAge: time.Hour}
	keysOf := func(prefix string) []string {
		keys, err := client.Keys(ctx, prefix+":*").Result()
		require.NoError(t, err)
		return keys
	}
	ttls := func() (least, most time.Duration) {
		least = time.Hour
		for _, k := range keysOf(prefix) {
			ttl, err := client.PTTL(ctx, k).Result()
			require.NoError(t, err)
			least, most = min(least, ttl), max(most, ttl)
		}
		return least, most
	}

	// A session created at t0 and stored when the caller's clock says
	// t0+60s: its keys live the 2 s left of its idle timeout.
	t0 := time.Now()
	s, err := domain.NewTokenSession("session-1", domain.WxSession{OpenID: "oALICE"}, "sealed", "", t0, policy)
	require.NoError(t, err)
	_, d, err := domain.MintToken("oALICE")
	require.NoError(t, err)
	_, err = st.Create(ctx, d, s, t0.Add(60*time.Second), policy)
	require.NoError(t, err)
	_, d2, err := domain.MintToken("oALICE")
	require.NoError(t, err)
	require.NoError(t, st.AddToken(ctx, "oALICE", s.ID(), d2, t0.Add(60*time.Second)))
	require.Len(t, keysOf(prefix), 4, "the index, the session and two tokens")
	least, most := ttls()
	assert.Positive(t, least, "every key expires by itself")
	assert.LessOrEqual(t, most, 2*time.Second, "with the session")
	hook.take()

	for range 3 {
		_, err = st.Authenticate(ctx, d, t0.Add(30*time.Second), policy)
		require.NoError(t, err)
		assert.Equal(t, []string{"get"}, hook.take(), "within the minute: one read, no write")
	}

	// A minute after the last use: the use is written back, for the whole
	// session, and every key lives another idle timeout.
	_, err = st.Authenticate(ctx, d, t0.Add(61*time.Second), policy)
	require.NoError(t, err)
	cmds := hook.take()
	assert.Equal(t, "get", cmds[0], "one read, then the write: %v", cmds)
	assert.Contains(t, cmds, "exec")
	least, _ = ttls()
	assert.Greater(t, least, 60*time.Second, "the touch extended every key, the other token's and the index too")
	got, err := st.Authenticate(ctx, d2, t0.Add(62*time.Second), policy)
	require.NoError(t, err)
	assert.True(t, got.LastSeenAt().Equal(t0.Add(61*time.Second).UTC()), "the other token reads the written use")

	// An unused session's keys are gone at its end.
	bobPrefix := unique("ost-ttl-bob")
	bobs := redisstore.NewTokenSessions(client, redisstore.TokenOptions{Prefix: bobPrefix})
	b, err := domain.NewTokenSession("session-2", domain.WxSession{OpenID: "oBOB"}, "sealed", "", t0, policy)
	require.NoError(t, err)
	_, db, err := domain.MintToken("oBOB")
	require.NoError(t, err)
	_, err = bobs.Create(ctx, db, b, t0.Add(61*time.Second), policy)
	require.NoError(t, err)
	require.Len(t, keysOf(bobPrefix), 3)
	require.Eventually(t, func() bool { return len(keysOf(bobPrefix)) == 0 }, 5*time.Second, 100*time.Millisecond,
		"an unused session's keys are gone after its idle timeout")

	// RevokeAll, and a Revoke of the last session, leave no key behind,
	// the index included.
	n, err := st.RevokeAll(ctx, "oALICE", t0.Add(62*time.Second))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Empty(t, keysOf(prefix), "RevokeAll leaves nothing")
	s3, err := domain.NewTokenSession("session-3", domain.WxSession{OpenID: "oALICE"}, "sealed", "", t0, domain.SessionPolicy{})
	require.NoError(t, err)
	_, d3, err := domain.MintToken("oALICE")
	require.NoError(t, err)
	_, err = st.Create(ctx, d3, s3, t0, domain.SessionPolicy{})
	require.NoError(t, err)
	require.NoError(t, st.Revoke(ctx, "oALICE", s3.ID(), t0))
	assert.Empty(t, keysOf(prefix), "Revoke of the last session leaves nothing")
}

// A Redis that stops answering makes every call of both stores fail with
// EUNAVAILABLE within about the op timeout (never ESESSIONEXPIRED, which
// would send clients to log in), with no password in the error, and they
// work again when it answers.
func TestRedisPaused_TokenSessionsAndLoginCodesFailCleanlyAndRecover(t *testing.T) {
	const password = "paused-Redis-pw"
	srv := testenv.StartRedis(t, testenv.Options{Args: []string{"--requirepass", password}})
	rdb, _ := tokenClient(t, "redis://:"+password+"@"+srv.HostPort+"/0")
	ctx := context.Background()
	st := redisstore.NewTokenSessions(rdb, redisstore.TokenOptions{Prefix: unique("ost-paused")})
	codes := redisstore.NewLoginCodes(rdb, redisstore.TokenOptions{Prefix: unique("ost-paused")})
	policy := domain.SessionPolicy{}
	s, _, d := porttest.NewTokenSession(t, "oALICE", "", porttest.Start)
	_, err := st.Create(ctx, d, s, porttest.Start, policy)
	require.NoError(t, err)

	unpause := pauseRedis(t, srv)

	_, _, d2 := porttest.NewTokenSession(t, "oALICE", "", porttest.Start)
	assertEachUnavailable(t, password, map[string]func() error{
		"Authenticate": func() error { _, err := st.Authenticate(ctx, d, porttest.Start, policy); return err },
		"Touch":        func() error { _, err := st.Authenticate(ctx, d, porttest.Start.Add(time.Hour), policy); return err },
		"Create":       func() error { _, err := st.Create(ctx, d2, s, porttest.Start, policy); return err },
		"AddToken":     func() error { return st.AddToken(ctx, "oALICE", s.ID(), d2, porttest.Start) },
		"Sessions":     func() error { _, err := st.Sessions(ctx, "oALICE", porttest.Start); return err },
		"Revoke":       func() error { return st.Revoke(ctx, "oALICE", s.ID(), porttest.Start) },
		"RevokeAll":    func() error { _, err := st.RevokeAll(ctx, "oALICE", porttest.Start); return err },
		"Claim":        func() error { _, _, err := codes.Claim(ctx, "code-1", time.Minute); return err },
		"Complete": func() error {
			return codes.Complete(ctx, "code-1", ports.LoginResult{Owner: "oALICE", SessionID: s.ID()}, time.Minute)
		},
	})

	unpause()
	require.Eventually(t, func() bool {
		_, err := st.Authenticate(ctx, d, porttest.Start, policy)
		return err == nil
	}, 10*time.Second, 100*time.Millisecond, "the store recovers by itself when Redis returns")
}

// A login under the device cap costs the token store one round trip (the
// script); only a full house takes the transaction that lets the domain
// pick the least recently used session.
func TestRedis_TokenCreateUnderTheCapIsOneRoundTrip(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	client, _ := tokenClient(t, srv.RedisURL())
	hook := &countingHook{}
	client.AddHook(hook)
	ctx := context.Background()
	st := redisstore.NewTokenSessions(client, redisstore.TokenOptions{Prefix: unique("ost-rt")})
	policy := domain.SessionPolicy{MaxDevices: 2}
	create := func() []string {
		s, _, d := porttest.NewTokenSession(t, "oALICE", "", time.Now())
		ended, err := st.Create(ctx, d, s, time.Now(), policy)
		require.NoError(t, err)
		return ended
	}
	create() // loads the script
	hook.take()
	assert.Empty(t, create())
	assert.Equal(t, []string{"evalsha"}, hook.take(), "under the cap: one script call")
	assert.Len(t, create(), 1, "the third device ends the least recently used")
	cmds := hook.take()
	assert.Equal(t, "evalsha", cmds[0])
	assert.Contains(t, cmds, "exec", "a full house goes through the transaction: %v", cmds)
}

// pauseRedis pauses srv's container and returns what unpauses it; the
// test's cleanup unpauses it too if the test ends first.
func pauseRedis(t *testing.T, srv *testenv.Server) (unpause func()) {
	t.Helper()
	cli := dockerClient(t)
	id := srv.Container.GetContainerID()
	_, err := cli.ContainerPause(context.Background(), id, client.ContainerPauseOptions{})
	require.NoError(t, err)
	paused := true
	t.Cleanup(func() {
		if paused {
			cli.ContainerUnpause(context.Background(), id, client.ContainerUnpauseOptions{})
		}
	})
	return func() {
		_, err := cli.ContainerUnpause(context.Background(), id, client.ContainerUnpauseOptions{})
		require.NoError(t, err)
		paused = false
	}
}

// assertEachUnavailable calls each store call while Redis is paused: each
// answers EUNAVAILABLE, without the password in its error, within 1.5 s.
func assertEachUnavailable(t *testing.T, password string, calls map[string]func() error) {
	t.Helper()
	for name, call := range calls {
		start := time.Now()
		err := call()
		elapsed := time.Since(start)
		assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err), "%s: %v", name, err)
		if err != nil {
			assert.NotContains(t, err.Error(), password, name)
		}
		assert.Less(t, elapsed, 1500*time.Millisecond, "%s answers without hanging", name)
	}
}
