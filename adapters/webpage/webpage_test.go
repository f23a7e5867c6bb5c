package webpage_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/webpage"
)

func get(t *testing.T, h http.Handler, method, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestPaths_ThePageAndItsFiles(t *testing.T) {
	p, err := webpage.New("/applet")
	require.NoError(t, err)
	assert.Equal(t, []string{"/", "/static/favicon.svg", "/static/page.css", "/static/page.js", "/static/wxcanvas.js"}, p.Paths(),
		"index.html is served at / only")
}

func TestServeHTTP_TypesAndSecurityHeadersOnEveryFile(t *testing.T) {
	p, err := webpage.New("/applet")
	require.NoError(t, err)
	want := map[string]string{
		"/":                   "text/html; charset=utf-8",
		"/static/favicon.svg": "image/svg+xml",
		"/static/page.css":    "text/css; charset=utf-8",
		"/static/page.js":     "text/javascript; charset=utf-8",
		"/static/wxcanvas.js": "text/javascript; charset=utf-8",
	}
	for _, path := range p.Paths() {
		t.Run(path, func(t *testing.T) {
			resp, body := get(t, p, http.MethodGet, path, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.NotEmpty(t, body)
			assert.Equal(t, want[path], resp.Header.Get("Content-Type"))
			assert.Equal(t, webpage.ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"))
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"), "always revalidated: no stale script after a rebuild")
			assert.Regexp(t, `^"[0-9a-f]{16}"$`, resp.Header.Get("ETag"))
			assert.Empty(t, resp.Header.Get("Last-Modified"))

			// A revalidation of the same content is a 304 without a body.
			resp, body = get(t, p, http.MethodGet, path, http.Header{"If-None-Match": {resp.Header.Get("ETag")}})
			assert.Equal(t, http.StatusNotModified, resp.StatusCode)
			assert.Empty(t, body)

			resp, body = get(t, p, http.MethodHead, path, nil)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Empty(t, body)
		})
	}
}

func TestContentSecurityPolicy_IsStrict(t *testing.T) {
	csp := webpage.ContentSecurityPolicy
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
		"img-src 'self' blob:", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"} {
		assert.Contains(t, csp, d)
	}
	for _, loose := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:", "data:"} {
		assert.NotContains(t, csp, loose)
	}
}

func TestIndex_NamesTheBasePathEscaped(t *testing.T) {
	for base, want := range map[string]string{
		"/applet":    `content="/applet"`,
		"applet/":    `content="/applet"`,
		`/a"><x y="`: `content="/a&#34;&gt;&lt;x y=&#34;"`,
	} {
		p, err := webpage.New(base)
		require.NoError(t, err)
		_, body := get(t, p, http.MethodGet, "/", nil)
		assert.Contains(t, body, `<meta name="onestroke-base-path" `+want+`>`, base)
	}
}

// The policy forbids inline script and style attributes: the page must not
// need them, and every file it names must be one it serves.
func TestIndex_NoInlineScriptAndEveryFileItNamesIsServed(t *testing.T) {
	p, err := webpage.New("/applet")
	require.NoError(t, err)
	_, body := get(t, p, http.MethodGet, "/", nil)
	served := map[string]bool{}
	for _, path := range p.Paths() {
		served[path] = true
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(body, -1)
	require.NotEmpty(t, refs)
	for _, m := range refs {
		assert.True(t, served[m[1]], "index.html names %s, which the page does not serve", m[1])
	}
	scripts := regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(body, -1)
	require.Len(t, scripts, 2)
	for _, s := range scripts {
		assert.Contains(t, s[1], `src="/static/`)
		assert.Empty(t, strings.TrimSpace(s[2]), "no inline script")
	}
	assert.NotRegexp(t, `\son[a-z]+=`, body, "no inline event handlers")
	assert.NotRegexp(t, `\sstyle=`, body, "no style attributes")
	assert.NotContains(t, body, "<style")
}

func TestServeHTTP_OtherPathsAreNotFound(t *testing.T) {
	p, err := webpage.New("/applet")
	require.NoError(t, err)
	for _, path := range []string{"/index.html", "/static/index.html", "/static/", "/static/../webpage.go", "/nope"} {
		resp, _ := get(t, p, http.MethodGet, path, nil)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
}
