// Package sessioncache answers the sessions of both protocols from the
// process's memory: decorators of ports.SessionStore (legacy codes) and
// ports.TokenSessionStore (v2 tokens) that keep recently read sessions in
// one LRU, and drop a user's entries on every instance when one instance
// changes that user's sessions (a legacy re-login, a logout, a revocation,
// a logout everywhere, a login past the device cap).
//
// Why a decorator with pub/sub and not go-redis's own client-side caching
// (CLIENT TRACKING, v9.23): go-redis's cache is experimental, works on a
// standalone client only (not Sentinel, not Cluster, and only database 0),
// needs RESP3 (which the stores leave off for its cost, see
// redisstore.ParseURL), and caches raw replies, so every hit would still
// decode the value and a miss of an attacker's random code would take a
// slot like a real session. Here the cache holds decoded sessions, never
// holds a miss, and works on every topology (PUBLISH reaches every node of
// a Cluster).
//
// Staleness is bounded three ways: an entry lives at most TTL (and never
// past the legacy code's own expiry in the store); a token session's idle
// and absolute expiry are decided by the domain on every hit, with the
// caller's clock, and a due write of its use (TokenSession.Touch) goes to
// the store; and while the invalidation channel is down the whole cache is
// dropped and nothing is cached until it is back.
package sessioncache

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// DefaultTTL bounds how long an entry is served without asking the store:
// a revocation whose message was lost (published while Redis failed over)
// is refused everywhere at most this late. Two seconds keep the hit ratio
// of a client that polls every second or faster above one half, and match
// the two seconds a Cluster failover may fail requests anyway.
const DefaultTTL = 2 * time.Second

// DefaultSize is the default bound of entries (both protocols together):
// a few megabytes for typical sessions of about 300 bytes.
const DefaultSize = 10000

// recentInvalidations is how many invalidations a fill looks back over to
// decide whether one of them concerned its owner; a fill that overlapped
// more than this many is simply not kept.
const recentInvalidations = 64

// Options tune a Cache; zero values take the defaults.
type Options struct {
	Size int           // entries; default DefaultSize
	TTL  time.Duration // default DefaultTTL
	Now  ports.Clock   // default time.Now: when entries were filled, and the legacy codes' expiry
}

// Invalidations is the channel every instance's cache listens on.
type Invalidations interface {
	// Publish tells every instance that owner's sessions changed.
	// Returns an error when the channel cannot take the message.
	Publish(ctx context.Context, owner string) error

	// Run delivers the channel's messages to l until ctx ends: l.Up once
	// subscribed (again after every reconnection), l.Invalidate for each
	// message, l.Down as soon as the subscription is lost or stops
	// answering.
	Run(ctx context.Context, l Listener)
}

// Listener receives what Invalidations.Run delivers. *Cache is one.
type Listener interface {
	Up()
	Down()
	Invalidate(owner string)
}

// Stats counts a cache's answers, for tests and the benchmark.
type Stats struct {
	Hits, Misses, Fills, Refused, Entries int
	Up                                    bool
}

// key is an entry's key: a legacy code or a token digest, never both.
type key struct {
	code  string
	token domain.TokenDigest
}

type entry struct {
	owner   string
	until   time.Time // served before this, on the cache's clock
	user    domain.UserInfo
	proof   string
	full    bool                 // a legacy entry filled by Get (proof known), not by User
	session *domain.TokenSession // a token's session, never handed out: hits get a copy
}

// Cache is the LRU both decorators share, and the Listener of the
// invalidation channel. It caches nothing until the channel is up.
type Cache struct {
	bus Invalidations
	ttl time.Duration
	now ports.Clock

	mu      sync.Mutex
	lru     *simplelru.LRU[key, *entry]
	byOwner map[string]map[key]struct{}
	up      bool
	// gen counts invalidations (and the channel's downs and ups); recent
	// names the owner of each of the last ones ("" for all), so that a fill
	// that read the store before an invalidation of its owner passed is not
	// kept (it could hold the revoked session).
	gen    uint64
	recent [recentInvalidations]string
	stats  Stats
}

// New returns a cache that publishes and listens on bus; call Run (or let
// bus.Run call the cache) before it caches anything.
func New(bus Invalidations, opts Options) *Cache {
	if opts.Size <= 0 {
		opts.Size = DefaultSize
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Cache{bus: bus, ttl: opts.TTL, now: opts.Now, byOwner: map[string]map[key]struct{}{}}
	c.lru, _ = simplelru.NewLRU[key, *entry](opts.Size, c.evicted) // only fails for a size below 1
	return c
}

// Run listens on the invalidation channel until ctx ends.
func (c *Cache) Run(ctx context.Context) { c.bus.Run(ctx, c) }

// evicted keeps the owner index in step with the LRU; called under mu.
func (c *Cache) evicted(k key, e *entry) {
	if keys := c.byOwner[e.owner]; keys != nil {
		delete(keys, k)
		if len(keys) == 0 {
			delete(c.byOwner, e.owner)
		}
	}
}

// Up implements Listener: the channel is subscribed, caching may start.
func (c *Cache) Up() {
	c.mu.Lock()
	c.up = true
	c.bumpLocked("")
	c.mu.Unlock()
}

// Down implements Listener: messages may be lost from now on, so
// everything cached is dropped and nothing is cached until Up.
func (c *Cache) Down() {
	c.mu.Lock()
	c.up = false
	c.bumpLocked("")
	c.lru.Purge()
	c.mu.Unlock()
}

// Invalidate implements Listener: owner's entries are dropped, and fills
// of owner that started before are not kept.
func (c *Cache) Invalidate(owner string) {
	c.mu.Lock()
	c.bumpLocked(owner)
	for k := range c.byOwner[owner] {
		c.lru.Remove(k) // evicted deletes it from byOwner
	}
	c.mu.Unlock()
}

func (c *Cache) bumpLocked(owner string) {
	c.gen++
	c.recent[c.gen%recentInvalidations] = owner
}

// changed drops owner's entries here at once, then tells every other
// instance. A failed publish is not the caller's failure (the store has
// changed): the other instances stop serving the entry within the TTL.
func (c *Cache) changed(ctx context.Context, owner string) {
	c.Invalidate(owner)
	_ = c.bus.Publish(context.WithoutCancel(ctx), owner)
}

// Stats returns the cache's counts so far.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries, s.Up = c.lru.Len(), c.up
	return s
}

// lookup returns the live entry of k, if any.
func (c *Cache) lookup(k key) (*entry, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(k)
	if ok && !now.Before(e.until) {
		c.lru.Remove(k)
		ok = false
	}
	if ok {
		c.stats.Hits++
	} else {
		c.stats.Misses++
	}
	return e, ok
}

// begin starts a fill: it returns the generation to hand to fill, and
// false when the channel is down (nothing may be cached).
func (c *Cache) begin() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, c.up
}

// fill keeps e under k unless an invalidation of e's owner (or of all)
// passed since gen, or the channel is down.
func (c *Cache) fill(gen uint64, k key, e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.up || c.gen-gen >= recentInvalidations {
		c.stats.Refused++
		return
	}
	for g := gen + 1; g <= c.gen; g++ {
		if o := c.recent[g%recentInvalidations]; o == "" || o == e.owner {
			c.stats.Refused++
			return
		}
	}
	c.lru.Remove(k) // keeps the owner index exact should the owner differ
	c.lru.Add(k, e)
	keys := c.byOwner[e.owner]
	if keys == nil {
		keys = map[key]struct{}{}
		c.byOwner[e.owner] = keys
	}
	keys[k] = struct{}{}
	c.stats.Fills++
}
