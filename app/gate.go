package app

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// ExchangeGate is what every login that reaches WeChat passes, whichever
// protocol it speaks: the client address's login budget, one of a bounded
// number of exchange slots, and the count of its outcome. The legacy
// SessionService and the TokenService share one gate, so that
// ONESTROKE_MAX_EXCHANGES bounds the code2Session calls of the instance and
// one address's budget covers both protocols.
type ExchangeGate struct {
	// Limiter, when set, limits the logins that would reach WeChat per
	// client address. When the limiter cannot answer, logins go ahead
	// (see Allow).
	Limiter ports.RateLimiter
	// UserLimiter, when set, limits the logins of one user (by openId),
	// once WeChat has named the user (AllowUser). Like Limiter, it lets
	// logins go ahead when it cannot answer.
	UserLimiter ports.RateLimiter
	// MaxConcurrent bounds the exchanges in flight at once (default
	// DefaultMaxConcurrentExchanges).
	MaxConcurrent int
	// Wait is how long a login waits for a slot (default
	// DefaultExchangeWait); then it fails with EBUSY.
	Wait time.Duration
	// Observe, when set, is told the outcome of every login that needed
	// WeChat (once per exchange, not per joined request).
	Observe func(ExchangeOutcome)
	Logger  *slog.Logger

	// limits logs the limiters' failures (see failOpen).
	limits failOpen

	// slots holds one token per exchange in flight.
	slots     chan struct{}
	slotsOnce sync.Once
}

// limiterWarnEvery bounds how often a failing limiter is logged: once per
// login would flood the log exactly when Redis is in trouble.
const limiterWarnEvery = 10 * time.Second

// Allow takes one login attempt from the client's budget. Past it the
// login fails with ERATELIMITED (with Error.RetryAfter).
//
// When the limiter cannot answer (Redis down or slow), the login goes
// ahead, with a warning logged at most every limiterWarnEvery. Failing
// closed would lock every user out whenever the limiter's store blinks,
// and the store is usually the session store, without which no login works
// anyway; failing open is not unlimited, because the exchange slots
// still bound what reaches WeChat.
func (g *ExchangeGate) Allow(ctx context.Context, client string) error {
	if client == "" {
		client = "unknown"
	}
	return g.allow(ctx, g.Limiter, client, "Too many logins from this address; try again later.")
}

// AllowUser takes one login from the user openID's budget: past it the
// login fails with ERATELIMITED (with Error.RetryAfter). It fails open as
// Allow does.
func (g *ExchangeGate) AllowUser(ctx context.Context, openID string) error {
	return g.allow(ctx, g.UserLimiter, openID, "Too many logins of this user; try again later.")
}

func (g *ExchangeGate) allow(ctx context.Context, limiter ports.RateLimiter, key, refusal string) error {
	return g.limits.allow(ctx, g.logger(), limiter, key, refusal,
		"login rate limiter unavailable; letting logins through, bounded by the exchange slots")
}

// failOpen is the rule of every rate limit of the service when its
// limiter cannot answer (its store down or slow): the request goes ahead,
// and a warning with the count of failures since the last one is logged
// at most every limiterWarnEvery (once per request would flood the log
// exactly when Redis is in trouble).
type failOpen struct {
	warned   atomic.Int64 // unix nanoseconds of the last warning
	failures atomic.Int64 // failures not logged yet
}

// allow takes one event of key from limiter (nil: no limit): nil when it
// is allowed or the limiter failed (logged as unavailable), ERATELIMITED
// with refusal and the limiter's Retry-After otherwise.
func (f *failOpen) allow(ctx context.Context, logger *slog.Logger, limiter ports.RateLimiter, key, refusal, unavailable string) error {
	if limiter == nil {
		return nil
	}
	ok, retryAfter, err := limiter.Allow(ctx, key)
	if err != nil {
		failures := f.failures.Add(1)
		now, last := time.Now().UnixNano(), f.warned.Load()
		if now-last >= int64(limiterWarnEvery) && f.warned.CompareAndSwap(last, now) {
			f.failures.Add(-failures)
			logger.LogAttrs(ctx, slog.LevelWarn, unavailable,
				slog.Int64("failures", failures), slog.String("error", err.Error()))
		}
		return nil
	}
	if !ok {
		return &domain.Error{Code: domain.ERATELIMITED, Message: refusal, RetryAfter: retryAfter}
	}
	return nil
}

// Acquire takes one of the MaxConcurrent slots, waiting up to Wait, and
// returns what gives it back. A full house is EBUSY.
func (g *ExchangeGate) Acquire() (release func(), err error) {
	g.slotsOnce.Do(func() {
		n := g.MaxConcurrent
		if n <= 0 {
			n = DefaultMaxConcurrentExchanges
		}
		g.slots = make(chan struct{}, n)
	})
	release = func() { <-g.slots }
	select {
	case g.slots <- struct{}{}:
		return release, nil
	default:
	}
	wait := g.Wait
	if wait <= 0 {
		wait = DefaultExchangeWait
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, &domain.Error{Code: domain.EBUSY, Message: "Too many logins at once; try again shortly.", RetryAfter: time.Second}
	}
}

// Exchange runs one exchange through the gate: the client's budget, a
// slot, the call, and its outcome counted. Its errors are the exchanger's,
// ERATELIMITED and EBUSY.
func (g *ExchangeGate) Exchange(ctx context.Context, ex ports.CodeExchanger, code, client string) (domain.WxSession, error) {
	if err := g.Allow(ctx, client); err != nil {
		g.observe(ExchangeRateLimited)
		return domain.WxSession{}, err
	}
	return g.ExchangeAllowed(ctx, ex, code)
}

// RateLimited counts a login that Allow refused, for a caller that asked
// Allow itself (see ExchangeAllowed).
func (g *ExchangeGate) RateLimited() { g.observe(ExchangeRateLimited) }

// ExchangeAllowed is Exchange for a login whose budget the caller has
// already taken with Allow: a slot, the call, and its outcome counted.
func (g *ExchangeGate) ExchangeAllowed(ctx context.Context, ex ports.CodeExchanger, code string) (domain.WxSession, error) {
	release, err := g.Acquire()
	if err != nil {
		g.observe(ExchangeBusy) // counted, not logged here: the 503 is logged where it is answered
		return domain.WxSession{}, err
	}
	wx, err := ex.Exchange(ctx, code)
	release()
	switch domain.ErrorCode(err) {
	case "":
		g.observe(ExchangeOK)
	case domain.EEXCHANGEREFUSED:
		g.observe(ExchangeRefused)
	default:
		g.observe(ExchangeUnavailable)
	}
	return wx, err
}

func (g *ExchangeGate) observe(o ExchangeOutcome) {
	if g.Observe != nil {
		g.Observe(o)
	}
}

func (g *ExchangeGate) logger() *slog.Logger {
	if g.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return g.Logger
}
