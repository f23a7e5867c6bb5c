package porttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// TokenSessionHarness is one fresh, empty token session store under test.
type TokenSessionHarness struct {
	Store ports.TokenSessionStore
}

// Start is the time the token contract's sessions are created at.
var Start = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// NewTokenSession returns a session of openID created at now, with a token
// in the owner's shard.
func NewTokenSession(t testing.TB, openID, device string, now time.Time) (*domain.TokenSession, domain.Token, domain.TokenDigest) {
	t.Helper()
	id, err := domain.NewSessionID()
	require.NoError(t, err)
	tok, digest, err := domain.MintToken(openID)
	require.NoError(t, err)
	s, err := domain.NewTokenSession(id, domain.WxSession{OpenID: openID, UnionID: "u-" + openID}, "sealed-"+id, device, now, domain.SessionPolicy{})
	require.NoError(t, err)
	return s, tok, digest
}

// TestTokenSessionStore runs the TokenSessionStore contract. newHarness
// must return an empty store isolated from every other test's.
func TestTokenSessionStore(t *testing.T, newHarness func(t *testing.T) TokenSessionHarness) {
	ctx := context.Background()
	policy := domain.SessionPolicy{}.WithDefaults()
	create := func(t *testing.T, st ports.TokenSessionStore, openID, device string, now time.Time, p domain.SessionPolicy) (*domain.TokenSession, domain.TokenDigest, []string) {
		t.Helper()
		s, _, d := NewTokenSession(t, openID, device, now)
		ended, err := st.Create(ctx, d, s, now, p)
		require.NoError(t, err)
		return s, d, ended
	}
	expired := func(t *testing.T, st ports.TokenSessionStore, d domain.TokenDigest, now time.Time, msg string) {
		t.Helper()
		_, err := st.Authenticate(ctx, d, now, policy)
		assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), msg)
	}

	t.Run("Create_ThenAuthenticateReturnsTheSession", func(t *testing.T) {
		st := newHarness(t).Store
		s, d, ended := create(t, st, "oALICE", "iPhone 15 · 一笔", Start, policy)
		assert.Empty(t, ended)
		got, err := st.Authenticate(ctx, d, Start.Add(time.Second), policy)
		require.NoError(t, err)
		assert.Equal(t, s.ID(), got.ID())
		assert.Equal(t, "oALICE", got.OpenID())
		assert.Equal(t, "u-oALICE", got.UnionID())
		assert.Equal(t, s.SealedKey(), got.SealedKey())
		assert.Equal(t, "iPhone 15 · 一笔", got.Device())
		assert.True(t, s.CreatedAt().Equal(got.CreatedAt()))
		assert.True(t, s.LastSeenAt().Equal(got.LastSeenAt()))
		assert.True(t, s.ExpiresAt().Equal(got.ExpiresAt()))
		assert.True(t, s.MaxExpiresAt().Equal(got.MaxExpiresAt()))
	})

	t.Run("Authenticate_UnknownDigestIsExpired", func(t *testing.T) {
		st := newHarness(t).Store
		create(t, st, "oALICE", "", Start, policy)
		_, _, other := NewTokenSession(t, "oALICE", "", Start)
		expired(t, st, other, Start, "a token never stored")
	})

	t.Run("Authenticate_IdleExpirySlidesWithUse", func(t *testing.T) {
		st := newHarness(t).Store
		_, d, _ := create(t, st, "oALICE", "", Start, policy)
		for day := 5; day <= 20; day += 5 { // each use within the 7-day idle timeout
			got, err := st.Authenticate(ctx, d, Start.Add(time.Duration(day)*24*time.Hour), policy)
			require.NoError(t, err, "day %d", day)
			assert.True(t, got.LastSeenAt().Equal(Start.Add(time.Duration(day)*24*time.Hour)), "the use is recorded")
		}
		expired(t, st, d, Start.Add(20*24*time.Hour+policy.Idle), "idle for the whole timeout after the last use")
	})

	t.Run("Authenticate_IdleSessionIsExpired", func(t *testing.T) {
		st := newHarness(t).Store
		_, d, _ := create(t, st, "oALICE", "", Start, policy)
		expired(t, st, d, Start.Add(policy.Idle), "unused for the idle timeout")
	})

	t.Run("Authenticate_AbsoluteLifetimeNeverSlides", func(t *testing.T) {
		st := newHarness(t).Store
		_, d, _ := create(t, st, "oALICE", "", Start, policy)
		for at := 24 * time.Hour; at < policy.MaxAge; at += 24 * time.Hour {
			_, err := st.Authenticate(ctx, d, Start.Add(at), policy)
			require.NoError(t, err, "used daily, live at %s", at)
		}
		expired(t, st, d, Start.Add(policy.MaxAge), "past the absolute lifetime, however used")
	})

	t.Run("Authenticate_WritesTheUseBackAtMostOnceAMinute", func(t *testing.T) {
		st := newHarness(t).Store
		_, d, _ := create(t, st, "oALICE", "", Start, policy)
		got, err := st.Authenticate(ctx, d, Start.Add(30*time.Second), policy)
		require.NoError(t, err)
		assert.True(t, got.LastSeenAt().Equal(Start), "a use within the minute is not recorded")
		_, err = st.Authenticate(ctx, d, Start.Add(61*time.Second), policy)
		require.NoError(t, err)
		got, err = st.Authenticate(ctx, d, Start.Add(62*time.Second), policy)
		require.NoError(t, err)
		assert.True(t, got.LastSeenAt().Equal(Start.Add(61*time.Second)), "the use after a minute was written back: %s", got.LastSeenAt())
	})

	t.Run("Create_PastTheDeviceCapEndsTheLeastRecentlyUsed", func(t *testing.T) {
		st := newHarness(t).Store
		p := domain.SessionPolicy{MaxDevices: 3}.WithDefaults()
		var digests []domain.TokenDigest
		var ids []string
		for i := range 3 {
			s, d, ended := create(t, st, "oALICE", fmt.Sprintf("device %d", i), Start.Add(time.Duration(i)*time.Hour), p)
			assert.Empty(t, ended)
			digests, ids = append(digests, d), append(ids, s.ID())
		}
		// Device 0 is used last; device 1 is now the least recently used.
		_, err := st.Authenticate(ctx, digests[0], Start.Add(5*time.Hour), p)
		require.NoError(t, err)
		_, d4, ended := create(t, st, "oALICE", "device 3", Start.Add(6*time.Hour), p)
		assert.Equal(t, []string{ids[1]}, ended)
		expired(t, st, digests[1], Start.Add(6*time.Hour), "the least recently used device is ended")
		for _, d := range []domain.TokenDigest{digests[0], digests[2], d4} {
			_, err := st.Authenticate(ctx, d, Start.Add(6*time.Hour), p)
			assert.NoError(t, err, "the others stay")
		}
		_, d5, _ := create(t, st, "oBOB", "", Start.Add(6*time.Hour), p)
		_, err = st.Authenticate(ctx, d5, Start.Add(6*time.Hour), p)
		assert.NoError(t, err, "another user's devices are counted apart")
	})

	t.Run("Create_TheEleventhDeviceEndsTheLeastRecentlyUsed", func(t *testing.T) {
		st := newHarness(t).Store
		var first domain.TokenDigest
		for i := range domain.DefaultMaxDevices {
			_, d, ended := create(t, st, "oALICE", "", Start.Add(time.Duration(i)*time.Minute), policy)
			require.Empty(t, ended)
			if i == 0 {
				first = d
			}
		}
		_, _, ended := create(t, st, "oALICE", "", Start.Add(time.Hour), policy)
		assert.Len(t, ended, 1)
		expired(t, st, first, Start.Add(time.Hour), "the first device, least recently used, is ended")
		live, err := st.Sessions(ctx, "oALICE", Start.Add(time.Hour))
		require.NoError(t, err)
		assert.Len(t, live, domain.DefaultMaxDevices)
	})

	t.Run("Create_ConcurrentLoginsOfOneUserKeepTheCap", func(t *testing.T) {
		st := newHarness(t).Store
		p := domain.SessionPolicy{MaxDevices: 4}.WithDefaults()
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 16 {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				s, _, d := NewTokenSession(t, "oALICE", "", Start.Add(time.Duration(i)*time.Millisecond))
				if _, err := st.Create(ctx, d, s, Start.Add(time.Second), p); err != nil {
					errs <- err
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		live, err := st.Sessions(ctx, "oALICE", Start.Add(2*time.Second))
		require.NoError(t, err)
		assert.Len(t, live, 4, "concurrent logins never leave more than the cap")
	})

	t.Run("Sessions_NewestFirstLiveOnlyAndOwnersOnly", func(t *testing.T) {
		st := newHarness(t).Store
		a1, _, _ := create(t, st, "oALICE", "old", Start, policy)
		a2, _, _ := create(t, st, "oALICE", "new", Start.Add(time.Hour), policy)
		create(t, st, "oBOB", "bob's", Start.Add(2*time.Hour), policy)
		live, err := st.Sessions(ctx, "oALICE", Start.Add(3*time.Hour))
		require.NoError(t, err)
		require.Len(t, live, 2)
		assert.Equal(t, a2.ID(), live[0].ID())
		assert.Equal(t, a1.ID(), live[1].ID())
		assert.Equal(t, "new", live[0].Device())
		live, err = st.Sessions(ctx, "oALICE", Start.Add(time.Hour+policy.Idle))
		require.NoError(t, err)
		assert.Empty(t, live, "idle sessions are not listed")
		none, err := st.Sessions(ctx, "oNOBODY", Start)
		require.NoError(t, err)
		assert.NotNil(t, none)
		assert.Empty(t, none)
	})

	t.Run("Revoke_EndsTheSessionAndOnlyTheOwnersOwn", func(t *testing.T) {
		st := newHarness(t).Store
		a, da, _ := create(t, st, "oALICE", "", Start, policy)
		_, db, _ := create(t, st, "oALICE", "", Start, policy)
		bob, dbob, _ := create(t, st, "oBOB", "", Start, policy)
		err := st.Revoke(ctx, "oALICE", bob.ID(), Start)
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err), "another user's session is not found")
		_, err = st.Authenticate(ctx, dbob, Start, policy)
		assert.NoError(t, err, "and stays live")
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(st.Revoke(ctx, "oALICE", "no-such-session", Start)))

		require.NoError(t, st.Revoke(ctx, "oALICE", a.ID(), Start))
		expired(t, st, da, Start, "a revoked session")
		_, err = st.Authenticate(ctx, db, Start, policy)
		assert.NoError(t, err, "the other device still works")
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(st.Revoke(ctx, "oALICE", a.ID(), Start)), "revoked once")
	})

	t.Run("RevokeAll_EndsEverySessionOfTheOwner", func(t *testing.T) {
		st := newHarness(t).Store
		_, d1, _ := create(t, st, "oALICE", "", Start, policy)
		_, d2, _ := create(t, st, "oALICE", "", Start, policy)
		_, dold, _ := create(t, st, "oALICE", "", Start.Add(-policy.MaxAge), policy)
		_, dbob, _ := create(t, st, "oBOB", "", Start, policy)
		n, err := st.RevokeAll(ctx, "oALICE", Start)
		require.NoError(t, err)
		assert.Equal(t, 2, n, "the live ones are counted")
		for _, d := range []domain.TokenDigest{d1, d2, dold} {
			expired(t, st, d, Start, "every session of the owner")
		}
		_, err = st.Authenticate(ctx, dbob, Start, policy)
		assert.NoError(t, err, "another user's stays")
		n, err = st.RevokeAll(ctx, "oALICE", Start)
		require.NoError(t, err)
		assert.Zero(t, n)
	})

	t.Run("AddToken_AFurtherTokenReachesTheSession", func(t *testing.T) {
		st := newHarness(t).Store
		s, d1, _ := create(t, st, "oALICE", "", Start, policy)
		_, d2, err := domain.MintToken("oALICE")
		require.NoError(t, err)
		require.NoError(t, st.AddToken(ctx, "oALICE", s.ID(), d2, Start.Add(time.Second)))
		for _, d := range []domain.TokenDigest{d1, d2} {
			got, err := st.Authenticate(ctx, d, Start.Add(2*time.Second), policy)
			require.NoError(t, err)
			assert.Equal(t, s.ID(), got.ID())
		}
		live, err := st.Sessions(ctx, "oALICE", Start.Add(2*time.Second))
		require.NoError(t, err)
		assert.Len(t, live, 1, "still one session")
		require.NoError(t, st.Revoke(ctx, "oALICE", s.ID(), Start.Add(3*time.Second)))
		expired(t, st, d1, Start.Add(3*time.Second), "revoking the session ends its first token")
		expired(t, st, d2, Start.Add(3*time.Second), "and the added one")
	})

	t.Run("AddToken_KeepsAtMostMaxTokensPerSession", func(t *testing.T) {
		st := newHarness(t).Store
		s, first, _ := create(t, st, "oALICE", "", Start, policy)
		var last domain.TokenDigest
		for i := range domain.MaxTokensPerSession {
			_, d, err := domain.MintToken("oALICE")
			require.NoError(t, err)
			require.NoError(t, st.AddToken(ctx, "oALICE", s.ID(), d, Start.Add(time.Duration(i+1)*time.Second)))
			last = d
		}
		expired(t, st, first, Start.Add(time.Minute), "the oldest token stops working")
		_, err := st.Authenticate(ctx, last, Start.Add(time.Minute), policy)
		assert.NoError(t, err)
	})

	t.Run("AddToken_ToAnotherOwnersOrARevokedSessionIsExpired", func(t *testing.T) {
		st := newHarness(t).Store
		bob, _, _ := create(t, st, "oBOB", "", Start, policy)
		_, d, err := domain.MintToken("oALICE")
		require.NoError(t, err)
		assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(st.AddToken(ctx, "oALICE", bob.ID(), d, Start)))
		expired(t, st, d, Start, "nothing was added")
		a, _, _ := create(t, st, "oALICE", "", Start, policy)
		require.NoError(t, st.Revoke(ctx, "oALICE", a.ID(), Start))
		assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(st.AddToken(ctx, "oALICE", a.ID(), d, Start)))
	})

	t.Run("DigestOutsideTheOwnersShardIsInvalid", func(t *testing.T) {
		st := newHarness(t).Store
		s, _, _ := NewTokenSession(t, "oALICE", "", Start)
		var wrong domain.TokenDigest
		for {
			_, d, err := domain.MintToken(fmt.Sprintf("o%d", time.Now().UnixNano()))
			require.NoError(t, err)
			if d.Shard() != domain.UserShard("oALICE") {
				wrong = d
				break
			}
		}
		_, err := st.Create(ctx, wrong, s, Start, policy)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		expired(t, st, wrong, Start, "nothing was stored")
	})
}

// LoginCodesHarness is one fresh, empty login code store under test.
type LoginCodesHarness struct {
	Codes ports.LoginCodes
	// Advance moves the store's time forward by d: a fake clock for an
	// in-process store, a real wait for a server that keeps its own time.
	Advance func(d time.Duration)
}

// TestLoginCodes runs the LoginCodes contract.
func TestLoginCodes(t *testing.T, newHarness func(t *testing.T) LoginCodesHarness) {
	ctx := context.Background()
	res := ports.LoginResult{Owner: "oALICE", SessionID: "session-1"}

	t.Run("Claim_OnceThenInProgress", func(t *testing.T) {
		c := newHarness(t).Codes
		claimed, done, err := c.Claim(ctx, "code-1", time.Minute)
		require.NoError(t, err)
		assert.True(t, claimed)
		assert.Zero(t, done)
		claimed, done, err = c.Claim(ctx, "code-1", time.Minute)
		require.NoError(t, err)
		assert.False(t, claimed, "claimed already")
		assert.Zero(t, done, "still in progress")
		claimed, _, err = c.Claim(ctx, "code-2", time.Minute)
		require.NoError(t, err)
		assert.True(t, claimed, "another code is its own")
	})

	t.Run("Complete_ThenClaimAnswersTheSession", func(t *testing.T) {
		c := newHarness(t).Codes
		_, _, err := c.Claim(ctx, "code-1", time.Minute)
		require.NoError(t, err)
		require.NoError(t, c.Complete(ctx, "code-1", res, 5*time.Minute))
		claimed, done, err := c.Claim(ctx, "code-1", time.Minute)
		require.NoError(t, err)
		assert.False(t, claimed)
		assert.Equal(t, res, done)
	})

	t.Run("Release_LetsTheCodeBeClaimedAgain", func(t *testing.T) {
		c := newHarness(t).Codes
		_, _, err := c.Claim(ctx, "code-1", time.Minute)
		require.NoError(t, err)
		require.NoError(t, c.Release(ctx, "code-1"))
		claimed, _, err := c.Claim(ctx, "code-1", time.Minute)
		require.NoError(t, err)
		assert.True(t, claimed)
	})

	t.Run("Claim_AnAbandonedLeaseEnds", func(t *testing.T) {
		h := newHarness(t)
		_, _, err := h.Codes.Claim(ctx, "code-1", time.Second)
		require.NoError(t, err)
		h.Advance(1500 * time.Millisecond)
		claimed, _, err := h.Codes.Claim(ctx, "code-1", time.Second)
		require.NoError(t, err)
		assert.True(t, claimed, "a claim whose holder died is taken over after its lease")
	})

	t.Run("Complete_IsForgottenAfterItsTTL", func(t *testing.T) {
		h := newHarness(t)
		_, _, err := h.Codes.Claim(ctx, "code-1", time.Second)
		require.NoError(t, err)
		require.NoError(t, h.Codes.Complete(ctx, "code-1", res, time.Second))
		h.Advance(1500 * time.Millisecond)
		claimed, _, err := h.Codes.Claim(ctx, "code-1", time.Second)
		require.NoError(t, err)
		assert.True(t, claimed)
	})

	t.Run("Complete_EmptyResultIsInvalid", func(t *testing.T) {
		c := newHarness(t).Codes
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(c.Complete(ctx, "code-1", ports.LoginResult{}, time.Minute)))
	})

	t.Run("Claim_ConcurrentClaimsOfOneCodeHaveOneWinner", func(t *testing.T) {
		c := newHarness(t).Codes
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners := 0
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				claimed, _, err := c.Claim(ctx, "code-1", time.Minute)
				assert.NoError(t, err)
				if claimed {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, 1, winners)
	})
}
