package app

import (
	"context"
	"time"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// DefaultListLimit caps the legacy list: the original returned every drawing.
const DefaultListLimit = 100

// DrawingService holds the drawing use cases of a signed-in user.
type DrawingService struct {
	Repo            ports.DrawingRepository
	Now             ports.Clock
	MaxActionsBytes int // 0 means domain.DefaultMaxActionsBytes
	ListLimit       int // 0 means DefaultListLimit
	// Quota bounds each owner's drawings; a zero field means its default,
	// domain.DefaultMaxDrawingsPerOwner or domain.DefaultMaxBytesPerOwner.
	Quota domain.Quota
}

// Save creates the user's drawing id or replaces its actions, within the
// user's quota. Errors: EUNAUTHORIZED without a user, EINVALID, ETOOLARGE,
// EQUOTA, EUNAVAILABLE.
func (s *DrawingService) Save(ctx context.Context, user *domain.UserInfo, id, actions string) error {
	if err := requireUser(user); err != nil {
		return err
	}
	// Validate before touching the store: bad input changes nothing.
	if err := domain.ValidateDrawingID(id); err != nil {
		return err
	}
	parsed, err := domain.ParseActions(actions, s.maxActionsBytes())
	if err != nil {
		return err
	}
	return s.Repo.Save(ctx, user.OpenID(), id, s.quota(), func(current *domain.Drawing) (*domain.Drawing, error) {
		now := s.now()
		if current == nil {
			return domain.NewDrawing(user.OpenID(), id, parsed, now)
		}
		if err := current.ReplaceActions(parsed, now); err != nil {
			return nil, err
		}
		return current, nil
	})
}

// List returns the user's drawings, most recently saved first, at most
// ListLimit. Errors: EUNAUTHORIZED without a user, EUNAVAILABLE.
func (s *DrawingService) List(ctx context.Context, user *domain.UserInfo) ([]*domain.Drawing, error) {
	if err := requireUser(user); err != nil {
		return nil, err
	}
	limit := s.ListLimit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	return s.Repo.List(ctx, user.OpenID(), limit)
}

// Delete removes the user's drawing id. Errors: EUNAUTHORIZED without a
// user, EINVALID for a malformed id, ENOTFOUND when the user has no such
// drawing, EUNAVAILABLE.
func (s *DrawingService) Delete(ctx context.Context, user *domain.UserInfo, id string) error {
	if err := requireUser(user); err != nil {
		return err
	}
	if err := domain.ValidateDrawingID(id); err != nil {
		return err
	}
	return s.Repo.Delete(ctx, user.OpenID(), id)
}

func requireUser(user *domain.UserInfo) error {
	if user == nil || user.IsZero() {
		return domain.Errorf(domain.EUNAUTHORIZED, "This route needs a session: send X-WX-Code (and on the first request X-WX-RawData and X-WX-Signature).")
	}
	return nil
}

func (s *DrawingService) maxActionsBytes() int {
	if s.MaxActionsBytes <= 0 {
		return domain.DefaultMaxActionsBytes
	}
	return s.MaxActionsBytes
}

func (s *DrawingService) quota() domain.Quota {
	q := s.Quota
	if q.MaxDrawings <= 0 {
		q.MaxDrawings = domain.DefaultMaxDrawingsPerOwner
	}
	if q.MaxBytes <= 0 {
		q.MaxBytes = domain.DefaultMaxBytesPerOwner
	}
	return q
}

func (s *DrawingService) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}
