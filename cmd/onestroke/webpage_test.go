package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/webpage"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
)

func TestE2E_DevelopmentModeServesTheWebPage(t *testing.T) {
	s := start(t, testConfig(t, map[string]string{"ONESTROKE_BASE_PATH": "/paint"}))
	resp, err := http.Get(s.url + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, webpage.ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"))
	assert.Contains(t, string(body), `<meta name="onestroke-base-path" content="/paint">`, "the page learns the configured base path")

	resp, err = http.Get(s.url + "/static/page.js")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
}

// The page signs in through the development mint: production has neither,
// and / is the envelope's 404 like any unknown path.
func TestE2E_ProductionModeHasNoWebPage(t *testing.T) {
	wx := wechattest.New("wxPRODAPPID", "prod-secret-value", nil)
	wxSrv := httptest.NewServer(wx)
	defer wxSrv.Close()
	s := start(t, testConfig(t, map[string]string{
		"ONESTROKE_WX_APPID": "wxPRODAPPID", "ONESTROKE_WX_SECRET": "prod-secret-value", "ONESTROKE_WX_API_URL": wxSrv.URL,
	}))
	for _, path := range []string{"/", "/static/page.js", "/static/wxcanvas.js"} {
		status, body, raw := s.call("GET", path, nil, "")
		assert.Equal(t, http.StatusNotFound, status, path)
		assert.Equal(t, "ERR_NOT_FOUND", reason(body), "%s: %s", path, raw)
	}
}
