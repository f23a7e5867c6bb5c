package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.AccessTokenStore = (*AccessTokens)(nil)

// DefaultAccessTokenPrefix namespaces the access_token's keys.
const DefaultAccessTokenPrefix = "onestroke:wx-access-token"

// forcedKeep is how long the forced-refresh budget outlives its last use:
// past its WeChat day and the interval, it decides nothing any more.
const forcedKeep = 48 * time.Hour

// AccessTokenOptions tune AccessTokens; zero values take the defaults.
type AccessTokenOptions struct {
	Prefix    string        // default DefaultAccessTokenPrefix; braces are replaced (they would move the hash tag)
	OpTimeout time.Duration // default DefaultOpTimeout
}

// AccessTokens is a ports.AccessTokenStore on Redis (one node, Sentinel or
// Cluster: the client ParseURL returns), shared by every instance of the
// service on the same Redis. Three keys, hash-tagged into one slot so that
// a script may use them together on Cluster:
//
//	<prefix>:{<prefix>}:token   the token (as the service hands it over: sealed, see
//	                            app.SealAccessTokens) and its end, expiring at its end
//	<prefix>:{<prefix>}:lease   the fetch lease: SET NX with its TTL, valued by its holder
//	<prefix>:{<prefix>}:forced  the forced-refresh budget: a hash of the last one and the day's count
//
// Every step is one command or one script, through the client's automatic
// pipeliner as the other stores' single commands, each bounded by the op
// timeout. The lease's TTL and the token's expiry run on Redis's clock;
// the budget is judged at the caller's now (the instances' clocks agree
// to far better than its 30 s).
//
// The token is kept as WeChat gave it: every instance must be able to use
// it. Whoever can read this Redis can read the token, as they can read
// the sessions: give Redis the access rules a secret store needs.
type AccessTokens struct {
	batch                      redis.Cmdable
	opTimeout                  time.Duration
	tokenKey, leaseKey, forced string
}

// NewAccessTokens returns the access_token's store on client, typically
// the session store's own client (one pool, one topology).
func NewAccessTokens(client redis.UniversalClient, opts AccessTokenOptions) *AccessTokens {
	prefix := strings.NewReplacer("{", "_", "}", "_").Replace(opts.Prefix)
	if prefix == "" {
		prefix = DefaultAccessTokenPrefix
	}
	if opts.OpTimeout <= 0 {
		opts.OpTimeout = DefaultOpTimeout
	}
	tag := prefix + ":{" + prefix + "}:"
	return &AccessTokens{batch: batched(client), opTimeout: opts.OpTimeout,
		tokenKey: tag + "token", leaseKey: tag + "lease", forced: tag + "forced"}
}

// Keys returns the store's keys (token, lease, forced-refresh budget),
// for operators and tests.
func (a *AccessTokens) Keys() []string { return []string{a.tokenKey, a.leaseKey, a.forced} }

// accessTokenRecord is the token as stored. The token is a string here
// on purpose: domain.AccessToken redacts itself in JSON.
type accessTokenRecord struct {
	Token     string `json:"token"`
	ExpiresAt int64  `json:"expiresAt"` // unix milliseconds
}

func accessTokenUnavailable(err error) error {
	return domain.Wrap(domain.EUNAVAILABLE, err, "The access_token store is unavailable.")
}

// Current implements ports.AccessTokenStore with one GET. A value that is
// not a token (junk, a key of another type) reads as none: the next fetch
// overwrites it.
func (a *AccessTokens) Current(ctx context.Context) (ports.StoredAccessToken, error) {
	ctx, cancel := context.WithTimeout(ctx, a.opTimeout)
	defer cancel()
	raw, err := a.batch.Get(ctx, a.tokenKey).Result()
	if errors.Is(err, redis.Nil) || redis.HasErrorPrefix(err, "WRONGTYPE") {
		return ports.StoredAccessToken{}, nil
	} else if err != nil {
		return ports.StoredAccessToken{}, accessTokenUnavailable(err)
	}
	var rec accessTokenRecord
	if json.Unmarshal([]byte(raw), &rec) != nil || rec.Token == "" || rec.ExpiresAt <= 0 {
		return ports.StoredAccessToken{}, nil
	}
	return ports.StoredAccessToken{Token: domain.AccessToken(rec.Token), Expires: time.UnixMilli(rec.ExpiresAt)}, nil
}

// Lease implements ports.AccessTokenStore with one SET NX PX.
func (a *AccessTokens) Lease(ctx context.Context, holder string, ttl time.Duration) (bool, error) {
	if holder == "" || ttl < time.Millisecond {
		return false, domain.Errorf(domain.EINVALID, "A lease needs a holder and a TTL of at least a millisecond.")
	}
	ctx, cancel := context.WithTimeout(ctx, a.opTimeout)
	defer cancel()
	ok, err := a.batch.SetNX(ctx, a.leaseKey, holder, ttl).Result()
	if err != nil {
		return false, accessTokenUnavailable(err)
	}
	return ok, nil
}

// completeScript stores the token and ends the lease, only while the lease
// is still the caller's.
var completeScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('DEL', KEYS[1])
return 1
`)

// Complete implements ports.AccessTokenStore with one script. The token's
// key expires at its end as the caller sees it (tok.Expires less now).
func (a *AccessTokens) Complete(ctx context.Context, holder string, tok ports.StoredAccessToken, now time.Time) (bool, error) {
	life := tok.Expires.Sub(now)
	if tok.Token == "" || life < time.Millisecond {
		return false, domain.Errorf(domain.EINVALID, "An access_token to store needs a value and an end after now.")
	}
	if holder == "" {
		return false, nil
	}
	b, _ := json.Marshal(accessTokenRecord{Token: tok.Token.Reveal(), ExpiresAt: tok.Expires.UnixMilli()}) // a string and a number: cannot fail
	ctx, cancel := context.WithTimeout(ctx, a.opTimeout)
	defer cancel()
	done, err := completeScript.Run(ctx, a.batch, []string{a.leaseKey, a.tokenKey}, holder, b, life.Milliseconds()).Int()
	if err != nil {
		return false, accessTokenUnavailable(err)
	}
	return done == 1, nil
}

// Release implements ports.AccessTokenStore with one script (the login
// codes' releaseScript: DEL only while the value is the holder's).
func (a *AccessTokens) Release(ctx context.Context, holder string) error {
	if holder == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, a.opTimeout)
	defer cancel()
	if err := releaseScript.Run(ctx, a.batch, []string{a.leaseKey}, holder).Err(); err != nil {
		return accessTokenUnavailable(err)
	}
	return nil
}

// forcedScript is memstore's forcedRefreshBudget in one step: refused
// within the interval after the last forced refresh (waiting at most one
// interval, whatever the callers' clocks), or past the day's count (until
// the day's end); otherwise counted. A now whose day is before the kept
// one counts in the kept day.
//
// KEYS[1] the budget hash; ARGV: now (unix ms), now's WeChat day, its end
// (unix ms), the interval (ms), the day's limit, how long to keep the hash
// (ms). Answers {1, 0} or {0, retry after in ms}.
var forcedScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'last', 'day', 'n')
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[4])
local last = tonumber(v[1])
if last then
  local wait = last + interval - now
  if wait > 0 then
    return {0, math.min(wait, interval)}
  end
end
local day = ARGV[2]
local n = 0
if v[2] and day <= v[2] then
  day = v[2]
  n = tonumber(v[3]) or 0
end
if n >= tonumber(ARGV[5]) then
  return {0, math.max(tonumber(ARGV[3]) - now, 1000)}
end
redis.call('HSET', KEYS[1], 'last', ARGV[1], 'day', day, 'n', n + 1)
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return {1, 0}
`)

// TakeForcedRefresh implements ports.AccessTokenStore with one script.
func (a *AccessTokens) TakeForcedRefresh(ctx context.Context, now time.Time) (bool, time.Duration, error) {
	day, end := domain.ForcedRefreshDay(now)
	ctx, cancel := context.WithTimeout(ctx, a.opTimeout)
	defer cancel()
	res, err := forcedScript.Run(ctx, a.batch, []string{a.forced}, now.UnixMilli(), day, end.UnixMilli(),
		domain.ForcedRefreshInterval.Milliseconds(), domain.ForcedRefreshesPerDay, forcedKeep.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, accessTokenUnavailable(err)
	}
	if len(res) != 2 {
		return false, 0, accessTokenUnavailable(errors.New("the forced-refresh script answered an unexpected shape"))
	}
	if res[0] == 1 {
		return true, 0, nil
	}
	return false, max(time.Duration(res[1])*time.Millisecond, time.Millisecond), nil
}
