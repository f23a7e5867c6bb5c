package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/onestroke/onestroke/adapters/httpapi"
)

// fakePage is a web page of two paths that names the path it served.
type fakePage struct{ paths []string }

func (p fakePage) Paths() []string { return p.paths }

func (p fakePage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("page " + r.URL.Path))
}

func TestPage_ServedAtItsPathsAndNowhereElse(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.Page = fakePage{paths: []string{"/", "/static/page.js"}} })
	get := func(method, path string) (int, string, string) {
		req, _ := http.NewRequest(method, e.api.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b [256]byte
		n, _ := resp.Body.Read(b[:])
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b[:n])
	}
	for _, path := range []string{"/", "/static/page.js"} {
		status, ct, body := get(http.MethodGet, path)
		assert.Equal(t, http.StatusOK, status, path)
		assert.Equal(t, "text/plain", ct, path)
		assert.Equal(t, "page "+path, body)
		status, _, _ = get(http.MethodHead, path)
		assert.Equal(t, http.StatusOK, status, "HEAD "+path)
	}
	// Every other path and method keeps the API's own envelope.
	for _, path := range []string{"/static/other.js", "/static/", "/index.html", "/applet/"} {
		r := e.do(http.MethodGet, path, nil, "", "")
		assert.Equal(t, http.StatusNotFound, r.status, path)
		assert.Equal(t, "ERR_NOT_FOUND", businessReason(t, r), path)
	}
	r := e.do(http.MethodPost, "/", nil, "", "")
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	assert.Equal(t, "ERR_METHOD_NOT_ALLOWED", businessReason(t, r))
	r = e.do(http.MethodGet, "/applet/session", nil, "", "")
	assert.Equal(t, http.StatusOK, r.status, "the API is still there: %s", r.raw)
}

func TestPage_NoneWhenNotConfigured(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(http.MethodGet, "/", nil, "", "")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "ERR_NOT_FOUND", businessReason(t, r))
}
