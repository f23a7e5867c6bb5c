package ports

import (
	"context"
	"time"

	"github.com/onestroke/onestroke/domain"
)

// StoredAccessToken is the deployment's access_token as the shared store
// holds it: the token and the instant WeChat ends it (the fetch's time
// plus its expires_in).
type StoredAccessToken struct {
	Token   domain.AccessToken
	Expires time.Time
}

// AccessTokenStore is the state that every instance of the service shares
// to use one access_token (ports.AccessTokens, PROTOCOL §8): the current
// token, a lease so that one instance at a time asks WeChat for a new one,
// and WeChat's budget of forced refreshes, counted deployment-wide. Each
// method is one atomic step; AccessTokens implementations (app) compose
// them.
//
// A lease is held under a holder value that the caller makes fresh for
// each attempt (unguessable, never empty) and that only the holder knows,
// so that a holder whose lease ran out cannot complete or release another
// caller's. A lease has a TTL, so that a holder that died frees it.
type AccessTokenStore interface {
	// Current returns the stored token, or the zero StoredAccessToken when
	// none is stored, or when the one stored has ended by the store's time
	// (a store forgets a token at its end), or when what the store holds
	// is not a token.
	// Returns EUNAVAILABLE when the store cannot answer in time.
	Current(ctx context.Context) (StoredAccessToken, error)

	// Lease takes the fetch lease for holder, for ttl, when nobody holds
	// it (holder included: a lease is taken once), and reports whether
	// holder now holds it.
	// Returns EINVALID for an empty holder or a ttl below a millisecond,
	// and EUNAVAILABLE.
	Lease(ctx context.Context, holder string, ttl time.Duration) (bool, error)

	// Complete stores tok as the current token and ends holder's lease, in
	// one step, provided holder still holds the lease; it reports whether
	// it did. When it did not (the lease ran out, and another caller may
	// hold it now), nothing changed. now is the caller's time, against
	// which tok.Expires is kept (the store forgets the token at its end).
	// Returns EINVALID for an empty token or one that has ended at now,
	// and EUNAVAILABLE.
	Complete(ctx context.Context, holder string, tok StoredAccessToken, now time.Time) (bool, error)

	// Release ends holder's lease, and does nothing when the lease is not
	// holder's (it ran out, or another caller holds it).
	// Returns EUNAVAILABLE when the store cannot answer in time.
	Release(ctx context.Context, holder string) error

	// TakeForcedRefresh takes one forced refresh at now from WeChat's
	// budget, deployment-wide: at most one per
	// domain.ForcedRefreshInterval and domain.ForcedRefreshesPerDay in a
	// WeChat day (domain.ForcedRefreshDay: the calendar day of Beijing
	// time). It reports ok when the refresh may go ahead; otherwise
	// retryAfter (positive) is how long until one would be allowed, and
	// the refused attempt costs the budget nothing. now is the caller's
	// time: the instances' clocks must agree to well under the interval.
	// Returns EUNAVAILABLE when the store cannot answer in time.
	TakeForcedRefresh(ctx context.Context, now time.Time) (ok bool, retryAfter time.Duration, err error)
}
