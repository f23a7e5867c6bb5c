package domain

import "time"

// Drawing limits.
const (
	MaxDrawingIDLength     = 64
	MaxOwnerLength         = 128
	DefaultMaxActionsBytes = 1 << 20
)

// Drawing is one saved canvas of one user: the aggregate of the paints
// routes. Its owner and id never change; its actions are replaced whole.
type Drawing struct {
	owner     string
	id        string
	actions   Actions
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

func validateOwner(owner string) error {
	if owner == "" || len(owner) > MaxOwnerLength {
		return Errorf(EINVALID, "Drawing owner must be an openId of 1 to %d characters.", MaxOwnerLength)
	}
	return nil
}

// NewDrawing creates a drawing after validating its owner and id; actions
// were validated when parsed.
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
	now = now.UTC()
	return &Drawing{owner: owner, id: id, actions: actions, createdAt: now, updatedAt: now}, nil
}

// ReplaceActions replaces the drawing's actions, as saving a re-opened
// drawing does.
func (d *Drawing) ReplaceActions(actions Actions, now time.Time) error {
	if actions.IsZero() {
		return Errorf(EINVALID, "Actions are required.")
	}
	d.actions = actions
	d.updatedAt = now.UTC()
	if d.updatedAt.Before(d.createdAt) { // a clock step backwards must not break the order
		d.updatedAt = d.createdAt
	}
	return nil
}

// UnmarshalDrawingFromStorage rebuilds a drawing that a repository read.
// Its actions come from ActionsFromStorage or ActionsFromStorageQuoted,
// which trust them; it checks only what identifies the drawing.
func UnmarshalDrawingFromStorage(owner, id string, actions Actions, createdAt, updatedAt time.Time) (*Drawing, error) {
	d := new(Drawing)
	if err := d.RestoreFromStorage(owner, id, actions, createdAt, updatedAt); err != nil {
		return nil, err
	}
	return d, nil
}

// RestoreFromStorage fills a zero Drawing as UnmarshalDrawingFromStorage
// builds one, for a repository that allocates a page of drawings at once
// (make([]Drawing, n)) rather than one by one. It refuses a drawing that is
// not zero: it rebuilds, it never edits.
func (d *Drawing) RestoreFromStorage(owner, id string, actions Actions, createdAt, updatedAt time.Time) error {
	if d.owner != "" || d.id != "" {
		return Errorf(EINTERNAL, "A stored drawing can only be restored into a zero Drawing.")
	}
	if owner == "" || id == "" {
		return Errorf(EINTERNAL, "Stored drawing has no owner or id.")
	}
	*d = Drawing{owner: owner, id: id, actions: actions, createdAt: createdAt.UTC(), updatedAt: updatedAt.UTC()}
	return nil
}

func (d *Drawing) Owner() string        { return d.owner }
func (d *Drawing) ID() string           { return d.id }
func (d *Drawing) Actions() Actions     { return d.actions }
func (d *Drawing) CreatedAt() time.Time { return d.createdAt }
func (d *Drawing) UpdatedAt() time.Time { return d.updatedAt }
