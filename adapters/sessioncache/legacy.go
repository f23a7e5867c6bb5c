package sessioncache

import (
	"context"
	"time"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.SessionStore = (*Sessions)(nil)

// ExpiringSessionStore is a SessionStore that also tells how long a code
// has left, so that a cached code is never served past its expiry in the
// store. redisstore.Store and memstore.SessionStore are ones.
type ExpiringSessionStore interface {
	ports.SessionStore
	// GetTTL is Get, and how long the code has left (positive).
	GetTTL(ctx context.Context, code string) (domain.Session, time.Duration, error)
	// UserTTL is User, and how long the code has left (positive).
	UserTTL(ctx context.Context, code string) (domain.UserInfo, time.Duration, error)
}

// Sessions is a ports.SessionStore that answers legacy codes from the
// cache. Misses are not cached: an attacker's random codes cost a store
// read each, as without the cache, and never evict a real session.
type Sessions struct {
	cache *Cache
	inner ExpiringSessionStore
}

// Sessions returns inner decorated with the cache.
func (c *Cache) Sessions(inner ExpiringSessionStore) *Sessions {
	return &Sessions{cache: c, inner: inner}
}

// Get implements ports.SessionStore: from the cache when an entry filled
// by Get is live, else from the store (kept when it is a session).
func (s *Sessions) Get(ctx context.Context, code string) (domain.Session, error) {
	k := key{code: code}
	if e, ok := s.cache.lookup(k); ok && e.full {
		return domain.Session{Code: code, User: e.user, Proof: e.proof}, nil
	}
	gen, on := s.cache.begin()
	start := s.cache.now()
	sess, left, err := s.inner.GetTTL(ctx, code)
	if err == nil && on {
		s.cache.fill(gen, k, s.entry(sess.User, sess.Proof, true, start, left))
	}
	return sess, err
}

// User implements ports.SessionStore: from the cache when an entry is
// live, else from the store (kept when it is a session).
func (s *Sessions) User(ctx context.Context, code string) (domain.UserInfo, error) {
	k := key{code: code}
	if e, ok := s.cache.lookup(k); ok {
		return e.user, nil
	}
	gen, on := s.cache.begin()
	start := s.cache.now()
	user, left, err := s.inner.UserTTL(ctx, code)
	if err == nil && on {
		s.cache.fill(gen, k, s.entry(user, "", false, start, left))
	}
	return user, err
}

// entry is what a read at start, with left to live in the store, keeps.
func (s *Sessions) entry(user domain.UserInfo, proof string, full bool, start time.Time, left time.Duration) *entry {
	return &entry{owner: user.OpenID(), until: start.Add(min(left, s.cache.ttl)), user: user, proof: proof, full: full}
}

// Login implements ports.SessionStore: the store records the login (and
// revokes the user's previous code), then every instance drops the user's
// cached codes.
func (s *Sessions) Login(ctx context.Context, sess domain.Session, ttl time.Duration) error {
	err := s.inner.Login(ctx, sess, ttl)
	if owner := sess.User.OpenID(); owner != "" {
		s.cache.changed(ctx, owner) // on an error too: the write may have landed
	}
	return err
}
