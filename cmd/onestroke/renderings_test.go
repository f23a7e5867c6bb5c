package main

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get fetches path with headers and returns the answer's bytes: the
// renderings are images, not JSON.
func (s *service) get(path string, headers map[string]string) (*http.Response, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	require.NoError(s.t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp, raw
}

// TestE2E_V2Drawings_Renderings: the binary's wiring renders a drawing
// saved by a legacy phone as the mini-program records it, as PNG and SVG,
// and a repeat with the ETag costs a 304.
func TestE2E_V2Drawings_Renderings(t *testing.T) {
	s := start(t, testConfig(t, nil))
	v2 := bearerOf(s.v2Login(s.mint("alice").Code, "tablet"))
	d := s.mint("alice")
	status, _, raw := s.call("GET", "/applet/session", d.first(), "")
	require.Equal(t, http.StatusOK, status, raw)
	stroke := `[{\"method\":\"save\",\"data\":[]},{\"method\":\"setStrokeStyle\",\"data\":[\"normal\",\"#0000FF\"]},{\"method\":\"setLineWidth\",\"data\":[5]},` +
		`{\"method\":\"strokePath\",\"data\":[{\"method\":\"moveTo\",\"data\":[20,40]},{\"method\":\"lineTo\",\"data\":[300,40]}]},{\"method\":\"restore\",\"data\":[]}]`
	status, _, raw = s.call("POST", "/applet/session/paints/save", d.cached(), `{"id":"mi3k9x2a7q4z","actions":"`+stroke+`"}`)
	require.Equal(t, http.StatusOK, status, raw)

	resp, body := s.get("/applet/v2/drawings/mi3k9x2a7q4z.png?w=512", v2)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	img, err := png.Decode(bytes.NewReader(body))
	require.NoError(t, err)
	assert.Equal(t, 512, img.Bounds().Dx())
	r, g, b, _ := img.At(256, img.Bounds().Dy()/2).RGBA()
	assert.Equal(t, [3]uint32{0, 0, 0xffff}, [3]uint32{r, g, b}, "the blue stroke")
	tag := resp.Header.Get("ETag")
	require.NotEmpty(t, tag)

	resp, body = s.get("/applet/v2/drawings/mi3k9x2a7q4z.png?w=512", map[string]string{"Authorization": v2["Authorization"], "If-None-Match": tag})
	assert.Equal(t, http.StatusNotModified, resp.StatusCode)
	assert.Empty(t, body)

	resp, body = s.get("/applet/v2/drawings/mi3k9x2a7q4z.svg", v2)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Equal(t, "image/svg+xml", resp.Header.Get("Content-Type"))
	assert.Contains(t, string(body), `stroke="#0000ff"`)

	resp, _ = s.get("/applet/v2/drawings/mi3k9x2a7q4z.svg", nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "Bearer only")
	resp, _ = s.get("/applet/v2/drawings/mi3k9x2a7q4z.png", d.cached())
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a legacy code is no bearer token")
}
