package domain_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/onestroke/onestroke/domain"
)

// knownToken is bytes 0 to 31 as a token; knownDigest is its digest,
// computed outside Go: printf "%s" "$knownToken" | sha256sum, its first
// byte then replaced by the shard.
const (
	knownToken = "ost_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	// python3: hashlib.sha256(knownToken.encode()).hexdigest(), its first
	// byte replaced by the token's shard (0: its first character is "A").
	knownDigest = "0028871882d0d5f06ae0de1333ea04c40c07448cdbe8ab90219ca742cf50decb"
	// knownToken with its bytes shifted so that it starts with "t" (45).
	knownToken45 = "ost_tAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
)

func mint(t *testing.T, openID string) (domain.Token, domain.TokenDigest) {
	t.Helper()
	tok, d, err := domain.MintToken(openID)
	require.NoError(t, err)
	return tok, d
}

func TestMintToken_HasThePrefixAnd43CharactersOfBase64URLFor32Bytes(t *testing.T) {
	for range 20 {
		tok, _ := mint(t, "oALICE")
		s := tok.Reveal()
		require.Equal(t, domain.TokenLength, len(s))
		require.Equal(t, 47, len(s))
		require.True(t, strings.HasPrefix(s, "ost_"), s)
		b, err := base64.RawURLEncoding.Strict().DecodeString(s[4:])
		require.NoError(t, err, s)
		assert.Equal(t, 32, len(b))
		assert.Equal(t, s[4:], base64.RawURLEncoding.EncodeToString(b), "canonical")
		parsed, err := domain.ParseToken(s)
		require.NoError(t, err, s)
		assert.Equal(t, tok, parsed)
	}
}

func TestMintToken_EveryDigestFallsIntoTheUsersShard(t *testing.T) {
	for _, openID := range []string{"oALICE", "oBOB", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "用户", ""} {
		shard := domain.UserShard(openID)
		require.True(t, shard >= 0 && shard < domain.TokenShards, "shard %d", shard)
		for range 25 {
			tok, d := mint(t, openID)
			assert.Equal(t, tok.Digest(), d, "the digest returned is the token's")
			assert.Equal(t, shard, d.Shard(), "openId %q", openID)
		}
	}
}

// The shard rule is shared by every store that keys by it (a Redis Cluster
// slot per shard): pinned, so that a change is deliberate.
func TestUserShard_KnownAnswers(t *testing.T) {
	// python3: hashlib.sha256(b'onestroke/token-shard\x00' + openId).digest()[0] % 64
	assert.Equal(t, 47, domain.UserShard("oALICE"))
	assert.Equal(t, 61, domain.UserShard("o6_bmjrPTlm6_2sgVt7hMZOPfL2M"))
	assert.Equal(t, 35, domain.UserShard(""))
	assert.Equal(t, 0, domain.Token(knownToken).Digest().Shard(), "the first character after the prefix, A")
	assert.Equal(t, 45, domain.Token(knownToken45).Digest().Shard(), "the first character after the prefix, t")
}

func TestMintToken_TokensDiffer(t *testing.T) {
	seen := map[domain.Token]bool{}
	for range 200 {
		tok, _ := mint(t, "oALICE")
		require.False(t, seen[tok], "a token was minted twice")
		seen[tok] = true
	}
}

func TestDigest_IsTheSHA256OfTheTextWithItsShardFirst(t *testing.T) {
	d := domain.Token(knownToken).Digest()
	assert.Equal(t, knownDigest, d.String())
	assert.Equal(t, knownDigest, fmt.Sprintf("%x", d[:]))
	assert.NotEqual(t, d, domain.Token(knownToken[:46]+"A").Digest())
	d45 := domain.Token(knownToken45).Digest()
	assert.Equal(t, byte(45), d45[0])
	assert.NotEqual(t, d[1:], d45[1:], "the rest is the hash of the whole text")
}

func TestMintToken_NamesTheShardInItsFirstCharacterAndDrawsTheRest(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	shard := domain.UserShard("oALICE")
	seen := map[byte]bool{}
	for range 400 {
		tok, _ := mint(t, "oALICE")
		assert.Equal(t, alphabet[shard], tok.Reveal()[4], "the first character is the shard")
		raw, err := base64.RawURLEncoding.DecodeString(tok.Reveal()[4:])
		require.NoError(t, err)
		seen[raw[0]&3] = true
	}
	assert.Len(t, seen, 4, "the first byte's two low bits stay random")
}

func TestParseToken_AcceptsAMintedAndAKnownToken(t *testing.T) {
	tok, _ := mint(t, "oBOB")
	for _, s := range []string{tok.Reveal(), knownToken} {
		got, err := domain.ParseToken(s)
		require.NoError(t, err, s)
		assert.Equal(t, s, got.Reveal())
	}
}

// notCanonical sets the two unused low bits of the last character: the
// same 32 bytes, in a form that a lax decoder would accept.
func notCanonical(t *testing.T, tok string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, tok[len(tok)-1])
	require.True(t, i >= 0 && i%4 == 0, "a canonical last character has its 2 low bits clear")
	s := tok[:len(tok)-1] + string(alphabet[i|1])
	lax, err := base64.RawURLEncoding.DecodeString(s[4:])
	require.NoError(t, err, "the lax decoder accepts it")
	strict, _ := base64.RawURLEncoding.DecodeString(tok[4:])
	require.Equal(t, strict, lax, "and reads the same bytes")
	return s
}

func TestParseToken_RefusesAnythingElse(t *testing.T) {
	minted, _ := mint(t, "oALICE")
	tok := minted.Reveal()
	cases := []struct{ name, s string }{
		{"empty", ""},
		{"the prefix alone", "ost_"},
		{"another prefix", "osk_" + tok[4:]},
		{"no prefix", tok[4:]},
		{"upper-case prefix", "OST_" + tok[4:]},
		{"truncated", tok[:len(tok)-1]},
		{"one character more", tok + "A"},
		{"a character changed to '+'", tok[:10] + "+" + tok[11:]},
		{"a character changed to '/'", tok[:10] + "/" + tok[11:]},
		{"a character changed to '.'", tok[:10] + "." + tok[11:]},
		{"a character changed to a space", tok[:10] + " " + tok[11:]},
		{"a character changed to NUL", tok[:10] + "\x00" + tok[11:]},
		{"a character changed to a non-ASCII one", tok[:10] + "é" + tok[12:]},
		{"padding", tok[:len(tok)-1] + "="},
		{"padding appended", tok + "="},
		{"10 kB", "ost_" + strings.Repeat("A", 10*1024)},
		{"trailing spaces", tok + "  "},
		{"a leading space", " " + tok},
		{"a trailing newline", tok + "\n"},
		{"non-canonical base64", notCanonical(t, tok)},
		{"non-canonical base64 of the known token", notCanonical(t, knownToken)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := domain.ParseToken(c.s)
			assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(err))
			assert.Equal(t, domain.Token(""), got)
			if c.s != "" && err != nil {
				assert.NotContains(t, err.Error(), c.s, "the error does not quote what was sent")
			}
		})
	}
}

func TestParseBearer(t *testing.T) {
	minted, _ := mint(t, "oALICE")
	tok := minted.Reveal()
	for _, h := range []string{"Bearer " + tok, "bearer " + tok, "BEARER " + tok, "Bearer   " + tok} {
		got, err := domain.ParseBearer(h)
		require.NoError(t, err, "%q", h)
		assert.Equal(t, minted, got)
	}
	refused := []struct{ name, h string }{
		{"empty", ""},
		{"the scheme alone", "Bearer"},
		{"the scheme and a space", "Bearer "},
		{"the token alone", tok},
		{"Basic", "Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+tok))},
		{"Basic with the token", "Basic " + tok},
		{"Token scheme", "Token " + tok},
		{"a tab after the scheme", "Bearer\t" + tok},
		{"trailing spaces", "Bearer " + tok + "  "},
		{"truncated", "Bearer " + tok[:len(tok)-1]},
		{"another prefix", "Bearer xyz_" + tok[4:]},
		{"padding", "Bearer " + tok[:len(tok)-1] + "="},
		{"two tokens", "Bearer " + tok + " " + tok},
		{"10 kB", "Bearer ost_" + strings.Repeat("A", 10*1024)},
		{"non-canonical base64", "Bearer " + notCanonical(t, tok)},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			got, err := domain.ParseBearer(c.h)
			assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(err))
			assert.Equal(t, domain.Token(""), got)
		})
	}
}

// secrets are the two secret types; every way of printing one prints
// "[REDACTED]".
func TestSecrets_AreRedactedEverywhere(t *testing.T) {
	minted, _ := mint(t, "oALICE")
	secrets := []struct {
		name   string
		value  any
		reveal string
	}{
		{"Token", minted, minted.Reveal()},
		{"SessionKey", domain.SessionKey("HyVFkGl5F5OQWJZZaNzBBg=="), "HyVFkGl5F5OQWJZZaNzBBg=="},
	}
	for _, s := range secrets {
		t.Run(s.name, func(t *testing.T) {
			wrapped := struct{ Secret any }{s.value}
			prints := map[string]string{
				"%v":            fmt.Sprintf("%v", s.value),
				"%s":            fmt.Sprintf("%s", s.value),
				"%#v":           fmt.Sprintf("%#v", s.value),
				"%+v":           fmt.Sprintf("%+v", s.value),
				"%q":            fmt.Sprintf("%q", s.value),
				"%x":            fmt.Sprintf("%x", s.value),
				"Sprint":        fmt.Sprint(s.value),
				"Sprintln":      fmt.Sprintln(s.value),
				"in a struct":   fmt.Sprintf("%+v %#v", wrapped, wrapped),
				"in a slice":    fmt.Sprintf("%v", []any{s.value}),
				"behind a %v *": fmt.Sprintf("%v", &wrapped),
			}
			for how, out := range prints {
				assert.NotContains(t, out, s.reveal, how)
				if how != "%x" {
					assert.Contains(t, out, "[REDACTED]", how)
				}
			}

			var text, js bytes.Buffer
			slog.New(slog.NewTextHandler(&text, nil)).Info("login", "secret", s.value, "group", slog.GroupValue(slog.Any("inner", s.value)), "struct", wrapped)
			slog.New(slog.NewJSONHandler(&js, nil)).Info("login", "secret", s.value, "group", slog.GroupValue(slog.Any("inner", s.value)), "struct", wrapped)
			for how, out := range map[string]string{"slog text": text.String(), "slog JSON": js.String()} {
				assert.NotContains(t, out, s.reveal, how)
				assert.Contains(t, out, "[REDACTED]", how)
			}

			b, err := json.Marshal(map[string]any{"secret": s.value, "struct": wrapped})
			require.NoError(t, err)
			assert.Equal(t, `{"secret":"[REDACTED]","struct":{"Secret":"[REDACTED]"}}`, string(b))
		})
	}
	assert.Equal(t, "HyVFkGl5F5OQWJZZaNzBBg==", domain.SessionKey("HyVFkGl5F5OQWJZZaNzBBg==").Reveal(), "Reveal is the one way in")
}
