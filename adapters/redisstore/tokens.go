package redisstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var (
	_ ports.TokenSessionStore = (*TokenSessions)(nil)
	_ ports.LoginCodes        = (*LoginCodes)(nil)
)

// DefaultTokenPrefix namespaces the modern sessions' and login codes' keys.
const DefaultTokenPrefix = "ost"

// maxTxAttempts bounds the optimistic retries of one change; the op
// timeout bounds their time. Sixteen concurrent logins of one user need at
// most sixteen rounds.
const maxTxAttempts = 64

// TokenOptions tune TokenSessions and LoginCodes; zero values take the
// defaults.
type TokenOptions struct {
	Prefix    string        // default DefaultTokenPrefix; braces are replaced (they would move the hash tag)
	OpTimeout time.Duration // default DefaultOpTimeout
}

func (o TokenOptions) withDefaults() TokenOptions {
	o.Prefix = strings.NewReplacer("{", "_", "}", "_").Replace(o.Prefix)
	if o.Prefix == "" {
		o.Prefix = DefaultTokenPrefix
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = DefaultOpTimeout
	}
	return o
}

// TokenSessions is a ports.TokenSessionStore on Redis: one node, Sentinel
// or Cluster (the client ParseURL returns).
//
// Authenticate's read is one GET bounded by the client's own deadlines, as
// the legacy store's reads are; every other call carries a context deadline
// of the op timeout.
type TokenSessions struct {
	client redis.UniversalClient
	batch  redis.Cmdable
	opts   TokenOptions
	tags   []string // the key prefix of each shard
}

// NewTokenSessions returns a store on client, typically the legacy store's
// own client (one pool, one topology).
func NewTokenSessions(client redis.UniversalClient, opts TokenOptions) *TokenSessions {
	opts = opts.withDefaults()
	return &TokenSessions{client: client, batch: batched(client), opts: opts, tags: makeTags(opts.Prefix)}
}

// sessionRecord is a session as stored. Under a token's key Tokens is
// empty; under the session's key it lists the token digests, oldest first.
type sessionRecord struct {
	ID         string    `json:"id"`
	OpenID     string    `json:"openId"`
	UnionID    string    `json:"unionId,omitempty"`
	SealedKey  string    `json:"sealedKey,omitempty"`
	Device     string    `json:"device,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	IdleUntil  time.Time `json:"idleUntil"`
	MaxExpires time.Time `json:"maxExpiresAt"`
	Tokens     []string  `json:"tokens,omitempty"`
}

func recordOf(s *domain.TokenSession, tokens []string) sessionRecord {
	return sessionRecord{ID: s.ID(), OpenID: s.OpenID(), UnionID: s.UnionID(), SealedKey: s.SealedKey(), Device: s.Device(),
		CreatedAt: s.CreatedAt(), LastSeenAt: s.LastSeenAt(), IdleUntil: s.IdleUntil(), MaxExpires: s.MaxExpiresAt(), Tokens: tokens}
}

func (r sessionRecord) json() string {
	b, _ := json.Marshal(r) // strings and times only: cannot fail
	return string(b)
}

// parseRecord reads a stored record; anything that is not one (junk, a
// record of a session in another shard) is ESESSIONEXPIRED.
func parseRecord(raw string, shard int) (sessionRecord, *domain.TokenSession, error) {
	var r sessionRecord
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return r, nil, domain.SessionExpired(fmt.Errorf("the stored value is not a session: %w", err))
	}
	if domain.UserShard(r.OpenID) != shard {
		return r, nil, domain.SessionExpired(nil)
	}
	s, err := domain.UnmarshalTokenSessionFromStorage(r.ID, r.OpenID, r.UnionID, r.SealedKey, r.Device, r.CreatedAt, r.LastSeenAt, r.IdleUntil, r.MaxExpires)
	return r, s, err
}

// tag returns the key prefix of shard, made once per store: every signed-in
// request builds a key with it.
func (t *TokenSessions) tag(shard int) string { return t.tags[shard] }

func makeTags(prefix string) []string {
	tags := make([]string, domain.TokenShards)
	for i := range tags {
		tags[i] = fmt.Sprintf("%s:{%s:%02d}:", prefix, prefix, i)
	}
	return tags
}
func (t *TokenSessions) tokenKey(d domain.TokenDigest) string {
	return t.tag(d.Shard()) + "t:" + d.String()
}
func (t *TokenSessions) tokenKeyHex(shard int, digestHex string) string {
	return t.tag(shard) + "t:" + digestHex
}
func (t *TokenSessions) sessionKey(shard int, id string) string { return t.tag(shard) + "s:" + id }
func (t *TokenSessions) ownerKey(owner string) string {
	return t.tag(domain.UserShard(owner)) + "u:" + owner
}

// ttlAt is how long a key of a session that ends at end must live, seen
// from the caller's now: at least a second, so a key is never written
// without an expiry.
func ttlAt(end, now time.Time) time.Duration { return max(end.Sub(now), time.Second) }

func inOwnersShard(d domain.TokenDigest, owner string) error {
	if d.Shard() != domain.UserShard(owner) {
		return domain.Errorf(domain.EINVALID, "The token does not fall into its owner's shard.")
	}
	return nil
}

// optimistic runs one WATCH transaction on keys until no watched key
// changed under it; fn's own errors end it.
func (t *TokenSessions) optimistic(ctx context.Context, fn func(*redis.Tx) error, keys ...string) error {
	for range maxTxAttempts {
		err := t.client.Watch(ctx, fn, keys...)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return domain.Errorf(domain.EUNAVAILABLE, "The session store is too busy with this user's sessions; try again.")
}

// storeErr passes domain errors through and makes any other one
// EUNAVAILABLE.
func storeErr(err error) error {
	var de *domain.Error
	if err == nil || errors.As(err, &de) {
		return err
	}
	return unavailable(err)
}

// readIndex reads an owner's session ids; junk reads as none.
func readIndex(ctx context.Context, r redis.StringCmdable, key string) ([]string, error) {
	raw, err := r.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) || redis.HasErrorPrefix(err, "WRONGTYPE") {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var ids []string
	if json.Unmarshal([]byte(raw), &ids) != nil {
		return nil, nil
	}
	return ids, nil
}

type storedSession struct {
	rec  sessionRecord
	sess *domain.TokenSession
}

// readSessions reads the owner's sessions of ids, and watches them first when
// r is a transaction; ids whose record is gone (expired) or not the
// owner's are left out.
func (t *TokenSessions) readSessions(ctx context.Context, r redis.StringCmdable, owner string, ids []string) ([]storedSession, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	shard := domain.UserShard(owner)
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = t.sessionKey(shard, id)
	}
	if tx, ok := r.(*redis.Tx); ok {
		if err := tx.Watch(ctx, keys...).Err(); err != nil {
			return nil, err
		}
	}
	vals, err := r.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	var out []storedSession
	for i, v := range vals {
		raw, ok := v.(string) // nil for a missing key or one of another type
		if !ok {
			continue
		}
		rec, s, err := parseRecord(raw, shard)
		if err != nil || s.OpenID() != owner || s.ID() != ids[i] {
			continue
		}
		out = append(out, storedSession{rec, s})
	}
	return out, nil
}

// createScript is the common login in one round trip: when the owner has
// fewer than MaxDevices sessions, no session ends (domain.SessionsToEnd
// names none), and the script writes the new session, its token and the
// index at once. A session's keys expire with it, so one whose key exists
// is live; the index is pruned of the others. With a full house it writes
// nothing and answers 0: which sessions end is the domain's choice (the
// least recently used), made in Create's transaction. Every key it touches
// carries the owner's hash tag (KEYS[1]'s), so it runs on Cluster too.
//
//	KEYS: the owner's index, the new session's key, its token's key
//	ARGV: max devices, session record, token record, TTL in ms, session id,
//	      the prefix of the owner's session keys
var createScript = redis.NewScript(`
local live = {}
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, ids = pcall(cjson.decode, raw)
  if ok and type(ids) == 'table' then
    for _, id in ipairs(ids) do
      if type(id) == 'string' and id ~= ARGV[5] and redis.call('EXISTS', ARGV[6] .. id) == 1 then
        live[#live + 1] = id
      end
    end
  end
end
if #live >= tonumber(ARGV[1]) then
  return 0
end
local ttl = tonumber(ARGV[4])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ttl)
redis.call('SET', KEYS[3], ARGV[3], 'PX', ttl)
live[#live + 1] = ARGV[5]
local left = redis.call('PTTL', KEYS[1])
if left > ttl then
  ttl = left
end
redis.call('SET', KEYS[1], cjson.encode(live), 'PX', ttl)
return 1
`)

// Create implements ports.TokenSessionStore: createScript's one round trip
// while the owner is under the device cap, else one transaction on the
// owner's index and sessions.
func (t *TokenSessions) Create(ctx context.Context, digest domain.TokenDigest, sess *domain.TokenSession, now time.Time, policy domain.SessionPolicy) ([]string, error) {
	owner := sess.OpenID()
	if err := inOwnersShard(digest, owner); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, t.opts.OpTimeout)
	defer cancel()
	shard, uKey := digest.Shard(), t.ownerKey(owner)
	policy = policy.WithDefaults()
	ttl := ttlAt(sess.ExpiresAt(), now)
	created, err := createScript.Run(ctx, t.batch, []string{uKey, t.sessionKey(shard, sess.ID()), t.tokenKey(digest)},
		policy.MaxDevices, recordOf(sess, []string{digest.String()}).json(), tokenValue(sess),
		ttl.Milliseconds(), sess.ID(), t.sessionKey(shard, "")).Int()
	if err != nil {
		return nil, unavailable(err)
	}
	if created == 1 {
		return nil, nil
	}
	var ended []string
	err = t.optimistic(ctx, func(tx *redis.Tx) error {
		ids, err := readIndex(ctx, tx, uKey)
		if err != nil {
			return err
		}
		stored, err := t.readSessions(ctx, tx, owner, ids)
		if err != nil {
			return err
		}
		existing := make([]*domain.TokenSession, len(stored))
		for i, s := range stored {
			existing[i] = s.sess
		}
		ended = domain.SessionsToEnd(existing, now, policy)
		keep := []string{}
		indexTTL := ttlAt(sess.ExpiresAt(), now)
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, s := range stored {
				if slices.Contains(ended, s.sess.ID()) {
					t.deleteSession(ctx, p, shard, s.rec)
					continue
				}
				if s.sess.ID() != sess.ID() {
					keep = append(keep, s.sess.ID())
					indexTTL = max(indexTTL, ttlAt(s.sess.ExpiresAt(), now))
				}
			}
			keep = append(keep, sess.ID())
			p.Set(ctx, t.sessionKey(shard, sess.ID()), recordOf(sess, []string{digest.String()}).json(), ttl)
			p.Set(ctx, t.tokenKey(digest), tokenValue(sess), ttl)
			idx, _ := json.Marshal(keep)
			p.Set(ctx, uKey, idx, indexTTL)
			return nil
		})
		return err
	}, uKey)
	if err != nil {
		return nil, storeErr(err)
	}
	return ended, nil
}

func (t *TokenSessions) deleteSession(ctx context.Context, p redis.Pipeliner, shard int, rec sessionRecord) {
	keys := []string{t.sessionKey(shard, rec.ID)}
	for _, d := range rec.Tokens {
		keys = append(keys, t.tokenKeyHex(shard, d))
	}
	p.Del(ctx, keys...)
}

// AddToken implements ports.TokenSessionStore: one transaction on the
// session's key.
func (t *TokenSessions) AddToken(ctx context.Context, owner, sessionID string, digest domain.TokenDigest, now time.Time) error {
	if err := inOwnersShard(digest, owner); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, t.opts.OpTimeout)
	defer cancel()
	shard := digest.Shard()
	sKey := t.sessionKey(shard, sessionID)
	err := t.optimistic(ctx, func(tx *redis.Tx) error {
		rec, s, err := t.readSession(ctx, tx, sKey, shard)
		if err != nil {
			return err
		}
		if s == nil || s.OpenID() != owner || s.ID() != sessionID || !s.Live(now) {
			return domain.SessionExpired(nil)
		}
		d := digest.String()
		if slices.Contains(rec.Tokens, d) {
			return nil
		}
		rec.Tokens = append(rec.Tokens, d)
		var dropped []string
		if over := len(rec.Tokens) - domain.MaxTokensPerSession; over > 0 {
			dropped = slices.Clone(rec.Tokens[:over])
			rec.Tokens = slices.Delete(rec.Tokens, 0, over)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, old := range dropped {
				p.Del(ctx, t.tokenKeyHex(shard, old))
			}
			p.SetArgs(ctx, sKey, rec.json(), redis.SetArgs{KeepTTL: true})
			p.Set(ctx, t.tokenKey(digest), tokenValue(s), ttlAt(s.ExpiresAt(), now))
			return nil
		})
		return err
	}, sKey)
	return storeErr(err)
}

// readSession reads a session's key; a missing or foreign value is
// (zero, nil, nil).
func (t *TokenSessions) readSession(ctx context.Context, tx *redis.Tx, key string, shard int) (sessionRecord, *domain.TokenSession, error) {
	raw, err := tx.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) || redis.HasErrorPrefix(err, "WRONGTYPE") {
		return sessionRecord{}, nil, nil
	} else if err != nil {
		return sessionRecord{}, nil, err
	}
	rec, s, err := parseRecord(raw, shard)
	if err != nil {
		return sessionRecord{}, nil, nil
	}
	return rec, s, nil
}

// Authenticate implements ports.TokenSessionStore: one GET of the token's
// key; when the domain says the use is due to be written back (once a
// minute), one transaction rewrites the record under the session's key and
// every token of it, and extends their expiry.
func (t *TokenSessions) Authenticate(ctx context.Context, digest domain.TokenDigest, now time.Time, policy domain.SessionPolicy) (*domain.TokenSession, error) {
	raw, err := t.batch.Get(ctx, t.tokenKey(digest)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, domain.SessionExpired(nil)
	} else if redis.HasErrorPrefix(err, "WRONGTYPE") {
		return nil, domain.SessionExpired(err) // not ours: as an unknown token, never as an outage
	} else if err != nil {
		return nil, unavailable(err)
	}
	s, err := parseTokenValue(raw, digest.Shard())
	if err != nil {
		return nil, err
	}
	if err := s.Authenticate(now); err != nil {
		return nil, err
	}
	if !s.Touch(now, policy) {
		return s, nil
	}
	return t.touch(ctx, digest, s.ID(), now, policy)
}

// touch writes a use back, deciding again on the session's own record:
// another instance may have written it meanwhile, or revoked it.
func (t *TokenSessions) touch(ctx context.Context, digest domain.TokenDigest, id string, now time.Time, policy domain.SessionPolicy) (*domain.TokenSession, error) {
	ctx, cancel := context.WithTimeout(ctx, t.opts.OpTimeout)
	defer cancel()
	shard := digest.Shard()
	sKey := t.sessionKey(shard, id)
	var out *domain.TokenSession
	err := t.optimistic(ctx, func(tx *redis.Tx) error {
		rec, s, err := t.readSession(ctx, tx, sKey, shard)
		if err != nil {
			return err
		}
		if s == nil || !slices.Contains(rec.Tokens, digest.String()) {
			return domain.SessionExpired(nil) // revoked since the token's key was read
		}
		if err := s.Authenticate(now); err != nil {
			return err
		}
		out = s
		if !s.Touch(now, policy) {
			return nil // written by another request meanwhile
		}
		ttl := ttlAt(s.ExpiresAt(), now)
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, sKey, recordOf(s, rec.Tokens).json(), ttl)
			value := tokenValue(s)
			for _, d := range rec.Tokens {
				p.Set(ctx, t.tokenKeyHex(shard, d), value, ttl)
			}
			p.Do(ctx, "PEXPIRE", t.ownerKey(s.OpenID()), ttl.Milliseconds(), "GT")
			return nil
		})
		return err
	}, sKey)
	if err != nil {
		return nil, storeErr(err)
	}
	return out, nil
}

// Sessions implements ports.TokenSessionStore with two reads: the owner's
// index, then its sessions.
func (t *TokenSessions) Sessions(ctx context.Context, owner string, now time.Time) ([]*domain.TokenSession, error) {
	ctx, cancel := context.WithTimeout(ctx, t.opts.OpTimeout)
	defer cancel()
	out := []*domain.TokenSession{}
	uKey := t.ownerKey(owner)
	ids, err := readIndex(ctx, t.client, uKey)
	if err != nil {
		return nil, unavailable(err)
	}
	stored, err := t.readSessions(ctx, t.client, owner, ids)
	if err != nil {
		return nil, unavailable(err)
	}
	for _, s := range stored {
		if s.sess.Live(now) {
			out = append(out, s.sess)
		}
	}
	slices.SortFunc(out, func(a, b *domain.TokenSession) int {
		if c := b.CreatedAt().Compare(a.CreatedAt()); c != 0 {
			return c
		}
		return strings.Compare(a.ID(), b.ID())
	})
	return out, nil
}

// Revoke implements ports.TokenSessionStore: one transaction on the
// owner's index and the session.
func (t *TokenSessions) Revoke(ctx context.Context, owner, sessionID string, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, t.opts.OpTimeout)
	defer cancel()
	shard := domain.UserShard(owner)
	uKey, sKey := t.ownerKey(owner), t.sessionKey(shard, sessionID)
	err := t.optimistic(ctx, func(tx *redis.Tx) error {
		rec, s, err := t.readSession(ctx, tx, sKey, shard)
		if err != nil {
			return err
		}
		if s == nil || s.OpenID() != owner || s.ID() != sessionID || !s.Live(now) {
			return domain.Errorf(domain.ENOTFOUND, "You have no session %q.", sessionID)
		}
		ids, err := readIndex(ctx, tx, uKey)
		if err != nil {
			return err
		}
		ids = slices.DeleteFunc(ids, func(id string) bool { return id == sessionID })
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			t.deleteSession(ctx, p, shard, rec)
			if len(ids) == 0 {
				p.Del(ctx, uKey)
			} else {
				idx, _ := json.Marshal(ids)
				// The index outlives the longest of the rest already.
				p.SetArgs(ctx, uKey, idx, redis.SetArgs{KeepTTL: true})
			}
			return nil
		})
		return err
	}, uKey, sKey)
	return storeErr(err)
}

// RevokeAll implements ports.TokenSessionStore: one transaction on the
// owner's index and sessions.
func (t *TokenSessions) RevokeAll(ctx context.Context, owner string, now time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, t.opts.OpTimeout)
	defer cancel()
	shard, uKey := domain.UserShard(owner), t.ownerKey(owner)
	var live int
	err := t.optimistic(ctx, func(tx *redis.Tx) error {
		ids, err := readIndex(ctx, tx, uKey)
		if err != nil {
			return err
		}
		stored, err := t.readSessions(ctx, tx, owner, ids)
		if err != nil {
			return err
		}
		live = 0
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, s := range stored {
				if s.sess.Live(now) {
					live++
				}
				t.deleteSession(ctx, p, shard, s.rec)
			}
			p.Del(ctx, uKey)
			return nil
		})
		return err
	}, uKey)
	if err != nil {
		return 0, storeErr(err)
	}
	return live, nil
}

// LoginCodes is a ports.LoginCodes on Redis, shared by every instance on
// the same Redis: a claim is a SET … NX with the lease as its expiry, so
// exactly one caller exchanges a code, and a holder that died loses it
// when the lease ends. One key per code (its SHA-256: a code is a
// credential for its five minutes), so any slot on Cluster.
//
// Each claim carries a random value that only its holder knows (kept in
// the holder's memory until Complete or Release), so that a Release after
// the lease ended and another caller claimed the code cannot delete the
// other caller's claim.
type LoginCodes struct {
	client redis.UniversalClient
	batch  redis.Cmdable
	opts   TokenOptions

	mu     sync.Mutex
	claims map[string]heldClaim // code digest hex → this process's claim of it
}

type heldClaim struct {
	value string
	until time.Time // the lease's end, after which the entry only takes memory
}

// NewLoginCodes returns login codes on client.
func NewLoginCodes(client redis.UniversalClient, opts TokenOptions) *LoginCodes {
	return &LoginCodes{client: client, batch: batched(client), opts: opts.withDefaults(), claims: map[string]heldClaim{}}
}

const claimPrefix = "claim:"

func (c *LoginCodes) key(code string) (key, digest string) {
	sum := sha256.Sum256([]byte(code))
	digest = hex.EncodeToString(sum[:])
	return c.opts.Prefix + ":lc:" + digest, digest
}

type loginRecord struct {
	Owner     string `json:"owner"`
	SessionID string `json:"sessionId"`
}

// Claim implements ports.LoginCodes with one SET … NX GET.
func (c *LoginCodes) Claim(ctx context.Context, code string, lease time.Duration) (bool, ports.LoginResult, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.OpTimeout)
	defer cancel()
	key, digest := c.key(code)
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return false, ports.LoginResult{}, domain.Wrap(domain.EINTERNAL, err, "No randomness for a login code's claim.")
	}
	value := claimPrefix + hex.EncodeToString(nonce[:])
	lease = max(lease, time.Millisecond)
	prev, err := c.batch.SetArgs(ctx, key, value, redis.SetArgs{Mode: "NX", Get: true, TTL: lease}).Result()
	switch {
	case errors.Is(err, redis.Nil): // it was free: ours now
		c.mu.Lock()
		now := time.Now()
		if len(c.claims) > 1024 { // holders that never completed nor released: keep memory bounded
			for k, h := range c.claims {
				if now.After(h.until) {
					delete(c.claims, k)
				}
			}
		}
		c.claims[digest] = heldClaim{value: value, until: now.Add(lease)}
		c.mu.Unlock()
		return true, ports.LoginResult{}, nil
	case redis.HasErrorPrefix(err, "WRONGTYPE"):
		return false, ports.LoginResult{}, nil // not ours: never claimable, never done
	case err != nil:
		return false, ports.LoginResult{}, unavailable(err)
	}
	var rec loginRecord
	if strings.HasPrefix(prev, claimPrefix) || json.Unmarshal([]byte(prev), &rec) != nil || rec.Owner == "" || rec.SessionID == "" {
		return false, ports.LoginResult{}, nil // being exchanged (or junk: as if it were)
	}
	return false, ports.LoginResult{Owner: rec.Owner, SessionID: rec.SessionID}, nil
}

// Complete implements ports.LoginCodes with one SET.
func (c *LoginCodes) Complete(ctx context.Context, code string, res ports.LoginResult, ttl time.Duration) error {
	if res.Owner == "" || res.SessionID == "" {
		return domain.Errorf(domain.EINVALID, "A login result needs an owner and a session.")
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.OpTimeout)
	defer cancel()
	key, digest := c.key(code)
	b, _ := json.Marshal(loginRecord{Owner: res.Owner, SessionID: res.SessionID})
	if err := c.batch.Set(ctx, key, b, max(ttl, time.Millisecond)).Err(); err != nil {
		return unavailable(err)
	}
	c.forget(digest)
	return nil
}

// releaseScript deletes a claim only while it is still the caller's.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Release implements ports.LoginCodes: it deletes this process's claim of
// the code, and nothing when the claim is no longer its own.
func (c *LoginCodes) Release(ctx context.Context, code string) error {
	key, digest := c.key(code)
	c.mu.Lock()
	h, ok := c.claims[digest]
	c.mu.Unlock()
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.OpTimeout)
	defer cancel()
	if err := releaseScript.Run(ctx, c.batch, []string{key}, h.value).Err(); err != nil {
		return unavailable(err)
	}
	c.forget(digest)
	return nil
}

func (c *LoginCodes) forget(digest string) {
	c.mu.Lock()
	delete(c.claims, digest)
	c.mu.Unlock()
}
