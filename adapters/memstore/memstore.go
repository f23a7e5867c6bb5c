// Package memstore holds the in-process adapters of the embedded default:
// the session store, whose sessions live in memory with a TTL and vanish on
// restart, as they would if Redis were flushed (clients simply log in
// again), and the login rate limiter of a single instance.
package memstore

import (
	"context"
	"sync"
	"time"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.SessionStore = (*SessionStore)(nil)

// sweepEvery bounds how long expired entries linger in memory.
const sweepEvery = time.Minute

// SessionStore keeps sessions in memory. The zero value is not usable; call
// NewSessionStore.
type SessionStore struct {
	now ports.Clock

	mu        sync.RWMutex
	byCode    map[string]sessionEntry
	byOpenID  map[string]codeEntry
	nextSweep time.Time
}

type sessionEntry struct {
	sess    domain.Session
	expires time.Time
}

type codeEntry struct {
	code    string
	expires time.Time
}

// NewSessionStore returns an empty store that tells time with now (nil
// means time.Now).
func NewSessionStore(now ports.Clock) *SessionStore {
	if now == nil {
		now = time.Now
	}
	return &SessionStore{now: now, byCode: map[string]sessionEntry{}, byOpenID: map[string]codeEntry{}}
}

// Get implements ports.SessionStore.
func (s *SessionStore) Get(ctx context.Context, code string) (domain.Session, error) {
	if err := ctx.Err(); err != nil {
		return domain.Session{}, domain.Wrap(domain.EUNAVAILABLE, err, "Session lookup was cancelled.")
	}
	s.mu.RLock()
	e, ok := s.byCode[code]
	s.mu.RUnlock()
	if !ok || !s.now().Before(e.expires) {
		return domain.Session{}, domain.SessionExpired(nil)
	}
	return e.sess, nil
}

// GetTTL is Get, and how long the code has left: for a cache in front of
// the store (sessioncache.ExpiringSessionStore).
func (s *SessionStore) GetTTL(ctx context.Context, code string) (domain.Session, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return domain.Session{}, 0, domain.Wrap(domain.EUNAVAILABLE, err, "Session lookup was cancelled.")
	}
	s.mu.RLock()
	e, ok := s.byCode[code]
	s.mu.RUnlock()
	left := e.expires.Sub(s.now())
	if !ok || left <= 0 {
		return domain.Session{}, 0, domain.SessionExpired(nil)
	}
	return e.sess, left, nil
}

// UserTTL is User, and how long the code has left.
func (s *SessionStore) UserTTL(ctx context.Context, code string) (domain.UserInfo, time.Duration, error) {
	sess, left, err := s.GetTTL(ctx, code)
	return sess.User, left, err
}

// User implements ports.SessionStore.
func (s *SessionStore) User(ctx context.Context, code string) (domain.UserInfo, error) {
	sess, err := s.Get(ctx, code)
	return sess.User, err
}

// Login implements ports.SessionStore.
func (s *SessionStore) Login(ctx context.Context, sess domain.Session, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return domain.Wrap(domain.EUNAVAILABLE, err, "Session write was cancelled.")
	}
	if sess.Code == "" || sess.User.OpenID() == "" {
		return domain.Errorf(domain.EINVALID, "A session needs a code and an openId.")
	}
	if ttl < time.Second {
		return domain.Errorf(domain.EINVALID, "Session TTL must be at least one second.")
	}
	now := s.now()
	expires := now.Add(ttl)
	openID := sess.User.OpenID()

	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.byOpenID[openID]; ok && prev.code != sess.Code {
		delete(s.byCode, prev.code)
	}
	s.byCode[sess.Code] = sessionEntry{sess: sess, expires: expires}
	s.byOpenID[openID] = codeEntry{code: sess.Code, expires: expires}
	if !now.Before(s.nextSweep) {
		s.sweepLocked(now)
		s.nextSweep = now.Add(sweepEvery)
	}
	return nil
}

// sweepLocked drops expired entries so memory stays bounded by live sessions.
func (s *SessionStore) sweepLocked(now time.Time) {
	for code, e := range s.byCode {
		if !now.Before(e.expires) {
			delete(s.byCode, code)
		}
	}
	for openID, e := range s.byOpenID {
		if !now.Before(e.expires) {
			delete(s.byOpenID, openID)
		}
	}
}

// Len returns the number of stored codes, expired or not; for tests and
// metrics.
func (s *SessionStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byCode)
}
