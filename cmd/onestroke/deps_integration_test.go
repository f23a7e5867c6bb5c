//go:build integration

package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
