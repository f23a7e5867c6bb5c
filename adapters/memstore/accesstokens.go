package memstore

import (
	"context"
	"sync"
	"time"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.AccessTokenStore = (*AccessTokens)(nil)

// AccessTokens is the in-process ports.AccessTokenStore: one instance has
// no one to share its access_token with, but still needs the lease (its
// own concurrent callers) and WeChat's forced-refresh budget. Gone on
// restart: the next call fetches the token again without forcing, which
// WeChat answers with the same token.
type AccessTokens struct {
	now ports.Clock

	mu         sync.Mutex
	tok        ports.StoredAccessToken
	holder     string
	leaseUntil time.Time
	lastForced time.Time
	day        string // the WeChat day of the forced refreshes counted in dayCount
	dayCount   int
}

// NewAccessTokens returns an empty store that tells time with now (nil
// means time.Now): the token's end and the lease's TTL are judged by it.
func NewAccessTokens(now ports.Clock) *AccessTokens {
	if now == nil {
		now = time.Now
	}
	return &AccessTokens{now: now}
}

// Current implements ports.AccessTokenStore.
func (a *AccessTokens) Current(ctx context.Context) (ports.StoredAccessToken, error) {
	if err := cancelled(ctx); err != nil {
		return ports.StoredAccessToken{}, err
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok.Token != "" && !now.Before(a.tok.Expires) {
		a.tok = ports.StoredAccessToken{}
	}
	return a.tok, nil
}

// Lease implements ports.AccessTokenStore.
func (a *AccessTokens) Lease(ctx context.Context, holder string, ttl time.Duration) (bool, error) {
	if err := cancelled(ctx); err != nil {
		return false, err
	}
	if holder == "" || ttl < time.Millisecond {
		return false, domain.Errorf(domain.EINVALID, "A lease needs a holder and a TTL of at least a millisecond.")
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.holder != "" && now.Before(a.leaseUntil) {
		return false, nil
	}
	a.holder, a.leaseUntil = holder, now.Add(ttl)
	return true, nil
}

// held reports whether holder holds the lease now; a.mu is held.
func (a *AccessTokens) held(holder string) bool {
	return holder != "" && a.holder == holder && a.now().Before(a.leaseUntil)
}

// Complete implements ports.AccessTokenStore.
func (a *AccessTokens) Complete(ctx context.Context, holder string, tok ports.StoredAccessToken, now time.Time) (bool, error) {
	if err := cancelled(ctx); err != nil {
		return false, err
	}
	if tok.Token == "" || !tok.Expires.After(now) {
		return false, domain.Errorf(domain.EINVALID, "An access_token to store needs a value and an end after now.")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.held(holder) {
		return false, nil
	}
	a.tok = tok
	a.holder, a.leaseUntil = "", time.Time{}
	return true, nil
}

// Release implements ports.AccessTokenStore.
func (a *AccessTokens) Release(ctx context.Context, holder string) error {
	if err := cancelled(ctx); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.held(holder) {
		a.holder, a.leaseUntil = "", time.Time{}
	}
	return nil
}

// TakeForcedRefresh implements ports.AccessTokenStore.
func (a *AccessTokens) TakeForcedRefresh(ctx context.Context, now time.Time) (bool, time.Duration, error) {
	if err := cancelled(ctx); err != nil {
		return false, 0, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ok, retryAfter, day, count := forcedRefreshBudget(a.lastForced, a.day, a.dayCount, now)
	if ok {
		a.lastForced, a.day, a.dayCount = now, day, count
	}
	return ok, retryAfter, nil
}

// forcedRefreshBudget decides one forced refresh at now against the last
// one and the count of its day: ok with the day and count to keep, or
// how long to wait. A now earlier than what was kept (another instance's
// clock a little ahead) counts in the kept day and waits at most one
// interval.
func forcedRefreshBudget(last time.Time, keptDay string, kept int, now time.Time) (ok bool, retryAfter time.Duration, day string, count int) {
	if !last.IsZero() {
		if wait := last.Add(domain.ForcedRefreshInterval).Sub(now); wait > 0 {
			return false, min(wait, domain.ForcedRefreshInterval), "", 0
		}
	}
	day, end := domain.ForcedRefreshDay(now)
	if day <= keptDay {
		day, count = keptDay, kept
	}
	if count >= domain.ForcedRefreshesPerDay {
		return false, max(end.Sub(now), time.Second), "", 0
	}
	return true, 0, day, count + 1
}
