package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/boltstore"
	"github.com/onestroke/onestroke/adapters/httpapi"
	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/adapters/render"
	"github.com/onestroke/onestroke/adapters/wechat"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/mock"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/tests/testenv"
)

// env is the real router with the real use cases, the in-process stores and
// the mock WeChat, all over HTTP.
type env struct {
	t        *testing.T
	srv      *httpapi.Server
	api      *httptest.Server
	ops      *httptest.Server // the operator's routes
	wx       *wechattest.Server
	sessions *memstore.SessionStore
	tokens   *memstore.TokenSessions
	profiles *memstore.Profiles
	repo     *boltstore.Repository
	platform *fakePlatform // WeChat's platform APIs behind the app's ports (platform_test.go)
}

const maxActions = 4 << 10

func newEnv(t *testing.T, mutate func(*httpapi.Config)) *env {
	t.Helper()
	wx := wechattest.New("wxAPP", "s3cr3t-app-secret", nil)
	wxSrv := httptest.NewServer(wx)
	t.Cleanup(wxSrv.Close)
	repo, err := boltstore.Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { repo.Close() })
	sessions := memstore.NewSessionStore(nil)
	tokens, profiles := memstore.NewTokenSessions(), memstore.NewProfiles()
	exchanger := wechat.NewClient("wxAPP", "s3cr3t-app-secret", wxSrv.URL, 2*time.Second)
	sealer, err := domain.NewSessionKeySealer("s3cr3t-app-secret")
	require.NoError(t, err)
	platform := newFakePlatform()
	tokenService := &app.TokenService{Sessions: tokens, Codes: memstore.NewLoginCodes(nil), Profiles: profiles,
		Exchanger: exchanger, Sealer: sealer, Phones: platform, Content: platform, AppID: "wxAPP"}
	cfg := httpapi.Config{
		MaxBodyBytes: 16 << 10,
		Sessions:     &app.SessionService{Store: sessions, TTL: time.Hour, Exchanger: exchanger},
		Tokens:       tokenService,
		Drawings:     &app.DrawingService{Repo: repo, MaxActionsBytes: maxActions, Content: tokenService, Renderer: render.New()},
		Checks:       []httpapi.Check{{Name: "drawings", Ping: repo.Ping}},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv := httpapi.New(cfg)
	api := httptest.NewServer(srv)
	t.Cleanup(api.Close)
	ops := httptest.NewServer(srv.OpsHandler())
	t.Cleanup(ops.Close)
	return &env{t: t, srv: srv, api: api, ops: ops, wx: wx, sessions: sessions, tokens: tokens, profiles: profiles, repo: repo, platform: platform}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
	// closes is the answer's Connection: close, which net/http's client
	// removes from header.
	closes bool
}

func (e *env) do(method, path string, header http.Header, contentType, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.api.URL+path, strings.NewReader(body))
	require.NoError(e.t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw), closes: resp.Close}
	if len(raw) > 0 && method != http.MethodHead && !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") { // renderings are images
		require.NoError(e.t, json.Unmarshal(raw, &r.body), "body is JSON: %s", raw)
	}
	return r
}

// login performs a device's first request and returns the code-only
// headers of its later requests.
func (e *env) login(user string) http.Header {
	e.t.Helper()
	d, err := e.wx.Mint(user, wechattest.Profile{})
	require.NoError(e.t, err)
	r := e.do(http.MethodGet, "/applet/session", d.Headers(), "", "")
	require.Equal(e.t, http.StatusOK, r.status, r.raw)
	return http.Header{"X-Wx-Code": {d.Code}}
}

func (e *env) drawings(owner string) []*domain.Drawing {
	e.t.Helper()
	ds, err := e.repo.List(context.Background(), owner, 1000)
	require.NoError(e.t, err)
	return ds
}

func sessionReason(t *testing.T, r response) (string, bool) {
	t.Helper()
	require.EqualValues(t, 1, r.body[httpapi.SessionErrorKey], "session error body: %s", r.raw)
	errObj, ok := r.body["error"].(map[string]any)
	require.True(t, ok, "error object: %s", r.raw)
	assert.Equal(t, "Error", errObj["name"])
	assert.NotEmpty(t, errObj["message"])
	reason, has := r.body["reason"].(string)
	return reason, has
}

func businessReason(t *testing.T, r response) string {
	t.Helper()
	assert.EqualValues(t, -1, r.body["code"], r.raw)
	assert.Equal(t, "fail", r.body["msg"], r.raw)
	errObj, ok := r.body["error"].(map[string]any)
	require.True(t, ok, "error object: %s", r.raw)
	assert.NotEmpty(t, errObj["message"])
	return errObj["reason"].(string)
}

func TestSessionRoute_FirstCachedAndAnonymous(t *testing.T) {
	e := newEnv(t, nil)
	d, err := e.wx.Mint("alice", wechattest.Profile{NickName: "一笔到底🎨", AvatarURL: "https://x/y.png?a=1&b=2"})
	require.NoError(t, err)

	first := e.do(http.MethodGet, "/applet/session", d.Headers(), "", "")
	require.Equal(t, http.StatusOK, first.status, first.raw)
	assert.Equal(t, "application/json; charset=utf-8", first.header.Get("Content-Type"))
	user := first.body["wxUserInfo"].(map[string]any)
	assert.Equal(t, "一笔到底🎨", user["nickName"])
	assert.Equal(t, "https://x/y.png?a=1&b=2", user["avatarUrl"])
	assert.Equal(t, e.wx.OpenID("alice"), user["openId"])

	cached := e.do(http.MethodGet, "/applet/session", http.Header{"X-Wx-Code": {d.Code}}, "", "")
	assert.Equal(t, first.raw, cached.raw, "the cached answer is byte-for-byte the first")

	anon := e.do(http.MethodGet, "/applet/session", nil, "", "")
	assert.Equal(t, `{"wxUserInfo":null}`, anon.raw)
	assert.Equal(t, 1, e.wx.Exchanges())
}

func TestSessionErrors_ReasonsAndStatuses(t *testing.T) {
	e := newEnv(t, nil)
	d, err := e.wx.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)

	r := e.do(http.MethodGet, "/applet/session", http.Header{"X-Wx-Code": {"never-seen"}}, "", "")
	reason, _ := sessionReason(t, r)
	assert.Equal(t, "ERR_SESSION_EXPIRED", reason)
	assert.Equal(t, http.StatusUnauthorized, r.status)

	forged := d.Headers()
	forged.Set("X-Wx-Signature", strings.Repeat("a", 40))
	r = e.do(http.MethodGet, "/applet/session", forged, "", "")
	reason, _ = sessionReason(t, r)
	assert.Equal(t, "ERR_UNTRUSTED_RAW_DATA", reason)

	e.wx.FailNext(wechat.ErrInvalidCode, 1)
	d2, _ := e.wx.Mint("bob", wechattest.Profile{})
	r = e.do(http.MethodGet, "/applet/session", d2.Headers(), "", "")
	reason, _ = sessionReason(t, r)
	assert.Equal(t, "ERR_SESSION_KEY_EXCHANGE_FAILED", reason)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.EqualValues(t, wechat.ErrInvalidCode, r.body["error"].(map[string]any)["detail"].(map[string]any)["errcode"])
	assert.NotContains(t, r.raw, "s3cr3t-app-secret")

	e.wx.FailNext(wechat.ErrSystemBusy, 5)
	d3, _ := e.wx.Mint("carol", wechattest.Profile{})
	r = e.do(http.MethodGet, "/applet/session", d3.Headers(), "", "")
	reason, _ = sessionReason(t, r)
	assert.Equal(t, "ERR_SESSION_KEY_EXCHANGE_FAILED", reason)
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
}

func TestHostileInputs_ClearErrorAndNothingStored(t *testing.T) {
	const quotaBytes = 1 << 10 // below maxActions, so a save can be within the limits and over the quota
	// One exchange slot, which the case "exchange slots full" holds with a
	// login of holdCode that the exchanger keeps until the case is over.
	const holdCode = "hold-the-only-exchange-slot"
	held, release := make(chan struct{}), make(chan struct{})
	// The address the limiter refuses, behind the test's loopback proxy.
	const limitedAddr = "203.0.113.99"
	var logs testenv.SyncBuffer
	e := newEnv(t, func(c *httpapi.Config) {
		c.DrawingsPerUser = 2
		c.DrawingWait = 100 * time.Millisecond
		c.PlatformWait = 50 * time.Millisecond
		c.Tokens.PlatformTimeout = 300 * time.Millisecond
		c.Drawings.Quota = domain.Quota{MaxDrawings: 100, MaxBytes: quotaBytes}
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Sessions.Logger = c.Logger
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.Sessions.Gate = &app.ExchangeGate{MaxConcurrent: 1, Wait: 50 * time.Millisecond,
			Limiter: &mock.RateLimiter{AllowFn: func(_ context.Context, key string) (bool, time.Duration, error) {
				if key == limitedAddr {
					return false, 42 * time.Second, nil
				}
				return true, 0, nil
			}}}
		real := c.Sessions.Exchanger
		c.Sessions.Exchanger = &mock.CodeExchanger{ExchangeFn: func(ctx context.Context, code string) (domain.WxSession, error) {
			if code != holdCode {
				return real.Exchange(ctx, code)
			}
			held <- struct{}{}
			<-release
			return domain.WxSession{}, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "held for the test")
		}}
	})
	alice := e.login("alice")
	// Security review finding 5: a user whose slow uploads hold all its
	// drawing slots (for the whole table) gets no more of the service.
	hog := e.login("hog")
	for range 2 {
		e.slowSave(hog.Get("X-Wx-Code"))
	}
	openID := e.wx.OpenID("alice")
	// Each case gets its own device: a code is spent once it reaches WeChat.
	device := func() wechattest.Device {
		d, err := e.wx.Mint("mallory", wechattest.Profile{})
		require.NoError(t, err)
		return d
	}
	withRaw := func(raw string) http.Header {
		d := device()
		return http.Header{"X-Wx-Code": {d.Code}, "X-Wx-Rawdata": {raw}, "X-Wx-Signature": {d.Signature}}
	}
	unsigned := device()
	// withSignature is a device's first headers with its genuine signature
	// bent out of shape.
	withSignature := func(bend func(string) string) http.Header {
		h := device().Headers()
		h.Set("X-Wx-Signature", bend(h.Get("X-Wx-Signature")))
		return h
	}
	// Only a well-formed signature reaches WeChat; every other hostile
	// input is refused before the code is spent.
	reachesWeChat := map[string]bool{"signature forged": true}
	secrets := func() []string {
		return []string{"s3cr3t-app-secret", e.wx.SessionKey("mallory").Reveal(), e.wx.SessionKey("alice").Reveal(), e.wx.SessionKey("bob").Reveal()}
	}
	// setup prepares a case and returns what undoes it.
	setup := map[string]func() func(){
		"exchange slots full": func() func() {
			h := device().Headers()
			h.Set("X-Wx-Code", holdCode)
			done := make(chan struct{})
			go func() {
				defer close(done)
				req, _ := http.NewRequest(http.MethodGet, e.api.URL+"/applet/session", nil)
				req.Header = h
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}()
			<-held
			return func() { close(release); <-done }
		},
	}
	merge := func(h http.Header, k, v string) http.Header {
		out := h.Clone()
		out.Set(k, v)
		return out
	}
	const formCT = "application/x-www-form-urlencoded"
	save, del, list, sess := "/applet/session/paints/save", "/applet/session/paints/delete", "/applet/session/paints/list", "/applet/session"

	type hostileCase struct {
		name         string
		method, path string
		header       http.Header
		contentType  string
		body         string
		status       int
		sessionError bool   // session error body instead of the business envelope
		reason       string // "" with sessionError: no reason
	}
	cases := []hostileCase{
		{"rawData broken percent-encoding", "GET", sess, withRaw("%7B%22a%22%3A%2"), "", "", 400, true, ""},
		{"rawData truncated UTF-8", "GET", sess, withRaw("%7B%22a%22%3A%22%E4%B8%22%7D"), "", "", 400, true, ""},
		{"rawData not JSON", "GET", sess, withRaw("hello"), "", "", 400, true, ""},
		{"rawData a JSON array", "GET", sess, withRaw("%5B1%2C2%5D"), "", "", 400, true, ""},
		{"rawData with trailing data", "GET", sess, withRaw("%7B%7D%7B%7D"), "", "", 400, true, ""},
		{"rawData oversized", "GET", sess, withRaw(strings.Repeat("a", domain.MaxRawDataLength+1)), "", "", 400, true, ""},
		{"code oversized", "GET", sess, http.Header{"X-Wx-Code": {strings.Repeat("c", 200)}}, "", "", 400, true, ""},
		{"code not ASCII", "GET", sess, http.Header{"X-Wx-Code": {"c\xc3\xb6de"}}, "", "", 400, true, ""},
		{"signature forged", "GET", sess, merge(device().Headers(), "X-Wx-Signature", strings.Repeat("0", 40)), "", "", 401, true, "ERR_UNTRUSTED_RAW_DATA"},
		{"signature missing", "GET", sess, http.Header{"X-Wx-Code": {unsigned.Code}, "X-Wx-Rawdata": {wechattest.EncodeURIComponent(unsigned.RawData)}}, "", "", 401, true, "ERR_UNTRUSTED_RAW_DATA"},
		{"signature short", "GET", sess, withSignature(func(s string) string { return s[:39] }), "", "", 401, true, "ERR_UNTRUSTED_RAW_DATA"},
		{"signature uppercase", "GET", sess, withSignature(strings.ToUpper), "", "", 401, true, "ERR_UNTRUSTED_RAW_DATA"},
		{"signature not hex", "GET", sess, withSignature(func(s string) string { return "zz" + s[2:] }), "", "", 401, true, "ERR_UNTRUSTED_RAW_DATA"},
		{"exchange slots full", "GET", sess, device().Headers(), "", "", 503, true, ""},
		{"login rate-limited", "GET", sess, merge(device().Headers(), "X-Forwarded-For", limitedAddr), "", "", 429, true, ""},
		{"code unknown on a paints route", "POST", save, http.Header{"X-Wx-Code": {"nope"}}, jsonCT, `{"id":"d1","actions":"[]"}`, 401, true, "ERR_SESSION_EXPIRED"},
		{"headers oversized in total", "GET", sess, merge(alice, "X-Junk", strings.Repeat("j", 20<<10)), "", "", 431, false, "ERR_TOO_LARGE"},
		{"save without session", "POST", save, nil, jsonCT, `{"id":"d1","actions":"[]"}`, 401, false, "ERR_NO_SESSION"},
		{"list without session", "GET", list, nil, "", "", 401, false, "ERR_NO_SESSION"},
		{"id missing", "POST", save, alice, jsonCT, `{"actions":"[]"}`, 400, false, "ERR_INVALID_REQUEST"},
		{"id too long", "POST", save, alice, jsonCT, `{"id":"` + strings.Repeat("a", 65) + `","actions":"[]"}`, 400, false, "ERR_INVALID_REQUEST"},
		{"id with a slash", "POST", save, alice, jsonCT, `{"id":"../etc","actions":"[]"}`, 400, false, "ERR_INVALID_REQUEST"},
		{"id not ASCII", "POST", save, alice, jsonCT, `{"id":"画","actions":"[]"}`, 400, false, "ERR_INVALID_REQUEST"},
		{"id with a NUL", "POST", save, alice, formCT, "id=a%00b&actions=%5B%5D", 400, false, "ERR_INVALID_REQUEST"},
		{"id a number", "POST", save, alice, jsonCT, `{"id":123,"actions":"[]"}`, 400, false, "ERR_INVALID_REQUEST"},
		{"actions missing", "POST", save, alice, jsonCT, `{"id":"d1"}`, 400, false, "ERR_INVALID_REQUEST"},
		{"actions not JSON", "POST", save, alice, jsonCT, `{"id":"d1","actions":"[{\"t\":"}`, 400, false, "ERR_INVALID_REQUEST"},
		{"actions an array, not a string", "POST", save, alice, jsonCT, `{"id":"d1","actions":[1,2]}`, 400, false, "ERR_INVALID_REQUEST"},
		{"actions too large", "POST", save, alice, jsonCT, `{"id":"d1","actions":"[` + strings.Repeat("1,", maxActions/2) + `1]"}`, 413, false, "ERR_TOO_LARGE"},
		{"actions over the owner's quota", "POST", save, alice, jsonCT, `{"id":"d1","actions":"[` + strings.Repeat("1,", quotaBytes/2) + `1]"}`, 409, false, "ERR_QUOTA_EXCEEDED"},
		{"body too large", "POST", save, alice, jsonCT, `{"id":"d1","actions":"` + strings.Repeat(" ", 20<<10) + `[]"}`, 413, false, "ERR_TOO_LARGE"},
		{"body not JSON", "POST", save, alice, jsonCT, `id=d1&actions=[]`, 400, false, "ERR_INVALID_REQUEST"},
		{"body a JSON array", "POST", save, alice, jsonCT, `[{"id":"d1","actions":"[]"}]`, 400, false, "ERR_INVALID_REQUEST"},
		{"body with trailing data", "POST", save, alice, jsonCT, `{"id":"d1","actions":"[]"} {}`, 400, false, "ERR_INVALID_REQUEST"},
		{"body empty", "POST", save, alice, jsonCT, ``, 400, false, "ERR_INVALID_REQUEST"},
		{"form with broken percent-encoding", "POST", save, alice, formCT, "id=d1&actions=%5B%5", 400, false, "ERR_INVALID_REQUEST"},
		{"actions with invalid UTF-8 in a JSON string", "POST", save, alice, formCT, "id=d1&actions=%5B%22%FF%22%5D", 400, false, "ERR_INVALID_REQUEST"},
		{"content type text/plain", "POST", save, alice, "text/plain", `{"id":"d1","actions":"[]"}`, 415, false, "ERR_UNSUPPORTED_MEDIA_TYPE"},
		{"content type missing", "POST", save, alice, "", `{"id":"d1","actions":"[]"}`, 415, false, "ERR_UNSUPPORTED_MEDIA_TYPE"},
		{"content type malformed", "POST", save, alice, "application/json; charset", `{"id":"d1","actions":"[]"}`, 415, false, "ERR_UNSUPPORTED_MEDIA_TYPE"},
		{"charset not UTF-8", "POST", save, alice, "application/json; charset=gbk", `{"id":"d1","actions":"[]"}`, 415, false, "ERR_UNSUPPORTED_MEDIA_TYPE"},
		{"GET on save", "GET", save, alice, "", "", 405, false, "ERR_METHOD_NOT_ALLOWED"},
		{"POST on list", "POST", list, alice, jsonCT, `{}`, 405, false, "ERR_METHOD_NOT_ALLOWED"},
		{"DELETE on the session", "DELETE", sess, alice, "", "", 405, false, "ERR_METHOD_NOT_ALLOWED"},
		{"unknown route", "GET", "/applet/session/paints/export", alice, "", "", 404, false, "ERR_NOT_FOUND"},
		{"delete without id", "POST", del, alice, jsonCT, `{}`, 400, false, "ERR_INVALID_REQUEST"},
		{"delete of an id nobody has", "POST", del, alice, formCT, "id=ghost", 404, false, "ERR_NOT_FOUND"},
		{"save by a user whose slow uploads hold all its slots", "POST", save, hog, jsonCT, `{"id":"d1","actions":"[]"}`, 503, false, "ERR_UNAVAILABLE"},
		{"list by a user whose slow uploads hold all its slots", "GET", list, hog, "", "", 503, false, "ERR_UNAVAILABLE"},
		// Security review finding 2: an openId (the key of the original's openId → code entry) is not a code.
		{"code that is an openId", "GET", sess, http.Header{"X-Wx-Code": {openID}}, "", "", 401, true, "ERR_SESSION_EXPIRED"},
		{"code that is an openId on a paints route", "GET", list, http.Header{"X-Wx-Code": {openID}}, "", "", 401, true, "ERR_SESSION_EXPIRED"},
		// Security review finding 3: JSON text and form bodies are UTF-8 (RFC 8259); nothing is stored mangled.
		{"JSON body with bytes that are not UTF-8 in actions", "POST", save, alice, jsonCT, "{\"id\":\"d1\",\"actions\":\"[\\\"\xff\xfe\\\"]\"}", 400, false, "ERR_INVALID_REQUEST"},
		{"JSON body with bytes that are not UTF-8 in the id", "POST", save, alice, jsonCT, "{\"id\":\"d\xff\",\"actions\":\"[]\"}", 400, false, "ERR_INVALID_REQUEST"},
		{"JSON body with bytes that are not UTF-8 outside the fields", "POST", save, alice, jsonCT, "{\"id\":\"d1\",\"actions\":\"[]\",\"x\":\"\xff\"}", 400, false, "ERR_INVALID_REQUEST"},
		{"JSON body in UTF-16", "POST", save, alice, jsonCT, "\xff\xfe{\x00}\x00", 400, false, "ERR_INVALID_REQUEST"},
		{"form body with bytes that are not UTF-8", "POST", save, alice, formCT, "id=d1&actions=[\"\xff\xfe\"]", 400, false, "ERR_INVALID_REQUEST"},
		{"form body with percent-encoded bytes that are not UTF-8", "POST", save, alice, formCT, "id=d1&actions=%5B%22%FF%FE%22%5D", 400, false, "ERR_INVALID_REQUEST"},
	}
	// The modern sessions (PROTOCOL §6): every v2 route, and the legacy
	// routes with a bearer token, against tokens that are not alice's live
	// one. Refusing them touches nothing: her token keeps working.
	aliceV2 := e.v2Login("alice", "phone")
	tok := aliceV2["token"].(string)
	ended := e.v2Login("alice", "ended")
	require.Equal(t, http.StatusOK, e.do("POST", "/applet/v2/logout", auth(ended), "", "").status)
	bobV2 := e.v2Login("bob", "bob's")
	changed := []byte(tok)
	if changed[20] == 'A' {
		changed[20] = 'B'
	} else {
		changed[20] = 'A'
	}
	bearerOf := func(v string) http.Header { return http.Header{"Authorization": {v}} }
	tokens := []struct {
		name   string
		header http.Header
		reason string
	}{
		{"no Authorization", nil, "ERR_NO_SESSION"},
		{"a Basic credential", bearerOf("Basic YWxpY2U6cGFzc3dvcmQ="), "ERR_NO_SESSION"},
		{"the scheme alone", bearerOf("Bearer"), "ERR_NO_SESSION"},
		{"a token of another format", bearerOf("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"), "ERR_NO_SESSION"},
		{"a truncated token", bearerOf("Bearer " + tok[:len(tok)-1]), "ERR_NO_SESSION"},
		{"a token with a character more", bearerOf("Bearer " + tok + "A"), "ERR_NO_SESSION"},
		{"a token of 10 kB", bearerOf("Bearer ost_" + strings.Repeat("A", 10<<10)), "ERR_NO_SESSION"},
		{"the token as X-WX-Code", http.Header{"X-Wx-Code": {tok}}, "ERR_NO_SESSION"},
		{"a token with one character changed", bearerOf("Bearer " + string(changed)), "ERR_SESSION_EXPIRED"},
		{"a token of an ended session", auth(ended), "ERR_SESSION_EXPIRED"},
	}
	v2 := "/applet/v2"
	for _, route := range []struct{ method, path, contentType, body string }{
		{"GET", v2 + "/me", "", ""},
		{"PATCH", v2 + "/me", jsonCT, `{"nickName":"mallory"}`},
		{"GET", v2 + "/sessions", "", ""},
		{"DELETE", v2 + "/sessions/" + aliceV2["sessionId"].(string), "", ""},
		{"POST", v2 + "/logout", "", ""},
		{"POST", v2 + "/logout-all", "", ""},
		{"POST", v2 + "/me/phone", jsonCT, `{"code":"c0ffee"}`},
		{"POST", v2 + "/me/decrypt", jsonCT, `{"encryptedData":"AAAAAAAAAAAAAAAAAAAAAA==","iv":"AAAAAAAAAAAAAAAAAAAAAA=="}`},
		{"GET", v2 + "/drawings", "", ""},
		{"GET", v2 + "/drawings/d1", "", ""},
		{"PUT", v2 + "/drawings/d1", jsonCT, `{"actions":[]}`},
		{"DELETE", v2 + "/drawings/d1", "", ""},
		{"GET", v2 + "/drawings/d1.svg", "", ""},
		{"GET", v2 + "/drawings/d1.png?w=64", "", ""},
	} {
		for _, tk := range tokens {
			cases = append(cases, hostileCase{route.method + " " + route.path + " with " + tk.name, route.method, route.path, tk.header,
				route.contentType, route.body, 401, false, tk.reason})
		}
	}
	for _, tk := range tokens[2:] {
		if tk.header.Get("Authorization") == "" {
			continue // without a bearer token a legacy request is the legacy protocol's
		}
		cases = append(cases, hostileCase{"legacy session with " + tk.name, "GET", sess, tk.header, "", "", 401, true, tk.reason},
			hostileCase{"legacy save with " + tk.name, "POST", save, tk.header, jsonCT, `{"id":"d1","actions":"[]"}`, 401, true, tk.reason})
	}
	withCode := merge(bearerOf("Bearer "+string(changed)), "X-Wx-Code", alice.Get("X-Wx-Code"))
	loginCase := func(name, contentType, body string, status int, reason string) hostileCase {
		return hostileCase{"v2 login: " + name, "POST", v2 + "/login", nil, contentType, body, status, false, reason}
	}
	patchCase := func(name, contentType, body string, status int, reason string) hostileCase {
		return hostileCase{"v2 profile: " + name, "PATCH", v2 + "/me", bearerOf("Bearer " + tok), contentType, body, status, false, reason}
	}
	// The platform routes (PROTOCOL §8). WeChat's answers come from the
	// fake behind the app's ports; codes it never minted are refused.
	phoneCase := func(name, contentType, body string, status int, reason string) hostileCase {
		return hostileCase{"v2 phone: " + name, "POST", v2 + "/me/phone", bearerOf("Bearer " + tok), contentType, body, status, false, reason}
	}
	decryptCase := func(name, contentType, body string, status int, reason string) hostileCase {
		return hostileCase{"v2 decrypt: " + name, "POST", v2 + "/me/decrypt", bearerOf("Bearer " + tok), contentType, body, status, false, reason}
	}
	const wmark = `,"watermark":{"appid":"wxAPP","timestamp":1700000000}}`
	bobsData, bobsIV := encryptFor(t, e.wx.SessionKey("bob"), `{"openGId":"g"`+wmark)
	otherApp, otherIV := encryptFor(t, e.wx.SessionKey("alice"), `{"openGId":"g","watermark":{"appid":"wxOTHER"}}`)
	notJSON, notJSONIV := encryptFor(t, e.wx.SessionKey("alice"), `openGId=g`)
	aliceData, aliceIV := encryptFor(t, e.wx.SessionKey("alice"), `{"openGId":"g"`+wmark)
	aliceRaw, err := base64.StdEncoding.DecodeString(aliceData)
	require.NoError(t, err)
	blockMore := base64.StdEncoding.EncodeToString(append(aliceRaw, make([]byte, 16)...))
	setup["v2 phone: WeChat unavailable"] = func() func() {
		e.platform.set(domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat is down."), false)
		return func() { e.platform.set(nil, false) }
	}
	setup["v2 profile: content check unavailable"] = setup["v2 phone: WeChat unavailable"]
	setup["v2 phone: WeChat hangs"] = func() func() {
		e.platform.set(nil, true)
		return func() { e.platform.set(nil, false) }
	}
	// Two of alice's phone requests hang at WeChat (until the platform
	// timeout), holding both of her platform slots.
	setup["v2 decrypt: the user's platform slots all held"] = func() func() {
		e.platform.set(nil, true)
		var wg sync.WaitGroup
		for range httpapi.DefaultPlatformPerUser {
			wg.Go(func() { e.do("POST", v2+"/me/phone", bearerOf("Bearer "+tok), jsonCT, `{"code":"c0ffee"}`) })
		}
		require.Eventually(t, func() bool { return e.platform.inside.Load() == httpapi.DefaultPlatformPerUser }, 5*time.Second, time.Millisecond)
		return func() { e.platform.set(nil, false); wg.Wait() }
	}
	// The v2 drawing routes (PROTOCOL §7). Carol's drawing is the one the
	// conditional cases aim at: it must come out of them unchanged.
	carol := auth(e.v2Login("carol", "phone"))
	carolPut := e.do("PUT", v2+"/drawings/c1", carol, jsonCT, `{"title":"Carol's","actions":[1]}`)
	require.Equal(t, http.StatusCreated, carolPut.status, carolPut.raw)
	carolTag := carolPut.header.Get("ETag")
	_, bobsCursor := func() (any, string) {
		bobs := auth(bobV2)
		for i := range 2 {
			require.Equal(t, http.StatusCreated, e.do("PUT", fmt.Sprintf("%s/drawings/b%d", v2, i), bobs, jsonCT, `{"actions":[1]}`).status)
		}
		r := e.do("GET", v2+"/drawings?limit=1", bobs, "", "")
		require.Equal(t, http.StatusOK, r.status, r.raw)
		return nil, r.body["data"].(map[string]any)["next"].(string)
	}()
	hogV2 := bearerOf("Bearer " + e.v2Login("hog", "phone")["token"].(string))
	drawingCase := func(name, method, path string, header http.Header, contentType, body string, status int, reason string) hostileCase {
		h := bearerOf("Bearer " + tok)
		for k, vs := range header {
			h[k] = vs
		}
		return hostileCase{"v2 drawing: " + name, method, v2 + "/drawings" + path, h, contentType, body, status, false, reason}
	}
	putCase := func(name, contentType, body string, status int, reason string) hostileCase {
		return drawingCase(name, "PUT", "/d1", nil, contentType, body, status, reason)
	}
	withCarol := func(k, v string) http.Header { h := carol.Clone(); h.Set(k, v); return h }
	setup["v2 drawing: title check unavailable"] = setup["v2 phone: WeChat unavailable"]
	cases = append(cases,
		putCase("actions missing", jsonCT, `{"title":"x"}`, 400, "ERR_INVALID_REQUEST"),
		putCase("actions a string", jsonCT, `{"actions":"[]"}`, 400, "ERR_INVALID_REQUEST"),
		putCase("actions an object", jsonCT, `{"actions":{"method":"save"}}`, 400, "ERR_INVALID_REQUEST"),
		putCase("actions null", jsonCT, `{"actions":null}`, 400, "ERR_INVALID_REQUEST"),
		putCase("actions a number", jsonCT, `{"actions":7}`, 400, "ERR_INVALID_REQUEST"),
		putCase("actions too large", jsonCT, `{"actions":[`+strings.Repeat("1,", maxActions/2)+`1]}`, 413, "ERR_TOO_LARGE"),
		putCase("actions over the owner's quota", jsonCT, `{"actions":[`+strings.Repeat("1,", quotaBytes/2)+`1]}`, 409, "ERR_QUOTA_EXCEEDED"),
		putCase("actions with invalid UTF-8", jsonCT, "{\"actions\":[\"\xff\"]}", 400, "ERR_INVALID_REQUEST"),
		putCase("actions truncated", jsonCT, `{"actions":[1,2`, 400, "ERR_INVALID_REQUEST"),
		putCase("title a number", jsonCT, `{"title":7,"actions":[]}`, 400, "ERR_INVALID_REQUEST"),
		putCase("title null", jsonCT, `{"title":null,"actions":[]}`, 400, "ERR_INVALID_REQUEST"),
		putCase("title of 65 characters", jsonCT, `{"title":"`+strings.Repeat("长", 65)+`","actions":[]}`, 400, "ERR_INVALID_REQUEST"),
		putCase("title with a control character", jsonCT, `{"title":"a\u0007b","actions":[]}`, 400, "ERR_INVALID_REQUEST"),
		putCase("title WeChat judges risky", jsonCT, `{"title":"RISKY","actions":[]}`, 422, "ERR_CONTENT_RISKY"),
		putCase("title check unavailable", jsonCT, `{"title":"Sunset","actions":[]}`, 503, "ERR_WECHAT_UNAVAILABLE"),
		putCase("body too large", jsonCT, `{"actions":[],"x":"`+strings.Repeat(" ", 20<<10)+`"}`, 413, "ERR_TOO_LARGE"),
		putCase("body a JSON array", jsonCT, `[{"actions":[]}]`, 400, "ERR_INVALID_REQUEST"),
		putCase("body with trailing data", jsonCT, `{"actions":[]} {}`, 400, "ERR_INVALID_REQUEST"),
		putCase("body empty", jsonCT, ``, 400, "ERR_INVALID_REQUEST"),
		putCase("body not UTF-8", jsonCT, "{\"title\":\"\xff\",\"actions\":[]}", 400, "ERR_INVALID_REQUEST"),
		putCase("form-encoded", formCT, `actions=[]`, 415, "ERR_UNSUPPORTED_MEDIA_TYPE"),
		putCase("content type missing", "", `{"actions":[]}`, 415, "ERR_UNSUPPORTED_MEDIA_TYPE"),
		putCase("charset not UTF-8", "application/json; charset=gbk", `{"actions":[]}`, 415, "ERR_UNSUPPORTED_MEDIA_TYPE"),
		drawingCase("id of 65 characters", "PUT", "/"+strings.Repeat("a", 65), nil, jsonCT, `{"actions":[]}`, 400, "ERR_INVALID_REQUEST"),
		drawingCase("GET of an id of 65 characters", "GET", "/"+strings.Repeat("a", 65), nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("id with a dot (a rendering, not a drawing)", "PUT", "/d1.svg", nil, jsonCT, `{"actions":[]}`, 405, "ERR_METHOD_NOT_ALLOWED"),
		drawingCase("id with a dot that is no rendering", "PUT", "/d1.txt", nil, jsonCT, `{"actions":[]}`, 404, "ERR_NOT_FOUND"),
		drawingCase("SVG of another user's drawing", "GET", "/c1.svg", nil, "", "", 404, "ERR_NOT_FOUND"),
		drawingCase("PNG of another user's drawing", "GET", "/c1.png?w=256", nil, "", "", 404, "ERR_NOT_FOUND"),
		drawingCase("PNG of an id nobody has", "GET", "/ghost.png", nil, "", "", 404, "ERR_NOT_FOUND"),
		drawingCase("PNG of an id of 65 characters", "GET", "/"+strings.Repeat("a", 65)+".png", nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("PNG w=15", "GET", "/c1.png?w=15", nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("PNG w=1025", "GET", "/c1.png?w=1025", nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("PNG w=0", "GET", "/c1.png?w=0", nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("PNG w negative", "GET", "/c1.png?w=-256", nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("PNG w not a number", "GET", "/c1.png?w=wide", nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("PNG w empty", "GET", "/c1.png?w=", nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("PNG w of 30 digits", "GET", "/c1.png?w="+strings.Repeat("9", 30), nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("PNG w a fraction", "GET", "/c1.png?w=256.5", nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("a rendering in another format", "GET", "/c1.gif", nil, "", "", 404, "ERR_NOT_FOUND"),
		drawingCase("a rendering with two extensions", "GET", "/c1.png.svg", nil, "", "", 404, "ERR_NOT_FOUND"),
		drawingCase("PUT on a rendering", "PUT", "/c1.png", nil, jsonCT, `{"actions":[]}`, 405, "ERR_METHOD_NOT_ALLOWED"),
		drawingCase("DELETE on a rendering", "DELETE", "/c1.svg", nil, "", "", 405, "ERR_METHOD_NOT_ALLOWED"),
		hostileCase{"v2 drawing: PNG by a user whose slow uploads hold all its slots", "GET", v2 + "/drawings/d1.png", hogV2, "", "", 503, false, "ERR_UNAVAILABLE"},
		drawingCase("id with an escaped slash", "GET", "/a%2Fb", nil, "", "", 404, "ERR_NOT_FOUND"),
		drawingCase("id not ASCII", "PUT", "/%E7%94%BB", nil, jsonCT, `{"actions":[]}`, 404, "ERR_NOT_FOUND"),
		drawingCase("GET of an id nobody has", "GET", "/ghost", nil, "", "", 404, "ERR_NOT_FOUND"),
		drawingCase("GET of another user's id", "GET", "/c1", nil, "", "", 404, "ERR_NOT_FOUND"),
		drawingCase("DELETE of another user's id", "DELETE", "/c1", nil, "", "", 404, "ERR_NOT_FOUND"),
		drawingCase("DELETE of an id nobody has with If-Match", "DELETE", "/ghost", http.Header{"If-Match": {carolTag}}, "", "", 412, "ERR_CONFLICT"),
		drawingCase("If-Match not an entity tag", "PUT", "/d1", http.Header{"If-Match": {"abc"}}, jsonCT, `{"actions":[]}`, 400, "ERR_INVALID_REQUEST"),
		drawingCase("If-Match unterminated", "PUT", "/d1", http.Header{"If-Match": {`"abc`}}, jsonCT, `{"actions":[]}`, 400, "ERR_INVALID_REQUEST"),
		drawingCase("If-Match empty", "DELETE", "/d1", http.Header{"If-Match": {""}}, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("If-Match with a tag of 10 kB", "PUT", "/d1", http.Header{"If-Match": {`"` + strings.Repeat("a", 10<<10) + `"`}}, jsonCT, `{"actions":[]}`, 412, "ERR_CONFLICT"),
		drawingCase("If-None-Match of a tag", "PUT", "/d1", http.Header{"If-None-Match": {carolTag}}, jsonCT, `{"actions":[]}`, 400, "ERR_INVALID_REQUEST"),
		drawingCase("If-None-Match on a DELETE", "DELETE", "/d1", http.Header{"If-None-Match": {"*"}}, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("If-Match on a drawing nobody has (PUT never creates with it)", "PUT", "/d1", http.Header{"If-Match": {"*"}}, jsonCT, `{"actions":[]}`, 412, "ERR_CONFLICT"),
		hostileCase{"v2 drawing: PUT with a stale If-Match", "PUT", v2 + "/drawings/c1", withCarol("If-Match", `"0000000000000000"`), jsonCT, `{"actions":[2]}`, 412, false, "ERR_CONFLICT"},
		hostileCase{"v2 drawing: PUT with a weak If-Match of the current tag", "PUT", v2 + "/drawings/c1", withCarol("If-Match", "W/"+carolTag), jsonCT, `{"actions":[2]}`, 412, false, "ERR_CONFLICT"},
		hostileCase{"v2 drawing: PUT with If-None-Match on an existing drawing", "PUT", v2 + "/drawings/c1", withCarol("If-None-Match", "*"), jsonCT, `{"actions":[2]}`, 412, false, "ERR_CONFLICT"},
		hostileCase{"v2 drawing: DELETE with a stale If-Match", "DELETE", v2 + "/drawings/c1", withCarol("If-Match", `"0000000000000000"`), "", "", 412, false, "ERR_CONFLICT"},
		drawingCase("limit 0", "GET", "?limit=0", nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("limit 101", "GET", "?limit=101", nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("limit negative", "GET", "?limit=-1", nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("limit not a number", "GET", "?limit=ten", nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("limit of 30 digits", "GET", "?limit="+strings.Repeat("9", 30), nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("cursor garbled", "GET", "?cursor=AAAAAAAA", nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("cursor of another user", "GET", "?cursor="+bobsCursor, nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("cursor of 4 kB", "GET", "?cursor="+strings.Repeat("A", 4<<10), nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("cursor with a NUL", "GET", "?cursor=%00", nil, "", "", 400, "ERR_INVALID_REQUEST"),
		drawingCase("POST on the list", "POST", "", nil, jsonCT, `{"actions":[]}`, 405, "ERR_METHOD_NOT_ALLOWED"),
		drawingCase("PATCH on a drawing", "PATCH", "/d1", nil, jsonCT, `{"actions":[]}`, 405, "ERR_METHOD_NOT_ALLOWED"),
		drawingCase("POST on a drawing", "POST", "/d1", nil, jsonCT, `{"actions":[]}`, 405, "ERR_METHOD_NOT_ALLOWED"),
		hostileCase{"v2 drawing: list by a user whose slow uploads hold all its slots", "GET", v2 + "/drawings", hogV2, "", "", 503, false, "ERR_UNAVAILABLE"},
		hostileCase{"v2 drawing: PUT by a user whose slow uploads hold all its slots", "PUT", v2 + "/drawings/d1", hogV2, jsonCT, `{"actions":[]}`, 503, false, "ERR_UNAVAILABLE"},
	)
	cases = append(cases,
		hostileCase{"legacy list with a refused token and a live X-WX-Code", "GET", list, withCode, "", "", 401, true, "ERR_SESSION_EXPIRED"},
		loginCase("code WeChat does not know", jsonCT, `{"code":"0a1b2c3d4e5f"}`, 401, "ERR_LOGIN_CODE_INVALID"),
		loginCase("code missing", jsonCT, `{"device":"x"}`, 400, "ERR_INVALID_REQUEST"),
		loginCase("code under another key case", jsonCT, `{"Code":"0a1b2c3d4e5f"}`, 400, "ERR_INVALID_REQUEST"),
		loginCase("code empty", jsonCT, `{"code":""}`, 400, "ERR_INVALID_REQUEST"),
		loginCase("code a number", jsonCT, `{"code":123}`, 400, "ERR_INVALID_REQUEST"),
		loginCase("code null", jsonCT, `{"code":null}`, 400, "ERR_INVALID_REQUEST"),
		loginCase("code oversized", jsonCT, `{"code":"`+strings.Repeat("c", 200)+`"}`, 400, "ERR_INVALID_REQUEST"),
		loginCase("code with a space", jsonCT, `{"code":"a b"}`, 400, "ERR_INVALID_REQUEST"),
		loginCase("device too long", jsonCT, `{"code":"abc","device":"`+strings.Repeat("d", 65)+`"}`, 400, "ERR_INVALID_REQUEST"),
		loginCase("device with a control character", jsonCT, `{"code":"abc","device":"a\u0007b"}`, 400, "ERR_INVALID_REQUEST"),
		loginCase("device an object", jsonCT, `{"code":"abc","device":{}}`, 400, "ERR_INVALID_REQUEST"),
		loginCase("body null", jsonCT, `null`, 400, "ERR_INVALID_REQUEST"),
		loginCase("body a JSON array", jsonCT, `[{"code":"abc"}]`, 400, "ERR_INVALID_REQUEST"),
		loginCase("body a string", jsonCT, `"abc"`, 400, "ERR_INVALID_REQUEST"),
		loginCase("body with trailing data", jsonCT, `{"code":"abc"} {}`, 400, "ERR_INVALID_REQUEST"),
		loginCase("body empty", jsonCT, ``, 400, "ERR_INVALID_REQUEST"),
		loginCase("body truncated", jsonCT, `{"code":"abc"`, 400, "ERR_INVALID_REQUEST"),
		loginCase("body not UTF-8", jsonCT, "{\"code\":\"abc\",\"device\":\"\xff\"}", 400, "ERR_INVALID_REQUEST"),
		loginCase("body too large", jsonCT, `{"code":"abc","x":"`+strings.Repeat(" ", 20<<10)+`"}`, 413, "ERR_TOO_LARGE"),
		loginCase("form-encoded", formCT, `code=abc`, 415, "ERR_UNSUPPORTED_MEDIA_TYPE"),
		loginCase("content type missing", "", `{"code":"abc"}`, 415, "ERR_UNSUPPORTED_MEDIA_TYPE"),
		loginCase("charset not UTF-8", "application/json; charset=gbk", `{"code":"abc"}`, 415, "ERR_UNSUPPORTED_MEDIA_TYPE"),
		patchCase("nickName empty", jsonCT, `{"nickName":""}`, 400, "ERR_INVALID_REQUEST"),
		patchCase("nickName of 33 characters", jsonCT, `{"nickName":"`+strings.Repeat("长", 33)+`"}`, 400, "ERR_INVALID_REQUEST"),
		patchCase("nickName with a control character", jsonCT, `{"nickName":"a\nb"}`, 400, "ERR_INVALID_REQUEST"),
		patchCase("nickName a number", jsonCT, `{"nickName":7}`, 400, "ERR_INVALID_REQUEST"),
		patchCase("nickName null", jsonCT, `{"nickName":null}`, 400, "ERR_INVALID_REQUEST"),
		patchCase("avatarUrl over http", jsonCT, `{"avatarUrl":"http://cdn.example/a.png"}`, 400, "ERR_INVALID_REQUEST"),
		patchCase("avatarUrl of 513 bytes", jsonCT, `{"avatarUrl":"https://cdn.example/`+strings.Repeat("a", 513-len("https://cdn.example/"))+`"}`, 400, "ERR_INVALID_REQUEST"),
		patchCase("avatarUrl javascript", jsonCT, `{"avatarUrl":"javascript:alert(1)"}`, 400, "ERR_INVALID_REQUEST"),
		patchCase("a valid nickName with a bad avatarUrl", jsonCT, `{"nickName":"ok","avatarUrl":"ftp://x/y"}`, 400, "ERR_INVALID_REQUEST"),
		patchCase("body not JSON", jsonCT, `nickName=x`, 400, "ERR_INVALID_REQUEST"),
		patchCase("text/plain", "text/plain", `{"nickName":"x"}`, 415, "ERR_UNSUPPORTED_MEDIA_TYPE"),
		patchCase("nickName WeChat judges risky", jsonCT, `{"nickName":"RISKY one","avatarUrl":"https://cdn.example/m.png"}`, 422, "ERR_CONTENT_RISKY"),
		patchCase("content check unavailable", jsonCT, `{"nickName":"mallory"}`, 503, "ERR_WECHAT_UNAVAILABLE"),
		phoneCase("code WeChat never gave", jsonCT, `{"code":"c0ffee"}`, 400, "ERR_PHONE_CODE_INVALID"),
		phoneCase("WeChat unavailable", jsonCT, `{"code":"c0ffee"}`, 503, "ERR_WECHAT_UNAVAILABLE"),
		phoneCase("WeChat hangs", jsonCT, `{"code":"c0ffee"}`, 503, "ERR_WECHAT_UNAVAILABLE"),
		phoneCase("code missing", jsonCT, `{"Code":"c0ffee"}`, 400, "ERR_INVALID_REQUEST"),
		phoneCase("code empty", jsonCT, `{"code":""}`, 400, "ERR_INVALID_REQUEST"),
		phoneCase("code a number", jsonCT, `{"code":7}`, 400, "ERR_INVALID_REQUEST"),
		phoneCase("code null", jsonCT, `{"code":null}`, 400, "ERR_INVALID_REQUEST"),
		phoneCase("code with a space", jsonCT, `{"code":"c0 ffee"}`, 400, "ERR_INVALID_REQUEST"),
		phoneCase("code oversized", jsonCT, `{"code":"`+strings.Repeat("c", 200)+`"}`, 400, "ERR_INVALID_REQUEST"),
		phoneCase("body a JSON array", jsonCT, `[{"code":"c0ffee"}]`, 400, "ERR_INVALID_REQUEST"),
		phoneCase("body with trailing data", jsonCT, `{"code":"c0ffee"} {}`, 400, "ERR_INVALID_REQUEST"),
		phoneCase("body empty", jsonCT, ``, 400, "ERR_INVALID_REQUEST"),
		phoneCase("body not UTF-8", jsonCT, "{\"code\":\"c0\xffee\"}", 400, "ERR_INVALID_REQUEST"),
		phoneCase("body too large", jsonCT, `{"code":"c0ffee","x":"`+strings.Repeat(" ", 20<<10)+`"}`, 413, "ERR_TOO_LARGE"),
		phoneCase("form-encoded", formCT, `code=c0ffee`, 415, "ERR_UNSUPPORTED_MEDIA_TYPE"),
		decryptCase("data another user's session_key made", jsonCT, decryptBody(bobsData, bobsIV), 401, "ERR_SESSION_KEY_STALE"),
		decryptCase("data of another app", jsonCT, decryptBody(otherApp, otherIV), 401, "ERR_SESSION_KEY_STALE"),
		decryptCase("plaintext not JSON", jsonCT, decryptBody(notJSON, notJSONIV), 401, "ERR_SESSION_KEY_STALE"),
		decryptCase("data truncated", jsonCT, decryptBody(aliceData[:len(aliceData)-8], aliceIV), 401, "ERR_SESSION_KEY_STALE"),
		decryptCase("data with a block more", jsonCT, decryptBody(blockMore, aliceIV), 401, "ERR_SESSION_KEY_STALE"),
		decryptCase("the IV of other data", jsonCT, decryptBody(aliceData, otherIV), 401, "ERR_SESSION_KEY_STALE"),
		decryptCase("data not base64", jsonCT, decryptBody("%%%not base64%%%", aliceIV), 401, "ERR_SESSION_KEY_STALE"),
		decryptCase("IV of 8 bytes", jsonCT, decryptBody(aliceData, "AAAAAAAAAAA="), 401, "ERR_SESSION_KEY_STALE"),
		decryptCase("IV empty", jsonCT, decryptBody(aliceData, ""), 401, "ERR_SESSION_KEY_STALE"),
		decryptCase("encryptedData missing", jsonCT, `{"iv":"`+aliceIV+`"}`, 400, "ERR_INVALID_REQUEST"),
		decryptCase("iv missing", jsonCT, `{"encryptedData":"`+aliceData+`"}`, 400, "ERR_INVALID_REQUEST"),
		decryptCase("encryptedData an object", jsonCT, `{"encryptedData":{},"iv":"`+aliceIV+`"}`, 400, "ERR_INVALID_REQUEST"),
		decryptCase("iv a number", jsonCT, `{"encryptedData":"`+aliceData+`","iv":16}`, 400, "ERR_INVALID_REQUEST"),
		decryptCase("body not JSON", jsonCT, `encryptedData=x&iv=y`, 400, "ERR_INVALID_REQUEST"),
		decryptCase("body too large", jsonCT, decryptBody(strings.Repeat("A", httpapi.MaxDecryptBodyBytes), aliceIV), 413, "ERR_TOO_LARGE"),
		decryptCase("text/plain", "text/plain", decryptBody(aliceData, aliceIV), 415, "ERR_UNSUPPORTED_MEDIA_TYPE"),
		decryptCase("the user's platform slots all held", jsonCT, decryptBody(aliceData, aliceIV), 503, "ERR_UNAVAILABLE"),
		hostileCase{"GET on v2 phone", "GET", v2 + "/me/phone", bearerOf("Bearer " + tok), "", "", 405, false, "ERR_METHOD_NOT_ALLOWED"},
		hostileCase{"PUT on v2 decrypt", "PUT", v2 + "/me/decrypt", bearerOf("Bearer " + tok), jsonCT, `{}`, 405, false, "ERR_METHOD_NOT_ALLOWED"},
		hostileCase{"v2 revoke of another user's session", "DELETE", v2 + "/sessions/" + bobV2["sessionId"].(string), bearerOf("Bearer " + tok), "", "", 404, false, "ERR_NOT_FOUND"},
		hostileCase{"v2 revoke of an unknown session", "DELETE", v2 + "/sessions/AAAAAAAAAAAAAAAAAAAAAA", bearerOf("Bearer " + tok), "", "", 404, false, "ERR_NOT_FOUND"},
		hostileCase{"v2 revoke of an id of other characters", "DELETE", v2 + "/sessions/a.b", bearerOf("Bearer " + tok), "", "", 404, false, "ERR_NOT_FOUND"},
		hostileCase{"GET on v2 login", "GET", v2 + "/login", nil, "", "", 405, false, "ERR_METHOD_NOT_ALLOWED"},
		hostileCase{"PUT on v2 me", "PUT", v2 + "/me", bearerOf("Bearer " + tok), jsonCT, `{}`, 405, false, "ERR_METHOD_NOT_ALLOWED"},
		hostileCase{"POST on v2 sessions", "POST", v2 + "/sessions", bearerOf("Bearer " + tok), jsonCT, `{}`, 405, false, "ERR_METHOD_NOT_ALLOWED"},
		hostileCase{"GET on v2 logout", "GET", v2 + "/logout", bearerOf("Bearer " + tok), "", "", 405, false, "ERR_METHOD_NOT_ALLOWED"},
		hostileCase{"GET on v2 logout-all", "GET", v2 + "/logout-all", bearerOf("Bearer " + tok), "", "", 405, false, "ERR_METHOD_NOT_ALLOWED"},
		hostileCase{"unknown v2 route", "GET", v2 + "/admin", bearerOf("Bearer " + tok), "", "", 404, false, "ERR_NOT_FOUND"},
	)
	reachesWeChat["v2 login: code WeChat does not know"] = true
	require.GreaterOrEqual(t, len(cases), 25)

	// Security review finding 1: correctly signed rawData that names another
	// user under a key of other letter case is accepted as the signer only:
	// the answer and every later request carry the signer's openId alone.
	for _, raw := range []string{
		`{"openId":"x","OPENID":"` + openID + `","k\"":1}`,
		`{"OpenId":"` + openID + `"}`,
		`{"open\u0069d":"` + openID + `","nickName":"m"}`,
	} {
		t.Run("rawData naming another user in other letter case: "+raw, func(t *testing.T) {
			code := fmt.Sprintf("signer%d", e.sessions.Len())
			key := wechattest.NewSessionKey()
			e.wx.AcceptCode(code, "oSIGNER", key, "")
			first := e.do("GET", sess, http.Header{"X-Wx-Code": {code}, "X-Wx-Rawdata": {domain.EncodeRawData(raw)},
				"X-Wx-Signature": {domain.Sign(raw, key)}}, "", "")
			require.Equal(t, http.StatusOK, first.status, first.raw)
			later := e.do("GET", sess, http.Header{"X-Wx-Code": {code}}, "", "")
			for _, r := range []response{first, later} {
				user := r.body["wxUserInfo"].(map[string]any)
				for k, v := range user {
					if strings.EqualFold(k, "openId") {
						assert.Equal(t, "openId", k, r.raw)
						assert.Equal(t, "oSIGNER", v, r.raw)
					}
				}
			}
			saved := e.do("POST", save, http.Header{"X-Wx-Code": {code}}, jsonCT, `{"id":"mine","actions":"[]"}`)
			require.Equal(t, http.StatusOK, saved.status, saved.raw)
			assert.Empty(t, e.drawings(openID), "nothing stored as the user the rawData named")
			assert.Len(t, e.drawings("oSIGNER"), 1)
		})
	}
	sessionsBefore, tokensBefore, profilesBefore := e.sessions.Len(), e.tokens.Len(), e.profiles.Len()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if f := setup[c.name]; f != nil {
				defer f()()
			}
			exchanges := e.wx.Exchanges()
			r := e.do(c.method, c.path, c.header, c.contentType, c.body)
			if !reachesWeChat[c.name] {
				assert.Equal(t, exchanges, e.wx.Exchanges(), "no exchange with WeChat")
			}
			assert.Equal(t, c.status, r.status, r.raw)
			assert.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"))
			if c.sessionError {
				reason, has := sessionReason(t, r)
				assert.Equal(t, c.reason != "", has, "reason present: %s", r.raw)
				assert.Equal(t, c.reason, reason)
			} else {
				assert.Equal(t, c.reason, businessReason(t, r))
			}
			// A refusal of a bearer token carries its challenge (PROTOCOL §6);
			// a legacy answer carries none, as before.
			challenge := ""
			if strings.Contains(c.path, "/v2/") || isBearer(c.header.Get("Authorization")) {
				challenge = map[string]string{"ERR_NO_SESSION": "Bearer", "ERR_SESSION_EXPIRED": `Bearer error="invalid_token"`}[c.reason]
			}
			assert.Equal(t, challenge, r.header.Get("WWW-Authenticate"))
			assert.Empty(t, e.drawings(openID), "nothing stored")
			assert.Equal(t, sessionsBefore, e.sessions.Len(), "no session stored")
			assert.Equal(t, tokensBefore, e.tokens.Len(), "no token session stored or ended")
			assert.Equal(t, profilesBefore, e.profiles.Len(), "no profile stored")
			for _, secret := range append(secrets(), tok) {
				assert.NotContains(t, r.raw, secret, "no secret in the answer")
			}
			me := e.do("GET", "/applet/v2/me", bearerOf("Bearer "+tok), "", "")
			assert.Equal(t, http.StatusOK, me.status, "alice's token still works: %s", me.raw)
			assert.NotContains(t, me.raw, "nickName", "and her profile is untouched")
		})
	}
	for _, secret := range append(secrets(), tok, string(changed)) {
		assert.NotContains(t, logs.String(), secret, "no secret in the logs")
	}
	carolGet := e.do("GET", v2+"/drawings/c1", carol, "", "")
	assert.Equal(t, carolTag, carolGet.header.Get("ETag"), "the conditional cases changed nothing of carol's")
}

func isBearer(v string) bool {
	scheme, _, _ := strings.Cut(v, " ")
	return strings.EqualFold(scheme, "Bearer")
}

func TestSkipPrefixes_RunAnonymously(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.SkipSessionPrefixes = []string{"/applet/session/paints/list"} })
	r := e.do(http.MethodGet, "/applet/session/paints/list", http.Header{"X-Wx-Code": {"expired-code"}}, "", "")
	assert.Equal(t, "ERR_NO_SESSION", businessReason(t, r), "skipped the session layer, so no ERR_SESSION_EXPIRED")
	r = e.do(http.MethodGet, "/applet/session", http.Header{"X-Wx-Code": {"expired-code"}}, "", "")
	reason, _ := sessionReason(t, r)
	assert.Equal(t, "ERR_SESSION_EXPIRED", reason, "other routes keep the session layer")
}

func TestBasePath_IsConfigurable(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.BasePath = "/v1/draw/" })
	assert.Equal(t, `{"wxUserInfo":null}`, e.do(http.MethodGet, "/v1/draw/session", nil, "", "").raw)
	assert.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "/applet/session", nil, "", "").status)
}

func TestPaints_FormAndJSONBodiesBothWork(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.login("alice")
	r := e.do(http.MethodPost, "/applet/session/paints/save", alice, "application/json; charset=utf-8", `{"id":"j1","actions":"[{\"x\":1}]"}`)
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, r.raw)
	r = e.do(http.MethodPost, "/applet/session/paints/save", alice, "application/x-www-form-urlencoded", "id=f1&actions=%5B%7B%22x%22%3A2%7D%5D")
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, r.raw)
	r = e.do(http.MethodGet, "/applet/session/paints/list", alice, "", "")
	assert.Equal(t, `{"code":0,"msg":"success","data":[{"id":"f1","actions":"[{\"x\":2}]"},{"id":"j1","actions":"[{\"x\":1}]"}]}`, r.raw)
}

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t, nil)
	assert.Equal(t, `{"status":"ok"}`, e.do(http.MethodGet, "/healthz", nil, "", "").raw)
	r := e.do(http.MethodGet, "/readyz", nil, "", "")
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "ready", r.body["status"])

	down := newEnv(t, func(c *httpapi.Config) {
		c.Checks = append(c.Checks, httpapi.Check{Name: "redis", Ping: func(context.Context) error {
			return domain.Errorf(domain.EUNAVAILABLE, "dial tcp 10.0.0.1:6379: password=hunter2")
		}})
	})
	r = down.do(http.MethodGet, "/readyz", nil, "", "")
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "down", r.body["checks"].(map[string]any)["redis"])
	assert.NotContains(t, r.raw, "hunter2")
}

func TestDrain_ReadyzAnswers503AndEveryAnswerClosesItsConnection(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.login("alice")
	before := e.do(http.MethodGet, "/applet/session/paints/list", alice, "", "")
	assert.False(t, before.closes, "keep-alive before the drain")

	e.srv.Drain()
	assert.True(t, e.srv.Draining())
	for _, base := range []string{e.api.URL, e.ops.URL} {
		resp, err := http.Get(base + "/readyz")
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, base)
		assert.JSONEq(t, `{"status":"draining"}`, string(raw))
	}
	assert.Equal(t, `{"status":"ok"}`, e.do(http.MethodGet, "/healthz", nil, "", "").raw, "alive: nobody should kill it")
	for _, r := range []response{
		e.do(http.MethodGet, "/applet/session/paints/list", alice, "", ""),
		e.do(http.MethodPost, "/applet/session/paints/save", alice, "application/json", `{"id":"d1","actions":"[]"}`),
		e.do(http.MethodGet, "/no/such/route", nil, "", ""),
	} {
		assert.True(t, r.closes, "Connection: close on %d %s", r.status, r.raw)
	}
	r := e.do(http.MethodGet, "/applet/session/paints/list", alice, "", "")
	assert.Equal(t, http.StatusOK, r.status, "still serving")
	assert.Equal(t, `{"code":0,"msg":"success","data":[{"id":"d1","actions":"[]"}]}`, r.raw)
}

func TestPanics_AreAnsweredInTheEnvelope(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) {
		c.Drawings = &app.DrawingService{Repo: nil} // any repository call panics
	})
	alice := e.login("alice")
	r := e.do(http.MethodGet, "/applet/session/paints/list", alice, "", "")
	assert.Equal(t, http.StatusInternalServerError, r.status)
	assert.Equal(t, "ERR_INTERNAL", businessReason(t, r))
}

func TestMetrics_CountRequestsByRouteTemplate(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.login("alice")
	e.do(http.MethodPost, "/applet/session/paints/save", alice, "application/json", `{"id":"d1","actions":"[]"}`)
	e.do(http.MethodPost, "/applet/session/paints/save", alice, "application/json", `{"id":"bad/id","actions":"[]"}`)
	e.do(http.MethodGet, "/no/such/route", nil, "", "")
	e.do(http.MethodDelete, "/applet/session", nil, "", "")
	e.do("BREW", "/applet/session", nil, "", "")
	req, err := http.Get(e.ops.URL + "/metrics")
	require.NoError(t, err)
	defer req.Body.Close()
	text, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	assert.Contains(t, string(text), `onestroke_http_requests_total{method="POST",route="/applet/session/paints/save",status="200"} 1`)
	assert.Contains(t, string(text), `onestroke_http_requests_total{method="POST",route="/applet/session/paints/save",status="400"} 1`)
	assert.Contains(t, string(text), `onestroke_http_requests_total{method="GET",route="unmatched",status="404"} 1`)
	assert.Contains(t, string(text), `onestroke_http_requests_total{method="DELETE",route="unmatched",status="405"} 1`)
	assert.Contains(t, string(text), `onestroke_http_requests_total{method="other",route="unmatched",status="405"} 1`, "a method the client made up is not a label value")
	assert.Contains(t, string(text), `onestroke_http_request_duration_seconds_count{route="/applet/session/paints/save"} 2`)
	assert.Contains(t, string(text), `go_goroutines`)
	assert.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "/metrics", nil, "", "").status, "the API does not serve the operator's metrics")
}

func TestSessionHeaders_AreReadInTheirCanonicalForm(t *testing.T) {
	for _, name := range []string{"X-WX-Code", "X-WX-RawData", "X-WX-Signature"} {
		c := http.CanonicalHeaderKey(name)
		assert.Contains(t, []string{httpapi.HeaderCode, httpapi.HeaderRawData, httpapi.HeaderSignature}, c)
	}
	e := newEnv(t, nil)
	alice := e.login("alice")
	lower := http.Header{}
	for k, vs := range alice {
		lower[strings.ToLower(k)] = vs // sent as written; the server canonicalises
	}
	r := e.do(http.MethodGet, "/applet/session", lower, "", "")
	assert.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.raw, `"nickName":"alice"`)
}

// An answer that fits the list's buffer (the common case: 100 ordinary
// drawings) is written in one go, with a Content-Length.
func TestList_AnswerWithinTheBufferHasAContentLength(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.login("alice")
	for i := range 40 {
		r := e.do(http.MethodPost, "/applet/session/paints/save", alice, "application/json",
			fmt.Sprintf(`{"id":"d%d","actions":"[{\"type\":\"lineTo\",\"x\":%d,\"y\":2,\"color\":\"#ff0000\"}]"}`, i, i))
		require.Equal(t, http.StatusOK, r.status)
	}
	resp, body := e.getList(alice)
	require.Greater(t, len(body), 2048)
	assert.Equal(t, int64(len(body)), resp.ContentLength, "not chunked")
	assert.Empty(t, resp.TransferEncoding)
}

// A longer answer is streamed: written drawing by drawing as the batches
// come from the store (so chunked, without a Content-Length), and byte for
// byte the answer encoding/json would give.
func TestList_LongAnswerIsStreamedAndByteForByteTheSame(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.login("alice")
	type item struct {
		ID      string `json:"id"`
		Actions string `json:"actions"`
	}
	var want []item
	for i := range 60 { // 60 × ~3 kB quoted: past the buffer
		actions := `["` + strings.Repeat(`\"x`, 500) + fmt.Sprintf(`", %d, "一笔到底🎨\u2028"]`, i)
		body, err := json.Marshal(item{ID: fmt.Sprintf("d%02d", i), Actions: actions})
		require.NoError(t, err)
		r := e.do(http.MethodPost, "/applet/session/paints/save", alice, "application/json", string(body))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		want = append([]item{{ID: fmt.Sprintf("d%02d", i), Actions: actions}}, want...)
	}
	var expected strings.Builder
	enc := json.NewEncoder(&expected)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
		Data []item `json:"data"`
	}{0, "success", want}))
	resp, body := e.getList(alice)
	assert.Equal(t, strings.TrimSuffix(expected.String(), "\n"), string(body))
	assert.Equal(t, int64(-1), resp.ContentLength)
	assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
}

// Once the answer has begun its status is sent: a store that fails after
// that aborts the connection, so the client sees a failed request, never
// a shorter list that parses. Before the first byte, it is the usual error.
func TestList_StoreFailureMidAnswerAbortsTheConnection(t *testing.T) {
	big, err := domain.ParseActions(`["`+strings.Repeat("x", 100<<10)+`"]`, 1<<20)
	require.NoError(t, err)
	failFrom := ""
	repo := &mock.DrawingRepository{ListBatchFn: func(_ context.Context, owner, after string, _, _ int) ([]*domain.Drawing, string, error) {
		if after == failFrom {
			return nil, "", domain.Errorf(domain.EUNAVAILABLE, "The drawing store is unavailable.")
		}
		d, _ := domain.NewDrawing(owner, "big"+after, big, time.Now())
		return []*domain.Drawing{d}, after + "p", nil
	}}
	e := newEnv(t, func(c *httpapi.Config) { c.Drawings = &app.DrawingService{Repo: repo} })
	alice := e.login("alice")

	r := e.do(http.MethodGet, "/applet/session/paints/list", alice, "", "")
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "ERR_UNAVAILABLE", businessReason(t, r))

	failFrom = "pp" // the third batch fails, after two big drawings went out
	req, err := http.NewRequest(http.MethodGet, e.api.URL+"/applet/session/paints/list", nil)
	require.NoError(t, err)
	req.Header = alice.Clone()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	assert.Error(t, err, "the client sees the answer fail")
	assert.Greater(t, len(body), 100<<10, "the first drawing went out before the failure")
	assert.False(t, json.Valid(body))
}

func (e *env) getList(header http.Header) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.api.URL+"/applet/session/paints/list", nil)
	require.NoError(e.t, err)
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, resp.StatusCode, "%s", body)
	return resp, body
}

func TestDrawingConcurrency_IsBoundedAndEveryRequestIsServed(t *testing.T) {
	var mu sync.Mutex
	inFlight, peak := 0, 0
	repo := &mock.DrawingRepository{SaveFn: func(context.Context, string, string, domain.Quota, func(*domain.Drawing) (*domain.Drawing, error)) error {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	}}
	e := newEnv(t, func(c *httpapi.Config) {
		c.DrawingConcurrency = 2
		c.Drawings = &app.DrawingService{Repo: repo}
	})
	alice := e.login("alice")
	var wg sync.WaitGroup
	statuses := make([]int, 12)
	for i := range statuses {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses[i] = e.do(http.MethodPost, "/applet/session/paints/save", alice, "application/json", `{"id":"d1","actions":"[]"}`).status
		}(i)
	}
	wg.Wait()
	for i, s := range statuses {
		assert.Equal(t, http.StatusOK, s, "request %d", i)
	}
	assert.Equal(t, 2, peak, "at most DrawingConcurrency drawing requests at once")
}

// Security review finding 2, at the HTTP layer: a store value that is not a
// session (here the original's openId → code entry, read as if it were a
// session) answers exactly as an unknown code, and is logged at debug level
// only: an operator's error log is not a probe's echo.
func TestSessionStoreValueThatIsNotASession_AnswersAsUnknownAndLogsAtDebug(t *testing.T) {
	var logs testenv.SyncBuffer
	stored := map[string][]byte{"oAliceOpenID": []byte(`"the-code-of-alice"`)}
	store := &mock.SessionStore{
		UserFn: func(_ context.Context, code string) (domain.UserInfo, error) {
			if v, ok := stored[code]; ok {
				return domain.UserInfoFromJSON(v)
			}
			return domain.UserInfo{}, domain.SessionExpired(nil)
		},
	}
	e := newEnv(t, func(c *httpapi.Config) {
		c.Sessions = &app.SessionService{Store: store}
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	unknown := e.do(http.MethodGet, "/applet/session", http.Header{"X-Wx-Code": {"never-seen"}}, "", "")
	probe := e.do(http.MethodGet, "/applet/session", http.Header{"X-Wx-Code": {"oAliceOpenID"}}, "", "")
	assert.Equal(t, http.StatusUnauthorized, probe.status)
	assert.Equal(t, unknown.status, probe.status)
	assert.Equal(t, unknown.raw, probe.raw, "byte for byte the answer to an unknown code")
	assert.NotContains(t, logs.String(), `"level":"ERROR"`)
	assert.Contains(t, logs.String(), "not a session", "the cause is in the debug log")
}

func TestClientAddress_XForwardedForOnlyFromTrustedProxies(t *testing.T) {
	var keys []string
	var mu sync.Mutex
	limiter := &mock.RateLimiter{AllowFn: func(_ context.Context, key string) (bool, time.Duration, error) {
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, key)
		return true, 0, nil
	}}
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		xff     []string // X-Forwarded-For header lines
		want    string
	}{
		{"no proxy configured: the peer", nil, nil, "127.0.0.1"},
		{"no proxy configured: X-Forwarded-For ignored", nil, []string{"198.51.100.23"}, "127.0.0.1"},
		{"trusted peer without the header: the peer", trusted, nil, "127.0.0.1"},
		{"trusted peer: the rightmost hop", trusted, []string{"198.51.100.23"}, "198.51.100.23"},
		{"trusted hops are skipped", trusted, []string{"198.51.100.23, 10.0.0.5"}, "198.51.100.23"},
		{"a spoofed leftmost hop is not believed", trusted, []string{"1.2.3.4, 198.51.100.23"}, "198.51.100.23"},
		{"several header lines are one list", trusted, []string{"1.2.3.4", "198.51.100.23,10.1.2.3"}, "198.51.100.23"},
		{"IPv6 counts by its /64", trusted, []string{"2001:db8:abcd:12:1:2:3:4"}, "2001:db8:abcd:12::/64"},
		{"IPv4-mapped IPv6 is IPv4", trusted, []string{"::ffff:198.51.100.23"}, "198.51.100.23"},
		{"garbage in the rightmost hop: the peer", trusted, []string{"198.51.100.23, not-an-ip"}, "127.0.0.1"},
		{"only trusted hops: the leftmost of them", trusted, []string{"10.9.9.9, 10.0.0.5"}, "10.9.9.9"},
		{"a port on a hop is dropped", trusted, []string{"198.51.100.23:4711"}, "198.51.100.23"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *httpapi.Config) {
				c.TrustedProxies = tt.trusted
				c.Sessions.Gate = &app.ExchangeGate{Limiter: limiter}
			})
			d, err := e.wx.Mint("alice", wechattest.Profile{})
			require.NoError(t, err)
			h := d.Headers()
			for _, v := range tt.xff {
				h.Add("X-Forwarded-For", v)
			}
			mu.Lock()
			keys = nil
			mu.Unlock()
			r := e.do(http.MethodGet, "/applet/session", h, "", "")
			require.Equal(t, http.StatusOK, r.status, r.raw)
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, []string{tt.want}, keys)
		})
	}
}

func TestRateLimitedLogin_Answers429WithRetryAfterAndNoReason(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.Sessions.Gate = &app.ExchangeGate{Limiter: memstore.NewRateLimiter(ports.RateLimit{Events: 1, Per: time.Minute, Burst: 1}, nil, 0)}
	})
	from := func(user, addr string) http.Header {
		d, err := e.wx.Mint(user, wechattest.Profile{})
		require.NoError(t, err)
		h := d.Headers()
		h.Set("X-Forwarded-For", addr)
		return h
	}
	r := e.do(http.MethodGet, "/applet/session", from("alice", "198.51.100.1"), "", "")
	require.Equal(t, http.StatusOK, r.status, r.raw)

	r = e.do(http.MethodGet, "/applet/session", from("bob", "198.51.100.1"), "", "")
	assert.Equal(t, http.StatusTooManyRequests, r.status, r.raw)
	reason, has := sessionReason(t, r)
	assert.False(t, has, "no reason: the client fails the request instead of logging in again (%q)", reason)
	retryAfter, err := strconv.Atoi(r.header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After in whole seconds: %q", r.header.Get("Retry-After"))
	assert.Greater(t, retryAfter, 55)
	assert.LessOrEqual(t, retryAfter, 60)
	assert.Equal(t, 1, e.wx.Exchanges(), "the refused login never reached WeChat")

	r = e.do(http.MethodGet, "/applet/session", from("carol", "198.51.100.2"), "", "")
	assert.Equal(t, http.StatusOK, r.status, "another address has its own budget: %s", r.raw)
}

func TestMetrics_CountExchangesByOutcome(t *testing.T) {
	reg := httpapi.NewRegistry()
	e := newEnv(t, func(c *httpapi.Config) {
		c.Metrics = reg
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.Sessions.Gate = &app.ExchangeGate{Observe: httpapi.ExchangeCounter(reg),
			Limiter: &mock.RateLimiter{AllowFn: func(_ context.Context, key string) (bool, time.Duration, error) {
				return key != "203.0.113.5", time.Second, nil
			}}}
	})
	e.login("alice")
	e.wx.FailNext(wechat.ErrInvalidCode, 1)
	d, _ := e.wx.Mint("bob", wechattest.Profile{})
	e.do(http.MethodGet, "/applet/session", d.Headers(), "", "")
	e.wx.FailNext(wechat.ErrSystemBusy, 2)
	d, _ = e.wx.Mint("carol", wechattest.Profile{})
	e.do(http.MethodGet, "/applet/session", d.Headers(), "", "")
	d, _ = e.wx.Mint("dave", wechattest.Profile{})
	h := d.Headers()
	h.Set("X-Forwarded-For", "203.0.113.5")
	e.do(http.MethodGet, "/applet/session", h, "", "")

	resp, err := http.Get(e.ops.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, line := range []string{
		`onestroke_wechat_exchanges_total{outcome="ok"} 1`,
		`onestroke_wechat_exchanges_total{outcome="refused"} 1`,
		`onestroke_wechat_exchanges_total{outcome="unavailable"} 1`,
		`onestroke_wechat_exchanges_total{outcome="rate_limited"} 1`,
		`onestroke_wechat_exchanges_total{outcome="busy"} 0`,
	} {
		assert.Contains(t, string(text), line)
	}
	assert.NotContains(t, string(text), e.wx.OpenID("alice"), "no openId in a label")
}
