// Package boltstore is the embedded default drawing and profile repository:
// one bbolt file under the data directory that survives restarts. Every
// save is fsynced before it is acknowledged.
package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var (
	_ ports.DrawingRepository = (*Repository)(nil)
	_ ports.ProfileRepository = (*Repository)(nil)
)

// FileName is the store's file inside the data directory.
const FileName = "drawings.db"

// Layout: owners/<openId>/usage → the owner's usage (drawings, bytes of
// actions text) for the quota, kept in the transaction of every save and
// delete; a file written before it has none, and the first save or delete
// of each owner computes it once from the drawings.
// owners/<openId>/profile → the owner's profile (see encodeProfile); an
// owner without one (every file written before it) has the zero profile.
// An owner's bucket may then hold a profile and no drawing buckets.
// owners/<openId>/byTime/<inverted updatedAt><id> → record, so that
// a forward cursor over byTime yields the most recently saved drawings first,
// whole: a list page is one cursor walk that reads only the rows it returns.
// owners/<openId>/byId/<id> → a pointer (pointerVersion, updatedAt) to the
// drawing's byTime key.
//
// owners/<openId>/byCreated/<createdAt desc><id desc> → the drawing's
// summary (see encodeSummary), the index of the v2 pages (PROTOCOL §7): a
// page is one seek and a forward walk over the rows it returns and one
// more, and never reads a record. It is kept in the transaction of every
// save and delete. A file written before it has no byCreated bucket for an
// owner: the owner's first save, delete or page builds it once from the
// drawings (as the usage is computed), and from then on its existence says
// it is complete.
//
// Files written before version 0.2 keep the record in byId (record version
// 1 or 2) and nothing in byTime's value; both layouts are read, row by row,
// and a save rewrites its drawing in the current one (record version 4,
// with the title and the revision). A file this version wrote is not read
// by an earlier one (record version 4 is unknown to it): roll back with the
// file's backup.
var (
	keyUsage        = []byte("usage")
	keyProfile      = []byte("profile")
	bucketOwners    = []byte("owners")
	bucketByID      = []byte("byId")
	bucketByTime    = []byte("byTime")
	bucketByCreated = []byte("byCreated")
)

// Record versions: 1 kept the actions text; 2 its JSON string form, which
// a list copies into the answer as it is; 4 adds the revision and the
// title. All are read. pointerVersion marks a byId value that points into
// byTime.
const (
	recordV1       = 1
	recordV2       = 2
	pointerVersion = 3
	recordVersion  = 4
	recordHeader   = 17 // of versions 1 and 2; version 4 has more (see encode)
)

// Repository stores drawings in a bbolt file.
type Repository struct {
	db *bolt.DB
}

// Open opens (creating if needed) the store in dir. It fails within a few
// seconds, with a clear error, when another process holds the file.
func Open(dir string) (*Repository, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 3 * time.Second, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: the file is locked by another process (is another onestroke running on this data directory?)", path)
	} else if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketOwners)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("initialise %s: %w", path, err)
	}
	// A lone save waits at most this long for company before committing;
	// under load, saves that arrive during a commit's fsync form the next batch.
	db.MaxBatchDelay = 2 * time.Millisecond
	return &Repository{db: db}, nil
}

// Close closes the file.
func (r *Repository) Close() error { return r.db.Close() }

// Ping reports whether the store answers; for readiness.
func (r *Repository) Ping(ctx context.Context) error {
	return r.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketOwners) == nil {
			return errors.New("owners bucket missing")
		}
		return nil
	})
}

// Save implements ports.DrawingRepository.
func (r *Repository) Save(ctx context.Context, owner, id string, quota domain.Quota, update func(*domain.Drawing) (*domain.Drawing, error)) error {
	if err := ctx.Err(); err != nil {
		return domain.Wrap(domain.EUNAVAILABLE, err, "Saving was cancelled.")
	}
	var updateErr error
	// Batch lets concurrent saves share one transaction and one fsync; each
	// still returns only once its write is durable. A batch may run this
	// function again (alone) when another one in it failed, so it keeps no
	// state across runs but updateErr, which every run sets afresh.
	err := r.db.Batch(func(tx *bolt.Tx) error {
		updateErr = nil
		ob, err := tx.Bucket(bucketOwners).CreateBucketIfNotExists([]byte(owner))
		if err != nil {
			return err
		}
		byID, err := ob.CreateBucketIfNotExists(bucketByID)
		if err != nil {
			return err
		}
		byTime, err := ob.CreateBucketIfNotExists(bucketByTime)
		if err != nil {
			return err
		}
		byCreated, err := ensureIndex(owner, ob, byID, byTime)
		if err != nil {
			return err
		}
		var current *domain.Drawing
		var oldTimeKey, oldCreatedKey []byte // taken now: update may change current's times
		if ptr := byID.Get([]byte(id)); ptr != nil {
			v, key, err := resolve(byTime, id, ptr)
			if err != nil {
				return err
			}
			if current, err = decode(owner, id, v); err != nil {
				return err
			}
			oldTimeKey, oldCreatedKey = key, createdKey(current.CreatedAt().UnixNano(), id)
		}
		before := current.Usage() // update may change current in place
		next, err := update(current)
		if err != nil {
			updateErr = err
			return err
		}
		if next.Owner() != owner || next.ID() != id {
			updateErr = domain.Errorf(domain.EINTERNAL, "A save may not change a drawing's owner or id.")
			return updateErr
		}
		// The quota is checked and the usage updated in this transaction:
		// batched saves of one owner run one after another, so it is exact.
		usage, err := loadUsage(ob, byID, byTime)
		if err != nil {
			return err
		}
		delta := next.Usage().Minus(before)
		if err := quota.Allow(usage, delta); err != nil {
			updateErr = err
			return err
		}
		if err := putUsage(ob, usage.Plus(delta)); err != nil {
			return err
		}
		if oldTimeKey != nil {
			if err := byTime.Delete(oldTimeKey); err != nil {
				return err
			}
			if err := byCreated.Delete(oldCreatedKey); err != nil {
				return err
			}
		}
		if err := byID.Put([]byte(id), pointer(next)); err != nil {
			return err
		}
		if err := byCreated.Put(createdKey(next.CreatedAt().UnixNano(), id), encodeSummary(next.Summary())); err != nil {
			return err
		}
		return byTime.Put(timeKey(next), encode(next))
	})
	if updateErr != nil {
		return updateErr
	}
	if err != nil {
		return domain.Wrap(domain.EUNAVAILABLE, err, "The drawing store could not save.")
	}
	return nil
}

// List implements ports.DrawingRepository.
func (r *Repository) List(ctx context.Context, owner string, limit int) ([]*domain.Drawing, error) {
	if limit < 1 {
		return nil, domain.Errorf(domain.EINVALID, "List limit must be at least 1.")
	}
	page, _, err := r.batch(ctx, owner, nil, limit, math.MaxInt)
	return page, err
}

// ListBatch implements ports.DrawingRepository. A position is the hex of
// the last drawing's byTime key: the next batch seeks past it, so a drawing
// saved meanwhile (a new key, in front) is not seen again and a deleted
// one (its key gone) is skipped.
func (r *Repository) ListBatch(ctx context.Context, owner, after string, limit, maxBytes int) ([]*domain.Drawing, string, error) {
	if limit < 1 || maxBytes < 1 {
		return nil, "", domain.Errorf(domain.EINVALID, "A list batch needs a limit and a byte bound of at least 1.")
	}
	var from []byte
	if after != "" {
		var err error
		if from, err = hex.DecodeString(after); err != nil || len(from) < 9 {
			return nil, "", domain.Errorf(domain.EINVALID, "Not a list position of this store.")
		}
	}
	page, last, err := r.batch(ctx, owner, from, limit, maxBytes)
	if err != nil || last == nil {
		return page, "", err
	}
	return page, hex.EncodeToString(last), nil
}

// batch copies out up to limit drawings after the byTime key from (nil:
// from the start) whose records add up to at most maxBytes (at least one),
// and returns the key of the last one when more follow it.
func (r *Repository) batch(ctx context.Context, owner string, from []byte, limit, maxBytes int) ([]*domain.Drawing, []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, domain.Wrap(domain.EUNAVAILABLE, err, "Listing was cancelled.")
	}
	out := []*domain.Drawing{}
	var last []byte
	err := r.db.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOwners).Bucket([]byte(owner))
		if ob == nil {
			return nil
		}
		byID, byTime := ob.Bucket(bucketByID), ob.Bucket(bucketByTime)
		if byID == nil || byTime == nil { // an owner with a profile and no drawing yet
			return nil
		}
		// The batch is read in two cursor walks (a walk is cheap): the
		// first sizes it, the second copies its ids and records out of the
		// transaction into one string. The drawings are made in one slice
		// too: a batch costs a handful of allocations, not two per drawing.
		n, actions, size, more := 0, 0, 0, false
		err := walk(byTime, byID, from, func(key, id, rec []byte) bool {
			if n == limit || (n > 0 && actions+actionsLen(rec) > maxBytes) {
				more = true
				return false
			}
			n, actions, size = n+1, actions+actionsLen(rec), size+len(id)+len(rec)
			last = key
			return true
		})
		if err != nil || n == 0 {
			return err
		}
		if more {
			last = append([]byte(nil), last...) // valid only in the transaction
		} else {
			last = nil
		}
		var arena strings.Builder
		arena.Grow(size)
		ends := make([]int, 0, 2*n) // where each id, then each record, ends in the arena
		k := 0
		_ = walk(byTime, byID, from, func(_, id, rec []byte) bool {
			arena.Write(id)
			ends = append(ends, arena.Len())
			arena.Write(rec)
			ends = append(ends, arena.Len())
			k++
			return k < n
		})
		all := arena.String()
		page := make([]domain.Drawing, len(ends)/2)
		out = make([]*domain.Drawing, len(page))
		start := 0
		for k := range page {
			idEnd, recEnd := ends[2*k], ends[2*k+1]
			if err := restore(&page[k], owner, all[start:idEnd], all[idEnd:recEnd]); err != nil {
				return err
			}
			out[k] = &page[k]
			start = recEnd
		}
		return nil
	})
	if err != nil {
		return nil, nil, domain.Wrap(domain.EUNAVAILABLE, err, "The drawing store could not list.")
	}
	return out, last, nil
}

// Get implements ports.DrawingRepository.
func (r *Repository) Get(ctx context.Context, owner, id string) (*domain.Drawing, error) {
	if err := ctx.Err(); err != nil {
		return nil, domain.Wrap(domain.EUNAVAILABLE, err, "Reading the drawing was cancelled.")
	}
	var d *domain.Drawing
	err := r.db.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOwners).Bucket([]byte(owner))
		if ob == nil {
			return nil
		}
		byID, byTime := ob.Bucket(bucketByID), ob.Bucket(bucketByTime)
		if byID == nil || byTime == nil {
			return nil
		}
		ptr := byID.Get([]byte(id))
		if ptr == nil {
			return nil
		}
		rec, _, err := resolve(byTime, id, ptr)
		if err != nil {
			return err
		}
		d, err = decode(owner, id, rec)
		return err
	})
	if err != nil {
		return nil, domain.Wrap(domain.EUNAVAILABLE, err, "The drawing store could not read.")
	}
	if d == nil {
		return nil, domain.Errorf(domain.ENOTFOUND, "You have no drawing with id %q.", id)
	}
	return d, nil
}

// Page implements ports.DrawingRepository: one seek in the owner's
// byCreated index and a walk over the rows it returns and one more; no
// record is read. An owner whose index a file written before it lacks
// gets it built first, once (a write transaction).
func (r *Repository) Page(ctx context.Context, owner, cursor string, limit int) ([]domain.DrawingSummary, string, error) {
	if limit < 1 {
		return nil, "", domain.Errorf(domain.EINVALID, "A page needs a limit of at least 1.")
	}
	var from []byte
	if cursor != "" {
		p, err := domain.ParsePageCursor(owner, cursor)
		if err != nil {
			return nil, "", err
		}
		if p.Undated { // this store dates every drawing
			return nil, "", domain.Errorf(domain.EINVALID, "cursor is not one this server gave for your drawings; start again without it.")
		}
		from = createdKey(p.CreatedAt, p.ID)
	}
	for range 2 {
		if err := ctx.Err(); err != nil {
			return nil, "", domain.Wrap(domain.EUNAVAILABLE, err, "Listing was cancelled.")
		}
		items, next, build, err := r.page(owner, from, limit)
		if err != nil {
			return nil, "", domain.Wrap(domain.EUNAVAILABLE, err, "The drawing store could not list.")
		}
		if !build {
			return items, next, nil
		}
		if err := r.db.Update(func(tx *bolt.Tx) error {
			ob := tx.Bucket(bucketOwners).Bucket([]byte(owner))
			byID, byTime := ob.Bucket(bucketByID), ob.Bucket(bucketByTime)
			if byID == nil || byTime == nil {
				return nil
			}
			_, err := ensureIndex(owner, ob, byID, byTime)
			return err
		}); err != nil {
			return nil, "", domain.Wrap(domain.EUNAVAILABLE, err, "The drawing store could not index the drawings.")
		}
	}
	return nil, "", domain.Errorf(domain.EUNAVAILABLE, "The drawing store could not index the drawings.")
}

// page reads a page from the owner's index, or reports that the index
// must be built first.
func (r *Repository) page(owner string, from []byte, limit int) (items []domain.DrawingSummary, next string, build bool, err error) {
	items = []domain.DrawingSummary{}
	err = r.db.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOwners).Bucket([]byte(owner))
		if ob == nil {
			return nil
		}
		byCreated := ob.Bucket(bucketByCreated)
		if byCreated == nil {
			build = ob.Bucket(bucketByID) != nil // an owner with only a profile has nothing to index
			return nil
		}
		c := byCreated.Cursor()
		k, v := c.First()
		if from != nil {
			if k, v = c.Seek(from); k != nil && string(k) == string(from) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(items) < limit; k, v = c.Next() {
			s, err := decodeSummary(k, v)
			if err != nil {
				return err
			}
			items = append(items, s)
		}
		if k != nil {
			last := items[len(items)-1]
			next = domain.PagePosition{CreatedAt: last.CreatedAt.UnixNano(), ID: last.ID}.Cursor(owner)
		}
		return nil
	})
	return items, next, build, err
}

// Delete implements ports.DrawingRepository: the precondition is checked
// against the stored drawing in the delete's own transaction.
func (r *Repository) Delete(ctx context.Context, owner, id string, pre domain.Precondition) error {
	if err := ctx.Err(); err != nil {
		return domain.Wrap(domain.EUNAVAILABLE, err, "Deleting was cancelled.")
	}
	var refused error // set afresh by every run of the function (see Save)
	err := r.db.Batch(func(tx *bolt.Tx) error {
		refused = nil
		missing := func() error {
			if refused = pre.Check(""); refused == nil {
				refused = domain.Errorf(domain.ENOTFOUND, "You have no drawing with id %q.", id)
			}
			return nil
		}
		ob := tx.Bucket(bucketOwners).Bucket([]byte(owner))
		if ob == nil {
			return missing()
		}
		byID, byTime := ob.Bucket(bucketByID), ob.Bucket(bucketByTime)
		if byID == nil || byTime == nil { // an owner with a profile and no drawing yet
			return missing()
		}
		ptr := byID.Get([]byte(id))
		if ptr == nil {
			return missing()
		}
		rec, key, err := resolve(byTime, id, ptr)
		if err != nil {
			return err
		}
		d, err := decode(owner, id, rec)
		if err != nil {
			return err
		}
		if refused = pre.Check(d.ETag()); refused != nil {
			return nil
		}
		byCreated, err := ensureIndex(owner, ob, byID, byTime)
		if err != nil {
			return err
		}
		usage, err := loadUsage(ob, byID, byTime)
		if err != nil {
			return err
		}
		if err := putUsage(ob, usage.Minus(d.Usage())); err != nil {
			return err
		}
		if err := byCreated.Delete(createdKey(d.CreatedAt().UnixNano(), id)); err != nil {
			return err
		}
		if err := byTime.Delete(key); err != nil {
			return err
		}
		return byID.Delete([]byte(id))
	})
	if err != nil {
		return domain.Wrap(domain.EUNAVAILABLE, err, "The drawing store could not delete.")
	}
	return refused
}

// Profile implements ports.ProfileRepository.
func (r *Repository) Profile(ctx context.Context, owner string) (domain.Profile, error) {
	if err := ctx.Err(); err != nil {
		return domain.Profile{}, domain.Wrap(domain.EUNAVAILABLE, err, "Reading the profile was cancelled.")
	}
	var p domain.Profile
	err := r.db.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOwners).Bucket([]byte(owner))
		if ob == nil {
			return nil
		}
		var err error
		p, err = decodeProfile(ob.Get(keyProfile))
		return err
	})
	if err != nil {
		return domain.Profile{}, domain.Wrap(domain.EUNAVAILABLE, err, "The profile store could not read.")
	}
	return p, nil
}

// UpdateProfile implements ports.ProfileRepository: read, update and write
// in one bbolt transaction (writers run one at a time), so that concurrent
// updates of one owner follow one another. Not Batch: a batch may run its
// function twice, and profile updates are too rare to gain from sharing an
// fsync.
func (r *Repository) UpdateProfile(ctx context.Context, owner string, update func(domain.Profile) (domain.Profile, error)) (domain.Profile, error) {
	if err := ctx.Err(); err != nil {
		return domain.Profile{}, domain.Wrap(domain.EUNAVAILABLE, err, "Saving the profile was cancelled.")
	}
	var next domain.Profile
	var updateErr error
	err := r.db.Update(func(tx *bolt.Tx) error {
		ob, err := tx.Bucket(bucketOwners).CreateBucketIfNotExists([]byte(owner))
		if err != nil {
			return err
		}
		cur, err := decodeProfile(ob.Get(keyProfile))
		if err != nil {
			return err
		}
		if next, updateErr = update(cur); updateErr != nil {
			return updateErr // rolls back the owner's bucket too, if it was new
		}
		return ob.Put(keyProfile, encodeProfile(next))
	})
	if updateErr != nil {
		return domain.Profile{}, updateErr
	}
	if err != nil {
		return domain.Profile{}, domain.Wrap(domain.EUNAVAILABLE, err, "The profile store could not save.")
	}
	return next, nil
}

// Profile record versions. Version 1 (nickName and avatarUrl) is still
// written for a profile without a phone number or a review flag, so that
// a file stays readable by the release before them (a rollback) for every
// user who set neither.
const (
	profileV1 = 1
	profileV2 = 2
)

// A version 1 profile record is: the version byte, the nickName's length
// as a uvarint, the nickName, then the avatarUrl: the bytes as they were
// set. Version 2 is: the version byte, then nickName, avatarUrl,
// phoneNumber, purePhoneNumber and countryCode, each as its length (a
// uvarint) and its bytes, then a flags byte (bit 0: the nickName awaits
// review).
func encodeProfile(p domain.Profile) []byte {
	phone := p.PhoneNumber()
	if phone == (domain.PhoneNumber{}) && !p.NickNameInReview() {
		b := make([]byte, 1, 1+binary.MaxVarintLen64+len(p.NickName())+len(p.AvatarURL()))
		b[0] = profileV1
		b = binary.AppendUvarint(b, uint64(len(p.NickName())))
		b = append(b, p.NickName()...)
		return append(b, p.AvatarURL()...)
	}
	fields := [...]string{p.NickName(), p.AvatarURL(), phone.PhoneNumber, phone.PurePhoneNumber, phone.CountryCode}
	size := 2
	for _, f := range fields {
		size += binary.MaxVarintLen64 + len(f)
	}
	b := append(make([]byte, 0, size), profileV2)
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	var flags byte
	if p.NickNameInReview() {
		flags |= 1
	}
	return append(b, flags)
}

// decodeProfile copies a profile record out of its transaction; no record
// is the zero profile.
func decodeProfile(v []byte) (domain.Profile, error) {
	if v == nil {
		return domain.Profile{}, nil
	}
	bad := fmt.Errorf("the owner's profile record has an unknown format")
	if len(v) < 2 {
		return domain.Profile{}, bad
	}
	switch v[0] {
	case profileV1:
		n, k := binary.Uvarint(v[1:])
		if k <= 0 || n > uint64(len(v)-1-k) {
			return domain.Profile{}, bad
		}
		rest := v[1+k:]
		return domain.UnmarshalProfileFromStorage(string(rest[:n]), string(rest[n:]), domain.PhoneNumber{}, false), nil
	case profileV2:
		rest := v[1:]
		var fields [5]string
		for i := range fields {
			n, k := binary.Uvarint(rest)
			if k <= 0 || n > uint64(len(rest)-k) {
				return domain.Profile{}, bad
			}
			fields[i] = string(rest[k : k+int(n)])
			rest = rest[k+int(n):]
		}
		if len(rest) != 1 || rest[0]&^1 != 0 {
			return domain.Profile{}, bad
		}
		phone := domain.PhoneNumber{PhoneNumber: fields[2], PurePhoneNumber: fields[3], CountryCode: fields[4]}
		return domain.UnmarshalProfileFromStorage(fields[0], fields[1], phone, rest[0]&1 != 0), nil
	}
	return domain.Profile{}, bad
}

// timeKey orders by updatedAt descending, then id ascending.
func timeKey(d *domain.Drawing) []byte { return timeKeyAt(d.UpdatedAt().UnixNano(), d.ID()) }

func timeKeyAt(updatedAt int64, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(math.MaxInt64-updatedAt))
	return append(k, id...)
}

// pointer is the byId value of d: where its record is in byTime.
func pointer(d *domain.Drawing) []byte {
	p := make([]byte, 9)
	p[0] = pointerVersion
	binary.BigEndian.PutUint64(p[1:], uint64(d.UpdatedAt().UnixNano()))
	return p
}

// resolve follows the byId value of id to the drawing's record and its
// byTime key, in either layout.
func resolve(byTime *bolt.Bucket, id string, ptr []byte) (rec, key []byte, err error) {
	if len(ptr) == 9 && ptr[0] == pointerVersion {
		key = timeKeyAt(int64(binary.BigEndian.Uint64(ptr[1:])), id)
		if rec = byTime.Get(key); len(rec) == 0 {
			return nil, nil, fmt.Errorf("drawing %q points to a missing record", id)
		}
		return rec, key, nil
	}
	// The layout before 0.2: the record itself; its byTime row is empty.
	if len(ptr) < recordHeader {
		return nil, nil, fmt.Errorf("drawing %q has an unknown record format", id)
	}
	return ptr, timeKeyAt(int64(binary.BigEndian.Uint64(ptr[9:])), id), nil
}

// A record is: the version byte, createdAt and updatedAt as Unix
// nanoseconds, then (version 4) the revision (8 bytes), a flags byte (bit
// 0: the title awaits review), the title's length (2 bytes) and the title,
// then the actions as a JSON string (version 1: the actions text).
const recordV4Fixed = recordHeader + 8 + 1 + 2

func encode(d *domain.Drawing) []byte {
	size := d.Actions().Len()
	b := make([]byte, recordV4Fixed, recordV4Fixed+len(d.Title())+size+size/4+2) // room for the usual share of escapes
	b[0] = recordVersion
	binary.BigEndian.PutUint64(b[1:], uint64(d.CreatedAt().UnixNano()))
	binary.BigEndian.PutUint64(b[9:], uint64(d.UpdatedAt().UnixNano()))
	binary.BigEndian.PutUint64(b[17:], d.Revision())
	if d.TitleInReview() {
		b[25] = 1
	}
	binary.BigEndian.PutUint16(b[26:], uint16(len(d.Title()))) // at most 64 characters: 256 bytes
	b = append(b, d.Title()...)
	return d.Actions().AppendQuoted(b)
}

// actionsAt returns where a record's actions begin, or false for a record
// of no known format.
func actionsAt[S ~string | ~[]byte](rec S) (int, bool) {
	if len(rec) == 0 {
		return 0, false
	}
	switch rec[0] {
	case recordV1, recordV2:
		return recordHeader, len(rec) >= recordHeader
	case recordVersion:
		if len(rec) < recordV4Fixed {
			return 0, false
		}
		at := recordV4Fixed + (int(rec[26])<<8 | int(rec[27]))
		return at, len(rec) >= at
	}
	return 0, false
}

// actionsLen is the length of a record's actions as stored; a record of no
// known format counts whole (reading it then fails).
func actionsLen(rec []byte) int {
	at, ok := actionsAt(rec)
	if !ok {
		return len(rec)
	}
	return len(rec) - at
}

// decode copies a record out of a transaction.
func decode(owner, id string, v []byte) (*domain.Drawing, error) {
	d := new(domain.Drawing)
	if err := restore(d, owner, id, string(v)); err != nil {
		return nil, err
	}
	return d, nil
}

// restore rebuilds into the zero drawing d a record already copied out of
// its transaction; d shares rec's memory. A record before version 4 has no
// title and no revision: its revision is derived from its actions.
func restore(d *domain.Drawing, owner, id, rec string) error {
	at, ok := actionsAt(rec)
	if !ok {
		return fmt.Errorf("drawing %q has an unknown record format", id)
	}
	s := domain.StoredDrawing{Owner: owner, ID: id,
		CreatedAt: time.Unix(0, int64(binary.BigEndian.Uint64([]byte(rec[1:9])))),
		UpdatedAt: time.Unix(0, int64(binary.BigEndian.Uint64([]byte(rec[9:17])))),
	}
	if rec[0] == recordV1 {
		s.Actions = domain.ActionsFromStorage(rec[at:])
	} else {
		var err error
		if s.Actions, err = domain.ActionsFromStorageQuoted(rec[at:]); err != nil {
			return fmt.Errorf("drawing %q: %w", id, err)
		}
	}
	if rec[0] == recordVersion {
		s.Revision = binary.BigEndian.Uint64([]byte(rec[17:25]))
		s.TitleInReview = rec[25]&1 != 0
		s.Title = rec[recordV4Fixed:at]
	}
	return d.RestoreFromStorage(s)
}

// createdKey orders the byCreated index: createdAt descending (the sign
// bit flipped, then every bit, so that any int64 sorts), then id
// descending (each byte inverted, then 0xff, which no inverted id byte is:
// a shorter id sorts after the longer ones it begins).
func createdKey(createdAt int64, id string) []byte {
	k := make([]byte, 8, 8+len(id)+1)
	binary.BigEndian.PutUint64(k, ^(uint64(createdAt) ^ 1<<63))
	for i := 0; i < len(id); i++ {
		k = append(k, ^id[i])
	}
	return append(k, 0xff)
}

// createdKeyParts reads a byCreated key back.
func createdKeyParts(k []byte) (createdAt int64, id string, err error) {
	if len(k) < 10 || k[len(k)-1] != 0xff {
		return 0, "", fmt.Errorf("malformed created index key %x", k)
	}
	b := make([]byte, len(k)-9)
	for i := range b {
		b[i] = ^k[8+i]
	}
	return int64(^binary.BigEndian.Uint64(k) ^ 1<<63), string(b), nil
}

// A summary (the byCreated value) is: a version byte, updatedAt as Unix
// nanoseconds, the actions text's length, the revision (8 bytes each), a
// flags byte (bit 0: the title awaits review), then the title.
const (
	summaryVersion = 1
	summaryFixed   = 1 + 8 + 8 + 8 + 1
)

func encodeSummary(s domain.DrawingSummary) []byte {
	b := make([]byte, summaryFixed, summaryFixed+len(s.Title))
	b[0] = summaryVersion
	binary.BigEndian.PutUint64(b[1:], uint64(s.UpdatedAt.UnixNano()))
	binary.BigEndian.PutUint64(b[9:], uint64(s.Bytes))
	binary.BigEndian.PutUint64(b[17:], s.Revision)
	if s.TitleInReview {
		b[25] = 1
	}
	return append(b, s.Title...)
}

// decodeSummary copies a byCreated row out of its transaction.
func decodeSummary(k, v []byte) (domain.DrawingSummary, error) {
	created, id, err := createdKeyParts(k)
	if err != nil {
		return domain.DrawingSummary{}, err
	}
	if len(v) < summaryFixed || v[0] != summaryVersion || v[25]&^1 != 0 {
		return domain.DrawingSummary{}, fmt.Errorf("drawing %q has a summary of an unknown format", id)
	}
	return domain.DrawingSummary{
		ID: id, Title: string(v[summaryFixed:]), TitleInReview: v[25] == 1,
		CreatedAt: time.Unix(0, created).UTC(), UpdatedAt: time.Unix(0, int64(binary.BigEndian.Uint64(v[1:]))).UTC(),
		Bytes: int64(binary.BigEndian.Uint64(v[9:])), Revision: binary.BigEndian.Uint64(v[17:]),
	}, nil
}

// ensureIndex returns the owner's byCreated bucket, building it from the
// owner's drawings when the owner has none (a file written before it).
// The caller's write transaction stores it with its change.
func ensureIndex(owner string, ob, byID, byTime *bolt.Bucket) (*bolt.Bucket, error) {
	if b := ob.Bucket(bucketByCreated); b != nil {
		return b, nil
	}
	byCreated, err := ob.CreateBucket(bucketByCreated)
	if err != nil {
		return nil, err
	}
	err = byID.ForEach(func(id, ptr []byte) error {
		rec, _, err := resolve(byTime, string(id), ptr)
		if err != nil {
			return err
		}
		d, err := decode(owner, string(id), rec)
		if err != nil {
			return err
		}
		return byCreated.Put(createdKey(d.CreatedAt().UnixNano(), d.ID()), encodeSummary(d.Summary()))
	})
	return byCreated, err
}

// walk calls fn with the byTime key, id and record of each of an owner's
// drawings after the key from (nil: from the first), most recently saved
// first, in either layout, until fn returns false. All three are valid only
// during the call's transaction.
func walk(byTime, byID *bolt.Bucket, from []byte, fn func(key, id, rec []byte) bool) error {
	c := byTime.Cursor()
	k, v := c.First()
	if from != nil {
		if k, v = c.Seek(from); k != nil && string(k) == string(from) {
			k, v = c.Next()
		}
	}
	for ; k != nil; k, v = c.Next() {
		if len(k) < 8 {
			return fmt.Errorf("malformed time index key %q", k)
		}
		if len(v) == 0 { // a row of the layout before 0.2
			if v = byID.Get(k[8:]); v == nil {
				return fmt.Errorf("index entry without drawing %q", k[8:])
			}
		}
		if !fn(k, k[8:], v) {
			return nil
		}
	}
	return nil
}

// loadUsage reads the owner's usage record, or computes it from the
// drawings when the file predates it (the caller's transaction then stores
// it with the change).
func loadUsage(ob, byID, byTime *bolt.Bucket) (domain.Usage, error) {
	if v := ob.Get(keyUsage); v != nil {
		if len(v) != 17 || v[0] != usageVersion {
			return domain.Usage{}, fmt.Errorf("the owner's usage record has an unknown format")
		}
		return domain.Usage{Drawings: int64(binary.BigEndian.Uint64(v[1:])), Bytes: int64(binary.BigEndian.Uint64(v[9:]))}, nil
	}
	var u domain.Usage
	err := byID.ForEach(func(id, ptr []byte) error {
		rec, _, err := resolve(byTime, string(id), ptr)
		if err != nil {
			return err
		}
		size, err := recordSize(string(id), rec)
		u = u.Plus(domain.Usage{Drawings: 1, Bytes: size})
		return err
	})
	return u, err
}

const usageVersion = 1

func putUsage(ob *bolt.Bucket, u domain.Usage) error {
	v := make([]byte, 17)
	v[0] = usageVersion
	binary.BigEndian.PutUint64(v[1:], uint64(u.Drawings))
	binary.BigEndian.PutUint64(v[9:], uint64(u.Bytes))
	return ob.Put(keyUsage, v)
}

// recordSize is the Size of a record's actions, what the bytes quota counts.
func recordSize(id string, rec []byte) (int64, error) {
	at, ok := actionsAt(rec)
	if !ok {
		return 0, fmt.Errorf("drawing %q has an unknown record format", id)
	}
	if rec[0] == recordV1 {
		return int64(len(rec) - at), nil
	}
	a, err := domain.ActionsFromStorageQuoted(string(rec[at:]))
	if err != nil {
		return 0, fmt.Errorf("drawing %q: %w", id, err)
	}
	return int64(a.Size()), nil
}
