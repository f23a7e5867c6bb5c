// Package mongostore is the production drawing and profile repository on
// MongoDB (the official driver, v2). Documents keep the original service's fields, so
// its data is read as is:
//
//	{openId, id, actions}                      written by the original
//	{openId, id, actions, createdAt, updatedAt, rev}   written by onestroke before v2
//	{…, title, titleInReview, revision, bytes}  written by this version
//
// A unique index on (openId, id) scopes every drawing to its owner,
// (openId, updatedAt desc, id) serves the list, and (openId, createdAt
// desc, id desc) the v2 pages (PROTOCOL §7), which read the rows they
// return and one more, projected without their actions (bytes is the
// actions text's length, kept beside it). A document of the original
// service has no createdAt, and none is ever added to it (a save keeps its
// position where it is): such documents page after every dated one, by id
// descending, showing their ObjectID's time. A document without bytes (of
// the original, or of onestroke before v2) has them, and the revision its
// ETag is derived from (domain.DerivedRevision of the actions, the ETag it
// already had), filled in once for all of its owner's documents when a
// page first meets one. rev is the compare-and-set counter of saves;
// revision is the domain's, random, the source of the ETag. Saves are optimistic
// (compare-and-set on rev) and need no transaction; size limits are kept by
// the service, not the server. Nothing here needs a MongoDB feature beyond
// CRUD, sorts and unique compound indexes.
//
// The per-owner quota (domain.Quota) is kept without transactions, which the
// FerretDB stand-in lacks, and without relying on an update being atomic,
// which FerretDB 1.24.2 does not make it (concurrent conditional $inc of
// one document lose updates there; an insert's unique _id is the one
// atomic step it has). So each owner's saves and deletes take a lease:
// <collection>_locks holds {_id: openId, token, until} while one runs,
// inserted (a second insert fails on the unique _id) and deleted after.
// Under it the owner's usage, {_id: openId, drawings, bytes} in
// <collection>_usage, is read, checked (domain.Quota.Allow), raised by what
// the save adds before the drawing is written, and lowered by what a
// smaller replacement or a delete frees after it. An owner without a usage
// document (data of the original service, or of onestroke before the
// quota) gets one computed from its drawings (count, sum of the actions'
// lengths) by its first save.
//
// A lease lasts twice the call timeout, which bounds every call, so it
// outlives its holder's work; a lease left by a process that died is taken
// over once it has expired (instances' clocks must agree to within a
// second or so). Every crash window is on the safe side, the usage can only
// end up over-counted: a process that dies (or a MongoDB that stops
// answering) after the usage was raised and before the write, or after a
// write or delete and before the usage was lowered; and a write whose
// outcome is unknown (a timeout) keeps what it reserved. Such an owner may
// be refused a little early; deleting the owner's usage document makes the
// next save compute it again. Saves of one owner run one at a time (one
// user's device saves one drawing at a time anyway).
//
// Profiles (ports.ProfileRepository) are documents {_id: openId, nickName,
// avatarUrl, phone?: {phoneNumber, purePhoneNumber, countryCode},
// nickNameInReview?: true} in the profiles collection, which needs no
// index but _id's (the last two only when set: older documents lack them,
// and read as a profile without them). An update reads, lets the domain decide and replaces (upserting) under
// the same owner lease as the drawings: FerretDB would lose one of two
// concurrent compare-and-set updates of the document, and a profile is
// changed too rarely for the wait to matter.
package mongostore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
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

var (
	_ ports.DrawingRepository = (*Repository)(nil)
	_ ports.ProfileRepository = (*Repository)(nil)
)

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

// UsageSuffix and LocksSuffix name the collections of each owner's usage
// and lease after the drawings' collection: paints_usage, paints_locks.
const (
	UsageSuffix = "_usage"
	LocksSuffix = "_locks"
)

// ProfilesCollection holds each owner's profile, in the drawings' database.
const ProfilesCollection = "profiles"

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
	usage     *mongo.Collection // <collection>_usage: each owner's usage
	locks     *mongo.Collection // <collection>_locks: each owner's lease
	profiles  *mongo.Collection // profiles: each owner's profile
	opTimeout time.Duration

	ready   atomic.Bool
	readyMu sync.Mutex
}

// document is the stored shape. CreatedAt/UpdatedAt/Rev are absent on
// documents the original service wrote, and Title/TitleInReview/Revision/
// Bytes on those written before v2 too. Revision holds the domain's uint64
// revision's bits.
type document struct {
	ID            any       `bson:"_id,omitempty"`
	OpenID        string    `bson:"openId"`
	DrawingID     string    `bson:"id"`
	Actions       string    `bson:"actions"`
	CreatedAt     time.Time `bson:"createdAt,omitempty"`
	UpdatedAt     time.Time `bson:"updatedAt,omitempty"`
	Rev           int64     `bson:"rev,omitempty"`
	Title         string    `bson:"title,omitempty"`
	TitleInReview bool      `bson:"titleInReview,omitempty"`
	Revision      int64     `bson:"revision,omitempty"`
	Bytes         *int64    `bson:"bytes,omitempty"`
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
		usage:     client.Database(opts.Database).Collection(opts.Collection + UsageSuffix),
		locks:     client.Database(opts.Database).Collection(opts.Collection + LocksSuffix),
		profiles:  client.Database(opts.Database).Collection(ProfilesCollection),
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
	// One index per createIndexes command: FerretDB 1.24.2 drops the
	// connection on a command naming two or more indexes that all exist,
	// which is what every instance after the first sends.
	for _, index := range []mongo.IndexModel{
		{Keys: bson.D{{Key: "openId", Value: 1}, {Key: "id", Value: 1}}, Options: options.Index().SetUnique(true).SetName("openId_id_unique")},
		{Keys: bson.D{{Key: "openId", Value: 1}, {Key: "updatedAt", Value: -1}, {Key: "id", Value: 1}}, Options: options.Index().SetName("openId_updatedAt_id")},
		{Keys: bson.D{{Key: "openId", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "id", Value: -1}}, Options: options.Index().SetName("openId_createdAt_id")},
	} {
		if _, err := r.coll.Indexes().CreateOne(ctx, index); err != nil {
			return domain.Wrap(domain.EUNAVAILABLE, err, "The drawing store is unavailable (creating its indexes failed).")
		}
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
func (r *Repository) Save(ctx context.Context, owner, id string, quota domain.Quota, update func(*domain.Drawing) (*domain.Drawing, error)) error {
	ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	unlock, err := r.lockOwner(ctx, owner)
	if err != nil {
		return err
	}
	defer unlock()
	usage, err := r.ownerUsage(ctx, owner)
	if err != nil {
		return err
	}
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
		before := current.Usage() // update may change current in place
		next, err := update(current)
		if err != nil {
			return err
		}
		if next.Owner() != owner || next.ID() != id {
			return domain.Errorf(domain.EINTERNAL, "A save may not change a drawing's owner or id.")
		}
		delta := next.Usage().Minus(before)
		if err := quota.Allow(usage, delta); err != nil {
			return err
		}
		grow, _ := delta.Split()
		if err := r.setUsage(ctx, owner, usage, usage.Plus(grow)); err != nil {
			return err // nothing written yet
		}
		bytes := next.Bytes()
		if !found {
			_, err := r.coll.InsertOne(ctx, document{OpenID: owner, DrawingID: id, Actions: next.Actions().Text(),
				CreatedAt: next.CreatedAt(), UpdatedAt: next.UpdatedAt(), Rev: 1,
				Title: next.Title(), TitleInReview: next.TitleInReview(), Revision: int64(next.Revision()), Bytes: &bytes})
			if mongo.IsDuplicateKeyError(err) {
				_ = r.setUsage(ctx, owner, usage.Plus(grow), usage) // nothing was written
				continue                                            // a concurrent save created it: apply ours on top
			} else if err != nil {
				return unavailable(err) // the outcome is unknown: the reservation stays
			}
			return nil
		}
		filter := owned(owner, id)
		if cur.Rev == 0 {
			filter = append(filter, bson.E{Key: "rev", Value: bson.D{{Key: "$exists", Value: false}}})
		} else {
			filter = append(filter, bson.E{Key: "rev", Value: cur.Rev})
		}
		set := bson.D{
			{Key: "actions", Value: next.Actions().Text()},
			{Key: "updatedAt", Value: next.UpdatedAt()},
			{Key: "rev", Value: cur.Rev + 1},
			{Key: "title", Value: next.Title()},
			{Key: "titleInReview", Value: next.TitleInReview()},
			{Key: "revision", Value: int64(next.Revision())},
			{Key: "bytes", Value: bytes},
		}
		if !cur.CreatedAt.IsZero() {
			// A document without createdAt keeps lacking it: dating it now
			// would move it in the pages, under a walk in progress.
			set = append(set, bson.E{Key: "createdAt", Value: next.CreatedAt()})
		}
		res, err := r.coll.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: set}})
		if err != nil {
			return unavailable(err)
		}
		if res.MatchedCount == 1 {
			_ = r.setUsage(ctx, owner, usage.Plus(grow), usage.Plus(delta)) // what a smaller replacement freed
			return nil
		}
		_ = r.setUsage(ctx, owner, usage.Plus(grow), usage)
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

// ListBatch implements ports.DrawingRepository: one find from the
// position, sorted by the list index, read one driver batch of at most
// listBatchDocs documents at a time and closed (its server cursor killed)
// before it returns. A position is "t<updatedAt in ms>:<id>", or
// "n:<id>" after a document of the original service (no updatedAt: those
// sort after all others, by id).
func (r *Repository) ListBatch(ctx context.Context, owner, after string, limit, maxBytes int) ([]*domain.Drawing, string, error) {
	if limit < 1 || maxBytes < 1 {
		return nil, "", domain.Errorf(domain.EINVALID, "A list batch needs a limit and a byte bound of at least 1.")
	}
	filter, err := afterFilter(owner, after)
	if err != nil {
		return nil, "", err
	}
	ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return nil, "", err
	}
	defer cancel()
	cur, err := r.coll.Find(ctx, filter,
		options.Find().
			SetSort(bson.D{{Key: "updatedAt", Value: -1}, {Key: "id", Value: 1}}).
			SetLimit(int64(limit)+1). // one more tells whether any follows
			SetBatchSize(int32(min(limit+1, listBatchDocs))))
	if err != nil {
		return nil, "", unavailable(err)
	}
	defer cur.Close(ctx)
	out := []*domain.Drawing{}
	size, more := 0, false
	var last document
	for cur.Next(ctx) {
		var d document
		if err := cur.Decode(&d); err != nil {
			return nil, "", unavailable(err)
		}
		if len(out) == limit || (len(out) > 0 && size+len(d.Actions) > maxBytes) {
			more = true
			break
		}
		dr, err := fromDocument(d)
		if err != nil {
			return nil, "", err
		}
		out = append(out, dr)
		size += len(d.Actions)
		last = d
	}
	if err := cur.Err(); err != nil {
		return nil, "", unavailable(err)
	}
	if !more {
		return out, "", nil
	}
	if last.UpdatedAt.IsZero() {
		return out, "n:" + last.DrawingID, nil
	}
	return out, "t" + strconv.FormatInt(last.UpdatedAt.UnixMilli(), 10) + ":" + last.DrawingID, nil
}

// listBatchDocs bounds the documents one driver batch of ListBatch holds:
// at most that many drawings in memory besides the batch being built.
const listBatchDocs = 16

// afterFilter selects the owner's drawings after a ListBatch position, in
// the order (updatedAt desc, id), where a missing updatedAt sorts last.
func afterFilter(owner, after string) (bson.D, error) {
	filter := bson.D{{Key: "openId", Value: owner}}
	if after == "" {
		return filter, nil
	}
	bad := domain.Errorf(domain.EINVALID, "Not a list position of this store.")
	pos, id, ok := strings.Cut(after, ":")
	if !ok || id == "" {
		return nil, bad
	}
	if pos == "n" {
		return append(filter,
			bson.E{Key: "updatedAt", Value: bson.D{{Key: "$exists", Value: false}}},
			bson.E{Key: "id", Value: bson.D{{Key: "$gt", Value: id}}}), nil
	}
	ms, err := strconv.ParseInt(strings.TrimPrefix(pos, "t"), 10, 64)
	if err != nil || !strings.HasPrefix(pos, "t") {
		return nil, bad
	}
	at := time.UnixMilli(ms).UTC()
	return append(filter, bson.E{Key: "$or", Value: bson.A{
		bson.D{{Key: "updatedAt", Value: bson.D{{Key: "$lt", Value: at}}}},
		bson.D{{Key: "updatedAt", Value: at}, {Key: "id", Value: bson.D{{Key: "$gt", Value: id}}}},
		bson.D{{Key: "updatedAt", Value: bson.D{{Key: "$exists", Value: false}}}},
	}}), nil
}

// saveBackoff is the pause before attempt (≥ 1) of a save: uniform in
// [0, min(minSaveBackoff·2^(attempt-1), maxSaveBackoff)).
func saveBackoff(attempt int) time.Duration {
	ceiling := min(minSaveBackoff<<min(attempt-1, 16), maxSaveBackoff)
	return rand.N(ceiling)
}

// Get implements ports.DrawingRepository.
func (r *Repository) Get(ctx context.Context, owner, id string) (*domain.Drawing, error) {
	ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var d document
	err = r.coll.FindOne(ctx, owned(owner, id)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, domain.Errorf(domain.ENOTFOUND, "You have no drawing with id %q.", id)
	} else if err != nil {
		return nil, unavailable(err)
	}
	return fromDocument(d)
}

// pageProjection leaves the actions out of a page's documents.
var pageProjection = bson.D{{Key: "actions", Value: 0}}

// Page implements ports.DrawingRepository: one find on the owner's
// createdAt index from the cursor's position, sorted by it, limit + 1
// documents, without their actions. Should one of them lack bytes (a
// document written before v2), the owner's documents are given theirs
// first (fillSummaries) and the find is made again.
func (r *Repository) Page(ctx context.Context, owner, cursor string, limit int) ([]domain.DrawingSummary, string, error) {
	if limit < 1 {
		return nil, "", domain.Errorf(domain.EINVALID, "A page needs a limit of at least 1.")
	}
	filter := bson.D{{Key: "openId", Value: owner}}
	if cursor != "" {
		p, err := domain.ParsePageCursor(owner, cursor)
		if err != nil {
			return nil, "", err
		}
		filter = append(filter, pageAfter(p)...)
	}
	ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return nil, "", err
	}
	defer cancel()
	for attempt := 0; ; attempt++ {
		docs, err := r.pageDocs(ctx, filter, limit)
		if err != nil {
			return nil, "", err
		}
		complete := true
		for _, d := range docs {
			complete = complete && d.Bytes != nil
		}
		if !complete && attempt == 0 {
			if err := r.fillSummaries(ctx, owner); err != nil {
				return nil, "", err
			}
			continue
		}
		items := make([]domain.DrawingSummary, 0, min(len(docs), limit))
		for _, d := range docs[:min(len(docs), limit)] {
			s, err := summaryOf(d)
			if err != nil {
				return nil, "", err
			}
			items = append(items, s)
		}
		if len(docs) <= limit {
			return items, "", nil
		}
		last := docs[limit-1]
		p := domain.PagePosition{ID: last.DrawingID, Undated: last.CreatedAt.IsZero()}
		if !p.Undated {
			p.CreatedAt = last.CreatedAt.UnixMilli()
		}
		return items, p.Cursor(owner), nil
	}
}

func (r *Repository) pageDocs(ctx context.Context, filter bson.D, limit int) ([]document, error) {
	cur, err := r.coll.Find(ctx, filter,
		options.Find().
			SetSort(bson.D{{Key: "createdAt", Value: -1}, {Key: "id", Value: -1}}).
			SetProjection(pageProjection).
			SetLimit(int64(limit)+1). // one more tells whether any follows
			SetBatchSize(int32(min(limit+1, maxPageBatch))))
	if err != nil {
		return nil, unavailable(err)
	}
	var docs []document
	if err := cur.All(ctx, &docs); err != nil {
		return nil, unavailable(err)
	}
	return docs, nil
}

// maxPageBatch bounds one driver batch of a page's find: a page of the
// v2 routes is at most 101 documents without their actions.
const maxPageBatch = 128

// pageAfter selects the drawings after a page position, in the order
// (createdAt desc, id desc), where a missing createdAt sorts last.
func pageAfter(p domain.PagePosition) bson.D {
	undated := bson.D{{Key: "createdAt", Value: bson.D{{Key: "$exists", Value: false}}}}
	if p.Undated {
		return append(undated, bson.E{Key: "id", Value: bson.D{{Key: "$lt", Value: p.ID}}})
	}
	at := time.UnixMilli(p.CreatedAt).UTC()
	return bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: at}}}},
		bson.D{{Key: "createdAt", Value: at}, {Key: "id", Value: bson.D{{Key: "$lt", Value: p.ID}}}},
		undated,
	}}}
}

// summaryOf is a page document's summary; its bytes and revision are
// there (fillSummaries saw to it).
func summaryOf(d document) (domain.DrawingSummary, error) {
	dr, err := fromDocument(d)
	if err != nil {
		return domain.DrawingSummary{}, err
	}
	s := dr.Summary() // its actions are not here: bytes and revision come from the document
	if d.Bytes == nil || d.Revision == 0 {
		return domain.DrawingSummary{}, fmt.Errorf("drawing document %v has no bytes or revision", d.ID)
	}
	s.Bytes, s.Revision = *d.Bytes, uint64(d.Revision)
	return s, nil
}

// fillSummaries gives every document of the owner that lacks them its
// bytes and the revision its ETag already was (derived from its actions),
// under the owner's lease: once per owner whose documents predate v2,
// reading their actions as ownerUsage does.
func (r *Repository) fillSummaries(ctx context.Context, owner string) error {
	unlock, err := r.lockOwner(ctx, owner)
	if err != nil {
		return err
	}
	defer unlock()
	missing := bson.D{{Key: "openId", Value: owner}, {Key: "bytes", Value: bson.D{{Key: "$exists", Value: false}}}}
	cur, err := r.coll.Find(ctx, missing, options.Find().SetProjection(bson.D{{Key: "actions", Value: 1}, {Key: "revision", Value: 1}}).SetBatchSize(16))
	if err != nil {
		return unavailable(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d document
		if err := cur.Decode(&d); err != nil {
			return unavailable(err)
		}
		rev := uint64(d.Revision)
		if rev == 0 {
			rev = domain.DerivedRevision(d.Actions)
		}
		_, err := r.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}, {Key: "bytes", Value: bson.D{{Key: "$exists", Value: false}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "bytes", Value: int64(len(d.Actions))}, {Key: "revision", Value: int64(rev)}}}})
		if err != nil {
			return unavailable(err)
		}
	}
	if err := cur.Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

// Delete implements ports.DrawingRepository: under the owner's lease (no
// save or delete of the owner runs meanwhile), read the drawing, check the
// precondition against its ETag, delete it by its _id.
func (r *Repository) Delete(ctx context.Context, owner, id string, pre domain.Precondition) error {
	ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	unlock, err := r.lockOwner(ctx, owner)
	if err != nil {
		return err
	}
	defer unlock()
	var doc document
	err = r.coll.FindOne(ctx, owned(owner, id)).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		if err := pre.Check(""); err != nil {
			return err
		}
		return domain.Errorf(domain.ENOTFOUND, "You have no drawing with id %q.", id)
	} else if err != nil {
		return unavailable(err)
	}
	current, err := fromDocument(doc)
	if err != nil {
		return err
	}
	if err := pre.Check(current.ETag()); err != nil {
		return err
	}
	res, err := r.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: doc.ID}})
	if err != nil {
		return unavailable(err)
	}
	if res.DeletedCount == 0 {
		return domain.Errorf(domain.ENOTFOUND, "You have no drawing with id %q.", id)
	}
	// An owner without a usage document has nothing to lower: its first
	// save computes it from what is stored then.
	var u usageDoc
	if err := r.usage.FindOne(ctx, bson.D{{Key: "_id", Value: owner}}).Decode(&u); err == nil {
		have := domain.Usage{Drawings: u.Drawings, Bytes: u.Bytes}
		_ = r.setUsage(ctx, owner, have, have.Minus(domain.Usage{Drawings: 1, Bytes: int64(len(doc.Actions))}))
	}
	return nil
}

// ownerUsage returns the owner's usage, computing it from the owner's
// drawings (and storing it) when the owner has no usage document yet. The
// caller holds the owner's lease.
func (r *Repository) ownerUsage(ctx context.Context, owner string) (domain.Usage, error) {
	var u usageDoc
	err := r.usage.FindOne(ctx, bson.D{{Key: "_id", Value: owner}}).Decode(&u)
	if err == nil {
		return domain.Usage{Drawings: u.Drawings, Bytes: u.Bytes}, nil
	} else if !errors.Is(err, mongo.ErrNoDocuments) {
		return domain.Usage{}, unavailable(err)
	}
	cur, err := r.coll.Find(ctx, bson.D{{Key: "openId", Value: owner}},
		options.Find().SetProjection(bson.D{{Key: "actions", Value: 1}}).SetBatchSize(16))
	if err != nil {
		return domain.Usage{}, unavailable(err)
	}
	defer cur.Close(ctx)
	u = usageDoc{Owner: owner}
	for cur.Next(ctx) {
		var d struct {
			Actions string `bson:"actions"`
		}
		if err := cur.Decode(&d); err != nil {
			return domain.Usage{}, unavailable(err)
		}
		u.Drawings++
		u.Bytes += int64(len(d.Actions))
	}
	if err := cur.Err(); err != nil {
		return domain.Usage{}, unavailable(err)
	}
	if _, err := r.usage.InsertOne(ctx, u); err != nil {
		return domain.Usage{}, unavailable(err)
	}
	return domain.Usage{Drawings: u.Drawings, Bytes: u.Bytes}, nil
}

// usageDoc is an owner's document in the usage collection.
type usageDoc struct {
	Owner    string `bson:"_id"`
	Drawings int64  `bson:"drawings"`
	Bytes    int64  `bson:"bytes"`
}

// setUsage changes the owner's usage from was to now; the caller holds the
// owner's lease, so nobody else writes it meanwhile.
func (r *Repository) setUsage(ctx context.Context, owner string, was, now domain.Usage) error {
	if was == now {
		return nil
	}
	_, err := r.usage.UpdateOne(ctx, bson.D{{Key: "_id", Value: owner}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "drawings", Value: now.Drawings}, {Key: "bytes", Value: now.Bytes}}}})
	if err != nil {
		return unavailable(err)
	}
	return nil
}

// lockDoc is an owner's lease in the locks collection.
type lockDoc struct {
	Owner string    `bson:"_id"`
	Token string    `bson:"token"`
	Until time.Time `bson:"until"`
}

// lockOwner takes the owner's lease, waiting (with the saves' backoff) while
// another save or delete of the owner holds it, and taking over one that
// expired. The returned function gives it back, even after ctx ended.
func (r *Repository) lockOwner(ctx context.Context, owner string) (func(), error) {
	token := fmt.Sprintf("%016x%016x", rand.Uint64(), rand.Uint64())
	lease := 2*r.opTimeout + time.Second
	for attempt := 1; ; attempt++ {
		_, err := r.locks.InsertOne(ctx, lockDoc{Owner: owner, Token: token, Until: time.Now().Add(lease).UTC()})
		if err == nil {
			return func() {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opTimeout)
				defer cancel()
				// A lease not given back expires: the owner waits, nothing breaks.
				_, _ = r.locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: owner}, {Key: "token", Value: token}})
			}, nil
		} else if !mongo.IsDuplicateKeyError(err) {
			return nil, unavailable(err)
		}
		var held lockDoc
		err = r.locks.FindOne(ctx, bson.D{{Key: "_id", Value: owner}}).Decode(&held)
		if err == nil && time.Now().After(held.Until) {
			// Its holder died: take it over (only that lease, by its token).
			_, _ = r.locks.DeleteOne(ctx, bson.D{{Key: "_id", Value: owner}, {Key: "token", Value: held.Token}})
			continue
		} else if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, unavailable(err)
		}
		pause := time.NewTimer(saveBackoff(min(attempt, 8)))
		select {
		case <-pause.C:
		case <-ctx.Done():
			pause.Stop()
			return nil, domain.Wrap(domain.EUNAVAILABLE, ctx.Err(), "Your drawings or profile are being saved concurrently; try again.")
		}
	}
}

// profileDoc is an owner's document in the profiles collection. The phone
// number and the review flag are left out when unset, so a profile without
// them is the document of the release before them, and a document it wrote
// reads as a profile without them.
type profileDoc struct {
	Owner            string    `bson:"_id"`
	NickName         string    `bson:"nickName"`
	AvatarURL        string    `bson:"avatarUrl"`
	Phone            *phoneDoc `bson:"phone,omitempty"`
	NickNameInReview bool      `bson:"nickNameInReview,omitempty"`
}

// phoneDoc is the phone number as getuserphonenumber named its parts.
type phoneDoc struct {
	PhoneNumber     string `bson:"phoneNumber"`
	PurePhoneNumber string `bson:"purePhoneNumber"`
	CountryCode     string `bson:"countryCode"`
}

// Profile implements ports.ProfileRepository.
func (r *Repository) Profile(ctx context.Context, owner string) (domain.Profile, error) {
	ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return domain.Profile{}, err
	}
	defer cancel()
	return r.readProfile(ctx, owner)
}

func (r *Repository) readProfile(ctx context.Context, owner string) (domain.Profile, error) {
	var d profileDoc
	err := r.profiles.FindOne(ctx, bson.D{{Key: "_id", Value: owner}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return domain.Profile{}, nil
	} else if err != nil {
		return domain.Profile{}, unavailable(err)
	}
	var phone domain.PhoneNumber
	if d.Phone != nil {
		phone = domain.PhoneNumber{PhoneNumber: d.Phone.PhoneNumber, PurePhoneNumber: d.Phone.PurePhoneNumber, CountryCode: d.Phone.CountryCode}
	}
	return domain.UnmarshalProfileFromStorage(d.NickName, d.AvatarURL, phone, d.NickNameInReview), nil
}

// UpdateProfile implements ports.ProfileRepository: under the owner's
// lease, read, let update decide, and replace the document (created if
// none). Nothing else writes it meanwhile, so no update is lost, on
// MongoDB or on FerretDB.
func (r *Repository) UpdateProfile(ctx context.Context, owner string, update func(domain.Profile) (domain.Profile, error)) (domain.Profile, error) {
	ctx, cancel, err := r.begin(ctx)
	if err != nil {
		return domain.Profile{}, err
	}
	defer cancel()
	unlock, err := r.lockOwner(ctx, owner)
	if err != nil {
		return domain.Profile{}, err
	}
	defer unlock()
	cur, err := r.readProfile(ctx, owner)
	if err != nil {
		return domain.Profile{}, err
	}
	next, err := update(cur)
	if err != nil {
		return domain.Profile{}, err
	}
	doc := profileDoc{Owner: owner, NickName: next.NickName(), AvatarURL: next.AvatarURL(), NickNameInReview: next.NickNameInReview()}
	if n := next.PhoneNumber(); n != (domain.PhoneNumber{}) {
		doc.Phone = &phoneDoc{PhoneNumber: n.PhoneNumber, PurePhoneNumber: n.PurePhoneNumber, CountryCode: n.CountryCode}
	}
	if _, err := r.profiles.ReplaceOne(ctx, bson.D{{Key: "_id", Value: owner}}, doc, options.Replace().SetUpsert(true)); err != nil {
		return domain.Profile{}, unavailable(err) // the outcome is unknown
	}
	return next, nil
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
	dr, err := domain.UnmarshalDrawingFromStorage(domain.StoredDrawing{Owner: d.OpenID, ID: d.DrawingID,
		Actions: domain.ActionsFromStorage(d.Actions), Title: d.Title, TitleInReview: d.TitleInReview,
		Revision: uint64(d.Revision), CreatedAt: created, UpdatedAt: updated})
	if err != nil {
		return nil, fmt.Errorf("drawing document %v: %w", d.ID, err)
	}
	return dr, nil
}
