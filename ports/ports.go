// Package ports declares what onestroke's core needs from the world: a
// session store, a WeChat code exchanger, a rate limiter, a drawing
// repository and a clock.
// Each method documents the domain error codes it returns; any other error
// is treated as domain.EINTERNAL.
package ports

import (
	"context"
	"time"

	"github.com/onestroke/onestroke/domain"
)

// SessionStore keeps verified sessions: code → session and openId → code,
// both with a TTL (PROTOCOL §1).
type SessionStore interface {
	// Get returns the session of code.
	// Returns ESESSIONEXPIRED when code is unknown, expired or revoked, and
	// EUNAVAILABLE when the store cannot answer in time.
	Get(ctx context.Context, code string) (domain.Session, error)

	// User returns the user of code: Get without the proof, for the cached
	// path of every signed-in request, which needs nothing else.
	// Returns ESESSIONEXPIRED and EUNAVAILABLE as Get does.
	User(ctx context.Context, code string) (domain.UserInfo, error)

	// Login records sess under sess.Code and sess.User.OpenID() → sess.Code,
	// both for ttl, and revokes the previous code of that openId, in one step:
	// one live session per user, the newest login wins. A reader never sees
	// both the old and the new code live after Login returns.
	// Returns EINVALID for an empty code or openId or a ttl below one
	// second, and EUNAVAILABLE when the store cannot answer in time.
	Login(ctx context.Context, sess domain.Session, ttl time.Duration) error
}

// CodeExchanger trades a wx.login code for the user's identity at WeChat
// (code2Session, PROTOCOL §4). A code is single-use at WeChat.
type CodeExchanger interface {
	// Exchange returns the openid, session_key and unionid for code.
	// Returns EEXCHANGEREFUSED when WeChat refuses the code (invalid, used,
	// blocked, rate-limited, bad app credentials) and EEXCHANGEUNAVAILABLE
	// when WeChat cannot be reached, times out or stays busy.
	Exchange(ctx context.Context, code string) (domain.WxSession, error)
}

// RateLimit is a token bucket: Events per Per on average, and up to Burst
// at once after a quiet spell.
type RateLimit struct {
	Events int
	Per    time.Duration
	Burst  int
}

// Interval is how long one spent token takes to come back.
func (l RateLimit) Interval() time.Duration {
	if l.Events <= 0 {
		return l.Per
	}
	return l.Per / time.Duration(l.Events)
}

// RateLimiter counts attempts per key (a client address) against the
// RateLimit it was built with. Adapters that share a store (Redis) share
// each key's budget across every instance of the service.
type RateLimiter interface {
	// Allow takes one attempt from key's budget. It reports ok when the
	// attempt may go ahead; otherwise retryAfter (positive) is how long
	// until the next attempt of key would be allowed, and the refused
	// attempt costs key nothing. Any string is a valid key.
	// Returns EUNAVAILABLE when the limiter's store cannot answer in time;
	// the caller then decides whether the attempt goes ahead.
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// DrawingRepository stores drawings. Every method is scoped to an owner: no
// call can read or change another owner's drawing.
type DrawingRepository interface {
	// Save creates or replaces the owner's drawing id atomically. update is
	// called with the stored drawing, or nil when the owner has none with
	// that id, and returns the drawing to store (the domain decides how); if
	// it returns an error, nothing is stored and Save returns that error.
	// The save must keep the owner within quota (domain.Quota.Allow on
	// the owner's usage at the moment of the write: exact under concurrent
	// saves of one owner; the zero Quota has no limit); otherwise nothing is
	// stored. When Save returns nil the drawing is durable.
	// Returns EQUOTA when the save would take the owner over quota, and
	// EUNAVAILABLE when the store cannot answer in time.
	Save(ctx context.Context, owner, id string, quota domain.Quota, update func(current *domain.Drawing) (*domain.Drawing, error)) error

	// List returns up to limit of the owner's drawings, the most recently
	// saved first (ties broken by id), or an empty slice.
	// Returns EINVALID for a limit below 1 and EUNAVAILABLE when the store
	// cannot answer in time.
	List(ctx context.Context, owner string, limit int) ([]*domain.Drawing, error)

	// ListBatch returns the owner's drawings that follow the position after
	// in List's order ("" is the start), copied out of the store: at most
	// limit of them, and no more than maxBytes of actions (as the store
	// holds them) in total, but at least one when any follows. next is the
	// position after the last one, or "" when no drawing follows it. No
	// read transaction or server-side cursor outlives the call, so a caller
	// may take its time writing a batch to a slow client before asking for
	// the next. Positions are the repository's own opaque strings. Between
	// two batches the list may change: a drawing saved meanwhile moves
	// ahead of the position and is not returned again, a deleted one is
	// not returned, and every other drawing is returned once.
	// Returns EINVALID for a limit or maxBytes below 1 or a position the
	// repository did not make, and EUNAVAILABLE when the store cannot
	// answer in time.
	ListBatch(ctx context.Context, owner, after string, limit, maxBytes int) (batch []*domain.Drawing, next string, err error)

	// Delete removes the owner's drawing id.
	// Returns ENOTFOUND when the owner has no drawing with that id (whoever
	// else may have one), and EUNAVAILABLE when the store cannot answer.
	Delete(ctx context.Context, owner, id string) error
}

// Clock tells the time wherever time decides something (TTL, expiry,
// timestamps). Tests inject a controllable one.
type Clock func() time.Time
