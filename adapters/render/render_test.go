package render_test

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/render"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
)

func TestRenderer(t *testing.T) {
	porttest.TestRenderer(t, func() ports.Renderer { return render.New() })
}

// TestPNG_LongSegmentsKeepTheirJoins: rasterx computes joins in 26.6 fixed
// point and overflows for segments longer than about 700 pixels; the
// renderer cuts lines into shorter collinear pieces, so a large square at
// w=1024 keeps its miter corners and paints nothing outside them.
func TestPNG_LongSegmentsKeepTheirJoins(t *testing.T) {
	s, err := domain.InterpretActions(`[{"method":"setLineWidth","data":[20]},{"method":"strokePath","data":[
		{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[1000,0]},{"method":"lineTo","data":[1000,1000]},
		{"method":"lineTo","data":[0,1000]},{"method":"closePath"}]},
		{"method":"strokePath","data":[{"method":"moveTo","data":[100,100]},{"method":"bezierCurveTo","data":[2000,100,-1000,900,900,900]}]}]`)
	require.NoError(t, err)
	ras, err := s.Raster(1024)
	require.NoError(t, err)
	img, err := render.New().Rasterize(s, ras)
	require.NoError(t, err)
	toImg := ras.ToImage()
	inside := func(x, y int) bool { // within the square's outer edge, 10 px out
		lo, hi := toImg.Apply(domain.Point{X: -10, Y: -10}), toImg.Apply(domain.Point{X: 1010, Y: 1010})
		return float64(x) >= lo.X-1 && float64(x) <= hi.X+1 && float64(y) >= lo.Y-1 && float64(y) <= hi.Y+1
	}
	painted := 0
	for y := 0; y < ras.Height; y++ {
		for x := 0; x < ras.Width; x++ {
			c := img.RGBAAt(x, y)
			if c.R < 250 && !inside(x, y) {
				painted++
			}
		}
	}
	assert.Zero(t, painted, "pixels painted outside the square's miters")
	for _, corner := range []domain.Point{{X: -8, Y: -8}, {X: 1008, Y: -8}, {X: 1008, Y: 1008}, {X: -8, Y: 1008}} {
		p := toImg.Apply(corner)
		assert.Equal(t, uint8(0), img.RGBAAt(int(p.X), int(p.Y)).R, "the miter fills the corner at %v", corner)
	}
}

// FuzzRender: whatever the interpreter lets through renders without a
// panic (Rasterize's recover would answer EINTERNAL) at a small and the
// largest width, and as SVG.
//
// `go test` runs the seeds; to fuzz: go test -run '^$' -fuzz FuzzRender -fuzztime 60s ./adapters/render/
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		`[{"method":"setLineWidth","data":[3]},{"method":"setLineJoin","data":["round"]},{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[5,0]},{"method":"lineTo","data":[0,0.001]},{"method":"lineTo","data":[0,0]}]}]`,
		`[{"method":"setLineCap","data":["square"]},{"method":"setLineWidth","data":[1e6]},{"method":"strokePath","data":[{"method":"moveTo","data":[1,1]},{"method":"lineTo","data":[1,1]}]}]`,
		`[{"method":"scale","data":[900,1]},{"method":"strokePath","data":[{"method":"arc","data":[0,0,1,0,7]},{"method":"bezierCurveTo","data":[1e6,0,-1e6,0,0,1]}]}]`,
		`[{"method":"setLineWidth","data":[0.0001]},{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"quadraticCurveTo","data":[0,0,0,0]},{"method":"closePath"}]}]`,
		`[{"method":"fillPath","data":[{"method":"rect","data":[0,0,1e-9,1e-9]}]},{"method":"rotate","data":[1e308]},{"method":"clearRect","data":[-1e7,-1e7,2e7,2e7]}]`,
		`[{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[9999999,1]},{"method":"lineTo","data":[0,2]}]}]`,
	} {
		f.Add(s)
	}
	rd := render.New()
	f.Fuzz(func(t *testing.T, text string) {
		s, err := domain.InterpretActions(text)
		if err != nil {
			return
		}
		for _, w := range []int{domain.MinRenderWidth, domain.MaxRenderWidth} {
			ras, err := s.Raster(w)
			if err != nil {
				continue
			}
			if err := rd.PNG(io.Discard, s, ras); err != nil {
				t.Fatalf("w=%d: %v", w, err)
			}
		}
		if err := rd.SVG(io.Discard, s); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPNG_ALargeSeedDrawingRendersAtEveryWidth: the raster cost bound
// refuses hostile drawings, not what a phone records (the benchmark's
// 2,000 actions, and five times as many).
func TestPNG_ALargeSeedDrawingRendersAtEveryWidth(t *testing.T) {
	for _, text := range []string{bench2000, seedDrawing(2000, 20)} {
		s, err := domain.InterpretActions(text)
		require.NoError(t, err)
		for _, w := range []int{domain.MinRenderWidth, domain.DefaultRenderWidth, domain.MaxRenderWidth} {
			r, err := s.Raster(w)
			require.NoError(t, err, "w=%d", w)
			require.NoError(t, render.New().PNG(io.Discard, s, r))
		}
	}
}
