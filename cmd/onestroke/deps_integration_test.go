//go:build integration

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/tests/testenv"
)

// TestE2E_DependenciesDownAtStartAreAwaited starts the service while Redis
// and MongoDB are not there yet: it must start, say why it is not ready,
// and become ready by itself once they are up.
func TestE2E_DependenciesDownAtStartAreAwaited(t *testing.T) {
	testenv.RequireDocker(t)
	redisPort, mongoPort := testenv.FreePort(t), testenv.FreePort(t)
	s := start(t, testConfig(t, map[string]string{
		"ONESTROKE_REDIS_URL": fmt.Sprintf("redis://127.0.0.1:%d/0", redisPort),
		"ONESTROKE_MONGO_URI": fmt.Sprintf("mongodb://127.0.0.1:%d/", mongoPort),
		"ONESTROKE_MONGO_DB":  "awaited",
	}))

	status, body, _ := s.call("GET", "/readyz", nil, "")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, map[string]any{"redis": "down", "mongodb": "down"}, body["checks"])
	status, body, _ = s.call("GET", "/applet/session", map[string]string{"X-WX-Code": "c"}, "")
	assert.Equal(t, http.StatusServiceUnavailable, status, "a clean error while Redis is away: %v", body)
	require.Eventually(t, func() bool {
		return containsAll(s.logs.String(), `"msg":"waiting for dependency`, `"dependency":"redis"`, `"dependency":"mongodb"`)
	}, 5*time.Second, 50*time.Millisecond, "the log says what it waits for")

	testenv.StartRedis(t, testenv.Options{HostPort: redisPort})
	testenv.StartMongo(t, testenv.Options{HostPort: mongoPort})
	require.Eventually(t, func() bool {
		status, _, _ := s.call("GET", "/readyz", nil, "")
		return status == http.StatusOK
	}, 30*time.Second, 200*time.Millisecond, "ready by itself once both are up")

	alice := s.mint("alice")
	status, _, raw := s.call("GET", "/applet/session", alice.first(), "")
	require.Equal(t, http.StatusOK, status, raw)
	_, _, raw = s.call("POST", "/applet/session/paints/save", alice.cached(), `{"id":"d1","actions":"[1]"}`)
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, raw)
	assert.Contains(t, s.logs.String(), `"msg":"dependency is up"`)
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestE2E_LoginBudgetIsSharedByInstancesOnOneRedis starts two instances on
// one Redis: a client's login budget is the deployment's, so spreading
// logins over instances buys nothing.
func TestE2E_LoginBudgetIsSharedByInstancesOnOneRedis(t *testing.T) {
	redis := testenv.StartRedis(t, testenv.Options{})
	env := map[string]string{"ONESTROKE_REDIS_URL": redis.RedisURL(), "ONESTROKE_LOGIN_RATE": "1/m", "ONESTROKE_LOGIN_BURST": "2"}
	a, b := start(t, testConfig(t, env)), start(t, testConfig(t, env))
	assert.Contains(t, a.logs.String(), "redis, shared by every instance")

	status, _, body := a.login(a.mint("alice"), nil) // each instance's mock WeChat knows only its own codes
	require.Equal(t, http.StatusOK, status, "%v", body)
	status, _, body = b.login(b.mint("bob"), nil)
	require.Equal(t, http.StatusOK, status, "%v", body)
	status, retryAfter, _ := a.login(a.mint("carol"), nil)
	assert.Equal(t, http.StatusTooManyRequests, status, "the burst of 2 was spent across both instances")
	assert.NotEmpty(t, retryAfter)
	status, _, _ = b.login(b.mint("dave"), nil)
	assert.Equal(t, http.StatusTooManyRequests, status)
}

// TestE2E_V2TokensAndLoginCodesAreSharedByInstancesOnOneRedis starts two
// production instances on one Redis and one WeChat: concurrent logins with
// one code spread over both cause one exchange and all get tokens, every
// token works on either instance, a logout on one ends it on the other, and
// a retry of the code after the login gets a working token without WeChat.
func TestE2E_V2TokensAndLoginCodesAreSharedByInstancesOnOneRedis(t *testing.T) {
	redis := testenv.StartRedis(t, testenv.Options{})
	wx := wechattest.New("wxSHARED", "shared-secret", nil)
	wxSrv := httptest.NewServer(wx)
	t.Cleanup(wxSrv.Close)
	wx.SetDelay(200 * time.Millisecond) // the logins overlap on both instances
	env := map[string]string{"ONESTROKE_REDIS_URL": redis.RedisURL(), "ONESTROKE_LOGIN_RATE": "off",
		"ONESTROKE_WX_APPID": "wxSHARED", "ONESTROKE_WX_SECRET": "shared-secret", "ONESTROKE_WX_API_URL": wxSrv.URL}
	a, b := start(t, testConfig(t, env)), start(t, testConfig(t, env))
	d, err := wx.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)

	logins := make([]map[string]any, 10)
	var wg sync.WaitGroup
	for i := range logins {
		s := []*service{a, b}[i%2]
		wg.Go(func() {
			status, body, raw := s.call("POST", "/applet/v2/login", nil, `{"code":"`+d.Code+`"}`)
			if assert.Equal(t, http.StatusOK, status, raw) {
				logins[i] = body["data"].(map[string]any)
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, wx.Exchanges(), "one code2Session call for the code, across both instances")
	session := logins[0]["sessionId"]
	for i, l := range logins {
		require.NotNil(t, l, "login %d", i)
		assert.Equal(t, session, l["sessionId"], "one session")
		for _, s := range []*service{a, b} {
			status, _, raw := s.call("GET", "/applet/v2/me", bearerOf(l), "")
			assert.Equal(t, http.StatusOK, status, "login %d's token on either instance: %s", i, raw)
		}
	}

	for _, s := range []*service{a, b} {
		m := s.metrics()
		assert.Contains(t, m, "onestroke_session_cache_up 1", "the cache's channel is up")
		assert.Regexp(t, `onestroke_session_cache_hits_total [1-9]`, m, "the second read of each token was a hit")
	}

	retry := b.v2Login(d.Code, "")
	assert.Equal(t, 1, wx.Exchanges(), "a retry of the code is answered without WeChat")
	assert.Equal(t, session, retry["sessionId"])
	status, _, raw := a.call("GET", "/applet/v2/me", bearerOf(retry), "")
	assert.Equal(t, http.StatusOK, status, raw)

	status, _, raw = b.call("POST", "/applet/v2/logout", bearerOf(logins[0]), "")
	require.Equal(t, http.StatusOK, status, raw)
	status, body, _ := a.call("GET", "/applet/v2/me", bearerOf(logins[0]), "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "ERR_SESSION_EXPIRED", body["error"].(map[string]any)["reason"], "the logout on one instance holds on the other")
}

// TestE2E_LegacyFirstRequestsOnTwoInstancesShareOneExchange starts two
// production instances on one Redis and one slow WeChat: concurrent first
// requests of the legacy protocol with one code, split between them, cost
// one code2Session call and all are answered with the user, the same bytes
// on both; later requests with the code alone work on either.
func TestE2E_LegacyFirstRequestsOnTwoInstancesShareOneExchange(t *testing.T) {
	redis := testenv.StartRedis(t, testenv.Options{})
	wx := wechattest.New("wxSHARED", "shared-secret", nil)
	wxSrv := httptest.NewServer(wx)
	t.Cleanup(wxSrv.Close)
	wx.SetDelay(200 * time.Millisecond) // every first request arrives while the exchange runs
	env := map[string]string{"ONESTROKE_REDIS_URL": redis.RedisURL(), "ONESTROKE_LOGIN_RATE": "off",
		"ONESTROKE_WX_APPID": "wxSHARED", "ONESTROKE_WX_SECRET": "shared-secret", "ONESTROKE_WX_API_URL": wxSrv.URL}
	a, b := start(t, testConfig(t, env)), start(t, testConfig(t, env))
	d, err := wx.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)
	first := map[string]string{}
	for k, v := range d.Headers() {
		first[k] = v[0]
	}

	answers := make([]string, 10)
	var wg sync.WaitGroup
	for i := range answers {
		s := []*service{a, b}[i%2]
		wg.Go(func() {
			status, _, raw := s.call("GET", "/applet/session", first, "")
			if assert.Equal(t, http.StatusOK, status, raw) {
				answers[i] = raw
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, wx.Exchanges(), "one code2Session call for the code, across both instances")
	want := `{"wxUserInfo":` + strings.TrimSuffix(d.RawData, "}") + `,"openId":"` + d.OpenID + `"}}`
	for i, raw := range answers {
		assert.JSONEq(t, want, raw, "request %d (instance %d) answered with the user", i, i%2)
		assert.Equal(t, answers[0], raw, "the same bytes from both instances")
	}
	for _, s := range []*service{a, b} {
		status, _, raw := s.call("GET", "/applet/session", map[string]string{"X-WX-Code": d.Code}, "")
		assert.Equal(t, http.StatusOK, status, raw)
		assert.Equal(t, answers[0], raw, "the code alone works on either instance")
	}
}

// TestE2E_TwoInstancesOnOneRedisAndOneMongoBothServeTheDrawings starts two
// production instances on one Redis and one MongoDB (here the stand-in on
// PostgreSQL, which serves several clients): both get their drawing store,
// the second creating indexes the first made already, and each serves the
// drawings the other saved, to a legacy session and to a token; a third instance, a
// restart against the same database, becomes ready too. (Before, the second
// never got its drawing store: "creating its indexes failed" forever.)
func TestE2E_TwoInstancesOnOneRedisAndOneMongoBothServeTheDrawings(t *testing.T) {
	redis := testenv.StartRedis(t, testenv.Options{})
	mongo := testenv.StartMongo(t, testenv.Options{})
	wx := wechattest.New("wxSHARED", "shared-secret", nil)
	wxSrv := httptest.NewServer(wx)
	t.Cleanup(wxSrv.Close)
	env := map[string]string{"ONESTROKE_REDIS_URL": redis.RedisURL(), "ONESTROKE_LOGIN_RATE": "off",
		"ONESTROKE_MONGO_URI": mongo.MongoURI(), "ONESTROKE_MONGO_DB": "shared",
		"ONESTROKE_WX_APPID": "wxSHARED", "ONESTROKE_WX_SECRET": "shared-secret", "ONESTROKE_WX_API_URL": wxSrv.URL}
	a, b := start(t, testConfig(t, env)), start(t, testConfig(t, env))
	ready := func(s *service, name string) {
		t.Helper()
		require.Eventually(t, func() bool {
			status, body, _ := s.call("GET", "/readyz", nil, "")
			return status == http.StatusOK && fmt.Sprint(body["checks"]) == "map[mongodb:ok redis:ok]"
		}, 30*time.Second, 100*time.Millisecond, "instance %s gets its drawing store", name)
	}
	ready(a, "a")
	ready(b, "b")

	d, err := wx.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)
	first := map[string]string{}
	for k, v := range d.Headers() {
		first[k] = v[0]
	}
	status, _, raw := a.call("GET", "/applet/session", first, "")
	require.Equal(t, http.StatusOK, status, raw)
	cached := map[string]string{"X-WX-Code": d.Code}

	ok := `{"code":0,"msg":"success","data":{}}`
	_, _, raw = a.call("POST", "/applet/session/paints/save", cached, `{"id":"fromA","actions":"[{\"method\":\"save\",\"data\":[]}]"}`)
	require.Equal(t, ok, raw)
	_, _, raw = b.call("POST", "/applet/session/paints/save", cached, `{"id":"fromB","actions":"[2]"}`)
	require.Equal(t, ok, raw)
	for name, s := range map[string]*service{"a": a, "b": b} {
		_, body, raw := s.call("GET", "/applet/session/paints/list", cached, "")
		require.Equal(t, float64(0), body["code"], raw)
		got := map[string]string{}
		for _, item := range body["data"].([]any) {
			m := item.(map[string]any)
			got[m["id"].(string)] = m["actions"].(string)
		}
		assert.Equal(t, map[string]string{"fromA": `[{"method":"save","data":[]}]`, "fromB": `[2]`}, got, "instance %s lists both instances' drawings", name)
	}

	// A token of the modern protocol reaches the same store from either
	// instance (the legacy routes take it in place of X-WX-Code).
	tok := bearerOf(b.v2Login(mustMint(t, wx, "alice").Code, ""))
	_, _, raw = b.call("POST", "/applet/session/paints/save", tok, `{"id":"tokenB","actions":"[3]"}`)
	require.Equal(t, ok, raw)
	_, body, raw := a.call("GET", "/applet/session/paints/list", tok, "")
	require.Equal(t, float64(0), body["code"], raw)
	assert.Len(t, body["data"], 3, "the token's list on a has the drawings saved on a and b")

	c := start(t, testConfig(t, env)) // a restart: every index exists already
	ready(c, "c")
	_, body, raw = c.call("GET", "/applet/session/paints/list", cached, "")
	require.Equal(t, float64(0), body["code"], raw)
	assert.Len(t, body["data"], 3, "the restarted instance serves every drawing")
	for name, s := range map[string]*service{"a": a, "b": b, "c": c} {
		assert.NotContains(t, s.logs.String(), "creating its indexes failed", "instance %s", name)
	}
}

func mustMint(t *testing.T, wx *wechattest.Server, user string) wechattest.Device {
	t.Helper()
	d, err := wx.Mint(user, wechattest.Profile{})
	require.NoError(t, err)
	return d
}
