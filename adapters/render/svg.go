package render

import (
	"bufio"
	"io"
	"math"
	"strconv"

	"github.com/onestroke/onestroke/domain"
)

// SVG writes s as an SVG document: its viewBox is s.View() in canvas
// pixels (width and height the view's size in CSS pixels), a white
// rectangle behind, then one path element per operation with the
// operation's transform, so that strokes are widened in user space as the
// canvas widens them. Colours are written from the parsed values, never
// from the action text.
// Returns what w returns.
func (rd *Renderer) SVG(w io.Writer, s *domain.Scene) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	v := s.View()
	// Coordinates to a hundred-thousandth of the view: far finer than any
	// render, short enough to read.
	dec := decimalsFor(math.Max(v.Width(), v.Height()) / 1e5)
	b := make([]byte, 0, 4<<10)
	// width and height are the view's exact size: rounded, they would not
	// keep its aspect, and a browser would centre it with a shift.
	b = append(b, `<svg xmlns="http://www.w3.org/2000/svg" width="`...)
	b = num(b, v.Width(), dec, 0)
	b = append(b, `" height="`...)
	b = num(b, v.Height(), dec, 0)
	b = append(b, `" viewBox="`...)
	b = num(b, v.MinX, dec, ' ')
	b = num(b, v.MinY, dec, ' ')
	b = num(b, v.Width(), dec, ' ')
	b = num(b, v.Height(), dec, 0)
	b = append(b, "\">\n<rect x=\""...)
	b = num(b, v.MinX, dec, 0)
	b = append(b, `" y="`...)
	b = num(b, v.MinY, dec, 0)
	b = append(b, `" width="`...)
	b = num(b, v.Width(), dec, 0)
	b = append(b, `" height="`...)
	b = num(b, v.Height(), dec, 0)
	b = append(b, "\" fill=\"#fff\"/>\n"...)
	for i := range s.Ops {
		op := &s.Ops[i]
		// Digits in user space: as many more as the transform magnifies.
		sMax, _ := op.Transform.SingularValues()
		pdec := dec
		if sMax > 0 {
			pdec = min(12, max(0, dec+int(math.Ceil(math.Log10(sMax)))))
		}
		b = append(b, `<path d="`...)
		b = pathData(b, op.Path, pdec)
		b = append(b, '"')
		switch op.Kind {
		case domain.OpStroke:
			b = append(b, ` fill="none" stroke="`...)
			b = hexColor(b, op.Color)
			b = append(b, '"')
			if op.Color.A != 255 {
				b = append(b, ` stroke-opacity="`...)
				b = num(b, float64(op.Color.A)/255, 4, '"')
			}
			b = append(b, ` stroke-width="`...)
			b = strconv.AppendFloat(b, op.Width, 'g', -1, 64)
			b = append(b, '"')
			switch op.Cap {
			case domain.CapRound:
				b = append(b, ` stroke-linecap="round"`...)
			case domain.CapSquare:
				b = append(b, ` stroke-linecap="square"`...)
			}
			switch op.Join {
			case domain.JoinRound:
				b = append(b, ` stroke-linejoin="round"`...)
			case domain.JoinBevel:
				b = append(b, ` stroke-linejoin="bevel"`...)
			default:
				b = append(b, ` stroke-miterlimit="10"`...) // SVG's default is 4, the canvas's 10
			}
		case domain.OpFill:
			b = append(b, ` fill="`...)
			b = hexColor(b, op.Color)
			b = append(b, '"')
			if op.Color.A != 255 {
				b = append(b, ` fill-opacity="`...)
				b = num(b, float64(op.Color.A)/255, 4, '"')
			}
		case domain.OpClear:
			// Cleared to the background, without anti-aliasing as a canvas clears.
			b = append(b, ` fill="#fff" shape-rendering="crispEdges"`...)
		}
		if op.Transform != domain.Identity {
			m := op.Transform
			b = append(b, ` transform="matrix(`...)
			for j, x := range [...]float64{m.A, m.B, m.C, m.D, m.E, m.F} {
				if j > 0 {
					b = append(b, ' ')
				}
				b = strconv.AppendFloat(b, x, 'g', -1, 64)
			}
			b = append(b, `)"`...)
		}
		b = append(b, "/>\n"...)
		if len(b) > 16<<10 {
			if _, err := bw.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	b = append(b, "</svg>\n"...)
	if _, err := bw.Write(b); err != nil {
		return err
	}
	return bw.Flush()
}

// pathData appends p as SVG path data.
func pathData(b []byte, p domain.Path, dec int) []byte {
	pts := p.Points
	j := 0
	for i, v := range p.Verbs {
		if i > 0 {
			b = append(b, ' ')
		}
		n := 0
		switch v {
		case domain.MoveTo:
			b, n = append(b, 'M'), 1
		case domain.LineTo:
			b, n = append(b, 'L'), 1
		case domain.QuadTo:
			b, n = append(b, 'Q'), 2
		case domain.CubicTo:
			b, n = append(b, 'C'), 3
		case domain.Close:
			b = append(b, 'Z')
		}
		for k := 0; k < n; k++ {
			b = num(b, pts[j].X, dec, ' ')
			b = num(b, pts[j].Y, dec, 0)
			if k < n-1 {
				b = append(b, ' ')
			}
			j++
		}
	}
	return b
}

// decimalsFor returns how many decimals show a step of size step.
func decimalsFor(step float64) int {
	if !(step > 0) {
		return 3
	}
	return min(12, max(0, int(math.Ceil(-math.Log10(step)))))
}

// num appends x with at most dec decimals, trailing zeros dropped, then
// sep unless it is 0.
func num(b []byte, x float64, dec int, sep byte) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, x, 'f', dec, 64)
	if dec > 0 {
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
		if b[len(b)-1] == '.' {
			b = b[:len(b)-1]
		}
	}
	if string(b[start:]) == "-0" {
		b = append(b[:start], '0')
	}
	if sep != 0 {
		b = append(b, sep)
	}
	return b
}

func hexColor(b []byte, c domain.Color) []byte {
	const digits = "0123456789abcdef"
	return append(b, '#', digits[c.R>>4], digits[c.R&15], digits[c.G>>4], digits[c.G&15], digits[c.B>>4], digits[c.B&15])
}
