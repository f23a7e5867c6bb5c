package domain

import (
	"math"
	"strconv"
	"strings"
)

// Color is a non-premultiplied sRGB colour with 8-bit channels, as a
// canvas keeps a strokeStyle or fillStyle.
type Color struct{ R, G, B, A uint8 }

// Black is the canvas's initial strokeStyle and fillStyle.
var Black = Color{0, 0, 0, 255}

// ParseCSSColor reads the CSS colour notations a canvas's strokeStyle and
// fillStyle accept that PROTOCOL §7.1 names, as a browser reads them: #RGB,
// #RGBA, #RRGGBB, #RRGGBBAA; rgb()/rgba() with commas or the space syntax
// (numbers, percentages, "/ alpha", none); hsl()/hsla() likewise (hue in
// deg, rad, grad or turn); the 148 named colours, "transparent" and
// "currentcolor" (black: a canvas outside a rendered page has no colour to
// take it from); any
// letter case, surrounding white space ignored. Channels are clamped and
// rounded to 0–255 as browsers store them. It reports false for anything
// else (other colour functions, malformed text): a canvas
// ignores such an assignment and keeps its previous style, and so does the
// interpreter.
func ParseCSSColor(s string) (Color, bool) {
	s = strings.Trim(s, " \t\n\f\r")
	if len(s) > 256 { // no notation is longer; a huge string costs no work
		return Color{}, false
	}
	s = asciiLower(s)
	if strings.HasPrefix(s, "#") {
		return parseHexColor(s[1:])
	}
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		name, args := s[:i], s[i+1:len(s)-1]
		switch name {
		case "rgb", "rgba":
			return parseRGBFunc(args)
		case "hsl", "hsla":
			return parseHSLFunc(args)
		}
		return Color{}, false
	}
	switch s {
	case "transparent":
		return Color{}, true
	case "currentcolor":
		// A canvas takes it from its element's computed colour; a canvas
		// that is not rendered (the phone's recorded actions, a server)
		// has none and uses black, as browsers do.
		return Black, true
	}
	if c, ok := namedColors[s]; ok {
		return Color{uint8(c >> 16), uint8(c >> 8), uint8(c), 255}, true
	}
	return Color{}, false
}

// asciiLower lower-cases ASCII letters only: CSS keywords are ASCII
// case-insensitive, and Unicode folding would let "\u212a" (the Kelvin sign)
// stand for "k".
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func parseHexColor(h string) (Color, bool) {
	var v [8]uint8
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			return Color{}, false
		}
		if i >= len(v) {
			return Color{}, false
		}
		v[i] = c
	}
	switch len(h) {
	case 3, 4:
		c := Color{v[0] * 17, v[1] * 17, v[2] * 17, 255}
		if len(h) == 4 {
			c.A = v[3] * 17
		}
		return c, true
	case 6, 8:
		c := Color{v[0]<<4 | v[1], v[2]<<4 | v[3], v[4]<<4 | v[5], 255}
		if len(h) == 8 {
			c.A = v[6]<<4 | v[7]
		}
		return c, true
	}
	return Color{}, false
}

// cssArg is one argument of a colour function: a number with its unit
// ("" for a plain number, "%" for a percentage, an angle unit), or none.
type cssArg struct {
	v    float64
	unit string
	none bool
}

// splitColorArgs splits the inside of rgb()/hsl() into its arguments and
// tells which syntax it uses: legacy (three or four arguments separated by
// commas, no none) or modern (separated by white space, the alpha after a
// "/"). It reports false for any other shape.
func splitColorArgs(s string) (args []cssArg, alpha *cssArg, legacy, ok bool) {
	var toks []string // arguments, "," and "/"
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r':
			i++
		case c == ',' || c == '/':
			toks = append(toks, s[i:i+1])
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\f\r,/", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
		if len(toks) > 8 {
			return nil, nil, false, false
		}
	}
	parse := func(t string) (cssArg, bool) {
		if t == "none" {
			return cssArg{none: true}, true
		}
		n := cssNumberLen(t)
		if n == 0 {
			return cssArg{}, false
		}
		v, err := strconv.ParseFloat(t[:n], 64)
		if math.IsInf(v, 0) {
			v = math.Copysign(math.MaxFloat64, v) // CSS clamps a huge number
		} else if err != nil {
			return cssArg{}, false
		}
		return cssArg{v: v, unit: t[n:]}, true
	}
	if len(toks) >= 2 && toks[1] == "," { // legacy: a, b, c[, alpha]
		if len(toks) != 5 && len(toks) != 7 {
			return nil, nil, false, false
		}
		for i, t := range toks {
			if (i%2 == 1) != (t == ",") || (i%2 == 0 && (t == "/" || t == "none")) {
				return nil, nil, false, false
			}
			if i%2 == 0 {
				a, ok := parse(t)
				if !ok {
					return nil, nil, false, false
				}
				args = append(args, a)
			}
		}
		if len(args) == 4 {
			alpha, args = &args[3], args[:3]
		}
		return args, alpha, true, true
	}
	// modern: a b c [/ alpha]
	if len(toks) != 3 && len(toks) != 5 {
		return nil, nil, false, false
	}
	for i, t := range toks {
		if t == "," || (t == "/") != (i == 3) {
			return nil, nil, false, false
		}
		if t == "/" {
			continue
		}
		a, ok := parse(t)
		if !ok {
			return nil, nil, false, false
		}
		args = append(args, a)
	}
	if len(args) == 4 {
		alpha, args = &args[3], args[:3]
	}
	return args, alpha, false, true
}

// cssNumberLen returns the length of the CSS <number> at the start of t
// (sign, digits, fraction, exponent), or 0.
func cssNumberLen(t string) int {
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	digits := 0
	for i < len(t) && '0' <= t[i] && t[i] <= '9' {
		i++
		digits++
	}
	if i+1 < len(t) && t[i] == '.' && '0' <= t[i+1] && t[i+1] <= '9' {
		i++
		for i < len(t) && '0' <= t[i] && t[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0
	}
	if i < len(t) && t[i] == 'e' {
		j := i + 1
		if j < len(t) && (t[j] == '+' || t[j] == '-') {
			j++
		}
		if j < len(t) && '0' <= t[j] && t[j] <= '9' {
			for j < len(t) && '0' <= t[j] && t[j] <= '9' {
				j++
			}
			i = j
		}
	}
	return i
}

// alphaByte turns an <alpha-value> (a number 0–1 or a percentage) into 0–255.
func alphaByte(a *cssArg) (uint8, bool) {
	if a == nil {
		return 255, true
	}
	if a.none {
		return 0, true
	}
	v := a.v
	switch a.unit {
	case "":
	case "%":
		v /= 100
	default:
		return 0, false
	}
	return channelByte(v * 255), true
}

// channelByte clamps v to 0–255 and rounds it to the nearest integer.
func channelByte(v float64) uint8 {
	return uint8(math.Round(math.Max(0, math.Min(255, v))))
}

func parseRGBFunc(s string) (Color, bool) {
	args, alpha, legacy, ok := splitColorArgs(s)
	if !ok || len(args) != 3 {
		return Color{}, false
	}
	var c [3]uint8
	for i, a := range args {
		switch {
		case a.none:
			c[i] = 0
		case a.unit == "":
			c[i] = channelByte(a.v)
		case a.unit == "%":
			c[i] = channelByte(a.v * 255 / 100)
		default:
			return Color{}, false
		}
		// The legacy syntax takes three numbers or three percentages.
		if legacy && i > 0 && a.unit != args[0].unit {
			return Color{}, false
		}
	}
	al, ok := alphaByte(alpha)
	if !ok {
		return Color{}, false
	}
	return Color{c[0], c[1], c[2], al}, true
}

func parseHSLFunc(s string) (Color, bool) {
	args, alpha, legacy, ok := splitColorArgs(s)
	if !ok || len(args) != 3 {
		return Color{}, false
	}
	var h float64
	switch a := args[0]; {
	case a.none:
	case a.unit == "" || a.unit == "deg":
		h = a.v
	case a.unit == "rad":
		h = a.v * 180 / math.Pi
	case a.unit == "grad":
		h = a.v * 0.9
	case a.unit == "turn":
		h = a.v * 360
	default:
		return Color{}, false
	}
	var sl [2]float64
	for i, a := range args[1:] {
		switch {
		case a.none:
		case a.unit == "%", a.unit == "" && !legacy: // the modern syntax takes numbers too
			sl[i] = a.v / 100
		default:
			return Color{}, false
		}
	}
	al, ok := alphaByte(alpha)
	if !ok {
		return Color{}, false
	}
	if math.IsInf(h, 0) || math.IsNaN(h) {
		h = 0
	}
	h = math.Mod(h, 360)
	if h < 0 {
		h += 360
	}
	sat, light := math.Max(0, math.Min(1, sl[0])), math.Max(0, math.Min(1, sl[1]))
	// CSS Color 4's hslToRgb.
	f := func(n float64) uint8 {
		k := math.Mod(n+h/30, 12)
		a := sat * math.Min(light, 1-light)
		return channelByte(255 * (light - a*math.Max(-1, math.Min(k-3, math.Min(9-k, 1)))))
	}
	return Color{f(0), f(8), f(4), al}, true
}

// namedColors are CSS Color 4's named colours (0xRRGGBB).
var namedColors = map[string]uint32{
	"aliceblue": 0xf0f8ff, "antiquewhite": 0xfaebd7, "aqua": 0x00ffff, "aquamarine": 0x7fffd4,
	"azure": 0xf0ffff, "beige": 0xf5f5dc, "bisque": 0xffe4c4, "black": 0x000000,
	"blanchedalmond": 0xffebcd, "blue": 0x0000ff, "blueviolet": 0x8a2be2, "brown": 0xa52a2a,
	"burlywood": 0xdeb887, "cadetblue": 0x5f9ea0, "chartreuse": 0x7fff00, "chocolate": 0xd2691e,
	"coral": 0xff7f50, "cornflowerblue": 0x6495ed, "cornsilk": 0xfff8dc, "crimson": 0xdc143c,
	"cyan": 0x00ffff, "darkblue": 0x00008b, "darkcyan": 0x008b8b, "darkgoldenrod": 0xb8860b,
	"darkgray": 0xa9a9a9, "darkgreen": 0x006400, "darkgrey": 0xa9a9a9, "darkkhaki": 0xbdb76b,
	"darkmagenta": 0x8b008b, "darkolivegreen": 0x556b2f, "darkorange": 0xff8c00, "darkorchid": 0x9932cc,
	"darkred": 0x8b0000, "darksalmon": 0xe9967a, "darkseagreen": 0x8fbc8f, "darkslateblue": 0x483d8b,
	"darkslategray": 0x2f4f4f, "darkslategrey": 0x2f4f4f, "darkturquoise": 0x00ced1, "darkviolet": 0x9400d3,
	"deeppink": 0xff1493, "deepskyblue": 0x00bfff, "dimgray": 0x696969, "dimgrey": 0x696969,
	"dodgerblue": 0x1e90ff, "firebrick": 0xb22222, "floralwhite": 0xfffaf0, "forestgreen": 0x228b22,
	"fuchsia": 0xff00ff, "gainsboro": 0xdcdcdc, "ghostwhite": 0xf8f8ff, "gold": 0xffd700,
	"goldenrod": 0xdaa520, "gray": 0x808080, "green": 0x008000, "greenyellow": 0xadff2f,
	"grey": 0x808080, "honeydew": 0xf0fff0, "hotpink": 0xff69b4, "indianred": 0xcd5c5c,
	"indigo": 0x4b0082, "ivory": 0xfffff0, "khaki": 0xf0e68c, "lavender": 0xe6e6fa,
	"lavenderblush": 0xfff0f5, "lawngreen": 0x7cfc00, "lemonchiffon": 0xfffacd, "lightblue": 0xadd8e6,
	"lightcoral": 0xf08080, "lightcyan": 0xe0ffff, "lightgoldenrodyellow": 0xfafad2, "lightgray": 0xd3d3d3,
	"lightgreen": 0x90ee90, "lightgrey": 0xd3d3d3, "lightpink": 0xffb6c1, "lightsalmon": 0xffa07a,
	"lightseagreen": 0x20b2aa, "lightskyblue": 0x87cefa, "lightslategray": 0x778899, "lightslategrey": 0x778899,
	"lightsteelblue": 0xb0c4de, "lightyellow": 0xffffe0, "lime": 0x00ff00, "limegreen": 0x32cd32,
	"linen": 0xfaf0e6, "magenta": 0xff00ff, "maroon": 0x800000, "mediumaquamarine": 0x66cdaa,
	"mediumblue": 0x0000cd, "mediumorchid": 0xba55d3, "mediumpurple": 0x9370db, "mediumseagreen": 0x3cb371,
	"mediumslateblue": 0x7b68ee, "mediumspringgreen": 0x00fa9a, "mediumturquoise": 0x48d1cc, "mediumvioletred": 0xc71585,
	"midnightblue": 0x191970, "mintcream": 0xf5fffa, "mistyrose": 0xffe4e1, "moccasin": 0xffe4b5,
	"navajowhite": 0xffdead, "navy": 0x000080, "oldlace": 0xfdf5e6, "olive": 0x808000,
	"olivedrab": 0x6b8e23, "orange": 0xffa500, "orangered": 0xff4500, "orchid": 0xda70d6,
	"palegoldenrod": 0xeee8aa, "palegreen": 0x98fb98, "paleturquoise": 0xafeeee, "palevioletred": 0xdb7093,
	"papayawhip": 0xffefd5, "peachpuff": 0xffdab9, "peru": 0xcd853f, "pink": 0xffc0cb,
	"plum": 0xdda0dd, "powderblue": 0xb0e0e6, "purple": 0x800080, "rebeccapurple": 0x663399,
	"red": 0xff0000, "rosybrown": 0xbc8f8f, "royalblue": 0x4169e1, "saddlebrown": 0x8b4513,
	"salmon": 0xfa8072, "sandybrown": 0xf4a460, "seagreen": 0x2e8b57, "seashell": 0xfff5ee,
	"sienna": 0xa0522d, "silver": 0xc0c0c0, "skyblue": 0x87ceeb, "slateblue": 0x6a5acd,
	"slategray": 0x708090, "slategrey": 0x708090, "snow": 0xfffafa, "springgreen": 0x00ff7f,
	"steelblue": 0x4682b4, "tan": 0xd2b48c, "teal": 0x008080, "thistle": 0xd8bfd8,
	"tomato": 0xff6347, "turquoise": 0x40e0d0, "violet": 0xee82ee, "wheat": 0xf5deb3,
	"white": 0xffffff, "whitesmoke": 0xf5f5f5, "yellow": 0xffff00, "yellowgreen": 0x9acd32,
}
