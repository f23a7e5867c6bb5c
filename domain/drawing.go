package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Drawing limits.
const (
	MaxDrawingIDLength     = 64
	MaxOwnerLength         = 128
	DefaultMaxActionsBytes = 1 << 20
	MaxTitleLength         = 64 // characters (PROTOCOL §7)
)

// Drawing is one saved canvas of one user: the aggregate of the paints
// routes and of the v2 drawing routes (PROTOCOL §7). Its owner and id never
// change; its actions are replaced whole. Every save gives it a new
// revision, from which its ETag comes.
type Drawing struct {
	owner         string
	id            string
	actions       Actions
	title         string
	titleInReview bool
	// revision is a random non-zero value drawn by every change; zero for
	// a drawing stored without one (see Revision).
	revision  uint64
	createdAt time.Time
	updatedAt time.Time
}

// ValidateDrawingID checks a client-chosen id: 1–64 characters of
// [A-Za-z0-9_-] (the original client makes about 12 of [a-z0-9]).
func ValidateDrawingID(id string) error {
	if id == "" {
		return Errorf(EINVALID, "Drawing id is required.")
	}
	if len(id) > MaxDrawingIDLength {
		return Errorf(EINVALID, "Drawing id is longer than %d characters.", MaxDrawingIDLength)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return Errorf(EINVALID, "Drawing id may contain only A-Z, a-z, 0-9, '_' and '-'.")
		}
	}
	return nil
}

// ValidateTitle checks a drawing's title: 0 to 64 characters of UTF-8, no
// control characters; "" is an untitled drawing.
func ValidateTitle(title string) error {
	if !utf8.ValidString(title) || utf8.RuneCountInString(title) > MaxTitleLength {
		return Errorf(EINVALID, "title must be at most %d characters of UTF-8.", MaxTitleLength)
	}
	if strings.IndexFunc(title, unicode.IsControl) >= 0 {
		return Errorf(EINVALID, "title may not contain control characters.")
	}
	return nil
}

func validateOwner(owner string) error {
	if owner == "" || len(owner) > MaxOwnerLength {
		return Errorf(EINVALID, "Drawing owner must be an openId of 1 to %d characters.", MaxOwnerLength)
	}
	return nil
}

// NewRevision draws a drawing revision: a random non-zero 64-bit value
// from the CSPRNG, so that two saves, even on two instances in the same
// nanosecond, never share an ETag. Errors: EINTERNAL without randomness.
func NewRevision() (uint64, error) {
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, Wrap(EINTERNAL, err, "No randomness for a drawing revision.")
		}
		if r := binary.BigEndian.Uint64(b[:]); r != 0 {
			return r, nil
		}
	}
}

// DerivedRevision is the revision of a drawing stored without one (an
// older file, or the original service's documents), from what its store
// holds of it (e.g. the actions text): the first 60 bits of the SHA-256 of
// parts, each preceded by its length, so its ETag reads "0 and 15 hex
// digits. It is stable until the drawing's next save, which draws a real
// revision.
func DerivedRevision(parts ...string) uint64 {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, p := range parts {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(p)))])
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	r := binary.BigEndian.Uint64(h.Sum(sum[:0])) >> 4
	if r == 0 {
		r = 1
	}
	return r
}

// ETagOf is the strong entity tag of a revision: the 16 lower-case hex
// digits of it in double quotes.
func ETagOf(revision uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], revision)
	return `"` + hex.EncodeToString(b[:]) + `"`
}

// NewDrawing creates an untitled drawing with a fresh revision after
// validating its owner and id; actions were validated when parsed.
// Errors: EINVALID, EINTERNAL without randomness.
func NewDrawing(owner, id string, actions Actions, now time.Time) (*Drawing, error) {
	if err := validateOwner(owner); err != nil {
		return nil, err
	}
	if err := ValidateDrawingID(id); err != nil {
		return nil, err
	}
	if actions.IsZero() {
		return nil, Errorf(EINVALID, "Actions are required.")
	}
	rev, err := NewRevision()
	if err != nil {
		return nil, err
	}
	now = now.UTC()
	return &Drawing{owner: owner, id: id, actions: actions, revision: rev, createdAt: now, updatedAt: now}, nil
}

// ReplaceActions replaces the drawing's actions, as saving a re-opened
// drawing does, and gives it a new revision; the title stays (a legacy
// save never changes it). Errors: EINVALID, EINTERNAL; on error the drawing
// is unchanged.
func (d *Drawing) ReplaceActions(actions Actions, now time.Time) error {
	if actions.IsZero() {
		return Errorf(EINVALID, "Actions are required.")
	}
	rev, err := NewRevision()
	if err != nil {
		return err
	}
	d.actions = actions
	d.revision = rev
	d.updatedAt = now.UTC()
	if d.updatedAt.Before(d.createdAt) { // a clock step backwards must not break the order
		d.updatedAt = d.createdAt
	}
	return nil
}

// SetTitle gives the drawing a title (validated; "" for none) and a new
// revision. verdict is msg_sec_check's on a non-empty title, set by the use
// case that asked WeChat, never by a client: ContentRisky refuses it
// (ECONTENTRISKY), ContentPass or "" (no content check configured, or an
// empty title) stores it unflagged, and ContentReview, or a verdict this
// code does not know, stores it flagged (TitleInReview). Errors: EINVALID,
// ECONTENTRISKY, EINTERNAL; on error the drawing is unchanged.
func (d *Drawing) SetTitle(title string, verdict ContentSuggestion) error {
	if err := ValidateTitle(title); err != nil {
		return err
	}
	inReview := false
	if title != "" {
		switch verdict {
		case ContentRisky:
			return Errorf(ECONTENTRISKY, "WeChat's content check refused this title; choose another.")
		case ContentPass, "":
		default:
			inReview = true
		}
	}
	rev, err := NewRevision()
	if err != nil {
		return err
	}
	d.title, d.titleInReview, d.revision = title, inReview, rev
	return nil
}

// StoredDrawing is what a repository read of a drawing, for
// UnmarshalDrawingFromStorage. A record written before titles and
// revisions has "" and false and a zero Revision.
type StoredDrawing struct {
	Owner, ID string
	// Actions come from ActionsFromStorage or ActionsFromStorageQuoted,
	// which trust them.
	Actions       Actions
	Title         string
	TitleInReview bool
	// Revision is the stored revision, or zero when the store has none:
	// the drawing's revision is then DerivedRevision of its actions text,
	// unless the store passes one derived from what else it holds.
	Revision             uint64
	CreatedAt, UpdatedAt time.Time
}

// UnmarshalDrawingFromStorage rebuilds a drawing that a repository read. It
// trusts what was stored (validated when saved, or written by the original
// service); it checks only what identifies the drawing. Errors: EINTERNAL.
func UnmarshalDrawingFromStorage(s StoredDrawing) (*Drawing, error) {
	d := new(Drawing)
	if err := d.RestoreFromStorage(s); err != nil {
		return nil, err
	}
	return d, nil
}

// RestoreFromStorage fills a zero Drawing as UnmarshalDrawingFromStorage
// builds one, for a repository that allocates a page of drawings at once
// (make([]Drawing, n)) rather than one by one. It refuses a drawing that is
// not zero: it rebuilds, it never edits. Errors: EINTERNAL.
func (d *Drawing) RestoreFromStorage(s StoredDrawing) error {
	if d.owner != "" || d.id != "" {
		return Errorf(EINTERNAL, "A stored drawing can only be restored into a zero Drawing.")
	}
	if s.Owner == "" || s.ID == "" {
		return Errorf(EINTERNAL, "Stored drawing has no owner or id.")
	}
	*d = Drawing{owner: s.Owner, id: s.ID, actions: s.Actions, title: s.Title, titleInReview: s.TitleInReview,
		revision: s.Revision, createdAt: s.CreatedAt.UTC(), updatedAt: s.UpdatedAt.UTC()}
	return nil
}

func (d *Drawing) Owner() string        { return d.owner }
func (d *Drawing) ID() string           { return d.id }
func (d *Drawing) Actions() Actions     { return d.actions }
func (d *Drawing) Title() string        { return d.title }
func (d *Drawing) CreatedAt() time.Time { return d.createdAt }
func (d *Drawing) UpdatedAt() time.Time { return d.updatedAt }

// TitleInReview reports whether WeChat's content check asked for the
// title to be reviewed: it is stored and shown, flagged until the next
// title.
func (d *Drawing) TitleInReview() bool { return d.titleInReview }

// Bytes is the length of the actions' text, what the bytes quota counts.
func (d *Drawing) Bytes() int64 { return int64(d.actions.Size()) }

// Revision identifies the drawing's saved state: the one its last save
// drew, or, for a drawing stored without one, DerivedRevision of its
// actions text (computed on each call: a hash of up to a megabyte).
func (d *Drawing) Revision() uint64 {
	if d.revision != 0 {
		return d.revision
	}
	return DerivedRevision(d.actions.Text())
}

// StoredRevision is the revision a store keeps: zero for a drawing read
// without one and not saved since, whose revision is derived.
func (d *Drawing) StoredRevision() uint64 { return d.revision }

// ETag is the drawing's strong entity tag (ETagOf its Revision).
func (d *Drawing) ETag() string { return ETagOf(d.Revision()) }

// Summary is the drawing as a page lists it.
func (d *Drawing) Summary() DrawingSummary {
	return DrawingSummary{ID: d.id, Title: d.title, TitleInReview: d.titleInReview, CreatedAt: d.createdAt,
		UpdatedAt: d.updatedAt, Bytes: d.Bytes(), Revision: d.Revision()}
}

// DrawingSummary is a drawing as a v2 page lists it (PROTOCOL §7): what a
// repository keeps beside the actions, never the actions themselves, so
// that a page of summaries costs the same whatever the drawings weigh.
type DrawingSummary struct {
	ID            string
	Title         string
	TitleInReview bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Bytes         int64  // the actions text's length
	Revision      uint64 // never zero: a derived one for a drawing stored without
}

// ETag is the drawing's strong entity tag, as Drawing.ETag gives it.
func (s DrawingSummary) ETag() string { return ETagOf(s.Revision) }
