// Package porttest holds the contract suites of the ports: each is written
// once and run against every adapter of its port (the in-process ones here,
// Redis and MongoDB in tests/), so every adapter keeps the same promises.
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

// SessionHarness is one fresh, empty session store under test.
type SessionHarness struct {
	Store ports.SessionStore
	// Advance moves the store's time forward by d: a fake clock for an
	// in-process store, a real wait for a server that keeps its own time.
	Advance func(d time.Duration)
}

// User returns user info for openID built the way the session use case
// builds it.
func User(t testing.TB, openID, rawData string) domain.UserInfo {
	t.Helper()
	raw, err := domain.DecodeRawData(rawData)
	require.NoError(t, err)
	return domain.NewUserInfo(raw, openID)
}

// TestSessionStore runs the SessionStore contract. newHarness must return
// an empty store isolated from every other test's.
func TestSessionStore(t *testing.T, newHarness func(t *testing.T) SessionHarness) {
	ctx := context.Background()
	alice := User(t, "oALICE", `{"nickName":"alice","gender":1}`)
	bob := User(t, "oBOB", `{"nickName":"bob"}`)

	t.Run("Get_UnknownCodeIsExpired", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.Store.Get(ctx, "never-seen")
		assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err))
	})

	t.Run("Login_ThenGetReturnsTheSessionByteForByte", func(t *testing.T) {
		h := newHarness(t)
		u := User(t, "o中文", `{"nickName":"一笔到底🎨","city":"深圳","avatarUrl":"https://x/a?b=1&c=<2>"}`)
		require.NoError(t, h.Store.Login(ctx, domain.Session{Code: "code-1", User: u, Proof: "proof-1"}, time.Hour))
		got, err := h.Store.Get(ctx, "code-1")
		require.NoError(t, err)
		assert.Equal(t, "code-1", got.Code)
		assert.Equal(t, "o中文", got.User.OpenID())
		assert.Equal(t, string(u.JSON()), string(got.User.JSON()))
		assert.Equal(t, "proof-1", got.Proof)
		user, err := h.Store.User(ctx, "code-1")
		require.NoError(t, err)
		assert.Equal(t, string(u.JSON()), string(user.JSON()), "User answers what Get does")
	})

	t.Run("User_UnknownOrRevokedCodeIsExpired", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.Store.User(ctx, "never-seen")
		assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err))
		require.NoError(t, h.Store.Login(ctx, domain.Session{Code: "old", User: alice}, time.Hour))
		require.NoError(t, h.Store.Login(ctx, domain.Session{Code: "new", User: alice}, time.Hour))
		_, err = h.Store.User(ctx, "old")
		assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err))
	})

	t.Run("Login_WithoutProofKeepsItEmpty", func(t *testing.T) {
		h := newHarness(t)
		require.NoError(t, h.Store.Login(ctx, domain.Session{Code: "code-1", User: alice}, time.Hour))
		got, err := h.Store.Get(ctx, "code-1")
		require.NoError(t, err)
		assert.Empty(t, got.Proof)
	})

	t.Run("TTL_SessionExpiresAfterItsTTL", func(t *testing.T) {
		h := newHarness(t)
		require.NoError(t, h.Store.Login(ctx, domain.Session{Code: "code-1", User: alice}, 2*time.Second))
		h.Advance(time.Second)
		_, err := h.Store.Get(ctx, "code-1")
		require.NoError(t, err, "alive before its TTL")
		h.Advance(1500 * time.Millisecond)
		_, err = h.Store.Get(ctx, "code-1")
		assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "gone after its TTL")
		_, err = h.Store.User(ctx, "code-1")
		assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "for User too")
	})

	t.Run("Relogin_RevokesThePreviousCodeOfTheUser", func(t *testing.T) {
		h := newHarness(t)
		require.NoError(t, h.Store.Login(ctx, domain.Session{Code: "old", User: alice}, time.Hour))
		require.NoError(t, h.Store.Login(ctx, domain.Session{Code: "new", User: alice}, time.Hour))
		_, err := h.Store.Get(ctx, "old")
		assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "the old code is revoked")
		got, err := h.Store.Get(ctx, "new")
		require.NoError(t, err)
		assert.Equal(t, "oALICE", got.User.OpenID())
	})

	t.Run("Relogin_LeavesOtherUsersAlone", func(t *testing.T) {
		h := newHarness(t)
		require.NoError(t, h.Store.Login(ctx, domain.Session{Code: "alice-1", User: alice}, time.Hour))
		require.NoError(t, h.Store.Login(ctx, domain.Session{Code: "bob-1", User: bob}, time.Hour))
		require.NoError(t, h.Store.Login(ctx, domain.Session{Code: "alice-2", User: alice}, time.Hour))
		got, err := h.Store.Get(ctx, "bob-1")
		require.NoError(t, err)
		assert.Equal(t, "oBOB", got.User.OpenID())
	})

	t.Run("Relogin_SameCodeAgainKeepsItLive", func(t *testing.T) {
		h := newHarness(t)
		require.NoError(t, h.Store.Login(ctx, domain.Session{Code: "code-1", User: alice, Proof: "p"}, time.Hour))
		require.NoError(t, h.Store.Login(ctx, domain.Session{Code: "code-1", User: alice, Proof: "p"}, time.Hour))
		_, err := h.Store.Get(ctx, "code-1")
		assert.NoError(t, err)
	})

	t.Run("Relogin_AfterTheOldSessionExpiredStillWorks", func(t *testing.T) {
		h := newHarness(t)
		require.NoError(t, h.Store.Login(ctx, domain.Session{Code: "old", User: alice}, time.Second))
		h.Advance(1500 * time.Millisecond)
		require.NoError(t, h.Store.Login(ctx, domain.Session{Code: "new", User: alice}, time.Hour))
		_, err := h.Store.Get(ctx, "new")
		assert.NoError(t, err)
	})

	t.Run("Relogin_ConcurrentLoginsLeaveOneLiveCode", func(t *testing.T) {
		h := newHarness(t)
		const n = 16
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				errs[i] = h.Store.Login(ctx, domain.Session{Code: fmt.Sprintf("code-%d", i), User: alice}, time.Hour)
			}(i)
		}
		wg.Wait()
		live := 0
		for i := 0; i < n; i++ {
			require.NoError(t, errs[i])
			if _, err := h.Store.Get(ctx, fmt.Sprintf("code-%d", i)); err == nil {
				live++
			}
		}
		assert.Equal(t, 1, live, "one live session per user, the newest login wins")
	})

	t.Run("Login_RejectsInvalidSessions", func(t *testing.T) {
		h := newHarness(t)
		for name, c := range map[string]struct {
			sess domain.Session
			ttl  time.Duration
		}{
			"empty code":    {domain.Session{Code: "", User: alice}, time.Hour},
			"no user":       {domain.Session{Code: "c"}, time.Hour},
			"ttl below 1 s": {domain.Session{Code: "c", User: alice}, 500 * time.Millisecond},
		} {
			err := h.Store.Login(ctx, c.sess, c.ttl)
			assert.Equal(t, domain.EINVALID, domain.ErrorCode(err), name)
		}
		_, err := h.Store.Get(ctx, "c")
		assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "nothing was stored")
	})
}
