package domain

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// SessionKeySealer keeps WeChat's session_key out of the stores in any form
// that gives it back: a session holds it sealed with AES-256-GCM under a key
// derived from a server secret (the app secret, which every instance has),
// bound to the session's id. A store's content alone cannot open it; a
// changed app secret makes old seals unreadable, which a client meets as a
// stale session_key (it logs in again).
type SessionKeySealer struct {
	aead cipher.AEAD
}

// NewSessionKeySealer derives the sealing key from secret.
func NewSessionKeySealer(secret string) (*SessionKeySealer, error) {
	aead, err := sealingAEAD(secret, "onestroke/session_key at rest/v1")
	if err != nil {
		return nil, err
	}
	return &SessionKeySealer{aead: aead}, nil
}

// sealingAEAD is AES-256-GCM under a key derived from secret for purpose.
func sealingAEAD(secret, purpose string) (cipher.AEAD, error) {
	if secret == "" {
		return nil, Errorf(EINVALID, "A sealer needs a secret.")
	}
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, purpose, 32)
	if err != nil {
		return nil, Wrap(EINTERNAL, err, "Deriving a sealing key failed.")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, Wrap(EINTERNAL, err, "A sealing key is unusable.")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, Wrap(EINTERNAL, err, "A sealing key is unusable.")
	}
	return aead, nil
}

func seal(aead cipher.AEAD, plain, bound string) (string, error) {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", Wrap(EINTERNAL, err, "No randomness to seal a secret.")
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(plain), []byte(bound))), nil
}

func open(aead cipher.AEAD, sealed, bound string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < aead.NonceSize()+aead.Overhead() {
		return "", false
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(bound))
	if err != nil {
		return "", false
	}
	return string(plain), true
}

// Seal returns key sealed for the session id, as text a store may keep.
func (s *SessionKeySealer) Seal(key SessionKey, sessionID string) (string, error) {
	return seal(s.aead, key.Reveal(), sessionID)
}

// Open returns the session_key sealed for the session id. Anything that
// does not open (another secret, another session, a changed byte) is
// ESESSIONKEYSTALE: the client logs in again for a fresh one.
func (s *SessionKeySealer) Open(sealed, sessionID string) (SessionKey, error) {
	plain, ok := open(s.aead, sealed, sessionID)
	if !ok {
		return "", Errorf(ESESSIONKEYSTALE, "The session_key of this session is no longer usable; log in again.")
	}
	return SessionKey(plain), nil
}

// AccessTokenSealer keeps the deployment's access_token out of the shared
// store in any form that gives it back, as SessionKeySealer does the
// session_key: sealed with AES-256-GCM under a key derived from the app
// secret (which every instance has), bound to the token's end.
type AccessTokenSealer struct {
	aead cipher.AEAD
}

// NewAccessTokenSealer derives the sealing key from secret.
func NewAccessTokenSealer(secret string) (*AccessTokenSealer, error) {
	aead, err := sealingAEAD(secret, "onestroke/access_token at rest/v1")
	if err != nil {
		return nil, err
	}
	return &AccessTokenSealer{aead: aead}, nil
}

// Seal returns t sealed for bound (the token's end, as the store keeps
// it), as an AccessToken a store may keep: it is not the token.
func (s *AccessTokenSealer) Seal(t AccessToken, bound string) (AccessToken, error) {
	sealed, err := seal(s.aead, t.Reveal(), bound)
	return AccessToken(sealed), err
}

// Open returns the token sealed for bound, and false for anything that
// does not open (another secret, another end, a changed byte).
func (s *AccessTokenSealer) Open(sealed AccessToken, bound string) (AccessToken, bool) {
	plain, ok := open(s.aead, sealed.Reveal(), bound)
	return AccessToken(plain), ok
}
