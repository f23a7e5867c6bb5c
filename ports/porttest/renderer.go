package porttest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// scene interprets an action list for the renderer contract.
func scene(t testing.TB, actions string) *domain.Scene {
	t.Helper()
	s, err := domain.InterpretActions(actions)
	require.NoError(t, err)
	return s
}

// renderPNG renders s at width w and decodes the PNG.
func renderPNG(t testing.TB, r ports.Renderer, s *domain.Scene, w int) (image.Image, domain.Raster) {
	t.Helper()
	ras, err := s.Raster(w)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, r.PNG(&buf, s, ras))
	img, err := png.Decode(&buf)
	require.NoError(t, err, "a PNG")
	require.Equal(t, image.Rect(0, 0, ras.Width, ras.Height), img.Bounds(), "the raster's size")
	return img, ras
}

// at returns the pixel of img at the canvas point (x, y).
func at(img image.Image, ras domain.Raster, x, y float64) color.NRGBA {
	p := ras.ToImage().Apply(domain.Point{X: x, Y: y})
	return color.NRGBAModel.Convert(img.At(int(p.X), int(p.Y))).(color.NRGBA)
}

func assertColour(t testing.TB, want, got color.NRGBA, msg string) {
	t.Helper()
	d := func(a, b uint8) int {
		if a > b {
			return int(a - b)
		}
		return int(b - a)
	}
	if d(want.R, got.R) > 2 || d(want.G, got.G) > 2 || d(want.B, got.B) > 2 || d(want.A, got.A) > 2 {
		t.Errorf("%s: %v, want %v", msg, got, want)
	}
}

var (
	white = color.NRGBA{255, 255, 255, 255}
	red   = color.NRGBA{255, 0, 0, 255}
	green = color.NRGBA{0, 128, 0, 255}
)

const redLine = `[{"method":"save","data":[]},{"method":"setStrokeStyle","data":["normal","#FF0000"]},{"method":"setLineWidth","data":[5]},
{"method":"strokePath","data":[{"method":"moveTo","data":[10,20]},{"method":"lineTo","data":[90,20]}]},{"method":"restore","data":[]}]`

// TestRenderer runs the Renderer contract: what a renderer draws for a
// scene, as pixels of its PNG and elements of its SVG. newRenderer returns
// a fresh renderer.
func TestRenderer(t *testing.T, newRenderer func() ports.Renderer) {
	t.Run("PNG_AStrokeOnWhiteFramedOnWhatWasDrawn", func(t *testing.T) {
		s := scene(t, redLine)
		img, ras := renderPNG(t, newRenderer(), s, 256)
		assert.Equal(t, 256, ras.Width)
		assertColour(t, red, at(img, ras, 50, 20), "the middle of the line")
		assertColour(t, red, at(img, ras, 11, 21.5), "near its start, within its width")
		assertColour(t, white, at(img, ras, 50, 24), "beyond half its width")
		assertColour(t, white, at(img, ras, 8, 20), "before its butt end")
		for _, c := range []image.Point{{0, 0}, {ras.Width - 1, 0}, {0, ras.Height - 1}, {ras.Width - 1, ras.Height - 1}} {
			assertColour(t, white, color.NRGBAModel.Convert(img.At(c.X, c.Y)).(color.NRGBA), fmt.Sprintf("the margin at %v", c))
		}
		// The stroke fills the frame but for the margin: across, at most
		// 2 % of the width on each side plus the butt ends' half widths.
		row := int(ras.ToImage().Apply(domain.Point{X: 50, Y: 20}).Y)
		first, last := -1, -1
		for x := 0; x < ras.Width; x++ {
			if c := color.NRGBAModel.Convert(img.At(x, row)).(color.NRGBA); c.G < 128 {
				if first < 0 {
					first = x
				}
				last = x
			}
		}
		assert.InDelta(t, ras.ToImage().Apply(domain.Point{X: 10}).X, float64(first), 1.5, "the line starts where the frame says")
		assert.InDelta(t, ras.ToImage().Apply(domain.Point{X: 90}).X, float64(last+1), 1.5, "and ends there")
	})

	t.Run("PNG_EmptyDrawingIsASmallWhiteSquare", func(t *testing.T) {
		img, ras := renderPNG(t, newRenderer(), scene(t, `[{"method":"save","data":[]}]`), 512)
		assert.Equal(t, domain.EmptyRenderSize, ras.Width)
		for y := 0; y < ras.Height; y++ {
			for x := 0; x < ras.Width; x++ {
				assertColour(t, white, color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA), "empty")
			}
		}
	})

	t.Run("PNG_FillsBlendTheirAlphaOverWhite", func(t *testing.T) {
		s := scene(t, `[{"method":"setFillStyle","data":["normal",[0,0,255,128]]},{"method":"fillPath","data":[{"method":"rect","data":[0,0,40,40]}]}]`)
		img, ras := renderPNG(t, newRenderer(), s, 64)
		assertColour(t, color.NRGBA{127, 127, 255, 255}, at(img, ras, 20, 20), "half-transparent blue on white")
	})

	t.Run("PNG_ClearRectShowsTheBackground", func(t *testing.T) {
		s := scene(t, `[{"method":"setFillStyle","data":["normal","green"]},{"method":"fillPath","data":[{"method":"rect","data":[0,0,100,100]}]},
			{"method":"clearRect","data":[25,25,50,50]}]`)
		img, ras := renderPNG(t, newRenderer(), s, 100)
		assertColour(t, white, at(img, ras, 50, 50), "cleared")
		assertColour(t, green, at(img, ras, 10, 50), "outside the cleared rectangle")
		assertColour(t, green, at(img, ras, 50, 90), "below it")
	})

	t.Run("PNG_TransformsMoveAndTurnWhatIsDrawn", func(t *testing.T) {
		// The red line turned a quarter around its start: vertical.
		s := scene(t, `[{"method":"translate","data":[10,20]},{"method":"rotate","data":[1.5707963267948966]},{"method":"translate","data":[-10,-20]},`+redLine[1:])
		img, ras := renderPNG(t, newRenderer(), s, 64)
		assertColour(t, red, at(img, ras, 10, 60), "down the turned line")
		assert.Greater(t, ras.Height, ras.Width, "framed upright")
	})

	t.Run("PNG_CapsAndJoinsAsTheCanvasDrawsThem", func(t *testing.T) {
		s := scene(t, `[{"method":"setLineWidth","data":[10]},{"method":"setLineCap","data":["square"]},
			{"method":"strokePath","data":[{"method":"moveTo","data":[20,20]},{"method":"lineTo","data":[80,20]},{"method":"lineTo","data":[80,80]}]}]`)
		img, ras := renderPNG(t, newRenderer(), s, 200)
		black := color.NRGBA{0, 0, 0, 255}
		assertColour(t, black, at(img, ras, 17, 20), "a square cap reaches half the width before the start")
		assertColour(t, black, at(img, ras, 83.5, 16.5), "the miter fills the outer corner")
		assertColour(t, white, at(img, ras, 80, 85.9), "a square cap ends half the width past the end")
	})

	t.Run("PNG_ARasterBeyondTheLimitsIsRefused", func(t *testing.T) {
		err := newRenderer().PNG(&bytes.Buffer{}, scene(t, redLine), domain.Raster{Width: 5000, Height: 5000, Scale: 1})
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	})

	t.Run("PNG_ConcurrentRendersAreIndependent", func(t *testing.T) {
		r := newRenderer()
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				colour := []string{"#FF0000", "#008000"}[i%2]
				s := scene(t, strings.Replace(redLine, "#FF0000", colour, 1))
				img, ras := renderPNG(t, r, s, 128)
				assertColour(t, map[string]color.NRGBA{"#FF0000": red, "#008000": green}[colour], at(img, ras, 50, 20), "render "+strconv.Itoa(i))
			}(i)
		}
		wg.Wait()
	})

	t.Run("SVG_TheSceneAsPathsInTheViewBox", func(t *testing.T) {
		s := scene(t, `[{"method":"setFillStyle","data":["normal","rgba(0,0,255,0.5)"]},{"method":"fillPath","data":[{"method":"rect","data":[0,0,40,40]}]},
			{"method":"translate","data":[5,0]},`+redLine[1:])
		var buf bytes.Buffer
		require.NoError(t, newRenderer().SVG(&buf, s))
		doc := parseSVG(t, buf.Bytes())
		v := s.View()
		assert.Equal(t, round3(v.MinX, v.MinY, v.Width(), v.Height()), doc.viewBox, "viewBox")
		require.Len(t, doc.paths, len(s.Ops))
		fill, stroke := doc.paths[0], doc.paths[1]
		assert.Equal(t, "#0000ff", fill["fill"])
		assert.Equal(t, "0.502", fill["fill-opacity"])
		assert.Equal(t, "none", stroke["fill"])
		assert.Equal(t, "#ff0000", stroke["stroke"])
		assert.Equal(t, "5", stroke["stroke-width"])
		assert.Equal(t, "10", stroke["stroke-miterlimit"], "the canvas's miter limit, not SVG's 4")
		assert.Equal(t, "matrix(1 0 0 1 5 0)", stroke["transform"])
		assert.Equal(t, "M10 20 L90 20", stroke["d"])
		assert.Equal(t, "#fff", doc.background, "a white background")
	})

	t.Run("SVG_WritesNothingOfTheActionText", func(t *testing.T) {
		s := scene(t, `[{"method":"setStrokeStyle","data":["normal","</svg><script>alert(1)</script>"]},{"method":"setStrokeStyle","data":["normal","red"]},`+
			`{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[9,9]}]},{"method":"<x>","data":["<y>"]}]`)
		var buf bytes.Buffer
		require.NoError(t, newRenderer().SVG(&buf, s))
		assert.NotContains(t, buf.String(), "script")
		assert.NotContains(t, buf.String(), "<x>")
		doc := parseSVG(t, buf.Bytes())
		require.Len(t, doc.paths, 1)
		assert.Equal(t, "#ff0000", doc.paths[0]["stroke"], "colours are written from their values")
	})

	t.Run("SVG_EmptyDrawingIsAWhiteSquare", func(t *testing.T) {
		var buf bytes.Buffer
		require.NoError(t, newRenderer().SVG(&buf, scene(t, `[]`)))
		doc := parseSVG(t, buf.Bytes())
		assert.Equal(t, []float64{0, 0, domain.EmptyRenderSize, domain.EmptyRenderSize}, doc.viewBox)
		assert.Empty(t, doc.paths)
	})
}

type svgDoc struct {
	viewBox    []float64
	background string
	paths      []map[string]string
}

// parseSVG reads an SVG document with encoding/xml: it must be well formed.
func parseSVG(t testing.TB, b []byte) svgDoc {
	t.Helper()
	var doc svgDoc
	dec := xml.NewDecoder(bytes.NewReader(b))
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			require.Equal(t, "EOF", err.Error(), "well-formed XML:\n%s", b)
			break
		}
		switch el := tok.(type) {
		case xml.StartElement:
			depth++
			attrs := map[string]string{}
			for _, a := range el.Attr {
				attrs[a.Name.Local] = a.Value
			}
			switch {
			case depth == 1:
				require.Equal(t, "svg", el.Name.Local)
				assert.Equal(t, "http://www.w3.org/2000/svg", el.Name.Space)
				for _, f := range strings.Fields(attrs["viewBox"]) {
					v, err := strconv.ParseFloat(f, 64)
					require.NoError(t, err)
					doc.viewBox = append(doc.viewBox, v)
				}
			case el.Name.Local == "rect" && doc.paths == nil:
				doc.background = attrs["fill"]
			case el.Name.Local == "path":
				doc.paths = append(doc.paths, attrs)
			}
		case xml.EndElement:
			depth--
		}
	}
	doc.viewBox = round3(doc.viewBox...)
	return doc
}

// round3 rounds to thousandths: the SVG writes a view of about a hundred
// pixels to a hundred-thousandth of it.
func round3(vs ...float64) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = math.Round(v*1000) / 1000
	}
	return out
}
