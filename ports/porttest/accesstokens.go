package porttest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// AccessTokenStoreHarness is one fresh, empty access_token store under
// test, on the clock the suite gives.
type AccessTokenStoreHarness struct {
	Store ports.AccessTokenStore
	// Advance moves the suite's clock and the store's time forward by d:
	// the clock alone for an in-process store that tells time by it, the
	// clock and a real wait for a server that keeps its own time (lease
	// TTLs, a token's end).
	Advance func(d time.Duration)
}

// TestAccessTokenStore runs the AccessTokenStore contract. newHarness must
// return an empty store isolated from every other test's, telling time by
// clock where it tells time itself.
func TestAccessTokenStore(t *testing.T, newHarness func(t *testing.T, clock *Clock) AccessTokenStoreHarness) {
	ctx := context.Background()
	type world struct {
		AccessTokenStoreHarness
		clock *Clock
	}
	fresh := func(t *testing.T) world {
		clock := NewClock(Start)
		return world{newHarness(t, clock), clock}
	}
	token := func(v string, now time.Time, life time.Duration) ports.StoredAccessToken {
		return ports.StoredAccessToken{Token: domain.AccessToken(v), Expires: now.Add(life)}
	}
	lease := func(t *testing.T, st ports.AccessTokenStore, holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := st.Lease(ctx, holder, ttl)
		require.NoError(t, err)
		return ok
	}
	complete := func(t *testing.T, st ports.AccessTokenStore, holder string, tok ports.StoredAccessToken, now time.Time) bool {
		t.Helper()
		ok, err := st.Complete(ctx, holder, tok, now)
		require.NoError(t, err)
		return ok
	}
	current := func(t *testing.T, st ports.AccessTokenStore) ports.StoredAccessToken {
		t.Helper()
		cur, err := st.Current(ctx)
		require.NoError(t, err)
		return cur
	}
	take := func(t *testing.T, st ports.AccessTokenStore, now time.Time) (bool, time.Duration) {
		t.Helper()
		ok, retryAfter, err := st.TakeForcedRefresh(ctx, now)
		require.NoError(t, err)
		if ok {
			assert.Zero(t, retryAfter, "no wait when allowed")
		} else {
			assert.Greater(t, retryAfter, time.Duration(0), "a refusal says how long to wait")
		}
		return ok, retryAfter
	}

	t.Run("Current_NoneInAnEmptyStore", func(t *testing.T) {
		w := fresh(t)
		assert.Zero(t, current(t, w.Store))
	})

	t.Run("Complete_StoresTheTokenForEveryReaderAndEndsTheLease", func(t *testing.T) {
		w := fresh(t)
		now := w.clock.Now()
		require.True(t, lease(t, w.Store, "holder-a", time.Minute))
		tok := token("AT-first", now, 2*time.Hour)
		require.True(t, complete(t, w.Store, "holder-a", tok, now))
		got := current(t, w.Store)
		assert.Equal(t, tok.Token.Reveal(), got.Token.Reveal())
		assert.True(t, tok.Expires.Equal(got.Expires), "the end is kept: %s", got.Expires)
		assert.True(t, lease(t, w.Store, "holder-b", time.Minute), "completing ended the lease")
	})

	t.Run("Complete_ReplacesTheStoredToken", func(t *testing.T) {
		w := fresh(t)
		now := w.clock.Now()
		require.True(t, lease(t, w.Store, "holder-a", time.Minute))
		require.True(t, complete(t, w.Store, "holder-a", token("AT-first", now, 2*time.Hour), now))
		require.True(t, lease(t, w.Store, "holder-b", time.Minute))
		second := token("AT-second", now, 90*time.Minute)
		require.True(t, complete(t, w.Store, "holder-b", second, now))
		got := current(t, w.Store)
		assert.Equal(t, "AT-second", got.Token.Reveal())
		assert.True(t, second.Expires.Equal(got.Expires))
	})

	t.Run("Lease_OneHolderAtATime", func(t *testing.T) {
		w := fresh(t)
		require.True(t, lease(t, w.Store, "holder-a", time.Minute))
		assert.False(t, lease(t, w.Store, "holder-b", time.Minute), "held by another")
		assert.False(t, lease(t, w.Store, "holder-a", time.Minute), "a lease is taken once, even by its holder")
	})

	t.Run("Complete_ByAnotherThanTheHolderStoresNothing", func(t *testing.T) {
		w := fresh(t)
		now := w.clock.Now()
		require.True(t, lease(t, w.Store, "holder-a", time.Minute))
		assert.False(t, complete(t, w.Store, "holder-b", token("AT-intruder", now, 2*time.Hour), now))
		assert.Zero(t, current(t, w.Store), "nothing stored")
		assert.False(t, lease(t, w.Store, "holder-b", time.Minute), "and the holder's lease stands")
		assert.True(t, complete(t, w.Store, "holder-a", token("AT-first", now, 2*time.Hour), now))
		assert.False(t, complete(t, w.Store, "holder-a", token("AT-again", now, 2*time.Hour), now), "a completed lease is not held any more")
		assert.Equal(t, "AT-first", current(t, w.Store).Token.Reveal())
	})

	t.Run("Complete_WithoutALeaseStoresNothing", func(t *testing.T) {
		w := fresh(t)
		now := w.clock.Now()
		assert.False(t, complete(t, w.Store, "holder-a", token("AT-first", now, 2*time.Hour), now))
		assert.Zero(t, current(t, w.Store))
	})

	t.Run("Release_FreesOnlyTheHoldersLease", func(t *testing.T) {
		w := fresh(t)
		now := w.clock.Now()
		require.True(t, lease(t, w.Store, "holder-a", time.Minute))
		require.NoError(t, w.Store.Release(ctx, "holder-b"))
		assert.False(t, lease(t, w.Store, "holder-b", time.Minute), "another's release frees nothing")
		require.NoError(t, w.Store.Release(ctx, "holder-a"))
		assert.True(t, lease(t, w.Store, "holder-b", time.Minute), "the holder's release frees it")
		assert.False(t, complete(t, w.Store, "holder-a", token("AT-late", now, 2*time.Hour), now), "a released holder cannot complete")
		assert.Zero(t, current(t, w.Store))
		require.NoError(t, w.Store.Release(ctx, "nobody"), "releasing what one does not hold is no error")
	})

	t.Run("Lease_OfAHolderThatDiedFreesAfterItsTTL", func(t *testing.T) {
		w := fresh(t)
		require.True(t, lease(t, w.Store, "holder-dead", time.Second))
		assert.False(t, lease(t, w.Store, "holder-b", time.Second), "within its TTL")
		w.Advance(1500 * time.Millisecond)
		require.True(t, lease(t, w.Store, "holder-b", time.Minute), "after its TTL the lease is free")
		now := w.clock.Now()
		assert.False(t, complete(t, w.Store, "holder-dead", token("AT-stale", now, 2*time.Hour), now), "the late holder cannot overwrite")
		require.NoError(t, w.Store.Release(ctx, "holder-dead"))
		assert.True(t, complete(t, w.Store, "holder-b", token("AT-new", now, 2*time.Hour), now), "nor release the new holder's lease")
		assert.Equal(t, "AT-new", current(t, w.Store).Token.Reveal())
	})

	t.Run("Current_ForgetsTheTokenAtItsEnd", func(t *testing.T) {
		w := fresh(t)
		now := w.clock.Now()
		require.True(t, lease(t, w.Store, "holder-a", time.Minute))
		require.True(t, complete(t, w.Store, "holder-a", token("AT-short", now, time.Second), now))
		require.Equal(t, "AT-short", current(t, w.Store).Token.Reveal())
		w.Advance(1500 * time.Millisecond)
		assert.Zero(t, current(t, w.Store), "an ended token is not current")
	})

	t.Run("Invalid_InputIsRefusedAndChangesNothing", func(t *testing.T) {
		w := fresh(t)
		now := w.clock.Now()
		_, err := w.Store.Lease(ctx, "", time.Minute)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err), "an empty holder")
		_, err = w.Store.Lease(ctx, "holder-a", 0)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err), "no TTL")
		require.True(t, lease(t, w.Store, "holder-a", time.Minute), "the refusals took no lease")
		_, err = w.Store.Complete(ctx, "holder-a", ports.StoredAccessToken{Expires: now.Add(time.Hour)}, now)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err), "an empty token")
		_, err = w.Store.Complete(ctx, "holder-a", token("AT-ended", now, 0), now)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err), "a token that has ended")
		assert.Zero(t, current(t, w.Store), "nothing stored")
		assert.True(t, complete(t, w.Store, "holder-a", token("AT-first", now, time.Hour), now), "and the lease still held")
	})

	t.Run("Lease_ConcurrentCallersHaveOneWinner", func(t *testing.T) {
		w := fresh(t)
		var wg sync.WaitGroup
		var winners atomic.Int32
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := w.Store.Lease(ctx, fmt.Sprintf("holder-%d", i), time.Minute)
				assert.NoError(t, err)
				if ok {
					winners.Add(1)
				}
			}()
		}
		wg.Wait()
		assert.EqualValues(t, 1, winners.Load())
	})

	t.Run("TakeForcedRefresh_AtMostOneEvery30Seconds", func(t *testing.T) {
		w := fresh(t)
		now := w.clock.Now()
		ok, _ := take(t, w.Store, now)
		require.True(t, ok, "the first")
		ok, retryAfter := take(t, w.Store, now.Add(29*time.Second))
		assert.False(t, ok, "29 s later")
		assert.Equal(t, time.Second, retryAfter, "the rest of the 30 s")
		ok, _ = take(t, w.Store, now.Add(domain.ForcedRefreshInterval))
		assert.True(t, ok, "30 s later")
	})

	t.Run("TakeForcedRefresh_RefusalsCostNothing", func(t *testing.T) {
		w := fresh(t)
		now := w.clock.Now()
		ok, _ := take(t, w.Store, now)
		require.True(t, ok)
		for s := 1; s < 30; s += 2 {
			ok, _ := take(t, w.Store, now.Add(time.Duration(s)*time.Second))
			require.False(t, ok, "%d s after", s)
		}
		ok, _ = take(t, w.Store, now.Add(30*time.Second))
		assert.True(t, ok, "refusals do not push the next one further out")
		// 2 taken: 18 more fit in the day, refusals or not.
		at := now.Add(30 * time.Second)
		for i := range 18 {
			at = at.Add(domain.ForcedRefreshInterval)
			ok, _ := take(t, w.Store, at)
			require.True(t, ok, "refresh %d of the day", i+3)
			ok, _ = take(t, w.Store, at.Add(time.Second))
			require.False(t, ok)
		}
		ok, _ = take(t, w.Store, at.Add(time.Minute))
		assert.False(t, ok, "the 21st of the day")
	})

	t.Run("TakeForcedRefresh_TwentyInAWeChatDay", func(t *testing.T) {
		w := fresh(t)
		// Start is 09:00 UTC, 17:00 in Beijing: WeChat's day ends at 16:00 UTC.
		day, end := domain.ForcedRefreshDay(Start)
		require.Equal(t, "20261201", day)
		at := Start
		for i := range domain.ForcedRefreshesPerDay {
			ok, _ := take(t, w.Store, at)
			require.True(t, ok, "refresh %d of the day", i+1)
			at = at.Add(time.Minute)
		}
		ok, retryAfter := take(t, w.Store, at)
		assert.False(t, ok, "the 21st")
		assert.Equal(t, end.Sub(at), retryAfter, "until Beijing's midnight")
		ok, _ = take(t, w.Store, end.Add(-time.Second))
		assert.False(t, ok, "still the same WeChat day at 15:59:59 UTC")
		ok, _ = take(t, w.Store, end)
		assert.True(t, ok, "a new WeChat day at 16:00 UTC, though the UTC day is the same")
		ok, _ = take(t, w.Store, end.Add(domain.ForcedRefreshInterval))
		assert.True(t, ok, "the new day counts from one")
	})

	t.Run("TakeForcedRefresh_ConcurrentCallersHaveOneWinner", func(t *testing.T) {
		w := fresh(t)
		now := w.clock.Now()
		var wg sync.WaitGroup
		var winners atomic.Int32
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := w.Store.TakeForcedRefresh(ctx, now)
				assert.NoError(t, err)
				if ok {
					winners.Add(1)
				}
			}()
		}
		wg.Wait()
		assert.EqualValues(t, 1, winners.Load())
	})

	t.Run("TakeForcedRefresh_AnEarlierClockWaitsAtMostOneInterval", func(t *testing.T) {
		w := fresh(t)
		now := w.clock.Now()
		ok, _ := take(t, w.Store, now)
		require.True(t, ok)
		ok, retryAfter := take(t, w.Store, now.Add(-5*time.Second))
		assert.False(t, ok, "an instance whose clock is behind")
		assert.LessOrEqual(t, retryAfter, domain.ForcedRefreshInterval)
	})
}
