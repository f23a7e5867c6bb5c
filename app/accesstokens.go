package app

import (
	"context"
	"crypto/rand"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.AccessTokens = (*AccessTokenService)(nil)

// The AccessTokenService's defaults.
const (
	// DefaultAccessTokenMargin is the least life a token handed out has
	// left: a call made with it must reach WeChat before it ends.
	DefaultAccessTokenMargin = time.Minute
	// DefaultAccessTokenRefreshAhead is when the next token is fetched:
	// WeChat's stable_token answers the same token until 5 minutes before
	// its end, and a new one from then on (the old one living on to its
	// end), so a fetch without force_refresh then gets the next token.
	DefaultAccessTokenRefreshAhead = 5 * time.Minute
	// DefaultAccessTokenWait bounds how long a call waits for a token.
	DefaultAccessTokenWait = 5 * time.Second
	// DefaultAccessTokenLease is the fetch lease's TTL: how long a holder
	// that died keeps every instance from fetching.
	DefaultAccessTokenLease = 15 * time.Second
	// DefaultAccessTokenCacheFor bounds how stale this process's copy of
	// the stored token may be.
	DefaultAccessTokenCacheFor = 10 * time.Second
)

const (
	// accessTokenPoll is how often a call waiting for another holder's
	// fetch reads the store again.
	accessTokenPoll = 25 * time.Millisecond
	// refreshAheadEvery spaces this process's attempts to refresh ahead
	// (WeChat may answer the same token once more at the edge of its last
	// five minutes).
	refreshAheadEvery = 10 * time.Second
)

// AccessTokenEventKind is what an AccessTokenEvent reports.
type AccessTokenEventKind string

const (
	AccessTokenFetch         AccessTokenEventKind = "fetch"          // a stable_token call without force_refresh
	AccessTokenForcedRefresh AccessTokenEventKind = "forced_refresh" // a forced refresh: a stable_token call with force_refresh, or one the budget refused
	AccessTokenInUse         AccessTokenEventKind = "in_use"         // the instance took up a token (stored or fetched): Expires is its end
)

// AccessTokenOutcome is what became of a fetch or a forced refresh: a
// label from a fixed set, for metrics.
type AccessTokenOutcome string

const (
	AccessTokenOK          AccessTokenOutcome = "ok"           // WeChat gave a token
	AccessTokenUnavailable AccessTokenOutcome = "unavailable"  // WeChat unreachable, busy, refusing the app's credentials, or answering no token
	AccessTokenRateLimited AccessTokenOutcome = "rate_limited" // WeChat's limits (45009, 45011), or the deployment's forced-refresh budget (then WeChat was not asked)
)

// AccessTokenOutcomes lists every AccessTokenOutcome, so that metrics can
// create each series before it first counts.
var AccessTokenOutcomes = []AccessTokenOutcome{AccessTokenOK, AccessTokenUnavailable, AccessTokenRateLimited}

// AccessTokenEvent is one thing an AccessTokenService did that operators
// count. It never carries the token.
type AccessTokenEvent struct {
	Kind    AccessTokenEventKind
	Outcome AccessTokenOutcome // of AccessTokenFetch and AccessTokenForcedRefresh
	Expires time.Time          // of AccessTokenInUse
}

// AccessTokenService is ports.AccessTokens on a shared store (PROTOCOL §8,
// one access_token for the deployment): the token lives in Store, every
// instance on the same store uses it, and one instance at a time asks
// Source (stable_token) for a new one, under the store's lease. Others
// wait for the stored token, polling the store, at most Wait. The next
// token is fetched RefreshAhead before the end, by one instance, while
// every instance keeps using the live one. A token that an API rejected
// is replaced by one forced refresh across the deployment, within
// WeChat's limits as the store counts them.
//
// Each process keeps a copy of the token for at most CacheFor (the token
// is read on every platform call); Rejected drops it at once. Concurrent
// calls of one process share one read of the store, one wait and one
// fetch.
//
// The token is never logged, and never put in an error or an event.
type AccessTokenService struct {
	Store  ports.AccessTokenStore
	Source ports.AccessTokenSource
	Now    ports.Clock

	// Margin, RefreshAhead, Wait, Lease and CacheFor default to the
	// DefaultAccessToken… constants. Each fetch is bounded by two thirds
	// of Lease, so that its holder completes before the lease runs out.
	Margin       time.Duration
	RefreshAhead time.Duration
	Wait         time.Duration
	Lease        time.Duration
	CacheFor     time.Duration

	// Observe, when set, is told every fetch and forced refresh with its
	// outcome, and every token the instance takes up with its end (for
	// a gauge of the token's remaining life). Called synchronously: keep
	// it cheap.
	Observe func(AccessTokenEvent)
	Logger  *slog.Logger

	flight     singleflight.Group
	cache      atomic.Pointer[cachedAccessToken]
	refreshing atomic.Bool
	nextAhead  atomic.Int64 // unix nanoseconds by Now: no refresh ahead before
	background sync.WaitGroup
}

type cachedAccessToken struct {
	tok   ports.StoredAccessToken
	until time.Time
}

// Token implements ports.AccessTokens: this process's copy while it is
// fresh and the token live with Margin to spare; else the stored token;
// else a fetch under the lease, or a wait for another holder's.
// Errors: EEXCHANGEUNAVAILABLE when WeChat could not give a token or none
// came within Wait (or ctx), EUNAVAILABLE when the store is down and this
// process has no live copy.
func (s *AccessTokenService) Token(ctx context.Context) (domain.AccessToken, error) {
	now := s.now()
	if c := s.cache.Load(); c != nil && now.Before(c.until) && s.live(c.tok, now) {
		s.refreshAhead(c.tok, now)
		return c.tok.Token, nil
	}
	return s.shared(ctx, "token", s.load)
}

// Rejected implements ports.AccessTokens: the stored token when it is no
// longer t (someone replaced it already); else, under the lease, one
// forced refresh when the store's budget allows it. When it does not,
// WeChat is asked without force_refresh, in case its token moved on (its
// last five minutes, or a refresh outside this deployment); if it did not,
// the answer is ERATELIMITED with Error.RetryAfter. Concurrent rejections
// of one token in this process share one attempt.
// Errors: as Token's, and ERATELIMITED.
func (s *AccessTokenService) Rejected(ctx context.Context, t domain.AccessToken) (domain.AccessToken, error) {
	if c := s.cache.Load(); c != nil && c.tok.Token == t {
		s.cache.CompareAndSwap(c, nil)
	}
	if t == "" {
		return s.Token(ctx)
	}
	// The key lives in this process's memory only, as the token does.
	return s.shared(ctx, "rejected\x00"+t.Reveal(), func(ctx context.Context) (ports.StoredAccessToken, error) {
		return s.replace(ctx, t)
	})
}

// WaitRefresh waits for a refresh ahead still running; for shutdown and
// tests.
func (s *AccessTokenService) WaitRefresh() { s.background.Wait() }

// shared runs fn once for the concurrent callers of key in this process,
// on a context of its own (the callers that joined wait for it too), and
// returns its token, or gives up after Wait or when ctx ends.
func (s *AccessTokenService) shared(ctx context.Context, key string, fn func(context.Context) (ports.StoredAccessToken, error)) (domain.AccessToken, error) {
	wait := s.wait()
	ch := s.flight.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait+s.fetchTimeout())
		defer cancel()
		return fn(fctx)
	})
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(ports.StoredAccessToken).Token, nil
	case <-ctx.Done():
		return "", domain.Wrap(domain.EEXCHANGEUNAVAILABLE, ctx.Err(), "No WeChat access_token in time.")
	case <-timer.C:
		return "", domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "No WeChat access_token within %s.", wait)
	}
}

// load finds a live token: the stored one, or one this caller fetches
// under the lease, or the one another holder stores meanwhile.
func (s *AccessTokenService) load(ctx context.Context) (ports.StoredAccessToken, error) {
	deadline := time.Now().Add(s.wait())
	for {
		cur, err := s.Store.Current(ctx)
		now := s.now()
		if err != nil {
			if c := s.cache.Load(); c != nil && s.live(c.tok, now) {
				return c.tok, nil // the store blinked; this process's copy is still good
			}
			return ports.StoredAccessToken{}, err
		}
		if s.live(cur, now) {
			s.keep(cur, now)
			s.refreshAhead(cur, now)
			return cur, nil
		}
		holder, ok, err := s.lease(ctx)
		if err != nil {
			return ports.StoredAccessToken{}, err
		}
		if ok {
			return s.fetchHeld(ctx, holder)
		}
		if err := s.pause(ctx, deadline); err != nil {
			return ports.StoredAccessToken{}, err
		}
	}
}

// fetchHeld fetches a token without force_refresh under holder's lease,
// unless the holder before stored a live one between our read and our
// lease.
func (s *AccessTokenService) fetchHeld(ctx context.Context, holder string) (ports.StoredAccessToken, error) {
	cur, err := s.Store.Current(ctx)
	if err != nil {
		s.release(ctx, holder)
		return ports.StoredAccessToken{}, err
	}
	if now := s.now(); s.live(cur, now) {
		s.release(ctx, holder)
		s.keep(cur, now)
		return cur, nil
	}
	tok, err := s.ask(ctx, false)
	if err != nil {
		s.release(ctx, holder)
		return ports.StoredAccessToken{}, tokenErr(err)
	}
	return s.complete(ctx, holder, tok)
}

// replace gets a token other than the rejected t (see Rejected).
func (s *AccessTokenService) replace(ctx context.Context, t domain.AccessToken) (ports.StoredAccessToken, error) {
	deadline := time.Now().Add(s.wait())
	for {
		cur, err := s.Store.Current(ctx)
		if err != nil {
			return ports.StoredAccessToken{}, err
		}
		if now := s.now(); cur.Token != t && s.live(cur, now) {
			s.keep(cur, now)
			return cur, nil
		}
		holder, ok, err := s.lease(ctx)
		if err != nil {
			return ports.StoredAccessToken{}, err
		}
		if ok {
			return s.replaceHeld(ctx, holder, t)
		}
		if err := s.pause(ctx, deadline); err != nil {
			return ports.StoredAccessToken{}, err
		}
	}
}

// replaceHeld is replace under holder's lease: the store is read again
// (the holder before may have replaced t), then WeChat is asked.
func (s *AccessTokenService) replaceHeld(ctx context.Context, holder string, t domain.AccessToken) (ports.StoredAccessToken, error) {
	cur, err := s.Store.Current(ctx)
	if err != nil {
		s.release(ctx, holder)
		return ports.StoredAccessToken{}, err
	}
	now := s.now()
	if cur.Token != t && s.live(cur, now) {
		s.release(ctx, holder)
		s.keep(cur, now)
		return cur, nil
	}
	// unforced asks WeChat for its current token, once: when it is no
	// longer t, it is the replacement, and no forced refresh is spent.
	asked := false
	unforced := func() (ports.StoredAccessToken, bool, error) {
		asked = true
		tok, err := s.ask(ctx, false)
		if err != nil || tok.Token == t {
			return tok, false, err
		}
		got, err := s.complete(ctx, holder, tok)
		return got, true, err
	}
	if cur.Token != t { // none stored, or it is ending: WeChat may have moved on already
		got, done, err := unforced()
		if err != nil {
			s.release(ctx, holder)
			return ports.StoredAccessToken{}, tokenErr(err)
		} else if done {
			return got, nil
		}
	}
	ok, retryAfter, err := s.Store.TakeForcedRefresh(ctx, now)
	if err != nil {
		s.release(ctx, holder)
		return ports.StoredAccessToken{}, err
	}
	if !ok {
		s.observe(AccessTokenEvent{Kind: AccessTokenForcedRefresh, Outcome: AccessTokenRateLimited})
		if !asked {
			if got, done, err := unforced(); err == nil && done {
				return got, nil
			}
		}
		s.release(ctx, holder)
		s.logger().LogAttrs(ctx, slog.LevelWarn, "WeChat access_token rejected, and WeChat's forced-refresh budget allows no refresh now",
			slog.Duration("retry_after", retryAfter))
		return ports.StoredAccessToken{}, &domain.Error{Code: domain.ERATELIMITED,
			Message: "WeChat's limit on access_token refreshes allows none now; try again later.", RetryAfter: retryAfter}
	}
	tok, err := s.ask(ctx, true)
	if err != nil {
		s.release(ctx, holder)
		s.logger().LogAttrs(ctx, slog.LevelWarn, "WeChat access_token forced refresh failed",
			slog.String("code", domain.ErrorCode(err)), slog.String("error", domain.ErrorMessage(err)))
		if domain.ErrorCode(err) == domain.ERATELIMITED {
			return ports.StoredAccessToken{}, err
		}
		return ports.StoredAccessToken{}, tokenErr(err)
	}
	s.logger().LogAttrs(ctx, slog.LevelInfo, "WeChat access_token rejected by an API; forced a refresh",
		slog.Duration("expires_in", tok.Expires.Sub(now)))
	return s.complete(ctx, holder, tok)
}

// refreshAhead starts, in the background, the fetch of the next token
// when tok has less than RefreshAhead left: one attempt at a time in this
// process, at most every refreshAheadEvery, and one fetch in the
// deployment (the lease, then the store read again). Callers meanwhile
// keep using tok.
func (s *AccessTokenService) refreshAhead(tok ports.StoredAccessToken, now time.Time) {
	if tok.Expires.Sub(now) >= s.refreshAheadOf() || now.UnixNano() < s.nextAhead.Load() {
		return
	}
	if !s.refreshing.CompareAndSwap(false, true) {
		return
	}
	s.nextAhead.Store(now.Add(refreshAheadEvery).UnixNano())
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		defer s.refreshing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), s.fetchTimeout()+time.Second)
		defer cancel()
		holder, ok, err := s.lease(ctx)
		if err != nil || !ok {
			return // another holder is at it, or the store blinked: the next call tries again
		}
		cur, err := s.Store.Current(ctx)
		if err != nil {
			s.release(ctx, holder)
			return
		}
		if now := s.now(); cur.Token != "" && cur.Expires.Sub(now) >= s.refreshAheadOf() {
			s.release(ctx, holder) // refreshed already, elsewhere
			s.keep(cur, now)
			return
		}
		fresh, err := s.ask(ctx, false)
		if err != nil {
			s.release(ctx, holder)
			s.logger().LogAttrs(ctx, slog.LevelWarn, "WeChat access_token refresh ahead of its end failed; the live token stays in use",
				slog.String("code", domain.ErrorCode(err)), slog.String("error", domain.ErrorMessage(err)))
			return
		}
		_, _ = s.complete(ctx, holder, fresh)
	}()
}

// ask calls stable_token, bounded by the fetch timeout, and counts it. A
// token is dated from before the call: its life is never overestimated.
func (s *AccessTokenService) ask(ctx context.Context, force bool) (ports.StoredAccessToken, error) {
	ctx, cancel := context.WithTimeout(ctx, s.fetchTimeout())
	defer cancel()
	asked := s.now()
	tok, life, err := s.Source.StableToken(ctx, force)
	if err == nil && (tok == "" || life <= 0) {
		err = domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat answered an access_token without a value or a lifetime.")
	}
	kind := AccessTokenFetch
	if force {
		kind = AccessTokenForcedRefresh
	}
	outcome := AccessTokenOK
	switch domain.ErrorCode(err) {
	case "":
	case domain.ERATELIMITED:
		outcome = AccessTokenRateLimited
	default:
		outcome = AccessTokenUnavailable
	}
	s.observe(AccessTokenEvent{Kind: kind, Outcome: outcome})
	if err != nil {
		return ports.StoredAccessToken{}, err
	}
	return ports.StoredAccessToken{Token: tok, Expires: asked.Add(life)}, nil
}

// complete stores tok under holder's lease and takes it up. When the
// lease ran out meanwhile (a slow WeChat), what the store holds now wins
// if it is live: another holder may have forced a refresh that ended tok.
func (s *AccessTokenService) complete(ctx context.Context, holder string, tok ports.StoredAccessToken) (ports.StoredAccessToken, error) {
	now := s.now()
	done, err := s.Store.Complete(ctx, holder, tok, now)
	if err == nil && !done {
		if cur, err := s.Store.Current(ctx); err == nil && s.live(cur, now) {
			tok = cur
		}
	}
	if err != nil {
		s.release(ctx, holder)
		s.logger().LogAttrs(ctx, slog.LevelWarn, "storing the new WeChat access_token failed; this instance uses it, the others fetch their own",
			slog.String("code", domain.ErrorCode(err)), slog.String("error", domain.ErrorMessage(err)))
	}
	s.keep(tok, now)
	return tok, nil
}

// lease takes the store's lease under a holder value made for this
// attempt alone (concurrent attempts of one process must not complete or
// release each other's).
func (s *AccessTokenService) lease(ctx context.Context) (string, bool, error) {
	holder := rand.Text()
	ok, err := s.Store.Lease(ctx, holder, s.leaseTTL())
	return holder, ok, err
}

// release ends holder's lease on a context of its own (the caller's may
// be what ran out); a failure only makes the others wait for its TTL.
func (s *AccessTokenService) release(ctx context.Context, holder string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := s.Store.Release(ctx, holder); err != nil {
		s.logger().LogAttrs(ctx, slog.LevelWarn, "releasing the WeChat access_token lease failed; other instances wait for its TTL",
			slog.String("code", domain.ErrorCode(err)), slog.String("error", domain.ErrorMessage(err)))
	}
}

// pause waits one poll for another holder's fetch, or fails once the
// wait that began at deadline less Wait is over.
func (s *AccessTokenService) pause(ctx context.Context, deadline time.Time) error {
	if !time.Now().Before(deadline) {
		return domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "Another instance's fetch of the WeChat access_token did not finish in time.")
	}
	t := time.NewTimer(accessTokenPoll)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return domain.Wrap(domain.EEXCHANGEUNAVAILABLE, ctx.Err(), "No WeChat access_token in time.")
	}
}

// keep makes tok this process's copy, for CacheFor, and reports a token
// newly taken up.
func (s *AccessTokenService) keep(tok ports.StoredAccessToken, now time.Time) {
	prev := s.cache.Swap(&cachedAccessToken{tok: tok, until: now.Add(s.cacheFor())})
	if prev == nil || prev.tok.Token != tok.Token || !prev.tok.Expires.Equal(tok.Expires) {
		s.observe(AccessTokenEvent{Kind: AccessTokenInUse, Expires: tok.Expires})
	}
}

// live reports whether tok may be handed out at now: Margin left.
func (s *AccessTokenService) live(tok ports.StoredAccessToken, now time.Time) bool {
	return tok.Token != "" && tok.Expires.Sub(now) > s.margin()
}

// tokenErr keeps Token's errors to its port's: whatever else WeChat
// answered (its rate limits on a plain fetch) is EEXCHANGEUNAVAILABLE.
func tokenErr(err error) error {
	if domain.ErrorCode(err) == domain.EEXCHANGEUNAVAILABLE {
		return err
	}
	return domain.Wrap(domain.EEXCHANGEUNAVAILABLE, err, "WeChat gave no access_token.")
}

func (s *AccessTokenService) observe(e AccessTokenEvent) {
	if s.Observe != nil {
		s.Observe(e)
	}
}

func (s *AccessTokenService) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *AccessTokenService) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (s *AccessTokenService) margin() time.Duration {
	return orDefault(s.Margin, DefaultAccessTokenMargin)
}

func (s *AccessTokenService) refreshAheadOf() time.Duration {
	return orDefault(s.RefreshAhead, DefaultAccessTokenRefreshAhead)
}

func (s *AccessTokenService) wait() time.Duration {
	return orDefault(s.Wait, DefaultAccessTokenWait)
}

func (s *AccessTokenService) leaseTTL() time.Duration {
	return orDefault(s.Lease, DefaultAccessTokenLease)
}

func (s *AccessTokenService) cacheFor() time.Duration {
	return orDefault(s.CacheFor, DefaultAccessTokenCacheFor)
}

// fetchTimeout bounds one stable_token call: two thirds of the lease, so
// that its holder completes before the lease runs out.
func (s *AccessTokenService) fetchTimeout() time.Duration { return s.leaseTTL() * 2 / 3 }
