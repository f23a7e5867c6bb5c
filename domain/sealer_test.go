package domain_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/onestroke/onestroke/domain"
)

const sealedKey = domain.SessionKey("HyVFkGl5F5OQWJZZaNzBBg==")

func newSealer(t *testing.T, secret string) *domain.SessionKeySealer {
	t.Helper()
	s, err := domain.NewSessionKeySealer(secret)
	require.NoError(t, err)
	return s
}

func TestSessionKeySealer_RefusesAnEmptySecret(t *testing.T) {
	s, err := domain.NewSessionKeySealer("")
	assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	assert.Nil(t, s)
}

func TestSessionKeySealer_RoundTrip(t *testing.T) {
	s := newSealer(t, "app-secret")
	for _, key := range []domain.SessionKey{sealedKey, "", "k", domain.SessionKey(strings.Repeat("x", 1000))} {
		sealed, err := s.Seal(key, "session-1")
		require.NoError(t, err)
		got, err := s.Open(sealed, "session-1")
		require.NoError(t, err)
		assert.Equal(t, key.Reveal(), got.Reveal())
		// another sealer of the same secret (another instance) opens it too
		got, err = newSealer(t, "app-secret").Open(sealed, "session-1")
		require.NoError(t, err)
		assert.Equal(t, key.Reveal(), got.Reveal())
	}
}

func TestSessionKeySealer_SealsDifferEachTimeAndHideTheKey(t *testing.T) {
	s := newSealer(t, "app-secret")
	raw, err := base64.StdEncoding.DecodeString(sealedKey.Reveal())
	require.NoError(t, err)
	seen := map[string]bool{}
	for range 50 {
		sealed, err := s.Seal(sealedKey, "session-1")
		require.NoError(t, err)
		require.False(t, seen[sealed], "two seals of one key are equal: the nonce is not random")
		seen[sealed] = true
		assert.NotContains(t, sealed, sealedKey.Reveal())
		assert.NotContains(t, sealed, strings.TrimRight(sealedKey.Reveal(), "="))
		assert.NotContains(t, sealed, base64.RawURLEncoding.EncodeToString([]byte(sealedKey.Reveal())))
		b, err := base64.RawURLEncoding.DecodeString(sealed)
		require.NoError(t, err, "the sealed text is unpadded base64url")
		assert.NotContains(t, string(b), string(raw))
		assert.NotContains(t, string(b), sealedKey.Reveal())
	}
}

func TestSessionKeySealer_WhatDoesNotOpenIsStale(t *testing.T) {
	s := newSealer(t, "app-secret")
	sealed, err := s.Seal(sealedKey, "session-1")
	require.NoError(t, err)
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	require.NoError(t, err)
	flip := func(i int) string {
		c := append([]byte(nil), b...)
		c[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(c)
	}
	cases := []struct {
		name, sealed, session string
		sealer                *domain.SessionKeySealer
	}{
		{"another session id", sealed, "session-2", s},
		{"an empty session id", sealed, "", s},
		{"another secret", sealed, "session-1", newSealer(t, "new-app-secret")},
		{"a flipped byte in the nonce", flip(0), "session-1", s},
		{"a flipped byte in the ciphertext", flip(12), "session-1", s},
		{"a flipped byte in the tag", flip(len(b) - 1), "session-1", s},
		{"truncated by a byte", base64.RawURLEncoding.EncodeToString(b[:len(b)-1]), "session-1", s},
		{"truncated to the nonce", base64.RawURLEncoding.EncodeToString(b[:12]), "session-1", s},
		{"truncated text", sealed[:len(sealed)-3], "session-1", s},
		{"empty", "", "session-1", s},
		{"not base64", "!!not base64!!", "session-1", s},
		{"standard base64 with padding", base64.StdEncoding.EncodeToString(b), "session-1", s},
		{"the key itself", sealedKey.Reveal(), "session-1", s},
		{"a byte appended", base64.RawURLEncoding.EncodeToString(append(append([]byte(nil), b...), 0)), "session-1", s},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.sealer.Open(c.sealed, c.session)
			assert.Equal(t, domain.ESESSIONKEYSTALE, domain.ErrorCode(err))
			assert.Equal(t, domain.SessionKey(""), got)
		})
	}
}
