package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
)

// Interpreter limits: what a drawing may ask of the renderer. Every action
// list the draw page can record stays far below them; a list beyond one is
// refused with EINVALID naming the limit, never rendered slowly.
const (
	// MaxActionDepth is the deepest JSON nesting accepted. §7.1 needs five
	// levels (list, action, data, sub-path element, its data); the other
	// methods a mini-program records (gradients, shadows) need no more
	// than six, and are skipped.
	MaxActionDepth = 8
	// MaxPathVerbs bounds the path commands of one drawing, all paths
	// together (an arc counts as the one to four curves it becomes).
	MaxPathVerbs = 250_000
	// MaxSaveDepth bounds nested saves.
	MaxSaveDepth = 10_000
	// MaxCoordinate bounds every painted point, after the transform, in
	// canvas pixels (a phone's canvas is a few hundred across).
	MaxCoordinate = 1e7
	// MaxAnisotropy bounds how much a transform under which a line is
	// stroked may stretch one direction more than another.
	MaxAnisotropy = 1000
)

// rawAction is one element of an action list. Data stays undecoded until
// the method says what it must hold.
type rawAction struct {
	Method string          `json:"method"`
	Data   json.RawMessage `json:"data"`
}

// rawElement is one element of a sub-path (strokePath, fillPath). Its
// data is at most six numbers and arc's flag, decoded in place: a data
// that is not an array leaves them zero (not numbers), as a shorter one
// leaves the rest; what follows the eighth is never needed.
type rawElement struct {
	Method elementMethod `json:"method"`
	Data   [8]jsValue    `json:"data"`
}

// jsValue is one element of a sub-path element's data as JavaScript sees
// it: a finite number, true, or anything else.
type jsValue struct {
	v      float64
	num    bool
	isTrue bool
}

// UnmarshalJSON reads one JSON value (any kind: encoding/json hands over
// its text, already validated).
func (j *jsValue) UnmarshalJSON(b []byte) error {
	j.v, j.num = jsonNumber(b)
	j.isTrue = string(b) == "true"
	return nil
}

// elementMethod names the sub-path methods; the zero value is any other.
type elementMethod uint8

const (
	elUnknown elementMethod = iota
	elMoveTo
	elLineTo
	elClosePath
	elQuadraticCurveTo
	elBezierCurveTo
	elArc
	elRect
)

// methodName returns the JSON string b unquoted; without escapes in it,
// the conversion in the caller's switch costs no allocation.
func methodName(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b[1 : len(b)-1])
	}
	var name string
	if json.Unmarshal(b, &name) != nil {
		return ""
	}
	return name
}

// UnmarshalJSON reads a JSON string naming a sub-path method; anything
// else is elUnknown, as JavaScript's === would have it.
func (m *elementMethod) UnmarshalJSON(b []byte) error {
	*m = elUnknown
	if len(b) < 2 || b[0] != '"' {
		return nil
	}
	switch methodName(b) {
	case "moveTo":
		*m = elMoveTo
	case "lineTo":
		*m = elLineTo
	case "closePath":
		*m = elClosePath
	case "quadraticCurveTo":
		*m = elQuadraticCurveTo
	case "bezierCurveTo":
		*m = elBezierCurveTo
	case "arc":
		*m = elArc
	case "rect":
		*m = elRect
	}
	return nil
}

// InterpretActions replays the JSON text of a canvas action list (PROTOCOL
// §7.1) as a browser's canvas would and returns what it paints. It means
// what adapters/webpage/static/wxcanvas.js means by every method: an
// unknown method, or data that is not what its method needs, is skipped
// and counted, never an error; a colour string the canvas would not parse
// leaves the style as it was.
// Errors: EINVALID when the text is not JSON, nests deeper than
// MaxActionDepth, uses "method" or "data" in another letter case as a key
// (encoding/json would read it, a browser would not), or asks for more
// than a limit above allows (the message names the action and the limit).
func InterpretActions(text string) (*Scene, error) {
	if err := checkActionShape(text); err != nil {
		return nil, err
	}
	trimmed := strings.TrimLeft(text, " \t\r\n")
	if !strings.HasPrefix(trimmed, "[") {
		if !json.Valid([]byte(text)) {
			return nil, Errorf(EINVALID, "Actions are not valid JSON text.")
		}
		return &Scene{Skipped: 1}, nil // not a list: the browser replays nothing
	}
	var actions []rawAction
	if err := json.Unmarshal([]byte(text), &actions); err != nil {
		// A member of the wrong type (a method that is a number, data that is
		// an object) leaves its field zero, which the browser skips too.
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			return nil, Errorf(EINVALID, "Actions are not valid JSON text.")
		}
	}
	in := interpreter{scene: &Scene{}, st: canvasState{stroke: Black, fill: Black, width: 1, m: Identity}}
	for i := range actions {
		if err := in.action(i, &actions[i]); err != nil {
			return nil, err
		}
	}
	in.finish()
	return in.scene, nil
}

// checkActionShape reads text once before it is decoded: it refuses
// nesting deeper than MaxActionDepth before encoding/json descends into
// it, more sub-path elements than MaxPathVerbs before they are decoded
// (decoded, each takes a few times its text's size), and a key of an action or sub-path element (objects at depth 2 and 4)
// that is "method" or "data" in another letter case: encoding/json matches
// keys without regard to case, JavaScript does not, and the renderer must
// read what the browser reads.
func checkActionShape(text string) error {
	depth, elements := 0, 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '[', '{':
			if depth++; depth > MaxActionDepth {
				return Errorf(EINVALID, "Actions nest deeper than %d levels.", MaxActionDepth)
			}
			// Sub-path elements are objects at depth 4; each adds at least
			// one path command, so too many are refused before decoding.
			if depth == 4 && text[i] == '{' {
				if elements++; elements > MaxPathVerbs {
					return Errorf(EINVALID, "The drawing has more than %d path commands.", MaxPathVerbs)
				}
			}
		case ']', '}':
			depth--
		case '"':
			j, escaped := i+1, false
			for ; j < len(text) && text[j] != '"'; j++ {
				if text[j] == '\\' {
					j++
					escaped = true
				}
			}
			if j >= len(text) {
				return Errorf(EINVALID, "Actions are not valid JSON text.")
			}
			if depth == 2 || depth == 4 {
				k := j + 1
				for k < len(text) && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r' || text[k] == '\n') {
					k++
				}
				if k < len(text) && text[k] == ':' {
					key := text[i+1 : j]
					if escaped {
						var unescaped string
						if err := json.Unmarshal([]byte(text[i:j+1]), &unescaped); err != nil {
							return Errorf(EINVALID, "Actions are not valid JSON text.")
						}
						key = unescaped
					}
					for _, want := range [...]string{"method", "data"} {
						if key != want && strings.EqualFold(key, want) {
							return Errorf(EINVALID, "Actions use the key %q: it must be %q.", key, want)
						}
					}
				}
			}
			i = j
		}
	}
	return nil
}

// canvasState is what save and restore keep.
type canvasState struct {
	stroke, fill Color
	width        float64
	cap          LineCap
	join         LineJoin
	m            Matrix
}

type interpreter struct {
	scene *Scene
	st    canvasState
	stack []canvasState

	// The path being built, in user space: the tail of arena from
	// pathStart on. Every op's path is a slice of the arena, so a drawing's
	// paths cost a few growing allocations, not two per stroke.
	arena     Path
	pathStart [2]int
	elements  []rawElement // reused: zeroed after each sub-path
	start     Point        // the current sub-path's first point
	cur       Point        // the current point
	hasCur    bool         // a sub-path exists
	needMove  bool         // its MoveTo is not in path yet (a sub-path of one point paints nothing)
}

func (in *interpreter) action(i int, a *rawAction) error {
	ok := true
	switch a.Method {
	case "save":
		if len(in.stack) >= MaxSaveDepth {
			return Errorf(EINVALID, "actions[%d] (save): saves nest deeper than %d.", i, MaxSaveDepth)
		}
		in.stack = append(in.stack, in.st)
	case "restore":
		if n := len(in.stack); n > 0 {
			in.st, in.stack = in.stack[n-1], in.stack[:n-1]
		}
	case "setStrokeStyle", "setFillStyle":
		c, valid, known := style(a.Data)
		switch {
		case !known:
			ok = false
		case !valid: // a string the canvas cannot parse: the style stays
		case a.Method == "setStrokeStyle":
			in.st.stroke = c
		default:
			in.st.fill = c
		}
	case "setLineWidth":
		if v, isNum := numbers(a.Data, 1); !isNum {
			ok = false
		} else if v[0] > 0 { // the canvas ignores a width that is not positive
			in.st.width = v[0]
		}
	case "setLineCap":
		switch jsonString(a.Data) {
		case "butt":
			in.st.cap = CapButt
		case "round":
			in.st.cap = CapRound
		case "square":
			in.st.cap = CapSquare
		default:
			ok = false
		}
	case "setLineJoin":
		switch jsonString(a.Data) {
		case "miter":
			in.st.join = JoinMiter
		case "round":
			in.st.join = JoinRound
		case "bevel":
			in.st.join = JoinBevel
		default:
			ok = false
		}
	case "strokePath", "fillPath":
		kind := OpStroke
		if a.Method == "fillPath" {
			kind = OpFill
		}
		if err := in.paint(i, a.Method, kind, a.Data); err != nil {
			return err
		}
	case "clearRect":
		v, isNum := numbers(a.Data, 4)
		if !isNum {
			ok = false
			break
		}
		if err := in.clearRect(i, v[:4]); err != nil {
			return err
		}
	case "translate":
		if v, isNum := numbers(a.Data, 2); isNum {
			in.st.m = in.st.m.Mul(Matrix{A: 1, D: 1, E: v[0], F: v[1]})
		} else {
			ok = false
		}
	case "scale":
		if v, isNum := numbers(a.Data, 2); isNum {
			in.st.m = in.st.m.Mul(Matrix{A: v[0], D: v[1]})
		} else {
			ok = false
		}
	case "rotate":
		if v, isNum := numbers(a.Data, 1); isNum {
			sin, cos := math.Sincos(v[0])
			in.st.m = in.st.m.Mul(Matrix{A: cos, B: sin, C: -sin, D: cos})
		} else {
			ok = false
		}
	default:
		ok = false
	}
	if ok {
		in.scene.Drawn++
	} else {
		in.scene.Skipped++
	}
	return nil
}

// paint builds a strokePath's or fillPath's sub-path and records the paint.
func (in *interpreter) paint(i int, method string, kind OpKind, data json.RawMessage) error {
	in.pathStart = [2]int{len(in.arena.Verbs), len(in.arena.Points)}
	in.hasCur, in.needMove = false, false
	keep := false
	defer func() {
		if !keep { // nothing painted: the arena forgets the path
			in.arena.Verbs, in.arena.Points = in.arena.Verbs[:in.pathStart[0]], in.arena.Points[:in.pathStart[1]]
		}
	}()
	if len(data) == 0 || data[0] != '[' { // not an array: the browser skips the sub-path as one element
		in.scene.Skipped++
		return nil
	}
	// One decoding for the whole sub-path. An element that is not an
	// object, or a member of the wrong type, is left zero: skipped, as the
	// browser skips it.
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(data, &in.elements); err != nil && !errors.As(err, &typeErr) {
		return Errorf(EINVALID, "Actions are not valid JSON text.")
	}
	defer func() { clear(in.elements); in.elements = in.elements[:0] }()
	for k := range in.elements {
		if !in.element(&in.elements[k]) {
			in.scene.Skipped++
		}
		if len(in.arena.Verbs) > MaxPathVerbs {
			return Errorf(EINVALID, "actions[%d] (%s): the drawing has more than %d path commands.", i, method, MaxPathVerbs)
		}
	}
	v0, p0, v1, p1 := in.pathStart[0], in.pathStart[1], len(in.arena.Verbs), len(in.arena.Points)
	path := Path{Verbs: in.arena.Verbs[v0:v1:v1], Points: in.arena.Points[p0:p1:p1]}
	st := &in.st
	op := Op{Kind: kind, Transform: st.m, Color: st.fill, Width: st.width, Cap: st.cap, Join: st.join}
	if kind == OpStroke {
		op.Color = st.stroke
	}
	if op.Color.A == 0 || !hasSegment(path) {
		return nil // paints nothing visible
	}
	sMax, sMin := st.m.SingularValues()
	if !finiteMatrix(st.m) || !(sMin > 1e-12*sMax) {
		return nil // the canvas paints nothing under a transform it cannot invert
	}
	if kind == OpStroke && sMax > MaxAnisotropy*sMin {
		return Errorf(EINVALID, "actions[%d] (%s): the transform stretches one direction more than %d times another.", i, method, MaxAnisotropy)
	}
	op.Path = path
	if err := op.measure(); err != nil {
		return Errorf(EINVALID, "actions[%d] (%s): %s", i, method, err.Error())
	}
	if op.Bounds.IsEmpty() {
		return nil // a fill of no area, a zero-length line with butt caps
	}
	keep = true
	in.scene.Ops = append(in.scene.Ops, op)
	in.scene.Bounds = in.scene.Bounds.Union(op.Bounds)
	return nil
}

// element adds one sub-path element to the path, as the canvas method of
// its name would (HTML's "ensure there is a subpath" rules included); it
// reports false for an element the browser skips.
func (in *interpreter) element(el *rawElement) bool {
	d := &el.Data
	nums := func(n int) bool {
		for k := 0; k < n; k++ {
			if !d[k].num {
				return false
			}
		}
		return true
	}
	switch el.Method {
	case elMoveTo:
		if !nums(2) {
			return false
		}
		in.moveTo(Point{d[0].v, d[1].v})
	case elLineTo:
		if !nums(2) {
			return false
		}
		p := Point{d[0].v, d[1].v}
		if !in.hasCur {
			in.moveTo(p)
		} else {
			in.segment(LineTo, p)
		}
	case elClosePath:
		if in.hasCur && !in.needMove {
			in.arena.Verbs = append(in.arena.Verbs, Close)
			in.cur, in.needMove = in.start, true
		}
	case elQuadraticCurveTo:
		if !nums(4) {
			return false
		}
		if !in.hasCur {
			in.moveTo(Point{d[0].v, d[1].v})
		}
		in.segment(QuadTo, Point{d[0].v, d[1].v}, Point{d[2].v, d[3].v})
	case elBezierCurveTo:
		if !nums(6) {
			return false
		}
		if !in.hasCur {
			in.moveTo(Point{d[0].v, d[1].v})
		}
		in.segment(CubicTo, Point{d[0].v, d[1].v}, Point{d[2].v, d[3].v}, Point{d[4].v, d[5].v})
	case elArc:
		if !nums(5) || d[2].v < 0 { // a negative radius throws in the browser
			return false
		}
		in.arc(Point{d[0].v, d[1].v}, d[2].v, d[3].v, d[4].v, d[5].isTrue)
	case elRect:
		if !nums(4) {
			return false
		}
		x, y, w, h := d[0].v, d[1].v, d[2].v, d[3].v
		in.moveTo(Point{x, y})
		in.segment(LineTo, Point{x + w, y})
		in.segment(LineTo, Point{x + w, y + h})
		in.segment(LineTo, Point{x, y + h})
		in.arena.Verbs = append(in.arena.Verbs, Close)
		in.moveTo(Point{x, y})
	default:
		return false
	}
	return true
}

func (in *interpreter) moveTo(p Point) {
	in.start, in.cur, in.hasCur, in.needMove = p, p, true, true
}

// segment appends a LineTo, QuadTo or CubicTo whose last point is the new
// current point, starting the sub-path first if it is pending.
func (in *interpreter) segment(v Verb, pts ...Point) {
	if in.needMove {
		in.arena.Verbs = append(in.arena.Verbs, MoveTo)
		in.arena.Points = append(in.arena.Points, in.start)
		in.needMove = false
	}
	in.arena.Verbs = append(in.arena.Verbs, v)
	in.arena.Points = append(in.arena.Points, pts...)
	in.cur = pts[len(pts)-1]
}

// arc adds a canvas arc: a line from the current point to its start (or a
// new sub-path there), then the arc as cubic Béziers of at most a quarter
// turn each. The sweep follows what Chromium does with the angles
// (HTML's rule, plus: a clockwise sweep from a larger start angle to a
// smaller end angle a whole number of turns away is a full circle).
func (in *interpreter) arc(c Point, r, a0, a1 float64, ccw bool) {
	const tau = 2 * math.Pi
	var sweep float64
	switch {
	case !ccw && a1-a0 >= tau:
		sweep = tau
	case ccw && a0-a1 >= tau:
		sweep = -tau
	case !ccw && a0 > a1:
		sweep = tau - math.Mod(a0-a1, tau)
	case ccw && a0 < a1:
		sweep = -(tau - math.Mod(a1-a0, tau))
	default:
		sweep = a1 - a0
	}
	sin, cos := math.Sincos(a0)
	p0 := Point{c.X + r*cos, c.Y + r*sin}
	if in.hasCur {
		in.segment(LineTo, p0)
	} else {
		in.moveTo(p0)
	}
	if r == 0 || sweep == 0 || math.IsNaN(sweep) {
		return
	}
	n := int(math.Ceil(math.Abs(sweep)/(math.Pi/2) - 1e-9))
	n = max(1, min(n, 4))
	step := sweep / float64(n)
	k := 4.0 / 3 * math.Tan(step/4)
	a := a0
	for j := 0; j < n; j++ {
		b := a + step
		if j == n-1 {
			b = a0 + sweep
		}
		sa, ca := math.Sincos(a)
		sb, cb := math.Sincos(b)
		in.segment(CubicTo,
			Point{c.X + r*(ca-k*sa), c.Y + r*(sa+k*ca)},
			Point{c.X + r*(cb+k*sb), c.Y + r*(sb-k*cb)},
			Point{c.X + r*cb, c.Y + r*sb})
		a = b
	}
}

func (in *interpreter) clearRect(i int, v []float64) error {
	x, y, w, h := v[0], v[1], v[2], v[3]
	if w == 0 || h == 0 {
		return nil
	}
	if sMax, sMin := in.st.m.SingularValues(); !finiteMatrix(in.st.m) || !(sMin > 1e-12*sMax) {
		return nil
	}
	op := Op{Kind: OpClear, Transform: in.st.m, Path: Path{
		Verbs:  []Verb{MoveTo, LineTo, LineTo, LineTo, Close},
		Points: []Point{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}},
	}}
	if err := op.measure(); err != nil {
		return Errorf(EINVALID, "actions[%d] (clearRect): %s", i, err.Error())
	}
	if !op.Bounds.IsEmpty() {
		in.scene.Ops = append(in.scene.Ops, op)
	}
	return nil
}

// finish drops clears that come before anything was painted or that miss
// every painted pixel: on the white background they change nothing.
func (in *interpreter) finish() {
	ops := in.scene.Ops[:0]
	var painted Rect
	for _, op := range in.scene.Ops {
		if op.Kind == OpClear {
			if painted.Intersect(op.Bounds).IsEmpty() {
				continue
			}
		} else {
			painted = painted.Union(op.Bounds)
		}
		ops = append(ops, op)
	}
	clear(in.scene.Ops[len(ops):])
	in.scene.Ops = ops
}

// hasSegment reports whether p has anything but MoveTo (a sub-path of one
// point paints nothing).
func hasSegment(p Path) bool {
	for _, v := range p.Verbs {
		if v == LineTo || v == QuadTo || v == CubicTo {
			return true
		}
	}
	return false
}

// finiteMatrix reports whether m has no infinite entry (scales that
// overflow float64).
func finiteMatrix(m Matrix) bool {
	for _, v := range [...]float64{m.A, m.B, m.C, m.D, m.E, m.F} {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return false
		}
	}
	return true
}

// numbers returns the first n (at most 6) elements of data when data is an
// array and they are all finite JSON numbers (what wxcanvas.js's nums
// accepts). A number beyond float64's range is Infinity in JavaScript: not
// finite.
func numbers(data json.RawMessage, n int) (v [6]float64, ok bool) {
	if len(data) == 0 || data[0] != '[' {
		return v, false
	}
	var vals [8]jsValue
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(data, &vals); err != nil && !errors.As(err, &typeErr) {
		return v, false
	}
	for k := 0; k < n; k++ {
		if !vals[k].num {
			return v, false
		}
		v[k] = vals[k].v
	}
	return v, true
}

func jsonNumber(raw json.RawMessage) (float64, bool) {
	if len(raw) == 0 || !(raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	return f, err == nil // an underflow is 0 without an error, as in JavaScript
}

// elements returns data's elements when it is an array.
func elements(data json.RawMessage) ([]json.RawMessage, bool) {
	var els []json.RawMessage
	if len(data) == 0 || data[0] != '[' || json.Unmarshal(data, &els) != nil {
		return nil, false
	}
	return els, true
}

// jsonString returns the first element of data when data is an array and
// that element is a JSON string, or "".
func jsonString(data json.RawMessage) string {
	els, ok := elements(data)
	if !ok || len(els) == 0 {
		return ""
	}
	return stringValue(els[0])
}

func stringValue(raw json.RawMessage) string {
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// style reads a setStrokeStyle/setFillStyle's data: ["normal", COLOR] as
// the mini-program records it, or a bare [COLOR]. known is false where
// wxcanvas.js skips the action (any other shape, e.g. a gradient); valid
// is false for a colour string that the canvas would not parse, which
// leaves the style unchanged.
func style(data json.RawMessage) (c Color, valid, known bool) {
	els, ok := elements(data)
	if !ok {
		return Color{}, false, false
	}
	var raw json.RawMessage
	switch {
	case len(els) >= 2 && stringValue(els[0]) == "normal":
		raw = els[1]
	case len(els) == 1:
		raw = els[0]
	default:
		return Color{}, false, false
	}
	if len(raw) > 0 && raw[0] == '"' {
		c, valid = ParseCSSColor(stringValue(raw))
		return c, valid, true
	}
	// [r, g, b] or [r, g, b, a], 0–255 each.
	arr, ok := elements(raw)
	if !ok || len(arr) < 3 {
		return Color{}, false, false
	}
	v, ok := numbers(raw, min(len(arr), 4))
	if !ok {
		return Color{}, false, false
	}
	c = Color{channelByte(v[0]), channelByte(v[1]), channelByte(v[2]), 255}
	if len(arr) >= 4 {
		c.A = channelByte(v[3])
	}
	return c, true, true
}
