package sessioncache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultChannel is the Redis pub/sub channel of the invalidations.
const DefaultChannel = "ost:sessioncache:invalidate"

// DefaultPingEvery is how often a quiet subscription is checked: a Redis
// that stops answering is noticed (and the cache dropped) within about two
// of these.
const DefaultPingEvery = 500 * time.Millisecond

// RedisInvalidations is Invalidations on Redis pub/sub: PUBLISH reaches
// every subscriber of the channel, on one node, Sentinel or Cluster. A
// message is "<sender> <owner>": the sending instance's random id, and an
// openId, never a code or a token. An instance ignores its own messages:
// it dropped the owner's entries before publishing, and its echo would only
// throw away what it cached since.
type RedisInvalidations struct {
	id        string
	client    redis.UniversalClient
	publisher redis.Cmdable // what Publish sends through: client, or PublishThrough's
	channel   string
	pingEvery time.Duration
	opTimeout time.Duration
}

// NewRedisInvalidations returns the channel on client (typically the
// stores' own); an empty channel is DefaultChannel, pingEvery zero is
// DefaultPingEvery, and opTimeout bounds a publish (zero: a second).
func NewRedisInvalidations(client redis.UniversalClient, channel string, pingEvery, opTimeout time.Duration) *RedisInvalidations {
	if channel == "" {
		channel = DefaultChannel
	}
	if pingEvery <= 0 {
		pingEvery = DefaultPingEvery
	}
	if opTimeout <= 0 {
		opTimeout = time.Second
	}
	var id [8]byte
	_, _ = rand.Read(id[:]) // never fails (crypto/rand)
	return &RedisInvalidations{id: hex.EncodeToString(id[:]), client: client, publisher: client, channel: channel, pingEvery: pingEvery, opTimeout: opTimeout}
}

// PublishThrough makes Publish send its PUBLISH through c (the same
// client's automatic pipeliner: every re-login, logout and revoke
// publishes, and alone each would cost a round trip's system calls) and
// returns r.
func (r *RedisInvalidations) PublishThrough(c redis.Cmdable) *RedisInvalidations {
	r.publisher = c
	return r
}

// Publish implements Invalidations with one PUBLISH.
func (r *RedisInvalidations) Publish(ctx context.Context, owner string) error {
	ctx, cancel := context.WithTimeout(ctx, r.opTimeout)
	defer cancel()
	return r.publisher.Publish(ctx, r.channel, r.id+" "+owner).Err()
}

// Run implements Invalidations: it subscribes, reports Up on the
// subscription's confirmation, and Down on any error or when a ping of a
// quiet subscription is not answered within pingEvery; it then subscribes
// again, a pingEvery apart, until ctx ends.
func (r *RedisInvalidations) Run(ctx context.Context, l Listener) {
	defer l.Down()
	for ctx.Err() == nil {
		r.session(ctx, l)
		l.Down()
		select {
		case <-ctx.Done():
		case <-time.After(r.pingEvery):
		}
	}
}

// session runs one subscription until it fails.
func (r *RedisInvalidations) session(ctx context.Context, l Listener) {
	ps := r.client.Subscribe(ctx, r.channel)
	defer ps.Close()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, r.pingEvery)
		var ne interface{ Timeout() bool }
		switch {
		case err != nil && errors.As(err, &ne) && ne.Timeout() && !pinged && ctx.Err() == nil:
			// Quiet: ask, and count the next silence as a loss.
			if ps.Ping(ctx) != nil {
				return
			}
			pinged = true
			continue
		case err != nil:
			return
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Channel == r.channel {
				l.Up()
			}
		case *redis.Message:
			if sender, owner, ok := strings.Cut(m.Payload, " "); !ok {
				l.Invalidate(m.Payload) // not ours: as if it named an owner
			} else if sender != r.id {
				l.Invalidate(owner)
			}
		}
	}
}
