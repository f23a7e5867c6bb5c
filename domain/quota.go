package domain

import "unicode/utf8"

// Per-owner quota defaults: one account must not be able to fill the store
// (or make a list answer hundreds of MiB).
const (
	DefaultMaxDrawingsPerOwner = 10000
	DefaultMaxBytesPerOwner    = 256 << 20
)

// Quota bounds what one owner may store: the number of drawings and the
// total size of their actions (Actions.Size, the text's bytes). A zero
// field means no limit on it.
type Quota struct {
	MaxDrawings int64
	MaxBytes    int64
}

// Usage is what one owner stores: the drawings and their actions' bytes.
type Usage struct {
	Drawings int64
	Bytes    int64
}

// Add returns u changed by drawings and bytes.
func (u Usage) Add(drawings, bytes int64) Usage {
	return Usage{Drawings: u.Drawings + drawings, Bytes: u.Bytes + bytes}
}

// SaveDelta is what saving next in place of current (nil: a new drawing)
// adds to its owner's usage: replacing counts only the size difference.
func SaveDelta(current, next *Drawing) (drawings, bytes int64) {
	if current == nil {
		return 1, int64(next.actions.Size())
	}
	return 0, int64(next.actions.Size()) - int64(current.actions.Size())
}

// AfterSave returns the usage once next has replaced current (nil: created).
func (u Usage) AfterSave(current, next *Drawing) Usage { return u.Add(SaveDelta(current, next)) }

// AfterDelete returns the usage once d is deleted. A delete is always
// allowed.
func (u Usage) AfterDelete(d *Drawing) Usage { return u.Add(-1, -int64(d.actions.Size())) }

// Allow decides whether adding drawings and bytes to usage stays within
// the quota. Only growth is checked: a change that adds nothing to a field
// (a smaller replacement) is allowed even when the owner is over the
// quota already, so that an owner over a lowered quota can still shrink.
// Errors: EQUOTA.
func (q Quota) Allow(usage Usage, drawings, bytes int64) error {
	if drawings > 0 && q.MaxDrawings > 0 && usage.Drawings+drawings > q.MaxDrawings {
		return Errorf(EQUOTA, "You have %d drawings, the most one account may keep; delete some first.", q.MaxDrawings)
	}
	if bytes > 0 && q.MaxBytes > 0 && usage.Bytes+bytes > q.MaxBytes {
		return Errorf(EQUOTA, "Your drawings would take more than the %d bytes one account may keep; delete some first.", q.MaxBytes)
	}
	return nil
}

// AllowSave is Allow for saving next in place of current (nil: a new
// drawing). Errors: EQUOTA.
func (q Quota) AllowSave(usage Usage, current, next *Drawing) error {
	d, b := SaveDelta(current, next)
	return q.Allow(usage, d, b)
}

// Size returns the length in bytes of the actions' text, the measure of
// the bytes quota, from whichever form a holds, without decoding it.
func (a Actions) Size() int {
	if a.text != "" || a.quoted == "" {
		return len(a.text)
	}
	return unquotedLen(a.quoted[1 : len(a.quoted)-1])
}

// unquotedLen is the length of the string the body of a JSON string (no
// quotes) decodes to, as encoding/json decodes it.
func unquotedLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			n++
			i++
			continue
		}
		if i+1 >= len(s) {
			return n + 1
		}
		if s[i+1] != 'u' {
			n++
			i += 2
			continue
		}
		r, ok := hex4(s, i+2)
		if !ok {
			return n + len(s) - i // not a form this package writes
		}
		i += 6
		if utf16Surrogate(r) {
			if lo, ok := hex4(s, i+2); ok && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' && 0xdc00 <= lo && lo < 0xe000 && r < 0xdc00 {
				n += 4
				i += 6
				continue
			}
			r = utf8.RuneError
		}
		n += utf8.RuneLen(r)
	}
	return n
}

func utf16Surrogate(r rune) bool { return 0xd800 <= r && r < 0xe000 }

func hex4(s string, at int) (rune, bool) {
	if at+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[at : at+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
