package sessioncache

import (
	"context"
	"time"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.TokenSessionStore = (*Tokens)(nil)

// Tokens is a ports.TokenSessionStore that answers Authenticate from the
// cache. On a hit the domain still decides: a cached session that is not
// live at the caller's now, or whose use is due to be written back
// (TokenSession.Touch, once a minute), is asked of the store, which
// decides on its own record (another instance may have used or revoked the
// session meanwhile). Unknown digests are not cached. Every change of an
// owner's sessions drops the owner's entries on every instance.
type Tokens struct {
	cache *Cache
	inner ports.TokenSessionStore
}

// Tokens returns inner decorated with the cache.
func (c *Cache) Tokens(inner ports.TokenSessionStore) *Tokens {
	return &Tokens{cache: c, inner: inner}
}

// Authenticate implements ports.TokenSessionStore.
func (t *Tokens) Authenticate(ctx context.Context, digest domain.TokenDigest, now time.Time, policy domain.SessionPolicy) (*domain.TokenSession, error) {
	k := key{token: digest}
	if e, ok := t.cache.lookup(k); ok {
		s := clone(e.session)
		if s.Live(now) && !s.Touch(now, policy) {
			return s, nil
		}
	}
	gen, on := t.cache.begin()
	start := t.cache.now()
	s, err := t.inner.Authenticate(ctx, digest, now, policy)
	if err == nil && on {
		t.cache.fill(gen, k, &entry{owner: s.OpenID(), until: start.Add(t.cache.ttl), session: clone(s)})
	}
	return s, err
}

// clone copies s: a cached session is never shared with a caller, who may
// Touch its own.
func clone(s *domain.TokenSession) *domain.TokenSession {
	c, _ := domain.UnmarshalTokenSessionFromStorage(s.ID(), s.OpenID(), s.UnionID(), s.SealedKey(), s.Device(),
		s.CreatedAt(), s.LastSeenAt(), s.IdleUntil(), s.MaxExpiresAt()) // a valid session's fields: cannot fail
	return c
}

// Create implements ports.TokenSessionStore; the sessions it ends past
// the device cap are dropped on every instance.
func (t *Tokens) Create(ctx context.Context, digest domain.TokenDigest, sess *domain.TokenSession, now time.Time, policy domain.SessionPolicy) ([]string, error) {
	ended, err := t.inner.Create(ctx, digest, sess, now, policy)
	if err != nil || len(ended) > 0 { // on an error too: the write may have landed
		t.cache.changed(ctx, sess.OpenID())
	}
	return ended, err
}

// AddToken implements ports.TokenSessionStore; past
// domain.MaxTokensPerSession it ends the session's oldest token, so the
// owner's entries are dropped on every instance.
func (t *Tokens) AddToken(ctx context.Context, owner, sessionID string, digest domain.TokenDigest, now time.Time) error {
	err := t.inner.AddToken(ctx, owner, sessionID, digest, now)
	t.cache.changed(ctx, owner)
	return err
}

// Sessions implements ports.TokenSessionStore, always from the store.
func (t *Tokens) Sessions(ctx context.Context, owner string, now time.Time) ([]*domain.TokenSession, error) {
	return t.inner.Sessions(ctx, owner, now)
}

// Revoke implements ports.TokenSessionStore; the owner's entries are
// dropped here at once and on every other instance.
func (t *Tokens) Revoke(ctx context.Context, owner, sessionID string, now time.Time) error {
	err := t.inner.Revoke(ctx, owner, sessionID, now)
	t.cache.changed(ctx, owner) // on an error too: the write may have landed
	return err
}

// RevokeAll implements ports.TokenSessionStore; the owner's entries are
// dropped here at once and on every other instance.
func (t *Tokens) RevokeAll(ctx context.Context, owner string, now time.Time) (int, error) {
	n, err := t.inner.RevokeAll(ctx, owner, now)
	t.cache.changed(ctx, owner) // on an error too: the write may have landed
	return n, err
}
