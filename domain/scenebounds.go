package domain

import (
	"errors"
	"math"
)

var errBeyond = errors.New("a point lies beyond ±10000000 canvas pixels after the transform")

// measure sets op.Bounds — what a browser's pixels would cover, in canvas
// pixels — and the figures rasterCost reads. A stroke covers its path
// widened by half the line width in every direction (the transformed pen),
// plus the corners of square caps and the tips of miter joins within the
// miter limit; a butt cap's end is counted as if round (at most half a
// width too much). A sub-path without length paints only with round or
// square caps. It fails when a point or the stroke lies beyond
// MaxCoordinate.
func (op *Op) measure() error {
	m := op.Transform
	stroke := op.Kind == OpStroke
	hw := op.Width / 2
	// The pen (a disc of radius hw in user space) spans ex, ey in canvas px.
	ex, ey := hw*math.Hypot(m.A, m.C), hw*math.Hypot(m.B, m.D)
	if stroke && !(ex <= MaxCoordinate && ey <= MaxCoordinate) {
		return errors.New("the line width reaches beyond ±10000000 canvas pixels")
	}

	var (
		bounds     Rect
		sub        subBounds
		pts        = op.Path.Points
		k          int // next point
		cur, start Point
		firstTan   Point // tangents in user space, zero when unknown
		lastTan    Point
		hasLength  bool
		closed     bool
		err        error
		area       float64 // twice the sub-path's signed area (of its control polygon), for a fill
		last       Point   // the last point added to area, in canvas pixels
	)
	add := func(p Point) {
		q := m.Apply(p)
		if !(math.Abs(q.X) <= MaxCoordinate && math.Abs(q.Y) <= MaxCoordinate) {
			err = errBeyond
			return
		}
		sub.add(q)
	}
	join := func(at, in, out Point) {
		if !stroke || op.Join != JoinMiter || in == (Point{}) || out == (Point{}) {
			return
		}
		// The miter's tip lies hw / cos(α/2) from the vertex along the
		// outer bisector, α being the turn; beyond the limit it is beveled.
		cosA := in.X*out.X + in.Y*out.Y
		half := math.Sqrt(math.Max(0, (1+cosA)/2))
		if half < 1.0/MiterLimit {
			return
		}
		d := Point{in.X - out.X, in.Y - out.Y}
		l := math.Hypot(d.X, d.Y)
		if l < 1e-9 {
			return
		}
		r := hw / half / l
		sub.reach(m.Apply(Point{at.X + d.X*r, at.Y + d.Y*r}))
	}
	segment := func(p0 Point, ctrl []Point) {
		t0, t1 := tangents(p0, ctrl)
		if t0 != (Point{}) {
			hasLength = true
			join(p0, lastTan, t0)
			if firstTan == (Point{}) {
				firstTan = t0
			}
			lastTan = t1
		}
		q0 := m.Apply(p0)
		qs := [3]Point{}
		prev := q0
		for i, c := range ctrl {
			qs[i] = m.Apply(c)
			area += last.X*qs[i].Y - qs[i].X*last.Y
			last = qs[i]
			if !(math.Abs(qs[i].X) <= MaxCoordinate && math.Abs(qs[i].Y) <= MaxCoordinate) {
				err = errBeyond
			}
			op.length += math.Hypot(qs[i].X-prev.X, qs[i].Y-prev.Y)
			prev = qs[i]
		}
		// A curve's control points are not on it: its end and turning points are.
		sub.add(qs[len(ctrl)-1])
		op.segments++
		switch len(ctrl) {
		case 2:
			sub.quadExtrema(q0, qs[0], qs[1])
			op.curviness += math.Sqrt(math.Hypot(q0.X-2*qs[0].X+qs[1].X, q0.Y-2*qs[0].Y+qs[1].Y))
		case 3:
			sub.cubicExtrema(q0, qs[0], qs[1], qs[2])
			d := math.Max(math.Hypot(q0.X-2*qs[0].X+qs[2].X, q0.Y-2*qs[0].Y+qs[2].Y),
				math.Hypot(q0.X-2*qs[1].X+qs[2].X, q0.Y-2*qs[1].Y+qs[2].Y))
			op.curviness += math.Sqrt(d)
		}
	}
	endSub := func() {
		if sub.empty {
			return
		}
		q := m.Apply(start)
		area += last.X*q.Y - q.X*last.Y
		if !stroke {
			// A fill covers area: a sub-path that encloses none (a line
			// there and back) paints nothing.
			if hasLength && math.Abs(area) > 1e-12*sub.box.Width()*sub.box.Height() {
				bounds = bounds.Union(sub.box)
			}
			sub = subBounds{empty: true, noTips: true}
			return
		}
		switch {
		case !hasLength && op.Cap == CapButt:
			// nothing painted
		case !hasLength:
			// A dot: a disc, or a square aligned with user space.
			sub.box = expand(sub.box, ex, ey)
			if op.Cap == CapSquare {
				for _, c := range [...]Point{{-hw, -hw}, {hw, -hw}, {hw, hw}, {-hw, hw}} {
					sub.reach(m.Apply(Point{start.X + c.X, start.Y + c.Y}))
				}
			}
			bounds = bounds.Union(sub.withTips())
		default:
			if op.Cap == CapSquare && !closed {
				for _, e := range [...]struct{ at, dir Point }{{start, Point{-firstTan.X, -firstTan.Y}}, {cur, lastTan}} {
					n := Point{-e.dir.Y * hw, e.dir.X * hw}
					tip := Point{e.at.X + e.dir.X*hw, e.at.Y + e.dir.Y*hw}
					sub.reach(m.Apply(Point{tip.X + n.X, tip.Y + n.Y}))
					sub.reach(m.Apply(Point{tip.X - n.X, tip.Y - n.Y}))
				}
			}
			sub.box = expand(sub.box, ex, ey)
			bounds = bounds.Union(sub.withTips())
		}
		sub = subBounds{empty: true, noTips: true}
	}

	sub = subBounds{empty: true, noTips: true}
	for _, v := range op.Path.Verbs {
		switch v {
		case MoveTo:
			endSub()
			start, cur = pts[k], pts[k]
			k++
			firstTan, lastTan, hasLength, closed = Point{}, Point{}, false, false
			sub = subBounds{empty: true, noTips: true}
			add(start)
			last, area = m.Apply(start), 0
		case LineTo:
			segment(cur, pts[k:k+1])
			cur = pts[k]
			k++
		case QuadTo:
			segment(cur, pts[k:k+2])
			cur = pts[k+1]
			k += 2
		case CubicTo:
			segment(cur, pts[k:k+3])
			cur = pts[k+2]
			k += 3
		case Close:
			if cur != start {
				segment(cur, []Point{start})
			}
			join(start, lastTan, firstTan)
			cur, closed = start, true
		}
		if err != nil {
			return err
		}
	}
	endSub()
	if !(bounds.IsEmpty() || math.Abs(bounds.MinX) <= MaxCoordinate && math.Abs(bounds.MaxX) <= MaxCoordinate &&
		math.Abs(bounds.MinY) <= MaxCoordinate && math.Abs(bounds.MaxY) <= MaxCoordinate) {
		return errors.New("the stroke reaches beyond ±10000000 canvas pixels")
	}
	op.Bounds = bounds
	return nil
}

// subBounds collects the box of one sub-path's points in canvas pixels and
// of the extra points (miter tips, cap corners) its stroke reaches.
type subBounds struct {
	box, tips     Rect
	empty, noTips bool
}

func (s *subBounds) add(q Point) {
	if s.empty {
		s.box, s.empty = Rect{q.X, q.Y, q.X, q.Y}, false
		return
	}
	s.box = grow(s.box, q)
}

func (s *subBounds) reach(q Point) {
	if s.noTips {
		s.tips, s.noTips = Rect{q.X, q.Y, q.X, q.Y}, false
		return
	}
	s.tips = grow(s.tips, q)
}

// withTips returns the box with the tips in (the box may have no area yet).
func (s *subBounds) withTips() Rect {
	b := s.box
	if !s.noTips {
		b = grow(grow(b, Point{s.tips.MinX, s.tips.MinY}), Point{s.tips.MaxX, s.tips.MaxY})
	}
	return b
}

func grow(r Rect, q Point) Rect {
	return Rect{math.Min(r.MinX, q.X), math.Min(r.MinY, q.Y), math.Max(r.MaxX, q.X), math.Max(r.MaxY, q.Y)}
}

// quadExtrema adds the points where a quadratic Bézier turns in x or y.
func (s *subBounds) quadExtrema(p0, p1, p2 Point) {
	for axis := 0; axis < 2; axis++ {
		a, b, c := coord(p0, axis), coord(p1, axis), coord(p2, axis)
		if d := a - 2*b + c; d != 0 {
			if t := (a - b) / d; t > 0 && t < 1 {
				s.add(quadAt(p0, p1, p2, t))
			}
		}
	}
}

// cubicExtrema adds the points where a cubic Bézier turns in x or y.
func (s *subBounds) cubicExtrema(p0, p1, p2, p3 Point) {
	for axis := 0; axis < 2; axis++ {
		a0, a1, a2, a3 := coord(p0, axis), coord(p1, axis), coord(p2, axis), coord(p3, axis)
		// B'(t)/3 = a·t² + b·t + c
		a := -a0 + 3*a1 - 3*a2 + a3
		b := 2 * (a0 - 2*a1 + a2)
		c := a1 - a0
		var roots [2]float64
		n := 0
		if math.Abs(a) < 1e-12*(math.Abs(b)+math.Abs(c)+1e-300) {
			if b != 0 {
				roots[0], n = -c/b, 1
			}
		} else if disc := b*b - 4*a*c; disc >= 0 {
			sq := math.Sqrt(disc)
			roots[0], roots[1], n = (-b+sq)/(2*a), (-b-sq)/(2*a), 2
		}
		for _, t := range roots[:n] {
			if t > 0 && t < 1 {
				s.add(cubicAt(p0, p1, p2, p3, t))
			}
		}
	}
}

func coord(p Point, axis int) float64 {
	if axis == 0 {
		return p.X
	}
	return p.Y
}

func quadAt(p0, p1, p2 Point, t float64) Point {
	u := 1 - t
	return Point{u*u*p0.X + 2*u*t*p1.X + t*t*p2.X, u*u*p0.Y + 2*u*t*p1.Y + t*t*p2.Y}
}

func cubicAt(p0, p1, p2, p3 Point, t float64) Point {
	u := 1 - t
	a, b, c, d := u*u*u, 3*u*u*t, 3*u*t*t, t*t*t
	return Point{a*p0.X + b*p1.X + c*p2.X + d*p3.X, a*p0.Y + b*p1.Y + c*p2.Y + d*p3.Y}
}

// tangents returns the unit directions in which a segment from p0 through
// ctrl leaves p0 and arrives at its end, or zeros for a segment without
// length.
func tangents(p0 Point, ctrl []Point) (t0, t1 Point) {
	var buf [4]Point
	buf[0] = p0
	n := 1 + copy(buf[1:], ctrl)
	all := buf[:n]
	for _, p := range all[1:] {
		if p != p0 {
			t0 = unit(Point{p.X - p0.X, p.Y - p0.Y})
			break
		}
	}
	end := all[len(all)-1]
	for i := len(all) - 2; i >= 0; i-- {
		if all[i] != end {
			t1 = unit(Point{end.X - all[i].X, end.Y - all[i].Y})
			break
		}
	}
	return t0, t1
}

func unit(p Point) Point {
	l := math.Hypot(p.X, p.Y)
	if l == 0 || math.IsInf(l, 0) {
		return Point{}
	}
	return Point{p.X / l, p.Y / l}
}

func expand(r Rect, ex, ey float64) Rect {
	return Rect{r.MinX - ex, r.MinY - ey, r.MaxX + ex, r.MaxY + ey}
}
