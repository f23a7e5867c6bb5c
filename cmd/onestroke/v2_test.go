package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
)

// The modern sessions (PROTOCOL §6) end to end: the binary's wiring on
// port 0, the mock WeChat over HTTP.

// v2Login logs in with a bare wx.login code and returns the login's data.
func (s *service) v2Login(code, device string) map[string]any {
	s.t.Helper()
	status, body, raw := s.call("POST", "/applet/v2/login", nil, `{"code":"`+code+`","device":"`+device+`"}`)
	require.Equal(s.t, http.StatusOK, status, raw)
	return body["data"].(map[string]any)
}

func bearerOf(login map[string]any) map[string]string {
	return map[string]string{"Authorization": "Bearer " + login["token"].(string)}
}

// v2Call is call that also returns the answer's WWW-Authenticate.
func (s *service) v2Call(method, path string, headers map[string]string, body string) (int, string, map[string]any) {
	s.t.Helper()
	status, h, m, _ := s.send(method, path, headers, body)
	return status, h.Get("WWW-Authenticate"), m
}

func TestE2E_V2_TwentyConcurrentLoginsWithOneCodeCauseOneExchangeAndARetryNone(t *testing.T) {
	s := start(t, testConfig(t, nil))
	s.main.Mock().SetDelay(100 * time.Millisecond)
	code := s.mint("alice").Code
	logins := make([]map[string]any, 20)
	var wg sync.WaitGroup
	for i := range logins {
		wg.Go(func() {
			status, body, raw := s.call("POST", "/applet/v2/login", nil, `{"code":"`+code+`"}`)
			if assert.Equal(t, http.StatusOK, status, raw) {
				logins[i] = body["data"].(map[string]any)
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, s.main.Mock().Exchanges(), "a single-use code goes to WeChat once")
	retried := s.v2Login(code, "")
	assert.Equal(t, 1, s.main.Mock().Exchanges(), "a retried code is answered without WeChat")
	assert.Equal(t, logins[0]["sessionId"], retried["sessionId"])
	for i, l := range append(logins, retried) {
		status, body, raw := s.call("GET", "/applet/v2/me", bearerOf(l), "")
		require.Equal(t, http.StatusOK, status, "login %d: %s", i, raw)
		assert.Equal(t, s.main.Mock().OpenID("alice"), body["data"].(map[string]any)["openId"])
	}
	m := s.metrics()
	assert.Contains(t, m, `onestroke_wechat_exchanges_total{outcome="ok"} 1`, "the legacy metric counts v2 exchanges")
}

func TestE2E_V2_DevicesLogoutAndAnotherUsersSessions(t *testing.T) {
	s := start(t, testConfig(t, map[string]string{"ONESTROKE_MAX_DEVICES": "3"}))
	phone := s.v2Login(s.mint("alice").Code, "phone")
	tablet := s.v2Login(s.mint("alice").Code, "tablet")
	bob := s.v2Login(s.mint("bob").Code, "bob's phone")

	_, body, _ := s.call("GET", "/applet/v2/sessions", bearerOf(phone), "")
	list := body["data"].([]any)
	require.Len(t, list, 2)
	for _, item := range list {
		assert.NotEqual(t, bob["sessionId"], item.(map[string]any)["sessionId"], "never another user's")
	}
	status, body, _ := s.call("DELETE", "/applet/v2/sessions/"+bob["sessionId"].(string), bearerOf(phone), "")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "ERR_NOT_FOUND", reason(body))
	status, _, _ = s.call("GET", "/applet/v2/me", bearerOf(bob), "")
	assert.Equal(t, http.StatusOK, status, "bob's session stays")

	status, _, _ = s.call("DELETE", "/applet/v2/sessions/"+tablet["sessionId"].(string), bearerOf(phone), "")
	require.Equal(t, http.StatusOK, status)
	status, challenge, body := s.v2Call("GET", "/applet/v2/me", bearerOf(tablet), "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "ERR_SESSION_EXPIRED", reason(body), "the revoked device")
	assert.Equal(t, `Bearer error="invalid_token"`, challenge)
	status, _, _ = s.call("GET", "/applet/v2/me", bearerOf(phone), "")
	assert.Equal(t, http.StatusOK, status, "the other device still works")

	// Drawings through the legacy routes with the token.
	_, _, raw := s.call("POST", "/applet/session/paints/save", bearerOf(phone), `{"id":"v2d1","actions":"[1]"}`)
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, raw)
	_, _, raw = s.call("GET", "/applet/session/paints/list", bearerOf(phone), "")
	assert.Equal(t, `{"code":0,"msg":"success","data":[{"id":"v2d1","actions":"[1]"}]}`, raw)

	status, _, _ = s.call("POST", "/applet/v2/logout", bearerOf(phone), "")
	require.Equal(t, http.StatusOK, status)
	status, body, _ = s.call("GET", "/applet/v2/me", bearerOf(phone), "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "ERR_SESSION_EXPIRED", reason(body), "logged out")
	_, body, _ = s.call("GET", "/applet/session", bearerOf(phone), "")
	assert.Equal(t, "ERR_SESSION_EXPIRED", reason(body), "on the legacy routes too")

	// The device cap of ONESTROKE_MAX_DEVICES: the fourth of bob's ends his first.
	for _, d := range []string{"2", "3", "4"} {
		s.v2Login(s.mint("bob").Code, "bob "+d)
	}
	status, _, _ = s.call("GET", "/applet/v2/me", bearerOf(bob), "")
	assert.Equal(t, http.StatusUnauthorized, status, "the least recently used device is ended past the cap")
}

func TestE2E_V2_HostileTokensAndBodies(t *testing.T) {
	s := start(t, testConfig(t, nil))
	alice := s.v2Login(s.mint("alice").Code, "")
	tok := alice["token"].(string)
	changed := tok[:30] + "A" + tok[31:]
	if tok[30] == 'A' {
		changed = tok[:30] + "B" + tok[31:]
	}
	for _, tt := range []struct {
		name, header, reason, challenge string
	}{
		{"missing", "", "ERR_NO_SESSION", "Bearer"},
		{"another format", "Bearer abc.def.ghi", "ERR_NO_SESSION", "Bearer"},
		{"truncated", "Bearer " + tok[:len(tok)-2], "ERR_NO_SESSION", "Bearer"},
		{"10 kB", "Bearer " + strings.Repeat("x", 10<<10), "ERR_NO_SESSION", "Bearer"},
		{"one character changed", "Bearer " + changed, "ERR_SESSION_EXPIRED", `Bearer error="invalid_token"`},
	} {
		h := map[string]string{}
		if tt.header != "" {
			h["Authorization"] = tt.header
		}
		status, challenge, body := s.v2Call("POST", "/applet/v2/logout-all", h, "")
		assert.Equal(t, http.StatusUnauthorized, status, tt.name)
		assert.Equal(t, tt.reason, reason(body), tt.name)
		assert.Equal(t, tt.challenge, challenge, tt.name)
	}
	status, _, _ := s.call("GET", "/applet/v2/me", bearerOf(alice), "")
	assert.Equal(t, http.StatusOK, status, "nothing was revoked")

	for _, body := range []string{`{"nickName":""}`, `{"nickName":"` + strings.Repeat("x", 33) + `"}`, `{"nickName":"a\u0000b"}`,
		`{"avatarUrl":"http://x.example/a.png"}`, `{"avatarUrl":"https://x.example/` + strings.Repeat("a", 500) + `"}`, `{"nickName":1}`, `[]`} {
		status, resp, raw := s.call("PATCH", "/applet/v2/me", bearerOf(alice), body)
		assert.Equal(t, http.StatusBadRequest, status, "%s: %s", body, raw)
		assert.Equal(t, "ERR_INVALID_REQUEST", reason(resp))
	}
	_, resp, _ := s.call("PATCH", "/applet/v2/me", bearerOf(alice), `{"nickName":"一笔 Alice","avatarUrl":"https://x.example/a.png"}`)
	assert.Equal(t, "一笔 Alice", resp["data"].(map[string]any)["nickName"])
	_, resp, _ = s.call("GET", "/applet/session", bearerOf(alice), "")
	assert.Equal(t, map[string]any{"nickName": "一笔 Alice", "avatarUrl": "https://x.example/a.png", "openId": alice["openId"]}, resp["wxUserInfo"])
}

func TestE2E_V2_SecretsNeverInLogsOrAnswers(t *testing.T) {
	wx := wechattest.New("wxPRODAPPID", "prod-secret-value-v2", nil)
	wxSrv := httptest.NewServer(wx)
	defer wxSrv.Close()
	s := start(t, testConfig(t, map[string]string{
		"ONESTROKE_WX_APPID": "wxPRODAPPID", "ONESTROKE_WX_SECRET": "prod-secret-value-v2", "ONESTROKE_WX_API_URL": wxSrv.URL,
	}))
	d, err := wx.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)
	login := s.v2Login(d.Code, "phone")
	tok := login["token"].(string)
	var answers []string
	for _, path := range []string{"/applet/v2/me", "/applet/v2/sessions", "/applet/session", "/applet/session/paints/list"} {
		_, _, raw := s.call("GET", path, bearerOf(login), "")
		answers = append(answers, raw)
	}
	wx.FailNext(40125, 1)
	d2, _ := wx.Mint("bob", wechattest.Profile{})
	status, body, raw := s.call("POST", "/applet/v2/login", nil, `{"code":"`+d2.Code+`"}`)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "ERR_WECHAT_UNAVAILABLE", reason(body))
	answers = append(answers, raw)
	assert.Contains(t, s.logs.String(), "configuration error", "a refusal of the app's credentials is logged as the operator's problem")
	_, _, raw = s.call("POST", "/applet/v2/logout", bearerOf(login), "")
	answers = append(answers, raw)

	for _, secret := range []string{tok, wx.SessionKey("alice").Reveal(), "prod-secret-value-v2"} {
		assert.NotContains(t, s.logs.String(), secret)
		for _, a := range answers {
			assert.NotContains(t, a, secret)
		}
	}
}

// PROTOCOL §6: a legacy login never overwrites a stored profile with
// WeChat's anonymous one ("微信用户" and a grey avatar).
func TestE2E_V2_ALegacyLoginLeavesTheStoredProfileAlone(t *testing.T) {
	s := start(t, testConfig(t, nil))
	login := s.v2Login(s.mint("alice").Code, "phone")
	status, _, raw := s.call("PATCH", "/applet/v2/me", bearerOf(login), `{"nickName":"Alice","avatarUrl":"https://cdn.example.com/alice.png"}`)
	require.Equal(t, http.StatusOK, status, raw)

	anonymous, err := s.main.Mock().Mint("alice", wechattest.Profile{NickName: "微信用户", AvatarURL: "https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24ZEaGT4poC6icRiccVGKSyXwibcPq4BWmiaIGuG1icwxaQX6grC9VemZoJ8rg/132"})
	require.NoError(t, err)
	first := map[string]string{}
	for k, v := range anonymous.Headers() {
		first[k] = v[0]
	}
	status, _, raw = s.call("GET", "/applet/session", first, "")
	require.Equal(t, http.StatusOK, status, raw)
	assert.Contains(t, raw, "微信用户", "the legacy answer is the rawData as sent")

	status, body, raw := s.call("GET", "/applet/v2/me", bearerOf(login), "")
	require.Equal(t, http.StatusOK, status, raw)
	assert.Equal(t, "Alice", body["data"].(map[string]any)["nickName"], "the stored profile stays")
	assert.Equal(t, "https://cdn.example.com/alice.png", body["data"].(map[string]any)["avatarUrl"])
}

func TestE2E_V2_LoginsOfOneUserPastItsBurstAreRateLimited(t *testing.T) {
	s := start(t, testConfig(t, map[string]string{"ONESTROKE_USER_LOGIN_RATE": "1/h", "ONESTROKE_USER_LOGIN_BURST": "2"}))
	for range 2 {
		s.v2Login(s.mint("alice").Code, "")
	}
	status, raw, body := s.v2Call("POST", "/applet/v2/login", nil, `{"code":"`+s.mint("alice").Code+`"}`)
	assert.Equal(t, http.StatusTooManyRequests, status, raw)
	assert.Equal(t, "ERR_RATE_LIMITED", body["error"].(map[string]any)["reason"])
	s.v2Login(s.mint("bob").Code, "") // another user of the same address logs in
	assert.Contains(t, s.metrics(), `onestroke_wechat_exchanges_total{outcome="rate_limited"} 1`)
}
