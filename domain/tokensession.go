package domain

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Defaults of the modern sessions (PROTOCOL §6).
const (
	DefaultTokenIdle   = 7 * 24 * time.Hour
	DefaultTokenMaxAge = 30 * 24 * time.Hour
	DefaultMaxDevices  = 10
	// TouchEvery is how often a session's last use is written back at most:
	// the idle expiry slides by whole minutes, and a signed-in request
	// costs one store read, not a read and a write.
	TouchEvery = time.Minute
	// MaxDeviceLength bounds the client's name for its device.
	MaxDeviceLength = 64
	// MaxTokensPerSession bounds the tokens one session holds: the first,
	// and one for each retry of its login code (an answer lost on the way).
	MaxTokensPerSession = 8
)

// SessionPolicy is the lifetime rule of token sessions.
type SessionPolicy struct {
	Idle       time.Duration // slides on use
	MaxAge     time.Duration // never slides
	MaxDevices int           // sessions per user; a login past it ends the least recently used
}

// WithDefaults returns p with zero fields set to the defaults.
func (p SessionPolicy) WithDefaults() SessionPolicy {
	if p.Idle <= 0 {
		p.Idle = DefaultTokenIdle
	}
	if p.MaxAge <= 0 {
		p.MaxAge = DefaultTokenMaxAge
	}
	if p.MaxDevices <= 0 {
		p.MaxDevices = DefaultMaxDevices
	}
	return p
}

// TokenSession is one signed-in device of a user of the modern protocol:
// the aggregate behind a bearer token. Its owner, id, creation, device and
// absolute expiry never change; its last use slides the idle expiry. The
// session_key WeChat gave at login is kept sealed (SessionKeySealer): no
// store holds it in a form that gives it back.
type TokenSession struct {
	id         string
	openID     string
	unionID    string
	sealedKey  string
	device     string
	createdAt  time.Time
	lastSeenAt time.Time
	idleUntil  time.Time
	expiresAt  time.Time // absolute: createdAt + MaxAge
}

// NewSessionID returns a random session id (22 characters of base64url).
func NewSessionID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", Wrap(EINTERNAL, err, "No randomness for a session id.")
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// ValidateDevice checks the client's optional name of its device: at most
// MaxDeviceLength characters, no control characters.
func ValidateDevice(device string) error {
	if !utf8.ValidString(device) || utf8.RuneCountInString(device) > MaxDeviceLength {
		return Errorf(EINVALID, "device must be at most %d characters of UTF-8.", MaxDeviceLength)
	}
	if strings.IndexFunc(device, unicode.IsControl) >= 0 {
		return Errorf(EINVALID, "device may not contain control characters.")
	}
	return nil
}

// ValidateLoginCode checks a wx.login code before anything is spent on it:
// 1 to MaxCodeLength printable ASCII characters (WeChat's are 32).
func ValidateLoginCode(code string) error {
	if code == "" || len(code) > MaxCodeLength {
		return Errorf(EINVALID, "code must be the 1 to %d characters wx.login gave.", MaxCodeLength)
	}
	for i := 0; i < len(code); i++ {
		if b := code[i]; b <= ' ' || b >= 0x7f {
			return Errorf(EINVALID, "code contains a character outside printable ASCII.")
		}
	}
	return nil
}

// NewTokenSession starts a session of the user WeChat named, created now.
// sealedKey is the sealed session_key (SessionKeySealer.Seal).
func NewTokenSession(id string, wx WxSession, sealedKey, device string, now time.Time, p SessionPolicy) (*TokenSession, error) {
	p = p.WithDefaults()
	if id == "" || wx.OpenID == "" {
		return nil, Errorf(EINVALID, "A session needs an id and an openId.")
	}
	if err := ValidateDevice(device); err != nil {
		return nil, err
	}
	now = now.UTC()
	s := &TokenSession{id: id, openID: wx.OpenID, unionID: wx.UnionID, sealedKey: sealedKey, device: device,
		createdAt: now, lastSeenAt: now, expiresAt: now.Add(p.MaxAge)}
	s.idleUntil = s.capped(now.Add(p.Idle))
	return s, nil
}

// UnmarshalTokenSessionFromStorage rebuilds a session a store read. It
// checks only what identifies it; a store value that fails is not a session
// (ESESSIONEXPIRED, as an unknown token).
func UnmarshalTokenSessionFromStorage(id, openID, unionID, sealedKey, device string, createdAt, lastSeenAt, idleUntil, expiresAt time.Time) (*TokenSession, error) {
	if id == "" || openID == "" || createdAt.IsZero() || expiresAt.IsZero() || idleUntil.IsZero() {
		return nil, SessionExpired(nil)
	}
	return &TokenSession{id: id, openID: openID, unionID: unionID, sealedKey: sealedKey, device: device,
		createdAt: createdAt.UTC(), lastSeenAt: lastSeenAt.UTC(), idleUntil: idleUntil.UTC(), expiresAt: expiresAt.UTC()}, nil
}

func (s *TokenSession) ID() string            { return s.id }
func (s *TokenSession) OpenID() string        { return s.openID }
func (s *TokenSession) UnionID() string       { return s.unionID }
func (s *TokenSession) SealedKey() string     { return s.sealedKey }
func (s *TokenSession) Device() string        { return s.device }
func (s *TokenSession) CreatedAt() time.Time  { return s.createdAt }
func (s *TokenSession) LastSeenAt() time.Time { return s.lastSeenAt }

// IdleUntil is when the session ends unless it is used before.
func (s *TokenSession) IdleUntil() time.Time { return s.idleUntil }

// MaxExpiresAt is the absolute end of the session: it never moves.
func (s *TokenSession) MaxExpiresAt() time.Time { return s.expiresAt }

// ExpiresAt is when the session ends if it is not used again: the idle
// expiry, or the absolute one when that comes first.
func (s *TokenSession) ExpiresAt() time.Time {
	if s.idleUntil.Before(s.expiresAt) {
		return s.idleUntil
	}
	return s.expiresAt
}

// Live reports whether the session still works at now.
func (s *TokenSession) Live(now time.Time) bool { return now.Before(s.ExpiresAt()) }

// Touch records a use at now: the idle expiry slides to now + Idle (never
// past the absolute expiry). It reports whether the store must write the
// session back: only when the last recorded use is TouchEvery old or more.
func (s *TokenSession) Touch(now time.Time, p SessionPolicy) bool {
	p = p.WithDefaults()
	now = now.UTC()
	if now.Sub(s.lastSeenAt) < TouchEvery {
		return false
	}
	s.lastSeenAt = now
	s.idleUntil = s.capped(now.Add(p.Idle))
	return true
}

// capped returns t, or the absolute expiry when that comes first: a store
// that keeps a session until its idle expiry keeps it no longer than it lives.
func (s *TokenSession) capped(t time.Time) time.Time {
	if t.After(s.expiresAt) {
		return s.expiresAt
	}
	return t
}

// Authenticate checks the session a token named at now: ESESSIONEXPIRED
// when it is past its idle or absolute expiry.
func (s *TokenSession) Authenticate(now time.Time) error {
	if !s.Live(now) {
		return Errorf(ESESSIONEXPIRED, "The session has expired; log in again.")
	}
	return nil
}

// SessionsToEnd returns the ids of the sessions a login must end so that,
// with the new one, the user keeps at most p.MaxDevices: the least recently
// used first (ties: the oldest, then by id), and every session that is no
// longer live.
func SessionsToEnd(existing []*TokenSession, now time.Time, p SessionPolicy) []string {
	p = p.WithDefaults()
	var live []*TokenSession
	var end []string
	for _, s := range existing {
		if s.Live(now) {
			live = append(live, s)
		} else {
			end = append(end, s.id)
		}
	}
	if over := len(live) - (p.MaxDevices - 1); over > 0 {
		slices.SortFunc(live, func(a, b *TokenSession) int {
			if c := a.lastSeenAt.Compare(b.lastSeenAt); c != 0 {
				return c
			}
			if c := a.createdAt.Compare(b.createdAt); c != 0 {
				return c
			}
			return strings.Compare(a.id, b.id)
		})
		for _, s := range live[:over] {
			end = append(end, s.id)
		}
	}
	return end
}
