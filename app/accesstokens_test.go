package app_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
)

// stableToken is a fake ports.AccessTokenSource that keeps WeChat's rules:
// the same token until 5 minutes before its end, then a new one; a forced
// refresh makes a new one at once. It counts its calls.
type stableToken struct {
	clock *porttest.Clock
	delay time.Duration // real time each call takes

	mu   sync.Mutex
	gen  int
	tok  domain.AccessToken
	end  time.Time
	fail error // every call fails with it
	hang bool  // every call waits for its context

	fetches, forced atomic.Int32
}

func (f *stableToken) StableToken(ctx context.Context, force bool) (domain.AccessToken, time.Duration, error) {
	if force {
		f.forced.Add(1)
	} else {
		f.fetches.Add(1)
	}
	f.mu.Lock()
	fail, hang := f.fail, f.hang
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return "", 0, domain.Wrap(domain.EEXCHANGEUNAVAILABLE, ctx.Err(), "WeChat did not answer in time.")
	}
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if fail != nil {
		return "", 0, fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clock.Now()
	if f.tok == "" || force || f.end.Sub(now) < 5*time.Minute {
		f.rotateLocked(now)
	}
	return f.tok, f.end.Sub(now), nil
}

func (f *stableToken) rotateLocked(now time.Time) {
	f.gen++
	f.tok = domain.AccessToken(fmt.Sprintf("AT-%d-secret", f.gen))
	f.end = now.Add(2 * time.Hour)
}

// rotate makes WeChat's token another, as a refresh outside the
// deployment would.
func (f *stableToken) rotate() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rotateLocked(f.clock.Now())
}

func (f *stableToken) set(fail error, hang bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail, f.hang = fail, hang
}

// atWorld is one deployment: a shared store and WeChat; each service
// made from it is one instance.
type atWorld struct {
	t      *testing.T
	clock  *porttest.Clock
	store  *memstore.AccessTokens
	wx     *stableToken
	logs   *syncBuffer
	events *eventCounts
}

func newATWorld(t *testing.T) *atWorld {
	clock := porttest.NewClock(porttest.Start)
	return &atWorld{t: t, clock: clock, store: memstore.NewAccessTokens(clock.Now),
		wx: &stableToken{clock: clock, delay: 5 * time.Millisecond}, logs: &syncBuffer{}, events: &eventCounts{}}
}

func (w *atWorld) instance(mutate ...func(*app.AccessTokenService)) *app.AccessTokenService {
	s := &app.AccessTokenService{Store: w.store, Source: w.wx, Now: w.clock.Now, Wait: time.Second, Observe: w.events.observe,
		Logger: slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, m := range mutate {
		m(s)
	}
	w.t.Cleanup(s.WaitRefresh)
	return s
}

// noTokenInLogs checks the rule: the token never appears in a log line.
func (w *atWorld) noTokenInLogs() {
	w.t.Helper()
	assert.NotContains(w.t, w.logs.String(), "-secret", "no access_token in the log")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// eventCounts counts what AccessTokenService.Observe is told.
type eventCounts struct {
	mu      sync.Mutex
	counts  map[string]int
	expires time.Time
}

func (e *eventCounts) observe(ev app.AccessTokenEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.counts == nil {
		e.counts = map[string]int{}
	}
	if ev.Kind == app.AccessTokenInUse {
		e.expires = ev.Expires
		e.counts[string(ev.Kind)]++
		return
	}
	e.counts[string(ev.Kind)+"/"+string(ev.Outcome)]++
}

func (e *eventCounts) count(key string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[key]
}

func (e *eventCounts) lastExpires() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.expires
}

// concurrently runs n calls of fn at once and returns their tokens.
func concurrently(t *testing.T, n int, fn func(i int) (domain.AccessToken, error)) []string {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	got := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tok, err := fn(i)
			got[i], errs[i] = tok.Reveal(), err
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "call %d", i)
	}
	return got
}

func allEqual(t *testing.T, want string, got []string) {
	t.Helper()
	for i, g := range got {
		require.Equal(t, want, g, "call %d", i)
	}
}

var bg = context.Background()

func TestAccessTokenService_ColdStartFetchesOnceFor100ConcurrentCallers(t *testing.T) {
	w := newATWorld(t)
	w.wx.delay = 20 * time.Millisecond
	a, b := w.instance(), w.instance() // two instances on one store
	got := concurrently(t, 100, func(i int) (domain.AccessToken, error) {
		if i%2 == 0 {
			return a.Token(bg)
		}
		return b.Token(bg)
	})
	allEqual(t, "AT-1-secret", got)
	assert.EqualValues(t, 1, w.wx.fetches.Load(), "one stable_token call for the deployment")
	assert.Zero(t, w.wx.forced.Load())
	assert.Equal(t, 1, w.events.count("fetch/ok"), "the fetch is observed once")
	assert.True(t, w.events.lastExpires().Equal(porttest.Start.Add(2*time.Hour)), "the token's end is observed: %s", w.events.lastExpires())
	stored, err := w.store.Current(bg)
	require.NoError(t, err)
	assert.Equal(t, "AT-1-secret", stored.Token.Reveal(), "the token is in the shared store")
	w.noTokenInLogs()
}

func TestAccessTokenService_ALiveTokenIsNotFetchedAgain(t *testing.T) {
	w := newATWorld(t)
	a := w.instance()
	first, err := a.Token(bg)
	require.NoError(t, err)
	for range 100 { // an hour and forty minutes of calls, the process's copy expiring every 10 s
		w.clock.Advance(time.Minute)
		tok, err := a.Token(bg)
		require.NoError(t, err)
		require.Equal(t, first.Reveal(), tok.Reveal())
	}
	tok, err := w.instance().Token(bg)
	require.NoError(t, err)
	assert.Equal(t, first.Reveal(), tok.Reveal(), "a new instance takes the stored token")
	assert.EqualValues(t, 1, w.wx.fetches.Load(), "never fetched again while live")
}

func TestAccessTokenService_RefreshesAheadOfTheEndWhileTheLiveOneServes(t *testing.T) {
	w := newATWorld(t)
	w.wx.delay = 20 * time.Millisecond
	a, b := w.instance(), w.instance()
	first, err := a.Token(bg)
	require.NoError(t, err)
	_, err = b.Token(bg)
	require.NoError(t, err)

	w.clock.Advance(2*time.Hour - 4*time.Minute) // 4 minutes left: WeChat now hands out the next one
	got := concurrently(t, 50, func(i int) (domain.AccessToken, error) {
		if i%2 == 0 {
			return a.Token(bg)
		}
		return b.Token(bg)
	})
	allEqual(t, first.Reveal(), got) // nobody waits for the refresh
	a.WaitRefresh()
	b.WaitRefresh()
	assert.EqualValues(t, 2, w.wx.fetches.Load(), "one refresh ahead for the deployment")
	assert.Zero(t, w.wx.forced.Load(), "never forced")

	w.clock.Advance(11 * time.Second) // past the process copies' 10 s
	for _, s := range []*app.AccessTokenService{a, b} {
		tok, err := s.Token(bg)
		require.NoError(t, err)
		assert.Equal(t, "AT-2-secret", tok.Reveal(), "every instance moves to the next token")
	}
	a.WaitRefresh()
	b.WaitRefresh()
	assert.EqualValues(t, 2, w.wx.fetches.Load())
	w.noTokenInLogs()
}

func TestAccessTokenService_ATokenCloseToItsEndIsNotHandedOut(t *testing.T) {
	w := newATWorld(t)
	a := w.instance(func(s *app.AccessTokenService) { s.RefreshAhead = time.Second }) // no refresh ahead
	first, err := a.Token(bg)
	require.NoError(t, err)
	w.clock.Advance(2*time.Hour - 30*time.Second) // within the minute of margin
	tok, err := a.Token(bg)
	require.NoError(t, err)
	assert.NotEqual(t, first.Reveal(), tok.Reveal(), "a token with less than the margin left is replaced before use")
	assert.EqualValues(t, 2, w.wx.fetches.Load())
}

func TestAccessTokenService_Rejected50ConcurrentCallersForceOneRefresh(t *testing.T) {
	w := newATWorld(t)
	w.wx.delay = 20 * time.Millisecond
	a, b := w.instance(), w.instance()
	first, err := a.Token(bg)
	require.NoError(t, err)
	_, err = b.Token(bg)
	require.NoError(t, err)

	got := concurrently(t, 50, func(i int) (domain.AccessToken, error) {
		if i%2 == 0 {
			return a.Rejected(bg, first)
		}
		return b.Rejected(bg, first)
	})
	allEqual(t, "AT-2-secret", got)
	assert.EqualValues(t, 1, w.wx.forced.Load(), "exactly one forced refresh for one rejected token")
	assert.Equal(t, 1, w.events.count("forced_refresh/ok"))

	// Late rejections of the old token get the replacement, without WeChat.
	w.clock.Advance(time.Minute)
	for _, s := range []*app.AccessTokenService{a, b, w.instance()} {
		tok, err := s.Rejected(bg, first)
		require.NoError(t, err)
		assert.Equal(t, "AT-2-secret", tok.Reveal())
		tok, err = s.Token(bg)
		require.NoError(t, err)
		assert.Equal(t, "AT-2-secret", tok.Reveal(), "and Token has dropped the rejected one")
	}
	assert.EqualValues(t, 1, w.wx.forced.Load())
	assert.EqualValues(t, 1, w.wx.fetches.Load(), "no fetch either")
	w.noTokenInLogs()
}

func TestAccessTokenService_RejectedPastTheBudgetIsRateLimitedWithoutAForcedRefresh(t *testing.T) {
	for _, tc := range []struct {
		name      string
		spend     func(t *testing.T, store ports.AccessTokenStore, now time.Time)
		retryFrom time.Duration
		retryTo   time.Duration
	}{
		{"a forced refresh 10 s ago", func(t *testing.T, store ports.AccessTokenStore, now time.Time) {
			ok, _, err := store.TakeForcedRefresh(bg, now.Add(-10*time.Second))
			require.NoError(t, err)
			require.True(t, ok)
		}, 19 * time.Second, 20 * time.Second},
		{"twenty forced refreshes today", func(t *testing.T, store ports.AccessTokenStore, now time.Time) {
			for i := range domain.ForcedRefreshesPerDay {
				ok, _, err := store.TakeForcedRefresh(bg, now.Add(-time.Duration(domain.ForcedRefreshesPerDay-i)*time.Minute))
				require.NoError(t, err)
				require.True(t, ok)
			}
		}, 7 * time.Hour, 7 * time.Hour}, // 09:00 UTC: 7 hours to Beijing's midnight
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newATWorld(t)
			a := w.instance()
			first, err := a.Token(bg)
			require.NoError(t, err)
			tc.spend(t, w.store, w.clock.Now())

			_, err = a.Rejected(bg, first)
			assert.Equal(t, domain.ERATELIMITED, domain.ErrorCode(err))
			retry := domain.ErrorRetryAfter(err)
			assert.GreaterOrEqual(t, retry, tc.retryFrom)
			assert.LessOrEqual(t, retry, tc.retryTo)
			assert.Zero(t, w.wx.forced.Load(), "no forced refresh past the budget")
			assert.Equal(t, 1, w.events.count("forced_refresh/rate_limited"), "the refusal is observed")
			ok, err := w.store.Lease(bg, "next-holder", time.Second)
			require.NoError(t, err)
			assert.True(t, ok, "the lease was released")
			w.noTokenInLogs()
		})
	}
}

func TestAccessTokenService_RejectedPastTheBudgetTakesWeChatsNewTokenWhenItMovedOn(t *testing.T) {
	w := newATWorld(t)
	a := w.instance()
	first, err := a.Token(bg)
	require.NoError(t, err)
	ok, _, err := w.store.TakeForcedRefresh(bg, w.clock.Now())
	require.NoError(t, err)
	require.True(t, ok)
	w.wx.rotate() // refreshed outside this deployment: WeChat ended the token we hold

	tok, err := a.Rejected(bg, first)
	require.NoError(t, err)
	assert.Equal(t, "AT-2-secret", tok.Reveal(), "WeChat's current token, without forcing")
	assert.Zero(t, w.wx.forced.Load())
	stored, err := w.store.Current(bg)
	require.NoError(t, err)
	assert.Equal(t, "AT-2-secret", stored.Token.Reveal(), "and stored for the deployment")
}

func TestAccessTokenService_RejectedOfAnotherThanTheStoredTokenReturnsTheStoredOne(t *testing.T) {
	w := newATWorld(t)
	a := w.instance()
	first, err := a.Token(bg)
	require.NoError(t, err)
	tok, err := a.Rejected(bg, domain.AccessToken("AT-older"))
	require.NoError(t, err)
	assert.Equal(t, first.Reveal(), tok.Reveal())
	assert.Zero(t, w.wx.forced.Load())
	assert.EqualValues(t, 1, w.wx.fetches.Load())
}

func TestAccessTokenService_SourceDownIsUnavailableWithinTheWait(t *testing.T) {
	t.Run("failing", func(t *testing.T) {
		w := newATWorld(t)
		w.wx.set(domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat is busy (-1)."), false)
		a := w.instance()
		_, err := a.Token(bg)
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
		assert.Equal(t, 1, w.events.count("fetch/unavailable"))
		cur, err := w.store.Current(bg)
		require.NoError(t, err)
		assert.Zero(t, cur, "nothing stored")

		w.wx.set(nil, false) // WeChat is back: the lease was released, the next call fetches
		tok, err := w.instance().Token(bg)
		require.NoError(t, err)
		assert.Equal(t, "AT-1-secret", tok.Reveal())
		assert.EqualValues(t, 2, w.wx.fetches.Load())
	})

	t.Run("WeChat's rate limit on a fetch is unavailable too", func(t *testing.T) {
		w := newATWorld(t)
		w.wx.set(domain.Errorf(domain.ERATELIMITED, "WeChat's limit (45011)."), false)
		_, err := w.instance().Token(bg)
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err), "Token's errors are its port's")
	})

	t.Run("hanging", func(t *testing.T) {
		w := newATWorld(t)
		w.wx.set(nil, true)
		wait := 200 * time.Millisecond
		a := w.instance(func(s *app.AccessTokenService) { s.Wait = wait; s.Lease = 600 * time.Millisecond })
		var wg sync.WaitGroup
		start := time.Now()
		var slowest atomic.Int64
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := a.Token(bg)
				assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
				slowest.Store(max(slowest.Load(), int64(time.Since(start))))
			}()
		}
		wg.Wait()
		assert.Less(t, time.Duration(slowest.Load()), wait+150*time.Millisecond, "every caller answered within the wait")
		assert.EqualValues(t, 1, w.wx.fetches.Load(), "callers share one call: nothing piles up")

		ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
		defer cancel()
		start = time.Now()
		_, err := a.Token(ctx)
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
		assert.Less(t, time.Since(start), wait, "the caller's own deadline bounds it too")
	})
}

func TestAccessTokenService_ALeaseOfAHolderThatDiedFreesAfterItsTTL(t *testing.T) {
	w := newATWorld(t)
	a := w.instance(func(s *app.AccessTokenService) { s.Wait = 100 * time.Millisecond })
	ok, err := w.store.Lease(bg, "an-instance-that-died", app.DefaultAccessTokenLease)
	require.NoError(t, err)
	require.True(t, ok)

	_, err = a.Token(bg)
	assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err), "waiting for the holder, bounded")
	assert.Zero(t, w.wx.fetches.Load(), "no fetch while another holds the lease")

	w.clock.Advance(app.DefaultAccessTokenLease + time.Second)
	tok, err := a.Token(bg)
	require.NoError(t, err)
	assert.Equal(t, "AT-1-secret", tok.Reveal())
	assert.EqualValues(t, 1, w.wx.fetches.Load(), "after its TTL the lease is free")
}

func TestAccessTokenService_AWaiterTakesTheTokenAnotherInstanceFetched(t *testing.T) {
	w := newATWorld(t)
	a := w.instance()
	ok, err := w.store.Lease(bg, "another-instance", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	done := make(chan struct{})
	var got domain.AccessToken
	go func() {
		defer close(done)
		got, err = a.Token(bg)
	}()
	time.Sleep(60 * time.Millisecond) // a waits, polling
	now := w.clock.Now()
	ok, cerr := w.store.Complete(bg, "another-instance", ports.StoredAccessToken{Token: "AT-theirs-secret", Expires: now.Add(time.Hour)}, now)
	require.NoError(t, cerr)
	require.True(t, ok)
	<-done
	require.NoError(t, err)
	assert.Equal(t, "AT-theirs-secret", got.Reveal())
	assert.Zero(t, w.wx.fetches.Load())
}

// downStore is a store that cannot answer.
type downStore struct{ ports.AccessTokenStore }

func (downStore) Current(context.Context) (ports.StoredAccessToken, error) {
	return ports.StoredAccessToken{}, domain.Errorf(domain.EUNAVAILABLE, "The access_token store is unavailable.")
}

func TestAccessTokenService_StoreDown(t *testing.T) {
	w := newATWorld(t)
	a := w.instance()
	first, err := a.Token(bg)
	require.NoError(t, err)
	a.Store = downStore{w.store}
	w.clock.Advance(time.Minute) // past the process copy's freshness
	tok, err := a.Token(bg)
	require.NoError(t, err, "a live copy outlasts a blink of the store")
	assert.Equal(t, first.Reveal(), tok.Reveal())

	_, err = w.instance(func(s *app.AccessTokenService) { s.Store = downStore{w.store} }).Token(bg)
	assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err), "without a copy, the store's error")
	assert.EqualValues(t, 1, w.wx.fetches.Load(), "and WeChat is not asked without the lease")
}

// hookStore runs beforeLease once, just before its first Lease: another
// instance's step that lands between a read and a lease.
type hookStore struct {
	ports.AccessTokenStore
	once        sync.Once
	beforeLease func()
}

func (h *hookStore) Lease(ctx context.Context, holder string, ttl time.Duration) (bool, error) {
	h.once.Do(h.beforeLease)
	return h.AccessTokenStore.Lease(ctx, holder, ttl)
}

// Between a caller's read of the store and its lease, the holder before
// may store a token and free the lease: the caller reads again under the
// lease instead of asking WeChat a second time.
func TestAccessTokenService_ALeaseTakenJustAfterAnotherHolderStoredAsksWeChatNothing(t *testing.T) {
	theirs := func(w *atWorld, v string) func() {
		return func() {
			now := w.clock.Now()
			ok, err := w.store.Complete(bg, "another-instance", ports.StoredAccessToken{Token: domain.AccessToken(v), Expires: now.Add(time.Hour)}, now)
			require.NoError(t, err)
			require.True(t, ok)
		}
	}
	t.Run("Token", func(t *testing.T) {
		w := newATWorld(t)
		ok, err := w.store.Lease(bg, "another-instance", time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		a := w.instance(func(s *app.AccessTokenService) {
			s.Store = &hookStore{AccessTokenStore: w.store, beforeLease: theirs(w, "AT-theirs-secret")}
		})
		tok, err := a.Token(bg)
		require.NoError(t, err)
		assert.Equal(t, "AT-theirs-secret", tok.Reveal())
		assert.Zero(t, w.wx.fetches.Load())
	})
	t.Run("Rejected", func(t *testing.T) {
		w := newATWorld(t)
		first, err := w.instance().Token(bg)
		require.NoError(t, err)
		ok, err := w.store.Lease(bg, "another-instance", time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		a := w.instance(func(s *app.AccessTokenService) {
			s.Store = &hookStore{AccessTokenStore: w.store, beforeLease: theirs(w, "AT-replaced-secret")}
		})
		tok, err := a.Rejected(bg, first)
		require.NoError(t, err)
		assert.Equal(t, "AT-replaced-secret", tok.Reveal())
		assert.Zero(t, w.wx.forced.Load(), "the other instance's refresh replaced it: no second forced refresh")
	})
}
