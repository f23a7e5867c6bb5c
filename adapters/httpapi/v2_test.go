package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/httpapi"
	"github.com/onestroke/onestroke/adapters/wechat"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/mock"
	"github.com/onestroke/onestroke/tests/testenv"
)

const jsonCT = "application/json"

// v2Login logs user in on a new device and returns the login's data.
func (e *env) v2Login(user, device string) map[string]any {
	e.t.Helper()
	d, err := e.wx.Mint(user, wechattest.Profile{})
	require.NoError(e.t, err)
	r := e.do(http.MethodPost, "/applet/v2/login", nil, jsonCT, `{"code":"`+d.Code+`","device":"`+device+`"}`)
	require.Equal(e.t, http.StatusOK, r.status, r.raw)
	return r.body["data"].(map[string]any)
}

func auth(login map[string]any) http.Header {
	return http.Header{"Authorization": {"Bearer " + login["token"].(string)}}
}

func data(t *testing.T, r response) any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.EqualValues(t, 0, r.body["code"], r.raw)
	assert.Equal(t, "success", r.body["msg"], r.raw)
	return r.body["data"]
}

func rfc3339UTC(t *testing.T, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "a time string: %v", v)
	require.True(t, strings.HasSuffix(s, "Z"), "UTC: %s", s)
	tm, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return tm
}

func TestV2Login_AnswersTheTokenAndTheSession(t *testing.T) {
	e := newEnv(t, nil)
	d, err := e.wx.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)
	r := e.do(http.MethodPost, "/applet/v2/login", nil, "application/json; charset=utf-8", `{"code":"`+d.Code+`","device":"iPhone 15 · 一笔","extra":[1]}`)
	got := data(t, r).(map[string]any)
	assert.Regexp(t, `^ost_[A-Za-z0-9_-]{43}$`, got["token"])
	assert.Regexp(t, `^[A-Za-z0-9_-]{22}$`, got["sessionId"])
	assert.Equal(t, e.wx.OpenID("alice"), got["openId"])
	assert.NotEmpty(t, got["unionId"], "the mock gives a unionid")
	assert.EqualValues(t, 7*24*3600, got["idleTimeout"], "seconds")
	assert.WithinDuration(t, time.Now().Add(7*24*time.Hour), rfc3339UTC(t, got["expiresAt"]), time.Minute)
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	assert.Equal(t, 1, e.wx.Exchanges())

	me := data(t, e.do(http.MethodGet, "/applet/v2/me", auth(got), "", ""))
	assert.Equal(t, map[string]any{"openId": got["openId"], "unionId": got["unionId"]}, me)
}

func TestV2Profile_PatchValidatesAndGetAnswersIt(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.v2Login("alice", "phone")
	r := e.do(http.MethodPatch, "/applet/v2/me", auth(alice), jsonCT, `{"nickName":"一笔 Alice","avatarUrl":"https://cdn.example/a.png"}`)
	assert.Equal(t, map[string]any{"openId": alice["openId"], "unionId": alice["unionId"], "nickName": "一笔 Alice", "avatarUrl": "https://cdn.example/a.png"}, data(t, r))
	r = e.do(http.MethodPatch, "/applet/v2/me", auth(alice), jsonCT, `{"nickName":"Al"}`)
	assert.Equal(t, "https://cdn.example/a.png", data(t, r).(map[string]any)["avatarUrl"], "a field not sent stays")
	r = e.do(http.MethodPatch, "/applet/v2/me", auth(alice), jsonCT, `{"nickName":"`+strings.Repeat("长", 33)+`"}`)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "ERR_INVALID_REQUEST", businessReason(t, r))
	r = e.do(http.MethodGet, "/applet/v2/me", auth(alice), "", "")
	assert.Equal(t, "Al", data(t, r).(map[string]any)["nickName"])
}

func TestV2Sessions_ListRevokeLogoutAndLogoutAll(t *testing.T) {
	e := newEnv(t, nil)
	phone := e.v2Login("alice", "phone")
	time.Sleep(1100 * time.Millisecond) // RFC 3339 has whole seconds: newest first must show
	tablet := e.v2Login("alice", "tablet")
	bob := e.v2Login("bob", "bob's")

	list := data(t, e.do(http.MethodGet, "/applet/v2/sessions", auth(phone), "", "")).([]any)
	require.Len(t, list, 2, "alice's own sessions only")
	first, second := list[0].(map[string]any), list[1].(map[string]any)
	assert.Equal(t, tablet["sessionId"], first["sessionId"], "newest first")
	assert.Equal(t, "tablet", first["device"])
	assert.Equal(t, false, first["current"])
	assert.Equal(t, true, second["current"], "the calling session")
	for _, k := range []string{"createdAt", "lastSeenAt", "expiresAt"} {
		rfc3339UTC(t, first[k])
	}

	r := e.do(http.MethodDelete, "/applet/v2/sessions/"+bob["sessionId"].(string), auth(phone), "", "")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "ERR_NOT_FOUND", businessReason(t, r), "another user's session is not found")
	data(t, e.do(http.MethodGet, "/applet/v2/me", auth(bob), "", ""))

	r = e.do(http.MethodDelete, "/applet/v2/sessions/"+tablet["sessionId"].(string), auth(phone), "", "")
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, r.raw)
	r = e.do(http.MethodGet, "/applet/v2/me", auth(tablet), "", "")
	assert.Equal(t, "ERR_SESSION_EXPIRED", businessReason(t, r), "the revoked device")
	data(t, e.do(http.MethodGet, "/applet/v2/me", auth(phone), "", ""))

	r = e.do(http.MethodPost, "/applet/v2/logout", auth(phone), "", "")
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, r.raw)
	r = e.do(http.MethodGet, "/applet/v2/me", auth(phone), "", "")
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "ERR_SESSION_EXPIRED", businessReason(t, r))
	assert.Equal(t, `Bearer error="invalid_token"`, r.header.Get("WWW-Authenticate"))

	bob2 := e.v2Login("bob", "bob's other")
	r = e.do(http.MethodPost, "/applet/v2/logout-all", auth(bob2), "", "")
	assert.Equal(t, `{"code":0,"msg":"success","data":{"revoked":2}}`, r.raw)
	r = e.do(http.MethodGet, "/applet/v2/me", auth(bob), "", "")
	assert.Equal(t, "ERR_SESSION_EXPIRED", businessReason(t, r))
}

// The routes of §6 that take no body (logout, logout-all, revoking a
// session) read none: the client library sends them without a body and
// without a Content-Type, and a client that sends Content-Type:
// application/json with an empty body is served alike, never answered
// ERR_UNSUPPORTED_MEDIA_TYPE or ERR_INVALID_REQUEST.
func TestV2_BodilessRoutesNeedNoBodyNorContentType(t *testing.T) {
	for _, ct := range []string{"", jsonCT} {
		t.Run("Content-Type "+ct, func(t *testing.T) {
			e := newEnv(t, nil)
			phone := e.v2Login("alice", "phone")
			tablet := e.v2Login("alice", "tablet")
			laptop := e.v2Login("alice", "laptop")

			r := e.do(http.MethodDelete, "/applet/v2/sessions/"+tablet["sessionId"].(string), auth(phone), ct, "")
			assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, r.raw)
			r = e.do(http.MethodDelete, "/applet/v2/sessions/pactSessionNobody00001", auth(phone), ct, "")
			assert.Equal(t, http.StatusNotFound, r.status, r.raw)
			assert.Equal(t, "ERR_NOT_FOUND", businessReason(t, r))

			r = e.do(http.MethodPost, "/applet/v2/logout", auth(laptop), ct, "")
			assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, r.raw)
			r = e.do(http.MethodPost, "/applet/v2/logout-all", auth(phone), ct, "")
			assert.Equal(t, `{"code":0,"msg":"success","data":{"revoked":1}}`, r.raw)
		})
	}
}

func TestV2_WWWAuthenticateChallenges(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(http.MethodGet, "/applet/v2/me", nil, "", "")
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "ERR_NO_SESSION", businessReason(t, r))
	assert.Equal(t, "Bearer", r.header.Get("WWW-Authenticate"))
	r = e.do(http.MethodGet, "/applet/v2/me", http.Header{"Authorization": {"Bearer ost_" + strings.Repeat("A", 43)}}, "", "")
	assert.Equal(t, "ERR_SESSION_EXPIRED", businessReason(t, r))
	assert.Equal(t, `Bearer error="invalid_token"`, r.header.Get("WWW-Authenticate"))
	r = e.do(http.MethodGet, "/applet/session/paints/list", nil, "", "")
	assert.Equal(t, "ERR_NO_SESSION", businessReason(t, r))
	assert.Empty(t, r.header.Values("WWW-Authenticate"), "a legacy answer stays as it was")
}

func TestLegacyRoutes_AcceptABearerTokenAsTheTokensUser(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.v2Login("alice", "phone")
	data(t, e.do(http.MethodPatch, "/applet/v2/me", auth(alice), jsonCT, `{"nickName":"Alice","avatarUrl":"https://cdn.example/a.png"}`))
	openID := alice["openId"].(string)

	r := e.do(http.MethodGet, "/applet/session", auth(alice), "", "")
	assert.Equal(t, `{"wxUserInfo":{"nickName":"Alice","avatarUrl":"https://cdn.example/a.png","openId":"`+openID+`"}}`, r.raw)

	// X-WX-* headers are ignored next to a token: here a legacy session of bob.
	withBob := auth(alice)
	for k, v := range e.login("bob") {
		withBob[k] = v
	}
	r = e.do(http.MethodPost, "/applet/session/paints/save", withBob, jsonCT, `{"id":"d1","actions":"[1]"}`)
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, r.raw)
	assert.Len(t, e.drawings(openID), 1, "saved as the token's user")
	assert.Empty(t, e.drawings(e.wx.OpenID("bob")))

	// A legacy login of the same WeChat user sees the same drawings.
	legacy := e.login("alice")
	r = e.do(http.MethodGet, "/applet/session/paints/list", legacy, "", "")
	assert.Equal(t, `{"code":0,"msg":"success","data":[{"id":"d1","actions":"[1]"}]}`, r.raw)
	r = e.do(http.MethodPost, "/applet/session/paints/delete", auth(alice), formCTv2, "id=d1")
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, r.raw)

	// A refused token answers the session error body, with the challenge.
	data(t, e.do(http.MethodPost, "/applet/v2/logout", auth(alice), "", ""))
	r = e.do(http.MethodGet, "/applet/session", withBob, "", "")
	reason, _ := sessionReason(t, r)
	assert.Equal(t, "ERR_SESSION_EXPIRED", reason, "bob's X-WX-Code does not stand in for the ended token")
	assert.Equal(t, `Bearer error="invalid_token"`, r.header.Get("WWW-Authenticate"))
	r = e.do(http.MethodGet, "/applet/session", http.Header{"Authorization": {"Basic YWxpY2U6cHc="}, "X-Wx-Code": {legacy.Get("X-Wx-Code")}}, "", "")
	assert.Equal(t, http.StatusOK, r.status, "another scheme is not a token: the legacy headers decide")
}

const formCTv2 = "application/x-www-form-urlencoded"

func TestV2Login_WeChatsRefusalsInTheModernTerms(t *testing.T) {
	tests := []struct {
		errcode, n int
		status     int
		reason     string
		retryAfter string
	}{
		{wechat.ErrInvalidCode, 1, 401, "ERR_LOGIN_CODE_INVALID", ""},
		{wechat.ErrCodeUsed, 1, 401, "ERR_LOGIN_CODE_INVALID", ""},
		{wechat.ErrHighRiskUser, 1, 401, "ERR_LOGIN_CODE_INVALID", ""},
		{wechat.ErrFrequencyLimit, 1, 429, "ERR_RATE_LIMITED", "60"},
		{wechat.ErrSystemBusy, 2, 503, "ERR_WECHAT_UNAVAILABLE", ""},
		{wechat.ErrInvalidAppID, 1, 503, "ERR_WECHAT_UNAVAILABLE", ""},
		{wechat.ErrInvalidAppSecret, 1, 503, "ERR_WECHAT_UNAVAILABLE", ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("errcode %d", tt.errcode), func(t *testing.T) {
			var logs testenv.SyncBuffer
			e := newEnv(t, func(c *httpapi.Config) {
				c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				c.Tokens.Logger = c.Logger
			})
			e.wx.FailNext(tt.errcode, tt.n)
			d, _ := e.wx.Mint("alice", wechattest.Profile{})
			r := e.do(http.MethodPost, "/applet/v2/login", nil, jsonCT, `{"code":"`+d.Code+`"}`)
			assert.Equal(t, tt.status, r.status, r.raw)
			assert.Equal(t, tt.reason, businessReason(t, r))
			assert.Equal(t, tt.retryAfter, r.header.Get("Retry-After"))
			assert.Empty(t, r.header.Values("WWW-Authenticate"))
			assert.NotContains(t, r.raw, "s3cr3t-app-secret")
			assert.NotContains(t, logs.String(), "s3cr3t-app-secret")
			if tt.errcode == wechat.ErrInvalidAppID || tt.errcode == wechat.ErrInvalidAppSecret {
				assert.Contains(t, logs.String(), "configuration error")
			}
		})
	}
}

func TestV2Login_RateLimitedPerAddressWithRetryAfter(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.Tokens.Gate = &app.ExchangeGate{Limiter: &mock.RateLimiter{AllowFn: func(_ context.Context, key string) (bool, time.Duration, error) {
			return key != "203.0.113.7", 42 * time.Second, nil
		}}}
	})
	d, _ := e.wx.Mint("alice", wechattest.Profile{})
	r := e.do(http.MethodPost, "/applet/v2/login", http.Header{"X-Forwarded-For": {"203.0.113.7"}}, jsonCT, `{"code":"`+d.Code+`"}`)
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "ERR_RATE_LIMITED", businessReason(t, r))
	assert.Equal(t, "42", r.header.Get("Retry-After"))
	assert.Zero(t, e.wx.Exchanges())
	r = e.do(http.MethodPost, "/applet/v2/login", http.Header{"X-Forwarded-For": {"203.0.113.8"}}, jsonCT, `{"code":"`+d.Code+`"}`)
	data(t, r)
}

func TestV2Login_ConcurrentAndRetriedLoginsOfOneCode(t *testing.T) {
	e := newEnv(t, nil)
	e.wx.SetDelay(50 * time.Millisecond)
	d, _ := e.wx.Mint("alice", wechattest.Profile{})
	body := `{"code":"` + d.Code + `"}`
	tokens := make([]string, 20)
	var wg sync.WaitGroup
	for i := range tokens {
		wg.Go(func() {
			r := e.do(http.MethodPost, "/applet/v2/login", nil, jsonCT, body)
			if assert.Equal(t, http.StatusOK, r.status, r.raw) {
				tokens[i] = r.body["data"].(map[string]any)["token"].(string)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, e.wx.Exchanges())
	retried := data(t, e.do(http.MethodPost, "/applet/v2/login", nil, jsonCT, body)).(map[string]any)
	assert.Equal(t, 1, e.wx.Exchanges(), "a retry is answered without WeChat")
	for _, tok := range append(tokens, retried["token"].(string)) {
		data(t, e.do(http.MethodGet, "/applet/v2/me", http.Header{"Authorization": {"Bearer " + tok}}, "", ""))
	}
}
