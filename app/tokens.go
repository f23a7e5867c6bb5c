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

// LoginCodeTTL is how long WeChat accepts a wx.login code (PROTOCOL §4),
// and so how long a finished login answers a retry of its code.
const LoginCodeTTL = 5 * time.Minute

// claimPoll is how often a login waits again for a code whose exchange
// another instance holds.
const claimPoll = 25 * time.Millisecond

// WeChat's errcodes (PROTOCOL §4) that the modern protocol answers apart
// from a refused code; the exchanger hands them over in the error's
// Detail (ports.CodeExchanger).
const (
	wxFrequencyLimit   = 45011
	wxInvalidAppID     = 40013
	wxInvalidAppSecret = 40125
)

// wxRateLimitWait is the Retry-After of WeChat's 45011: its errmsg says
// "retry next minute".
const wxRateLimitWait = time.Minute

// TokenService holds the use cases of the modern sessions (PROTOCOL §6):
// a wx.login code becomes a bearer token of this server, a token a
// session, and a signed-in user lists and ends their sessions and edits
// their profile.
type TokenService struct {
	Sessions  ports.TokenSessionStore
	Codes     ports.LoginCodes
	Profiles  ports.ProfileRepository
	Exchanger ports.CodeExchanger
	// Sealer seals WeChat's session_key into the session
	// (domain.NewSessionKeySealer with the app secret).
	Sealer *domain.SessionKeySealer
	// Gate is what a login that reaches WeChat passes; share the legacy
	// SessionService's. Nil means a gate of its own with the defaults.
	Gate   *ExchangeGate
	Policy domain.SessionPolicy
	Now    ports.Clock
	Logger *slog.Logger

	// The WeChat platform services of PROTOCOL §8 (platform.go). Each is
	// optional: what a nil one means is said where it is used.
	//
	// Phones asks WeChat for a user's phone number.
	Phones ports.PhoneNumbers
	// Content checks a new nickName with WeChat before it is stored.
	Content ports.ContentChecker
	// AppID is the mini-program's appid, which encryptedData's watermark
	// must name.
	AppID string
	// PlatformLimiter, when set, limits each user's calls that reach
	// WeChat's platform APIs (phone numbers, content checks), keyed by
	// openId; build it with the per-user rate (one shared by every
	// instance, on Redis, when there is one).
	PlatformLimiter ports.RateLimiter
	// PlatformTimeout bounds one platform call to WeChat, whatever the
	// adapter's own timeout (default DefaultPlatformTimeout).
	PlatformTimeout time.Duration

	// logins makes concurrent logins with one code within this instance
	// share one claim, one exchange and one token; Codes does it across
	// instances.
	logins singleflight.Group
	// completing counts the login records still being written (see
	// exchange); Wait waits for them.
	completing sync.WaitGroup
	gateOnce   sync.Once
	ownGate    *ExchangeGate
	// platformLimits logs PlatformLimiter's failures (see failOpen).
	platformLimits failOpen
}

// LoginRequest is a login of the modern protocol: the wx.login code, the
// client's optional name for its device, and the client's address as the
// transport determined it (the key of the login rate limit).
type LoginRequest struct {
	Code   string
	Device string
	Client string
}

// Login is a successful login: the token, shown to its client once, and
// the session it reaches.
type Login struct {
	Token   domain.Token
	Session *domain.TokenSession
}

// Login turns a wx.login code into a token. One code causes one
// code2Session call: concurrent logins with it share it (here through
// singleflight, across instances through Codes), and a retry within the
// code's lifetime gets a new token of the session it made.
// Errors: EINVALID for a malformed code or device; EEXCHANGEREFUSED when
// WeChat refused the code, or the code's session has ended since;
// EEXCHANGEUNAVAILABLE when WeChat could not be reached, stayed busy or
// refused the app's credentials; ERATELIMITED past the client address's or the user's
// budget or on WeChat's 45011 (with Error.RetryAfter); EBUSY when every
// exchange slot stayed taken; EUNAVAILABLE when a store is down.
func (s *TokenService) Login(ctx context.Context, req LoginRequest) (Login, error) {
	if err := domain.ValidateLoginCode(req.Code); err != nil {
		return Login{}, err
	}
	if err := domain.ValidateDevice(req.Device); err != nil {
		return Login{}, err
	}
	v, err, _ := s.logins.Do(req.Code, func() (any, error) {
		// Detached: the requests that joined wait for it too.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), exchangeTimeout)
		defer cancel()
		return s.login(ctx, req)
	})
	if err != nil {
		return Login{}, err
	}
	return *v.(*Login), nil
}

// login runs once per code among this instance's concurrent logins.
//
// The first claim and the client address's login budget are asked at once
// (on Redis, one round trip for both): the budget decides only when the
// code is claimed, so every login request takes from it, whether or not
// it reaches WeChat.
func (s *TokenService) login(ctx context.Context, req LoginRequest) (*Login, error) {
	allowed := make(chan error, 1)
	go func() { allowed <- s.gate().Allow(ctx, req.Client) }()
	budget := func() error {
		if allowed == nil {
			return nil
		}
		err := <-allowed
		allowed = nil
		return err
	}
	defer budget() // never leave it running on a context that is about to end
	for {
		claimed, done, err := s.Codes.Claim(ctx, req.Code, exchangeTimeout)
		if err != nil {
			return nil, err
		}
		if claimed {
			if err := budget(); err != nil {
				s.gate().RateLimited()
				s.release(ctx, req.Code)
				return nil, err
			}
			return s.exchange(ctx, req)
		}
		if done != (ports.LoginResult{}) {
			return s.again(ctx, done)
		}
		// Another instance is exchanging the code: wait for its session.
		t := time.NewTimer(claimPoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, domain.Wrap(domain.EEXCHANGEUNAVAILABLE, ctx.Err(), "The login of this code did not finish in time; try again.")
		}
	}
}

// exchange runs the claimed code's exchange and starts its session.
func (s *TokenService) exchange(ctx context.Context, req LoginRequest) (*Login, error) {
	wx, err := s.gate().ExchangeAllowed(ctx, s.Exchanger, req.Code)
	if err != nil {
		s.release(ctx, req.Code)
		return nil, s.exchangeError(ctx, err)
	}
	// Only now is the user known. The code is spent at WeChat either way:
	// a refused login makes the client wait, then call wx.login again.
	if err := s.gate().AllowUser(ctx, wx.OpenID); err != nil {
		s.gate().RateLimited()
		s.release(ctx, req.Code)
		return nil, err
	}
	now := s.now()
	id, err := domain.NewSessionID()
	if err != nil {
		s.release(ctx, req.Code)
		return nil, err
	}
	sealed, err := s.Sealer.Seal(wx.SessionKey, id)
	if err != nil {
		s.release(ctx, req.Code)
		return nil, err
	}
	sess, err := domain.NewTokenSession(id, wx, sealed, req.Device, now, s.Policy)
	if err != nil {
		s.release(ctx, req.Code)
		return nil, err
	}
	tok, digest, err := domain.MintToken(wx.OpenID)
	if err != nil {
		s.release(ctx, req.Code)
		return nil, err
	}
	ended, err := s.Sessions.Create(ctx, digest, sess, now, s.Policy)
	if err != nil {
		// The code is spent at WeChat: a retry claims it again and meets
		// WeChat's "code been used", so the client calls wx.login again.
		s.release(ctx, req.Code)
		return nil, err
	}
	// The record that answers a retry of the code is written while the
	// token goes back: only a client that lost this answer retries, and
	// until the record is there the claim makes a retry wait for it.
	s.completing.Add(1)
	go func() {
		defer s.completing.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), completeTimeout)
		defer cancel()
		if err := s.Codes.Complete(ctx, req.Code, ports.LoginResult{Owner: wx.OpenID, SessionID: id}, LoginCodeTTL); err != nil {
			// The login stands; only a retry of this code cannot be answered.
			s.logger().LogAttrs(ctx, slog.LevelWarn, "token login: recording the code's session failed; a retry of the code will need a new wx.login",
				slog.String("code", domain.ErrorCode(err)), slog.String("error", domain.ErrorMessage(err)))
		}
	}()
	if len(ended) > 0 {
		s.logger().LogAttrs(ctx, slog.LevelDebug, "token login ended the least recently used sessions", slog.Int("ended", len(ended)))
	}
	return &Login{Token: tok, Session: sess}, nil
}

// completeTimeout bounds the write of a login's record (see exchange).
const completeTimeout = 5 * time.Second

// Wait waits for the login records still being written; call it after
// the last Login has returned (on shutdown, and in tests).
func (s *TokenService) Wait() { s.completing.Wait() }

// again answers a retry of a code whose login finished: a new token of
// the same session, without WeChat.
func (s *TokenService) again(ctx context.Context, done ports.LoginResult) (*Login, error) {
	if done.SessionID == ports.LegacyLogin {
		return nil, domain.Errorf(domain.EEXCHANGEREFUSED, "This login code was spent by a login of the legacy protocol; call wx.login again.")
	}
	tok, digest, err := domain.MintToken(done.Owner)
	if err != nil {
		return nil, err
	}
	now := s.now()
	err = s.Sessions.AddToken(ctx, done.Owner, done.SessionID, digest, now)
	var sess *domain.TokenSession
	if err == nil {
		sess, err = s.Sessions.Authenticate(ctx, digest, now, s.Policy)
	}
	if domain.ErrorCode(err) == domain.ESESSIONEXPIRED {
		return nil, domain.Errorf(domain.EEXCHANGEREFUSED, "The session this login code made has ended; call wx.login again.")
	}
	if err != nil {
		return nil, err
	}
	return &Login{Token: tok, Session: sess}, nil
}

// release gives up a claim after a failed login, so that a retry may
// claim the code again; on a context of its own, since the login's may
// be what ran out.
func (s *TokenService) release(ctx context.Context, code string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := s.Codes.Release(ctx, code); err != nil {
		s.logger().LogAttrs(ctx, slog.LevelWarn, "token login: releasing the code's claim failed; a retry waits for its lease",
			slog.String("code", domain.ErrorCode(err)), slog.String("error", domain.ErrorMessage(err)))
	}
}

// exchangeError turns what WeChat answered into the modern protocol's
// terms: its 45011 is a rate limit, and a refusal of the app's own
// credentials (already EEXCHANGEUNAVAILABLE) is an operator's problem,
// logged as one.
func (s *TokenService) exchangeError(ctx context.Context, err error) error {
	errcode, _ := domain.ErrorDetail(err)["errcode"].(int)
	switch code := domain.ErrorCode(err); {
	case code == domain.ERATELIMITED || code == domain.EBUSY:
		return err // WeChat was not asked
	case code == domain.EEXCHANGEREFUSED && errcode == wxFrequencyLimit:
		return &domain.Error{Code: domain.ERATELIMITED, Message: "WeChat is limiting this app's logins; try again in a minute.",
			RetryAfter: wxRateLimitWait, Err: err}
	case errcode == wxInvalidAppID || errcode == wxInvalidAppSecret:
		s.logger().LogAttrs(ctx, slog.LevelError, "configuration error: WeChat refused the app's credentials; check ONESTROKE_WX_APPID and the app secret",
			slog.Int("errcode", errcode))
		if code != domain.EEXCHANGEUNAVAILABLE {
			return domain.Wrap(domain.EEXCHANGEUNAVAILABLE, err, "WeChat rejected the server's app credentials.")
		}
	default:
		s.logger().LogAttrs(ctx, slog.LevelWarn, "code exchange failed",
			slog.String("code", code), slog.String("error", domain.ErrorMessage(err)))
	}
	return err
}

// Authenticate returns the live session of an Authorization header value:
// one store read (and the sliding expiry's write at most once a minute).
// Errors: EUNAUTHORIZED when it is not "Bearer " and a token of this
// format, ESESSIONEXPIRED when the token is unknown, revoked, idle or past
// its lifetime, EUNAVAILABLE when the store is down.
func (s *TokenService) Authenticate(ctx context.Context, authorization string) (*domain.TokenSession, error) {
	tok, err := domain.ParseBearer(authorization)
	if err != nil {
		return nil, err
	}
	return s.Sessions.Authenticate(ctx, tok.Digest(), s.now(), s.Policy)
}

// User returns the legacy routes' user info of a session: its openId and,
// when withProfile, the user's profile (one more read).
// Errors: EUNAVAILABLE when the profile store is down.
func (s *TokenService) User(ctx context.Context, sess *domain.TokenSession, withProfile bool) (domain.UserInfo, error) {
	var p domain.Profile
	if withProfile {
		var err error
		if p, err = s.Profiles.Profile(ctx, sess.OpenID()); err != nil {
			return domain.UserInfo{}, err
		}
	}
	return p.UserInfo(sess.OpenID()), nil
}

// Logout ends the calling session and every token of it. A session that
// ended meanwhile is no error: the client is logged out either way.
// Errors: EUNAVAILABLE.
func (s *TokenService) Logout(ctx context.Context, sess *domain.TokenSession) error {
	if err := s.Sessions.Revoke(ctx, sess.OpenID(), sess.ID(), s.now()); err != nil && domain.ErrorCode(err) != domain.ENOTFOUND {
		return err
	}
	return nil
}

// LogoutAll ends every session of the caller's user and returns how many
// were live. Errors: EUNAVAILABLE.
func (s *TokenService) LogoutAll(ctx context.Context, sess *domain.TokenSession) (int, error) {
	return s.Sessions.RevokeAll(ctx, sess.OpenID(), s.now())
}

// ListSessions returns the caller's user's live sessions, newest first.
// Errors: EUNAVAILABLE.
func (s *TokenService) ListSessions(ctx context.Context, sess *domain.TokenSession) ([]*domain.TokenSession, error) {
	return s.Sessions.Sessions(ctx, sess.OpenID(), s.now())
}

// RevokeSession ends the caller's user's session id.
// Errors: ENOTFOUND when the user has no such live session (whoever else
// may have one), EUNAVAILABLE.
func (s *TokenService) RevokeSession(ctx context.Context, sess *domain.TokenSession, id string) error {
	return s.Sessions.Revoke(ctx, sess.OpenID(), id, s.now())
}

// Profile returns the caller's profile (zero when none was set).
// Errors: EUNAVAILABLE.
func (s *TokenService) Profile(ctx context.Context, sess *domain.TokenSession) (domain.Profile, error) {
	return s.Profiles.Profile(ctx, sess.OpenID())
}

// IdleTimeout is the idle timeout in force.
func (s *TokenService) IdleTimeout() time.Duration { return s.Policy.WithDefaults().Idle }

func (s *TokenService) gate() *ExchangeGate {
	if s.Gate != nil {
		return s.Gate
	}
	s.gateOnce.Do(func() { s.ownGate = &ExchangeGate{Logger: s.Logger} })
	return s.ownGate
}

func (s *TokenService) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *TokenService) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
