// Package boltstore is the embedded default drawing repository: one bbolt
// file under the data directory that survives restarts. Every save is
// fsynced before it is acknowledged.
package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.DrawingRepository = (*Repository)(nil)

// FileName is the store's file inside the data directory.
const FileName = "drawings.db"

// Layout: owners/<openId>/byId/<id> → record, and
// owners/<openId>/byTime/<inverted updatedAt><id> → empty, so that a forward
// cursor over byTime yields the most recently saved first and List reads only
// the rows it returns.
var (
	bucketOwners = []byte("owners")
	bucketByID   = []byte("byId")
	bucketByTime = []byte("byTime")
)

const recordVersion = 1

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
func (r *Repository) Save(ctx context.Context, owner, id string, update func(*domain.Drawing) (*domain.Drawing, error)) error {
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
		var current *domain.Drawing
		var oldTimeKey []byte // taken now: update may change current's time
		if v := byID.Get([]byte(id)); v != nil {
			if current, err = decode(owner, id, v); err != nil {
				return err
			}
			oldTimeKey = timeKey(current)
		}
		next, err := update(current)
		if err != nil {
			updateErr = err
			return err
		}
		if next.Owner() != owner || next.ID() != id {
			updateErr = domain.Errorf(domain.EINTERNAL, "A save may not change a drawing's owner or id.")
			return updateErr
		}
		if oldTimeKey != nil {
			if err := byTime.Delete(oldTimeKey); err != nil {
				return err
			}
		}
		if err := byID.Put([]byte(id), encode(next)); err != nil {
			return err
		}
		return byTime.Put(timeKey(next), nil)
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
	if err := ctx.Err(); err != nil {
		return nil, domain.Wrap(domain.EUNAVAILABLE, err, "Listing was cancelled.")
	}
	out := []*domain.Drawing{}
	err := r.db.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOwners).Bucket([]byte(owner))
		if ob == nil {
			return nil
		}
		byID, byTime := ob.Bucket(bucketByID), ob.Bucket(bucketByTime)
		c := byTime.Cursor()
		for k, _ := c.First(); k != nil && len(out) < limit; k, _ = c.Next() {
			id := string(k[8:])
			v := byID.Get(k[8:])
			if v == nil {
				return fmt.Errorf("index entry without drawing %q", id)
			}
			d, err := decode(owner, id, v)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, domain.Wrap(domain.EUNAVAILABLE, err, "The drawing store could not list.")
	}
	return out, nil
}

// Delete implements ports.DrawingRepository.
func (r *Repository) Delete(ctx context.Context, owner, id string) error {
	if err := ctx.Err(); err != nil {
		return domain.Wrap(domain.EUNAVAILABLE, err, "Deleting was cancelled.")
	}
	notFound := domain.Errorf(domain.ENOTFOUND, "You have no drawing with id %q.", id)
	var missing bool
	err := r.db.Batch(func(tx *bolt.Tx) error {
		missing = false
		ob := tx.Bucket(bucketOwners).Bucket([]byte(owner))
		if ob == nil {
			missing = true
			return nil
		}
		byID, byTime := ob.Bucket(bucketByID), ob.Bucket(bucketByTime)
		v := byID.Get([]byte(id))
		if v == nil {
			missing = true
			return nil
		}
		d, err := decode(owner, id, v)
		if err != nil {
			return err
		}
		if err := byTime.Delete(timeKey(d)); err != nil {
			return err
		}
		return byID.Delete([]byte(id))
	})
	if err != nil {
		return domain.Wrap(domain.EUNAVAILABLE, err, "The drawing store could not delete.")
	}
	if missing {
		return notFound
	}
	return nil
}

// timeKey orders by updatedAt descending, then id ascending.
func timeKey(d *domain.Drawing) []byte {
	k := make([]byte, 8, 8+len(d.ID()))
	binary.BigEndian.PutUint64(k, uint64(math.MaxInt64-d.UpdatedAt().UnixNano()))
	return append(k, d.ID()...)
}

// A record is: version byte, createdAt and updatedAt as Unix nanoseconds,
// then the actions text.
func encode(d *domain.Drawing) []byte {
	b := make([]byte, 17, 17+len(d.Actions()))
	b[0] = recordVersion
	binary.BigEndian.PutUint64(b[1:], uint64(d.CreatedAt().UnixNano()))
	binary.BigEndian.PutUint64(b[9:], uint64(d.UpdatedAt().UnixNano()))
	return append(b, d.Actions()...)
}

func decode(owner, id string, v []byte) (*domain.Drawing, error) {
	if len(v) < 17 || v[0] != recordVersion {
		return nil, fmt.Errorf("drawing %q has an unknown record format", id)
	}
	created := time.Unix(0, int64(binary.BigEndian.Uint64(v[1:])))
	updated := time.Unix(0, int64(binary.BigEndian.Uint64(v[9:])))
	return domain.UnmarshalDrawingFromStorage(owner, id, string(v[17:]), created, updated)
}
