package sessioncache_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/adapters/sessioncache"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
)

// hub is an in-process invalidation channel between the caches of a test:
// a publish reaches every cache at once, and the channel can go down.
type hub struct {
	mu        sync.Mutex
	listeners []sessioncache.Listener
	down      bool
}

type hubBus struct{ h *hub }

func (b hubBus) Publish(_ context.Context, owner string) error {
	b.h.mu.Lock()
	defer b.h.mu.Unlock()
	if b.h.down {
		return fmt.Errorf("the channel is down")
	}
	for _, l := range b.h.listeners {
		l.Invalidate(owner)
	}
	return nil
}

func (b hubBus) Run(ctx context.Context, l sessioncache.Listener) {
	b.h.mu.Lock()
	b.h.listeners = append(b.h.listeners, l)
	b.h.mu.Unlock()
	l.Up()
	<-ctx.Done()
	l.Down()
}

// setDown takes the channel down (every cache hears of it) or back up.
func (h *hub) setDown(down bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.down = down
	for _, l := range h.listeners {
		if down {
			l.Down()
		} else {
			l.Up()
		}
	}
}

// newCache returns a cache on h, listening.
func newCache(t *testing.T, h *hub, opts sessioncache.Options) *sessioncache.Cache {
	t.Helper()
	c := sessioncache.New(hubBus{h}, opts)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go c.Run(ctx)
	require.Eventually(t, func() bool { return c.Stats().Up }, time.Second, time.Millisecond)
	return c
}

// countingSessions counts the legacy reads that reach the store; before,
// when set, runs after the store answered a read and before the cache
// sees the answer.
type countingSessions struct {
	*memstore.SessionStore
	reads  atomic.Int64
	before func()
}

func (s *countingSessions) GetTTL(ctx context.Context, code string) (domain.Session, time.Duration, error) {
	s.reads.Add(1)
	sess, left, err := s.SessionStore.GetTTL(ctx, code)
	if s.before != nil {
		s.before()
	}
	return sess, left, err
}

func (s *countingSessions) UserTTL(ctx context.Context, code string) (domain.UserInfo, time.Duration, error) {
	s.reads.Add(1)
	u, left, err := s.SessionStore.UserTTL(ctx, code)
	if s.before != nil {
		s.before()
	}
	return u, left, err
}

type countingTokens struct {
	ports.TokenSessionStore
	reads atomic.Int64
}

func (s *countingTokens) Authenticate(ctx context.Context, d domain.TokenDigest, now time.Time, p domain.SessionPolicy) (*domain.TokenSession, error) {
	s.reads.Add(1)
	return s.TokenSessionStore.Authenticate(ctx, d, now, p)
}

var ctx = context.Background()

func TestSessions_ContractOnMemory(t *testing.T) {
	porttest.TestSessionStore(t, func(t *testing.T) porttest.SessionHarness {
		clock := porttest.NewClock(porttest.Start)
		c := newCache(t, &hub{}, sessioncache.Options{Now: clock.Now})
		return porttest.SessionHarness{Store: c.Sessions(memstore.NewSessionStore(clock.Now)), Advance: clock.Advance}
	})
}

func TestTokens_ContractOnMemory(t *testing.T) {
	porttest.TestTokenSessionStore(t, func(t *testing.T) porttest.TokenSessionHarness {
		return porttest.TokenSessionHarness{Store: newCache(t, &hub{}, sessioncache.Options{}).Tokens(memstore.NewTokenSessions())}
	})
}

// twoInstances is one shared store behind two instances' caches on one
// channel.
type twoInstances struct {
	clock         *porttest.Clock
	hub           *hub
	store         *countingSessions
	tokens        *countingTokens
	a, b          *sessioncache.Cache
	legacyA, legB *sessioncache.Sessions
	tokensA, tokB *sessioncache.Tokens
}

func newTwo(t *testing.T, opts sessioncache.Options) *twoInstances {
	w := &twoInstances{clock: porttest.NewClock(porttest.Start), hub: &hub{}}
	opts.Now = w.clock.Now
	w.store = &countingSessions{SessionStore: memstore.NewSessionStore(w.clock.Now)}
	w.tokens = &countingTokens{TokenSessionStore: memstore.NewTokenSessions()}
	w.a, w.b = newCache(t, w.hub, opts), newCache(t, w.hub, opts)
	w.legacyA, w.legB = w.a.Sessions(w.store), w.b.Sessions(w.store)
	w.tokensA, w.tokB = w.a.Tokens(w.tokens), w.b.Tokens(w.tokens)
	return w
}

var alice = func() domain.UserInfo {
	raw, _ := domain.DecodeRawData(`{"nickName":"alice"}`)
	return domain.NewUserInfo(raw, "oALICE")
}()

func TestSessions_HitIsAnsweredFromMemory(t *testing.T) {
	w := newTwo(t, sessioncache.Options{})
	require.NoError(t, w.legacyA.Login(ctx, domain.Session{Code: "c1", User: alice, Proof: "p"}, time.Hour))
	for range 5 {
		u, err := w.legacyA.User(ctx, "c1")
		require.NoError(t, err)
		assert.Equal(t, "oALICE", u.OpenID())
	}
	assert.EqualValues(t, 1, w.store.reads.Load(), "one store read, then hits")
	sess, err := w.legacyA.Get(ctx, "c1")
	require.NoError(t, err)
	assert.Equal(t, "p", sess.Proof, "Get needs the proof: a User entry does not answer it")
	_, err = w.legacyA.Get(ctx, "c1")
	require.NoError(t, err)
	assert.EqualValues(t, 2, w.store.reads.Load())
}

func TestSessions_ReloginOnOneInstanceRevokesTheOldCodeOnTheOther(t *testing.T) {
	w := newTwo(t, sessioncache.Options{})
	require.NoError(t, w.legacyA.Login(ctx, domain.Session{Code: "old", User: alice}, time.Hour))
	_, err := w.legB.User(ctx, "old")
	require.NoError(t, err, "B caches the old code")
	require.Equal(t, 1, w.b.Stats().Entries)
	require.NoError(t, w.legacyA.Login(ctx, domain.Session{Code: "new", User: alice}, time.Hour))
	_, err = w.legB.User(ctx, "old")
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "refused on the other instance")
	_, err = w.legacyA.Get(ctx, "old")
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "and on its own")
}

func TestTokens_RevocationOnOneInstanceIsRefusedOnTheOther(t *testing.T) {
	for name, revoke := range map[string]func(w *twoInstances, s *domain.TokenSession) error{
		"Revoke": func(w *twoInstances, s *domain.TokenSession) error {
			return w.tokensA.Revoke(ctx, "oALICE", s.ID(), porttest.Start)
		},
		"RevokeAll": func(w *twoInstances, _ *domain.TokenSession) error {
			_, err := w.tokensA.RevokeAll(ctx, "oALICE", porttest.Start)
			return err
		},
		"DeviceCap": func(w *twoInstances, _ *domain.TokenSession) error {
			n, _, d := porttest.NewTokenSession(t, "oALICE", "", porttest.Start.Add(time.Second))
			ended, err := w.tokensA.Create(ctx, d, n, porttest.Start.Add(time.Second), domain.SessionPolicy{MaxDevices: 1})
			require.Len(t, ended, 1)
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			w := newTwo(t, sessioncache.Options{})
			s, _, d := porttest.NewTokenSession(t, "oALICE", "", porttest.Start)
			_, err := w.tokensA.Create(ctx, d, s, porttest.Start, domain.SessionPolicy{})
			require.NoError(t, err)
			for _, st := range []*sessioncache.Tokens{w.tokensA, w.tokB} {
				for range 2 {
					_, err := st.Authenticate(ctx, d, porttest.Start.Add(time.Second), domain.SessionPolicy{})
					require.NoError(t, err)
				}
			}
			require.EqualValues(t, 2, w.tokens.reads.Load(), "each instance read once and then hit")
			require.NoError(t, revoke(w, s))
			for i, st := range []*sessioncache.Tokens{w.tokensA, w.tokB} {
				_, err := st.Authenticate(ctx, d, porttest.Start.Add(2*time.Second), domain.SessionPolicy{})
				assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "instance %d", i)
			}
		})
	}
}

func TestCache_ChannelDownDropsEverythingAndCachesNothingUntilBack(t *testing.T) {
	w := newTwo(t, sessioncache.Options{})
	require.NoError(t, w.legacyA.Login(ctx, domain.Session{Code: "c1", User: alice}, time.Hour))
	_, err := w.legacyA.User(ctx, "c1")
	require.NoError(t, err)
	require.Equal(t, 1, w.a.Stats().Entries)

	w.hub.setDown(true)
	assert.Equal(t, 0, w.a.Stats().Entries, "dropped")
	before := w.store.reads.Load()
	for range 3 {
		_, err := w.legacyA.User(ctx, "c1")
		require.NoError(t, err)
	}
	assert.EqualValues(t, before+3, w.store.reads.Load(), "every read goes to the store")
	assert.Equal(t, 0, w.a.Stats().Entries, "nothing cached while down")

	w.hub.setDown(false)
	for range 3 {
		_, err := w.legacyA.User(ctx, "c1")
		require.NoError(t, err)
	}
	assert.EqualValues(t, before+4, w.store.reads.Load(), "cached again once the channel is back")
}

func TestCache_LRUKeepsAtMostSizeEntries(t *testing.T) {
	w := newTwo(t, sessioncache.Options{Size: 3})
	for i := range 5 {
		raw, _ := domain.DecodeRawData(`{}`)
		u := domain.NewUserInfo(raw, fmt.Sprintf("o%d", i))
		code := fmt.Sprintf("c%d", i)
		require.NoError(t, w.legacyA.Login(ctx, domain.Session{Code: code, User: u}, time.Hour))
		_, err := w.legacyA.User(ctx, code)
		require.NoError(t, err)
	}
	assert.Equal(t, 3, w.a.Stats().Entries)
	before := w.store.reads.Load()
	_, err := w.legacyA.User(ctx, "c4")
	require.NoError(t, err)
	assert.Equal(t, before, w.store.reads.Load(), "the most recent is kept")
	_, err = w.legacyA.User(ctx, "c0")
	require.NoError(t, err)
	assert.Equal(t, before+1, w.store.reads.Load(), "the least recently used was evicted")
}

func TestCache_EntryLivesAtMostTheTTL(t *testing.T) {
	w := newTwo(t, sessioncache.Options{TTL: 2 * time.Second})
	require.NoError(t, w.legacyA.Login(ctx, domain.Session{Code: "c1", User: alice}, time.Hour))
	_, err := w.legacyA.User(ctx, "c1")
	require.NoError(t, err)
	w.clock.Advance(1900 * time.Millisecond)
	_, err = w.legacyA.User(ctx, "c1")
	require.NoError(t, err)
	assert.EqualValues(t, 1, w.store.reads.Load(), "served from memory within the TTL")
	w.clock.Advance(100 * time.Millisecond)
	_, err = w.legacyA.User(ctx, "c1")
	require.NoError(t, err)
	assert.EqualValues(t, 2, w.store.reads.Load(), "asked of the store at the TTL")
}

func TestSessions_CodeIsNotServedPastItsExpiryInTheStore(t *testing.T) {
	w := newTwo(t, sessioncache.Options{TTL: time.Minute})
	require.NoError(t, w.legacyA.Login(ctx, domain.Session{Code: "c1", User: alice}, 3*time.Second))
	w.clock.Advance(2 * time.Second)
	_, err := w.legacyA.User(ctx, "c1")
	require.NoError(t, err)
	w.clock.Advance(time.Second)
	_, err = w.legacyA.User(ctx, "c1")
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err))
}

// A read that started before a revocation and answers after the
// invalidation passed must not put the revoked session back.
func TestCache_FillRacingAnInvalidationIsNotKept(t *testing.T) {
	w := newTwo(t, sessioncache.Options{})
	require.NoError(t, w.legacyA.Login(ctx, domain.Session{Code: "old", User: alice}, time.Hour))
	w.store.before = func() {
		w.store.before = nil
		// The store answered "old" is alice's; before B keeps it, A
		// re-logs alice in and the invalidation reaches B.
		require.NoError(t, w.legacyA.Login(ctx, domain.Session{Code: "new", User: alice}, time.Hour))
	}
	_, err := w.legB.User(ctx, "old")
	require.NoError(t, err, "the read was right when it was made")
	assert.Equal(t, 0, w.b.Stats().Entries, "but it is not kept")
	_, err = w.legB.User(ctx, "old")
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "the old code is refused")

	// Another owner's invalidation does not refuse a fill.
	w.store.before = func() {
		w.store.before = nil
		w.b.Invalidate("oBOB")
	}
	_, err = w.legB.User(ctx, "new")
	require.NoError(t, err)
	assert.Equal(t, 1, w.b.Stats().Entries)
}

func TestCache_MissesAreNotCachedAndDoNotEvictSessions(t *testing.T) {
	w := newTwo(t, sessioncache.Options{Size: 2})
	require.NoError(t, w.legacyA.Login(ctx, domain.Session{Code: "c1", User: alice}, time.Hour))
	_, err := w.legacyA.User(ctx, "c1")
	require.NoError(t, err)
	for i := range 100 {
		_, err := w.legacyA.User(ctx, fmt.Sprintf("random-%d", i))
		require.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err))
	}
	_, err = w.legacyA.User(ctx, "random-1")
	require.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err))
	assert.Equal(t, 1, w.a.Stats().Entries)
	before := w.store.reads.Load()
	_, err = w.legacyA.User(ctx, "c1")
	require.NoError(t, err)
	assert.Equal(t, before, w.store.reads.Load(), "the real session is still a hit")
}

func TestTokens_HitStillLetsTheDomainDecideExpiryAndTouch(t *testing.T) {
	w := newTwo(t, sessioncache.Options{TTL: time.Hour})
	policy := domain.SessionPolicy{}.WithDefaults()
	s, _, d := porttest.NewTokenSession(t, "oALICE", "", porttest.Start)
	_, err := w.tokensA.Create(ctx, d, s, porttest.Start, policy)
	require.NoError(t, err)
	_, err = w.tokensA.Authenticate(ctx, d, porttest.Start.Add(time.Second), policy)
	require.NoError(t, err)
	got, err := w.tokensA.Authenticate(ctx, d, porttest.Start.Add(30*time.Second), policy)
	require.NoError(t, err)
	assert.EqualValues(t, 1, w.tokens.reads.Load(), "a hit within the minute")
	got.Touch(porttest.Start.Add(10*time.Minute), policy) // the caller's copy is its own

	_, err = w.tokensA.Authenticate(ctx, d, porttest.Start.Add(2*time.Minute), policy)
	require.NoError(t, err)
	assert.EqualValues(t, 2, w.tokens.reads.Load(), "a due write of the use goes to the store")
	stored, err := w.tokens.Sessions(ctx, "oALICE", porttest.Start.Add(2*time.Minute))
	require.NoError(t, err)
	require.Len(t, stored, 1)
	assert.True(t, stored[0].LastSeenAt().Equal(porttest.Start.Add(2*time.Minute)), "and is written")

	_, err = w.tokensA.Authenticate(ctx, d, porttest.Start.Add(2*time.Minute+policy.Idle), policy)
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "an idle session is refused, cached or not")
	_, err = w.tokensA.Authenticate(ctx, d, porttest.Start.Add(policy.MaxAge), policy)
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "past its lifetime too")
}

func TestTokens_UnknownDigestIsNotCached(t *testing.T) {
	w := newTwo(t, sessioncache.Options{})
	_, _, d := porttest.NewTokenSession(t, "oALICE", "", porttest.Start)
	for range 2 {
		_, err := w.tokensA.Authenticate(ctx, d, porttest.Start, domain.SessionPolicy{})
		assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err))
	}
	assert.EqualValues(t, 2, w.tokens.reads.Load())
	assert.Equal(t, 0, w.a.Stats().Entries)
}
