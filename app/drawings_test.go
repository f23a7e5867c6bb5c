package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/boltstore"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/mock"
	"github.com/onestroke/onestroke/ports/porttest"
)

// untouchable fails the test on any repository call: bad input must change
// nothing.
func untouchable(t *testing.T) *mock.DrawingRepository {
	fail := func() { t.Helper(); t.Error("the repository was called") }
	return &mock.DrawingRepository{
		SaveFn: func(context.Context, string, string, domain.Quota, func(*domain.Drawing) (*domain.Drawing, error)) error {
			fail()
			return nil
		},
		ListFn:   func(context.Context, string, int) ([]*domain.Drawing, error) { fail(); return nil, nil },
		DeleteFn: func(context.Context, string, string, domain.Precondition) error { fail(); return nil },
		GetFn:    func(context.Context, string, string) (*domain.Drawing, error) { fail(); return nil, nil },
		PageFn: func(context.Context, string, string, int) ([]domain.DrawingSummary, string, error) {
			fail()
			return nil, "", nil
		},
	}
}

func TestDrawings_WithoutUserIsUnauthorized(t *testing.T) {
	s := &app.DrawingService{Repo: untouchable(t)}
	ctx := context.Background()
	assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(s.Save(ctx, nil, "d1", "[]")))
	_, err := s.List(ctx, nil)
	assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(err))
	assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(s.Delete(ctx, &domain.UserInfo{}, "d1", domain.Precondition{})))
}

func TestDrawings_BadInputNeverReachesTheRepository(t *testing.T) {
	s := &app.DrawingService{Repo: untouchable(t), MaxActionsBytes: 16}
	u := porttest.User(t, "oALICE", `{}`)
	ctx := context.Background()
	for name, c := range map[string]struct{ id, actions, code string }{
		"empty id":          {"", "[]", domain.EINVALID},
		"id with slash":     {"a/b", "[]", domain.EINVALID},
		"actions not json":  {"d1", "[1,", domain.EINVALID},
		"actions empty":     {"d1", "", domain.EINVALID},
		"actions too large": {"d1", "[" + strings.Repeat("1,", 10) + "1]", domain.ETOOLARGE},
	} {
		assert.Equal(t, c.code, domain.ErrorCode(s.Save(ctx, &u, c.id, c.actions)), name)
	}
	assert.Equal(t, domain.EINVALID, domain.ErrorCode(s.Delete(ctx, &u, "../x", domain.Precondition{})))
}

func TestDrawings_SaveTwiceReplacesAndListsNewestFirst(t *testing.T) {
	repo, err := boltstore.Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { repo.Close() })
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	s := &app.DrawingService{Repo: repo, Now: func() time.Time { now = now.Add(time.Second); return now }, ListLimit: 2}
	u := porttest.User(t, "oALICE", `{}`)
	ctx := context.Background()
	require.NoError(t, s.Save(ctx, &u, "a", `[1]`))
	require.NoError(t, s.Save(ctx, &u, "b", `[1]`))
	require.NoError(t, s.Save(ctx, &u, "c", `[1]`))
	require.NoError(t, s.Save(ctx, &u, "a", `[2]`))
	got, err := s.List(ctx, &u)
	require.NoError(t, err)
	require.Len(t, got, 2, "capped at ListLimit")
	assert.Equal(t, "a", got[0].ID())
	assert.Equal(t, `[2]`, got[0].Actions().Text())
	assert.Equal(t, "c", got[1].ID())
	assert.True(t, got[0].CreatedAt().Before(got[0].UpdatedAt()))
}

func TestDrawings_SaveOverTheQuotaIsRefused(t *testing.T) {
	repo, err := boltstore.Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { repo.Close() })
	s := &app.DrawingService{Repo: repo, Quota: domain.Quota{MaxDrawings: 2, MaxBytes: 10}}
	u := porttest.User(t, "oALICE", `{}`)
	ctx := context.Background()
	require.NoError(t, s.Save(ctx, &u, "a", `[1]`))
	require.NoError(t, s.Save(ctx, &u, "b", `[1]`))
	assert.Equal(t, domain.EQUOTA, domain.ErrorCode(s.Save(ctx, &u, "c", `[1]`)), "over the count")
	assert.Equal(t, domain.EQUOTA, domain.ErrorCode(s.Save(ctx, &u, "a", `[1,2,3,4]`)), "over the bytes: 3 + 9 > 10")
	require.NoError(t, s.Save(ctx, &u, "a", `[1,2,3]`), "3 + 7 fits")
	got, err := s.List(ctx, &u)
	require.NoError(t, err)
	assert.Len(t, got, 2)
}

func TestDrawings_DefaultQuotaReachesTheRepository(t *testing.T) {
	var got domain.Quota
	repo := &mock.DrawingRepository{SaveFn: func(_ context.Context, _, _ string, q domain.Quota, _ func(*domain.Drawing) (*domain.Drawing, error)) error {
		got = q
		return nil
	}}
	u := porttest.User(t, "oALICE", `{}`)
	require.NoError(t, (&app.DrawingService{Repo: repo}).Save(context.Background(), &u, "a", `[1]`))
	assert.Equal(t, domain.Quota{MaxDrawings: 10000, MaxBytes: 256 << 20}, got)
}

func TestDrawings_EachListedWalksBatchesUpToTheListLimit(t *testing.T) {
	repo, err := boltstore.Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { repo.Close() })
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	s := &app.DrawingService{Repo: repo, Now: func() time.Time { now = now.Add(time.Second); return now }, ListLimit: 5, ListBatchBytes: 8}
	u := porttest.User(t, "oALICE", `{}`)
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		require.NoError(t, s.Save(ctx, &u, id, `[1,2]`)) // 5 bytes: one per batch of 8
	}
	var got []string
	require.NoError(t, s.EachListed(ctx, &u, func(d *domain.Drawing) error { got = append(got, d.ID()); return nil }))
	assert.Equal(t, []string{"g", "f", "e", "d", "c"}, got, "newest first, capped at ListLimit")

	stop := domain.Errorf(domain.EUNAVAILABLE, "the client left")
	n := 0
	err = s.EachListed(ctx, &u, func(*domain.Drawing) error { n++; return stop })
	assert.Equal(t, stop, err, "fn's error ends the walk")
	assert.Equal(t, 1, n)
	assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(s.EachListed(ctx, nil, func(*domain.Drawing) error { return nil })))
}

func TestDrawings_EachListedAsksForBoundedBatches(t *testing.T) {
	var calls []string
	repo := &mock.DrawingRepository{ListBatchFn: func(_ context.Context, _, after string, limit, maxBytes int) ([]*domain.Drawing, string, error) {
		calls = append(calls, fmt.Sprintf("%q %d %d", after, limit, maxBytes))
		d, _ := domain.NewDrawing("oALICE", "d"+after, porttest.Actions(t, `[1]`), time.Now())
		if after == "" {
			return []*domain.Drawing{d, d}, "p1", nil
		}
		return []*domain.Drawing{d}, "", nil
	}}
	u := porttest.User(t, "oALICE", `{}`)
	n := 0
	require.NoError(t, (&app.DrawingService{Repo: repo}).EachListed(context.Background(), &u, func(*domain.Drawing) error { n++; return nil }))
	assert.Equal(t, 3, n)
	assert.Equal(t, []string{`"" 100 262144`, `"p1" 98 262144`}, calls)
}
