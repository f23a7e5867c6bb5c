package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/mock"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/tests/testenv"
)

const (
	sessionKey = domain.SessionKey("HyVFkGl5F5OQWJZZaNzBBg==")
	rawText    = `{"nickName":"一笔到底🎨","gender":1,"avatarUrl":"https://wx.qlogo.cn/a.png"}`
)

// wechat is a fake WeChat: single-use codes, one user, counts exchanges.
type wechat struct {
	mock.CodeExchanger
	calls atomic.Int32
	mu    sync.Mutex
	used  map[string]bool
	delay time.Duration
}

func newWeChat() *wechat {
	w := &wechat{used: map[string]bool{}}
	w.ExchangeFn = func(ctx context.Context, code string) (domain.WxSession, error) {
		w.calls.Add(1)
		if w.delay > 0 {
			time.Sleep(w.delay)
		}
		if err := ctx.Err(); err != nil {
			return domain.WxSession{}, domain.Wrap(domain.EEXCHANGEUNAVAILABLE, err, "cancelled")
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.used[code] {
			return domain.WxSession{}, domain.Errorf(domain.EEXCHANGEREFUSED, "code been used")
		}
		w.used[code] = true
		return domain.WxSession{OpenID: "oALICE", SessionKey: sessionKey}, nil
	}
	return w
}

func firstHeaders(code string) domain.Credentials {
	return domain.Credentials{Code: code, RawData: wechattest.EncodeURIComponent(rawText), Signature: domain.Sign(rawText, sessionKey)}
}

func newService(store *memstore.SessionStore, wx *wechat) *app.SessionService {
	return &app.SessionService{Store: store, Exchanger: wx, TTL: time.Hour, Codes: memstore.NewLoginCodes(nil)}
}

func TestAuthenticate_NoCodeIsAnonymous(t *testing.T) {
	s := &app.SessionService{Store: &mock.SessionStore{}, Exchanger: &mock.CodeExchanger{}} // any call would panic
	user, err := s.Authenticate(context.Background(), domain.Credentials{RawData: "%7B%7D", Signature: "x"})
	require.NoError(t, err)
	assert.Nil(t, user)
}

func TestAuthenticate_FirstRequestVerifiesAndStores(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	user, err := newService(store, wx).Authenticate(context.Background(), firstHeaders("c1"))
	require.NoError(t, err)
	assert.Equal(t, "oALICE", user.OpenID())
	assert.JSONEq(t, `{"nickName":"一笔到底🎨","gender":1,"avatarUrl":"https://wx.qlogo.cn/a.png","openId":"oALICE"}`, string(user.JSON()))
	sess, err := store.Get(context.Background(), "c1")
	require.NoError(t, err)
	assert.Equal(t, string(user.JSON()), string(sess.User.JSON()))
	assert.EqualValues(t, 1, wx.calls.Load())
}

func TestAuthenticate_CodeOnlyIsAnsweredFromTheStore(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	s := newService(store, wx)
	_, err := s.Authenticate(context.Background(), firstHeaders("c1"))
	require.NoError(t, err)
	user, err := s.Authenticate(context.Background(), domain.Credentials{Code: "c1"})
	require.NoError(t, err)
	assert.Equal(t, "oALICE", user.OpenID())
	assert.EqualValues(t, 1, wx.calls.Load())
}

func TestAuthenticate_UnknownCodeIsExpired(t *testing.T) {
	_, err := newService(memstore.NewSessionStore(nil), newWeChat()).Authenticate(context.Background(), domain.Credentials{Code: "gone"})
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err))
}

func TestAuthenticate_RepeatOfVerifiedHeadersSkipsWeChat(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	s := newService(store, wx)
	for i := 0; i < 3; i++ {
		user, err := s.Authenticate(context.Background(), firstHeaders("c1"))
		require.NoError(t, err, "repeat %d", i)
		assert.Equal(t, "oALICE", user.OpenID())
	}
	assert.EqualValues(t, 1, wx.calls.Load(), "the single-use code went to WeChat once")
}

func TestAuthenticate_RepeatWithForgedSignatureIsNotAnsweredFromTheStore(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	s := newService(store, wx)
	_, err := s.Authenticate(context.Background(), firstHeaders("c1"))
	require.NoError(t, err)
	forged := firstHeaders("c1")
	forged.RawData = wechattest.EncodeURIComponent(`{"nickName":"mallory"}`)
	_, err = s.Authenticate(context.Background(), forged)
	assert.Equal(t, domain.EEXCHANGEREFUSED, domain.ErrorCode(err), "WeChat decides, and the code is spent")
}

func TestAuthenticate_ForgedSignatureIsUntrustedAndStoresNothing(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	c := firstHeaders("c1")
	c.Signature = strings.Repeat("0", 40)
	_, err := newService(store, wx).Authenticate(context.Background(), c)
	assert.Equal(t, domain.EUNTRUSTED, domain.ErrorCode(err))
	_, err = store.Get(context.Background(), "c1")
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err))
}

func TestAuthenticate_BadRawDataNeverReachesWeChat(t *testing.T) {
	wx := newWeChat()
	for name, raw := range map[string]string{"broken percent": "%7B%ZZ", "not json": "hello", "not an object": "%5B1%5D"} {
		c := firstHeaders("c1")
		c.RawData = raw
		_, err := newService(memstore.NewSessionStore(nil), wx).Authenticate(context.Background(), c)
		assert.Equal(t, domain.EBADRAWDATA, domain.ErrorCode(err), name)
	}
	assert.EqualValues(t, 0, wx.calls.Load())
}

func TestAuthenticate_MalformedSignatureNeverReachesWeChat(t *testing.T) {
	good := firstHeaders("c1").Signature
	for name, sig := range map[string]string{
		"missing":   "",
		"short":     good[:39],
		"long":      good + "0",
		"uppercase": strings.ToUpper(good),
		"not hex":   strings.Repeat("z", 40),
	} {
		store, wx := memstore.NewSessionStore(nil), newWeChat()
		c := firstHeaders("c1")
		c.Signature = sig
		_, err := newService(store, wx).Authenticate(context.Background(), c)
		assert.Equal(t, domain.EUNTRUSTED, domain.ErrorCode(err), name)
		assert.EqualValues(t, 0, wx.calls.Load(), "%s: no exchange", name)
		assert.Equal(t, 0, store.Len(), "%s: nothing stored", name)
	}
}

func TestAuthenticate_OversizedCodeIsInvalid(t *testing.T) {
	wx := newWeChat()
	_, err := newService(memstore.NewSessionStore(nil), wx).Authenticate(context.Background(), domain.Credentials{Code: strings.Repeat("c", domain.MaxCodeLength+1)})
	assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
}

func TestAuthenticate_ExchangeRefusalPassesThroughAndStoresNothing(t *testing.T) {
	store := memstore.NewSessionStore(nil)
	wx := &mock.CodeExchanger{ExchangeFn: func(context.Context, string) (domain.WxSession, error) {
		return domain.WxSession{}, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "busy")
	}}
	_, err := (&app.SessionService{Store: store, Exchanger: wx}).Authenticate(context.Background(), firstHeaders("c1"))
	assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
	assert.Equal(t, 0, store.Len())
}

func TestAuthenticate_StoreDownIsUnavailable(t *testing.T) {
	down := domain.Errorf(domain.EUNAVAILABLE, "redis down")
	store := &mock.SessionStore{
		GetFn:   func(context.Context, string) (domain.Session, error) { return domain.Session{}, down },
		UserFn:  func(context.Context, string) (domain.UserInfo, error) { return domain.UserInfo{}, down },
		LoginFn: func(context.Context, domain.Session, time.Duration) error { return down },
	}
	s := &app.SessionService{Store: store, Exchanger: newWeChat()}
	_, err := s.Authenticate(context.Background(), domain.Credentials{Code: "c1"})
	assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err))
	_, err = s.Authenticate(context.Background(), firstHeaders("c1"))
	assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err))
}

func TestAuthenticate_ConcurrentFirstRequestsShareOneExchange(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	wx.delay = 50 * time.Millisecond
	s := newService(store, wx)
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = s.Authenticate(context.Background(), firstHeaders("c1"))
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "request %d", i)
	}
	assert.EqualValues(t, 1, wx.calls.Load())
}

func TestAuthenticate_CancelledLeaderDoesNotFailTheWaiters(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	wx.delay = 100 * time.Millisecond
	s := newService(store, wx)
	leaderCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := s.Authenticate(leaderCtx, firstHeaders("c1")); done <- err }()
	time.Sleep(20 * time.Millisecond)
	cancel() // the first client hung up mid-login
	_, err := s.Authenticate(context.Background(), firstHeaders("c1"))
	require.NoError(t, err)
	<-done
	assert.EqualValues(t, 1, wx.calls.Load())
}

func TestAuthenticate_GenuineWaiterBehindAForgedLeaderSucceeds(t *testing.T) {
	base := memstore.NewSessionStore(nil)
	wx := newWeChat()
	wx.delay = 150 * time.Millisecond
	genuineLooked := make(chan struct{})
	var once sync.Once
	store := &mock.SessionStore{
		GetFn: func(ctx context.Context, code string) (domain.Session, error) {
			if v := ctx.Value(genuineKey{}); v != nil {
				once.Do(func() { close(genuineLooked) })
			}
			return base.Get(ctx, code)
		},
		UserFn:  base.User,
		LoginFn: base.Login,
	}
	s := &app.SessionService{Store: store, Exchanger: wx, TTL: time.Hour}

	forged := firstHeaders("c1")
	forged.RawData = wechattest.EncodeURIComponent(`{"nickName":"mallory"}`)
	forgedErr := make(chan error, 1)
	go func() { _, err := s.Authenticate(context.Background(), forged); forgedErr <- err }()
	time.Sleep(30 * time.Millisecond) // the forged request leads the login

	genuine := make(chan error, 1)
	go func() {
		_, err := s.Authenticate(context.WithValue(context.Background(), genuineKey{}, true), firstHeaders("c1"))
		genuine <- err
	}()
	<-genuineLooked
	assert.Equal(t, domain.EUNTRUSTED, domain.ErrorCode(<-forgedErr))
	assert.NoError(t, <-genuine, "the genuine request verifies its own signature with the shared exchange")
	sess, err := base.Get(context.Background(), "c1")
	require.NoError(t, err)
	assert.Contains(t, string(sess.User.JSON()), "一笔到底")
	assert.EqualValues(t, 1, wx.calls.Load())
}

type genuineKey struct{}

func TestAuthenticate_LoginThatRacedAFinishedOneIsAnsweredFromTheStore(t *testing.T) {
	store := memstore.NewSessionStore(nil)
	c := firstHeaders("c1")
	raw, err := domain.DecodeRawData(c.RawData)
	require.NoError(t, err)
	// WeChat says "code been used" because an identical login finished
	// between this request's look-up and its exchange.
	wx := &mock.CodeExchanger{ExchangeFn: func(ctx context.Context, code string) (domain.WxSession, error) {
		sess := domain.Session{Code: code, User: domain.NewUserInfo(raw, "oALICE"), Proof: domain.LoginProof(raw.Text(), c.Signature)}
		require.NoError(t, store.Login(ctx, sess, time.Hour))
		return domain.WxSession{}, domain.Errorf(domain.EEXCHANGEREFUSED, "code been used")
	}}
	user, err := (&app.SessionService{Store: store, Exchanger: wx}).Authenticate(context.Background(), c)
	require.NoError(t, err)
	assert.Equal(t, "oALICE", user.OpenID())
}

// blockingWeChat holds every exchange until release is closed, and counts
// the exchanges in flight.
type blockingWeChat struct {
	mock.CodeExchanger
	entered  chan string
	release  chan struct{}
	inFlight atomic.Int32
	peak     atomic.Int32
	calls    atomic.Int32
}

func newBlockingWeChat() *blockingWeChat {
	w := &blockingWeChat{entered: make(chan string, 100), release: make(chan struct{})}
	w.ExchangeFn = func(ctx context.Context, code string) (domain.WxSession, error) {
		w.calls.Add(1)
		n := w.inFlight.Add(1)
		defer w.inFlight.Add(-1)
		for p := w.peak.Load(); n > p && !w.peak.CompareAndSwap(p, n); p = w.peak.Load() {
		}
		w.entered <- code
		<-w.release
		return domain.WxSession{OpenID: "o" + code, SessionKey: sessionKey}, nil
	}
	return w
}

func TestAuthenticate_ExchangeSlotsFullAnswersBusyAfterAShortWait(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newBlockingWeChat()
	s := &app.SessionService{Store: store, Exchanger: wx, TTL: time.Hour, Gate: &app.ExchangeGate{MaxConcurrent: 2, Wait: 50 * time.Millisecond}}
	held := make(chan error, 2)
	for _, code := range []string{"c1", "c2"} {
		go func() { _, err := s.Authenticate(context.Background(), firstHeaders(code)); held <- err }()
		<-wx.entered
	}

	start := time.Now()
	_, err := s.Authenticate(context.Background(), firstHeaders("c3"))
	assert.Equal(t, domain.EBUSY, domain.ErrorCode(err))
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond, "it waited for a slot first")
	assert.EqualValues(t, 2, wx.calls.Load(), "the third login never reached WeChat")
	_, gerr := store.Get(context.Background(), "c3")
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(gerr), "nothing stored")

	close(wx.release)
	require.NoError(t, <-held)
	require.NoError(t, <-held)
	_, err = s.Authenticate(context.Background(), firstHeaders("c3"))
	assert.NoError(t, err, "a slot is free again")
}

func TestAuthenticate_ConcurrentExchangesStayWithinTheBound(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newBlockingWeChat()
	s := &app.SessionService{Store: store, Exchanger: wx, TTL: time.Hour, Gate: &app.ExchangeGate{MaxConcurrent: 3, Wait: 10 * time.Second}}
	const n = 12
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.Authenticate(context.Background(), firstHeaders(fmt.Sprintf("c%d", i)))
			errs <- err
		}()
	}
	for range 3 {
		<-wx.entered
	}
	time.Sleep(20 * time.Millisecond) // the others are waiting for a slot, not at WeChat
	assert.EqualValues(t, 3, wx.calls.Load())
	close(wx.release)
	for range n {
		assert.NoError(t, <-errs, "every login gets its turn within the wait")
	}
	assert.EqualValues(t, 3, wx.peak.Load(), "at most MaxConcurrentExchanges at WeChat at once")
}

func TestAuthenticate_RequestsJoiningOneLoginTakeOneSlot(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newBlockingWeChat()
	s := &app.SessionService{Store: store, Exchanger: wx, TTL: time.Hour, Gate: &app.ExchangeGate{MaxConcurrent: 1, Wait: 10 * time.Millisecond}}
	const n = 10
	errs := make(chan error, n)
	go func() { _, err := s.Authenticate(context.Background(), firstHeaders("c1")); errs <- err }()
	<-wx.entered
	for range n - 1 {
		go func() { _, err := s.Authenticate(context.Background(), firstHeaders("c1")); errs <- err }()
	}
	time.Sleep(50 * time.Millisecond) // longer than ExchangeWait: a joiner that wanted a slot would be busy by now
	close(wx.release)
	for range n {
		assert.NoError(t, <-errs)
	}
	assert.EqualValues(t, 1, wx.calls.Load())
}

func TestAuthenticate_DefaultExchangeBound(t *testing.T) {
	assert.Equal(t, 64, app.DefaultMaxConcurrentExchanges)
	assert.LessOrEqual(t, app.DefaultExchangeWait, 2*time.Second)
	assert.GreaterOrEqual(t, app.DefaultExchangeWait, time.Second)
}

func fromClient(c domain.Credentials, addr string) domain.Credentials {
	c.Client = addr
	return c
}

func TestAuthenticate_LoginsPastTheRateLimitAreRefusedBeforeWeChat(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	s := newService(store, wx)
	s.Gate = &app.ExchangeGate{Limiter: memstore.NewRateLimiter(ports.RateLimit{Events: 1, Per: time.Minute, Burst: 2}, nil, 0), Logger: s.Logger}
	for _, code := range []string{"c1", "c2"} {
		_, err := s.Authenticate(context.Background(), fromClient(firstHeaders(code), "198.51.100.1"))
		require.NoError(t, err, code)
	}
	_, err := s.Authenticate(context.Background(), fromClient(firstHeaders("c3"), "198.51.100.1"))
	assert.Equal(t, domain.ERATELIMITED, domain.ErrorCode(err))
	assert.Greater(t, domain.ErrorRetryAfter(err), 50*time.Second, "about a minute until the next token")
	assert.EqualValues(t, 2, wx.calls.Load(), "the refused login never reached WeChat")
	_, gerr := store.Get(context.Background(), "c3")
	assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(gerr), "nothing stored")

	_, err = s.Authenticate(context.Background(), fromClient(firstHeaders("c3"), "198.51.100.2"))
	assert.NoError(t, err, "another address has its own budget")
}

func TestAuthenticate_RepeatsAndCachedRequestsAreNotRateLimited(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	s := newService(store, wx)
	s.Gate = &app.ExchangeGate{Limiter: memstore.NewRateLimiter(ports.RateLimit{Events: 1, Per: time.Minute, Burst: 1}, nil, 0), Logger: s.Logger}
	_, err := s.Authenticate(context.Background(), fromClient(firstHeaders("c1"), "198.51.100.1"))
	require.NoError(t, err)
	for i := range 5 {
		_, err := s.Authenticate(context.Background(), fromClient(firstHeaders("c1"), "198.51.100.1"))
		assert.NoError(t, err, "repeat %d of verified headers is answered from the store", i)
		_, err = s.Authenticate(context.Background(), fromClient(domain.Credentials{Code: "c1"}, "198.51.100.1"))
		assert.NoError(t, err, "code-only request %d", i)
	}
	_, err = s.Authenticate(context.Background(), fromClient(domain.Credentials{Code: "c1", RawData: "%7B%7D"}, "198.51.100.1"))
	assert.Equal(t, domain.EUNTRUSTED, domain.ErrorCode(err), "a malformed signature is refused before the limit counts it")
	assert.EqualValues(t, 1, wx.calls.Load())
}

func TestAuthenticate_RequestsJoiningOneLoginAreCountedOnce(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	wx.delay = 50 * time.Millisecond
	var limited atomic.Int32
	s := newService(store, wx)
	s.Gate = &app.ExchangeGate{Logger: s.Logger, Limiter: &mock.RateLimiter{AllowFn: func(context.Context, string) (bool, time.Duration, error) {
		limited.Add(1)
		return true, 0, nil
	}}}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Authenticate(context.Background(), fromClient(firstHeaders("c1"), "198.51.100.1"))
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 1, wx.calls.Load())
	assert.EqualValues(t, 1, limited.Load(), "one exchange, one attempt counted")
}

func TestAuthenticate_LimiterDownLetsLoginsThroughAndWarnsOnce(t *testing.T) {
	var logs testenv.SyncBuffer
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	s := newService(store, wx)
	s.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	s.Gate = &app.ExchangeGate{Logger: s.Logger, Limiter: &mock.RateLimiter{AllowFn: func(context.Context, string) (bool, time.Duration, error) {
		return false, 0, domain.Errorf(domain.EUNAVAILABLE, "redis down")
	}}}
	for _, code := range []string{"c1", "c2", "c3"} {
		_, err := s.Authenticate(context.Background(), fromClient(firstHeaders(code), "198.51.100.1"))
		assert.NoError(t, err, "%s: fail open, bounded by the exchange slots", code)
	}
	assert.EqualValues(t, 3, wx.calls.Load())
	assert.Equal(t, 1, strings.Count(logs.String(), "login rate limiter unavailable"), "one warning, not one per login: %s", logs.String())
	assert.Contains(t, logs.String(), `"level":"WARN"`)
}

func TestAuthenticate_ObservesEveryExchangeOutcome(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	wx := &mock.CodeExchanger{ExchangeFn: func(_ context.Context, code string) (domain.WxSession, error) {
		switch code {
		case "refused":
			return domain.WxSession{}, domain.Errorf(domain.EEXCHANGEREFUSED, "invalid code")
		case "down":
			return domain.WxSession{}, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "busy")
		case "hold":
			close(entered)
			<-release
		}
		return domain.WxSession{OpenID: "o" + code, SessionKey: sessionKey}, nil
	}}
	var mu sync.Mutex
	seen := map[app.ExchangeOutcome]int{}
	s := &app.SessionService{Store: memstore.NewSessionStore(nil), Exchanger: wx, TTL: time.Hour,
		Gate: &app.ExchangeGate{MaxConcurrent: 1, Wait: 10 * time.Millisecond,
			Limiter: &mock.RateLimiter{AllowFn: func(_ context.Context, key string) (bool, time.Duration, error) {
				return key != "limited", time.Second, nil
			}},
			Observe: func(o app.ExchangeOutcome) {
				mu.Lock()
				defer mu.Unlock()
				seen[o]++
			},
		},
	}
	ctx := context.Background()
	_, err := s.Authenticate(ctx, fromClient(firstHeaders("ok"), "a"))
	require.NoError(t, err)
	_, err = s.Authenticate(ctx, fromClient(firstHeaders("refused"), "a"))
	require.Equal(t, domain.EEXCHANGEREFUSED, domain.ErrorCode(err))
	_, err = s.Authenticate(ctx, fromClient(firstHeaders("down"), "a"))
	require.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
	_, err = s.Authenticate(ctx, fromClient(firstHeaders("x"), "limited"))
	require.Equal(t, domain.ERATELIMITED, domain.ErrorCode(err))
	done := make(chan struct{})
	go func() { defer close(done); _, _ = s.Authenticate(ctx, fromClient(firstHeaders("hold"), "a")) }()
	<-entered
	_, err = s.Authenticate(ctx, fromClient(firstHeaders("y"), "a"))
	require.Equal(t, domain.EBUSY, domain.ErrorCode(err))
	close(release)
	<-done
	_, err = s.Authenticate(ctx, fromClient(firstHeaders("ok"), "a"))
	require.NoError(t, err, "a verified repeat")

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, map[app.ExchangeOutcome]int{
		app.ExchangeOK: 2, app.ExchangeRefused: 1, app.ExchangeUnavailable: 1,
		app.ExchangeRateLimited: 1, app.ExchangeBusy: 1,
	}, seen, "the repeat answered from the store is no exchange")
	assert.ElementsMatch(t, []app.ExchangeOutcome{app.ExchangeOK, app.ExchangeRefused, app.ExchangeUnavailable, app.ExchangeBusy, app.ExchangeRateLimited}, app.ExchangeOutcomes)
}

// instances returns n SessionServices on one shared session store and one
// shared LoginCodes, as n instances of the service on one Redis are.
func instances(n int, store *memstore.SessionStore, codes ports.LoginCodes, wx ports.CodeExchanger) []*app.SessionService {
	out := make([]*app.SessionService, n)
	for i := range out {
		out[i] = &app.SessionService{Store: store, Exchanger: wx, TTL: time.Hour, Codes: codes}
	}
	return out
}

func TestAuthenticate_ConcurrentFirstRequestsOnThreeInstancesShareOneExchange(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	wx.delay = 200 * time.Millisecond // the race is certain: every request arrives while the first exchange runs
	services := instances(3, store, memstore.NewLoginCodes(nil), wx)
	const n = 30
	var wg sync.WaitGroup
	users := make([]*domain.UserInfo, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			users[i], errs[i] = services[i%len(services)].Authenticate(context.Background(), firstHeaders("c1"))
		}(i)
	}
	wg.Wait()
	for i := range errs {
		require.NoError(t, errs[i], "request %d (instance %d)", i, i%len(services))
		assert.Equal(t, "oALICE", users[i].OpenID(), "request %d", i)
		assert.Contains(t, string(users[i].JSON()), "一笔到底🎨", "request %d", i)
	}
	assert.EqualValues(t, 1, wx.calls.Load(), "one code2Session call across the instances")
	for i, s := range services {
		user, err := s.Authenticate(context.Background(), domain.Credentials{Code: "c1"})
		require.NoError(t, err, "instance %d knows the session", i)
		assert.Equal(t, "oALICE", user.OpenID())
	}
}

func TestAuthenticate_OtherHeadersOnAnotherInstanceAreRefusedWithoutAnExchange(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	wx.delay = 100 * time.Millisecond
	services := instances(2, store, memstore.NewLoginCodes(nil), wx)
	leader := make(chan error, 1)
	go func() { _, err := services[0].Authenticate(context.Background(), firstHeaders("c1")); leader <- err }()
	time.Sleep(20 * time.Millisecond)
	// Only the instance that exchanged holds the session_key that could
	// verify other headers; this one cannot, and must not ask WeChat again.
	other := firstHeaders("c1")
	other.RawData = wechattest.EncodeURIComponent(`{"nickName":"mallory"}`)
	_, err := services[1].Authenticate(context.Background(), other)
	assert.Equal(t, domain.EEXCHANGEREFUSED, domain.ErrorCode(err))
	require.NoError(t, <-leader)
	assert.EqualValues(t, 1, wx.calls.Load())
}

func TestAuthenticate_FailedExchangeReleasesTheCodeForAnotherInstance(t *testing.T) {
	store := memstore.NewSessionStore(nil)
	wx := newWeChat()
	var calls atomic.Int32
	exchange := wx.ExchangeFn
	wx.ExchangeFn = func(ctx context.Context, code string) (domain.WxSession, error) {
		if calls.Add(1) == 1 {
			return domain.WxSession{}, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat unreachable")
		}
		return exchange(ctx, code)
	}
	services := instances(2, store, memstore.NewLoginCodes(nil), wx)
	_, err := services[0].Authenticate(context.Background(), firstHeaders("c1"))
	require.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
	start := time.Now()
	user, err := services[1].Authenticate(context.Background(), firstHeaders("c1"))
	require.NoError(t, err, "the retry claims the code at once, not after the failed login's lease")
	assert.Less(t, time.Since(start), time.Second)
	assert.Equal(t, "oALICE", user.OpenID())
}

func TestAuthenticate_LegacyAndTokenLoginsOfOneCodeCostOneExchange(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	codes := memstore.NewLoginCodes(nil)
	s := &app.SessionService{Store: store, Exchanger: wx, TTL: time.Hour, Codes: codes}
	_, err := s.Authenticate(context.Background(), firstHeaders("c1"))
	require.NoError(t, err)
	sealer, err := domain.NewSessionKeySealer("app-secret-of-the-test")
	require.NoError(t, err)
	tokens := &app.TokenService{Sessions: memstore.NewTokenSessions(), Codes: codes, Exchanger: wx, Sealer: sealer}
	_, err = tokens.Login(context.Background(), app.LoginRequest{Code: "c1"})
	assert.Equal(t, domain.EEXCHANGEREFUSED, domain.ErrorCode(err), "the code was spent by the legacy login")
	assert.EqualValues(t, 1, wx.calls.Load())
}

func TestAuthenticate_TheAnswerDoesNotWaitForTheCodesRecord(t *testing.T) {
	store, wx := memstore.NewSessionStore(nil), newWeChat()
	writing, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	codes := &spyCodes{LoginCodes: memstore.NewLoginCodes(nil), onComplete: func() { once.Do(func() { close(writing) }); <-release }}
	services := instances(2, store, codes, wx)
	user, err := services[0].Authenticate(context.Background(), firstHeaders("c9"))
	require.NoError(t, err, "answered while the code's record is still being written")
	assert.Equal(t, "oALICE", user.OpenID())
	<-writing

	again, err := services[1].Authenticate(context.Background(), firstHeaders("c9"))
	require.NoError(t, err, "another instance answers the same first request from the store")
	assert.Equal(t, user.JSON(), again.JSON())
	assert.EqualValues(t, 1, wx.calls.Load(), "no second exchange")
	close(release)
	services[0].Wait()
	_, done, err := codes.Claim(context.Background(), "c9", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, ports.LegacyLogin, done.SessionID, "the record landed")
}
