package httpapi_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var renderingTag = regexp.MustCompile(`^"[0-9a-f]{16}\.r1\.(svg|png\.[0-9]+)"$`)

const redStroke = `[{"method":"save","data":[]},{"method":"setStrokeStyle","data":["normal","#FF0000"]},{"method":"setLineWidth","data":[5]},` +
	`{"method":"strokePath","data":[{"method":"moveTo","data":[10,20]},{"method":"lineTo","data":[90,20]}]},{"method":"restore","data":[]}]`

func TestV2Drawings_RenderingsAsPNGAndSVG(t *testing.T) {
	e := newEnv(t, nil)
	alice := auth(e.v2Login("alice", "phone"))
	put := e.do(http.MethodPut, drawings+"/d1", alice, jsonCT, `{"actions":`+redStroke+`}`)
	require.Equal(t, http.StatusCreated, put.status, put.raw)
	drawingTag := strings.Trim(put.header.Get("ETag"), `"`)

	r := e.do(http.MethodGet, drawings+"/d1.png", alice, "", "")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "image/png", r.header.Get("Content-Type"))
	assert.Equal(t, "private, max-age=300", r.header.Get("Cache-Control"))
	assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
	pngTag := r.header.Get("ETag")
	assert.Regexp(t, renderingTag, pngTag)
	assert.Equal(t, `"`+drawingTag+`.r1.png.256"`, pngTag, "derived from the drawing's ETag, the format and w")
	img, err := png.Decode(strings.NewReader(r.raw))
	require.NoError(t, err)
	assert.Equal(t, 256, img.Bounds().Dx(), "w defaults to 256")
	cr, cg, cb, _ := img.At(128, img.Bounds().Dy()/2).RGBA()
	assert.Equal(t, [3]uint32{0xffff, 0, 0}, [3]uint32{cr, cg, cb}, "the red line across the middle")

	r = e.do(http.MethodGet, drawings+"/d1.png?w=64", alice, "", "")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	img, err = png.Decode(strings.NewReader(r.raw))
	require.NoError(t, err)
	assert.Equal(t, 64, img.Bounds().Dx())
	assert.Equal(t, `"`+drawingTag+`.r1.png.64"`, r.header.Get("ETag"))

	r = e.do(http.MethodGet, drawings+"/d1.svg", alice, "", "")
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "image/svg+xml", r.header.Get("Content-Type"))
	assert.Equal(t, "private, max-age=300", r.header.Get("Cache-Control"))
	assert.Contains(t, r.header.Get("Content-Security-Policy"), "default-src 'none'")
	svgTag := r.header.Get("ETag")
	assert.Equal(t, `"`+drawingTag+`.r1.svg"`, svgTag)
	dec := xml.NewDecoder(strings.NewReader(r.raw))
	paths := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "path" {
			paths++
		}
	}
	assert.Equal(t, 1, paths, "one stroke: %s", r.raw)
	r = e.do(http.MethodGet, drawings+"/d1.svg?w=64", alice, "", "")
	assert.Equal(t, svgTag, r.header.Get("ETag"), "w means nothing to an SVG")

	t.Run("If-None-Match answers 304 without drawing", func(t *testing.T) {
		for _, h := range []string{pngTag, "W/" + pngTag, `"other", ` + pngTag, "*"} {
			r := e.do(http.MethodGet, drawings+"/d1.png", with(alice, "If-None-Match", h), "", "")
			assert.Equal(t, http.StatusNotModified, r.status, "If-None-Match: %s", h)
			assert.Empty(t, r.raw)
			assert.Equal(t, pngTag, r.header.Get("ETag"))
			assert.Equal(t, "private, max-age=300", r.header.Get("Cache-Control"))
		}
		for _, h := range []string{svgTag, `"` + drawingTag + `"`, "garbage"} {
			r := e.do(http.MethodGet, drawings+"/d1.png", with(alice, "If-None-Match", h), "", "")
			assert.Equal(t, http.StatusOK, r.status, "If-None-Match: %s", h)
		}
	})

	t.Run("a save changes the rendering's ETag", func(t *testing.T) {
		put := e.do(http.MethodPut, drawings+"/d1", alice, jsonCT, `{"actions":`+strings.Replace(redStroke, "#FF0000", "#0000FF", 1)+`}`)
		require.Equal(t, http.StatusOK, put.status, put.raw)
		r := e.do(http.MethodGet, drawings+"/d1.png", with(alice, "If-None-Match", pngTag), "", "")
		require.Equal(t, http.StatusOK, r.status)
		assert.NotEqual(t, pngTag, r.header.Get("ETag"))
		img, err := png.Decode(bytes.NewReader([]byte(r.raw)))
		require.NoError(t, err)
		_, _, cb, _ := img.At(128, img.Bounds().Dy()/2).RGBA()
		assert.Equal(t, uint32(0xffff), cb, "the new drawing: blue")
	})

	t.Run("a drawing saved through the legacy routes renders too", func(t *testing.T) {
		legacy := e.login("alice")
		quoted, err := json.Marshal(redStroke)
		require.NoError(t, err)
		r := e.do(http.MethodPost, "/applet/session/paints/save", legacy, jsonCT, `{"id":"old1","actions":`+string(quoted)+`}`)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		r = e.do(http.MethodGet, drawings+"/old1.svg", alice, "", "")
		assert.Equal(t, http.StatusOK, r.status, r.raw)
	})
}

func TestV2Drawings_RenderingsOfHostileActions(t *testing.T) {
	e := newEnv(t, nil)
	alice := auth(e.v2Login("alice", "phone"))
	fill := `{"method":"fillPath","data":[{"method":"rect","data":[0,0,9,9]}]}`
	for _, tc := range []struct {
		name, actions string
		path          string
		status        int
		reason, msg   string
	}{
		{"nesting deeper than the format", `[[[[[[[[[[1]]]]]]]]]]`, ".png", 400, "ERR_INVALID_REQUEST", "nest deeper"},
		{"a coordinate of 1e308", `[{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[1e308,0]}]}]`, ".svg", 400, "ERR_INVALID_REQUEST", "beyond"},
		{"a key in another letter case", `[{"METHOD":"save","data":[]}]`, ".png", 400, "ERR_INVALID_REQUEST", "METHOD"},
		// 60 fills of the whole frame: a billion blended pixels at 1024.
		{"too much work at w=1024", "[" + strings.TrimSuffix(strings.Repeat(fill+",", 60), ",") + "]", ".png?w=1024", 413, "ERR_TOO_LARGE", "smaller w"},
		{"the same at w=64 renders", "[" + strings.TrimSuffix(strings.Repeat(fill+",", 60), ",") + "]", ".png?w=64", 200, "", ""},
		{"unknown methods are skipped, not refused", `[{"method":"drawImage","data":["x.png"]},{"method":"x"}]`, ".png", 200, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			put := e.do(http.MethodPut, drawings+"/h1", alice, jsonCT, `{"actions":`+tc.actions+`}`)
			require.Contains(t, []int{200, 201}, put.status, put.raw)
			r := e.do(http.MethodGet, drawings+"/h1"+tc.path, alice, "", "")
			require.Equal(t, tc.status, r.status, r.raw)
			if tc.status != 200 {
				assert.Equal(t, tc.reason, businessReason(t, r))
				assert.Contains(t, r.raw, tc.msg)
				assert.Empty(t, r.header.Get("ETag"), "an error has no ETag")
				assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
			}
		})
	}
}
