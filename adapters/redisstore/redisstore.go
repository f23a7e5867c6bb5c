// Package redisstore is the production session store on Redis (go-redis v9):
// one node, Sentinel or Cluster. Keys and values are exactly those of the
// original weapp-session service, so a deployment switches over without
// logging anybody out:
//
//	weapp-session:<code>    → the user info JSON         (SET … EX ttl)
//	weapp-session:<openId>  → the code as a JSON string  (SET … EX ttl)
//
// plus one key of our own, which the original never reads:
//
//	{weapp-session:<code>}:proof → digest of the verified rawData + signature
//
// Its hash tag puts it in the code key's Cluster slot.
//
// The modern protocol's sessions and login codes (PROTOCOL §6; tokens.go:
// TokenSessions, LoginCodes) need Redis 7.0 or later (SET … NX GET,
// PEXPIRE … GT). Their keys, with the default prefix "ost"
// (TokenOptions.Prefix):
//
//	ost:{ost:NN}:t:<token digest hex>  → the session record (binary, tokenvalue.go) one per token
//	ost:{ost:NN}:s:<session id>        → the record and its token digests (JSON)  one per session
//	ost:{ost:NN}:u:<openId>            → the owner's session ids (JSON array)     one per user
//	ost:lc:<SHA-256 of the code, hex>  → "claim:<random>" while exchanged, then {"owner","sessionId"}
//
// NN is the owner's shard (domain.UserShard, 00 to 63), which is also the
// shard of every token digest of the owner (domain.TokenDigest.Shard): the
// hash tag puts all of one user's keys in one Cluster slot, so every change
// of a user's keys is one MULTI, and a token alone still finds its key. The
// 64 tags spread the users over the Cluster's masters.
//
// A session's record is copied under each of its tokens (more than one only
// after a login code's retry, at most domain.MaxTokensPerSession), so that
// authenticating a token is one GET. Every change of several keys is an
// optimistic transaction: WATCH the keys, read them, let the domain decide
// (domain.SessionsToEnd, TokenSession.Touch), write with MULTI/EXEC, and
// start again when a watched key changed meanwhile.
//
// Every key expires by itself when its session ends (the earlier of the
// idle and the absolute expiry, counted from the caller's now), and a touch
// extends it; the owner's index lives as long as its longest session. So
// Redis holds the live sessions and little more. Records hold a token's
// digest, never the token, and the session_key only sealed (the caller's
// domain.SessionKeySealer); a login code is kept by its digest only.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.SessionStore = (*Store)(nil)

// DefaultPrefix is the original service's key prefix.
const DefaultPrefix = "weapp-session:"

// DefaultOpTimeout bounds every store call: a paused or unreachable Redis
// answers a clean error in well under a second instead of hanging requests.
//
// The reads of every request (Get, User) are one command each and are
// bounded by the client's own deadlines, which ParseURL sets to the op
// timeout: the wait for a pooled connection (PoolTimeout) and the socket's
// read and write deadlines. They add no context timer of their own, which
// costs a timer per request on the hottest path. Login, a chain of commands
// on Cluster, and Ping also carry a context deadline of the op timeout.
const DefaultOpTimeout = 500 * time.Millisecond

// Mode is how the store talks to Redis.
type Mode string

const (
	ModeSingle   Mode = "single"
	ModeSentinel Mode = "sentinel"
	ModeCluster  Mode = "cluster"
)

// Store is a ports.SessionStore on Redis.
type Store struct {
	client    redis.UniversalClient
	batch     redis.Cmdable
	mode      Mode
	prefix    string
	opTimeout time.Duration
}

// Options tune a Store; zero values take the defaults.
type Options struct {
	Prefix    string        // default DefaultPrefix
	OpTimeout time.Duration // default DefaultOpTimeout
}

// ParseURL turns ONESTROKE_REDIS_URL into a client:
//
//	redis://[:password@]host:port[/db]                                    one node
//	rediss://…                                                            the same over TLS
//	redis+sentinel://[:password@]host:port?master_name=NAME[&addr=host:port…][/db]   Sentinel
//	redis+cluster://[:password@]host:port[?addr=host:port&addr=…]         Cluster
//
// go-redis's own query parameters (dial_timeout, pool_size, …) are accepted.
// Errors never quote the URL: it may hold a password.
func ParseURL(raw string, opTimeout time.Duration) (redis.UniversalClient, Mode, error) {
	if opTimeout <= 0 {
		opTimeout = DefaultOpTimeout
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", errors.New("ONESTROKE_REDIS_URL is not a URL")
	}
	scheme, kind, _ := strings.Cut(u.Scheme, "+")
	if scheme != "redis" && scheme != "rediss" {
		return nil, "", fmt.Errorf("ONESTROKE_REDIS_URL scheme %q: want redis, rediss, redis+sentinel or redis+cluster", u.Scheme)
	}
	u.Scheme = scheme
	plain := u.String()
	// Fail fast: a request waits at most opTimeout, and never retries into
	// a second timeout. Each socket read and write (and the wait for a
	// pooled connection) gets half of it: a command of the automatic
	// pipeline (see batched) that queued behind a stalled batch waits for
	// that batch's timeout and then its own.
	dial, rw := 2*time.Second, opTimeout/2
	switch kind {
	case "":
		o, err := redis.ParseURL(plain)
		if err != nil {
			return nil, "", sanitize(err)
		}
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries, o.ContextTimeoutEnabled = dial, rw, rw, rw, -1, true
		if o.Protocol == 0 {
			o.Protocol = resp2
		}
		return redis.NewClient(o), ModeSingle, nil
	case "sentinel":
		o, err := redis.ParseFailoverURL(plain)
		if err != nil {
			return nil, "", sanitize(err)
		}
		if o.MasterName == "" {
			return nil, "", errors.New("ONESTROKE_REDIS_URL: a redis+sentinel URL needs ?master_name=")
		}
		if o.Password == "" {
			o.Password = o.SentinelPassword
		}
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries, o.ContextTimeoutEnabled = dial, rw, rw, rw, -1, true
		if o.Protocol == 0 {
			o.Protocol = resp2
		}
		return redis.NewFailoverClient(o), ModeSentinel, nil
	case "cluster":
		o, err := redis.ParseClusterURL(plain)
		if err != nil {
			return nil, "", sanitize(err)
		}
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.ContextTimeoutEnabled = dial, rw, rw, rw, true
		if o.Protocol == 0 {
			o.Protocol = resp2
		}
		// One retry of a command whose connection broke (an old master
		// closing it as it steps down). A MOVED after a failover is not a
		// retry: go-redis follows it (MaxRedirects, default 3) and reloads
		// its slot map, which TestE2E_RedisClusterMasterFailedOverUnderLoad
		// shows is enough to recover within milliseconds.
		o.MaxRetries = 1
		return redis.NewClusterClient(o), ModeCluster, nil
	}
	return nil, "", fmt.Errorf("ONESTROKE_REDIS_URL scheme %q: want redis, rediss, redis+sentinel or redis+cluster", u.Scheme+"+"+kind)
}

// resp2 is the protocol the store speaks unless the URL says protocol=3:
// RESP3 makes go-redis look for server push notifications around every
// command (about 4% of the cached path's CPU in a profile), and the store
// uses none.
const resp2 = 2

func sanitize(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "://"); i >= 0 {
		msg = msg[:i] + "://…"
	}
	return errors.New("ONESTROKE_REDIS_URL: " + msg)
}

// New returns a store on client. mode decides how a re-login is made
// atomic (see Login).
func New(client redis.UniversalClient, mode Mode, opts Options) *Store {
	s := &Store{client: client, batch: batched(client), mode: mode, prefix: opts.Prefix, opTimeout: opts.OpTimeout}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.opTimeout <= 0 {
		s.opTimeout = DefaultOpTimeout
	}
	return s
}

// Batch returns what the store's single commands go through (the client's
// automatic pipeliner, see batched), for an adapter on the same client
// that sends single commands per request (the session cache's publish).
func (s *Store) Batch() redis.Cmdable { return s.batch }

// Client returns the store's go-redis client, for the rate limiter that
// shares it (one pool, one topology).
func (s *Store) Client() redis.UniversalClient { return s.client }

// Close closes the client's connections.
func (s *Store) Close() error { return s.client.Close() }

// Ping reports whether Redis answers; for readiness.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

func (s *Store) codeKey(code string) string  { return s.prefix + code }
func (s *Store) proofKey(code string) string { return "{" + s.prefix + code + "}:proof" }
func (s *Store) userKey(openID string) string {
	return s.prefix + openID
}

func unavailable(err error) error {
	return domain.Wrap(domain.EUNAVAILABLE, err, "The session store is unavailable.")
}

// Get implements ports.SessionStore with one round trip (both keys share a
// slot). A value under the code's key that is not a session (the openId →
// code entry, junk, a key of another type) answers ESESSIONEXPIRED, exactly
// as an unknown code: domain.UserInfoFromJSON decides.
func (s *Store) Get(ctx context.Context, code string) (domain.Session, error) {
	if strings.ContainsAny(code, "{}") { // Login refuses such codes: a hash tag would split the slot
		return domain.Session{}, domain.SessionExpired(nil)
	}
	vals, err := s.batch.MGet(ctx, s.codeKey(code), s.proofKey(code)).Result()
	if err != nil {
		return domain.Session{}, unavailable(err)
	}
	userJSON, ok := vals[0].(string) // MGET answers nil for a key of another type too
	if !ok {
		return domain.Session{}, domain.SessionExpired(nil)
	}
	user, err := domain.UserInfoFromJSON([]byte(userJSON))
	if err != nil {
		return domain.Session{}, err
	}
	proof, _ := vals[1].(string)
	return domain.Session{Code: code, User: user, Proof: proof}, nil
}

// User implements ports.SessionStore with a single GET.
func (s *Store) User(ctx context.Context, code string) (domain.UserInfo, error) {
	if strings.ContainsAny(code, "{}") {
		return domain.UserInfo{}, domain.SessionExpired(nil)
	}
	userJSON, err := s.batch.Get(ctx, s.codeKey(code)).Bytes()
	if errors.Is(err, redis.Nil) {
		return domain.UserInfo{}, domain.SessionExpired(nil)
	} else if redis.HasErrorPrefix(err, "WRONGTYPE") {
		// A key of another type (not ours) is not a session: it answers as
		// an unknown code, never as an outage an attacker could probe for.
		return domain.UserInfo{}, domain.SessionExpired(err)
	} else if err != nil {
		return domain.UserInfo{}, unavailable(err)
	}
	return domain.UserInfoFromJSON(userJSON)
}

// GetTTL is Get, and how long the code has left (its key's PTTL, read in
// the same pipeline): for a cache in front of the store
// (sessioncache.ExpiringSessionStore), on its misses only.
func (s *Store) GetTTL(ctx context.Context, code string) (domain.Session, time.Duration, error) {
	if strings.ContainsAny(code, "{}") {
		return domain.Session{}, 0, domain.SessionExpired(nil)
	}
	// Two commands of the automatic pipeline, the second only for a code
	// that is there: a first login asks for a code the store does not
	// know, and a miss is then one batched read, as Get's.
	vals, err := s.batch.MGet(ctx, s.codeKey(code), s.proofKey(code)).Result()
	if err != nil {
		return domain.Session{}, 0, unavailable(err)
	}
	userJSON, ok := vals[0].(string)
	if !ok {
		return domain.Session{}, 0, domain.SessionExpired(nil)
	}
	user, err := domain.UserInfoFromJSON([]byte(userJSON))
	if err != nil {
		return domain.Session{}, 0, err
	}
	pttl, err := s.batch.PTTL(ctx, s.codeKey(code)).Result()
	if err != nil {
		return domain.Session{}, 0, unavailable(err)
	}
	left, err := keyLeft(pttl)
	if err != nil {
		return domain.Session{}, 0, err
	}
	proof, _ := vals[1].(string)
	return domain.Session{Code: code, User: user, Proof: proof}, left, nil
}

// UserTTL is User, and how long the code has left.
func (s *Store) UserTTL(ctx context.Context, code string) (domain.UserInfo, time.Duration, error) {
	if strings.ContainsAny(code, "{}") {
		return domain.UserInfo{}, 0, domain.SessionExpired(nil)
	}
	// As GetTTL: the PTTL only for a code that is there.
	raw, err := s.batch.Get(ctx, s.codeKey(code)).Bytes()
	if errors.Is(err, redis.Nil) {
		return domain.UserInfo{}, 0, domain.SessionExpired(nil)
	} else if redis.HasErrorPrefix(err, "WRONGTYPE") {
		return domain.UserInfo{}, 0, domain.SessionExpired(err)
	} else if err != nil {
		return domain.UserInfo{}, 0, unavailable(err)
	}
	user, err := domain.UserInfoFromJSON(raw)
	if err != nil {
		return domain.UserInfo{}, 0, err
	}
	pttl, err := s.batch.PTTL(ctx, s.codeKey(code)).Result()
	if err != nil {
		return domain.UserInfo{}, 0, unavailable(err)
	}
	left, err := keyLeft(pttl)
	if err != nil {
		return domain.UserInfo{}, 0, err
	}
	return user, left, nil
}

// keyLeft reads a PTTL answer: go-redis gives -1 (no expiry: never written
// by Login, which always sets one, so it counts as an hour) and -2 (gone
// since the value was read) as such, not in milliseconds.
func keyLeft(d time.Duration) (time.Duration, error) {
	switch {
	case d == -1:
		return time.Hour, nil
	case d <= 0:
		return 0, domain.SessionExpired(nil)
	}
	return d, nil
}

// reloginScript records a login and revokes the user's previous code in one
// atomic step on one node (and a Sentinel master). It touches the previous
// code's keys, which it learns only inside the script, so it cannot run on
// Cluster.
var reloginScript = redis.NewScript(`
local prev = redis.call('GET', KEYS[3])
if prev then
  local ok, old = pcall(cjson.decode, prev)
  if ok and type(old) == 'string' and old ~= ARGV[6] then
    redis.call('DEL', ARGV[5] .. old, '{' .. ARGV[5] .. old .. '}:proof')
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4])
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
else
  redis.call('DEL', KEYS[2])
end
redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[4])
return 1
`)

// Login implements ports.SessionStore.
//
// On one node and on Sentinel it is one atomic Lua script. On Cluster the
// keys live in different slots, so it runs in three steps whose order gives
// this guarantee: the new code's keys are written first, then the openId
// key is swapped to the new code with SET … GET, then the code it displaced
// is deleted. Every code enters that chain of swaps once and is deleted by
// the login that displaced it, so when concurrent logins of one user have
// returned exactly one of their codes is live, and after Login returns the
// previous code is gone. While Login runs, the previous code may still
// answer for a few milliseconds.
func (s *Store) Login(ctx context.Context, sess domain.Session, ttl time.Duration) error {
	if sess.Code == "" || sess.User.OpenID() == "" {
		return domain.Errorf(domain.EINVALID, "A session needs a code and an openId.")
	}
	if strings.ContainsAny(sess.Code, "{}") {
		return domain.Errorf(domain.EINVALID, "A session code may not contain braces.")
	}
	if ttl < time.Second {
		return domain.Errorf(domain.EINVALID, "Session TTL must be at least one second.")
	}
	codeJSON, _ := json.Marshal(sess.Code)
	seconds := int64(ttl / time.Second)
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()

	if s.mode != ModeCluster {
		err := reloginScript.Run(ctx, s.batch,
			[]string{s.codeKey(sess.Code), s.proofKey(sess.Code), s.userKey(sess.User.OpenID())},
			string(sess.User.JSON()), string(codeJSON), sess.Proof, seconds, s.prefix, sess.Code).Err()
		if err != nil {
			return unavailable(err)
		}
		return nil
	}

	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error { // one slot: a MULTI
		p.Set(ctx, s.codeKey(sess.Code), sess.User.JSON(), ttl)
		if sess.Proof != "" {
			p.Set(ctx, s.proofKey(sess.Code), sess.Proof, ttl)
		} else {
			p.Del(ctx, s.proofKey(sess.Code))
		}
		return nil
	})
	if err != nil {
		return unavailable(err)
	}
	prev, err := s.batch.SetArgs(ctx, s.userKey(sess.User.OpenID()), codeJSON, redis.SetArgs{TTL: ttl, Get: true}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return unavailable(err)
	}
	var old string
	if prev != "" && json.Unmarshal([]byte(prev), &old) == nil && old != "" && old != sess.Code {
		if err := s.batch.Del(ctx, s.codeKey(old), s.proofKey(old)).Err(); err != nil {
			return unavailable(err)
		}
	}
	return nil
}
