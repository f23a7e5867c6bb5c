package domain

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Actions is a drawing's canvas action list as the protocol carries it: the
// JSON text the draw page recorded, which the list page JSON.parses. A
// non-zero Actions was either validated once by ParseActions or read back
// from storage, so nothing downstream validates it again.
//
// Every answer carries actions as a JSON string (the text, quoted), so an
// Actions can also hold that quoted form: a store that keeps it (the
// embedded one does) serves a list by copying bytes instead of re-encoding
// every drawing. Each form is derived from the other on demand.
type Actions struct {
	text   string
	quoted string
}

// ParseActions validates the JSON text of a canvas action list of at most
// maxBytes bytes. Errors: ETOOLARGE, EINVALID (empty, not JSON text, or not
// UTF-8, which JSON text must be).
func ParseActions(text string, maxBytes int) (Actions, error) {
	if len(text) > maxBytes {
		return Actions{}, Errorf(ETOOLARGE, "Actions are larger than %d bytes.", maxBytes)
	}
	if text == "" {
		return Actions{}, Errorf(EINVALID, "Actions are required.")
	}
	if !json.Valid([]byte(text)) || !utf8.ValidString(text) {
		return Actions{}, Errorf(EINVALID, "Actions are not valid JSON text.")
	}
	return Actions{text: text}, nil
}

// ParseActionList validates the actions of a v2 save (PROTOCOL §7): the
// JSON text of an array, the canvas action list, within maxBytes. Errors:
// as ParseActions, and EINVALID for JSON text that is not an array.
func ParseActionList(text string, maxBytes int) (Actions, error) {
	a, err := ParseActions(text, maxBytes)
	if err != nil {
		return Actions{}, err
	}
	if t := strings.TrimLeft(text, " \t\r\n"); t == "" || t[0] != '[' {
		return Actions{}, Errorf(EINVALID, "actions must be a JSON array.")
	}
	return a, nil
}

// ActionsFromStorage rebuilds actions text a repository read. It trusts the
// text: it was validated when saved, or written by the original service.
func ActionsFromStorage(text string) Actions { return Actions{text: text} }

// ActionsFromStorageQuoted rebuilds actions from the JSON string form
// (Quoted) a repository stored. It checks only that the form is delimited
// as a JSON string, not its every escape: the repository wrote it.
func ActionsFromStorageQuoted(quoted string) (Actions, error) {
	if len(quoted) < 2 || quoted[0] != '"' || quoted[len(quoted)-1] != '"' {
		return Actions{}, Errorf(EINTERNAL, "Stored actions are not a JSON string.")
	}
	return Actions{quoted: quoted}, nil
}

// WithQuoted returns the same actions holding their quoted form too, for a
// repository about to store it; it costs one pass over the text.
func (a Actions) WithQuoted() Actions {
	if a.quoted == "" {
		a.quoted = string(AppendJSONString(make([]byte, 0, len(a.text)+len(a.text)/4+2), a.text))
	}
	return a
}

// IsZero reports whether a holds no actions (the zero value).
func (a Actions) IsZero() bool { return a.text == "" && a.quoted == "" }

// Text returns the JSON text of the action list.
func (a Actions) Text() string {
	if a.text != "" || a.quoted == "" {
		return a.text
	}
	var s string
	if err := json.Unmarshal([]byte(a.quoted), &s); err != nil {
		return "" // unreachable for a form Quoted produced
	}
	return s
}

// Quoted returns the text as a JSON string, exactly as encoding/json
// encodes it with HTML escaping off.
func (a Actions) Quoted() string { return a.WithQuoted().quoted }

// AppendQuoted appends the quoted form to dst, without keeping it: a
// repository writing it into a record pays for one copy, not two.
func (a Actions) AppendQuoted(dst []byte) []byte {
	if a.quoted != "" {
		return append(dst, a.quoted...)
	}
	return AppendJSONString(dst, a.text)
}

// Len returns the length of the text in bytes when it is at hand, else of
// the quoted form: a size hint for buffers.
func (a Actions) Len() int {
	if a.text != "" {
		return len(a.text)
	}
	return len(a.quoted)
}

// AppendJSONString appends s as a JSON string exactly as encoding/json
// encodes it with HTML escaping off: invalid UTF-8 becomes U+FFFD, and
// U+2028 and U+2029 are escaped. It exists because encoding/json offers no
// way to append a string to a buffer without an intermediate copy, and
// actions texts run up to a megabyte.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonSafe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			start = i + size
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			start = i + size
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonSafe marks the bytes AppendJSONString copies as they are: printable
// ASCII but '"' and '\\'.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
