package httpapi

import (
	"unicode/utf8"
)

// decodePaintForm decodes the JSON body of save and delete when it has the
// shape clients send: one object whose members are "id" and "actions" (either
// may be missing) with string values, in any order, white space allowed. It
// reports false for anything else — other members, other value types, keys
// with escapes, \u escapes of surrogates, strings that are not valid UTF-8,
// trailing bytes — and the caller then takes encoding/json, which gives the
// same result or the exact error. It reads the body once; json.Unmarshal
// reads it twice (a validity scan, then the decoding), which was a third of
// the CPU of saving a large drawing.
func decodePaintForm(b []byte) (paintForm, bool) {
	var f paintForm
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return f, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return f, skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return f, false
		}
		keyEnd := i + 1
		for keyEnd < len(b) && b[keyEnd] != '"' && b[keyEnd] != '\\' {
			keyEnd++
		}
		if keyEnd >= len(b) || b[keyEnd] != '"' {
			return f, false
		}
		key := b[i+1 : keyEnd]
		i = skipSpace(b, keyEnd+1)
		if i >= len(b) || b[i] != ':' {
			return f, false
		}
		i = skipSpace(b, i+1)
		val, next, ok := unquoteJSON(b, i)
		if !ok {
			return f, false
		}
		switch string(key) {
		case "id":
			f.ID = val
		case "actions":
			f.Actions = val
		default:
			return f, false
		}
		i = skipSpace(b, next)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return f, skipSpace(b, i+1) == len(b)
		}
		return f, false
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// unquoteJSON decodes the JSON string that starts at b[i] and returns it
// with the index after its closing quote; false for anything the fast path
// leaves to encoding/json.
func unquoteJSON(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, false
	}
	i++
	start := i
	for i < len(b) && b[i] != '"' && b[i] != '\\' && b[i] >= 0x20 {
		i++
	}
	if i < len(b) && b[i] == '"' { // no escapes: one copy
		if !utf8.Valid(b[start:i]) {
			return "", 0, false
		}
		return string(b[start:i]), i + 1, true
	}
	// Escapes are ASCII and escaped runes are valid by construction, so the
	// result is valid UTF-8 exactly when the raw string is: checked once, at
	// the closing quote.
	out := make([]byte, 0, len(b)-start)
	out = append(out, b[start:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			if !utf8.Valid(b[start:i]) {
				return "", 0, false
			}
			return string(out), i + 1, true
		case c < 0x20:
			return "", 0, false
		case c != '\\':
			j := i + 1
			for j < len(b) && b[j] != '"' && b[j] != '\\' && b[j] >= 0x20 {
				j++
			}
			out = append(out, b[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(b) {
			return "", 0, false
		}
		switch b[i+1] {
		case '"', '\\', '/':
			out = append(out, b[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+6 > len(b) {
				return "", 0, false
			}
			r := rune(0)
			for _, h := range b[i+2 : i+6] {
				switch {
				case '0' <= h && h <= '9':
					r = r<<4 | rune(h-'0')
				case 'a' <= h && h <= 'f':
					r = r<<4 | rune(h-'a'+10)
				case 'A' <= h && h <= 'F':
					r = r<<4 | rune(h-'A'+10)
				default:
					return "", 0, false
				}
			}
			if 0xD800 <= r && r <= 0xDFFF { // surrogates: encoding/json pairs them up
				return "", 0, false
			}
			out = utf8.AppendRune(out, r)
			i += 6
			continue
		default:
			return "", 0, false
		}
		i += 2
	}
	return "", 0, false
}
