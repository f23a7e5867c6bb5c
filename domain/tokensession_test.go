package domain_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onestroke/onestroke/domain"
)

// The clock of these tests: plain time values from t0.
var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

var defaults = domain.SessionPolicy{}.WithDefaults()

func newSession(t *testing.T, id string, at time.Time, p domain.SessionPolicy) *domain.TokenSession {
	t.Helper()
	s, err := domain.NewTokenSession(id, domain.WxSession{OpenID: "oALICE", UnionID: "uALICE"}, "sealed", "iPhone", at, p)
	require.NoError(t, err)
	return s
}

func TestSessionPolicy_WithDefaults(t *testing.T) {
	assert.Equal(t, domain.SessionPolicy{Idle: 7 * day, MaxAge: 30 * day, MaxDevices: 10}, defaults)
	custom := domain.SessionPolicy{Idle: time.Hour, MaxAge: 2 * time.Hour, MaxDevices: 3}
	assert.Equal(t, custom, custom.WithDefaults())
}

func TestNewTokenSession_StartsNowWithBothExpiries(t *testing.T) {
	s, err := domain.NewTokenSession("s1", domain.WxSession{OpenID: "oALICE", UnionID: "uALICE"}, "sealed", "iPhone 15",
		t0.In(time.FixedZone("CST", 8*3600)), domain.SessionPolicy{})
	require.NoError(t, err)
	assert.Equal(t, "s1", s.ID())
	assert.Equal(t, "oALICE", s.OpenID())
	assert.Equal(t, "uALICE", s.UnionID())
	assert.Equal(t, "sealed", s.SealedKey())
	assert.Equal(t, "iPhone 15", s.Device())
	assert.Equal(t, t0, s.CreatedAt(), "in UTC")
	assert.Equal(t, t0, s.LastSeenAt())
	assert.Equal(t, t0.Add(7*day), s.IdleUntil())
	assert.Equal(t, t0.Add(30*day), s.MaxExpiresAt())
	assert.Equal(t, t0.Add(7*day), s.ExpiresAt())
	assert.NoError(t, s.Authenticate(t0))
}

func TestNewTokenSession_RefusesWhatIsNotASession(t *testing.T) {
	cases := []struct {
		name, id, openID, device string
	}{
		{"empty id", "", "oALICE", ""},
		{"empty openId", "s1", "", ""},
		{"both empty", "", "", ""},
		{"a device name with a control character", "s1", "oALICE", "my\nphone"},
		{"a device name too long", "s1", "oALICE", strings.Repeat("x", 65)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := domain.NewTokenSession(c.id, domain.WxSession{OpenID: c.openID}, "sealed", c.device, t0, domain.SessionPolicy{})
			assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
			assert.Nil(t, s)
		})
	}
}

func TestTouch_SlidesTheIdleExpiry(t *testing.T) {
	s := newSession(t, "s1", t0, domain.SessionPolicy{})
	assert.True(t, s.Live(t0.Add(7*day-time.Nanosecond)))
	assert.False(t, s.Live(t0.Add(7*day)), "idle for exactly the timeout: ended")

	require.True(t, s.Touch(t0.Add(6*day), domain.SessionPolicy{}))
	assert.Equal(t, t0.Add(6*day), s.LastSeenAt())
	assert.Equal(t, t0.Add(13*day), s.IdleUntil())
	assert.Equal(t, t0.Add(13*day), s.ExpiresAt())
	assert.NoError(t, s.Authenticate(t0.Add(13*day-time.Second)))
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(s.Authenticate(t0.Add(13*day))))
	assert.Equal(t, t0, s.CreatedAt(), "a use never moves the creation")
	assert.Equal(t, t0.Add(30*day), s.MaxExpiresAt(), "nor the absolute expiry")
}

func TestTouch_WritesBackAtMostOnceAMinute(t *testing.T) {
	s := newSession(t, "s1", t0, domain.SessionPolicy{})
	assert.False(t, s.Touch(t0, domain.SessionPolicy{}), "at its creation")
	assert.False(t, s.Touch(t0.Add(domain.TouchEvery-time.Nanosecond), domain.SessionPolicy{}))
	assert.Equal(t, t0, s.LastSeenAt(), "a use within TouchEvery changes nothing")
	assert.Equal(t, t0.Add(7*day), s.IdleUntil())

	require.True(t, s.Touch(t0.Add(domain.TouchEvery), domain.SessionPolicy{}))
	assert.Equal(t, t0.Add(time.Minute), s.LastSeenAt())
	assert.False(t, s.Touch(t0.Add(time.Minute+59*time.Second), domain.SessionPolicy{}))
	assert.True(t, s.Touch(t0.Add(2*time.Minute), domain.SessionPolicy{}))
	assert.False(t, s.Touch(t0.Add(time.Minute), domain.SessionPolicy{}), "a use from a clock behind the last one")
	assert.Equal(t, t0.Add(2*time.Minute), s.LastSeenAt())
}

func TestTouch_TheAbsoluteExpiryNeverSlides(t *testing.T) {
	s := newSession(t, "s1", t0, domain.SessionPolicy{})
	end := t0.Add(30 * day)
	for d := 1; d < 30; d++ { // used every day
		at := t0.Add(time.Duration(d) * day)
		require.NoError(t, s.Authenticate(at), "day %d", d)
		require.True(t, s.Touch(at, domain.SessionPolicy{}), "day %d", d)
		assert.Equal(t, end, s.MaxExpiresAt(), "day %d", d)
		assert.False(t, s.ExpiresAt().After(end), "day %d: %v", d, s.ExpiresAt())
		assert.False(t, s.IdleUntil().After(end), "day %d: the idle expiry never passes the absolute one: %v", d, s.IdleUntil())
	}
	assert.Equal(t, end, s.ExpiresAt())
	assert.True(t, s.Live(end.Add(-time.Nanosecond)))
	assert.False(t, s.Live(end))
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(s.Authenticate(end)))
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(s.Authenticate(end.Add(day))))
}

func TestExpiresAt_IsTheEarlierOfIdleAndAbsolute(t *testing.T) {
	cases := []struct {
		name   string
		policy domain.SessionPolicy
		use    time.Duration // after creation; 0: none
		want   time.Duration
	}{
		{"fresh: the idle expiry", domain.SessionPolicy{}, 0, 7 * day},
		{"used late: the absolute expiry", domain.SessionPolicy{}, 25 * day, 30 * day},
		{"used just before the idle one could pass it", domain.SessionPolicy{}, 23 * day, 30 * day},
		{"used earlier: the idle expiry", domain.SessionPolicy{}, 22 * day, 29 * day},
		{"an idle timeout longer than the lifetime", domain.SessionPolicy{Idle: 40 * day, MaxAge: 30 * day}, 0, 30 * day},
		{"short custom policy", domain.SessionPolicy{Idle: time.Hour, MaxAge: 90 * time.Minute}, 45 * time.Minute, 90 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSession(t, "s1", t0, c.policy)
			if c.use > 0 {
				require.True(t, s.Touch(t0.Add(c.use), c.policy))
			}
			assert.Equal(t, t0.Add(c.want), s.ExpiresAt())
			assert.Equal(t, t0.Add(c.policy.WithDefaults().MaxAge), s.MaxExpiresAt())
			assert.False(t, s.IdleUntil().After(s.MaxExpiresAt()), "idle until %v", s.IdleUntil())
			assert.True(t, s.Live(t0.Add(c.want-time.Nanosecond)))
			assert.False(t, s.Live(t0.Add(c.want)))
		})
	}
}

// stored rebuilds a session created at created and last used at lastSeen
// under the default policy.
func stored(t *testing.T, id string, created, lastSeen time.Time) *domain.TokenSession {
	t.Helper()
	s, err := domain.UnmarshalTokenSessionFromStorage(id, "oALICE", "", "sealed", "", created, lastSeen,
		lastSeen.Add(defaults.Idle), created.Add(defaults.MaxAge))
	require.NoError(t, err)
	return s
}

func sorted(ids []string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

func TestSessionsToEnd(t *testing.T) {
	now := t0.Add(10 * day)
	// ten live sessions, s0 … s9, s0 the least recently used
	ten := func() []*domain.TokenSession {
		var out []*domain.TokenSession
		for i := range 10 {
			out = append(out, stored(t, "s"+string(rune('0'+i)), t0.Add(time.Duration(i)*time.Hour), t0.Add(5*day+time.Duration(i)*time.Hour)))
		}
		return out
	}

	t.Run("NinePlusTheNewOneIsUnderTheCap", func(t *testing.T) {
		assert.Empty(t, domain.SessionsToEnd(ten()[:9], now, domain.SessionPolicy{}))
		assert.Empty(t, domain.SessionsToEnd(nil, now, domain.SessionPolicy{}))
	})

	t.Run("TheEleventhDeviceEndsTheLeastRecentlyUsed", func(t *testing.T) {
		existing := ten()
		slices.Reverse(existing) // the input's order does not matter
		assert.Equal(t, []string{"s0"}, domain.SessionsToEnd(existing, now, domain.SessionPolicy{}))
	})

	t.Run("LeastRecentlyUsedIsNotTheOldest", func(t *testing.T) {
		existing := ten()
		// s0 is the oldest but was just used; s4 was used least recently
		existing[0] = stored(t, "s0", t0, now.Add(-time.Minute))
		existing[4] = stored(t, "s4", t0.Add(4*time.Hour), t0.Add(4*time.Hour))
		assert.Equal(t, []string{"s4"}, domain.SessionsToEnd(existing, now, domain.SessionPolicy{}))
	})

	t.Run("TiesByLastUseAreBrokenByCreationThenID", func(t *testing.T) {
		seen := t0.Add(5 * day)
		existing := ten()[:8]
		existing = append(existing,
			stored(t, "b-newer", t0.Add(-time.Hour), seen),
			stored(t, "z-older", t0.Add(-2*time.Hour), seen))
		for i := range 8 { // the others used later
			existing[i] = stored(t, existing[i].ID(), existing[i].CreatedAt(), seen.Add(time.Hour))
		}
		assert.Equal(t, []string{"z-older"}, domain.SessionsToEnd(existing, now, domain.SessionPolicy{}), "the oldest of the tie")

		existing[9] = stored(t, "a-same", t0.Add(-time.Hour), seen)
		assert.Equal(t, []string{"a-same"}, domain.SessionsToEnd(existing, now, domain.SessionPolicy{}), "same creation: the smaller id")
	})

	t.Run("EndedButStoredSessionsAreAlwaysEnded", func(t *testing.T) {
		idle := stored(t, "idle", t0, t0.Add(day))                     // idle since day 8
		old := stored(t, "old", now.Add(-30*day), now.Add(-time.Hour)) // past its lifetime just now
		assert.Equal(t, []string{"idle", "old"}, sorted(domain.SessionsToEnd([]*domain.TokenSession{idle, old}, now, domain.SessionPolicy{})),
			"under the cap")

		existing := append(ten(), idle, old)
		assert.Equal(t, []string{"idle", "old", "s0"}, sorted(domain.SessionsToEnd(existing, now, domain.SessionPolicy{})),
			"ended ones do not count toward the cap, and do not spare a live one")
	})

	t.Run("ACapOfOneEndsAllOthers", func(t *testing.T) {
		existing := ten()[:4]
		got := domain.SessionsToEnd(existing, now, domain.SessionPolicy{MaxDevices: 1})
		assert.Equal(t, []string{"s0", "s1", "s2", "s3"}, got, "least recently used first")
		assert.Empty(t, domain.SessionsToEnd(nil, now, domain.SessionPolicy{MaxDevices: 1}))
	})

	t.Run("ASmallerCapEndsTheLeastRecentlyUsedFirst", func(t *testing.T) {
		assert.Equal(t, []string{"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"},
			domain.SessionsToEnd(ten(), now, domain.SessionPolicy{MaxDevices: 3}))
	})

	t.Run("TheInputIsNotReordered", func(t *testing.T) {
		existing := ten()
		slices.Reverse(existing)
		want := slices.Clone(existing)
		domain.SessionsToEnd(existing, now, domain.SessionPolicy{MaxDevices: 2})
		assert.Equal(t, want, existing)
	})
}

func TestValidateDevice(t *testing.T) {
	ok := []string{"", "iPhone 15 Pro", "华为 Mate 60", strings.Repeat("x", 64), strings.Repeat("设", 64), "📱 phone"}
	for _, d := range ok {
		assert.NoError(t, domain.ValidateDevice(d), "%q", d)
	}
	refused := map[string]string{
		"65 characters":         strings.Repeat("x", 65),
		"65 CJK characters":     strings.Repeat("设", 65),
		"a newline":             "my\nphone",
		"a NUL":                 "phone\x00",
		"a tab":                 "my\tphone",
		"DEL":                   "phone\x7f",
		"a C1 control (NEL)":    "phone\u0085",
		"an escape sequence":    "\x1b[31mred",
		"invalid UTF-8":         "phone\xff",
		"a truncated character": "设"[:2],
	}
	for name, d := range refused {
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(domain.ValidateDevice(d)), name)
	}
}

func TestUnmarshalTokenSessionFromStorage(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	full := func() (string, string, string, string, string, time.Time, time.Time, time.Time, time.Time) {
		return "s1", "oALICE", "uALICE", "sealed", "iPad", t0.In(cst), t0.Add(day).In(cst), t0.Add(8 * day).In(cst), t0.Add(30 * day).In(cst)
	}
	s, err := domain.UnmarshalTokenSessionFromStorage(full())
	require.NoError(t, err)
	assert.Equal(t, "s1", s.ID())
	assert.Equal(t, "oALICE", s.OpenID())
	assert.Equal(t, "uALICE", s.UnionID())
	assert.Equal(t, "sealed", s.SealedKey())
	assert.Equal(t, "iPad", s.Device())
	assert.Equal(t, t0, s.CreatedAt(), "in UTC")
	assert.Equal(t, t0.Add(day), s.LastSeenAt())
	assert.Equal(t, t0.Add(8*day), s.IdleUntil())
	assert.Equal(t, t0.Add(30*day), s.MaxExpiresAt())

	var zero time.Time
	incomplete := map[string]func() (*domain.TokenSession, error){
		"no id": func() (*domain.TokenSession, error) {
			_, o, u, k, d, c, l, i, e := full()
			return domain.UnmarshalTokenSessionFromStorage("", o, u, k, d, c, l, i, e)
		},
		"no openId": func() (*domain.TokenSession, error) {
			id, _, u, k, d, c, l, i, e := full()
			return domain.UnmarshalTokenSessionFromStorage(id, "", u, k, d, c, l, i, e)
		},
		"no createdAt": func() (*domain.TokenSession, error) {
			id, o, u, k, d, _, l, i, e := full()
			return domain.UnmarshalTokenSessionFromStorage(id, o, u, k, d, zero, l, i, e)
		},
		"no idleUntil": func() (*domain.TokenSession, error) {
			id, o, u, k, d, c, l, _, e := full()
			return domain.UnmarshalTokenSessionFromStorage(id, o, u, k, d, c, l, zero, e)
		},
		"no expiresAt": func() (*domain.TokenSession, error) {
			id, o, u, k, d, c, l, i, _ := full()
			return domain.UnmarshalTokenSessionFromStorage(id, o, u, k, d, c, l, i, zero)
		},
		"nothing": func() (*domain.TokenSession, error) {
			return domain.UnmarshalTokenSessionFromStorage("", "", "", "", "", zero, zero, zero, zero)
		},
	}
	for name, rebuild := range incomplete {
		s, err := rebuild()
		assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), name)
		assert.Nil(t, s, name)
	}
}

func TestNewSessionID_Is22CharactersOfBase64URLAndRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, err := domain.NewSessionID()
		require.NoError(t, err)
		require.Equal(t, 22, len(id))
		require.Equal(t, -1, strings.IndexFunc(id, func(r rune) bool {
			return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}), id)
		require.False(t, seen[id])
		seen[id] = true
	}
}
