package app

import (
	"context"
	"time"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// DefaultListLimit caps the legacy list: the original returned every drawing.
const DefaultListLimit = 100

// DefaultListBatchBytes bounds the actions EachListed copies from the
// repository at once: a page of ordinary drawings is one batch, a page of
// megabyte drawings one drawing at a time.
const DefaultListBatchBytes = 256 << 10

// DrawingService holds the drawing use cases of a signed-in user.
type DrawingService struct {
	Repo            ports.DrawingRepository
	Now             ports.Clock
	MaxActionsBytes int // 0 means domain.DefaultMaxActionsBytes
	ListLimit       int // 0 means DefaultListLimit
	ListBatchBytes  int // 0 means DefaultListBatchBytes
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
	return s.Repo.List(ctx, user.OpenID(), s.listLimit())
}

// EachListed calls fn with each drawing List would return, in its order,
// reading them from the repository in batches of at most ListBatchBytes of
// actions (or one drawing): what a caller writing to a slow client holds
// is one batch, never the page. fn's error stops the walk and is returned.
// Errors: EUNAUTHORIZED without a user, EUNAVAILABLE.
func (s *DrawingService) EachListed(ctx context.Context, user *domain.UserInfo, fn func(*domain.Drawing) error) error {
	if err := requireUser(user); err != nil {
		return err
	}
	remaining := s.listLimit()
	batchBytes := s.ListBatchBytes
	if batchBytes <= 0 {
		batchBytes = DefaultListBatchBytes
	}
	after := ""
	for remaining > 0 {
		batch, next, err := s.Repo.ListBatch(ctx, user.OpenID(), after, remaining, batchBytes)
		if err != nil {
			return err
		}
		for _, d := range batch {
			if err := fn(d); err != nil {
				return err
			}
		}
		remaining -= len(batch)
		if next == "" || len(batch) == 0 {
			return nil
		}
		after = next
	}
	return nil
}

func (s *DrawingService) listLimit() int {
	if s.ListLimit <= 0 {
		return DefaultListLimit
	}
	return s.ListLimit
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
	return s.Repo.Delete(ctx, user.OpenID(), id, domain.Precondition{})
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
