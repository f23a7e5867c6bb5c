// Package mongostore is the production drawing repository on MongoDB (the
// official driver, v2). Documents keep the original service's fields, so
// its data is read as is:
//
//	{openId, id, actions}                      written by the original
//	{openId, id, actions, createdAt, updatedAt, rev}   written by onestroke
//
// A unique index on (openId, id) scopes every drawing to its owner, and
// (openId, updatedAt desc, id) serves the list. Saves are optimistic
// (compare-and-set on rev) and need no transaction; size limits are kept by
// the service, not the server. Nothing here needs a MongoDB feature beyond
// CRUD, sorts and unique compound indexes.
package mongostore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.DrawingRepository = (*Repository)(nil)

// Defaults of the original deployment.
const (
	DefaultDatabase   = "qcloud-applet-session"
	DefaultCollection = "paints"
	DefaultOpTimeout  = 5 * time.Second
	// A save that loses the compare-and-set race reads again, after a
	// random pause that doubles with each loss (full jitter, up to
	// maxSaveBackoff): concurrent saves of one drawing spread out instead of
	// colliding again at once. The operation's deadline bounds it all.
	maxSaveAttempts = 32
	minSaveBackoff  = time.Millisecond
	maxSaveBackoff  = 100 * time.Millisecond
)

// Options configure Open; zero values take the defaults.
type Options struct {
	Database   string
	Collection string
	// OpTimeout bounds every call (server selection included).
	OpTimeout time.Duration
}

// Repository is a ports.DrawingRepository on one MongoDB collection.
type Repository struct {
	client    *mongo.Client
	coll      *mongo.Collection
	opTimeout time.Duration

	ready   atomic.Bool
	readyMu sync.Mutex
}

// document is the stored shape. CreatedAt/UpdatedAt/Rev are absent on
// documents the original service wrote.
type document struct {
	ID        any       `bson:"_id,omitempty"`
	OpenID    string    `bson:"openId"`
	DrawingID string    `bson:"id"`
	Actions   string    `bson:"actions"`
	CreatedAt time.Time `bson:"createdAt,omitempty"`
	UpdatedAt time.Time `bson:"updatedAt,omitempty"`
	Rev       int64     `bson:"rev,omitempty"`
}

// Open creates a pooled client for uri. It does not wait for the server:
// a MongoDB that is down at start makes calls answer EUNAVAILABLE until it
// is back (see EnsureReady). The URI's w/journal options win; without them
// writes are acknowledged by the majority and journaled.
func Open(uri string, opts Options) (*Repository, error) {
	if opts.Database == "" {
		opts.Database = DefaultDatabase
	}
	if opts.Collection == "" {
		opts.Collection = DefaultCollection
	}
	if opts.OpTimeout <= 0 {
		opts.OpTimeout = DefaultOpTimeout
	}
	co := options.Client().ApplyURI(uri)
	if co.WriteConcern == nil {
		co.SetWriteConcern(&writeconcern.WriteConcern{W: "majority", Journal: boolPtr(true)})
	}
	if co.ServerSelectionTimeout == nil {
		co.SetServerSelectionTimeout(opts.OpTimeout)
	}
	if co.ConnectTimeout == nil {
		co.SetConnectTimeout(opts.OpTimeout)
	}
	if co.HeartbeatInterval == nil {
		// Notice a MongoDB that came back within seconds, not the default 10.
		co.SetHeartbeatInterval(2 * time.Second)
	}
	co.SetAppName("onestroke")
	client, err := mongo.Connect(co)
	if err != nil {
		// The driver's message may quote the URI; it may hold a password.
		return nil, errors.New("ONESTROKE_MONGO_URI is not a valid MongoDB connection string")
	}
	return &Repository{
		client:    client,
		coll:      client.Database(opts.Database).Collection(opts.Collection),
		opTimeout: opts.OpTimeout,
	}, nil
}

func boolPtr(b bool) *bool { return &b }

// Close disconnects the client.
func (r *Repository) Close(ctx context.Context) error { return r.client.Disconnect(ctx) }

// Ping reports whether MongoDB answers and the indexes exist; for readiness.
func (r *Repository) Ping(ctx context.Context) error {
	if err := r.EnsureReady(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, r.opTimeout)
	defer cancel()
	if err := r.client.Ping(ctx, nil); err != nil {
		return unavailable(err)
	}
	return nil
}

// EnsureReady creates the indexes once; until it succeeds every call tries
// again, so the service recovers by itself when MongoDB comes up.
func (r *Repository) EnsureReady(ctx context.Context) error {
	if r.ready.Load() {
		return nil
	}
	r.readyMu.Lock()
	defer r.readyMu.Unlock()
	if r.ready.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.opTimeout)
	defer cancel()
	_, err := r.coll.Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "openId", Value: 1}, {Key: "id", Value: 1}}, Options: options.Index().SetUnique(true).SetName("openId_id_unique")},
		{Keys: bson.D{{Key: "openId", Value: 1}, {Key: "updatedAt", Value: -1}, {Key: "id", Value: 1}}, Options: options.Index().SetName("openId_updatedAt_id")},
	})
	if err != nil {
		return domain.Wrap(domain.EUNAVAILABLE, err, "The drawing store is unavailable (creating its indexes failed).")
	}
	r.ready.Store(true)
	return nil
}

func unavailable(err error) error {
	return domain.Wrap(domain.EUNAVAILABLE, err, "The drawing store is unavailable.")
}

func (r *Repository) begin(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if err := r.EnsureReady(ctx); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.opTimeout)
	return ctx, cancel, nil
}

func owned(owner, id string) bson.D {
	return bson.D{{Key: "openId", Value: owner}, {Key: "id", Value: id}}
}

// Save implements ports.DrawingRepository: read, let the domain decide,
// then insert (the unique index catches a concurrent insert) or
// compare-and-set on rev, retrying on a lost race.
func (r *Repository) Save(ctx context.Context, owner, id string, update func(*domain.Drawing) (*domain.Drawing, error)) error {
	ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	for attempt := 0; attempt < maxSaveAttempts; attempt++ {
		if attempt > 0 {
			pause := time.NewTimer(saveBackoff(attempt))
			select {
			case <-pause.C:
			case <-ctx.Done():
				pause.Stop()
				return domain.Wrap(domain.EUNAVAILABLE, ctx.Err(), "The drawing is being saved concurrently; try again.")
			}
		}
		var cur document
		err := r.coll.FindOne(ctx, owned(owner, id)).Decode(&cur)
		found := err == nil
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return unavailable(err)
		}
		var current *domain.Drawing
		if found {
			if current, err = fromDocument(cur); err != nil {
				return err
			}
		}
		next, err := update(current)
		if err != nil {
			return err
		}
		if next.Owner() != owner || next.ID() != id {
			return domain.Errorf(domain.EINTERNAL, "A save may not change a drawing's owner or id.")
		}
		if !found {
			_, err := r.coll.InsertOne(ctx, document{OpenID: owner, DrawingID: id, Actions: next.Actions().Text(),
				CreatedAt: next.CreatedAt(), UpdatedAt: next.UpdatedAt(), Rev: 1})
			if mongo.IsDuplicateKeyError(err) {
				continue // a concurrent save created it: apply ours on top
			} else if err != nil {
				return unavailable(err)
			}
			return nil
		}
		filter := owned(owner, id)
		if cur.Rev == 0 {
			filter = append(filter, bson.E{Key: "rev", Value: bson.D{{Key: "$exists", Value: false}}})
		} else {
			filter = append(filter, bson.E{Key: "rev", Value: cur.Rev})
		}
		res, err := r.coll.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{
			{Key: "actions", Value: next.Actions().Text()},
			{Key: "createdAt", Value: next.CreatedAt()},
			{Key: "updatedAt", Value: next.UpdatedAt()},
			{Key: "rev", Value: cur.Rev + 1},
		}}})
		if err != nil {
			return unavailable(err)
		}
		if res.MatchedCount == 1 {
			return nil
		}
		// Another save won the race (or a delete did): read again.
	}
	return domain.Errorf(domain.EUNAVAILABLE, "The drawing is being saved concurrently; try again.")
}

// List implements ports.DrawingRepository.
func (r *Repository) List(ctx context.Context, owner string, limit int) ([]*domain.Drawing, error) {
	if limit < 1 {
		return nil, domain.Errorf(domain.EINVALID, "List limit must be at least 1.")
	}
	ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	cur, err := r.coll.Find(ctx, bson.D{{Key: "openId", Value: owner}},
		options.Find().
			SetSort(bson.D{{Key: "updatedAt", Value: -1}, {Key: "id", Value: 1}}).
			SetLimit(int64(limit)))
	if err != nil {
		return nil, unavailable(err)
	}
	var docs []document
	if err := cur.All(ctx, &docs); err != nil {
		return nil, unavailable(err)
	}
	out := make([]*domain.Drawing, 0, len(docs))
	for _, d := range docs {
		dr, err := fromDocument(d)
		if err != nil {
			return nil, err
		}
		out = append(out, dr)
	}
	return out, nil
}

// saveBackoff is the pause before attempt (≥ 1) of a save: uniform in
// [0, min(minSaveBackoff·2^(attempt-1), maxSaveBackoff)).
func saveBackoff(attempt int) time.Duration {
	ceiling := min(minSaveBackoff<<min(attempt-1, 16), maxSaveBackoff)
	return rand.N(ceiling)
}

// Delete implements ports.DrawingRepository.
func (r *Repository) Delete(ctx context.Context, owner, id string) error {
	ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	res, err := r.coll.DeleteOne(ctx, owned(owner, id))
	if err != nil {
		return unavailable(err)
	}
	if res.DeletedCount == 0 {
		return domain.Errorf(domain.ENOTFOUND, "You have no drawing with id %q.", id)
	}
	return nil
}

// fromDocument rebuilds a drawing; a document of the original service has
// no timestamps, so its ObjectID's creation time stands in for both.
func fromDocument(d document) (*domain.Drawing, error) {
	created, updated := d.CreatedAt, d.UpdatedAt
	if created.IsZero() {
		if oid, ok := d.ID.(bson.ObjectID); ok {
			created = oid.Timestamp()
		}
	}
	if updated.IsZero() {
		updated = created
	}
	dr, err := domain.UnmarshalDrawingFromStorage(d.OpenID, d.DrawingID, domain.ActionsFromStorage(d.Actions), created, updated)
	if err != nil {
		return nil, fmt.Errorf("drawing document %v: %w", d.ID, err)
	}
	return dr, nil
}
