//go:build integration

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/tests/testenv"
)

// TestE2E_Platform_TwoInstancesShareOneAccessToken starts two production
// instances, both cold, on one Redis and one WeChat: 100 concurrent phone
// number calls split between them cause exactly one stable_token call;
// then WeChat ends the token (as another holder's force_refresh would) and
// 100 more calls cause exactly one forced refresh across both, every call
// succeeding after its retry.
func TestE2E_Platform_TwoInstancesShareOneAccessToken(t *testing.T) {
	redis := testenv.StartRedis(t, testenv.Options{})
	wx := wechattest.New("wxSHARED", "shared-secret", nil)
	wxSrv := httptest.NewServer(wx)
	t.Cleanup(wxSrv.Close)
	env := map[string]string{"ONESTROKE_REDIS_URL": redis.RedisURL(), "ONESTROKE_LOGIN_RATE": "off",
		"ONESTROKE_WX_APPID": "wxSHARED", "ONESTROKE_WX_SECRET": "shared-secret", "ONESTROKE_WX_API_URL": wxSrv.URL}
	a, b := start(t, testConfig(t, env)), start(t, testConfig(t, env))
	instances := []*service{a, b}

	// Ten users a round, ten calls each: within each user's platform
	// budget (burst 10); the second round's users are others.
	const users, calls = 10, 10
	auth := make([]map[string]string, 2*users)
	for u := range 2 * users {
		d, err := wx.Mint(fmt.Sprintf("user%d", u), wechattest.Profile{})
		require.NoError(t, err)
		auth[u] = bearerOf(instances[u%2].v2Login(d.Code, ""))
	}
	round := func(name string, first int) int64 {
		var failed atomic.Int64
		var wg sync.WaitGroup
		for i := range users * calls {
			u := first + i%users
			s := instances[i%2]
			code := wx.MintPhoneCode(fmt.Sprintf("user%d", u))
			wg.Go(func() {
				status, body, raw := s.call("POST", "/applet/v2/me/phone", auth[u], `{"code":"`+code+`"}`)
				if status != http.StatusOK {
					failed.Add(1)
					t.Logf("%s: %d %s", name, status, raw)
					return
				}
				assert.NotEmpty(t, body["data"].(map[string]any)["phoneNumber"])
			})
		}
		wg.Wait()
		return failed.Load()
	}

	assert.Zero(t, round("cold", 0), "every call succeeds")
	assert.Equal(t, 1, wx.Calls(wechattest.APIStableToken), "both instances cold, 100 calls: one stable_token call")
	assert.Zero(t, wx.ForcedRefreshes())

	wx.Invalidate()
	assert.Zero(t, round("after the token ended", users), "every call succeeds after its retry")
	assert.Equal(t, 1, wx.ForcedRefreshes(), "one forced refresh across both instances")
	t.Logf("stable_token calls %d, forced refreshes %d", wx.Calls(wechattest.APIStableToken), wx.ForcedRefreshes())
	for _, s := range instances {
		assert.NotContains(t, s.logs.String(), "access_token=")
	}
}
