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

// Plus returns u with delta added.
func (u Usage) Plus(delta Usage) Usage {
	return Usage{Drawings: u.Drawings + delta.Drawings, Bytes: u.Bytes + delta.Bytes}
}

// Minus returns u with v taken away.
func (u Usage) Minus(v Usage) Usage {
	return Usage{Drawings: u.Drawings - v.Drawings, Bytes: u.Bytes - v.Bytes}
}

// Usage is what the drawing takes of its owner's quota: itself and its
// actions' bytes; nothing for nil (no drawing). A repository takes it
// before a save's update, which may change the drawing in place, and again
// after: the difference is what the save adds (replacing a drawing counts
// only the size difference).
func (d *Drawing) Usage() Usage {
	if d == nil {
		return Usage{}
	}
	return Usage{Drawings: 1, Bytes: int64(d.actions.Size())}
}

// Split returns the parts of u that grow (each field ≥ 0) and that
// shrink (each ≤ 0): a store reserves the growth before a write and gives
// back the shrinkage after it, so that a failure between the two can only
// over-count.
func (u Usage) Split() (grow, shrink Usage) {
	return Usage{Drawings: max(u.Drawings, 0), Bytes: max(u.Bytes, 0)},
		Usage{Drawings: min(u.Drawings, 0), Bytes: min(u.Bytes, 0)}
}

// Bound is the condition under which an owner's usage may take a change:
// each checked field of the usage must be at most its maximum. A store that
// reserves with one conditional update (MongoDB) compares against it.
type Bound struct {
	CheckDrawings, CheckBytes bool
	MaxDrawings, MaxBytes     int64
}

// Holds reports whether usage meets the bound.
func (b Bound) Holds(usage Usage) bool {
	return (!b.CheckDrawings || usage.Drawings <= b.MaxDrawings) && (!b.CheckBytes || usage.Bytes <= b.MaxBytes)
}

// Bound returns the condition under which adding delta to a usage stays
// within the quota. Only growth is checked: a change that adds nothing to a
// field (a smaller replacement, a delete) is allowed even when the owner is
// over the quota already, so that an owner over a lowered quota can still
// shrink.
func (q Quota) Bound(delta Usage) Bound {
	return Bound{
		CheckDrawings: delta.Drawings > 0 && q.MaxDrawings > 0, MaxDrawings: q.MaxDrawings - delta.Drawings,
		CheckBytes: delta.Bytes > 0 && q.MaxBytes > 0, MaxBytes: q.MaxBytes - delta.Bytes,
	}
}

// Allow decides whether adding delta to usage stays within the quota (see
// Bound). Errors: EQUOTA.
func (q Quota) Allow(usage, delta Usage) error {
	b := q.Bound(delta)
	if b.CheckDrawings && usage.Drawings > b.MaxDrawings {
		return Errorf(EQUOTA, "You have %d drawings, the most one account may keep; delete some first.", q.MaxDrawings)
	}
	if b.CheckBytes && usage.Bytes > b.MaxBytes {
		return Errorf(EQUOTA, "Your drawings would take more than the %d bytes one account may keep; delete some first.", q.MaxBytes)
	}
	return nil
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
