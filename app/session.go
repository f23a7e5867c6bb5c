// Package app holds onestroke's use cases: authenticating a request from its
// session headers and the drawing operations of a signed-in user.
package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// DefaultSessionTTL is the original service's session lifetime.
const DefaultSessionTTL = 2 * time.Hour

// exchangeTimeout bounds one login's exchange and store write. It is detached
// from the request that started it, because requests that joined the same
// login wait for it too.
const exchangeTimeout = 15 * time.Second

// Defaults of the exchange bound.
const (
	// DefaultMaxConcurrentExchanges bounds the code2Session calls in flight
	// from one instance: each holds a connection to WeChat and a goroutine
	// for up to the exchange timeout, and WeChat itself rate-limits an app
	// (45011) long before this many logins a second.
	DefaultMaxConcurrentExchanges = 64
	// DefaultExchangeWait is how long a login waits for a free slot before
	// it is answered EBUSY: long enough to ride out a burst, short enough
	// that the client is not left hanging while WeChat is slow.
	DefaultExchangeWait = time.Second
)

// ExchangeOutcome is what became of a login that needed WeChat: a label
// from a fixed set, for metrics.
type ExchangeOutcome string

const (
	ExchangeOK          ExchangeOutcome = "ok"           // WeChat answered a session (the signature is checked after)
	ExchangeRefused     ExchangeOutcome = "refused"      // WeChat refused the code
	ExchangeUnavailable ExchangeOutcome = "unavailable"  // WeChat unreachable, failing or busy after the retry
	ExchangeBusy        ExchangeOutcome = "busy"         // no exchange slot within ExchangeWait; WeChat not called
	ExchangeRateLimited ExchangeOutcome = "rate_limited" // past the client's login budget; WeChat not called
)

// ExchangeOutcomes lists every ExchangeOutcome, so that metrics can create
// each series before it first counts.
var ExchangeOutcomes = []ExchangeOutcome{ExchangeOK, ExchangeRefused, ExchangeUnavailable, ExchangeBusy, ExchangeRateLimited}

// SessionService authenticates requests (PROTOCOL §1).
type SessionService struct {
	Store     ports.SessionStore
	Exchanger ports.CodeExchanger
	TTL       time.Duration
	Logger    *slog.Logger

	// Gate is what every login that reaches WeChat passes: the login
	// budget per client address (Credentials.Client; repeats of verified
	// headers, code-only requests and requests joining a login in flight
	// are not counted), the exchange slots and the outcome count. Share one
	// with the TokenService. Nil means a gate of its own with the defaults
	// and no budget.
	Gate *ExchangeGate

	gateOnce sync.Once
	ownGate  *ExchangeGate

	// logins makes concurrent first requests with one code share a single
	// exchange: a code is single-use at WeChat.
	logins singleflight.Group
}

// loginResult is what a shared login hands to every request that waited
// for it.
type loginResult struct {
	user  domain.UserInfo
	proof string
	// wx is set when this login exchanged the code, so that a waiter that
	// sent a different rawData or signature can verify its own.
	wx *domain.WxSession
	// err is the leader's verification error; waiters with other headers
	// verify for themselves.
	err error
}

// Authenticate returns the user of a request, or nil for an anonymous one
// (no code). Errors: EINVALID and EBADRAWDATA for malformed headers,
// EUNTRUSTED for a missing, malformed or mismatched signature (a malformed
// one before any look-up or exchange), ESESSIONEXPIRED, EEXCHANGEREFUSED,
// EEXCHANGEUNAVAILABLE, ERATELIMITED past the client's login budget (with
// Error.RetryAfter), EBUSY when every exchange slot stayed taken for
// ExchangeWait, and EUNAVAILABLE when the store is down.
func (s *SessionService) Authenticate(ctx context.Context, c domain.Credentials) (*domain.UserInfo, error) {
	if c.Code == "" {
		return nil, nil
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.RawData == "" {
		user, err := s.Store.User(ctx, c.Code)
		if err != nil {
			return nil, err
		}
		return &user, nil
	}

	raw, err := domain.DecodeRawData(c.RawData)
	if err != nil {
		return nil, err
	}
	if err := domain.CheckSignatureShape(c.Signature); err != nil {
		return nil, err
	}
	proof := domain.LoginProof(raw.Text(), c.Signature)

	// A repeat of first headers that were already verified is answered from
	// the store; the code was spent at WeChat.
	if sess, err := s.Store.Get(ctx, c.Code); err == nil && sess.Proof == proof {
		return &sess.User, nil
	} else if err != nil && domain.ErrorCode(err) != domain.ESESSIONEXPIRED {
		return nil, err
	}

	v, err, _ := s.logins.Do(c.Code, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), exchangeTimeout)
		defer cancel()
		return s.login(ctx, c, raw, proof)
	})
	if err != nil {
		return nil, err
	}
	res := v.(*loginResult)
	if res.proof == proof {
		if res.err != nil {
			return nil, res.err
		}
		return &res.user, nil
	}
	// This request joined a login started with other headers for the same
	// code. Only the exchanged session key can tell whether ours are genuine.
	if res.wx == nil {
		return nil, domain.Errorf(domain.EEXCHANGEREFUSED, "The login code was already used.")
	}
	if err := domain.VerifySignature(raw, res.wx.SessionKey, c.Signature); err != nil {
		return nil, err
	}
	user := domain.NewUserInfo(raw, res.wx.OpenID)
	if err := s.Store.Login(ctx, domain.Session{Code: c.Code, User: user, Proof: proof}, s.ttl()); err != nil {
		return nil, err
	}
	return &user, nil
}

// login runs once per code among concurrent requests: it exchanges the
// code, verifies the leader's signature and records the session.
func (s *SessionService) login(ctx context.Context, c domain.Credentials, raw domain.RawData, proof string) (*loginResult, error) {
	code, signature := c.Code, c.Signature
	wx, err := s.gate().Exchange(ctx, s.Exchanger, code, c.Client)
	switch domain.ErrorCode(err) {
	case domain.ERATELIMITED, domain.EBUSY:
		return nil, err // WeChat was not asked; the refusal is logged where it is answered
	}
	if err != nil && domain.ErrorCode(err) == domain.EEXCHANGEREFUSED {
		// A login of the same headers may have finished between this
		// request's look-up and this exchange, spending the code: the store
		// has the answer then. Checked only on this rare path, it costs the
		// common one nothing.
		if sess, gerr := s.Store.Get(ctx, code); gerr == nil && sess.Proof == proof {
			return &loginResult{user: sess.User, proof: proof}, nil
		}
	}
	if err != nil {
		s.logger().LogAttrs(ctx, slog.LevelWarn, "code exchange failed",
			slog.String("code", domain.ErrorCode(err)), slog.String("error", domain.ErrorMessage(err)))
		return nil, err
	}
	res := &loginResult{proof: proof, wx: &wx}
	if err := domain.VerifySignature(raw, wx.SessionKey, signature); err != nil {
		res.err = err
		return res, nil
	}
	res.user = domain.NewUserInfo(raw, wx.OpenID)
	if err := s.Store.Login(ctx, domain.Session{Code: code, User: res.user, Proof: proof}, s.ttl()); err != nil {
		return nil, err
	}
	s.logger().LogAttrs(ctx, slog.LevelDebug, "login verified")
	return res, nil
}

// gate returns the ExchangeGate the logins pass: Gate, or one of its own
// with the defaults.
func (s *SessionService) gate() *ExchangeGate {
	if s.Gate != nil {
		return s.Gate
	}
	s.gateOnce.Do(func() { s.ownGate = &ExchangeGate{Logger: s.Logger} })
	return s.ownGate
}

func (s *SessionService) ttl() time.Duration {
	if s.TTL <= 0 {
		return DefaultSessionTTL
	}
	return s.TTL
}

func (s *SessionService) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
