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
	// TokenShards is how many shards a token's digest falls into. All of
	// one user's tokens fall into the user's shard (UserShard), so that a
	// store can keep a user's tokens and sessions together (one Redis
	// Cluster slot) and change them atomically, while a token alone still
	// finds its shard. Minting draws fresh 32-byte tokens until one's
	// digest falls into the user's shard: about TokenShards draws, and
	// 256 − log2(TokenShards) = 250 bits of the token stay unknown to anyone
	// who knows the user.
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

// TokenDigest is the SHA-256 of a token's text: the only key a store may
// keep a token under. It cannot be turned back into the token.
type TokenDigest [sha256.Size]byte

// Digest returns t's digest.
func (t Token) Digest() TokenDigest { return sha256.Sum256([]byte(t)) }

// String returns the digest in lowercase hex (safe to store and log).
func (d TokenDigest) String() string { return hex.EncodeToString(d[:]) }

// Shard returns the shard the digest falls into, 0 to TokenShards-1.
func (d TokenDigest) Shard() int { return int(d[0]) % TokenShards }

// UserShard returns the shard of every token of the user openID.
func UserShard(openID string) int {
	sum := sha256.Sum256([]byte("onestroke/token-shard\x00" + openID))
	return int(sum[0]) % TokenShards
}

// maxMintDraws bounds minting: the chance that this many draws all miss a
// shard is (63/64)^4096, about 1e-28.
const maxMintDraws = 4096

// MintToken returns a new token of the user openID, in the user's shard.
func MintToken(openID string) (Token, TokenDigest, error) {
	shard := UserShard(openID)
	// Draws come 16 at a time from one read of the CSPRNG; each is 32
	// fresh bytes used once.
	var batch [16 * tokenBytes]byte
	buf := make([]byte, 0, TokenLength)
	for range maxMintDraws / 16 {
		if _, err := rand.Read(batch[:]); err != nil {
			return "", TokenDigest{}, Wrap(EINTERNAL, err, "No randomness for a token.")
		}
		for i := 0; i < len(batch); i += tokenBytes {
			buf = append(buf[:0], TokenPrefix...)
			buf = base64.RawURLEncoding.AppendEncode(buf, batch[i:i+tokenBytes])
			// The digest of the text in buf, as Token.Digest computes it,
			// without a string per draw.
			if d := TokenDigest(sha256.Sum256(buf)); d.Shard() == shard {
				return Token(buf), d, nil
			}
		}
	}
	return "", TokenDigest{}, Errorf(EINTERNAL, "No token fell into the user's shard.")
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
