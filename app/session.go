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
	// Codes makes one exchange per code across every instance that shares
	// it (the TokenService's, on Redis when configured): a first request
	// claims its code there before it asks WeChat, and a first request
	// with the same code on another instance waits for that login and
	// answers from the session it stored. Nil means the claim is this
	// process's alone, enough for one instance.
	Codes  ports.LoginCodes
	TTL    time.Duration
	Logger *slog.Logger

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
	// completing counts the codes' login records still being written
	// (see login); Wait waits for them.
	completing sync.WaitGroup
}

// Wait waits for the codes' login records still being written; call it
// after the last Authenticate has returned (on shutdown, and in tests).
func (s *SessionService) Wait() { s.completing.Wait() }

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

// login runs once per code among this instance's concurrent requests: it
// claims the code in Codes, then exchanges it, verifies the leader's
// signature and records the session; or, when another instance holds the
// code, waits for that login and answers from the store.
func (s *SessionService) login(ctx context.Context, c domain.Credentials, raw domain.RawData, proof string) (*loginResult, error) {
	if s.Codes == nil {
		return s.exchange(ctx, c, raw, proof)
	}
	for {
		claimed, done, err := s.Codes.Claim(ctx, c.Code, exchangeTimeout)
		if err != nil {
			return nil, err
		}
		if claimed {
			res, err := s.exchange(ctx, c, raw, proof)
			if err != nil || res.err != nil {
				// Nothing was stored for the code: let go, so that a retry
				// is not kept waiting for the lease.
				s.release(ctx, c.Code)
				return res, err
			}
			// The record is written while the answer goes back, as the v2
			// login's: first requests with this code on other instances
			// wait for it through the claim.
			owner := res.user.OpenID()
			s.completing.Add(1)
			go func() {
				defer s.completing.Done()
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), completeTimeout)
				defer cancel()
				if err := s.Codes.Complete(ctx, c.Code, ports.LoginResult{Owner: owner, SessionID: ports.LegacyLogin}, LoginCodeTTL); err != nil {
					// The login stands; first requests with this code on other
					// instances wait for the lease, then meet WeChat's "code
					// been used" and find the session in the store.
					s.logger().LogAttrs(ctx, slog.LevelWarn, "legacy login: recording the code's login failed",
						slog.String("code", domain.ErrorCode(err)), slog.String("error", domain.ErrorMessage(err)))
				}
			}()
			return res, nil
		}
		if done != (ports.LoginResult{}) {
			return s.joined(ctx, c.Code, done)
		}
		// Another instance is exchanging the code: wait for its login.
		t := time.NewTimer(claimPoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, domain.Wrap(domain.EEXCHANGEUNAVAILABLE, ctx.Err(), "The login of this code did not finish in time; try again.")
		}
	}
}

// joined answers a first request whose code another instance's login
// finished: the session that login stored. Its proof tells each request
// of this instance that waited whether it sent the same headers (only the
// exchanged session_key could verify others, and it never leaves the
// instance that exchanged it).
// Errors: EEXCHANGEREFUSED when the code made a modern session or its
// legacy one has ended; EUNAVAILABLE when the store is down.
func (s *SessionService) joined(ctx context.Context, code string, done ports.LoginResult) (*loginResult, error) {
	if done.SessionID == ports.LegacyLogin {
		sess, err := s.Store.Get(ctx, code)
		if err == nil {
			return &loginResult{user: sess.User, proof: sess.Proof}, nil
		}
		if domain.ErrorCode(err) != domain.ESESSIONEXPIRED {
			return nil, err
		}
	}
	return nil, domain.Errorf(domain.EEXCHANGEREFUSED, "The login code was already used.")
}

// release gives up a claim after a login that stored nothing, on a
// context of its own, since the login's may be what ran out.
func (s *SessionService) release(ctx context.Context, code string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := s.Codes.Release(ctx, code); err != nil {
		s.logger().LogAttrs(ctx, slog.LevelWarn, "legacy login: releasing the code's claim failed; a retry waits for its lease",
			slog.String("code", domain.ErrorCode(err)), slog.String("error", domain.ErrorMessage(err)))
	}
}

// exchange exchanges the code, verifies the leader's signature and
// records the session.
func (s *SessionService) exchange(ctx context.Context, c domain.Credentials, raw domain.RawData, proof string) (*loginResult, error) {
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
