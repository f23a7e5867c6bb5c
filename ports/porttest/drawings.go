package porttest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// base is a fixed instant with whole milliseconds: stores keep at least
// millisecond precision.
var base = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// saveAt saves actions as the owner's drawing id at time at, as the drawing
// use case does.
func saveAt(t testing.TB, repo ports.DrawingRepository, owner, id, actions string, at time.Time) {
	t.Helper()
	require.NoError(t, repo.Save(context.Background(), owner, id, func(cur *domain.Drawing) (*domain.Drawing, error) {
		if cur == nil {
			return domain.NewDrawing(owner, id, Actions(t, actions), at)
		}
		return cur, cur.ReplaceActions(Actions(t, actions), at)
	}))
}

func ids(ds []*domain.Drawing) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID()
	}
	return out
}

// TestDrawingRepository runs the DrawingRepository contract. newRepo must
// return an empty repository isolated from every other test's.
func TestDrawingRepository(t *testing.T, newRepo func(t *testing.T) ports.DrawingRepository) {
	ctx := context.Background()

	t.Run("Save_NewDrawingIsListedWithItsFields", func(t *testing.T) {
		repo := newRepo(t)
		saveAt(t, repo, "oALICE", "d1", `[{"t":"line"}]`, base)
		got, err := repo.List(ctx, "oALICE", 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		d := got[0]
		assert.Equal(t, "oALICE", d.Owner())
		assert.Equal(t, "d1", d.ID())
		assert.Equal(t, `[{"t":"line"}]`, d.Actions().Text())
		assert.True(t, base.Equal(d.CreatedAt()), "createdAt %v", d.CreatedAt())
		assert.True(t, base.Equal(d.UpdatedAt()), "updatedAt %v", d.UpdatedAt())
	})

	t.Run("Save_ExistingIDReplacesActionsAndKeepsCreatedAt", func(t *testing.T) {
		repo := newRepo(t)
		saveAt(t, repo, "oALICE", "d1", `[1]`, base)
		seen := "(update not called with a drawing)"
		require.NoError(t, repo.Save(ctx, "oALICE", "d1", func(cur *domain.Drawing) (*domain.Drawing, error) {
			if cur != nil {
				seen = cur.Actions().Text()
			}
			return cur, cur.ReplaceActions(Actions(t, `[1,2]`), base.Add(time.Minute))
		}))
		assert.Equal(t, `[1]`, seen, "update sees the stored drawing")
		got, err := repo.List(ctx, "oALICE", 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, `[1,2]`, got[0].Actions().Text())
		assert.True(t, base.Equal(got[0].CreatedAt()))
		assert.True(t, base.Add(time.Minute).Equal(got[0].UpdatedAt()))
	})

	t.Run("Save_UpdateErrorStoresNothing", func(t *testing.T) {
		repo := newRepo(t)
		saveAt(t, repo, "oALICE", "d1", `[1]`, base)
		refusal := domain.Errorf(domain.EINVALID, "no")
		err := repo.Save(ctx, "oALICE", "d1", func(cur *domain.Drawing) (*domain.Drawing, error) {
			_ = cur.ReplaceActions(Actions(t, `[2]`), base.Add(time.Minute))
			return nil, refusal
		})
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		err = repo.Save(ctx, "oALICE", "d2", func(*domain.Drawing) (*domain.Drawing, error) { return nil, refusal })
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		got, err := repo.List(ctx, "oALICE", 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"d1"}, ids(got))
		assert.Equal(t, `[1]`, got[0].Actions().Text())
	})

	t.Run("Owner_SameIDOfAnotherOwnerIsAnotherDrawing", func(t *testing.T) {
		repo := newRepo(t)
		saveAt(t, repo, "oALICE", "shared", `["alice"]`, base)
		var seen *domain.Drawing
		require.NoError(t, repo.Save(ctx, "oBOB", "shared", func(cur *domain.Drawing) (*domain.Drawing, error) {
			seen = cur
			return domain.NewDrawing("oBOB", "shared", Actions(t, `["bob"]`), base.Add(time.Second))
		}))
		assert.Nil(t, seen, "bob never sees alice's drawing")
		alice, err := repo.List(ctx, "oALICE", 10)
		require.NoError(t, err)
		require.Len(t, alice, 1)
		assert.Equal(t, `["alice"]`, alice[0].Actions().Text(), "alice's drawing is not overwritten")
		bob, err := repo.List(ctx, "oBOB", 10)
		require.NoError(t, err)
		require.Len(t, bob, 1)
		assert.Equal(t, `["bob"]`, bob[0].Actions().Text())
	})

	t.Run("Owner_CannotDeleteAnotherOwnersDrawing", func(t *testing.T) {
		repo := newRepo(t)
		saveAt(t, repo, "oALICE", "d1", `[1]`, base)
		err := repo.Delete(ctx, "oBOB", "d1")
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
		got, err := repo.List(ctx, "oALICE", 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"d1"}, ids(got))
	})

	t.Run("List_MostRecentlySavedFirstTiesByID", func(t *testing.T) {
		repo := newRepo(t)
		saveAt(t, repo, "oALICE", "a", `[1]`, base)
		saveAt(t, repo, "oALICE", "b", `[1]`, base.Add(2*time.Second))
		saveAt(t, repo, "oALICE", "c", `[1]`, base.Add(time.Second))
		saveAt(t, repo, "oALICE", "d", `[1]`, base.Add(time.Second))
		got, err := repo.List(ctx, "oALICE", 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"b", "c", "d", "a"}, ids(got))

		saveAt(t, repo, "oALICE", "a", `[2]`, base.Add(time.Hour)) // re-saving moves it to the front
		got, err = repo.List(ctx, "oALICE", 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"a", "b", "c", "d"}, ids(got))
	})

	t.Run("List_RespectsTheLimit", func(t *testing.T) {
		repo := newRepo(t)
		for i := 0; i < 30; i++ {
			saveAt(t, repo, "oALICE", fmt.Sprintf("d%02d", i), `[1]`, base.Add(time.Duration(i)*time.Millisecond))
		}
		got, err := repo.List(ctx, "oALICE", 5)
		require.NoError(t, err)
		assert.Equal(t, []string{"d29", "d28", "d27", "d26", "d25"}, ids(got))
		_, err = repo.List(ctx, "oALICE", 0)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	})

	t.Run("List_UnknownOwnerIsEmptyNotNil", func(t *testing.T) {
		repo := newRepo(t)
		got, err := repo.List(ctx, "oNOBODY", 10)
		require.NoError(t, err)
		assert.NotNil(t, got)
		assert.Empty(t, got)
	})

	t.Run("Delete_RemovesOnlyThatDrawing", func(t *testing.T) {
		repo := newRepo(t)
		saveAt(t, repo, "oALICE", "d1", `[1]`, base)
		saveAt(t, repo, "oALICE", "d2", `[2]`, base.Add(time.Second))
		require.NoError(t, repo.Delete(ctx, "oALICE", "d1"))
		got, err := repo.List(ctx, "oALICE", 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"d2"}, ids(got))
		err = repo.Delete(ctx, "oALICE", "d1")
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err), "a second delete finds nothing")
	})

	t.Run("Delete_ThenSaveAgainCreatesAFreshDrawing", func(t *testing.T) {
		repo := newRepo(t)
		saveAt(t, repo, "oALICE", "d1", `[1]`, base)
		require.NoError(t, repo.Delete(ctx, "oALICE", "d1"))
		saveAt(t, repo, "oALICE", "d1", `[3]`, base.Add(time.Hour))
		got, err := repo.List(ctx, "oALICE", 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.True(t, base.Add(time.Hour).Equal(got[0].CreatedAt()))
	})

	t.Run("Actions_RoundTripVerbatim", func(t *testing.T) {
		repo := newRepo(t)
		big := `["` + strings.Repeat("x", domain.DefaultMaxActionsBytes-4) + `"]`
		weird := "[\"一笔到底🎨\", \"\\u0000\", {\"k\" : [ 1 , 2 ]}, \"<&>\"]"
		saveAt(t, repo, "oALICE", "big", big, base)
		saveAt(t, repo, "oALICE", "weird", weird, base.Add(time.Second))
		got, err := repo.List(ctx, "oALICE", 10)
		require.NoError(t, err)
		require.Len(t, got, 2)
		assert.Equal(t, weird, got[0].Actions().Text())
		assert.Equal(t, len(big), len(got[1].Actions().Text()))
		assert.True(t, big == got[1].Actions().Text())
	})

	t.Run("Concurrency_SavesOfDifferentIDsAreAllKept", func(t *testing.T) {
		repo := newRepo(t)
		const n = 20
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				saveAt(t, repo, "oALICE", fmt.Sprintf("d%02d", i), `[1]`, base.Add(time.Duration(i)*time.Millisecond))
			}(i)
		}
		wg.Wait()
		got, err := repo.List(ctx, "oALICE", 100)
		require.NoError(t, err)
		assert.Len(t, got, n)
	})

	t.Run("Concurrency_SavesOfOneIDLeaveOneDrawing", func(t *testing.T) {
		repo := newRepo(t)
		const n = 20
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				saveAt(t, repo, "oALICE", "same", fmt.Sprintf("[%d]", i), base.Add(time.Duration(i)*time.Millisecond))
			}(i)
		}
		wg.Wait()
		got, err := repo.List(ctx, "oALICE", 100)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Regexp(t, `^\[\d+\]$`, got[0].Actions().Text())
	})
}

// Actions parses text as a drawing's actions, within the default limit.
func Actions(t testing.TB, text string) domain.Actions {
	t.Helper()
	a, err := domain.ParseActions(text, domain.DefaultMaxActionsBytes)
	require.NoError(t, err)
	return a
}
