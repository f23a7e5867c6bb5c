package domain

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
)

// Precondition is what a conditional request asks of a drawing's current
// state: If-Match and If-None-Match: * (RFC 9110 §13.1.1–2, PROTOCOL §7).
// The zero Precondition asks nothing. A store checks it in the same atomic
// step as the change it guards.
type Precondition struct {
	// IfMatch lists entity tags of which the drawing's current ETag must
	// be one (strong comparison: a weak tag never matches); "*" matches
	// any existing drawing. Empty: no condition.
	IfMatch []string
	// IfNoneMatchAny is If-None-Match: *: there must be no drawing.
	IfNoneMatchAny bool
}

// IsZero reports whether p asks nothing.
func (p Precondition) IsZero() bool { return len(p.IfMatch) == 0 && !p.IfNoneMatchAny }

// Check decides p against the drawing's current ETag, "" when there is no
// drawing. Errors: ECONFLICT when it does not hold.
func (p Precondition) Check(current string) error {
	if p.IfNoneMatchAny && current != "" {
		return Errorf(ECONFLICT, "The drawing exists already (If-None-Match: *).")
	}
	if len(p.IfMatch) == 0 {
		return nil
	}
	if current != "" {
		for _, tag := range p.IfMatch {
			if tag == "*" || tag == current {
				return nil
			}
		}
	}
	if current == "" {
		return Errorf(ECONFLICT, "The drawing does not exist (any more): If-Match does not hold.")
	}
	return Errorf(ECONFLICT, "The drawing changed since its ETag was read: If-Match does not hold; read it again.")
}

// PagePosition is where a page of an owner's drawings ended, in the v2
// order (createdAt desc, then id desc): the last drawing's createdAt, in
// the store's own unit (Unix nanoseconds, or milliseconds where the store
// keeps only those), and its id. Undated marks a drawing stored without a
// createdAt (the original service's documents), which the store orders
// after every dated one.
type PagePosition struct {
	CreatedAt int64
	Undated   bool
	ID        string
}

// Page cursors are opaque to clients: base64url of a version byte, a
// flags byte, CreatedAt (8 bytes), the id, then 8 bytes of SHA-256 over
// the owner and all that. The digest is no secret and no authentication:
// it tells a cursor made for this owner from a garbled, truncated or
// foreign one. A cursor crafted to pass can only name a position in the
// owner's own drawings.
const (
	cursorVersion  = 1
	cursorTagBytes = 8
	// MaxPageCursorLength bounds a cursor's text: a stored id of the
	// original service may be longer than a valid one.
	MaxPageCursorLength = 1024
)

// Cursor encodes p as owner's opaque page cursor.
func (p PagePosition) Cursor(owner string) string {
	b := make([]byte, 10, 10+len(p.ID)+cursorTagBytes)
	b[0] = cursorVersion
	if p.Undated {
		b[1] = 1
	}
	binary.BigEndian.PutUint64(b[2:], uint64(p.CreatedAt))
	b = append(b, p.ID...)
	b = append(b, cursorTag(owner, b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParsePageCursor decodes a cursor Cursor made for owner. Errors:
// EINVALID for anything else (garbled, truncated, of another owner or
// version); never a panic.
func ParsePageCursor(owner, cursor string) (PagePosition, error) {
	bad := Errorf(EINVALID, "cursor is not one this server gave for your drawings; start again without it.")
	if cursor == "" || len(cursor) > MaxPageCursorLength {
		return PagePosition{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) < 10+1+cursorTagBytes || b[0] != cursorVersion || b[1]&^1 != 0 {
		return PagePosition{}, bad
	}
	body, tag := b[:len(b)-cursorTagBytes], b[len(b)-cursorTagBytes:]
	if string(cursorTag(owner, body)) != string(tag) {
		return PagePosition{}, bad
	}
	return PagePosition{CreatedAt: int64(binary.BigEndian.Uint64(body[2:10])), Undated: body[1] == 1, ID: string(body[10:])}, nil
}

func cursorTag(owner string, body []byte) []byte {
	// One buffer and sha256.Sum256: a page's cursor costs one small
	// allocation, not a hasher's.
	var stack [256]byte
	b := append(stack[:0], "onestroke page cursor\x00"...)
	b = binary.AppendUvarint(b, uint64(len(owner)))
	b = append(b, owner...)
	b = append(b, body...)
	sum := sha256.Sum256(b)
	return sum[:cursorTagBytes]
}
