package boltstore_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/onestroke/onestroke/adapters/boltstore"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/ports/porttest"
)

func open(t *testing.T, dir string) *boltstore.Repository {
	t.Helper()
	repo, err := boltstore.Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { repo.Close() })
	return repo
}

func TestDrawingRepositoryContract(t *testing.T) {
	porttest.TestDrawingRepository(t, func(t *testing.T) ports.DrawingRepository { return open(t, t.TempDir()) })
}

func TestRepository_DrawingsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	repo, err := boltstore.Open(dir)
	require.NoError(t, err)
	at := time.Date(2026, 11, 25, 8, 0, 0, 123456789, time.UTC)
	require.NoError(t, repo.Save(context.Background(), "oALICE", "d1", domain.Quota{}, func(*domain.Drawing) (*domain.Drawing, error) {
		return domain.NewDrawing("oALICE", "d1", porttest.Actions(t, `[1]`), at)
	}))
	require.NoError(t, repo.Close())

	got, err := open(t, dir).List(context.Background(), "oALICE", 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, `[1]`, got[0].Actions().Text())
	assert.True(t, at.Equal(got[0].CreatedAt()))
}

func TestOpen_SecondOpenOfALockedFileFailsClearly(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	_, err := boltstore.Open(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "locked by another process")
}

func TestRepository_PingAnswers(t *testing.T) {
	assert.NoError(t, open(t, t.TempDir()).Ping(context.Background()))
}

// writeOldLayout writes a file of the layout before 0.2 (version 1
// records in byId, empty byTime rows, no usage record) with the drawings
// old1 and old2 for oALICE and oBOB.
func writeOldLayout(t *testing.T, dir string, at time.Time) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, boltstore.FileName), 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		owners, err := tx.CreateBucketIfNotExists([]byte("owners"))
		require.NoError(t, err)
		for _, owner := range []string{"oALICE", "oBOB"} {
			ob, err := owners.CreateBucket([]byte(owner))
			require.NoError(t, err)
			byID, err := ob.CreateBucket([]byte("byId"))
			require.NoError(t, err)
			byTime, err := ob.CreateBucket([]byte("byTime"))
			require.NoError(t, err)
			for i, id := range []string{"old1", "old2"} {
				t := at.Add(time.Duration(i) * time.Minute)
				rec := make([]byte, 17)
				rec[0] = 1
				binary.BigEndian.PutUint64(rec[1:], uint64(t.UnixNano()))
				binary.BigEndian.PutUint64(rec[9:], uint64(t.UnixNano()))
				if err := byID.Put([]byte(id), append(rec, `["v1 \"text\"",`+fmt.Sprint(i)+`]`...)); err != nil {
					return err
				}
				key := make([]byte, 8)
				binary.BigEndian.PutUint64(key, uint64(math.MaxInt64-t.UnixNano()))
				if err := byTime.Put(append(key, id...), nil); err != nil {
					return err
				}
			}
		}
		return nil
	}))
	require.NoError(t, db.Close())
}

// A data file written before records kept the quoted actions (version 1:
// the actions text) is still read, listed, replaced and deleted.
func TestRepository_ReadsVersion1Records(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	writeOldLayout(t, dir, at)

	repo := open(t, dir)
	ctx := context.Background()
	got, err := repo.List(ctx, "oALICE", 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "old2", got[0].ID())
	assert.Equal(t, `["v1 \"text\"",1]`, got[0].Actions().Text())
	assert.Equal(t, `"[\"v1 \\\"text\\\"\",1]"`, got[0].Actions().Quoted())
	assert.True(t, at.Add(time.Minute).Equal(got[0].UpdatedAt()))

	require.NoError(t, repo.Save(ctx, "oALICE", "old1", domain.Quota{}, func(cur *domain.Drawing) (*domain.Drawing, error) {
		require.NotNil(t, cur)
		assert.Equal(t, `["v1 \"text\"",0]`, cur.Actions().Text())
		return cur, cur.ReplaceActions(porttest.Actions(t, `["v2"]`), at.Add(time.Hour))
	}))
	require.NoError(t, repo.Delete(ctx, "oALICE", "old2", domain.Precondition{}))
	got, err = repo.List(ctx, "oALICE", 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, `["v2"]`, got[0].Actions().Text())
	assert.True(t, at.Equal(got[0].CreatedAt()), "createdAt survives the rewrite")
}

// A file written before the usage record (here with drawings of both the
// layout before 0.2 and the current one) gets its usage computed once, from
// the drawings, by the first save or delete of each owner.
func TestRepository_FileWithoutUsageRecordsComputesTheUsageOnce(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	writeOldLayout(t, dir, at) // old1, old2: 17 bytes of text each
	repo := open(t, dir)
	ctx := context.Background()
	save := func(id, text string, q domain.Quota) error {
		return repo.Save(ctx, "oALICE", id, q, func(cur *domain.Drawing) (*domain.Drawing, error) {
			if cur == nil {
				return domain.NewDrawing("oALICE", id, porttest.Actions(t, text), at.Add(time.Hour))
			}
			return cur, cur.ReplaceActions(porttest.Actions(t, text), at.Add(time.Hour))
		})
	}
	count := domain.Quota{MaxDrawings: 3}
	require.NoError(t, save("new1", `[1]`, count))
	assert.Equal(t, domain.EQUOTA, domain.ErrorCode(save("new2", `[1]`, count)), "two old drawings + one new reach the count")
	bytes := domain.Quota{MaxBytes: 17 + 17 + 5}
	assert.Equal(t, domain.EQUOTA, domain.ErrorCode(save("new1", `[1,2,3]`, bytes)), "the old drawings' bytes are counted")
	require.NoError(t, save("new1", `[1,2]`, bytes))
	require.NoError(t, repo.Delete(ctx, "oALICE", "old2", domain.Precondition{}))
	require.NoError(t, save("new2", `["123456789012345"]`, domain.Quota{MaxDrawings: 3, MaxBytes: 17 + 5 + 19}), "the delete gave back its bytes")

	// Another owner's first operation is a delete: it too computes first.
	require.NoError(t, repo.Delete(ctx, "oBOB", "old1", domain.Precondition{}))
	err := repo.Save(ctx, "oBOB", "b2", domain.Quota{MaxDrawings: 1}, func(*domain.Drawing) (*domain.Drawing, error) {
		return domain.NewDrawing("oBOB", "b2", porttest.Actions(t, `[1]`), at)
	})
	assert.Equal(t, domain.EQUOTA, domain.ErrorCode(err), "bob keeps old2")
}

func TestProfileRepositoryContract(t *testing.T) {
	porttest.TestProfileRepository(t, func(t *testing.T) ports.ProfileRepository { return open(t, t.TempDir()) })
}

func nick(s string) domain.ProfileUpdate { return domain.ProfileUpdate{NickName: &s} }

// A file written before profiles reads every owner's profile as zero, and
// an owner's first profile sits beside the drawings without touching them.
func TestRepository_FileWithoutProfilesReadsZeroAndKeepsTheDrawings(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	writeOldLayout(t, dir, at)
	repo := open(t, dir)
	ctx := context.Background()
	p, err := repo.Profile(ctx, "oALICE")
	require.NoError(t, err)
	assert.True(t, p.IsZero())

	_, err = repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) { return cur.Apply(nick("小明")) })
	require.NoError(t, err)
	got, err := repo.List(ctx, "oALICE", 10)
	require.NoError(t, err)
	assert.Len(t, got, 2)
	err = repo.Save(ctx, "oALICE", "new", domain.Quota{MaxDrawings: 3, MaxBytes: 17 + 17 + 3}, func(*domain.Drawing) (*domain.Drawing, error) {
		return domain.NewDrawing("oALICE", "new", porttest.Actions(t, `[1]`), at)
	})
	require.NoError(t, err, "the profile is not counted as a drawing nor its bytes")
	p, err = repo.Profile(ctx, "oALICE")
	require.NoError(t, err)
	assert.Equal(t, "小明", p.NickName())
}

// An owner who set a profile before any drawing has a bucket without the
// drawings' buckets: listing, deleting and saving still work.
func TestRepository_OwnerWithAProfileAndNoDrawings(t *testing.T) {
	repo := open(t, t.TempDir())
	ctx := context.Background()
	_, err := repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) { return cur.Apply(nick("Alice")) })
	require.NoError(t, err)

	got, err := repo.List(ctx, "oALICE", 10)
	require.NoError(t, err)
	assert.Empty(t, got)
	page, after, err := repo.ListBatch(ctx, "oALICE", "", 10, 1<<20)
	require.NoError(t, err)
	assert.Empty(t, page)
	assert.Equal(t, "", after)
	assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(repo.Delete(ctx, "oALICE", "d1", domain.Precondition{})))

	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	require.NoError(t, repo.Save(ctx, "oALICE", "d1", domain.Quota{MaxDrawings: 1}, func(*domain.Drawing) (*domain.Drawing, error) {
		return domain.NewDrawing("oALICE", "d1", porttest.Actions(t, `[1]`), at)
	}))
	got, err = repo.List(ctx, "oALICE", 10)
	require.NoError(t, err)
	assert.Len(t, got, 1)
	require.NoError(t, repo.Delete(ctx, "oALICE", "d1", domain.Precondition{}))
	p, err := repo.Profile(ctx, "oALICE")
	require.NoError(t, err)
	assert.Equal(t, "Alice", p.NickName(), "deleting a drawing keeps the profile")
}

func TestRepository_ProfilesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	repo, err := boltstore.Open(dir)
	require.NoError(t, err)
	_, err = repo.UpdateProfile(context.Background(), "oALICE", func(cur domain.Profile) (domain.Profile, error) {
		return cur.Apply(domain.ProfileUpdate{NickName: text("一笔🎨"), AvatarURL: text("https://cdn.example.com/头像.png")})
	})
	require.NoError(t, err)
	require.NoError(t, repo.Close())

	p, err := open(t, dir).Profile(context.Background(), "oALICE")
	require.NoError(t, err)
	assert.Equal(t, "一笔🎨", p.NickName())
	assert.Equal(t, "https://cdn.example.com/头像.png", p.AvatarURL())
}

func text(s string) *string { return &s }

// A profile record of an unknown format is a store failure, not a profile.
func TestRepository_UnknownProfileRecordIsUnavailable(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, boltstore.FileName), 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		owners, err := tx.CreateBucketIfNotExists([]byte("owners"))
		require.NoError(t, err)
		for owner, rec := range map[string][]byte{"oV9": {9, 0}, "oSHORT": {1}, "oLONG": {1, 200, 1, 'a'}} {
			ob, err := owners.CreateBucket([]byte(owner))
			require.NoError(t, err)
			require.NoError(t, ob.Put([]byte("profile"), rec))
		}
		return nil
	}))
	require.NoError(t, db.Close())
	repo := open(t, dir)
	for _, owner := range []string{"oV9", "oSHORT", "oLONG"} {
		_, err := repo.Profile(context.Background(), owner)
		assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err), owner)
		_, err = repo.UpdateProfile(context.Background(), owner, func(cur domain.Profile) (domain.Profile, error) { return cur, nil })
		assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err), owner)
	}
}

// BenchmarkList100 reads the first page (100) of an owner with 1,000
// drawings of 3 actions: what the list route asks of the store.
func BenchmarkList100(b *testing.B) {
	repo, err := boltstore.Open(b.TempDir())
	require.NoError(b, err)
	b.Cleanup(func() { repo.Close() })
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for w := range 50 { // concurrent saves share bbolt batches (and fsyncs)
		wg.Go(func() {
			for i := w; i < 1000; i += 50 {
				actions, _ := domain.ParseActions(fmt.Sprintf(`[{"type":"moveTo","x":%d,"y":2},{"type":"lineTo","x":3,"y":4},{"type":"lineTo","x":5,"y":6}]`, i), domain.DefaultMaxActionsBytes)
				id := fmt.Sprintf("d%04d", i)
				_ = repo.Save(ctx, "oALICE", id, domain.Quota{}, func(*domain.Drawing) (*domain.Drawing, error) {
					return domain.NewDrawing("oALICE", id, actions, at.Add(time.Duration(i)*time.Millisecond))
				})
			}
		})
	}
	wg.Wait()
	b.ReportAllocs()
	for b.Loop() {
		page, err := repo.List(ctx, "oALICE", 100)
		if err != nil || len(page) != 100 {
			b.Fatalf("%d drawings, %v", len(page), err)
		}
	}
}

// putProfileRecords writes raw profile records, as another release did.
func putProfileRecords(t *testing.T, dir string, recs map[string][]byte) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, boltstore.FileName), 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		owners, err := tx.CreateBucketIfNotExists([]byte("owners"))
		require.NoError(t, err)
		for owner, rec := range recs {
			ob, err := owners.CreateBucketIfNotExists([]byte(owner))
			require.NoError(t, err)
			require.NoError(t, ob.Put([]byte("profile"), rec))
		}
		return nil
	}))
	require.NoError(t, db.Close())
}

// profileRecord reads an owner's raw profile record.
func profileRecord(t *testing.T, dir, owner string) []byte {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, boltstore.FileName), 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	var rec []byte
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		rec = bytes.Clone(tx.Bucket([]byte("owners")).Bucket([]byte(owner)).Get([]byte("profile")))
		return nil
	}))
	return rec
}

// A record of the release before phone numbers (version 1: nickName and
// avatarUrl) reads as a profile without them, and a phone number set on it
// keeps both.
func TestRepository_ProfileRecordOfTheReleaseBeforePhoneNumbersReads(t *testing.T) {
	dir := t.TempDir()
	v1 := append([]byte{1, byte(len("小明"))}, "小明https://cdn.example.com/a.png"...)
	putProfileRecords(t, dir, map[string][]byte{"oALICE": v1})
	repo := open(t, dir)
	ctx := context.Background()
	p, err := repo.Profile(ctx, "oALICE")
	require.NoError(t, err)
	assert.Equal(t, domain.UnmarshalProfileFromStorage("小明", "https://cdn.example.com/a.png", domain.PhoneNumber{}, false), p)

	cn := domain.PhoneNumber{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}
	_, err = repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) { return cur.WithPhoneNumber(cn) })
	require.NoError(t, err)
	p, err = repo.Profile(ctx, "oALICE")
	require.NoError(t, err)
	assert.Equal(t, domain.UnmarshalProfileFromStorage("小明", "https://cdn.example.com/a.png", cn, false), p)
}

// A profile with neither a phone number nor a review flag is still written
// as version 1, which the release before reads (a rollback loses nothing of
// such users); one with either is version 2.
func TestRepository_ProfileWithoutThePlatformFieldsIsWrittenAsBefore(t *testing.T) {
	dir := t.TempDir()
	repo, err := boltstore.Open(dir)
	require.NoError(t, err)
	ctx := context.Background()
	_, err = repo.UpdateProfile(ctx, "oALICE", func(cur domain.Profile) (domain.Profile, error) {
		return cur.Apply(domain.ProfileUpdate{NickName: text("小明"), AvatarURL: text("https://a.example/x"), NickNameVerdict: domain.ContentPass})
	})
	require.NoError(t, err)
	_, err = repo.UpdateProfile(ctx, "oBOB", func(cur domain.Profile) (domain.Profile, error) {
		return cur.Apply(domain.ProfileUpdate{NickName: text("Bob"), NickNameVerdict: domain.ContentReview})
	})
	require.NoError(t, err)
	require.NoError(t, repo.Close())
	assert.Equal(t, append([]byte{1, byte(len("小明"))}, "小明https://a.example/x"...), profileRecord(t, dir, "oALICE"))
	assert.Equal(t, []byte{2, 3, 'B', 'o', 'b', 0, 0, 0, 0, 1}, profileRecord(t, dir, "oBOB"))
}

// A version 2 record that does not parse whole is a store failure.
func TestRepository_BrokenVersion2ProfileRecordIsUnavailable(t *testing.T) {
	dir := t.TempDir()
	recs := map[string][]byte{
		"oNOFLAGS":  {2, 0, 0, 0, 0, 0},
		"oBADFLAGS": {2, 0, 0, 0, 0, 0, 2},
		"oTRAILING": {2, 0, 0, 0, 0, 0, 1, 0},
		"oLONG":     {2, 9, 'a'},
		"oVARINT":   {2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	}
	putProfileRecords(t, dir, recs)
	repo := open(t, dir)
	for owner := range recs {
		_, err := repo.Profile(context.Background(), owner)
		assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err), owner)
	}
}

// rawUpdate changes a closed store's file directly, as another release
// (or a broken disk) would.
func rawUpdate(t *testing.T, dir string, fn func(owners *bolt.Bucket) error) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, boltstore.FileName), 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket([]byte("owners"))) }))
	require.NoError(t, db.Close())
}

func pageIDs(t *testing.T, repo *boltstore.Repository, owner string, limit int) []string {
	t.Helper()
	var out []string
	cursor := ""
	for {
		items, next, err := repo.Page(context.Background(), owner, cursor, limit)
		require.NoError(t, err)
		for _, s := range items {
			out = append(out, s.ID)
		}
		if next == "" {
			return out
		}
		cursor = next
	}
}

// A file written before the byCreated index (version 1 records of the
// layout before 0.2, and version 2 records of the layout after it) gets
// each owner's index built once, by its first page, save or delete; the
// drawings then page in the v2 order with the ETags Get gives (derived
// from the actions, stable until a save).
func TestRepository_FileWithoutTheCreatedIndexBuildsItOnFirstNeed(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	writeOldLayout(t, dir, at) // old1 at, old2 a minute later, for oALICE and oBOB
	repo, err := boltstore.Open(dir)
	require.NoError(t, err)
	ctx := context.Background()
	for _, owner := range []string{"oCAROL", "oDAVE"} {
		for i, id := range []string{"v2a", "v2b", "v2c"} {
			require.NoError(t, repo.Save(ctx, owner, id, domain.Quota{}, func(*domain.Drawing) (*domain.Drawing, error) {
				return domain.NewDrawing(owner, id, porttest.Actions(t, fmt.Sprintf(`["%d"]`, i)), at.Add(time.Duration(i%2)*time.Hour))
			}))
		}
	}
	require.NoError(t, repo.Close())
	// Version 2 records, as the release before the index wrote them: this
	// release's records without their title and revision, and no index.
	rawUpdate(t, dir, func(owners *bolt.Bucket) error {
		for _, owner := range []string{"oCAROL", "oDAVE"} {
			ob := owners.Bucket([]byte(owner))
			require.NoError(t, ob.DeleteBucket([]byte("byCreated")))
			byTime := ob.Bucket([]byte("byTime"))
			c := byTime.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				require.Equal(t, byte(4), v[0], "this release writes version 4")
				titleLen := int(binary.BigEndian.Uint16(v[26:28]))
				v2 := append([]byte{2}, v[1:17]...)
				require.NoError(t, byTime.Put(bytes.Clone(k), append(v2, v[28+titleLen:]...)))
			}
		}
		return nil
	})

	repo = open(t, dir)
	// alice: the first need is a page.
	want := map[string]string{}
	for _, id := range []string{"old1", "old2"} {
		d, err := repo.Get(ctx, "oALICE", id)
		require.NoError(t, err)
		want[id] = d.ETag()
		assert.Equal(t, domain.ETagOf(domain.DerivedRevision(d.Actions().Text())), d.ETag(), "derived from the actions")
	}
	items, next, err := repo.Page(ctx, "oALICE", "", 10)
	require.NoError(t, err)
	assert.Empty(t, next)
	require.Equal(t, []string{"old2", "old1"}, summaryIDs(items))
	for _, s := range items {
		assert.Equal(t, want[s.ID], s.ETag(), "the page's etag is Get's: %s", s.ID)
		assert.Equal(t, int64(17), s.Bytes)
		assert.Equal(t, "", s.Title)
	}
	assert.True(t, at.Add(time.Minute).Equal(items[0].CreatedAt))
	// A conditional delete with the derived ETag.
	require.NoError(t, repo.Delete(ctx, "oALICE", "old1", domain.Precondition{IfMatch: []string{want["old1"]}}))
	assert.Equal(t, []string{"old2"}, pageIDs(t, repo, "oALICE", 1))

	// bob: the first need is a save (a legacy one: the title stays "").
	require.NoError(t, repo.Save(ctx, "oBOB", "old1", domain.Quota{}, func(cur *domain.Drawing) (*domain.Drawing, error) {
		return cur, cur.ReplaceActions(porttest.Actions(t, `["re-saved"]`), at.Add(time.Hour))
	}))
	assert.Equal(t, []string{"old2", "old1"}, pageIDs(t, repo, "oBOB", 1), "createdAt order: the save moved nothing")
	d, err := repo.Get(ctx, "oBOB", "old1")
	require.NoError(t, err)
	assert.NotEqual(t, uint64(0), d.StoredRevision(), "the save stored a revision")
	items, _, err = repo.Page(ctx, "oBOB", "", 10)
	require.NoError(t, err)
	assert.Equal(t, d.ETag(), items[1].ETag())

	// carol: version 2 records, first need a page; dave: a delete.
	assert.Equal(t, []string{"v2b", "v2c", "v2a"}, pageIDs(t, repo, "oCAROL", 2))
	require.NoError(t, repo.Delete(ctx, "oDAVE", "v2c", domain.Precondition{}))
	assert.Equal(t, []string{"v2b", "v2a"}, pageIDs(t, repo, "oDAVE", 1))
	for _, owner := range []string{"oCAROL", "oDAVE"} {
		items, _, err := repo.Page(ctx, owner, "", 10)
		require.NoError(t, err)
		for _, s := range items {
			d, err := repo.Get(ctx, owner, s.ID)
			require.NoError(t, err)
			assert.Equal(t, d.Summary(), s, "%s %s", owner, s.ID)
		}
	}
}

func summaryIDs(items []domain.DrawingSummary) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = s.ID
	}
	return out
}

// A page reads the index alone, never a drawing's record: with every
// record broken, pages still answer whole, while Get fails.
func TestRepository_PageNeverReadsARecord(t *testing.T) {
	dir := t.TempDir()
	repo, err := boltstore.Open(dir)
	require.NoError(t, err)
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	var want []domain.DrawingSummary
	for i := range 5 {
		id := fmt.Sprintf("d%d", i)
		require.NoError(t, repo.Save(ctx, "oALICE", id, domain.Quota{}, func(*domain.Drawing) (*domain.Drawing, error) {
			d, err := domain.NewDrawing("oALICE", id, porttest.Actions(t, `[1,2,3]`), at.Add(time.Duration(i)*time.Second))
			if err != nil {
				return nil, err
			}
			want = append([]domain.DrawingSummary{d.Summary()}, want...)
			return d, d.SetTitle(fmt.Sprintf("t%d", i), domain.ContentReview)
		}))
	}
	require.NoError(t, repo.Close())
	rawUpdate(t, dir, func(owners *bolt.Bucket) error {
		byTime := owners.Bucket([]byte("oALICE")).Bucket([]byte("byTime"))
		c := byTime.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			require.NoError(t, byTime.Put(bytes.Clone(k), []byte{9, 9, 9}))
		}
		return nil
	})
	repo = open(t, dir)
	items, next, err := repo.Page(ctx, "oALICE", "", 3)
	require.NoError(t, err)
	rest, _, err := repo.Page(ctx, "oALICE", next, 3)
	require.NoError(t, err)
	got := append(items, rest...)
	require.Len(t, got, 5)
	for i, s := range got {
		assert.Equal(t, fmt.Sprintf("t%d", 4-i), s.Title)
		assert.True(t, s.TitleInReview)
		assert.Equal(t, int64(7), s.Bytes)
		assert.Equal(t, want[i].ID, s.ID)
	}
	_, err = repo.Get(ctx, "oALICE", "d1")
	assert.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err), "the record itself is broken")
}

func BenchmarkPage_FirstPage(b *testing.B) {
	porttest.BenchmarkPageFirstPage(b, func(b *testing.B) ports.DrawingRepository {
		repo, err := boltstore.Open(b.TempDir())
		require.NoError(b, err)
		b.Cleanup(func() { repo.Close() })
		return repo
	})
}
