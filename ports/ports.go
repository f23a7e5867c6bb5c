// Package ports declares what onestroke's core needs from the world: the
// session stores (legacy codes, modern tokens, login codes), a WeChat code
// exchanger, a rate limiter, the drawing and profile repositories, a
// drawing renderer and a clock.
// Each method documents the domain error codes it returns; any other error
// is treated as domain.EINTERNAL.
package ports

import (
	"context"
	"io"
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
	// blocked, rate-limited) and EEXCHANGEUNAVAILABLE when WeChat cannot be
	// reached, times out, stays busy or refuses the app's own credentials.
	// When WeChat answered an errcode, the error's Detail carries it as
	// "errcode" (an int): the modern protocol answers 45011 and 40013/40125
	// apart from a refused code.
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

// TokenSessionStore keeps the sessions of the modern protocol (PROTOCOL §6)
// under the digests of their tokens: a digest is the only lookup key, and
// nothing the store holds can be turned back into a token (the session_key
// is kept sealed, domain.SessionKeySealer). Time is the caller's: every
// method that decides by it takes now. Every method but Authenticate is
// scoped to an owner, and no call can read or change another owner's
// sessions. Every digest given falls into its owner's shard
// (domain.UserShard), so a store may keep a user's tokens and sessions
// together and change them in one atomic step.
type TokenSessionStore interface {
	// Create stores sess, reachable by the token digest, and in the same
	// atomic step ends the owner's sessions that domain.SessionsToEnd names
	// for the owner's existing sessions at now, returning their ids.
	// Returns EINVALID for a digest outside the owner's shard, and
	// EUNAVAILABLE when the store cannot answer in time.
	Create(ctx context.Context, digest domain.TokenDigest, sess *domain.TokenSession, now time.Time, policy domain.SessionPolicy) (ended []string, err error)

	// AddToken makes a further token digest reach the owner's live session
	// sessionID: the retry of a login code whose answer was lost. A session
	// keeps at most domain.MaxTokensPerSession tokens; past that its oldest
	// token stops working.
	// Returns ESESSIONEXPIRED when the owner has no such live session,
	// EINVALID for a digest outside the owner's shard, and EUNAVAILABLE.
	AddToken(ctx context.Context, owner, sessionID string, digest domain.TokenDigest, now time.Time) error

	// Authenticate returns the live session the digest reaches and records
	// the use (domain.TokenSession.Touch with policy): one store read, plus
	// one write at most once a minute per session.
	// Returns ESESSIONEXPIRED when the digest is unknown, revoked, idle or
	// past its lifetime, or when what the store holds is not a session, and
	// EUNAVAILABLE when the store cannot answer in time.
	Authenticate(ctx context.Context, digest domain.TokenDigest, now time.Time, policy domain.SessionPolicy) (*domain.TokenSession, error)

	// Sessions returns the owner's live sessions at now, newest first
	// (created last first, ties by id), or an empty slice.
	// Returns EUNAVAILABLE when the store cannot answer in time.
	Sessions(ctx context.Context, owner string, now time.Time) ([]*domain.TokenSession, error)

	// Revoke ends the owner's session sessionID and every token of it.
	// Returns ENOTFOUND when the owner has no such live session (whoever
	// else may have one), and EUNAVAILABLE.
	Revoke(ctx context.Context, owner, sessionID string, now time.Time) error

	// RevokeAll ends every session of the owner and returns how many of
	// them were live at now.
	// Returns EUNAVAILABLE when the store cannot answer in time.
	RevokeAll(ctx context.Context, owner string, now time.Time) (int, error)
}

// LoginResult is what a finished login made of a code: the user and the
// session (PROTOCOL §6: a retry of the code gets a token of it).
type LoginResult struct {
	Owner     string
	SessionID string
}

// LegacyLogin is the SessionID a login of the legacy protocol (PROTOCOL §1)
// records: its session is the code's own entry in the SessionStore, so a
// modern retry of that code has no token session to join.
const LegacyLogin = "legacy"

// LoginCodes makes one code2Session exchange per login code across every
// instance that shares the store, and remembers, for a code's lifetime,
// the session its exchange made. Codes are kept by digest only. Both
// protocols claim their codes here: a code is single-use at WeChat
// whichever protocol sent it.
type LoginCodes interface {
	// Claim takes the code for an exchange, for at most lease. It reports
	// claimed when the caller must now exchange it and then Complete or
	// Release it. Otherwise the code is being exchanged elsewhere (done is
	// zero: ask again shortly) or was done (done names its session).
	// Returns EUNAVAILABLE when the store cannot answer in time.
	Claim(ctx context.Context, code string, lease time.Duration) (claimed bool, done LoginResult, err error)

	// Complete records the session the caller's claimed exchange made, for
	// ttl (the rest of the code's lifetime).
	// Returns EINVALID for an empty result, and EUNAVAILABLE.
	Complete(ctx context.Context, code string, res LoginResult, ttl time.Duration) error

	// Release gives up the caller's claim after a failed exchange, so that
	// a retry may claim the code again.
	// Returns EUNAVAILABLE when the store cannot answer in time.
	Release(ctx context.Context, code string) error
}

// ProfileRepository keeps each user's profile of the modern protocol
// (nickName, avatarUrl), in the drawing store's database. Every method is
// scoped to an owner.
type ProfileRepository interface {
	// Profile returns the owner's profile, or the zero Profile when the
	// owner set none.
	// Returns EUNAVAILABLE when the store cannot answer in time.
	Profile(ctx context.Context, owner string) (domain.Profile, error)

	// UpdateProfile changes the owner's profile atomically: update is
	// called with the stored profile (zero when none) and returns the one
	// to store, which UpdateProfile returns; if update fails, nothing is
	// stored and its error is returned.
	// Returns EUNAVAILABLE when the store cannot answer in time.
	UpdateProfile(ctx context.Context, owner string, update func(domain.Profile) (domain.Profile, error)) (domain.Profile, error)
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
	// stored. When Save returns nil the drawing is durable. A conditional
	// save checks its precondition in update (which sees the stored
	// drawing in the same atomic step) and returns ECONFLICT.
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

	// Get returns the owner's drawing id, whole (its actions included).
	// Returns ENOTFOUND when the owner has no drawing with that id (whoever
	// else may have one), and EUNAVAILABLE when the store cannot answer in
	// time.
	Get(ctx context.Context, owner, id string) (*domain.Drawing, error)

	// Page returns up to limit summaries of the owner's drawings in the v2
	// order (PROTOCOL §7): createdAt desc, then id desc, after the position
	// cursor names ("" is the start), and next, the cursor of the position
	// after the last item, or "" when no drawing follows it. It is
	// index-bounded: it reads the rows it returns and one more, never the
	// owner's whole set, and never actions. Cursors are the repository's
	// own opaque strings (domain.PagePosition.Cursor). A drawing's
	// position never changes while it exists (a save keeps its createdAt),
	// so following next from "" returns every drawing that exists
	// throughout the walk exactly once, whatever is created, saved or
	// deleted between pages; a drawing created meanwhile may or may not be
	// returned.
	// Returns EINVALID for a limit below 1 or a cursor the repository did
	// not make for this owner, and EUNAVAILABLE when the store cannot
	// answer in time.
	Page(ctx context.Context, owner, cursor string, limit int) (items []domain.DrawingSummary, next string, err error)

	// Delete removes the owner's drawing id when pre holds for its current
	// ETag, checked in the same atomic step as the delete (the zero
	// Precondition asks nothing); otherwise nothing is deleted.
	// Returns ECONFLICT when pre does not hold (an If-Match on a drawing
	// that changed or does not exist), ENOTFOUND when the owner has no
	// drawing with that id and pre did not refuse (whoever else may have
	// one), and EUNAVAILABLE when the store cannot answer.
	Delete(ctx context.Context, owner, id string, pre domain.Precondition) error
}

// Clock tells the time wherever time decides something (TTL, expiry,
// timestamps). Tests inject a controllable one.
type Clock func() time.Time

// AccessTokens is the deployment's one WeChat access_token (PROTOCOL §8):
// every instance uses the same token, fetched from stable_token by one of
// them at a time and refreshed before it ends.
type AccessTokens interface {
	// Token returns a live token, fetching one when none is.
	// Returns EEXCHANGEUNAVAILABLE when WeChat could not give one (or
	// refused the app's credentials), EUNAVAILABLE when the shared store
	// is down.
	Token(ctx context.Context) (domain.AccessToken, error)

	// Rejected reports that a WeChat API answered 40001 or 42001 for
	// token t, and returns the token to retry with: at most one forced
	// refresh happens across the deployment for one rejected token (a
	// caller whose t was already replaced gets the replacement), within
	// WeChat's limits (30 s apart, 20 a day). Errors as Token's, and
	// ERATELIMITED when the limits allow no refresh now.
	Rejected(ctx context.Context, t domain.AccessToken) (domain.AccessToken, error)
}

// AccessTokenSource fetches the app's access_token from WeChat's
// stable_token (never cgi-bin/token, which ends every other holder's
// token). AccessTokens implementations sit on it.
type AccessTokenSource interface {
	// StableToken returns WeChat's current token and how long it has
	// left (expires_in). force asks WeChat for a new one (force_refresh),
	// which ends the old one at once and is limited by WeChat (20 a day,
	// 30 s apart).
	// Returns EEXCHANGEUNAVAILABLE when WeChat could not be reached, was
	// busy (-1), or refused the app's credentials (40013, 40125: also
	// logged as a configuration error), ERATELIMITED on WeChat's limits
	// (45009, 45011).
	StableToken(ctx context.Context, force bool) (domain.AccessToken, time.Duration, error)
}

// PhoneNumbers asks WeChat for the phone number behind a getPhoneNumber
// button's code (getuserphonenumber).
type PhoneNumbers interface {
	// PhoneNumber returns the number of code, which must be openID's.
	// Returns EEXCHANGEREFUSED when WeChat refused the code (40029: unknown,
	// used or expired), EEXCHANGEUNAVAILABLE when WeChat could not be
	// reached or its answer is not this app's (watermark).
	PhoneNumber(ctx context.Context, code, openID string) (domain.PhoneNumber, error)
}

// ContentChecker asks WeChat whether a text other users may see is fit to
// show (msg_sec_check, version 2).
type ContentChecker interface {
	// CheckText returns WeChat's suggestion for text written by openID.
	// Returns EEXCHANGEUNAVAILABLE when WeChat could not answer: never a
	// silent pass.
	CheckText(ctx context.Context, openID string, scene domain.ContentScene, text string) (domain.ContentSuggestion, error)
}

// Renderer draws what a drawing's actions paint (PROTOCOL §7.1): the
// domain interprets the actions into a domain.Scene and frames it; a
// renderer only draws. Implementations are safe for concurrent use.
type Renderer interface {
	// PNG writes s as an opaque PNG of r's size on a white background,
	// r being s.Raster(w).
	// Returns EINVALID for a raster beyond MaxRenderWidth×MaxRenderHeight,
	// EINTERNAL when drawing fails, and what the writer returns.
	PNG(w io.Writer, s *domain.Scene, r domain.Raster) error

	// SVG writes s as an SVG document whose viewBox is s.View(), on a white
	// background, one path element per operation.
	// Returns what the writer returns.
	SVG(w io.Writer, s *domain.Scene) error
}
