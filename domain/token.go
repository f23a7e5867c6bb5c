package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"strings"
)

// Server tokens of the modern protocol (PROTOCOL §6): "ost_" and 43
// characters of unpadded base64url, 32 bytes from a CSPRNG. The prefix lets
// secret scanners recognise a leaked token. The server keeps only the
// token's SHA-256 digest.
const (
	TokenPrefix = "ost_"
	tokenBytes  = 32
	// TokenLength is the length of every token in characters.
	TokenLength = len(TokenPrefix) + 43
	// TokenShards is how many shards a token falls into. All of one user's
	// tokens fall into the user's shard (UserShard), so that a store can
	// keep a user's tokens and sessions together (one Redis Cluster slot)
	// and change them atomically, while a token alone still finds its
	// shard. A token names its shard in its first character after the
	// prefix (the top six bits of its first byte), and its digest in its
	// first byte: 256 − log2(TokenShards) = 250 bits of the token stay
	// unknown to anyone who knows the user.
	TokenShards = 64
)

// Token is a bearer token. It is a secret: every way of printing it prints
// a placeholder; Reveal is the one deliberate way to read it (to hand it to
// its client once).
type Token string

func (Token) String() string               { return redacted }
func (Token) GoString() string             { return redacted }
func (Token) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Token) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (Token) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (t Token) Reveal() string             { return string(t) }

// TokenDigest is the SHA-256 of a token's text with its first byte
// replaced by the token's shard: the only key a store may keep a token
// under. It cannot be turned back into the token.
type TokenDigest [sha256.Size]byte

// Digest returns t's digest.
func (t Token) Digest() TokenDigest { return digestOf([]byte(t)) }

// digestOf is the digest of a token's text.
func digestOf(text []byte) TokenDigest {
	d := TokenDigest(sha256.Sum256(text))
	if len(text) > len(TokenPrefix) {
		if i := strings.IndexByte(base64URLAlphabet, text[len(TokenPrefix)]); i >= 0 {
			d[0] = byte(i) // the shard: TokenShards is the alphabet's size
		}
	}
	return d
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// String returns the digest in lowercase hex (safe to store and log).
func (d TokenDigest) String() string { return hex.EncodeToString(d[:]) }

// Shard returns the shard the digest falls into, 0 to TokenShards-1.
func (d TokenDigest) Shard() int { return int(d[0]) % TokenShards }

// UserShard returns the shard of every token of the user openID.
func UserShard(openID string) int {
	sum := sha256.Sum256([]byte("onestroke/token-shard\x00" + openID))
	return int(sum[0]) % TokenShards
}

// MintToken returns a new token of the user openID, in the user's shard:
// 32 bytes from the CSPRNG whose top six bits are then the shard.
func MintToken(openID string) (Token, TokenDigest, error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", TokenDigest{}, Wrap(EINTERNAL, err, "No randomness for a token.")
	}
	b[0] = byte(UserShard(openID))<<2 | b[0]&3
	buf := make([]byte, 0, TokenLength)
	buf = append(buf, TokenPrefix...)
	buf = base64.RawURLEncoding.AppendEncode(buf, b[:])
	return Token(buf), digestOf(buf), nil
}

// ParseBearer reads the token of an Authorization header value. Anything
// that is not "Bearer " and a token of this format is EUNAUTHORIZED
// (ERR_NO_SESSION: the client logs in), never looked up.
func ParseBearer(header string) (Token, error) {
	scheme, value, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", Errorf(EUNAUTHORIZED, "Send Authorization: Bearer <token> (log in with POST /v2/login).")
	}
	return ParseToken(strings.TrimLeft(value, " "))
}

// ParseToken checks that s has the token format: the prefix, then exactly
// 43 characters of unpadded base64url that decode to 32 bytes.
func ParseToken(s string) (Token, error) {
	if len(s) != TokenLength || !strings.HasPrefix(s, TokenPrefix) {
		return "", errNotAToken()
	}
	var b [tokenBytes]byte
	n, err := base64.RawURLEncoding.Strict().Decode(b[:], []byte(s[len(TokenPrefix):]))
	if err != nil || n != tokenBytes {
		return "", errNotAToken()
	}
	return Token(s), nil
}

// errNotAToken is made only on failure: ParseToken runs on every signed-in
// request.
func errNotAToken() error {
	return Errorf(EUNAUTHORIZED, "That is not a token of this service; log in with POST /v2/login.")
}
