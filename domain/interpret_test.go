package domain_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/onestroke/onestroke/domain"
)

// seedStroke is one stroke exactly as the seed's draw page records it.
func seedStroke(color string, width float64, pts ...[2]float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"method":"save","data":[]},{"method":"setStrokeStyle","data":["normal",%q]},{"method":"setLineWidth","data":[%g]},{"method":"strokePath","data":[`, color, width)
	for i, p := range pts {
		m := "lineTo"
		if i == 0 {
			m = "moveTo"
		}
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"method":%q,"data":[%g,%g]}`, m, p[0], p[1])
	}
	b.WriteString(`]},{"method":"restore","data":[]}`)
	return b.String()
}

func interpret(t *testing.T, text string) *domain.Scene {
	t.Helper()
	s, err := domain.InterpretActions(text)
	require.NoError(t, err)
	return s
}

func near(t *testing.T, want, got domain.Rect) {
	t.Helper()
	const eps = 1e-9
	if math.Abs(want.MinX-got.MinX) > eps || math.Abs(want.MinY-got.MinY) > eps ||
		math.Abs(want.MaxX-got.MaxX) > eps || math.Abs(want.MaxY-got.MaxY) > eps {
		t.Fatalf("bounds %+v, want %+v", got, want)
	}
}

func TestInterpretActions_SeedStroke(t *testing.T) {
	s := interpret(t, "["+seedStroke("#FF0000", 5, [2]float64{10, 20}, [2]float64{90, 20})+"]")
	assert.Equal(t, 5, s.Drawn)
	assert.Equal(t, 0, s.Skipped)
	require.Len(t, s.Ops, 1)
	op := s.Ops[0]
	assert.Equal(t, domain.OpStroke, op.Kind)
	assert.Equal(t, domain.Color{R: 255, A: 255}, op.Color)
	assert.Equal(t, 5.0, op.Width)
	assert.Equal(t, domain.CapButt, op.Cap)
	assert.Equal(t, domain.JoinMiter, op.Join)
	assert.Equal(t, domain.Identity, op.Transform)
	assert.Equal(t, []domain.Verb{domain.MoveTo, domain.LineTo}, op.Path.Verbs)
	assert.Equal(t, []domain.Point{{10, 20}, {90, 20}}, op.Path.Points)
	// Half the width on every side (the butt ends counted as round).
	near(t, domain.Rect{MinX: 7.5, MinY: 17.5, MaxX: 92.5, MaxY: 22.5}, s.Bounds)
}

func TestInterpretActions_CountsAsTheBrowserReplay(t *testing.T) {
	for _, tc := range []struct {
		name            string
		text            string
		drawn, skipped  int
		ops             int
		wantFirstColour *domain.Color
	}{
		{"empty list", `[]`, 0, 0, 0, nil},
		{"not a list", `{"method":"save"}`, 0, 1, 0, nil},
		{"unknown methods", `[{"method":"drawImage","data":["a.png",0,0]},{"method":"setShadow","data":[1,1,1,"#000"]}]`, 0, 2, 0, nil},
		{"not an action", `[null, 7, "save", [1], {"data":[]}, {"method":5}]`, 0, 6, 0, nil},
		{"data of the wrong shape", `[{"method":"translate","data":[1]},{"method":"rotate","data":"1"},{"method":"scale","data":["2",2]},{"method":"clearRect","data":[0,0,1]}]`, 0, 4, 0, nil},
		{"a width the canvas ignores is applied", `[{"method":"setLineWidth","data":[-1]},{"method":"setLineWidth","data":[0]},{"method":"setLineWidth","data":["3"]}]`, 2, 1, 0, nil},
		{"caps and joins", `[{"method":"setLineCap","data":["square"]},{"method":"setLineCap","data":["SQUARE"]},{"method":"setLineJoin","data":["bevel"]},{"method":"setLineJoin","data":[]}]`, 2, 2, 0, nil},
		{"a sub-path that is not a list", `[{"method":"strokePath","data":{"method":"moveTo"}}]`, 1, 1, 0, nil},
		{"bad elements are skipped, the rest drawn", `[{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[5]},{"method":"lineTo","data":[5,null]},"lineTo",{"method":"curveTo","data":[1,1]},{"method":"arc","data":[0,0,-1,0,1]},{"method":"lineTo","data":[9,9,"extra"]}]}]`, 1, 5, 1, nil},
		{"a number beyond float64 is Infinity, not finite", `[{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[1e400,5]}]}]`, 1, 1, 0, nil},
		{"a gradient is skipped", `[{"method":"setFillStyle","data":["linear",[0,0,1,1],[[0,"#fff"]]]},{"method":"fillPath","data":[{"method":"rect","data":[0,0,4,4]}]}]`, 1, 1, 1, &domain.Black},
		{"a colour the canvas cannot parse keeps the style", `[{"method":"setFillStyle","data":["normal","#0000FF"]},{"method":"setFillStyle","data":["normal","bluish"]},{"method":"fillPath","data":[{"method":"rect","data":[0,0,4,4]}]}]`, 3, 0, 1, &domain.Color{B: 255, A: 255}},
		{"a bare [COLOR]", `[{"method":"setFillStyle","data":[[0,255,0]]},{"method":"fillPath","data":[{"method":"rect","data":[0,0,4,4]}]}]`, 2, 0, 1, &domain.Color{G: 255, A: 255}},
		{"a colour array of another shape", `[{"method":"setFillStyle","data":["normal",[0,255]]},{"method":"setFillStyle","data":["normal",[0,255,0,"x"]]},{"method":"setFillStyle","data":["normal",{"r":1}]}]`, 0, 3, 0, nil},
		{"transparent paints nothing", `[{"method":"setStrokeStyle","data":["normal","transparent"]},{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[9,9]}]}]`, 2, 0, 0, nil},
		{"a singular transform paints nothing", `[{"method":"scale","data":[0,1]},{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[9,9]}]}]`, 2, 0, 0, nil},
		{"an overflowing transform paints nothing", `[{"method":"scale","data":[1e300,1e300]},{"method":"scale","data":[1e300,1e300]},{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[9,9]}]}]`, 3, 0, 0, nil},
		{"a moveTo alone paints nothing", `[{"method":"strokePath","data":[{"method":"moveTo","data":[3,3]}]}]`, 1, 0, 0, nil},
		{"a restore too many is ignored", `[{"method":"restore","data":[]}]`, 1, 0, 0, nil},
		{"a clear before anything is drawn changes nothing", `[{"method":"clearRect","data":[0,0,10,10]}]`, 1, 0, 0, nil},
		{"escaped keys and method names are read", `[{"\u006dethod":"fill\u0050ath","data":[{"method":"rect","data":[0,0,4,4]}]}]`, 1, 0, 1, &domain.Black},
		{"the last of duplicate keys wins", `[{"method":"save","method":"fillPath","data":[{"method":"rect","data":[0,0,4,4]}]}]`, 1, 0, 1, &domain.Black},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := interpret(t, tc.text)
			assert.Equal(t, tc.drawn, s.Drawn, "drawn")
			assert.Equal(t, tc.skipped, s.Skipped, "skipped")
			require.Len(t, s.Ops, tc.ops)
			if tc.wantFirstColour != nil {
				assert.Equal(t, *tc.wantFirstColour, s.Ops[0].Color)
			}
		})
	}
}

func TestInterpretActions_SaveRestoreKeepsTheState(t *testing.T) {
	s := interpret(t, `[
		{"method":"setStrokeStyle","data":["normal","#00FF00"]},{"method":"setLineWidth","data":[3]},
		{"method":"save","data":[]},
		{"method":"setStrokeStyle","data":["normal","#FF0000"]},{"method":"setLineWidth","data":[9]},
		{"method":"setLineCap","data":["round"]},{"method":"setLineJoin","data":["bevel"]},{"method":"translate","data":[100,0]},
		{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[10,0]}]},
		{"method":"restore","data":[]},
		{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[10,0]}]}]`)
	require.Len(t, s.Ops, 2)
	in, out := s.Ops[0], s.Ops[1]
	assert.Equal(t, domain.Color{R: 255, A: 255}, in.Color)
	assert.Equal(t, 9.0, in.Width)
	assert.Equal(t, domain.CapRound, in.Cap)
	assert.Equal(t, domain.JoinBevel, in.Join)
	assert.Equal(t, domain.Matrix{A: 1, D: 1, E: 100}, in.Transform)
	assert.Equal(t, domain.Color{G: 255, A: 255}, out.Color)
	assert.Equal(t, 3.0, out.Width)
	assert.Equal(t, domain.CapButt, out.Cap)
	assert.Equal(t, domain.JoinMiter, out.Join)
	assert.Equal(t, domain.Identity, out.Transform)
}

func TestInterpretActions_TransformsCompose(t *testing.T) {
	s := interpret(t, `[{"method":"translate","data":[10,20]},{"method":"scale","data":[2,3]},{"method":"rotate","data":[1.5707963267948966]},
		{"method":"fillPath","data":[{"method":"rect","data":[0,0,1,1]}]}]`)
	require.Len(t, s.Ops, 1)
	m := s.Ops[0].Transform
	// (1, 0) in user space: rotated to (0, 1), scaled to (0, 3), moved to (10, 23).
	p := m.Apply(domain.Point{X: 1, Y: 0})
	inDelta(t, 10, p.X, 1e-12)
	inDelta(t, 23, p.Y, 1e-12)
	// The fill's box is the transformed square: x 10−2·1…10, y 20…23.
	near(t, domain.Rect{MinX: 8, MinY: 20, MaxX: 10, MaxY: 23}, roundRect(s.Bounds))
}

func inDelta(t *testing.T, want, got, delta float64, msgAndArgs ...any) {
	t.Helper()
	if !(math.Abs(want-got) <= delta) {
		msg := ""
		if len(msgAndArgs) > 0 {
			msg = fmt.Sprintf(msgAndArgs[0].(string), msgAndArgs[1:]...)
		}
		t.Errorf("%s: got %v, want %v ± %v", msg, got, want, delta)
	}
}

func roundRect(r domain.Rect) domain.Rect {
	f := func(v float64) float64 { return math.Round(v*1e9) / 1e9 }
	return domain.Rect{MinX: f(r.MinX), MinY: f(r.MinY), MaxX: f(r.MaxX), MaxY: f(r.MaxY)}
}

// TestInterpretActions_ArcSweeps: which way and how far an arc goes, as
// Chromium draws it.
func TestInterpretActions_ArcSweeps(t *testing.T) {
	const pi = math.Pi
	for _, tc := range []struct {
		name       string
		a0, a1     float64
		ccw        bool
		curves     int
		end        domain.Point // on a circle of radius 10 at the origin
		box        domain.Rect  // of the arc's points (no stroke: a fill)
		emptyFill  bool
		turnsWhole bool
	}{
		{name: "quarter clockwise", a0: 0, a1: pi / 2, curves: 1, end: domain.Point{X: 0, Y: 10}, box: domain.Rect{MinX: 0, MinY: 0, MaxX: 10, MaxY: 10}},
		{name: "three quarters anticlockwise", a0: 0, a1: pi / 2, ccw: true, curves: 3, end: domain.Point{X: 0, Y: 10}, box: domain.Rect{MinX: -10, MinY: -10, MaxX: 10, MaxY: 10}},
		{name: "clockwise from a larger start: the lower half", a0: pi, a1: 0, curves: 2, end: domain.Point{X: 10, Y: 0}, box: domain.Rect{MinX: -10, MinY: -10, MaxX: 10, MaxY: 0}},
		{name: "a whole turn or more is a full circle", a0: 0, a1: 20, curves: 4, end: domain.Point{X: 10, Y: 0}, box: domain.Rect{MinX: -10, MinY: -10, MaxX: 10, MaxY: 10}},
		{name: "anticlockwise beyond a turn too", a0: 5, a1: -3, ccw: true, curves: 4, end: domain.Point{X: 10 * math.Cos(5), Y: 10 * math.Sin(5)}, box: domain.Rect{MinX: -10, MinY: -10, MaxX: 10, MaxY: 10}},
		{name: "clockwise by whole turns backwards is a full circle (Chromium)", a0: 2 * pi, a1: 0, curves: 4, end: domain.Point{X: 10, Y: 0}, box: domain.Rect{MinX: -10, MinY: -10, MaxX: 10, MaxY: 10}},
		{name: "no sweep", a0: 1, a1: 1, curves: 0, emptyFill: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := fmt.Sprintf(`[{"method":"fillPath","data":[{"method":"moveTo","data":[0,0]},{"method":"arc","data":[0,0,10,%v,%v,%v]},{"method":"closePath"}]}]`, tc.a0, tc.a1, tc.ccw)
			s := interpret(t, text)
			if tc.emptyFill {
				assert.Empty(t, s.Ops, "a line there and back fills nothing")
				return
			}
			require.Len(t, s.Ops, 1)
			p := s.Ops[0].Path
			curves := 0
			for _, v := range p.Verbs {
				if v == domain.CubicTo {
					curves++
				}
			}
			assert.Equal(t, tc.curves, curves)
			end := p.Points[len(p.Points)-1]
			inDelta(t, tc.end.X, end.X, 1e-9)
			inDelta(t, tc.end.Y, end.Y, 1e-9)
			// A Bézier quarter circle bulges out by 0.027 % of the radius.
			for _, v := range [][2]float64{{tc.box.MinX, s.Bounds.MinX}, {tc.box.MinY, s.Bounds.MinY}, {tc.box.MaxX, s.Bounds.MaxX}, {tc.box.MaxY, s.Bounds.MaxY}} {
				inDelta(t, v[0], v[1], 0.003, "bounds %+v, want %+v", s.Bounds, tc.box)
			}
		})
	}
}

func TestInterpretActions_StrokeBounds(t *testing.T) {
	path := `{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[%s]},{"method":"lineTo","data":[%s]}]}`
	for _, tc := range []struct {
		name  string
		state string
		p1    string
		p2    string
		want  domain.Rect
	}{
		{"round caps: half the width around", `{"method":"setLineCap","data":["round"]}`, "10,0", "10,0", domain.Rect{MinX: -2, MinY: -2, MaxX: 12, MaxY: 2}},
		// Square caps reach half the width beyond each end, and as far across.
		{"square caps", `{"method":"setLineCap","data":["square"]}`, "10,0", "10,0", domain.Rect{MinX: -2, MinY: -2, MaxX: 12, MaxY: 2}},
		// A right angle's miter tip is √2·2 from the corner, at (12, -2).
		{"a miter within the limit", `{"method":"setLineJoin","data":["miter"]}`, "10,0", "10,10", domain.Rect{MinX: -2, MinY: -2, MaxX: 12, MaxY: 12}},
		// Back almost onto itself: the miter would be over 10 half-widths long, so beveled.
		{"a miter beyond the limit is beveled", `{"method":"setLineJoin","data":["miter"]}`, "100,0", "0,1", domain.Rect{MinX: -2, MinY: -2, MaxX: 102, MaxY: 3}},
		// 16.7°: a miter 6.9 half-widths long, along the bisector.
		{"a sharp miter within the limit reaches far", `{"method":"setLineJoin","data":["miter"]}`, "100,0", "0,30", domain.Rect{MinX: -2, MinY: -2, MaxX: 100 + 2/math.Tan(math.Atan2(30, 100)/2), MaxY: 32}},
		{"the pen is transformed", `{"method":"scale","data":[2,1]}`, "10,0", "10,0", domain.Rect{MinX: -4, MinY: -2, MaxX: 24, MaxY: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := interpret(t, `[{"method":"setLineWidth","data":[4]},`+tc.state+`,`+fmt.Sprintf(path, tc.p1, tc.p2)+`]`)
			require.Len(t, s.Ops, 1)
			got := s.Bounds
			// The miter's far tip: compare loosely, it is computed along the bisector.
			inDelta(t, tc.want.MinX, got.MinX, 1e-6, "MinX")
			inDelta(t, tc.want.MinY, got.MinY, 1e-6, "MinY")
			inDelta(t, tc.want.MaxX, got.MaxX, 1e-6, "MaxX")
			inDelta(t, tc.want.MaxY, got.MaxY, 1e-6, "MaxY")
		})
	}

	t.Run("a dot: butt caps paint nothing, round and square caps do", func(t *testing.T) {
		dot := `{"method":"strokePath","data":[{"method":"moveTo","data":[5,5]},{"method":"lineTo","data":[5,5]}]}`
		assert.Empty(t, interpret(t, `[{"method":"setLineWidth","data":[4]},`+dot+`]`).Ops)
		s := interpret(t, `[{"method":"setLineWidth","data":[4]},{"method":"setLineCap","data":["round"]},`+dot+`]`)
		near(t, domain.Rect{MinX: 3, MinY: 3, MaxX: 7, MaxY: 7}, s.Bounds)
		s = interpret(t, `[{"method":"setLineWidth","data":[4]},{"method":"setLineCap","data":["square"]},`+dot+`]`)
		near(t, domain.Rect{MinX: 3, MinY: 3, MaxX: 7, MaxY: 7}, s.Bounds)
	})
}

func TestInterpretActions_ClosePathAndRect(t *testing.T) {
	s := interpret(t, `[{"method":"strokePath","data":[
		{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[10,0]},{"method":"closePath"},{"method":"lineTo","data":[0,10]},
		{"method":"rect","data":[20,20,5,5]},{"method":"lineTo","data":[30,40]}]}]`)
	require.Len(t, s.Ops, 1)
	p := s.Ops[0].Path
	assert.Equal(t, []domain.Verb{
		domain.MoveTo, domain.LineTo, domain.Close, // closed...
		domain.MoveTo, domain.LineTo, // ...and a new sub-path from its start
		domain.MoveTo, domain.LineTo, domain.LineTo, domain.LineTo, domain.Close, // the rect
		domain.MoveTo, domain.LineTo, // a new sub-path at the rect's corner
	}, p.Verbs)
	assert.Equal(t, []domain.Point{{0, 0}, {10, 0}, {0, 0}, {0, 10}, {20, 20}, {25, 20}, {25, 25}, {20, 25}, {20, 20}, {30, 40}}, p.Points)
}

func TestInterpretActions_Refused(t *testing.T) {
	line := func(x string) string {
		return `[{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[` + x + `,0]}]}]`
	}
	many := func(n int, el string) string {
		return `[{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]}` + strings.Repeat(","+el, n) + `]}]`
	}
	for _, tc := range []struct {
		name, text, message string
	}{
		{"not JSON", `[{"method":`, "not valid JSON"},
		{"deep nesting", strings.Repeat("[", 100000) + strings.Repeat("]", 100000), "nest deeper than 8"},
		{"deep nesting in an unknown method", `[{"method":"x","data":[[[[[[[[1]]]]]]]]}]`, "nest deeper than 8"},
		{"a key in another letter case", `[{"Method":"save","data":[]}]`, `"Method"`},
		{"an escaped key in another letter case", `[{"method":"strokePath","data":[{"method":"moveTo","\u0044ata":[1,1]}]}]`, `"Data"`},
		{"a point beyond the canvas", line("1e308"), "beyond ±10000000"},
		{"a point beyond the canvas after the transform", `[{"method":"scale","data":[1e10,1e10]},` + line("1e10")[1:], "beyond ±10000000"},
		{"a huge line width", `[{"method":"setLineWidth","data":[1e308]},` + line("10")[1:], "line width"},
		{"a stroke under a needle-thin transform", `[{"method":"scale","data":[1,1e-5]},` + line("10")[1:], "stretches"},
		{"too many path elements", many(domain.MaxPathVerbs+1, `{"method":"closePath"}`), "more than 250000 path commands"},
		{"too many path commands", many(domain.MaxPathVerbs/5+1, `{"method":"arc","data":[0,0,1,0,7]}`), "more than 250000 path commands"},
		{"too many saves", "[" + strings.Repeat(`{"method":"save","data":[]},`, domain.MaxSaveDepth) + `{"method":"save","data":[]}]`, "saves nest deeper"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := domain.InterpretActions(tc.text)
			require.Error(t, err)
			assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
			assert.Contains(t, domain.ErrorMessage(err), tc.message)
		})
	}
}

func TestInterpretActions_AMillionPointsAreRefusedEarly(t *testing.T) {
	// 1,000,000 points: more than any action list of 1 MiB holds; refused
	// at the path-command limit before they are decoded.
	text := `[{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]}` +
		strings.Repeat(`,{"method":"lineTo","data":[375,600]},{"method":"lineTo","data":[0,0]}`, 500_000) + `]}]`
	_, err := domain.InterpretActions(text)
	require.Error(t, err)
	assert.Contains(t, domain.ErrorMessage(err), "path commands")
}

func TestScene_Raster(t *testing.T) {
	wide := interpret(t, `[{"method":"fillPath","data":[{"method":"rect","data":[0,0,100,50]}]}]`)
	// The view: 2 % of 100 on every side → 104 × 54.
	near(t, domain.Rect{MinX: -2, MinY: -2, MaxX: 102, MaxY: 52}, roundRect(wide.View()))
	r, err := wide.Raster(208)
	require.NoError(t, err)
	assert.Equal(t, 208, r.Width)
	assert.Equal(t, 108, r.Height)
	inDelta(t, 2.0, r.Scale, 1e-12)
	p := r.ToImage().Apply(domain.Point{X: -2, Y: -2})
	inDelta(t, 0, p.X, 1e-12)
	inDelta(t, 0, p.Y, 1e-12)

	tall := interpret(t, `[{"method":"fillPath","data":[{"method":"rect","data":[0,0,10,1000]}]}]`)
	r, err = tall.Raster(1024)
	require.NoError(t, err)
	assert.Equal(t, domain.MaxRenderHeight, r.Height, "a tall drawing is capped in height")
	assert.True(t, r.Width < 1024, "and made narrower to keep its aspect")
	inDelta(t, tall.View().Height()/tall.View().Width(), float64(r.Height)/float64(r.Width), 0.5)

	empty := interpret(t, `[]`)
	r, err = empty.Raster(512)
	require.NoError(t, err)
	assert.Equal(t, domain.Raster{Width: 16, Height: 16, Scale: 1, View: domain.Rect{MaxX: 16, MaxY: 16}}, r)

	for _, w := range []int{0, 15, 1025} {
		_, err := wide.Raster(w)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err), "w=%d", w)
	}
}

func TestScene_RasterRefusesTooMuchWork(t *testing.T) {
	// 3,000 thick strokes from corner to corner: each covers the whole
	// image's box, a billion pixel blends at w=1024.
	var b strings.Builder
	b.WriteString(`[{"method":"setLineWidth","data":[40]}`)
	for i := 0; i < 3000; i++ {
		b.WriteString(`,{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[1000,1000]}]}`)
	}
	b.WriteString(`]`)
	s := interpret(t, b.String())
	_, err := s.Raster(1024)
	require.Error(t, err)
	assert.Equal(t, domain.ETOOLARGE, domain.ErrorCode(err))
	_, err = s.Raster(64)
	assert.NoError(t, err, "a small enough render is allowed")
}

func TestParseCSSColor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want domain.Color
		ok   bool
	}{
		{"#F00", domain.Color{255, 0, 0, 255}, true},
		{"#0f08", domain.Color{0, 255, 0, 136}, true},
		{"#8A2BE2", domain.Color{138, 43, 226, 255}, true},
		{"#FFA50080", domain.Color{255, 165, 0, 128}, true},
		{"#12345", domain.Color{}, false},
		{"#GGGGGG", domain.Color{}, false},
		{"rgb(138, 43, 226)", domain.Color{138, 43, 226, 255}, true},
		{"rgba(0,128,0,0.5)", domain.Color{0, 128, 0, 128}, true},
		{"RGBA(255, 0, 255, .3)", domain.Color{255, 0, 255, 77}, true},
		{"rgb(255 0 0 / 50%)", domain.Color{255, 0, 0, 128}, true},
		{"rgb(100%, 64.7%, 0%)", domain.Color{255, 165, 0, 255}, true},
		{"rgb(300, -20, 127.6)", domain.Color{255, 0, 128, 255}, true},
		{"rgb(50% 10 none)", domain.Color{128, 10, 0, 255}, true},
		{"rgb(100%, 0, 0)", domain.Color{}, false}, // the comma syntax does not mix numbers and percentages
		{"rgb(1 2)", domain.Color{}, false},
		{"rgb(1, 2, 3,)", domain.Color{}, false},
		{"rgb(1 2 3 / 4 / 5)", domain.Color{}, false},
		{"rgb(1e2, 0, 0)", domain.Color{100, 0, 0, 255}, true},
		{"rgb(1e999, 0, 0)", domain.Color{255, 0, 0, 255}, true},
		{"hsl(240, 100%, 50%)", domain.Color{0, 0, 255, 255}, true},
		{"hsla(120deg 100% 25% / 0.7)", domain.Color{0, 128, 0, 179}, true},
		{"hsl(0.5turn 100% 50%)", domain.Color{0, 255, 255, 255}, true},
		{"hsl(3.14159265rad, 100%, 50%)", domain.Color{0, 255, 255, 255}, true},
		{"hsl(60 100 50)", domain.Color{255, 255, 0, 255}, true},
		{"hsl(60, 100, 50)", domain.Color{}, false},
		{"hsl(-120, 100%, 50%)", domain.Color{0, 0, 255, 255}, true},
		{"rebeccapurple", domain.Color{102, 51, 153, 255}, true},
		{"DarkOrange", domain.Color{255, 140, 0, 255}, true},
		{" teal ", domain.Color{0, 128, 128, 255}, true},
		{"transparent", domain.Color{}, true},
		{"currentColor", domain.Color{0, 0, 0, 255}, true},
		{"blac\u212a", domain.Color{}, false}, // the Kelvin sign is not a k in CSS
		{"lab(50% 40 59)", domain.Color{}, false},
		{"", domain.Color{}, false},
		{strings.Repeat("a", 10000), domain.Color{}, false},
	} {
		got, ok := domain.ParseCSSColor(tc.in)
		assert.Equal(t, tc.ok, ok, "%q", tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
}

func TestParseCSSColor_EveryNamedColour(t *testing.T) {
	// CSS Color 4 lists 148 names (grey and gray spellings both).
	n := 0
	for _, name := range strings.Fields(namedColours) {
		_, ok := domain.ParseCSSColor(name)
		assert.True(t, ok, name)
		n++
	}
	assert.Equal(t, 148, n)
}

const namedColours = `aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue blueviolet brown
burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk crimson cyan darkblue darkcyan darkgoldenrod
darkgray darkgreen darkgrey darkkhaki darkmagenta darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen
darkslateblue darkslategray darkslategrey darkturquoise darkviolet deeppink deepskyblue dimgray dimgrey dodgerblue
firebrick floralwhite forestgreen fuchsia gainsboro ghostwhite gold goldenrod gray green greenyellow grey honeydew
hotpink indianred indigo ivory khaki lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan
lightgoldenrodyellow lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen lightskyblue lightslategray
lightslategrey lightsteelblue lightyellow lime limegreen linen magenta maroon mediumaquamarine mediumblue mediumorchid
mediumpurple mediumseagreen mediumslateblue mediumspringgreen mediumturquoise mediumvioletred midnightblue mintcream
mistyrose moccasin navajowhite navy oldlace olive olivedrab orange orangered orchid palegoldenrod palegreen
paleturquoise palevioletred papayawhip peachpuff peru pink plum powderblue purple rebeccapurple red rosybrown
royalblue saddlebrown salmon sandybrown seagreen seashell sienna silver skyblue slateblue slategray slategrey snow
springgreen steelblue tan teal thistle tomato turquoise violet wheat white whitesmoke yellow yellowgreen`

// FuzzInterpretActions: any text either is refused with EINVALID or gives a
// scene within the limits whose raster is sized or refused; never a panic.
// And the interpretation is a function of the JSON value as JavaScript
// reads it: the same value re-encoded (keys reordered, escapes undone)
// gives the same scene.
//
// `go test` runs the seeds; to fuzz: go test -run '^$' -fuzz FuzzInterpretActions -fuzztime 60s ./domain/
func FuzzInterpretActions(f *testing.F) {
	for _, s := range []string{
		`[]`, `{}`, `[1,null,"x",[2]]`,
		"[" + seedStroke("#FF0000", 5, [2]float64{10, 20}, [2]float64{90, 20}, [2]float64{40, 60}) + "]",
		`[{"method":"setLineCap","data":["round"]},{"method":"strokePath","data":[{"method":"arc","data":[5,5,3,0,7,true]},{"method":"quadraticCurveTo","data":[1,2,3,4]},{"method":"bezierCurveTo","data":[1,2,3,4,5,6]},{"method":"closePath"}]}]`,
		`[{"method":"translate","data":[5,5]},{"method":"rotate","data":[1]},{"method":"scale","data":[2,-1]},{"method":"fillPath","data":[{"method":"rect","data":[0,0,3,3]}]},{"method":"clearRect","data":[1,1,1,1]}]`,
		`[{"method":"setFillStyle","data":["normal","hsl(120 50% 50% / 0.5)"]},{"method":"fillPath","data":[{"method":"rect","data":[1e7,1e7,1,1]}]}]`,
		`[{"method":"setLineWidth","data":[1e6]},{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[0,0]}]}]`,
		`[{"Method":"save"}]`, `[[[[[[[[[[]]]]]]]]]]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := domain.InterpretActions(text)
		if err != nil {
			if c := domain.ErrorCode(err); c != domain.EINVALID {
				t.Fatalf("error code %s: %v", c, err)
			}
			return
		}
		checkScene(t, s)
		if _, err := s.Raster(256); err != nil && domain.ErrorCode(err) != domain.ETOOLARGE {
			t.Fatalf("raster: %v", err)
		}
		var v any
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber() // numbers as written: 1e400 stays Infinity for the interpreter
		if dec.Decode(&v) != nil {
			t.Fatalf("a scene from text that is not JSON: %q", text)
		}
		again, err := json.Marshal(v)
		if err != nil {
			return
		}
		s2, err := domain.InterpretActions(string(again))
		if err != nil {
			if strings.Contains(err.Error(), "deeper") || strings.Contains(err.Error(), "key") {
				return // re-encoding can surface what escapes or depth hid; both refusals
			}
			t.Fatalf("re-encoded %s refused: %v", again, err)
		}
		if s.Drawn != s2.Drawn || s.Skipped != s2.Skipped || len(s.Ops) != len(s2.Ops) || s.Bounds != s2.Bounds {
			t.Fatalf("%q and its re-encoding %s differ: %d/%d/%d %+v vs %d/%d/%d %+v", text, again,
				s.Drawn, s.Skipped, len(s.Ops), s.Bounds, s2.Drawn, s2.Skipped, len(s2.Ops), s2.Bounds)
		}
	})
}

func checkScene(t *testing.T, s *domain.Scene) {
	t.Helper()
	within := func(r domain.Rect) bool {
		for _, v := range [...]float64{r.MinX, r.MinY, r.MaxX, r.MaxY} {
			if !(math.Abs(v) <= 2*domain.MaxCoordinate) {
				return false
			}
		}
		return true
	}
	if !s.Bounds.IsEmpty() && !within(s.Bounds) {
		t.Fatalf("bounds %+v beyond the limit", s.Bounds)
	}
	verbs := 0
	for _, op := range s.Ops {
		verbs += len(op.Path.Verbs)
		if op.Bounds.IsEmpty() || !within(op.Bounds) {
			t.Fatalf("op bounds %+v", op.Bounds)
		}
		if op.Kind != domain.OpClear && (s.Bounds.Union(op.Bounds) != s.Bounds) {
			t.Fatalf("op %+v outside the scene's bounds %+v", op.Bounds, s.Bounds)
		}
		if op.Kind == domain.OpStroke && !(op.Width > 0) {
			t.Fatalf("stroke width %v", op.Width)
		}
	}
	if verbs > domain.MaxPathVerbs {
		t.Fatalf("%d verbs", verbs)
	}
}
