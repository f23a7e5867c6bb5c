package domain

import "math"

// A Scene is what a drawing's action list paints (PROTOCOL §7.1), ready for
// a renderer: the paint operations in order, each with its path in the
// coordinates the actions gave (user space) and the transform in force, and
// the bounding box of what was painted in canvas pixels. InterpretActions
// builds it; renderers (ports.Renderer) only read it.
//
// A path stays in user space, with its transform beside it, because a
// canvas strokes in user space: the pen is transformed with the path, so
// under scale(2, 1) a line is twice as wide across as along.
type Scene struct {
	Ops []Op
	// Bounds covers every pixel a browser would paint for Ops (stroke
	// widths, caps and miter joins included), in canvas pixels; it is empty
	// (IsEmpty) when nothing visible was painted.
	Bounds Rect
	// Drawn and Skipped count the actions as the browser's replay
	// (wxcanvas.js) counts them: top-level actions applied, and top-level
	// actions plus sub-path elements skipped.
	Drawn, Skipped int
}

// Op is one paint operation.
type Op struct {
	Kind OpKind
	// Path in user space. A fill closes its open sub-paths; a clear is the
	// cleared rectangle.
	Path      Path
	Transform Matrix // user space → canvas pixels
	Color     Color  // the paint of a stroke or fill
	Width     float64
	Cap       LineCap
	Join      LineJoin
	// Bounds is what the operation covers, in canvas pixels.
	Bounds Rect

	// What rasterizing it costs, in canvas pixels (see Scene.rasterCost).
	segments  int     // path segments, curves as one
	length    float64 // of the control polygon after the transform
	curviness float64 // Σ sqrt(deviation) of the curves: how finely they are flattened
}

// OpKind says what an Op does with its path.
type OpKind uint8

const (
	OpStroke OpKind = iota // stroke the path with Color, Width, Cap, Join
	OpFill                 // fill the path with Color (non-zero winding)
	OpClear                // clear the rectangle to the background
)

// LineCap is a canvas lineCap.
type LineCap uint8

const (
	CapButt LineCap = iota
	CapRound
	CapSquare
)

// LineJoin is a canvas lineJoin.
type LineJoin uint8

const (
	JoinMiter LineJoin = iota
	JoinRound
	JoinBevel
)

// MiterLimit is a canvas's miterLimit, which the action format cannot
// change: a miter join longer than MiterLimit half-widths is beveled.
const MiterLimit = 10

// Verb is one path command.
type Verb uint8

const (
	MoveTo  Verb = iota // one point: starts a sub-path
	LineTo              // one point
	QuadTo              // control point, end point
	CubicTo             // two control points, end point
	Close               // no point: back to the sub-path's start
)

// Path is a sequence of sub-paths: each starts with MoveTo; Points holds
// the points of every verb in order.
type Path struct {
	Verbs  []Verb
	Points []Point
}

// Point is a position in user space or canvas pixels.
type Point struct{ X, Y float64 }

// Matrix is an affine transform in the canvas's order: x' = A·x + C·y + E,
// y' = B·x + D·y + F.
type Matrix struct{ A, B, C, D, E, F float64 }

// Identity is the transform a canvas starts with.
var Identity = Matrix{A: 1, D: 1}

// Apply maps p.
func (m Matrix) Apply(p Point) Point {
	return Point{m.A*p.X + m.C*p.Y + m.E, m.B*p.X + m.D*p.Y + m.F}
}

// Mul returns m·n: n first, then m.
func (m Matrix) Mul(n Matrix) Matrix {
	return Matrix{
		A: m.A*n.A + m.C*n.B, B: m.B*n.A + m.D*n.B,
		C: m.A*n.C + m.C*n.D, D: m.B*n.C + m.D*n.D,
		E: m.A*n.E + m.C*n.F + m.E, F: m.B*n.E + m.D*n.F + m.F,
	}
}

// Det is the determinant of m's linear part.
func (m Matrix) Det() float64 { return m.A*m.D - m.B*m.C }

// SingularValues returns the largest and smallest factor by which m's
// linear part stretches a length.
func (m Matrix) SingularValues() (max, min float64) {
	// For [a c; b d]: σ² are the eigenvalues of its Gram matrix.
	p := (m.A*m.A + m.B*m.B + m.C*m.C + m.D*m.D) / 2
	q := math.Abs(m.Det())
	r := math.Sqrt(math.Max(0, p*p-q*q))
	max = math.Sqrt(p + r)
	if max == 0 {
		return 0, 0
	}
	return max, q / max
}

// Rect is an axis-aligned box; the zero Rect is empty.
type Rect struct{ MinX, MinY, MaxX, MaxY float64 }

// IsEmpty reports whether r covers no area.
func (r Rect) IsEmpty() bool { return !(r.MinX < r.MaxX && r.MinY < r.MaxY) }

// Width and Height of r.
func (r Rect) Width() float64  { return r.MaxX - r.MinX }
func (r Rect) Height() float64 { return r.MaxY - r.MinY }

// Union returns the box covering r and o; an empty box adds nothing.
func (r Rect) Union(o Rect) Rect {
	switch {
	case o.IsEmpty():
		return r
	case r.IsEmpty():
		return o
	}
	return Rect{math.Min(r.MinX, o.MinX), math.Min(r.MinY, o.MinY), math.Max(r.MaxX, o.MaxX), math.Max(r.MaxY, o.MaxY)}
}

// Intersect returns the box both r and o cover (empty if none).
func (r Rect) Intersect(o Rect) Rect {
	i := Rect{math.Max(r.MinX, o.MinX), math.Max(r.MinY, o.MinY), math.Min(r.MaxX, o.MaxX), math.Min(r.MaxY, o.MaxY)}
	if i.IsEmpty() {
		return Rect{}
	}
	return i
}

// Rendering limits and defaults (PROTOCOL §7, §7.1).
const (
	MinRenderWidth     = 16
	MaxRenderWidth     = 1024
	DefaultRenderWidth = 256
	// MaxRenderHeight bounds a PNG's height; a tall drawing is made
	// narrower than w to keep its aspect.
	MaxRenderHeight = 1024
	// EmptyRenderSize is the side of the white square an empty drawing
	// renders as, whatever w.
	EmptyRenderSize = 16
	// FrameMargin is the white border around what was drawn, as a fraction
	// of the larger side of its bounding box, on each side.
	FrameMargin = 0.02
	// MaxRasterCost bounds the work of one PNG (see rasterCost), in
	// nanoseconds of one core as estimated: half a second.
	MaxRasterCost = 500e6
)

// View is the frame of a render in canvas pixels: the bounding box of what
// was drawn with a margin of FrameMargin on every side, or a white square
// of EmptyRenderSize at the origin for an empty drawing. An SVG uses it as
// its viewBox.
func (s *Scene) View() Rect {
	if s.Bounds.IsEmpty() {
		return Rect{0, 0, EmptyRenderSize, EmptyRenderSize}
	}
	m := FrameMargin * math.Max(s.Bounds.Width(), s.Bounds.Height())
	return Rect{s.Bounds.MinX - m, s.Bounds.MinY - m, s.Bounds.MaxX + m, s.Bounds.MaxY + m}
}

// Raster is the size of a PNG and where the view lies in it.
type Raster struct {
	Width, Height int
	// Scale is image pixels per canvas pixel; the view's top-left corner is
	// the image's origin.
	Scale float64
	View  Rect
}

// ToImage is the transform from canvas pixels to image pixels.
func (r Raster) ToImage() Matrix {
	return Matrix{A: r.Scale, D: r.Scale, E: -r.View.MinX * r.Scale, F: -r.View.MinY * r.Scale}
}

// Raster sizes the PNG of s for a width w: the view scaled to w pixels
// across, or to MaxRenderHeight pixels down if that is smaller (a tall
// drawing), never less than one pixel; an empty drawing is a white square
// of EmptyRenderSize.
// Errors: EINVALID when w is outside MinRenderWidth–MaxRenderWidth,
// ETOOLARGE when rasterizing at that size would cost more than
// MaxRasterCost (a smaller w may do).
func (s *Scene) Raster(w int) (Raster, error) {
	if w < MinRenderWidth || w > MaxRenderWidth {
		return Raster{}, Errorf(EINVALID, "The width w must be %d to %d pixels.", MinRenderWidth, MaxRenderWidth)
	}
	v := s.View()
	if s.Bounds.IsEmpty() {
		return Raster{Width: EmptyRenderSize, Height: EmptyRenderSize, Scale: 1, View: v}, nil
	}
	r := Raster{Width: w, Scale: float64(w) / v.Width(), View: v}
	r.Height = int(math.Ceil(v.Height()*r.Scale - 1e-9))
	if r.Height > MaxRenderHeight {
		r.Scale = MaxRenderHeight / v.Height()
		r.Height = MaxRenderHeight
		r.Width = int(math.Ceil(v.Width()*r.Scale - 1e-9))
	}
	r.Width, r.Height = max(r.Width, 1), max(r.Height, 1)
	if c := s.rasterCost(r); c > MaxRasterCost {
		return Raster{}, Errorf(ETOOLARGE, "The drawing is too complex to render %d pixels wide (about %.1f s of work, at most %.1f s); a smaller w may do.", w, c/1e9, MaxRasterCost/1e9)
	}
	return r, nil
}

// rasterCost estimates the time of rasterizing s into r, in nanoseconds of
// one core (coefficients measured with adapters/render's rasterizer):
// each operation accumulates coverage over its bounding box in the image
// and blends it; every segment is flattened into pieces (a curve into more
// the more it bends), which are stroked into edges and scanned along their
// length; a round join is an arc of flattened pieces the longer the wider
// the line.
func (s *Scene) rasterCost(r Raster) float64 {
	const (
		perOp        = 2000
		perPixel     = 9  // accumulating and blending one pixel of an operation's box
		perPiece     = 60 // one flattened piece through the stroker or filler
		perEdgePixel = 1  // scanning an edge one pixel along
	)
	img := Rect{0, 0, float64(r.Width), float64(r.Height)}
	var c float64
	for i := range s.Ops {
		op := &s.Ops[i]
		b := r.View.Intersect(op.Bounds)
		box := Rect{(b.MinX - r.View.MinX) * r.Scale, (b.MinY - r.View.MinY) * r.Scale, (b.MaxX - r.View.MinX) * r.Scale, (b.MaxY - r.View.MinY) * r.Scale}.Intersect(img)
		c += perOp + perPixel*(box.Width()+2)*(box.Height()+2)
		pieces := float64(op.segments) + 10.5*math.Sqrt(r.Scale)*op.curviness
		edges := op.length * r.Scale
		if op.Kind != OpStroke {
			c += perPiece*pieces + perEdgePixel*edges
			continue
		}
		// Both sides of every piece, and a join after each segment.
		c += 4*perPiece*pieces + 4*perEdgePixel*edges
		if op.Join == JoinRound || op.Cap == CapRound {
			sMax, _ := op.Transform.SingularValues()
			halfWidth := op.Width / 2 * sMax * r.Scale
			c += float64(op.segments+2) * 65 * math.Sqrt(halfWidth+1) * perPiece
		} else {
			c += float64(op.segments) * 10 * perPiece
		}
	}
	return c
}
