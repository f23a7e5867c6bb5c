package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/onestroke/onestroke/domain"
)

// DefaultPlatformTimeout bounds one call to a WeChat platform API (phone
// number, content check) from the use case's side: the adapter has its own
// timeout and one retry after a rejected access_token, and a request must
// not wait on WeChat longer than a client waits for it.
const DefaultPlatformTimeout = 10 * time.Second

// The use cases of PROTOCOL §8 for a signed-in user: the phone number
// behind a getPhoneNumber code, encryptedData opened with the session's
// session_key, and the content check a new nickName passes.

// SetPhoneNumber asks WeChat for the phone number of a getPhoneNumber
// button's code (which must be the caller's: WeChat is told the openId),
// stores it on the caller's profile and returns it. Without Phones the
// feature is off and the answer is ENOTFOUND.
// Errors: EINVALID for a malformed code (WeChat is not asked);
// EPHONECODEREFUSED when WeChat refused the code (unknown, used or
// expired: the client asks the user to tap the button again);
// EEXCHANGEUNAVAILABLE when WeChat could not be reached in
// PlatformTimeout, was busy, or answered something that is not a phone
// number; ERATELIMITED past the user's PlatformLimiter budget or on
// WeChat's limits (with Error.RetryAfter); EUNAVAILABLE when a store is
// down. Nothing is stored unless it succeeds.
func (s *TokenService) SetPhoneNumber(ctx context.Context, sess *domain.TokenSession, code string) (domain.PhoneNumber, error) {
	if s.Phones == nil {
		return domain.PhoneNumber{}, domain.Errorf(domain.ENOTFOUND, "This server does not ask WeChat for phone numbers.")
	}
	if err := domain.ValidatePhoneCode(code); err != nil {
		return domain.PhoneNumber{}, err
	}
	if err := s.platformAllow(ctx, sess.OpenID()); err != nil {
		return domain.PhoneNumber{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, s.platformTimeout())
	n, err := s.Phones.PhoneNumber(wctx, code, sess.OpenID())
	if err == nil {
		err = wctx.Err() // an answer after the bound is not taken
	}
	cancel()
	if err != nil {
		if domain.ErrorCode(err) == domain.EEXCHANGEREFUSED {
			return domain.PhoneNumber{}, &domain.Error{Code: domain.EPHONECODEREFUSED,
				Message: "WeChat refused this phone number code (unknown, used or expired); ask for the number again.", Err: err}
		}
		return domain.PhoneNumber{}, s.platformError(ctx, "getuserphonenumber", err)
	}
	if err := domain.ValidatePhoneNumber(n); err != nil {
		s.logger().LogAttrs(ctx, slog.LevelWarn, "getuserphonenumber answered something that is not a phone number")
		return domain.PhoneNumber{}, domain.Wrap(domain.EEXCHANGEUNAVAILABLE, err, "WeChat's answer is not a phone number; try again later.")
	}
	if _, err := s.Profiles.UpdateProfile(ctx, sess.OpenID(), func(p domain.Profile) (domain.Profile, error) { return p.WithPhoneNumber(n) }); err != nil {
		return domain.PhoneNumber{}, err
	}
	return n, nil
}

// Decrypt opens encryptedData (from open-type buttons, wx.getShareInfo,
// wx.getWeRunData…) with the session_key of the caller's session and
// returns the object without its watermark. WeChat is not asked. Without
// an AppID the feature is off and the answer is ENOTFOUND.
// Errors: ESESSIONKEYSTALE for every failure to open it, the session's
// sealed session_key included (the client logs in again for a fresh
// session_key, then retries with fresh encryptedData).
func (s *TokenService) Decrypt(ctx context.Context, sess *domain.TokenSession, encryptedData, iv string) (json.RawMessage, error) {
	if s.AppID == "" || s.Sealer == nil {
		return nil, domain.Errorf(domain.ENOTFOUND, "This server does not decrypt WeChat's encryptedData.")
	}
	key, err := s.Sealer.Open(sess.SealedKey(), sess.ID())
	if err != nil {
		return nil, err
	}
	return domain.DecryptData(key, encryptedData, iv, s.AppID)
}

// UpdateProfile applies the update to the caller's profile and returns it.
// A new nickName, which other users may see, first passes WeChat's content
// check (msg_sec_check, scene profile, the caller's openId): risky is
// refused, review is stored flagged (domain.Profile.NickNameInReview),
// pass is stored and clears the flag. Without Content the nickName is
// stored unchecked and never flagged (development and tests; production
// wiring sets it). An update without a nickName asks WeChat nothing.
// Errors: EINVALID for a nickName or avatarUrl outside the rules (WeChat is
// not asked); ECONTENTRISKY when WeChat judged the nickName risky;
// EEXCHANGEUNAVAILABLE when the check could not be made (never a silent
// pass); ERATELIMITED past the user's PlatformLimiter budget; EUNAVAILABLE.
// On every error nothing is stored.
func (s *TokenService) UpdateProfile(ctx context.Context, sess *domain.TokenSession, u domain.ProfileUpdate) (domain.Profile, error) {
	u.NickNameVerdict = "" // WeChat's to give, below
	if _, err := (domain.Profile{}).Apply(u); err != nil {
		return domain.Profile{}, err // refused before WeChat or the store is asked
	}
	if u.NickName != nil {
		verdict, err := s.CheckContent(ctx, sess.OpenID(), domain.SceneProfile, *u.NickName)
		if err != nil {
			return domain.Profile{}, err
		}
		u.NickNameVerdict = verdict
	}
	return s.Profiles.UpdateProfile(ctx, sess.OpenID(), func(p domain.Profile) (domain.Profile, error) { return p.Apply(u) })
}

// CheckContent asks WeChat's content check (msg_sec_check, in scene) about
// text written by openID that other users may see (a nickName, a drawing's
// title), within the user's PlatformLimiter budget and PlatformTimeout, and
// returns its verdict; without Content, "" (the text is stored unchecked:
// development and tests). A verdict other than pass is logged, never the
// text.
// Errors: ERATELIMITED past the user's budget; EEXCHANGEUNAVAILABLE when
// the check could not be made (never a silent pass); EUNAVAILABLE.
func (s *TokenService) CheckContent(ctx context.Context, openID string, scene domain.ContentScene, text string) (domain.ContentSuggestion, error) {
	if s.Content == nil {
		return "", nil
	}
	if err := s.platformAllow(ctx, openID); err != nil {
		return "", err
	}
	wctx, cancel := context.WithTimeout(ctx, s.platformTimeout())
	verdict, err := s.Content.CheckText(wctx, openID, scene, text)
	if err == nil {
		err = wctx.Err()
	}
	cancel()
	if err != nil {
		return "", s.platformError(ctx, "msg_sec_check", err)
	}
	if verdict != domain.ContentPass {
		s.logger().LogAttrs(ctx, slog.LevelInfo, "msg_sec_check did not pass a text", slog.String("suggest", string(verdict)), slog.Int("scene", int(scene)))
	}
	return verdict, nil
}

// platformAllow takes one call from the user's PlatformLimiter budget.
// When the limiter cannot answer, the call goes ahead (logged at most every
// limiterWarnEvery), as logins do: failing closed would turn a Redis blink
// into an outage of the feature, and the per-user request slots of the
// HTTP adapter still bound each user's calls in flight.
func (s *TokenService) platformAllow(ctx context.Context, openID string) error {
	return s.platformLimits.allow(ctx, s.logger(), s.PlatformLimiter, openID,
		"Too many requests to WeChat for this user; try again later.",
		"platform rate limiter unavailable; letting WeChat calls through")
}

// platformError turns a failed platform call into the protocol's terms:
// WeChat's limits stay rate limits and a store that is down stays
// EUNAVAILABLE; everything else (unreachable, busy, a timeout, an answer
// the adapter could not use) is EEXCHANGEUNAVAILABLE, logged.
func (s *TokenService) platformError(ctx context.Context, api string, err error) error {
	code := domain.ErrorCode(err)
	s.logger().LogAttrs(ctx, slog.LevelWarn, "WeChat platform call failed",
		slog.String("api", api), slog.String("code", code), slog.String("error", domain.ErrorMessage(err)))
	switch code {
	case domain.ERATELIMITED, domain.EUNAVAILABLE, domain.EEXCHANGEUNAVAILABLE:
		return err
	}
	return domain.Wrap(domain.EEXCHANGEUNAVAILABLE, err, "WeChat could not be asked; try again later.")
}

func (s *TokenService) platformTimeout() time.Duration {
	if s.PlatformTimeout > 0 {
		return s.PlatformTimeout
	}
	return DefaultPlatformTimeout
}
