// Package mock holds hand-written function-field fakes of the ports, for
// tests that need to script a failure or count calls. Adapter behaviour is
// tested against the real adapters, not these.
package mock

import (
	"context"
	"time"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var (
	_ ports.SessionStore      = (*SessionStore)(nil)
	_ ports.CodeExchanger     = (*CodeExchanger)(nil)
	_ ports.RateLimiter       = (*RateLimiter)(nil)
	_ ports.DrawingRepository = (*DrawingRepository)(nil)
	_ ports.PhoneNumbers      = (*PhoneNumbers)(nil)
	_ ports.ContentChecker    = (*ContentChecker)(nil)
)

// SessionStore is a fake ports.SessionStore.
type SessionStore struct {
	GetFn   func(ctx context.Context, code string) (domain.Session, error)
	UserFn  func(ctx context.Context, code string) (domain.UserInfo, error)
	LoginFn func(ctx context.Context, sess domain.Session, ttl time.Duration) error
}

func (s *SessionStore) Get(ctx context.Context, code string) (domain.Session, error) {
	return s.GetFn(ctx, code)
}

func (s *SessionStore) User(ctx context.Context, code string) (domain.UserInfo, error) {
	return s.UserFn(ctx, code)
}

func (s *SessionStore) Login(ctx context.Context, sess domain.Session, ttl time.Duration) error {
	return s.LoginFn(ctx, sess, ttl)
}

// CodeExchanger is a fake ports.CodeExchanger.
type CodeExchanger struct {
	ExchangeFn func(ctx context.Context, code string) (domain.WxSession, error)
}

func (e *CodeExchanger) Exchange(ctx context.Context, code string) (domain.WxSession, error) {
	return e.ExchangeFn(ctx, code)
}

// RateLimiter is a fake ports.RateLimiter.
type RateLimiter struct {
	AllowFn func(ctx context.Context, key string) (bool, time.Duration, error)
}

func (l *RateLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	return l.AllowFn(ctx, key)
}

// DrawingRepository is a fake ports.DrawingRepository.
type DrawingRepository struct {
	SaveFn func(ctx context.Context, owner, id string, quota domain.Quota, update func(*domain.Drawing) (*domain.Drawing, error)) error
	ListFn func(ctx context.Context, owner string, limit int) ([]*domain.Drawing, error)
	// ListBatchFn may be nil: ListBatch then serves ListFn's drawings in
	// one batch.
	ListBatchFn func(ctx context.Context, owner, after string, limit, maxBytes int) ([]*domain.Drawing, string, error)
	GetFn       func(ctx context.Context, owner, id string) (*domain.Drawing, error)
	PageFn      func(ctx context.Context, owner, cursor string, limit int) ([]domain.DrawingSummary, string, error)
	DeleteFn    func(ctx context.Context, owner, id string, pre domain.Precondition) error
}

func (r *DrawingRepository) Save(ctx context.Context, owner, id string, quota domain.Quota, update func(*domain.Drawing) (*domain.Drawing, error)) error {
	return r.SaveFn(ctx, owner, id, quota, update)
}

func (r *DrawingRepository) List(ctx context.Context, owner string, limit int) ([]*domain.Drawing, error) {
	return r.ListFn(ctx, owner, limit)
}

func (r *DrawingRepository) ListBatch(ctx context.Context, owner, after string, limit, maxBytes int) ([]*domain.Drawing, string, error) {
	if r.ListBatchFn == nil {
		ds, err := r.ListFn(ctx, owner, limit)
		return ds, "", err
	}
	return r.ListBatchFn(ctx, owner, after, limit, maxBytes)
}

func (r *DrawingRepository) Get(ctx context.Context, owner, id string) (*domain.Drawing, error) {
	return r.GetFn(ctx, owner, id)
}

func (r *DrawingRepository) Page(ctx context.Context, owner, cursor string, limit int) ([]domain.DrawingSummary, string, error) {
	return r.PageFn(ctx, owner, cursor, limit)
}

func (r *DrawingRepository) Delete(ctx context.Context, owner, id string, pre domain.Precondition) error {
	return r.DeleteFn(ctx, owner, id, pre)
}

// PhoneNumbers is a fake ports.PhoneNumbers.
type PhoneNumbers struct {
	PhoneNumberFn func(ctx context.Context, code, openID string) (domain.PhoneNumber, error)
}

func (p *PhoneNumbers) PhoneNumber(ctx context.Context, code, openID string) (domain.PhoneNumber, error) {
	return p.PhoneNumberFn(ctx, code, openID)
}

// ContentChecker is a fake ports.ContentChecker.
type ContentChecker struct {
	CheckTextFn func(ctx context.Context, openID string, scene domain.ContentScene, text string) (domain.ContentSuggestion, error)
}

func (c *ContentChecker) CheckText(ctx context.Context, openID string, scene domain.ContentScene, text string) (domain.ContentSuggestion, error) {
	return c.CheckTextFn(ctx, openID, scene, text)
}
