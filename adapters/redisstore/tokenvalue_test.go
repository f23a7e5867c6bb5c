package redisstore

import (
	"testing"
	"time"

	"github.com/onestroke/onestroke/domain"
)

func sessionFor(t testing.TB, id, openID, unionID, sealed, device string, at time.Time) *domain.TokenSession {
	t.Helper()
	s, err := domain.NewTokenSession(id, domain.WxSession{OpenID: openID, UnionID: unionID}, sealed, device, at, domain.SessionPolicy{})
	if err != nil {
		t.Skip() // not a session the domain makes
	}
	return s
}

func sameSession(a, b *domain.TokenSession) bool {
	return a.ID() == b.ID() && a.OpenID() == b.OpenID() && a.UnionID() == b.UnionID() && a.SealedKey() == b.SealedKey() &&
		a.Device() == b.Device() && a.CreatedAt().Equal(b.CreatedAt()) && a.LastSeenAt().Equal(b.LastSeenAt()) &&
		a.IdleUntil().Equal(b.IdleUntil()) && a.MaxExpiresAt().Equal(b.MaxExpiresAt())
}

// FuzzTokenValue holds the token value's one parser to its one writer:
// every session the domain makes comes back as it was written, and no
// input makes the parser panic or accept a session outside the shard.
func FuzzTokenValue(f *testing.F) {
	f.Add("AAAAAAAAAAAAAAAAAAAAAA", "oGZUI0egBJY1zhBYw2KhdUfwVJJE", "uX", "sealed", "iPhone · 一笔", int64(1764579600000000000), []byte{1, 2, 3})
	f.Add("s", "o", "", "", "", int64(1), []byte("{\"id\":\"x\"}"))
	f.Fuzz(func(t *testing.T, id, openID, unionID, sealed, device string, at int64, junk []byte) {
		// Junk never panics, and is a session only if it is one of its shard.
		for shard := range 2 {
			if s, err := parseTokenValue(string(junk), shard); err == nil && domain.UserShard(s.OpenID()) != shard {
				t.Fatalf("accepted a session of shard %d as shard %d", domain.UserShard(s.OpenID()), shard)
			} else if err != nil && domain.ErrorCode(err) != domain.ESESSIONEXPIRED {
				t.Fatalf("junk answered %s, not as an unknown token", domain.ErrorCode(err))
			}
		}
		s := sessionFor(t, id, openID, unionID, sealed, device, time.Unix(0, at))
		got, err := parseTokenValue(tokenValue(s), domain.UserShard(openID))
		if err != nil {
			t.Fatalf("a written value does not parse: %v", err)
		}
		if !sameSession(s, got) {
			t.Fatalf("round trip changed the session")
		}
		if _, err := parseTokenValue(tokenValue(s)+"x", domain.UserShard(openID)); err == nil {
			t.Fatalf("trailing bytes accepted")
		}
	})
}

func TestTokenValue_JunkAndTheLegacyJSONAreNotSessions(t *testing.T) {
	s := sessionFor(t, "id1", "oALICE", "", "sealed", "", time.Now())
	for name, raw := range map[string]string{
		"empty":             "",
		"JSON":              recordOf(s, nil).json(),
		"truncated":         tokenValue(s)[:40],
		"another version":   "\x02" + tokenValue(s)[1:],
		"another shard":     tokenValue(sessionFor(t, "id2", "oBOB-in-another-shard-maybe", "", "", "", time.Now())),
		"a length too long": tokenValue(s)[:33] + "\xff\x01",
	} {
		_, err := parseTokenValue(raw, domain.UserShard("oALICE"))
		if name == "another shard" && domain.UserShard("oBOB-in-another-shard-maybe") == domain.UserShard("oALICE") {
			continue
		}
		if domain.ErrorCode(err) != domain.ESESSIONEXPIRED {
			t.Errorf("%s: %v, want ESESSIONEXPIRED", name, err)
		}
	}
}

func BenchmarkParseTokenValue(b *testing.B) {
	s := sessionFor(b, "AAAAAAAAAAAAAAAAAAAAAA", "oGZUI0egBJY1zhBYw2KhdUfwVJJE", "uXXXXXXXXXXXXXXXXXXXXXXXXXX", "sealedsealedsealedsealedsealedsealedsealedsealedsealedsealedsealedse", "iPhone", time.Now())
	raw, shard := tokenValue(s), domain.UserShard(s.OpenID())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseTokenValue(raw, shard); err != nil {
			b.Fatal(err)
		}
	}
}
