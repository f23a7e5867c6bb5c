package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/mock"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
)

const appSecret = "the-app-secret-0123456789"

// tokenWorld is one deployment's shared stores; each service made from it
// is one instance of the service.
type tokenWorld struct {
	t        *testing.T
	clock    *porttest.Clock
	sessions *memstore.TokenSessions
	codes    *memstore.LoginCodes
	profiles *memstore.Profiles
	wx       *wechat
	logs     *bytes.Buffer
	mu       sync.Mutex // guards logs
}

func newTokenWorld(t *testing.T) *tokenWorld {
	clock := porttest.NewClock(porttest.Start)
	return &tokenWorld{t: t, clock: clock, sessions: memstore.NewTokenSessions(), codes: memstore.NewLoginCodes(clock.Now),
		profiles: memstore.NewProfiles(), wx: newWeChat(), logs: &bytes.Buffer{}}
}

func (w *tokenWorld) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.logs.Write(p)
}

func (w *tokenWorld) logText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.logs.String()
}

// instance returns a TokenService on the world's stores.
func (w *tokenWorld) instance(mutate ...func(*app.TokenService)) *app.TokenService {
	sealer, err := domain.NewSessionKeySealer(appSecret)
	require.NoError(w.t, err)
	s := &app.TokenService{Sessions: w.sessions, Codes: w.codes, Profiles: w.profiles, Exchanger: &w.wx.CodeExchanger,
		Sealer: sealer, Now: w.clock.Now, Gate: &app.ExchangeGate{}, Logger: slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, m := range mutate {
		m(s)
	}
	return s
}

func bearer(l app.Login) string { return "Bearer " + l.Token.Reveal() }

func TestTokenLogin_AnswersAWorkingTokenAndSealsTheSessionKey(t *testing.T) {
	w := newTokenWorld(t)
	s := w.instance()
	l, err := s.Login(context.Background(), app.LoginRequest{Code: "code-1", Device: "iPhone 15"})
	require.NoError(t, err)
	_, err = domain.ParseToken(l.Token.Reveal())
	require.NoError(t, err, "a token of the format")
	assert.Equal(t, "oALICE", l.Session.OpenID())
	assert.Equal(t, "iPhone 15", l.Session.Device())
	assert.True(t, l.Session.ExpiresAt().Equal(porttest.Start.Add(domain.DefaultTokenIdle)))

	got, err := s.Authenticate(context.Background(), bearer(l))
	require.NoError(t, err)
	assert.Equal(t, l.Session.ID(), got.ID())

	assert.NotContains(t, got.SealedKey(), sessionKey.Reveal(), "the session_key is not kept in the clear")
	sealer, _ := domain.NewSessionKeySealer(appSecret)
	key, err := sealer.Open(got.SealedKey(), got.ID())
	require.NoError(t, err)
	assert.Equal(t, sessionKey, key, "sealed for this session under the app secret")
	assert.NotContains(t, w.logText(), sessionKey.Reveal())
	assert.NotContains(t, w.logText(), l.Token.Reveal())
}

func TestTokenLogin_TwentyConcurrentLoginsWithOneCodeCauseOneExchange(t *testing.T) {
	w := newTokenWorld(t)
	w.wx.delay = 50 * time.Millisecond
	s := w.instance()
	logins := make([]app.Login, 20)
	var wg sync.WaitGroup
	for i := range logins {
		wg.Go(func() {
			var err error
			logins[i], err = s.Login(context.Background(), app.LoginRequest{Code: "code-1"})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, w.wx.calls.Load(), "one code2Session call")
	for i, l := range logins {
		_, err := s.Authenticate(context.Background(), bearer(l))
		assert.NoError(t, err, "login %d has a working token", i)
	}
	live, err := w.sessions.Sessions(context.Background(), "oALICE", w.clock.Now())
	require.NoError(t, err)
	assert.Len(t, live, 1, "one session")
}

func TestTokenLogin_InstancesSharingTheStoresMakeOneExchange(t *testing.T) {
	w := newTokenWorld(t)
	w.wx.delay = 50 * time.Millisecond
	instances := []*app.TokenService{w.instance(), w.instance(), w.instance()}
	logins := make([]app.Login, 12)
	var wg sync.WaitGroup
	for i := range logins {
		wg.Go(func() {
			var err error
			logins[i], err = instances[i%len(instances)].Login(context.Background(), app.LoginRequest{Code: "code-1"})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, w.wx.calls.Load(), "one exchange across the instances")
	for i, l := range logins {
		got, err := instances[0].Authenticate(context.Background(), bearer(l))
		require.NoError(t, err, "login %d", i)
		assert.Equal(t, logins[0].Session.ID(), got.ID(), "one session")
	}
}

func TestTokenLogin_ARetriedCodeGetsANewTokenOfTheSessionWithoutAnExchange(t *testing.T) {
	w := newTokenWorld(t)
	s := w.instance()
	first, err := s.Login(context.Background(), app.LoginRequest{Code: "code-1"})
	require.NoError(t, err)
	s.Wait()                         // the code's record, written while the answer goes back, is in
	w.clock.Advance(4 * time.Minute) // the answer was lost; the client retries within the code's 5 minutes
	again, err := w.instance().Login(context.Background(), app.LoginRequest{Code: "code-1"})
	require.NoError(t, err)
	assert.EqualValues(t, 1, w.wx.calls.Load(), "no second exchange")
	assert.NotEqual(t, first.Token.Reveal(), again.Token.Reveal(), "a token of its own")
	assert.Equal(t, first.Session.ID(), again.Session.ID(), "of the same session")
	for _, l := range []app.Login{first, again} {
		_, err := s.Authenticate(context.Background(), bearer(l))
		assert.NoError(t, err)
	}

	w.clock.Advance(2 * time.Minute) // past the code's lifetime: WeChat's answer decides
	_, err = s.Login(context.Background(), app.LoginRequest{Code: "code-1"})
	assert.Equal(t, domain.EEXCHANGEREFUSED, domain.ErrorCode(err))
	assert.EqualValues(t, 2, w.wx.calls.Load())
}

func TestTokenLogin_ARetryAfterLogoutNeedsANewCode(t *testing.T) {
	w := newTokenWorld(t)
	s := w.instance()
	l, err := s.Login(context.Background(), app.LoginRequest{Code: "code-1"})
	require.NoError(t, err)
	require.NoError(t, s.Logout(context.Background(), l.Session))
	_, err = s.Login(context.Background(), app.LoginRequest{Code: "code-1"})
	assert.Equal(t, domain.EEXCHANGEREFUSED, domain.ErrorCode(err), "the code's session has ended: wx.login again")
	assert.EqualValues(t, 1, w.wx.calls.Load())
}

func TestTokenLogin_AFailedExchangeReleasesTheCode(t *testing.T) {
	w := newTokenWorld(t)
	real := w.wx.ExchangeFn
	fail := true
	w.wx.ExchangeFn = func(ctx context.Context, code string) (domain.WxSession, error) {
		if fail {
			fail = false
			w.wx.calls.Add(1)
			return domain.WxSession{}, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat could not be reached.")
		}
		return real(ctx, code)
	}
	s := w.instance()
	_, err := s.Login(context.Background(), app.LoginRequest{Code: "code-1"})
	assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
	_, err = s.Login(context.Background(), app.LoginRequest{Code: "code-1"})
	assert.NoError(t, err, "the retry exchanges the code itself")
	assert.EqualValues(t, 2, w.wx.calls.Load())
}

func TestTokenLogin_WeChatsAnswersInTheModernProtocolsTerms(t *testing.T) {
	refuse := func(code string, errcode int) error {
		return &domain.Error{Code: code, Message: "WeChat said no.", Detail: map[string]any{"errcode": errcode}}
	}
	tests := []struct {
		name       string
		err        error
		want       string
		retryAfter time.Duration
		logged     string
	}{
		{"invalid code", refuse(domain.EEXCHANGEREFUSED, 40029), domain.EEXCHANGEREFUSED, 0, "code exchange failed"},
		{"code used", refuse(domain.EEXCHANGEREFUSED, 40163), domain.EEXCHANGEREFUSED, 0, "code exchange failed"},
		{"high-risk user", refuse(domain.EEXCHANGEREFUSED, 40226), domain.EEXCHANGEREFUSED, 0, "code exchange failed"},
		{"WeChat's frequency limit", refuse(domain.EEXCHANGEREFUSED, 45011), domain.ERATELIMITED, time.Minute, ""},
		{"busy after the retry", refuse(domain.EEXCHANGEUNAVAILABLE, -1), domain.EEXCHANGEUNAVAILABLE, 0, "code exchange failed"},
		{"bad appid", refuse(domain.EEXCHANGEUNAVAILABLE, 40013), domain.EEXCHANGEUNAVAILABLE, 0, `"level":"ERROR","msg":"configuration error`},
		{"bad app secret", refuse(domain.EEXCHANGEUNAVAILABLE, 40125), domain.EEXCHANGEUNAVAILABLE, 0, `"level":"ERROR","msg":"configuration error`},
		{"bad appid, as a refusal", refuse(domain.EEXCHANGEREFUSED, 40013), domain.EEXCHANGEUNAVAILABLE, 0, "configuration error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newTokenWorld(t)
			w.wx.ExchangeFn = func(context.Context, string) (domain.WxSession, error) { return domain.WxSession{}, tt.err }
			_, err := w.instance().Login(context.Background(), app.LoginRequest{Code: "code-1"})
			assert.Equal(t, tt.want, domain.ErrorCode(err))
			assert.Equal(t, tt.retryAfter, domain.ErrorRetryAfter(err))
			if tt.logged != "" {
				assert.Contains(t, w.logText(), tt.logged)
			}
			assert.Zero(t, w.sessions.Len(), "no session")
		})
	}
}

func TestTokenLogin_SharesTheLegacyGateAndItsCount(t *testing.T) {
	w := newTokenWorld(t)
	var mu sync.Mutex
	outcomes := map[app.ExchangeOutcome]int{}
	refused := "203.0.113.9"
	gate := &app.ExchangeGate{
		Limiter: &mock.RateLimiter{AllowFn: func(_ context.Context, key string) (bool, time.Duration, error) {
			return key != refused, 30 * time.Second, nil
		}},
		Observe: func(o app.ExchangeOutcome) { mu.Lock(); outcomes[o]++; mu.Unlock() },
	}
	tokens := w.instance(func(s *app.TokenService) { s.Gate = gate })
	legacy := &app.SessionService{Store: memstore.NewSessionStore(w.clock.Now), Exchanger: &w.wx.CodeExchanger, Gate: gate}

	_, err := tokens.Login(context.Background(), app.LoginRequest{Code: "code-1", Client: "198.51.100.1"})
	require.NoError(t, err)
	_, err = tokens.Login(context.Background(), app.LoginRequest{Code: "code-2", Client: refused})
	assert.Equal(t, domain.ERATELIMITED, domain.ErrorCode(err))
	assert.Equal(t, 30*time.Second, domain.ErrorRetryAfter(err))
	_, err = legacy.Authenticate(context.Background(), firstHeaders("code-3"))
	require.NoError(t, err)
	assert.EqualValues(t, 2, w.wx.calls.Load(), "the rate-limited login never reached WeChat")
	assert.Equal(t, map[app.ExchangeOutcome]int{app.ExchangeOK: 2, app.ExchangeRateLimited: 1}, outcomes, "one count for both protocols")

	_, err = tokens.Login(context.Background(), app.LoginRequest{Code: "code-2", Client: "198.51.100.1"})
	assert.NoError(t, err, "the refused code was released: it may be claimed again")
}

func TestTokenLogin_ExchangeSlotsAreShared(t *testing.T) {
	w := newTokenWorld(t)
	held, release := make(chan struct{}), make(chan struct{})
	w.wx.ExchangeFn = func(ctx context.Context, code string) (domain.WxSession, error) {
		close(held)
		<-release
		return domain.WxSession{OpenID: "oALICE", SessionKey: sessionKey}, nil
	}
	gate := &app.ExchangeGate{MaxConcurrent: 1, Wait: 20 * time.Millisecond}
	legacy := &app.SessionService{Store: memstore.NewSessionStore(w.clock.Now), Exchanger: &w.wx.CodeExchanger, Gate: gate}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = legacy.Authenticate(context.Background(), firstHeaders("code-legacy"))
	}()
	<-held
	_, err := w.instance(func(s *app.TokenService) { s.Gate = gate }).Login(context.Background(), app.LoginRequest{Code: "code-1"})
	assert.Equal(t, domain.EBUSY, domain.ErrorCode(err), "the legacy login holds the only slot")
	close(release)
	<-done
}

func TestTokenLogin_MalformedInputIsRefusedBeforeAnything(t *testing.T) {
	w := newTokenWorld(t)
	s := w.instance()
	for _, req := range []app.LoginRequest{
		{Code: ""},
		{Code: strings.Repeat("c", domain.MaxCodeLength+1)},
		{Code: "code with spaces"},
		{Code: "c\x00de"},
		{Code: "code-1", Device: strings.Repeat("d", domain.MaxDeviceLength+1)},
		{Code: "code-1", Device: "line\nbreak"},
	} {
		_, err := s.Login(context.Background(), req)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err), "%q", req)
	}
	assert.Zero(t, w.wx.calls.Load())
	claimed, _, err := w.codes.Claim(context.Background(), "code-1", time.Minute)
	require.NoError(t, err)
	assert.True(t, claimed, "nothing was claimed")
}

func TestTokenLogin_PastTheDeviceCapTheLeastRecentlyUsedEnds(t *testing.T) {
	w := newTokenWorld(t)
	s := w.instance(func(s *app.TokenService) { s.Policy = domain.SessionPolicy{MaxDevices: 2} })
	var logins []app.Login
	for _, code := range []string{"code-1", "code-2", "code-3"} {
		l, err := s.Login(context.Background(), app.LoginRequest{Code: code})
		require.NoError(t, err)
		logins = append(logins, l)
		w.clock.Advance(time.Hour)
	}
	_, err := s.Authenticate(context.Background(), bearer(logins[0]))
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "the first device is ended")
	for _, l := range logins[1:] {
		_, err := s.Authenticate(context.Background(), bearer(l))
		assert.NoError(t, err)
	}
}

func TestTokenAuthenticate_IdleAndAbsoluteExpiryFollowTheClock(t *testing.T) {
	w := newTokenWorld(t)
	s := w.instance(func(s *app.TokenService) { s.Policy = domain.SessionPolicy{Idle: time.Hour, MaxAge: 3 * time.Hour} })
	l, err := s.Login(context.Background(), app.LoginRequest{Code: "code-1"})
	require.NoError(t, err)
	for range 5 { // used every 50 minutes: the idle expiry slides, the absolute one does not
		w.clock.Advance(50 * time.Minute)
		if w.clock.Now().Before(porttest.Start.Add(3 * time.Hour)) {
			_, err := s.Authenticate(context.Background(), bearer(l))
			require.NoError(t, err, "at %s", w.clock.Now())
		}
	}
	_, err = s.Authenticate(context.Background(), bearer(l))
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "past the absolute lifetime")

	l, err = s.Login(context.Background(), app.LoginRequest{Code: "code-2"})
	require.NoError(t, err)
	w.clock.Advance(time.Hour)
	_, err = s.Authenticate(context.Background(), bearer(l))
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "idle for the idle timeout")
}

func TestTokenAuthenticate_WhatIsNotATokenIsNoSessionAndNeverLookedUp(t *testing.T) {
	store := &countingSessions{TokenSessionStore: memstore.NewTokenSessions()}
	w := newTokenWorld(t)
	s := w.instance(func(s *app.TokenService) { s.Sessions = store })
	l, err := s.Login(context.Background(), app.LoginRequest{Code: "code-1"})
	require.NoError(t, err)
	tok := l.Token.Reveal()
	for _, h := range []string{"", "Bearer", "Bearer ", "Basic " + tok, "Bearer " + tok[:len(tok)-1], "Bearer " + tok + "A",
		"Bearer xyz_" + tok[4:], "Bearer " + strings.Repeat("A", 10<<10), tok} {
		_, err := s.Authenticate(context.Background(), h)
		assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(err), "%.40q", h)
	}
	assert.Zero(t, store.authenticates, "never looked up")
	// One character changed to another of the alphabet (a bit flip could
	// leave it, as '-' ^ 3 = '.', and make the token not of the format).
	changed := []byte(tok)
	changed[10] = 'A'
	if tok[10] == 'A' {
		changed[10] = 'B'
	}
	_, err = s.Authenticate(context.Background(), "Bearer "+string(changed))
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "a token of the format that is not one")
	_, err = s.Authenticate(context.Background(), "bearer  "+tok)
	assert.NoError(t, err, "the scheme in any case, spaces before the token")
}

type countingSessions struct {
	ports.TokenSessionStore
	authenticates int
}

func (c *countingSessions) Authenticate(ctx context.Context, d domain.TokenDigest, now time.Time, p domain.SessionPolicy) (*domain.TokenSession, error) {
	c.authenticates++
	return c.TokenSessionStore.Authenticate(ctx, d, now, p)
}

func TestTokenSessions_LogoutListAndRevokeAreTheUsersOwn(t *testing.T) {
	ctx := context.Background()
	w := newTokenWorld(t)
	bobWorld := w.wx.ExchangeFn
	w.wx.ExchangeFn = func(ctx context.Context, code string) (domain.WxSession, error) {
		if strings.HasPrefix(code, "bob") {
			return domain.WxSession{OpenID: "oBOB", SessionKey: sessionKey}, nil
		}
		return bobWorld(ctx, code)
	}
	s := w.instance()
	phone, err := s.Login(ctx, app.LoginRequest{Code: "code-1", Device: "phone"})
	require.NoError(t, err)
	w.clock.Advance(time.Second)
	tablet, err := s.Login(ctx, app.LoginRequest{Code: "code-2", Device: "tablet"})
	require.NoError(t, err)
	bob, err := s.Login(ctx, app.LoginRequest{Code: "bob-1"})
	require.NoError(t, err)

	list, err := s.ListSessions(ctx, phone.Session)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, []string{"tablet", "phone"}, []string{list[0].Device(), list[1].Device()}, "newest first")

	assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(s.RevokeSession(ctx, phone.Session, bob.Session.ID())), "another user's session")
	_, err = s.Authenticate(ctx, bearer(bob))
	assert.NoError(t, err, "and it stays")

	require.NoError(t, s.RevokeSession(ctx, phone.Session, tablet.Session.ID()))
	_, err = s.Authenticate(ctx, bearer(tablet))
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "the revoked device")
	_, err = s.Authenticate(ctx, bearer(phone))
	assert.NoError(t, err, "the other device still works")

	require.NoError(t, s.Logout(ctx, phone.Session))
	_, err = s.Authenticate(ctx, bearer(phone))
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err))
	assert.NoError(t, s.Logout(ctx, phone.Session), "logging out twice is no error")

	b2, err := s.Login(ctx, app.LoginRequest{Code: "bob-2"})
	require.NoError(t, err)
	n, err := s.LogoutAll(ctx, b2.Session)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	_, err = s.Authenticate(ctx, bearer(bob))
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err))
}

func TestTokenProfile_UpdateValidatesAndTheLegacyUserInfoCarriesIt(t *testing.T) {
	ctx := context.Background()
	w := newTokenWorld(t)
	s := w.instance()
	l, err := s.Login(ctx, app.LoginRequest{Code: "code-1"})
	require.NoError(t, err)
	p, err := s.Profile(ctx, l.Session)
	require.NoError(t, err)
	assert.True(t, p.IsZero())

	nick, avatar := "一笔 Alice", "https://cdn.example/a.png"
	p, err = s.UpdateProfile(ctx, l.Session, domain.ProfileUpdate{NickName: &nick, AvatarURL: &avatar})
	require.NoError(t, err)
	assert.Equal(t, nick, p.NickName())
	for _, bad := range []domain.ProfileUpdate{
		{NickName: ptr("")}, {NickName: ptr(strings.Repeat("长", 33))}, {NickName: ptr("tab\there")}, {NickName: ptr("   ")},
		{AvatarURL: ptr("http://cdn.example/a.png")}, {AvatarURL: ptr("https://cdn.example/" + strings.Repeat("a", 500))},
		{AvatarURL: ptr("javascript:alert(1)")},
	} {
		_, err := s.UpdateProfile(ctx, l.Session, bad)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	}
	p, err = s.Profile(ctx, l.Session)
	require.NoError(t, err)
	assert.Equal(t, avatar, p.AvatarURL(), "refused updates stored nothing")

	u, err := s.User(ctx, l.Session, true)
	require.NoError(t, err)
	assert.JSONEq(t, `{"nickName":"一笔 Alice","avatarUrl":"https://cdn.example/a.png","openId":"oALICE"}`, string(u.JSON()))
	u, err = s.User(ctx, l.Session, false)
	require.NoError(t, err)
	assert.Equal(t, `{"openId":"oALICE"}`, string(u.JSON()))
}

func ptr(s string) *string { return &s }

// spyCodes is the world's login codes with hooks around Claim and Complete.
type spyCodes struct {
	ports.LoginCodes
	onClaim    func()
	onComplete func()
}

func (c *spyCodes) Claim(ctx context.Context, code string, lease time.Duration) (bool, ports.LoginResult, error) {
	if c.onClaim != nil {
		c.onClaim()
	}
	return c.LoginCodes.Claim(ctx, code, lease)
}

func (c *spyCodes) Complete(ctx context.Context, code string, res ports.LoginResult, ttl time.Duration) error {
	if c.onComplete != nil {
		c.onComplete()
	}
	return c.LoginCodes.Complete(ctx, code, res, ttl)
}

func TestTokenLogin_AsksTheBudgetAndTheClaimAtOnce(t *testing.T) {
	w := newTokenWorld(t)
	claimed := make(chan struct{})
	var once sync.Once
	codes := &spyCodes{LoginCodes: w.codes, onClaim: func() { once.Do(func() { close(claimed) }) }}
	gate := &app.ExchangeGate{Limiter: &mock.RateLimiter{AllowFn: func(ctx context.Context, _ string) (bool, time.Duration, error) {
		select { // answers only once the claim has been asked: asked one after the other, this would never end
		case <-claimed:
			return true, 0, nil
		case <-time.After(5 * time.Second):
			return false, time.Second, nil
		}
	}}}
	s := w.instance(func(s *app.TokenService) { s.Codes, s.Gate = codes, gate })
	_, err := s.Login(context.Background(), app.LoginRequest{Code: "code-1", Client: "198.51.100.1"})
	require.NoError(t, err, "the budget was asked while the claim was")
	assert.EqualValues(t, 1, w.wx.calls.Load())
}

func TestTokenLogin_ARetryWhileTheCodesRecordIsBeingWrittenWaitsForIt(t *testing.T) {
	w := newTokenWorld(t)
	writing, release := make(chan struct{}), make(chan struct{})
	codes := &spyCodes{LoginCodes: w.codes, onComplete: func() { close(writing); <-release }}
	first, err := w.instance(func(s *app.TokenService) { s.Codes = codes }).Login(context.Background(), app.LoginRequest{Code: "code-1"})
	require.NoError(t, err, "the answer does not wait for the code's record")
	<-writing

	retried := make(chan app.Login)
	go func() {
		l, err := w.instance().Login(context.Background(), app.LoginRequest{Code: "code-1"}) // another instance
		assert.NoError(t, err)
		retried <- l
	}()
	select {
	case <-retried:
		t.Fatal("the retry answered before the code's record was written")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	again := <-retried
	assert.Equal(t, first.Session.ID(), again.Session.ID(), "a token of the same session")
	assert.NotEqual(t, first.Token.Reveal(), again.Token.Reveal())
	assert.EqualValues(t, 1, w.wx.calls.Load(), "no second exchange")
}

func TestTokenLogin_PastTheUsersBudgetIsRateLimitedAndCreatesNothing(t *testing.T) {
	w := newTokenWorld(t)
	var mu sync.Mutex
	outcomes := map[app.ExchangeOutcome]int{}
	gate := &app.ExchangeGate{
		UserLimiter: &mock.RateLimiter{AllowFn: func(_ context.Context, key string) (bool, time.Duration, error) {
			return key != "oBOB", 40 * time.Second, nil
		}},
		Observe: func(o app.ExchangeOutcome) { mu.Lock(); outcomes[o]++; mu.Unlock() },
	}
	w.wx.ExchangeFn = func(_ context.Context, code string) (domain.WxSession, error) {
		user := map[string]string{"code-alice": "oALICE", "code-bob": "oBOB"}[code]
		return domain.WxSession{OpenID: user, SessionKey: sessionKey}, nil
	}
	s := w.instance(func(s *app.TokenService) { s.Gate = gate })

	_, err := s.Login(context.Background(), app.LoginRequest{Code: "code-bob", Client: "198.51.100.1"})
	assert.Equal(t, domain.ERATELIMITED, domain.ErrorCode(err))
	assert.Equal(t, 40*time.Second, domain.ErrorRetryAfter(err))
	assert.Contains(t, domain.ErrorMessage(err), "this user")
	list, err := w.sessions.Sessions(context.Background(), "oBOB", w.clock.Now())
	require.NoError(t, err)
	assert.Empty(t, list, "no session was created")
	claimed, _, err := w.codes.Claim(context.Background(), "code-bob", time.Minute)
	require.NoError(t, err)
	assert.True(t, claimed, "the code's claim was released")

	_, err = s.Login(context.Background(), app.LoginRequest{Code: "code-alice", Client: "198.51.100.1"})
	assert.NoError(t, err, "another user of the same address is not limited")
	assert.Equal(t, 1, outcomes[app.ExchangeRateLimited])
}
