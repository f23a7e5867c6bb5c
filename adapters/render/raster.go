// Package render draws a drawing's scene (domain.Scene, PROTOCOL §7.1) as a
// PNG or an SVG: the ports.Renderer of the service. Strokes — caps, joins,
// the miter limit — are github.com/srwiley/rasterx's stroker, and scan
// conversion with anti-aliasing is golang.org/x/image/vector's rasterizer;
// this package only feeds them the scene in the right coordinates and
// writes the SVG text.
//
// The browser test (tests/browser/render.test.js) holds the PNG to what
// Chromium's canvas draws from the same actions.
package render

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"sync"

	"github.com/srwiley/rasterx"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.Renderer = (*Renderer)(nil)

// Renderer draws scenes; it is safe for concurrent use. The zero value is
// ready.
type Renderer struct {
	encoders png.EncoderBufferPool
}

// New returns a Renderer.
func New() *Renderer { return &Renderer{encoders: &encoderPool{}} }

// PNG writes s rasterized into r as a PNG (opaque, white background).
// Errors: EINTERNAL when the rasterizer fails (a bug; logged by the
// caller) and whatever w returns.
func (rd *Renderer) PNG(w io.Writer, s *domain.Scene, r domain.Raster) error {
	img, err := rd.Rasterize(s, r)
	if err != nil {
		return err
	}
	pool := rd.encoders
	if pool == nil {
		pool = sharedEncoders
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: pool}
	bw := bufio.NewWriterSize(w, 32<<10)
	if err := enc.Encode(bw, img); err != nil {
		return err
	}
	return bw.Flush()
}

var sharedEncoders = &encoderPool{}

type encoderPool struct{ p sync.Pool }

func (e *encoderPool) Get() *png.EncoderBuffer {
	b, _ := e.p.Get().(*png.EncoderBuffer)
	return b
}
func (e *encoderPool) Put(b *png.EncoderBuffer) { e.p.Put(b) }

// Rasterize paints s into a new image of r's size: white, then every
// operation in order.
// Errors: EINTERNAL when the rasterizer fails.
func (rd *Renderer) Rasterize(s *domain.Scene, r domain.Raster) (img *image.RGBA, err error) {
	if r.Width < 1 || r.Height < 1 || r.Width > domain.MaxRenderWidth || r.Height > domain.MaxRenderHeight {
		return nil, domain.Errorf(domain.EINVALID, "A raster of %d×%d pixels is out of bounds.", r.Width, r.Height)
	}
	img = image.NewRGBA(image.Rect(0, 0, r.Width, r.Height))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	// The libraries do not panic on any input the domain lets through (the
	// fuzz test holds them to it); should one, the request fails alone.
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, domain.Wrap(domain.EINTERNAL, fmt.Errorf("rasterizer panic: %v", p), "The drawing could not be rendered.")
		}
	}()
	sc := &scanner{dst: img}
	stroker := rasterx.NewStroker(r.Width, r.Height, sc)
	toImage := r.ToImage()
	for i := range s.Ops {
		op := &s.Ops[i]
		m := toImage.Mul(op.Transform)
		switch op.Kind {
		case domain.OpStroke:
			sc.paint(op.Color, draw.Over)
			strokeOp(stroker, sc, op, m)
		case domain.OpFill:
			sc.paint(op.Color, draw.Over)
			fillOp(sc, op, m)
		case domain.OpClear:
			// Clearing to the white background is painting it white: on an
			// opaque image both give the same pixels. Chromium clears
			// without anti-aliasing (a pixel is cleared when its centre is
			// inside), and so does the scanner here.
			sc.paint(domain.Color{R: 255, G: 255, B: 255, A: 255}, draw.Over)
			sc.aliased = true
			clearOp(sc, op, m, r)
		}
		sc.Draw()
		sc.Clear()
		sc.aliased = false
	}
	return img, nil
}

// maxStrokeSegment is the longest segment fed to the stroker, in its
// pixels: rasterx multiplies segment vectors in 26.6 fixed point (int32),
// which overflows for segments longer than about 700 pixels and turns
// joins into spikes. Cutting a line into collinear pieces changes nothing
// drawn.
const maxStrokeSegment = 256

// strokeOp strokes op's path. The stroker works in a space where the pen
// is round: q = k·p + c for user-space p, with k = √|det| of the
// transform's linear part L, so that the image point is U·q with U = L/k
// (a rotation for a similarity transform, determinant ±1 in general). The
// scanner applies U.
func strokeOp(st *rasterx.Stroker, sc *scanner, op *domain.Op, m domain.Matrix) {
	det := m.Det()
	k := math.Sqrt(math.Abs(det))
	width := op.Width * k
	if width < 2.0/64 {
		return // thinner than rasterx's precision: no visible coverage
	}
	u := domain.Matrix{A: m.A / k, B: m.B / k, C: m.C / k, D: m.D / k}
	// c = U⁻¹·t
	inv := 1 / (u.A*u.D - u.B*u.C)
	c := domain.Point{X: (u.D*m.E - u.C*m.F) * inv, Y: (-u.B*m.E + u.A*m.F) * inv}
	sc.m = u
	toQ := func(p domain.Point) fixed.Point26_6 {
		return fix(domain.Point{X: k*p.X + c.X, Y: k*p.Y + c.Y})
	}
	var capFn rasterx.CapFunc
	switch op.Cap {
	case domain.CapRound:
		capFn = rasterx.RoundCap
	case domain.CapSquare:
		capFn = rasterx.SquareCap
	default:
		capFn = rasterx.ButtCap
	}
	join := rasterx.Miter
	switch op.Join {
	case domain.JoinRound:
		join = rasterx.Round
	case domain.JoinBevel:
		join = rasterx.Bevel
	}
	st.SetStroke(fixed.Int26_6(width*64), domain.MiterLimit<<6, capFn, nil, nil, join)

	pts := op.Path.Points
	j := 0
	var cur, start domain.Point
	open := false
	for _, v := range op.Path.Verbs {
		switch v {
		case domain.MoveTo:
			if open {
				st.Stop(false)
			}
			start, cur = pts[j], pts[j]
			st.Start(toQ(start))
			open = true
			j++
		case domain.LineTo:
			lineTo(st, toQ, k, cur, pts[j])
			cur = pts[j]
			j++
		case domain.QuadTo:
			p0, p1, p2 := cur, pts[j], pts[j+1]
			// A quadratic is the cubic with controls two thirds toward it.
			c1 := domain.Point{X: p0.X + 2.0/3*(p1.X-p0.X), Y: p0.Y + 2.0/3*(p1.Y-p0.Y)}
			c2 := domain.Point{X: p2.X + 2.0/3*(p1.X-p2.X), Y: p2.Y + 2.0/3*(p1.Y-p2.Y)}
			cubicTo(st, toQ, k, p0, c1, c2, p2, 0)
			cur = p2
			j += 2
		case domain.CubicTo:
			cubicTo(st, toQ, k, cur, pts[j], pts[j+1], pts[j+2], 0)
			cur = pts[j+2]
			j += 3
		case domain.Close:
			if cur != start {
				lineTo(st, toQ, k, cur, start)
			}
			st.Stop(true)
			open = false
			cur = start
		}
	}
	if open {
		st.Stop(false)
	}
}

// lineTo feeds a line to the stroker in pieces of at most maxStrokeSegment.
func lineTo(st *rasterx.Stroker, toQ func(domain.Point) fixed.Point26_6, k float64, a, b domain.Point) {
	n := int(math.Ceil(math.Hypot(b.X-a.X, b.Y-a.Y) * k / maxStrokeSegment))
	for i := 1; i < n; i++ {
		t := float64(i) / float64(n)
		st.Line(toQ(domain.Point{X: a.X + t*(b.X-a.X), Y: a.Y + t*(b.Y-a.Y)}))
	}
	st.Line(toQ(b))
}

// cubicTo feeds a cubic to the stroker, halved until its control polygon
// is shorter than maxStrokeSegment (or 16 halvings deep).
func cubicTo(st *rasterx.Stroker, toQ func(domain.Point) fixed.Point26_6, k float64, p0, p1, p2, p3 domain.Point, depth int) {
	l := (math.Hypot(p1.X-p0.X, p1.Y-p0.Y) + math.Hypot(p2.X-p1.X, p2.Y-p1.Y) + math.Hypot(p3.X-p2.X, p3.Y-p2.Y)) * k
	if l > maxStrokeSegment && depth < 16 {
		mid := func(a, b domain.Point) domain.Point { return domain.Point{X: (a.X + b.X) / 2, Y: (a.Y + b.Y) / 2} }
		a, b, c := mid(p0, p1), mid(p1, p2), mid(p2, p3)
		d, e := mid(a, b), mid(b, c)
		f := mid(d, e)
		cubicTo(st, toQ, k, p0, a, d, f, depth+1)
		cubicTo(st, toQ, k, f, e, c, p3, depth+1)
		return
	}
	st.CubeBezier(toQ(p1), toQ(p2), toQ(p3))
}

// fillOp fills op's path (every sub-path closed) with non-zero winding,
// straight into the scanner in image pixels.
func fillOp(sc *scanner, op *domain.Op, m domain.Matrix) {
	sc.m = domain.Identity
	pts := op.Path.Points
	j := 0
	open := false // x/image/vector does not close a sub-path by itself
	for _, v := range op.Path.Verbs {
		switch v {
		case domain.MoveTo:
			if open {
				sc.close()
			}
			sc.moveTo(m.Apply(pts[j]))
			open = true
			j++
		case domain.LineTo:
			sc.lineTo(m.Apply(pts[j]))
			j++
		case domain.QuadTo:
			sc.quadTo(m.Apply(pts[j]), m.Apply(pts[j+1]))
			j += 2
		case domain.CubicTo:
			sc.cubeTo(m.Apply(pts[j]), m.Apply(pts[j+1]), m.Apply(pts[j+2]))
			j += 3
		case domain.Close:
			sc.close()
			open = false
		}
	}
	if open {
		sc.close()
	}
}

// clearOp fills the cleared rectangle, clipped to the image first: it may
// reach far beyond it, where float32 coordinates lose precision.
func clearOp(sc *scanner, op *domain.Op, m domain.Matrix, r domain.Raster) {
	sc.m = domain.Identity
	poly := make([]domain.Point, 0, 8)
	for _, p := range op.Path.Points {
		poly = append(poly, m.Apply(p))
	}
	lo, hiX, hiY := -1.0, float64(r.Width)+1, float64(r.Height)+1
	poly = clip(poly, func(p domain.Point) float64 { return p.X - lo })
	poly = clip(poly, func(p domain.Point) float64 { return hiX - p.X })
	poly = clip(poly, func(p domain.Point) float64 { return p.Y - lo })
	poly = clip(poly, func(p domain.Point) float64 { return hiY - p.Y })
	if len(poly) < 3 {
		return
	}
	sc.moveTo(poly[0])
	for _, p := range poly[1:] {
		sc.lineTo(p)
	}
	sc.close()
}

// clip keeps the part of a convex polygon where inside(p) ≥ 0
// (Sutherland–Hodgman against one edge).
func clip(poly []domain.Point, inside func(domain.Point) float64) []domain.Point {
	out := make([]domain.Point, 0, len(poly)+1)
	for i, p := range poly {
		q := poly[(i+1)%len(poly)]
		dp, dq := inside(p), inside(q)
		if dp >= 0 {
			out = append(out, p)
		}
		if (dp >= 0) != (dq >= 0) {
			t := dp / (dp - dq)
			out = append(out, domain.Point{X: p.X + t*(q.X-p.X), Y: p.Y + t*(q.Y-p.Y)})
		}
	}
	return out
}

func fix(p domain.Point) fixed.Point26_6 {
	return fixed.Point26_6{X: fixed.Int26_6(math.Round(p.X * 64)), Y: fixed.Int26_6(math.Round(p.Y * 64))}
}

// scanner is a rasterx.Scanner that maps the stroker's points through m
// into image pixels and scan-converts each operation with
// x/image/vector over that operation's bounding box only (rasterx's own
// ScannerGV accumulates the whole image for every path).
type scanner struct {
	dst  *image.RGBA
	m    domain.Matrix // stroker space → image pixels (linear part only is used with rasterx)
	r    vector.Rasterizer
	src  image.Uniform
	op   draw.Op
	cmds []cmd
	pts  []float32
	box  domain.Rect
	any  bool
	// aliased paints whole pixels: those at least half covered.
	aliased bool
	mask    image.Alpha
}

type cmd uint8

const (
	cmdMove cmd = iota
	cmdLine
	cmdQuad
	cmdCube
	cmdClose
)

var _ rasterx.Scanner = (*scanner)(nil)

func (s *scanner) paint(c domain.Color, op draw.Op) {
	s.src.C = color.NRGBA{R: c.R, G: c.G, B: c.B, A: c.A}
	s.op = op
}

func (s *scanner) point(p domain.Point) {
	if !s.any {
		s.box, s.any = domain.Rect{MinX: p.X, MinY: p.Y, MaxX: p.X, MaxY: p.Y}, true
	} else {
		s.box = domain.Rect{MinX: math.Min(s.box.MinX, p.X), MinY: math.Min(s.box.MinY, p.Y), MaxX: math.Max(s.box.MaxX, p.X), MaxY: math.Max(s.box.MaxY, p.Y)}
	}
	s.pts = append(s.pts, float32(p.X), float32(p.Y))
}

func (s *scanner) moveTo(p domain.Point) { s.cmds = append(s.cmds, cmdMove); s.point(p) }
func (s *scanner) lineTo(p domain.Point) { s.cmds = append(s.cmds, cmdLine); s.point(p) }
func (s *scanner) quadTo(b, c domain.Point) {
	s.cmds = append(s.cmds, cmdQuad)
	s.point(b)
	s.point(c)
}
func (s *scanner) cubeTo(b, c, d domain.Point) {
	s.cmds = append(s.cmds, cmdCube)
	s.point(b)
	s.point(c)
	s.point(d)
}
func (s *scanner) close() { s.cmds = append(s.cmds, cmdClose) }

func (s *scanner) fromFixed(a fixed.Point26_6) domain.Point {
	x, y := float64(a.X)/64, float64(a.Y)/64
	return domain.Point{X: s.m.A*x + s.m.C*y, Y: s.m.B*x + s.m.D*y}
}

// Start, Line: the stroker's outline (rasterx.Scanner).
func (s *scanner) Start(a fixed.Point26_6) { s.moveTo(s.fromFixed(a)) }
func (s *scanner) Line(b fixed.Point26_6)  { s.lineTo(s.fromFixed(b)) }

// Draw scan-converts what was added since Clear onto the image.
func (s *scanner) Draw() {
	if !s.any {
		return
	}
	b := s.dst.Bounds()
	// Curve control points bound the curves; one pixel more for coverage.
	rect := image.Rect(
		int(math.Max(math.Floor(s.box.MinX)-1, float64(b.Min.X))), int(math.Max(math.Floor(s.box.MinY)-1, float64(b.Min.Y))),
		int(math.Min(math.Ceil(s.box.MaxX)+1, float64(b.Max.X))), int(math.Min(math.Ceil(s.box.MaxY)+1, float64(b.Max.Y))),
	)
	if rect.Empty() {
		return
	}
	s.r.Reset(rect.Dx(), rect.Dy())
	s.r.DrawOp = s.op
	ox, oy := float32(rect.Min.X), float32(rect.Min.Y)
	p := s.pts
	for _, c := range s.cmds {
		switch c {
		case cmdMove:
			s.r.MoveTo(p[0]-ox, p[1]-oy)
			p = p[2:]
		case cmdLine:
			s.r.LineTo(p[0]-ox, p[1]-oy)
			p = p[2:]
		case cmdQuad:
			s.r.QuadTo(p[0]-ox, p[1]-oy, p[2]-ox, p[3]-oy)
			p = p[4:]
		case cmdCube:
			s.r.CubeTo(p[0]-ox, p[1]-oy, p[2]-ox, p[3]-oy, p[4]-ox, p[5]-oy)
			p = p[6:]
		case cmdClose:
			s.r.ClosePath()
		}
	}
	if !s.aliased {
		s.r.Draw(s.dst, rect, &s.src, image.Point{})
		return
	}
	n := rect.Dx() * rect.Dy()
	if cap(s.mask.Pix) < n {
		s.mask.Pix = make([]uint8, n)
	}
	s.mask.Pix, s.mask.Stride, s.mask.Rect = s.mask.Pix[:n], rect.Dx(), image.Rect(0, 0, rect.Dx(), rect.Dy())
	s.r.DrawOp = draw.Src
	s.r.Draw(&s.mask, s.mask.Rect, image.Opaque, image.Point{})
	r, g, bl, a := s.src.C.RGBA()
	for y := 0; y < rect.Dy(); y++ {
		for x := 0; x < rect.Dx(); x++ {
			if s.mask.Pix[y*s.mask.Stride+x] >= 0x80 {
				i := s.dst.PixOffset(rect.Min.X+x, rect.Min.Y+y)
				s.dst.Pix[i], s.dst.Pix[i+1], s.dst.Pix[i+2], s.dst.Pix[i+3] = uint8(r>>8), uint8(g>>8), uint8(bl>>8), uint8(a>>8)
			}
		}
	}
}

// Clear forgets the path (rasterx.Scanner).
func (s *scanner) Clear() {
	s.cmds, s.pts, s.any = s.cmds[:0], s.pts[:0], false
}

// GetPathExtent returns the bounds of the path so far, in image pixels.
func (s *scanner) GetPathExtent() fixed.Rectangle26_6 {
	return fixed.Rectangle26_6{
		Min: fix(domain.Point{X: s.box.MinX, Y: s.box.MinY}),
		Max: fix(domain.Point{X: s.box.MaxX, Y: s.box.MaxY}),
	}
}

// SetBounds, SetColor, SetWinding and SetClip are the stroker's to call;
// sizes, paint and winding (non-zero, the canvas's) are this package's.
func (s *scanner) SetBounds(w, h int)           {}
func (s *scanner) SetColor(any)                 {}
func (s *scanner) SetWinding(bool)              {}
func (s *scanner) SetClip(rect image.Rectangle) {}
