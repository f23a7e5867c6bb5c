package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/wechat"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/tests/testenv"
)

// These tests start the binary's own wiring (Main) on port 0 and drive it
// over HTTP, with the mock WeChat as a real HTTP server.

func testConfig(t *testing.T, env map[string]string) Config {
	t.Helper()
	vars := map[string]string{"ONESTROKE_LISTEN": "127.0.0.1:0", "ONESTROKE_OPS_LISTEN": "127.0.0.1:0", "ONESTROKE_DATA_DIR": t.TempDir()}
	if env["ONESTROKE_WX_APPID"] == "" {
		vars["ONESTROKE_DEV"] = "true"
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := LoadConfig(nil, func(k string) string { return vars[k] }, io.Discard)
	require.NoError(t, err)
	return cfg
}

type service struct {
	t    *testing.T
	main *Main
	url  string
	logs *testenv.SyncBuffer
}

func start(t *testing.T, cfg Config) *service {
	t.Helper()
	logs := &testenv.SyncBuffer{}
	m := NewMain(cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	require.NoError(t, m.Open(context.Background()))
	s := &service{t: t, main: m, url: "http://" + m.Addr(), logs: logs}
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *service) stop() {
	if s.main == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(s.t, s.main.Close(ctx))
	s.main = nil
}

type device struct {
	Code      string            `json:"code"`
	OpenID    string            `json:"openId"`
	RawData   string            `json:"rawData"`
	Signature string            `json:"signature"`
	Headers   map[string]string `json:"headers"`
}

// mint asks the development-only route for a device login, as a newcomer
// following the README does.
func (s *service) mint(user string) device {
	s.t.Helper()
	resp, err := http.Post(s.url+"/_dev/wx-login?user="+user, "", nil)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	require.Equal(s.t, http.StatusOK, resp.StatusCode)
	var d device
	require.NoError(s.t, json.NewDecoder(resp.Body).Decode(&d))
	return d
}

func (d device) first() map[string]string  { return d.Headers }
func (d device) cached() map[string]string { return map[string]string{"X-WX-Code": d.Code} }

// call sends a request and returns the status and the decoded JSON body.
func (s *service) call(method, path string, headers map[string]string, jsonBody string) (int, map[string]any, string) {
	s.t.Helper()
	status, _, m, raw := s.send(method, path, headers, jsonBody)
	return status, m, raw
}

// send is call that also returns the answer's headers.
func (s *service) send(method, path string, headers map[string]string, jsonBody string) (int, http.Header, map[string]any, string) {
	s.t.Helper()
	var body io.Reader
	if jsonBody != "" {
		body = strings.NewReader(jsonBody)
	}
	req, err := http.NewRequest(method, s.url+path, body)
	require.NoError(s.t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if jsonBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	var m map[string]any
	require.NoError(s.t, json.Unmarshal(raw, &m), "JSON body: %s", raw)
	return resp.StatusCode, resp.Header, m, string(raw)
}

func reason(m map[string]any) string {
	if r, ok := m["reason"].(string); ok {
		return r
	}
	if e, ok := m["error"].(map[string]any); ok {
		r, _ := e["reason"].(string)
		return r
	}
	return ""
}

func listIDs(t *testing.T, s *service, d device) map[string]string {
	t.Helper()
	status, body, raw := s.call("GET", "/applet/session/paints/list", d.cached(), "")
	require.Equal(t, http.StatusOK, status, raw)
	out := map[string]string{}
	for _, item := range body["data"].([]any) {
		m := item.(map[string]any)
		out[m["id"].(string)] = m["actions"].(string)
	}
	return out
}

func TestE2E_LegacyFlow(t *testing.T) {
	s := start(t, testConfig(t, nil))
	alice := s.mint("alice")

	status, body, raw := s.call("GET", "/applet/session", alice.first(), "")
	require.Equal(t, http.StatusOK, status, raw)
	user := body["wxUserInfo"].(map[string]any)
	assert.Equal(t, alice.OpenID, user["openId"])
	assert.Equal(t, "alice", user["nickName"])

	_, cached, _ := s.call("GET", "/applet/session", alice.cached(), "")
	assert.Equal(t, body, cached)

	actions := `[{"type":"moveTo","x":1,"y":2},{"type":"lineTo","x":30,"y":40}]`
	actionsJSON, _ := json.Marshal(actions)
	status, body, raw = s.call("POST", "/applet/session/paints/save", alice.cached(), `{"id":"mi3k9x2a7q4z","actions":`+string(actionsJSON)+`}`)
	require.Equal(t, http.StatusOK, status, raw)
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, raw)
	assert.Equal(t, map[string]string{"mi3k9x2a7q4z": actions}, listIDs(t, s, alice))

	// The draw page re-opens a drawing and saves again: the actions are replaced.
	_, _, raw = s.call("POST", "/applet/session/paints/save", alice.cached(), `{"id":"mi3k9x2a7q4z","actions":"[]"}`)
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, raw)
	assert.Equal(t, map[string]string{"mi3k9x2a7q4z": "[]"}, listIDs(t, s, alice))

	_, _, raw = s.call("POST", "/applet/session/paints/delete", alice.cached(), `{"id":"mi3k9x2a7q4z"}`)
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, raw)
	assert.Empty(t, listIDs(t, s, alice))

	status, body, _ = s.call("GET", "/readyz", nil, "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "ready", body["status"])
	assert.Equal(t, 1, s.main.Mock().Exchanges())
	assert.NotContains(t, s.logs.String(), s.main.Mock().SessionKey("alice").Reveal(), "no session_key in the logs")
}

func TestE2E_SessionExpiresAfterTTL(t *testing.T) {
	s := start(t, testConfig(t, map[string]string{"ONESTROKE_SESSION_TTL": "1s"}))
	alice := s.mint("alice")
	status, _, _ := s.call("GET", "/applet/session", alice.first(), "")
	require.Equal(t, http.StatusOK, status)
	time.Sleep(1100 * time.Millisecond)
	status, body, _ := s.call("GET", "/applet/session", alice.cached(), "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "ERR_SESSION_EXPIRED", reason(body))
	assert.EqualValues(t, 1, body["F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"])
}

func TestE2E_NewestLoginWins(t *testing.T) {
	s := start(t, testConfig(t, nil))
	phone, tablet := s.mint("alice"), s.mint("alice")
	status, _, _ := s.call("GET", "/applet/session", phone.first(), "")
	require.Equal(t, http.StatusOK, status)
	status, _, _ = s.call("GET", "/applet/session", tablet.first(), "")
	require.Equal(t, http.StatusOK, status)
	_, body, _ := s.call("GET", "/applet/session", phone.cached(), "")
	assert.Equal(t, "ERR_SESSION_EXPIRED", reason(body), "the older login's code is revoked")
	status, _, _ = s.call("GET", "/applet/session", tablet.cached(), "")
	assert.Equal(t, http.StatusOK, status)
}

func TestE2E_SecondUserCannotReadOverwriteOrDeleteFirstUsersDrawing(t *testing.T) {
	s := start(t, testConfig(t, nil))
	alice, bob := s.mint("alice"), s.mint("bob")
	for _, d := range []device{alice, bob} {
		status, _, _ := s.call("GET", "/applet/session", d.first(), "")
		require.Equal(t, http.StatusOK, status)
	}
	_, _, raw := s.call("POST", "/applet/session/paints/save", alice.cached(), `{"id":"secret1","actions":"[\"alice\"]"}`)
	require.Equal(t, `{"code":0,"msg":"success","data":{}}`, raw)

	assert.Empty(t, listIDs(t, s, bob), "bob cannot read it")

	status, body, _ := s.call("POST", "/applet/session/paints/delete", bob.cached(), `{"id":"secret1"}`)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "ERR_NOT_FOUND", reason(body), "bob cannot delete it")

	_, _, raw = s.call("POST", "/applet/session/paints/save", bob.cached(), `{"id":"secret1","actions":"[\"bob\"]"}`)
	require.Equal(t, `{"code":0,"msg":"success","data":{}}`, raw, "bob's save makes his own drawing")
	assert.Equal(t, map[string]string{"secret1": `["alice"]`}, listIDs(t, s, alice), "bob cannot overwrite it")
	assert.Equal(t, map[string]string{"secret1": `["bob"]`}, listIDs(t, s, bob))

	_, _, raw = s.call("POST", "/applet/session/paints/delete", bob.cached(), `{"id":"secret1"}`)
	require.Equal(t, `{"code":0,"msg":"success","data":{}}`, raw)
	assert.Equal(t, map[string]string{"secret1": `["alice"]`}, listIDs(t, s, alice), "bob's delete removed only his")
}

func TestE2E_TwentyConcurrentFirstRequestsCauseOneExchange(t *testing.T) {
	s := start(t, testConfig(t, nil))
	s.main.Mock().SetDelay(100 * time.Millisecond) // keep the login in flight while the others arrive
	alice := s.mint("alice")
	const n = 20
	var wg sync.WaitGroup
	statuses := make([]int, n)
	users := make([]any, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var body map[string]any
			statuses[i], body, _ = s.call("GET", "/applet/session", alice.first(), "")
			users[i] = body["wxUserInfo"]
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		assert.Equal(t, http.StatusOK, statuses[i], "request %d", i)
		assert.Equal(t, users[0], users[i])
	}
	assert.Equal(t, 1, s.main.Mock().Exchanges(), "a single-use code goes to WeChat once")
}

func TestE2E_WeChatRefusalAnswersExchangeFailed(t *testing.T) {
	for _, errcode := range []int{wechat.ErrInvalidCode, wechat.ErrCodeUsed, wechat.ErrFrequencyLimit, wechat.ErrHighRiskUser, wechat.ErrSystemBusy} {
		s := start(t, testConfig(t, nil))
		s.main.Mock().FailNext(errcode, 2) // -1 is retried once: refuse both tries
		status, body, raw := s.call("GET", "/applet/session", s.mint("alice").first(), "")
		assert.Equal(t, "ERR_SESSION_KEY_EXCHANGE_FAILED", reason(body), "errcode %d: %s", errcode, raw)
		assert.GreaterOrEqual(t, status, 400)
	}
}

func TestE2E_ForgedSignatureAnswersUntrusted(t *testing.T) {
	s := start(t, testConfig(t, nil))
	alice := s.mint("alice")
	h := alice.first()
	h["X-WX-Signature"] = strings.Repeat("f", 40)
	status, body, _ := s.call("GET", "/applet/session", h, "")
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "ERR_UNTRUSTED_RAW_DATA", reason(body))
	_, body, _ = s.call("GET", "/applet/session", alice.cached(), "")
	assert.Equal(t, "ERR_SESSION_EXPIRED", reason(body), "nothing was stored for the forged login")
}

func TestE2E_DrawingsSurviveARestart(t *testing.T) {
	cfg := testConfig(t, nil)
	s := start(t, cfg)
	alice := s.mint("alice")
	status, _, _ := s.call("GET", "/applet/session", alice.first(), "")
	require.Equal(t, http.StatusOK, status)
	_, _, raw := s.call("POST", "/applet/session/paints/save", alice.cached(), `{"id":"keep1","actions":"[1,2,3]"}`)
	require.Equal(t, `{"code":0,"msg":"success","data":{}}`, raw)
	s.stop()

	again := start(t, cfg)
	_, body, _ := again.call("GET", "/applet/session", alice.cached(), "")
	assert.Equal(t, "ERR_SESSION_EXPIRED", reason(body), "in-memory sessions end with the process; the client logs in again")
	relogin := again.mint("alice")
	status, _, _ = again.call("GET", "/applet/session", relogin.first(), "")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, map[string]string{"keep1": "[1,2,3]"}, listIDs(t, again, relogin))
}

func TestE2E_ProductionModeUsesTheConfiguredWeChatAndHasNoDevRoute(t *testing.T) {
	wx := wechattest.New("wxPRODAPPID", "prod-secret-value", nil)
	wxSrv := httptest.NewServer(wx)
	defer wxSrv.Close()
	s := start(t, testConfig(t, map[string]string{
		"ONESTROKE_WX_APPID": "wxPRODAPPID", "ONESTROKE_WX_SECRET": "prod-secret-value", "ONESTROKE_WX_API_URL": wxSrv.URL,
	}))
	assert.Nil(t, s.main.Mock())
	resp, err := http.Post(s.url+"/_dev/wx-login?user=alice", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no mint route in production")

	d, err := wx.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)
	h := map[string]string{}
	for k, v := range d.Headers() {
		h[k] = v[0]
	}
	status, body, raw := s.call("GET", "/applet/session", h, "")
	require.Equal(t, http.StatusOK, status, raw)
	assert.Equal(t, d.OpenID, body["wxUserInfo"].(map[string]any)["openId"])
	assert.NotContains(t, s.logs.String(), "DEVELOPMENT MODE")
	assert.NotContains(t, s.logs.String(), "prod-secret-value")
}

func TestE2E_DevelopmentModeSaysSoLoudly(t *testing.T) {
	s := start(t, testConfig(t, nil))
	assert.Contains(t, s.logs.String(), "DEVELOPMENT MODE")
	assert.Contains(t, s.logs.String(), `"level":"WARN"`)
}

// Security review finding 8: metrics and pprof are for the operator, on a
// listener of their own; the API answers neither.
func TestE2E_OperatorListenerServesMetricsAndPprofTheAPIDoesNot(t *testing.T) {
	s := start(t, testConfig(t, nil))
	ops := "http://" + s.main.OpsAddr()
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	s.call("GET", "/applet/session", nil, "")
	status, body := get(ops + "/metrics")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `onestroke_http_requests_total{method="GET",route="/applet/session",status="200"} 1`)
	status, _ = get(ops + "/debug/pprof/cmdline")
	assert.Equal(t, http.StatusOK, status)
	for _, path := range []string{"/healthz", "/readyz"} {
		status, _ = get(ops + path)
		assert.Equal(t, http.StatusOK, status, "ops %s", path)
		status, _ = get(s.url + path)
		assert.Equal(t, http.StatusOK, status, "API %s", path)
	}
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/cmdline"} {
		status, body = get(s.url + path)
		assert.Equal(t, http.StatusNotFound, status, "the API answers no %s", path)
		assert.Contains(t, body, "ERR_NOT_FOUND")
	}
	assert.Contains(t, s.logs.String(), `"ops_addr":"`+s.main.OpsAddr()+`"`, "the start-up line says where")
}

func TestRun_BadConfigurationStopsTheStart(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), context.Background(), nil, func(k string) string {
		return map[string]string{"ONESTROKE_SESSION_TTL": "soon", "ONESTROKE_WX_SECRET": "only-a-secret"}[k]
	}, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ONESTROKE_SESSION_TTL")
	assert.Contains(t, err.Error(), "ONESTROKE_WX_APPID")
	assert.NotContains(t, err.Error(), "only-a-secret")
}

func TestRun_ShutdownLetsRequestsInFlightFinish(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &testenv.SyncBuffer{}
	getenv := func(k string) string {
		return map[string]string{"ONESTROKE_LISTEN": "127.0.0.1:0", "ONESTROKE_OPS_LISTEN": "off", "ONESTROKE_DATA_DIR": dir, "ONESTROKE_DEV": "true"}[k]
	}
	// run logs its address; find it, then start a slow login and stop the
	// service while the login waits on WeChat.
	done := make(chan error, 1)
	cfg, err := LoadConfig(nil, getenv, io.Discard)
	require.NoError(t, err)
	m := NewMain(cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	require.NoError(t, m.Open(ctx))
	m.Mock().SetDelay(300 * time.Millisecond)
	s := &service{t: t, main: m, url: "http://" + m.Addr(), logs: logs}
	alice := s.mint("alice")

	type result struct {
		status int
		body   map[string]any
	}
	inFlight := make(chan result, 1)
	go func() {
		status, body, _ := s.call("GET", "/applet/session", alice.first(), "")
		inFlight <- result{status, body}
	}()
	time.Sleep(100 * time.Millisecond)
	go func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		done <- m.Close(sctx)
	}()
	r := <-inFlight
	assert.Equal(t, http.StatusOK, r.status, "the request in flight is answered")
	assert.NotNil(t, r.body["wxUserInfo"])
	require.NoError(t, <-done)
	_, err = http.Get(s.url + "/healthz")
	assert.Error(t, err, "no longer listening")
}

func TestApplyGCPercent_DefaultUnlessGOGCIsSet(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	gogc, source := applyGCPercent(func(string) string { return "" })
	assert.Equal(t, DefaultGCPercent, gogc)
	assert.Equal(t, "default", source)
	assert.Equal(t, DefaultGCPercent, debug.SetGCPercent(100), "the runtime runs with the default")

	debug.SetGCPercent(150) // as the runtime would have parsed GOGC=150
	gogc, source = applyGCPercent(func(k string) string {
		if k == "GOGC" {
			return "150"
		}
		return ""
	})
	assert.Equal(t, 150, gogc)
	assert.Equal(t, "GOGC", source)
	assert.Equal(t, 150, debug.SetGCPercent(100), "an operator's GOGC is left alone")
}

// login sends a device's first request with extra headers and returns the
// status, the Retry-After header and the body.
func (s *service) login(d device, extra map[string]string) (int, string, map[string]any) {
	s.t.Helper()
	req, err := http.NewRequest("GET", s.url+"/applet/session", nil)
	require.NoError(s.t, err)
	for k, v := range d.first() {
		req.Header.Set(k, v)
	}
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(s.t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, resp.Header.Get("Retry-After"), body
}

func (s *service) metrics() string {
	s.t.Helper()
	resp, err := http.Get("http://" + s.main.OpsAddr() + "/metrics") // the operator listener
	require.NoError(s.t, err)
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return string(text)
}

func TestE2E_LoginsPastTheBurstAreRateLimitedWithRetryAfter(t *testing.T) {
	s := start(t, testConfig(t, map[string]string{"ONESTROKE_LOGIN_RATE": "1/m", "ONESTROKE_LOGIN_BURST": "2"}))
	alice := s.mint("alice")
	for _, d := range []device{alice, s.mint("bob")} {
		status, _, body := s.login(d, nil)
		require.Equal(t, http.StatusOK, status, "%v", body)
	}
	status, retryAfter, body := s.login(s.mint("carol"), nil)
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.EqualValues(t, 1, body["F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"], "the session error body")
	assert.NotContains(t, body, "reason", "no reason: the client fails the request instead of logging in again")
	seconds, err := strconv.Atoi(retryAfter)
	require.NoError(t, err, "Retry-After %q", retryAfter)
	assert.Greater(t, seconds, 0)
	assert.LessOrEqual(t, seconds, 60)
	assert.Equal(t, 2, s.main.Mock().Exchanges(), "the refused login never reached WeChat")

	status, _, _ = s.call("GET", "/applet/session", alice.cached(), "")
	assert.Equal(t, http.StatusOK, status, "signed-in requests are not limited")
	status, _, _ = s.login(alice, nil)
	assert.Equal(t, http.StatusOK, status, "nor a repeat of verified first headers")

	m := s.metrics()
	assert.Contains(t, m, `onestroke_wechat_exchanges_total{outcome="ok"} 2`)
	assert.Contains(t, m, `onestroke_wechat_exchanges_total{outcome="rate_limited"} 1`)
	assert.NotContains(t, s.logs.String(), s.main.Mock().SessionKey("alice").Reveal())
}

func TestE2E_XForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	limits := map[string]string{"ONESTROKE_LOGIN_RATE": "1/m", "ONESTROKE_LOGIN_BURST": "1"}
	behindProxy := map[string]string{"ONESTROKE_TRUSTED_PROXIES": "127.0.0.1"}
	for k, v := range limits {
		behindProxy[k] = v
	}

	t.Run("trusted proxy: each forwarded client has its own budget", func(t *testing.T) {
		s := start(t, testConfig(t, behindProxy))
		status, _, _ := s.login(s.mint("alice"), map[string]string{"X-Forwarded-For": "198.51.100.1"})
		require.Equal(t, http.StatusOK, status)
		status, _, _ = s.login(s.mint("bob"), map[string]string{"X-Forwarded-For": "198.51.100.1"})
		assert.Equal(t, http.StatusTooManyRequests, status, "the same client again")
		status, _, _ = s.login(s.mint("carol"), map[string]string{"X-Forwarded-For": "198.51.100.2"})
		assert.Equal(t, http.StatusOK, status, "another client behind the same proxy")
		status, _, _ = s.login(s.mint("dave"), map[string]string{"X-Forwarded-For": "198.51.100.1, 198.51.100.3"})
		assert.Equal(t, http.StatusOK, status, "the rightmost hop is the client, not what it wrote on the left")
	})

	t.Run("untrusted peer: X-Forwarded-For is ignored", func(t *testing.T) {
		s := start(t, testConfig(t, limits))
		status, _, _ := s.login(s.mint("alice"), map[string]string{"X-Forwarded-For": "198.51.100.1"})
		require.Equal(t, http.StatusOK, status)
		status, _, _ = s.login(s.mint("bob"), map[string]string{"X-Forwarded-For": "198.51.100.2"})
		assert.Equal(t, http.StatusTooManyRequests, status, "a made-up header buys no new budget")
	})
}
