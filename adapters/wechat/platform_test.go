package wechat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/wechat"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
)

// tokenCache is a plain ports.AccessTokens for these tests: one token in
// memory from a source, a forced refresh when the current one is rejected.
// (The deployment's real one, with its shared store, is tested elsewhere.)
type tokenCache struct {
	src ports.AccessTokenSource

	mu        sync.Mutex
	cur       domain.AccessToken
	rejected  []domain.AccessToken
	tokenErr  error // Token answers it when set
	rejectErr error // Rejected answers it when set
}

var _ ports.AccessTokens = (*tokenCache)(nil)

func (c *tokenCache) Token(ctx context.Context) (domain.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokenErr != nil {
		return "", c.tokenErr
	}
	if c.cur == "" {
		t, _, err := c.src.StableToken(ctx, false)
		if err != nil {
			return "", err
		}
		c.cur = t
	}
	return c.cur, nil
}

func (c *tokenCache) Rejected(ctx context.Context, t domain.AccessToken) (domain.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rejected = append(c.rejected, t)
	if c.rejectErr != nil {
		return "", c.rejectErr
	}
	if t == c.cur && c.src != nil {
		nt, _, err := c.src.StableToken(ctx, true)
		if err != nil {
			return "", err
		}
		c.cur = nt
	}
	return c.cur, nil
}

func (c *tokenCache) rejections() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.rejected)
}

type platformFixture struct {
	mock     *wechattest.Server
	url      string
	clock    *porttest.Clock
	client   *wechat.Client
	tokens   *tokenCache
	platform *wechat.Platform
	logs     *bytes.Buffer
}

// newPlatformFixture serves the real mock over HTTP with a client as
// production makes it (NewClient) and the platform APIs on a token cache.
func newPlatformFixture(t *testing.T) *platformFixture {
	t.Helper()
	clk := porttest.NewClock(time.Date(2024, 5, 6, 12, 0, 0, 0, time.UTC))
	mock := wechattest.New(testAppID, testAppSecret, clk.Now)
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	f := &platformFixture{mock: mock, url: srv.URL, clock: clk, logs: &bytes.Buffer{}}
	f.client = wechat.NewClient(testAppID, testAppSecret, srv.URL, 2*time.Second)
	f.client.Logger = slog.New(slog.NewJSONHandler(f.logs, nil))
	f.tokens = &tokenCache{src: f.client}
	f.platform = wechat.NewPlatform(f.client, f.tokens)
	return f
}

// onServer returns the platform APIs on a client of an httptest server
// answering with h, with a fixed token.
func onServer(t *testing.T, h http.HandlerFunc) (*wechat.Platform, *wechat.Client) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := wechat.NewClient(testAppID, testAppSecret, srv.URL, 2*time.Second)
	c.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	return wechat.NewPlatform(c, &tokenCache{cur: fixedToken}), c
}

// fixedToken is the access_token of onServer's platforms: it must never
// appear in an error.
const fixedToken = domain.AccessToken("ACCESS-TOKEN-must-never-leak-77c1")

// assertNoTokenLeak checks every text of err for the secrets and for the
// URL with its access_token.
func assertNoTokenLeak(t *testing.T, err error, tokens ...domain.AccessToken) {
	t.Helper()
	secrets := []string{"access_token="}
	for _, tok := range append(tokens, fixedToken) {
		if tok != "" {
			secrets = append(secrets, tok.Reveal())
		}
	}
	assertNoSecrets(t, err, secrets...)
}

func TestStableToken_Success(t *testing.T) {
	f := newPlatformFixture(t)
	tok, life, err := f.client.StableToken(t.Context(), false)
	require.NoError(t, err)
	assert.Equal(t, f.mock.AccessToken().Reveal(), tok.Reveal())
	assert.Equal(t, 2*time.Hour, life)
	assert.Equal(t, "[REDACTED]", fmt.Sprint(tok), "the token prints redacted")

	f.clock.Advance(time.Hour)
	again, life, err := f.client.StableToken(t.Context(), false)
	require.NoError(t, err)
	assert.Equal(t, tok.Reveal(), again.Reveal(), "WeChat answers the same token")
	assert.Equal(t, time.Hour, life, "with what it has left")

	forced, life, err := f.client.StableToken(t.Context(), true)
	require.NoError(t, err)
	assert.NotEqual(t, tok.Reveal(), forced.Reveal())
	assert.Equal(t, 2*time.Hour, life)
	assert.Equal(t, 1, f.mock.ForcedRefreshes())
	assert.Equal(t, 3, f.mock.Calls(wechattest.APIStableToken))
	assert.Empty(t, f.logs.String(), "nothing to log on success")
}

func TestStableToken_Request(t *testing.T) {
	for _, force := range []bool{false, true} {
		t.Run(fmt.Sprint("force ", force), func(t *testing.T) {
			type seen struct {
				method, path, rawQuery, contentType string
				body                                map[string]any
			}
			got := make(chan seen, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var body map[string]any
				_ = json.NewDecoder(r.Body).Decode(&body)
				got <- seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), body}
				_, _ = io.WriteString(w, `{"access_token":"AT","expires_in":7200}`)
			}))
			t.Cleanup(srv.Close)
			c := wechat.NewClient(testAppID, testAppSecret, srv.URL+"/", time.Second)
			_, _, err := c.StableToken(t.Context(), force)
			require.NoError(t, err)
			s := <-got
			assert.Equal(t, http.MethodPost, s.method)
			assert.Equal(t, "/cgi-bin/stable_token", s.path, "never cgi-bin/token")
			assert.Empty(t, s.rawQuery, "the secret goes in the body, not the URL")
			assert.Equal(t, "application/json", s.contentType)
			assert.Equal(t, map[string]any{"grant_type": "client_credential", "appid": testAppID, "secret": testAppSecret, "force_refresh": force}, s.body)
		})
	}
}

func TestStableToken_Refusals(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(f *platformFixture)
		force      bool
		wantCode   string
		wantErr    int
		wantRetry  time.Duration
		wantConfig bool // logged at error level as a configuration error
	}{
		{"wrong appid (the mock's own answer)", func(f *platformFixture) { f.client.AppID = "wx0000000000000000" }, false, domain.EEXCHANGEUNAVAILABLE, 40013, 0, true},
		{"wrong secret (the mock's own answer)", func(f *platformFixture) { f.client.AppSecret = "OTHER-SECRET-must-never-leak-2b7e" }, false, domain.EEXCHANGEUNAVAILABLE, 40125, 0, true},
		{"invalid appid", inject(wechattest.APIStableToken, 40013), false, domain.EEXCHANGEUNAVAILABLE, 40013, 0, true},
		{"invalid app secret", inject(wechattest.APIStableToken, 40125), false, domain.EEXCHANGEUNAVAILABLE, 40125, 0, true},
		{"system busy", inject(wechattest.APIStableToken, -1), false, domain.EEXCHANGEUNAVAILABLE, -1, 0, false},
		{"forced twice within 30 s (the mock's own answer)", func(f *platformFixture) {
			_, _, err := f.client.StableToken(context.Background(), true)
			require.NoError(t, err)
			f.clock.Advance(29 * time.Second)
		}, true, domain.ERATELIMITED, 45011, 30 * time.Second, false},
		{"daily limit", inject(wechattest.APIStableToken, 45009), true, domain.ERATELIMITED, 45009, time.Hour, false},
		{"another errcode", inject(wechattest.APIStableToken, 40164), false, domain.EEXCHANGEUNAVAILABLE, 40164, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPlatformFixture(t)
			tt.setup(f)
			tok, life, err := f.client.StableToken(t.Context(), tt.force)
			require.Error(t, err)
			assert.Empty(t, tok.Reveal())
			assert.Zero(t, life)
			assert.Equal(t, tt.wantCode, domain.ErrorCode(err))
			assert.Equal(t, map[string]any{"errcode": tt.wantErr}, domain.ErrorDetail(err))
			assert.Equal(t, tt.wantRetry, domain.ErrorRetryAfter(err))
			assert.NotEmpty(t, domain.ErrorMessage(err))
			assertNoSecrets(t, err, f.client.AppSecret, f.mock.AccessToken().Reveal())
			logs := f.logs.String()
			if tt.wantConfig {
				assert.Contains(t, logs, `"level":"ERROR","msg":"configuration error`)
				assert.Contains(t, logs, fmt.Sprintf(`"errcode":%d`, tt.wantErr))
			} else {
				assert.NotContains(t, logs, "configuration error")
			}
			assert.NotContains(t, logs, testAppSecret)
			assert.NotContains(t, logs, "OTHER-SECRET")
		})
	}
}

func inject(api string, errcode int) func(f *platformFixture) {
	return func(f *platformFixture) { f.mock.Inject(api, wechattest.Fault{Errcode: errcode}, 1) }
}

func TestStableToken_BadAnswers(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
	}{
		{"no token", http.StatusOK, `{"expires_in":7200}`},
		{"empty token", http.StatusOK, `{"access_token":"","expires_in":7200}`},
		{"no expires_in", http.StatusOK, `{"access_token":"` + fixedToken.Reveal() + `"}`},
		{"zero expires_in", http.StatusOK, `{"access_token":"` + fixedToken.Reveal() + `","expires_in":0}`},
		{"negative expires_in", http.StatusOK, `{"access_token":"` + fixedToken.Reveal() + `","expires_in":-5}`},
		{"expires_in as a string", http.StatusOK, `{"access_token":"` + fixedToken.Reveal() + `","expires_in":"7200"}`},
		{"expires_in as a fraction", http.StatusOK, `{"access_token":"` + fixedToken.Reveal() + `","expires_in":7200.5}`},
		{"errcode as a string", http.StatusOK, `{"errcode":"40013"}`},
		{"not JSON, with the token in it", http.StatusOK, `<html>` + fixedToken.Reveal() + `</html>`},
		{"truncated", http.StatusOK, `{"access_token":"` + fixedToken.Reveal()},
		{"JSON null", http.StatusOK, `null`},
		{"HTTP 500 echoing the secret", http.StatusInternalServerError, `{"secret":"` + testAppSecret + `"}`},
		{"HTTP 302", http.StatusFound, ``},
		{"over 64 kB", http.StatusOK, `{"access_token":"` + fixedToken.Reveal() + `","expires_in":7200,"pad":"` + strings.Repeat("x", 64<<10) + `"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, c := onServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			tok, life, err := c.StableToken(t.Context(), false)
			require.Error(t, err)
			assert.Empty(t, tok.Reveal())
			assert.Zero(t, life)
			assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
			assertNoTokenLeak(t, err)
		})
	}
	t.Run("a lifetime over a day is capped", func(t *testing.T) {
		_, c := onServer(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"access_token":"AT","expires_in":9223372036854775807}`)
		})
		_, life, err := c.StableToken(t.Context(), false)
		require.NoError(t, err)
		assert.Equal(t, 24*time.Hour, life)
	})
}

func TestStableToken_UnreachableOrHanging(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		c := wechat.NewClient(testAppID, testAppSecret, "http://"+closedAddr(t), time.Second)
		_, _, err := c.StableToken(t.Context(), false)
		require.Error(t, err)
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
		assertNoSecrets(t, err)
	})
	t.Run("hanging, bounded by the client's timeout", func(t *testing.T) {
		f := newPlatformFixture(t)
		f.client = wechat.NewClient(testAppID, testAppSecret, f.url, 200*time.Millisecond)
		f.mock.Inject(wechattest.APIStableToken, wechattest.Fault{Hang: time.Hour}, 0)
		start := time.Now()
		_, _, err := f.client.StableToken(t.Context(), false)
		require.Error(t, err)
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("hanging, a Client literal with an HTTP client of no timeout", func(t *testing.T) {
		f := newPlatformFixture(t)
		c := &wechat.Client{AppID: testAppID, AppSecret: testAppSecret, APIURL: f.url, Timeout: 200 * time.Millisecond, HTTPClient: &http.Client{}}
		f.mock.Inject(wechattest.APIStableToken, wechattest.Fault{Hang: time.Hour}, 0)
		start := time.Now()
		_, _, err := c.StableToken(t.Context(), false)
		require.Error(t, err)
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("context already canceled", func(t *testing.T) {
		f := newPlatformFixture(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, _, err := f.client.StableToken(ctx, false)
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
	})
}

func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestPhoneNumber_Success(t *testing.T) {
	f := newPlatformFixture(t)
	code := f.mock.MintPhoneCode("alice")
	p, err := f.platform.PhoneNumber(t.Context(), code, f.mock.OpenID("alice"))
	require.NoError(t, err)
	assert.Equal(t, wechattest.DefaultPhone("alice"), p)
	assert.Equal(t, 1, f.mock.Calls(wechattest.APIStableToken))
	assert.Equal(t, 1, f.mock.Calls(wechattest.APIPhoneNumber))

	intl := domain.PhoneNumber{PhoneNumber: "+44 7700900123", PurePhoneNumber: "7700900123", CountryCode: "44"}
	f.mock.SetPhone("bob", intl)
	p, err = f.platform.PhoneNumber(t.Context(), f.mock.MintPhoneCode("bob"), "")
	require.NoError(t, err)
	assert.Equal(t, intl, p)
	assert.Equal(t, 1, f.mock.Calls(wechattest.APIStableToken), "the token is reused")
}

func TestPhoneNumber_Request(t *testing.T) {
	type seen struct {
		path, token, contentType string
		body                     map[string]any
	}
	got := make(chan seen, 2)
	p, _ := onServer(t, func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		got <- seen{r.URL.Path, r.URL.Query().Get("access_token"), r.Header.Get("Content-Type"), body}
		_, _ = fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":"86","watermark":{"timestamp":1637744274,"appid":%q}}}`, testAppID)
	})
	_, err := p.PhoneNumber(t.Context(), "c&d=1", "oOPENID")
	require.NoError(t, err)
	s := <-got
	assert.Equal(t, "/wxa/business/getuserphonenumber", s.path)
	assert.Equal(t, fixedToken.Reveal(), s.token)
	assert.Equal(t, "application/json", s.contentType)
	assert.Equal(t, map[string]any{"code": "c&d=1", "openid": "oOPENID"}, s.body)

	_, err = p.PhoneNumber(t.Context(), "c", "")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"code": "c"}, (<-got).body, "no openid: none sent")
}

func TestPhoneNumber_Refusals(t *testing.T) {
	tests := []struct {
		name     string
		code     func(f *platformFixture) (code, openID string)
		wantCode string
		wantErr  any // the errcode in Detail, nil for none
	}{
		{"used code", func(f *platformFixture) (string, string) {
			c := f.mock.MintPhoneCode("alice")
			_, err := f.platform.PhoneNumber(context.Background(), c, "")
			require.NoError(t, err)
			return c, ""
		}, domain.EEXCHANGEREFUSED, 40029},
		{"expired code", func(f *platformFixture) (string, string) {
			c := f.mock.MintPhoneCode("alice")
			f.clock.Advance(wechattest.PhoneCodeTTL)
			return c, ""
		}, domain.EEXCHANGEREFUSED, 40029},
		{"unknown code", func(f *platformFixture) (string, string) { return "never-issued", "" }, domain.EEXCHANGEREFUSED, 40029},
		{"another user's openid", func(f *platformFixture) (string, string) {
			return f.mock.MintPhoneCode("alice"), f.mock.OpenID("bob")
		}, domain.EEXCHANGEUNAVAILABLE, 40003},
		{"system busy", func(f *platformFixture) (string, string) {
			f.mock.Inject(wechattest.APIPhoneNumber, wechattest.Fault{Errcode: -1}, 1)
			return f.mock.MintPhoneCode("alice"), ""
		}, domain.EEXCHANGEUNAVAILABLE, -1},
		{"frequency limit", func(f *platformFixture) (string, string) {
			f.mock.Inject(wechattest.APIPhoneNumber, wechattest.Fault{Errcode: 45011}, 1)
			return f.mock.MintPhoneCode("alice"), ""
		}, domain.EEXCHANGEUNAVAILABLE, 45011},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPlatformFixture(t)
			code, openID := tt.code(f)
			p, err := f.platform.PhoneNumber(t.Context(), code, openID)
			require.Error(t, err)
			assert.Equal(t, domain.PhoneNumber{}, p)
			assert.Equal(t, tt.wantCode, domain.ErrorCode(err))
			assert.Equal(t, map[string]any{"errcode": tt.wantErr}, domain.ErrorDetail(err))
			assertNoTokenLeak(t, err, f.mock.AccessToken())
		})
	}
	t.Run("empty code, without asking WeChat", func(t *testing.T) {
		f := newPlatformFixture(t)
		_, err := f.platform.PhoneNumber(t.Context(), "", "o1")
		assert.Equal(t, domain.EEXCHANGEREFUSED, domain.ErrorCode(err))
		assert.Zero(t, f.mock.Calls(wechattest.APIPhoneNumber))
		assert.Zero(t, f.mock.Calls(wechattest.APIStableToken))
	})
}

func TestPhoneNumber_BadAnswers(t *testing.T) {
	phone := func(watermark string) string {
		return `{"errcode":0,"errmsg":"ok","phone_info":{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":"86","watermark":` + watermark + `}}`
	}
	for _, tt := range []struct {
		name, body string
	}{
		{"another app's watermark", phone(`{"timestamp":1637744274,"appid":"wxOTHERAPP"}`)},
		{"no watermark appid", phone(`{"timestamp":1637744274}`)},
		{"no watermark", `{"errcode":0,"phone_info":{"phoneNumber":"13800138000"}}`},
		{"no phone_info", `{"errcode":0,"errmsg":"ok"}`},
		{"phone_info null", `{"errcode":0,"phone_info":null}`},
		{"no phone number", `{"errcode":0,"phone_info":{"phoneNumber":"","watermark":{"appid":"` + testAppID + `"}}}`},
		{"phone_info of the wrong type", `{"errcode":0,"phone_info":"13800138000"}`},
		{"not JSON", `13800138000`},
		{"over 64 kB", phone(`{"appid":"` + testAppID + `","pad":"` + strings.Repeat("x", 64<<10) + `"}`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := onServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, tt.body) })
			got, err := p.PhoneNumber(t.Context(), "code", "")
			require.Error(t, err)
			assert.Equal(t, domain.PhoneNumber{}, got)
			assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
			assert.NotContains(t, err.Error(), "13800138000", "the answer is never quoted")
			assertNoTokenLeak(t, err)
		})
	}
}

func TestCheckText_Suggestions(t *testing.T) {
	f := newPlatformFixture(t)
	alice := f.mock.OpenID("alice")
	for text, want := range map[string]domain.ContentSuggestion{
		"一笔到底":                                      domain.ContentPass,
		"see RISKY-MARKER":                          domain.ContentRisky,
		"REVIEW-MARKER please":                      domain.ContentReview,
		"REVIEW-MARKER and RISKY-MARKER":            domain.ContentRisky,
		strings.Repeat("字", wechat.MaxContentRunes): domain.ContentPass,
	} {
		got, err := f.platform.CheckText(t.Context(), alice, domain.SceneProfile, text)
		require.NoError(t, err, text)
		assert.Equal(t, want, got, text)
	}
	for scene := domain.SceneProfile; scene <= domain.SceneSocial; scene++ {
		got, err := f.platform.CheckText(t.Context(), alice, scene, "hello")
		require.NoError(t, err)
		assert.Equal(t, domain.ContentPass, got)
	}
	assert.Equal(t, 1, f.mock.Calls(wechattest.APIStableToken))
}

func TestCheckText_Request(t *testing.T) {
	type seen struct {
		path, token string
		body        map[string]any
	}
	got := make(chan seen, 1)
	p, _ := onServer(t, func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		got <- seen{r.URL.Path, r.URL.Query().Get("access_token"), body}
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok","result":{"suggest":"review","label":21000}}`)
	})
	s, err := p.CheckText(t.Context(), "oOPENID", domain.SceneComment, "<b>&\"")
	require.NoError(t, err)
	assert.Equal(t, domain.ContentReview, s)
	r := <-got
	assert.Equal(t, "/wxa/msg_sec_check", r.path)
	assert.Equal(t, fixedToken.Reveal(), r.token)
	assert.Equal(t, map[string]any{"version": 2.0, "openid": "oOPENID", "scene": 2.0, "content": "<b>&\""}, r.body)
}

func TestCheckText_RefusedWithoutAskingWeChat(t *testing.T) {
	for _, tt := range []struct {
		name   string
		openID string
		scene  domain.ContentScene
		text   string
		want   string
	}{
		{"no openid", "", domain.SceneProfile, "x", domain.EINVALID},
		{"scene 0", "o1", 0, "x", domain.EINVALID},
		{"scene 5", "o1", 5, "x", domain.EINVALID},
		{"empty text", "o1", domain.SceneProfile, "", domain.EINVALID},
		{"over 2,500 characters", "o1", domain.SceneProfile, strings.Repeat("字", wechat.MaxContentRunes+1), domain.ETOOLARGE},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newPlatformFixture(t)
			s, err := f.platform.CheckText(t.Context(), tt.openID, tt.scene, tt.text)
			assert.Empty(t, s)
			assert.Equal(t, tt.want, domain.ErrorCode(err))
			assert.Zero(t, f.mock.Calls(wechattest.APIMsgSecCheck))
			assert.Zero(t, f.mock.Calls(wechattest.APIStableToken))
		})
	}
}

func TestCheckText_NeverASilentPass(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		wantErr    any
	}{
		{"an unknown suggestion", `{"errcode":0,"result":{"suggest":"block"}}`, nil},
		{"an empty suggestion", `{"errcode":0,"result":{"suggest":""}}`, nil},
		{"a suggestion in capitals", `{"errcode":0,"result":{"suggest":"PASS"}}`, nil},
		{"no result", `{"errcode":0,"errmsg":"ok"}`, nil},
		{"result null", `{"errcode":0,"result":null}`, nil},
		{"empty object", `{}`, nil},
		{"suggest of the wrong type", `{"errcode":0,"result":{"suggest":1}}`, nil},
		{"an errcode beside a pass", `{"errcode":87014,"result":{"suggest":"pass"}}`, 87014},
		{"invalid openid", `{"errcode":40003,"errmsg":"invalid openid"}`, 40003},
		{"busy", `{"errcode":-1,"errmsg":"system error"}`, -1},
		{"not JSON", `pass`, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := onServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, tt.body) })
			s, err := p.CheckText(t.Context(), "o1", domain.SceneProfile, "text")
			require.Error(t, err)
			assert.Empty(t, s)
			assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
			if tt.wantErr != nil {
				assert.Equal(t, map[string]any{"errcode": tt.wantErr}, domain.ErrorDetail(err))
			}
			assertNoTokenLeak(t, err)
		})
	}
	t.Run("the mock's unknown openid", func(t *testing.T) {
		f := newPlatformFixture(t)
		_, err := f.platform.CheckText(t.Context(), "oUNKNOWN00000000000000000000", domain.SceneProfile, "x")
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
		assert.Equal(t, map[string]any{"errcode": 40003}, domain.ErrorDetail(err))
	})
}

// platformCall runs one of the two APIs for the test user alice.
type platformCall struct {
	name string
	api  string
	call func(f *platformFixture) error
}

var platformCalls = []platformCall{
	{"getuserphonenumber", wechattest.APIPhoneNumber, func(f *platformFixture) error {
		_, err := f.platform.PhoneNumber(context.Background(), f.mock.MintPhoneCode("alice"), f.mock.OpenID("alice"))
		return err
	}},
	{"msg_sec_check", wechattest.APIMsgSecCheck, func(f *platformFixture) error {
		s, err := f.platform.CheckText(context.Background(), f.mock.OpenID("alice"), domain.SceneProfile, "hello")
		if err == nil && s != domain.ContentPass {
			return fmt.Errorf("suggestion %q", s)
		}
		return err
	}},
}

func TestPlatform_ARejectedTokenIsRefreshedOnceAndTheCallRetried(t *testing.T) {
	for _, c := range platformCalls {
		t.Run(c.name+": 40001 after another holder's refresh", func(t *testing.T) {
			f := newPlatformFixture(t)
			require.NoError(t, c.call(f))
			old := f.mock.AccessToken()
			f.mock.Invalidate()

			require.NoError(t, c.call(f), "the retry with the refreshed token succeeds")
			assert.Equal(t, []domain.AccessToken{old}, f.tokens.rejected, "the rejected token was reported, once")
			assert.Equal(t, 1, f.mock.ForcedRefreshes())
			assert.Equal(t, 3, f.mock.Calls(c.api), "first call, the rejected one, its retry")
			assert.Equal(t, 2, f.mock.Calls(wechattest.APIStableToken))
		})
		t.Run(c.name+": 42001 once the token's time is up", func(t *testing.T) {
			f := newPlatformFixture(t)
			require.NoError(t, c.call(f))
			f.clock.Advance(wechattest.TokenLife)

			require.NoError(t, c.call(f))
			assert.Equal(t, 1, f.tokens.rejections())
			assert.Equal(t, 3, f.mock.Calls(c.api))
		})
		t.Run(c.name+": a second 40001 is unavailable, with no second refresh", func(t *testing.T) {
			f := newPlatformFixture(t)
			f.mock.Inject(c.api, wechattest.Fault{Errcode: wechat.ErrInvalidCredential}, 2)
			err := c.call(f)
			require.Error(t, err)
			assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
			assert.Equal(t, map[string]any{"errcode": wechat.ErrInvalidCredential}, domain.ErrorDetail(err))
			assert.Equal(t, 1, f.tokens.rejections())
			assert.Equal(t, 2, f.mock.Calls(c.api))
			assertNoTokenLeak(t, err, f.mock.AccessToken())
		})
		t.Run(c.name+": a refresh WeChat's limits refuse", func(t *testing.T) {
			f := newPlatformFixture(t)
			f.tokens.rejectErr = &domain.Error{Code: domain.ERATELIMITED, Message: "limit", RetryAfter: 20 * time.Second}
			f.mock.Inject(c.api, wechattest.Fault{Errcode: wechat.ErrAccessTokenExpired}, 1)
			err := c.call(f)
			assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
			assert.Equal(t, 20*time.Second, domain.ErrorRetryAfter(err))
			assert.Equal(t, 1, f.mock.Calls(c.api))
		})
		t.Run(c.name+": the token store down", func(t *testing.T) {
			f := newPlatformFixture(t)
			f.tokens.tokenErr = domain.Errorf(domain.EUNAVAILABLE, "store down")
			err := c.call(f)
			assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err))
			assert.Zero(t, f.mock.Calls(c.api))
		})
		t.Run(c.name+": no token from WeChat", func(t *testing.T) {
			f := newPlatformFixture(t)
			f.mock.Inject(wechattest.APIStableToken, wechattest.Fault{Errcode: 40013}, 1)
			err := c.call(f)
			assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
			assert.Zero(t, f.mock.Calls(c.api))
		})
		t.Run(c.name+": other errcodes are not retried", func(t *testing.T) {
			f := newPlatformFixture(t)
			f.mock.Inject(c.api, wechattest.Fault{Errcode: -1}, 1)
			require.Error(t, c.call(f))
			assert.Zero(t, f.tokens.rejections())
			assert.Equal(t, 1, f.mock.Calls(c.api))
		})
	}
}

func TestPlatform_HangingWeChatIsBoundedByTheTimeout(t *testing.T) {
	for _, c := range platformCalls {
		t.Run(c.name, func(t *testing.T) {
			f := newPlatformFixture(t)
			require.NoError(t, c.call(f)) // the token is cached
			f.client.HTTPClient = nil
			f.client.Timeout = 200 * time.Millisecond
			f.mock.Inject(c.api, wechattest.Fault{Hang: time.Hour}, 0)
			start := time.Now()
			err := c.call(f)
			require.Error(t, err)
			assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
			assert.Less(t, time.Since(start), 2*time.Second)
			assertNoTokenLeak(t, err, f.mock.AccessToken())
		})
	}
	t.Run("the caller's context", func(t *testing.T) {
		f := newPlatformFixture(t)
		f.mock.Inject(wechattest.APIMsgSecCheck, wechattest.Fault{Hang: time.Hour}, 0)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := f.platform.CheckText(ctx, f.mock.OpenID("alice"), domain.SceneProfile, "x")
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
		assert.Less(t, time.Since(start), time.Second)
	})
}

func TestPlatform_ErrorsNeverCarryTheTokenOrTheURL(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		c := wechat.NewClient(testAppID, testAppSecret, "http://"+closedAddr(t), time.Second)
		p := wechat.NewPlatform(c, &tokenCache{cur: fixedToken})
		_, err := p.PhoneNumber(t.Context(), "code", "o1")
		require.Error(t, err)
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
		assertNoTokenLeak(t, err)
		assert.NotContains(t, err.Error(), "getuserphonenumber")
	})
	t.Run("a body that stalls", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"errcode":0,"result":{"sugg`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}))
		t.Cleanup(srv.Close)
		c := wechat.NewClient(testAppID, testAppSecret, srv.URL, 200*time.Millisecond)
		p := wechat.NewPlatform(c, &tokenCache{cur: fixedToken})
		_, err := p.CheckText(t.Context(), "o1", domain.SceneProfile, "x")
		require.Error(t, err)
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
		assertNoTokenLeak(t, err)
	})
	t.Run("an HTTP error page echoing the URL", func(t *testing.T) {
		p, _ := onServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "bad gateway for "+r.URL.String(), http.StatusBadGateway)
		})
		_, err := p.CheckText(t.Context(), "o1", domain.SceneProfile, "x")
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
		assertNoTokenLeak(t, err)
	})
	t.Run("a redirect is not followed", func(t *testing.T) {
		var elsewhere atomic.Int32
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			elsewhere.Add(1)
			_, _ = io.WriteString(w, `{"errcode":0,"result":{"suggest":"pass"}}`)
		}))
		t.Cleanup(other.Close)
		p, _ := onServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/wxa/msg_sec_check?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
		})
		_, err := p.CheckText(t.Context(), "o1", domain.SceneProfile, "x")
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
		assert.Zero(t, elsewhere.Load(), "the token went nowhere else")
		assertNoTokenLeak(t, err)
	})
	t.Run("an invalid API URL", func(t *testing.T) {
		c := wechat.NewClient(testAppID, testAppSecret, "http://exa mple.com", time.Second)
		p := wechat.NewPlatform(c, &tokenCache{cur: fixedToken})
		_, err := p.CheckText(t.Context(), "o1", domain.SceneProfile, "x")
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
		assertNoTokenLeak(t, err)
		_, _, err = c.StableToken(t.Context(), false)
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
		assertNoSecrets(t, err)
	})
}
