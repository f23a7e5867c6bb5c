package wechat_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/wechat"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports/porttest"
)

// Distinctive values, so that a leak into an error text is unmistakable.
const (
	testAppID     = "wx5f3a9c0de1b27a44"
	testAppSecret = "APPSECRET-must-never-leak-9d41c7"
	// leakedKey is a session_key that bad replies carry; it must not be quoted.
	leakedKey = "S3ssionKeyMustNotLeak0000=="
)

type fixture struct {
	mock   *wechattest.Server
	url    string
	clock  *porttest.Clock
	client *wechat.Client
}

// newFixture serves the real mock over HTTP and returns a client configured
// as production configures it (NewClient), with a short retry delay.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := porttest.NewClock(time.Date(2024, 5, 6, 12, 0, 0, 0, time.UTC))
	mock := wechattest.New(testAppID, testAppSecret, clk.Now)
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	client := wechat.NewClient(testAppID, testAppSecret, srv.URL, 2*time.Second)
	client.RetryDelay = time.Millisecond
	return &fixture{mock: mock, url: srv.URL, clock: clk, client: client}
}

// assertNoSecrets checks every text of err a log or a client could see.
func assertNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	texts := []string{err.Error(), domain.ErrorMessage(err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", domain.ErrorDetail(err))}
	for _, s := range append(secrets, testAppSecret, leakedKey) {
		if s == "" {
			continue
		}
		for _, text := range texts {
			assert.NotContains(t, text, s)
		}
	}
}

func TestExchange_Success(t *testing.T) {
	f := newFixture(t)
	dev, err := f.mock.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)

	sess, err := f.client.Exchange(t.Context(), dev.Code)
	require.NoError(t, err)
	assert.Equal(t, dev.OpenID, sess.OpenID)
	assert.Equal(t, f.mock.OpenID("alice"), sess.OpenID)
	assert.Equal(t, f.mock.SessionKey("alice").Reveal(), sess.SessionKey.Reveal())
	assert.NotEmpty(t, sess.UnionID)
	assert.NotEqual(t, sess.OpenID, sess.UnionID)
	assert.Equal(t, 1, f.mock.Exchanges())

	// The key from the exchange verifies what the device signed.
	raw, err := domain.DecodeRawData(wechattest.EncodeURIComponent(dev.RawData))
	require.NoError(t, err)
	assert.NoError(t, domain.VerifySignature(raw, sess.SessionKey, dev.Signature))
}

func TestExchange_Refusals(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(t *testing.T, f *fixture) (code string)
		wantCode    string
		wantErrcode int
	}{
		{
			name:        "invalid code",
			setup:       func(t *testing.T, f *fixture) string { return "0a3Xk2ll2Ttd5f4YV0ml2aWkll2Xk2lK" },
			wantCode:    domain.EEXCHANGEREFUSED,
			wantErrcode: wechat.ErrInvalidCode,
		},
		{
			name: "used code",
			setup: func(t *testing.T, f *fixture) string {
				dev := mint(t, f, "bob")
				_, err := f.client.Exchange(t.Context(), dev.Code)
				require.NoError(t, err)
				return dev.Code
			},
			wantCode:    domain.EEXCHANGEREFUSED,
			wantErrcode: wechat.ErrCodeUsed,
		},
		{
			name: "expired code",
			setup: func(t *testing.T, f *fixture) string {
				dev := mint(t, f, "bob")
				f.clock.Advance(wechattest.CodeTTL + time.Second)
				return dev.Code
			},
			wantCode:    domain.EEXCHANGEREFUSED,
			wantErrcode: wechat.ErrInvalidCode,
		},
		{"forced invalid code", forced(wechat.ErrInvalidCode, 1), domain.EEXCHANGEREFUSED, wechat.ErrInvalidCode},
		{"forced code used", forced(wechat.ErrCodeUsed, 1), domain.EEXCHANGEREFUSED, wechat.ErrCodeUsed},
		{"forced frequency limit", forced(wechat.ErrFrequencyLimit, 1), domain.EEXCHANGEREFUSED, wechat.ErrFrequencyLimit},
		{"forced high-risk user", forced(wechat.ErrHighRiskUser, 1), domain.EEXCHANGEREFUSED, wechat.ErrHighRiskUser},
		{"forced unknown errcode", forced(99999, 1), domain.EEXCHANGEREFUSED, 99999},
		{"forced invalid appid", forced(wechat.ErrInvalidAppID, 1), domain.EEXCHANGEUNAVAILABLE, wechat.ErrInvalidAppID},
		{"forced invalid app secret", forced(wechat.ErrInvalidAppSecret, 1), domain.EEXCHANGEUNAVAILABLE, wechat.ErrInvalidAppSecret},
		// NewClient retries a busy answer once, so two busy answers exhaust it.
		{"forced system busy twice", forced(wechat.ErrSystemBusy, 2), domain.EEXCHANGEUNAVAILABLE, wechat.ErrSystemBusy},
		{
			name: "wrong appid answered by the mock",
			setup: func(t *testing.T, f *fixture) string {
				f.client.AppID = "wx0000000000000000"
				return mint(t, f, "bob").Code
			},
			wantCode:    domain.EEXCHANGEUNAVAILABLE,
			wantErrcode: wechat.ErrInvalidAppID,
		},
		{
			name: "wrong secret answered by the mock",
			setup: func(t *testing.T, f *fixture) string {
				f.client.AppSecret = "OTHER-SECRET-must-never-leak-2b7e"
				return mint(t, f, "bob").Code
			},
			wantCode:    domain.EEXCHANGEUNAVAILABLE,
			wantErrcode: wechat.ErrInvalidAppSecret,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			code := tt.setup(t, f)

			sess, err := f.client.Exchange(t.Context(), code)
			require.Error(t, err)
			assert.Equal(t, domain.WxSession{}, sess)
			assert.Equal(t, tt.wantCode, domain.ErrorCode(err))
			assert.Equal(t, map[string]any{"errcode": tt.wantErrcode}, domain.ErrorDetail(err))
			assert.NotEmpty(t, domain.ErrorMessage(err))
			assertNoSecrets(t, err, f.client.AppSecret, f.mock.SessionKey("bob").Reveal(), f.mock.SessionKey("alice").Reveal())
		})
	}
}

func mint(t *testing.T, f *fixture, name string) wechattest.Device {
	t.Helper()
	dev, err := f.mock.Mint(name, wechattest.Profile{})
	require.NoError(t, err)
	return dev
}

// forced mints a valid code and makes the mock answer errcode n times.
func forced(errcode, n int) func(t *testing.T, f *fixture) string {
	return func(t *testing.T, f *fixture) string {
		dev := mint(t, f, "alice")
		f.mock.FailNext(errcode, n)
		return dev.Code
	}
}

func TestExchange_CodeJustBeforeExpiryWorks(t *testing.T) {
	f := newFixture(t)
	dev := mint(t, f, "alice")
	f.clock.Advance(wechattest.CodeTTL - time.Second)
	_, err := f.client.Exchange(t.Context(), dev.Code)
	assert.NoError(t, err)
}

func TestExchange_BusyThenSuccessRetriesOnce(t *testing.T) {
	f := newFixture(t)
	f.client.RetryBusy = 1
	dev := mint(t, f, "alice")
	f.mock.FailNext(wechat.ErrSystemBusy, 1)

	sess, err := f.client.Exchange(t.Context(), dev.Code)
	require.NoError(t, err)
	assert.Equal(t, dev.OpenID, sess.OpenID)
	assert.Equal(t, 2, f.mock.Exchanges())

	// The busy answer did not spend the code; the retry did, exactly once.
	_, err = f.client.Exchange(t.Context(), dev.Code)
	require.Error(t, err)
	assert.Equal(t, map[string]any{"errcode": wechat.ErrCodeUsed}, domain.ErrorDetail(err))
}

func TestExchange_BusyWithoutRetry(t *testing.T) {
	f := newFixture(t)
	f.client.RetryBusy = 0
	dev := mint(t, f, "alice")
	f.mock.FailNext(wechat.ErrSystemBusy, 1)

	_, err := f.client.Exchange(t.Context(), dev.Code)
	require.Error(t, err)
	assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
	assert.Equal(t, 1, f.mock.Exchanges())
}

func TestExchange_OnlyBusyIsRetried(t *testing.T) {
	for _, errcode := range []int{wechat.ErrInvalidCode, wechat.ErrCodeUsed, wechat.ErrFrequencyLimit, wechat.ErrHighRiskUser, wechat.ErrInvalidAppID, wechat.ErrInvalidAppSecret} {
		t.Run(fmt.Sprint(errcode), func(t *testing.T) {
			f := newFixture(t)
			f.client.RetryBusy = 3
			dev := mint(t, f, "alice")
			f.mock.FailNext(errcode, 1)
			_, err := f.client.Exchange(t.Context(), dev.Code)
			require.Error(t, err)
			assert.Equal(t, 1, f.mock.Exchanges())
		})
	}
}

func TestExchange_BusyRetryWaitStopsWithContext(t *testing.T) {
	f := newFixture(t)
	f.client.RetryBusy = 1
	f.client.RetryDelay = time.Minute
	dev := mint(t, f, "alice")
	f.mock.FailNext(wechat.ErrSystemBusy, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := f.client.Exchange(ctx, dev.Code)
	require.Error(t, err)
	assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Equal(t, 1, f.mock.Exchanges())
}

func TestExchange_EmptyCodeIsRefusedWithoutACall(t *testing.T) {
	f := newFixture(t)
	_, err := f.client.Exchange(t.Context(), "")
	require.Error(t, err)
	assert.Equal(t, domain.EEXCHANGEREFUSED, domain.ErrorCode(err))
	assert.Equal(t, 0, f.mock.Exchanges())
}

func TestExchange_Unreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	client := wechat.NewClient(testAppID, testAppSecret, "http://"+addr, 2*time.Second)
	start := time.Now()
	_, err = client.Exchange(t.Context(), "0a3Xk2ll2Ttd5f4YV0ml2aWkll2Xk2lK")
	require.Error(t, err)
	assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
	assert.Less(t, time.Since(start), 3*time.Second)
	assertNoSecrets(t, err)
	// url.Error would quote the whole URL with its query; the client strips it.
	assert.NotContains(t, err.Error(), "js_code")
}

func TestExchange_Timeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	clients := []struct {
		name string
		make func(apiURL string) *wechat.Client
	}{
		{"NewClient", func(apiURL string) *wechat.Client {
			return wechat.NewClient(testAppID, testAppSecret, apiURL, timeout)
		}},
		{"Client literal without HTTPClient", func(apiURL string) *wechat.Client {
			return &wechat.Client{AppID: testAppID, AppSecret: testAppSecret, APIURL: apiURL, Timeout: timeout}
		}},
	}
	for _, c := range clients {
		t.Run(c.name+": mock answers too late", func(t *testing.T) {
			f := newFixture(t)
			f.mock.SetDelay(10 * time.Second) // the mock gives up when the client does
			dev := mint(t, f, "alice")
			client := c.make(f.url)

			start := time.Now()
			_, err := client.Exchange(t.Context(), dev.Code)
			elapsed := time.Since(start)
			require.Error(t, err)
			assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
			assert.GreaterOrEqual(t, elapsed, timeout)
			assert.Less(t, elapsed, 3*time.Second, "the client must give up at about its timeout")
			assertNoSecrets(t, err, f.mock.SessionKey("alice").Reveal())
		})
		t.Run(c.name+": body stalls after the headers", func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, `{"openid":"o1","session_key":"`+leakedKey[:8])
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}))
			t.Cleanup(srv.Close)
			client := c.make(srv.URL)

			start := time.Now()
			_, err := client.Exchange(t.Context(), "code")
			require.Error(t, err)
			assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
			assert.Less(t, time.Since(start), 3*time.Second)
			assertNoSecrets(t, err, leakedKey[:8])
		})
	}
}

func TestExchange_ContextAlreadyCanceled(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := f.client.Exchange(ctx, mint(t, f, "alice").Code)
	require.Error(t, err)
	assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
	assertNoSecrets(t, err)
}

func TestExchange_BadReplies(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"HTTP 500 whose body echoes secrets", http.StatusInternalServerError, `{"secret":"` + testAppSecret + `","session_key":"` + leakedKey + `"}`},
		{"HTTP 502 from a proxy", http.StatusBadGateway, "<html>bad gateway</html>"},
		{"HTTP 404", http.StatusNotFound, "404 page not found"},
		{"HTTP 302 without location", http.StatusFound, ""},
		{"non-JSON body with a key in it", http.StatusOK, `<html>session_key=` + leakedKey + `</html>`},
		{"truncated JSON success", http.StatusOK, `{"openid":"o1","session_key":"` + leakedKey},
		{"empty body", http.StatusOK, ""},
		{"JSON with wrong types", http.StatusOK, `{"openid":1,"session_key":"` + leakedKey + `"}`},
		{"reply without session_key", http.StatusOK, `{"openid":"oNoKey","unionid":"u1"}`},
		{"reply with empty session_key", http.StatusOK, `{"openid":"oNoKey","session_key":""}`},
		{"reply without openid", http.StatusOK, `{"session_key":"` + leakedKey + `"}`},
		{"JSON null", http.StatusOK, `null`},
		{"empty JSON object", http.StatusOK, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			client := wechat.NewClient(testAppID, testAppSecret, srv.URL, 2*time.Second)

			sess, err := client.Exchange(t.Context(), "code")
			require.Error(t, err)
			assert.Equal(t, domain.WxSession{}, sess)
			assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
			assert.NotEmpty(t, domain.ErrorMessage(err))
			assertNoSecrets(t, err)
		})
	}
}

func TestExchange_Request(t *testing.T) {
	type seen struct {
		method, path, accept string
		query                map[string][]string
	}
	tests := []struct {
		name     string
		suffix   string // appended to the server URL to form APIURL
		wantPath string
	}{
		{"base URL", "", "/sns/jscode2session"},
		{"base URL with a trailing slash", "/", "/sns/jscode2session"},
		{"base URL with a path prefix", "/wx-proxy/", "/wx-proxy/sns/jscode2session"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan seen, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- seen{r.Method, r.URL.Path, r.Header.Get("Accept"), r.URL.Query()}
				_, _ = io.WriteString(w, `{"openid":"o1","session_key":"k1"}`)
			}))
			t.Cleanup(srv.Close)
			client := wechat.NewClient(testAppID, testAppSecret, srv.URL+tt.suffix, time.Second)

			_, err := client.Exchange(t.Context(), "co de&x=1")
			require.NoError(t, err)
			s := <-got
			assert.Equal(t, http.MethodGet, s.method)
			assert.Equal(t, tt.wantPath, s.path)
			assert.Equal(t, "application/json", s.accept)
			assert.Equal(t, map[string][]string{
				"appid":      {testAppID},
				"secret":     {testAppSecret},
				"js_code":    {"co de&x=1"}, // escaped, not injected
				"grant_type": {"authorization_code"},
			}, s.query)
		})
	}
}

func TestExchange_InvalidAPIURL(t *testing.T) {
	for _, apiURL := range []string{"http://[::1", "http://exa mple.com", "\x7f"} {
		t.Run(apiURL, func(t *testing.T) {
			client := wechat.NewClient(testAppID, testAppSecret, apiURL, time.Second)
			_, err := client.Exchange(t.Context(), "code")
			require.Error(t, err)
			assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
			assertNoSecrets(t, err)
		})
	}
}

// roundTripFunc is a hand-written fake transport: it lets a test see the
// request a client would send without any network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestExchange_DefaultAPIURL(t *testing.T) {
	var gotURL string
	client := &wechat.Client{
		AppID: testAppID, AppSecret: testAppSecret,
		HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			gotURL = r.URL.Scheme + "://" + r.URL.Host + r.URL.Path
			return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(`{"openid":"o1","session_key":"k1"}`)), Request: r}, nil
		})},
	}
	sess, err := client.Exchange(t.Context(), "code")
	require.NoError(t, err)
	assert.Equal(t, "o1", sess.OpenID)
	assert.Equal(t, wechat.DefaultAPIURL+"/sns/jscode2session", gotURL)
	assert.Equal(t, "https://api.weixin.qq.com", wechat.DefaultAPIURL)
}

func TestNewClient_Defaults(t *testing.T) {
	tests := []struct {
		name        string
		timeout     time.Duration
		wantTimeout time.Duration
	}{
		{"zero timeout means the default", 0, wechat.DefaultTimeout},
		{"negative timeout means the default", -time.Second, wechat.DefaultTimeout},
		{"explicit timeout kept", 3 * time.Second, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := wechat.NewClient("wxapp", "secret", "http://wx.example", tt.timeout)
			assert.Equal(t, "wxapp", c.AppID)
			assert.Equal(t, "secret", c.AppSecret)
			assert.Equal(t, "http://wx.example", c.APIURL)
			assert.Equal(t, tt.wantTimeout, c.Timeout)
			assert.Equal(t, 1, c.RetryBusy, "system busy is worth one retry")
			assert.Zero(t, c.RetryDelay, "zero means the built-in 100 ms")
			require.NotNil(t, c.HTTPClient)
			assert.Equal(t, tt.wantTimeout, c.HTTPClient.Timeout)
			tr, ok := c.HTTPClient.Transport.(*http.Transport)
			require.True(t, ok, "a dedicated *http.Transport")
			assert.NotSame(t, http.DefaultTransport, tr, "a clone, not the shared default")
			assert.Equal(t, 64, tr.MaxIdleConnsPerHost)
			assert.Equal(t, 64, tr.MaxConnsPerHost)
		})
	}
	t.Run("default timeout is 5s", func(t *testing.T) {
		assert.Equal(t, 5*time.Second, wechat.DefaultTimeout)
	})
	t.Run("empty API URL kept so the client uses the default", func(t *testing.T) {
		assert.Empty(t, wechat.NewClient("a", "s", "", 0).APIURL)
	})
}

func TestNewClient_ConnectionsToWeChatAreBounded(t *testing.T) {
	var mu sync.Mutex
	open, peak := 0, 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(30 * time.Millisecond)
		fmt.Fprint(w, `{"openid":"o1","session_key":"a2V5"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateNew:
			open++
			peak = max(peak, open)
		case http.StateClosed, http.StateHijacked:
			open--
		}
	}
	srv.Start()
	defer srv.Close()
	c := wechat.NewClient("wxapp", "secret", srv.URL, 5*time.Second)
	var wg sync.WaitGroup
	for i := range 2*wechat.MaxConnections + 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Exchange(context.Background(), fmt.Sprintf("code-%d", i))
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	assert.LessOrEqual(t, peak, wechat.MaxConnections, "connections to WeChat are capped, the rest wait for one")
}
