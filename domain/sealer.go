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
	if secret == "" {
		return nil, Errorf(EINVALID, "The session_key sealer needs a secret.")
	}
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, "onestroke/session_key at rest/v1", 32)
	if err != nil {
		return nil, Wrap(EINTERNAL, err, "Deriving the session_key sealing key failed.")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, Wrap(EINTERNAL, err, "The session_key sealing key is unusable.")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, Wrap(EINTERNAL, err, "The session_key sealing key is unusable.")
	}
	return &SessionKeySealer{aead: aead}, nil
}

// Seal returns key sealed for the session id, as text a store may keep.
func (s *SessionKeySealer) Seal(key SessionKey, sessionID string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(key.Reveal())+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", Wrap(EINTERNAL, err, "No randomness to seal a session_key.")
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(key.Reveal()), []byte(sessionID))), nil
}

// Open returns the session_key sealed for the session id. Anything that
// does not open (another secret, another session, a changed byte) is
// ESESSIONKEYSTALE: the client logs in again for a fresh one.
func (s *SessionKeySealer) Open(sealed, sessionID string) (SessionKey, error) {
	stale := Errorf(ESESSIONKEYSTALE, "The session_key of this session is no longer usable; log in again.")
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize()+s.aead.Overhead() {
		return "", stale
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], []byte(sessionID))
	if err != nil {
		return "", stale
	}
	return SessionKey(plain), nil
}
