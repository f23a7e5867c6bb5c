package redisstore

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/onestroke/onestroke/domain"
)

// The value under a token's key is read by every signed-in request, so it
// is a compact binary record rather than JSON (decoding the JSON record was
// 9 % of the service's CPU on the bearer path):
//
//	version (1 byte, tokenValueV1)
//	createdAt, lastSeenAt, idleUntil, maxExpiresAt  (Unix nanoseconds, 8 bytes each, big-endian)
//	id, openId, unionId, sealedKey, device          (each a uvarint length, then the bytes)
//
// The session's own key keeps the JSON record (sessionRecord), which lists
// the session's tokens; only the hot path's value is binary. This file is
// the one writer and the one parser of the format.
const tokenValueV1 = 1

const tokenValueTimes = 4 * 8

// tokenValue encodes s for a token's key.
func tokenValue(s *domain.TokenSession) string {
	strs := [...]string{s.ID(), s.OpenID(), s.UnionID(), s.SealedKey(), s.Device()}
	n := 1 + tokenValueTimes
	for _, v := range strs {
		n += binary.MaxVarintLen64 + len(v)
	}
	b := make([]byte, 0, n)
	b = append(b, tokenValueV1)
	for _, t := range [...]time.Time{s.CreatedAt(), s.LastSeenAt(), s.IdleUntil(), s.MaxExpiresAt()} {
		b = binary.BigEndian.AppendUint64(b, uint64(t.UnixNano()))
	}
	for _, v := range strs {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return string(b)
}

var errNotATokenValue = errors.New("the stored value is not a token's session")

// parseTokenValue decodes a token's key's value. Anything that is not one
// (junk, JSON, a truncated or padded record, a session in another shard)
// is ESESSIONEXPIRED, as an unknown token.
func parseTokenValue(raw string, shard int) (*domain.TokenSession, error) {
	if len(raw) < 1+tokenValueTimes || raw[0] != tokenValueV1 {
		return nil, domain.SessionExpired(errNotATokenValue)
	}
	var times [4]time.Time
	for i := range times {
		times[i] = time.Unix(0, int64(binary.BigEndian.Uint64([]byte(raw[1+8*i:9+8*i]))))
	}
	rest := raw[1+tokenValueTimes:]
	var strs [5]string
	for i := range strs {
		n, k := binary.Uvarint([]byte(rest[:min(len(rest), binary.MaxVarintLen64)]))
		if k <= 0 || n > uint64(len(rest)-k) {
			return nil, domain.SessionExpired(errNotATokenValue)
		}
		strs[i], rest = rest[k:k+int(n)], rest[k+int(n):]
	}
	if rest != "" || domain.UserShard(strs[1]) != shard {
		return nil, domain.SessionExpired(errNotATokenValue)
	}
	return domain.UnmarshalTokenSessionFromStorage(strs[0], strs[1], strs[2], strs[3], strs[4], times[0], times[1], times[2], times[3])
}
