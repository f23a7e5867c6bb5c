package render_test

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/onestroke/onestroke/adapters/render"
	"github.com/onestroke/onestroke/domain"
)

// seedDrawing is an action list of n of the seed's strokes (5 actions
// each: save, setStrokeStyle, setLineWidth 5, strokePath, restore) in its
// seven colours, each a finger's wobble of points on a phone's 375×600
// canvas.
func seedDrawing(strokes, points int) string {
	colours := []string{"#666666", "#FF0000", "#FFA500", "#FFFF00", "#008000", "#0000FF", "#8A2BE2"}
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < strokes; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"method":"save","data":[]},{"method":"setStrokeStyle","data":["normal","%s"]},{"method":"setLineWidth","data":[5]},{"method":"strokePath","data":[`, colours[i%len(colours)])
		x, y, a := 30+r.Float64()*315, 30+r.Float64()*540, r.Float64()*2*math.Pi
		for j := 0; j < points; j++ {
			m := "lineTo"
			if j == 0 {
				m = "moveTo"
			} else {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"method":"%s","data":[%.1f,%.1f]}`, m, x, y)
			a += (r.Float64() - 0.5) * 0.8
			x, y = math.Max(0, math.Min(375, x+6*math.Cos(a))), math.Max(0, math.Min(600, y+6*math.Sin(a)))
		}
		b.WriteString(`]},{"method":"restore","data":[]}`)
	}
	b.WriteByte(']')
	return b.String()
}

// The benchmark drawing: 2,000 actions (400 strokes of 20 points, about
// 400 kB of actions).
var bench2000 = seedDrawing(400, 20)

// BenchmarkSVG_2000Actions is the work of the SVG route for a drawing of
// 2,000 actions: interpreting them and writing the SVG.
func BenchmarkSVG_2000Actions(b *testing.B) {
	rd := render.New()
	b.SetBytes(int64(len(bench2000)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := domain.InterpretActions(bench2000)
		if err != nil {
			b.Fatal(err)
		}
		if err := rd.SVG(io.Discard, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPNG256_2000Actions is the work of the PNG route at w=256 for the
// same drawing: interpreting, rasterizing and encoding.
func BenchmarkPNG256_2000Actions(b *testing.B) {
	rd := render.New()
	b.SetBytes(int64(len(bench2000)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := domain.InterpretActions(bench2000)
		if err != nil {
			b.Fatal(err)
		}
		r, err := s.Raster(256)
		if err != nil {
			b.Fatal(err)
		}
		if err := rd.PNG(io.Discard, s, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPNG1024_CostliestAccepted is the slowest kind of drawing the
// raster cost bound lets through at w=1024: thick strokes from corner to
// corner, each blending the whole image, added until one more would be
// refused. Its time is what domain.MaxRasterCost buys.
func BenchmarkPNG1024_CostliestAccepted(b *testing.B) {
	stroke := `,{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[1000,1000]}]}`
	text, n := "", 0
	for {
		next := `[{"method":"setLineWidth","data":[40]}` + strings.Repeat(stroke, n+1) + `]`
		s, err := domain.InterpretActions(next)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Raster(1024); err != nil {
			break
		}
		text, n = next, n+1
	}
	s, _ := domain.InterpretActions(text)
	r, _ := s.Raster(1024)
	rd := render.New()
	b.ReportMetric(float64(n), "strokes")
	b.ReportAllocs()
	for b.Loop() {
		if err := rd.PNG(io.Discard, s, r); err != nil {
			b.Fatal(err)
		}
	}
}
