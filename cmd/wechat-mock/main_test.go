package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/tests/testenv"
)

// startMock runs the binary's wiring on a loopback port 0 with env and
// returns its base URL; the run stops (and must stop cleanly) at cleanup.
func startMock(t *testing.T, env map[string]string, args ...string) (string, *testenv.SyncBuffer) {
	t.Helper()
	return startMockScheme(t, "http", env, args...)
}

// startMockScheme is startMock for a mock that serves scheme (https when
// given a certificate).
func startMockScheme(t *testing.T, scheme string, env map[string]string, args ...string) (string, *testenv.SyncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testenv.SyncBuffer{}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	args = append([]string{"-listen", "127.0.0.1:0"}, args...)
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, logs, func(a string) { addr <- a })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "run after cancel")
		case <-time.After(10 * time.Second):
			t.Error("wechat-mock did not stop")
		}
	})
	select {
	case a := <-addr:
		return scheme + "://" + a, logs
	case err := <-done:
		t.Fatalf("wechat-mock exited before listening: %v\n%s", err, logs)
	case <-time.After(10 * time.Second):
		t.Fatalf("wechat-mock did not start listening:\n%s", logs)
	}
	return "", nil
}

func getJSON(t *testing.T, method, u string, v any) {
	t.Helper()
	getJSONWith(t, http.DefaultClient, method, u, v)
}

func getJSONWith(t *testing.T, client *http.Client, method, u string, v any) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s", method, u)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

func exchangeURL(base, appID, secret, code string) string {
	return base + "/sns/jscode2session?" + url.Values{
		"appid": {appID}, "secret": {secret}, "js_code": {code}, "grant_type": {"authorization_code"},
	}.Encode()
}

type exchangeReply struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	ErrCode    int    `json:"errcode"`
}

func TestRun_MintedCodeExchangesOnce(t *testing.T) {
	const appID, secret = "wxtestappid000001", "env-secret-value"
	base, logs := startMock(t, map[string]string{"ONESTROKE_MOCK_APPID": appID, "ONESTROKE_MOCK_SECRET": secret})

	var device struct{ OpenID, Code, Signature string }
	getJSON(t, http.MethodPost, base+"/mock/login?user=alice", &device)
	require.NotEmpty(t, device.Code)
	require.NotEmpty(t, device.Signature)

	var first exchangeReply
	getJSON(t, http.MethodGet, exchangeURL(base, appID, secret, device.Code), &first)
	assert.Zero(t, first.ErrCode)
	assert.Equal(t, device.OpenID, first.OpenID)
	assert.NotEmpty(t, first.SessionKey)

	var again exchangeReply
	getJSON(t, http.MethodGet, exchangeURL(base, appID, secret, device.Code), &again)
	assert.Equal(t, 40163, again.ErrCode, "a code is single-use")

	assert.Contains(t, logs.String(), appID)
	assert.NotContains(t, logs.String(), secret, "the secret must never be logged")
}

func TestRun_FlagsWinOverEnvironment(t *testing.T) {
	base, _ := startMock(t, map[string]string{"ONESTROKE_MOCK_APPID": "wxfromenvironment0"}, "-appid", "wxfromflag0000000", "-secret", "s")

	var device struct{ Code string }
	getJSON(t, http.MethodPost, base+"/mock/login?user=bob", &device)
	var reply exchangeReply
	getJSON(t, http.MethodGet, exchangeURL(base, "wxfromflag0000000", "s", device.Code), &reply)
	assert.Zero(t, reply.ErrCode)
}

func TestRun_WrongSecretIsRefused(t *testing.T) {
	base, _ := startMock(t, nil) // defaults: wxmockappid0000000 / mock-secret

	var device struct{ Code string }
	getJSON(t, http.MethodPost, base+"/mock/login", &device)
	var reply exchangeReply
	getJSON(t, http.MethodGet, exchangeURL(base, "wxmockappid0000000", "not-the-secret", device.Code), &reply)
	assert.Equal(t, 40125, reply.ErrCode)
}

func TestRun_BadArgumentsStopTheStart(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-listen", "127.0.0.1:0", "extra"}, func(string) string { return "" }, &out, nil)
	assert.ErrorContains(t, err, "unexpected arguments")
}

func TestRun_TLSServesHTTPSWithTheGivenCertificate(t *testing.T) {
	const appID, secret = "wxtlsappid0000001", "tls-secret-value"
	certs := testenv.NewTLS(t, "127.0.0.1")
	_, certFile, keyFile := certs.WriteFiles(t)
	base, logs := startMockScheme(t, "https", map[string]string{
		"ONESTROKE_MOCK_APPID": appID, "ONESTROKE_MOCK_SECRET": secret,
		"ONESTROKE_MOCK_TLS_CERT": certFile, "ONESTROKE_MOCK_TLS_KEY": keyFile,
	})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: certs.ClientConfig("")}, Timeout: 10 * time.Second}

	var device struct{ OpenID, Code string }
	getJSONWith(t, client, http.MethodPost, base+"/mock/login?user=alice", &device)
	require.NotEmpty(t, device.Code)
	var reply exchangeReply
	getJSONWith(t, client, http.MethodGet, exchangeURL(base, appID, secret, device.Code), &reply)
	assert.Zero(t, reply.ErrCode)
	assert.Equal(t, device.OpenID, reply.OpenID)
	assert.NotEmpty(t, reply.SessionKey)
	assert.Contains(t, logs.String(), `"scheme":"https"`)

	// Plain HTTP on the TLS port is not served, and a client that does not
	// trust the CA is refused.
	resp, err := http.Get("http://" + strings.TrimPrefix(base, "https://") + "/mock/stats")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "Go answers plain HTTP on a TLS port with 400")
	_, err = http.Get(base + "/mock/stats")
	assert.ErrorContains(t, err, "certificate", "the system roots do not trust the throwaway CA")
}

func TestRun_TLSFlagsWinOverEnvironment(t *testing.T) {
	certs := testenv.NewTLS(t, "127.0.0.1")
	_, certFile, keyFile := certs.WriteFiles(t)
	base, _ := startMockScheme(t, "https", map[string]string{"ONESTROKE_MOCK_TLS_CERT": "/nonexistent/cert.pem", "ONESTROKE_MOCK_TLS_KEY": "/nonexistent/key.pem"},
		"-tls-cert", certFile, "-tls-key", keyFile)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: certs.ClientConfig("")}, Timeout: 10 * time.Second}
	var stats struct{ Exchanges int }
	getJSONWith(t, client, http.MethodGet, base+"/mock/stats", &stats)
}

func TestRun_TLSNeedsBothCertificateAndKey(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"certificate only": {"ONESTROKE_MOCK_TLS_CERT": "cert.pem"},
		"key only":         {"ONESTROKE_MOCK_TLS_KEY": "key.pem"},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), []string{"-listen", "127.0.0.1:0"}, func(k string) string { return env[k] }, &out,
				func(string) { t.Error("listening with half a TLS configuration") })
			assert.ErrorContains(t, err, "TLS needs both a certificate and a key")
		})
	}
}

func TestRun_UnreadableTLSFilesStopTheStart(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	err := run(context.Background(), []string{"-listen", "127.0.0.1:0", "-tls-cert", dir + "/missing.pem", "-tls-key", dir + "/missing-key.pem"},
		func(string) string { return "" }, &out, func(string) { t.Error("listening without its certificate") })
	assert.ErrorContains(t, err, "missing.pem")
}
