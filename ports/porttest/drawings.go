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
	require.NoError(t, repo.Save(context.Background(), owner, id, domain.Quota{}, func(cur *domain.Drawing) (*domain.Drawing, error) {
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
		require.NoError(t, repo.Save(ctx, "oALICE", "d1", domain.Quota{}, func(cur *domain.Drawing) (*domain.Drawing, error) {
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
		err := repo.Save(ctx, "oALICE", "d1", domain.Quota{}, func(cur *domain.Drawing) (*domain.Drawing, error) {
			_ = cur.ReplaceActions(Actions(t, `[2]`), base.Add(time.Minute))
			return nil, refusal
		})
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		err = repo.Save(ctx, "oALICE", "d2", domain.Quota{}, func(*domain.Drawing) (*domain.Drawing, error) { return nil, refusal })
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
		require.NoError(t, repo.Save(ctx, "oBOB", "shared", domain.Quota{}, func(cur *domain.Drawing) (*domain.Drawing, error) {
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
		err := repo.Delete(ctx, "oBOB", "d1", domain.Precondition{})
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
		require.NoError(t, repo.Delete(ctx, "oALICE", "d1", domain.Precondition{}))
		got, err := repo.List(ctx, "oALICE", 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"d2"}, ids(got))
		err = repo.Delete(ctx, "oALICE", "d1", domain.Precondition{})
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err), "a second delete finds nothing")
	})

	t.Run("Delete_ThenSaveAgainCreatesAFreshDrawing", func(t *testing.T) {
		repo := newRepo(t)
		saveAt(t, repo, "oALICE", "d1", `[1]`, base)
		require.NoError(t, repo.Delete(ctx, "oALICE", "d1", domain.Precondition{}))
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

	testQuota(t, newRepo)
	testListBatch(t, newRepo)
	testDrawingsV2(t, newRepo)
}

// walkBatches reads the owner's list with ListBatch to its end and returns
// each batch's ids.
func walkBatches(t *testing.T, repo ports.DrawingRepository, owner string, limit, maxBytes int) [][]string {
	t.Helper()
	var out [][]string
	after := ""
	for range 1000 {
		batch, next, err := repo.ListBatch(context.Background(), owner, after, limit, maxBytes)
		require.NoError(t, err)
		if len(batch) == 0 {
			assert.Empty(t, next, "an empty batch ends the list")
			return out
		}
		out = append(out, ids(batch))
		if next == "" {
			return out
		}
		after = next
	}
	t.Fatal("ListBatch never ended")
	return nil
}

func testListBatch(t *testing.T, newRepo func(t *testing.T) ports.DrawingRepository) {
	ctx := context.Background()
	hundred := `["` + strings.Repeat("x", 96) + `"]` // 100 bytes of text, 102 quoted: no escapes

	t.Run("ListBatch_WalksTheListInOrderInBatchesOfTheLimit", func(t *testing.T) {
		repo := newRepo(t)
		for i := range 17 {
			saveAt(t, repo, "oALICE", fmt.Sprintf("d%02d", i), `[1]`, base.Add(time.Duration(i%5)*time.Second)) // ties on time
		}
		all, err := repo.List(ctx, "oALICE", 100)
		require.NoError(t, err)
		batches := walkBatches(t, repo, "oALICE", 5, 1<<20)
		require.Len(t, batches, 4)
		var got []string
		for i, b := range batches {
			if i < 3 {
				assert.Len(t, b, 5)
			}
			got = append(got, b...)
		}
		assert.Equal(t, ids(all), got, "the batches are List's order, each drawing once")
		batch, next, err := repo.ListBatch(ctx, "oALICE", "", 17, 1<<20)
		require.NoError(t, err)
		assert.Len(t, batch, 17)
		assert.Empty(t, next, "a batch that reaches the end says so")
		assert.Equal(t, idAndText(all[0]), idAndText(batch[0]), "the drawings are whole")
	})

	t.Run("ListBatch_IsBoundedByBytesButHoldsAtLeastOne", func(t *testing.T) {
		repo := newRepo(t)
		for i := range 7 {
			saveAt(t, repo, "oALICE", fmt.Sprintf("d%d", i), hundred, base.Add(time.Duration(i)*time.Second))
		}
		assert.Equal(t, [][]string{{"d6", "d5"}, {"d4", "d3"}, {"d2", "d1"}, {"d0"}}, walkBatches(t, repo, "oALICE", 100, 250))
		assert.Equal(t, [][]string{{"d6"}, {"d5"}, {"d4"}, {"d3"}, {"d2"}, {"d1"}, {"d0"}}, walkBatches(t, repo, "oALICE", 100, 1), "one drawing over the bound still comes")
		batch, _, err := repo.ListBatch(ctx, "oALICE", "", 100, 250)
		require.NoError(t, err)
		assert.Equal(t, hundred, batch[0].Actions().Text())
	})

	t.Run("ListBatch_ChangesBetweenBatchesNeitherRepeatNorLoseOthers", func(t *testing.T) {
		repo := newRepo(t)
		for i := range 6 {
			saveAt(t, repo, "oALICE", fmt.Sprintf("d%d", i), `[1]`, base.Add(time.Duration(i)*time.Second))
		}
		first, next, err := repo.ListBatch(ctx, "oALICE", "", 2, 1<<20)
		require.NoError(t, err)
		assert.Equal(t, []string{"d5", "d4"}, ids(first))
		saveAt(t, repo, "oALICE", "d4", `[2]`, base.Add(time.Hour)) // re-saved: now ahead of the position
		require.NoError(t, repo.Delete(ctx, "oALICE", "d3", domain.Precondition{}))
		require.NoError(t, repo.Delete(ctx, "oALICE", "d5", domain.Precondition{})) // the position's own drawing
		saveAt(t, repo, "oALICE", "new", `[1]`, base.Add(2*time.Hour))
		rest, end, err := repo.ListBatch(ctx, "oALICE", next, 100, 1<<20)
		require.NoError(t, err)
		assert.Equal(t, []string{"d2", "d1", "d0"}, ids(rest))
		assert.Empty(t, end)
	})

	t.Run("ListBatch_UnknownOwnerAndOtherOwnersAreEmpty", func(t *testing.T) {
		repo := newRepo(t)
		saveAt(t, repo, "oALICE", "d1", `[1]`, base)
		batch, next, err := repo.ListBatch(ctx, "oBOB", "", 10, 1<<20)
		require.NoError(t, err)
		assert.Empty(t, batch)
		assert.Empty(t, next)
		_, after, err := repo.ListBatch(ctx, "oALICE", "", 1, 1<<20)
		require.NoError(t, err)
		assert.Empty(t, after, "alice has one drawing")
	})

	t.Run("ListBatch_RefusesBadArguments", func(t *testing.T) {
		repo := newRepo(t)
		saveAt(t, repo, "oALICE", "d1", `[1]`, base)
		_, _, err := repo.ListBatch(ctx, "oALICE", "", 0, 1<<20)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		_, _, err = repo.ListBatch(ctx, "oALICE", "", 10, 0)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		_, _, err = repo.ListBatch(ctx, "oALICE", "not a position \x00", 10, 1<<20)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	})
}

func idAndText(d *domain.Drawing) string { return d.ID() + " " + d.Actions().Text() }

// saveQuota saves actions as the owner's drawing id within quota, as the
// drawing use case does, and returns Save's error.
func saveQuota(repo ports.DrawingRepository, owner, id, actions string, quota domain.Quota, at time.Time) error {
	a, err := domain.ParseActions(actions, domain.DefaultMaxActionsBytes)
	if err != nil {
		return err
	}
	return repo.Save(context.Background(), owner, id, quota, func(cur *domain.Drawing) (*domain.Drawing, error) {
		if cur == nil {
			return domain.NewDrawing(owner, id, a, at)
		}
		return cur, cur.ReplaceActions(a, at)
	})
}

// testQuota runs the quota cases of the contract: a save over either limit
// stores nothing, replacing counts only the size difference, a delete
// frees room, and concurrent saves of one owner never exceed the count.
func testQuota(t *testing.T, newRepo func(t *testing.T) ports.DrawingRepository) {
	ctx := context.Background()
	list := func(t *testing.T, repo ports.DrawingRepository, owner string) []*domain.Drawing {
		t.Helper()
		got, err := repo.List(ctx, owner, 1000)
		require.NoError(t, err)
		return got
	}

	t.Run("Quota_OverTheCountIsRefusedAndStoresNothing", func(t *testing.T) {
		repo := newRepo(t)
		q := domain.Quota{MaxDrawings: 2, MaxBytes: 1 << 20}
		require.NoError(t, saveQuota(repo, "oALICE", "d1", `[1]`, q, base))
		require.NoError(t, saveQuota(repo, "oALICE", "d2", `[2]`, q, base.Add(time.Second)))
		err := saveQuota(repo, "oALICE", "d3", `[3]`, q, base.Add(2*time.Second))
		assert.Equal(t, domain.EQUOTA, domain.ErrorCode(err), "%v", err)
		assert.Equal(t, []string{"d2", "d1"}, ids(list(t, repo, "oALICE")), "nothing stored")
		require.NoError(t, saveQuota(repo, "oALICE", "d1", `[1,1]`, q, base.Add(3*time.Second)), "replacing at the count is no new drawing")
		require.NoError(t, saveQuota(repo, "oBOB", "d3", `[3]`, q, base), "the quota is per owner")
		require.NoError(t, repo.Delete(ctx, "oALICE", "d2", domain.Precondition{}))
		require.NoError(t, saveQuota(repo, "oALICE", "d3", `[3]`, q, base.Add(4*time.Second)), "a delete frees room")
		assert.Equal(t, []string{"d3", "d1"}, ids(list(t, repo, "oALICE")))
	})

	t.Run("Quota_OverTheBytesIsRefusedAndStoresNothing", func(t *testing.T) {
		repo := newRepo(t)
		q := domain.Quota{MaxDrawings: 100, MaxBytes: 20}
		require.NoError(t, saveQuota(repo, "oALICE", "d1", `["12345678"]`, q, base))   // 12 bytes
		err := saveQuota(repo, "oALICE", "d2", `["123456"]`, q, base.Add(time.Second)) // 12 + 10 > 20
		assert.Equal(t, domain.EQUOTA, domain.ErrorCode(err), "%v", err)
		err = saveQuota(repo, "oALICE", "d1", `["1234567890123456789"]`, q, base.Add(time.Second)) // 23 > 20
		assert.Equal(t, domain.EQUOTA, domain.ErrorCode(err), "%v", err)
		got := list(t, repo, "oALICE")
		require.Equal(t, []string{"d1"}, ids(got), "nothing stored")
		assert.Equal(t, `["12345678"]`, got[0].Actions().Text(), "the refused replacement left the drawing as it was")
		require.NoError(t, saveQuota(repo, "oALICE", "d2", `["1234"]`, q, base.Add(2*time.Second)), "12 + 8 fits exactly")
	})

	t.Run("Quota_BytesAreTheTextsNotTheirQuotedForm", func(t *testing.T) {
		repo := newRepo(t)
		text := `["` + strings.Repeat(`\"`, 10) + `"]` // 24 bytes of text, 48 quoted
		q := domain.Quota{MaxBytes: int64(len(text)) * 2}
		require.NoError(t, saveQuota(repo, "oALICE", "d1", text, q, base))
		require.NoError(t, saveQuota(repo, "oALICE", "d2", text, q, base.Add(time.Second)))
		err := saveQuota(repo, "oALICE", "d3", `[1]`, q, base.Add(2*time.Second))
		assert.Equal(t, domain.EQUOTA, domain.ErrorCode(err), "%v", err)
	})

	t.Run("Quota_ReplacingCountsOnlyTheSizeDifference", func(t *testing.T) {
		repo := newRepo(t)
		q := domain.Quota{MaxDrawings: 1, MaxBytes: 30}
		require.NoError(t, saveQuota(repo, "oALICE", "d1", `["`+strings.Repeat("a", 20)+`"]`, q, base)) // 24
		for i := range 5 {                                                                              // each replacement of 28 bytes fits: 28 ≤ 30, not 24 + 28
			require.NoError(t, saveQuota(repo, "oALICE", "d1", `["`+strings.Repeat("b", 24)+`"]`, q, base.Add(time.Duration(i+1)*time.Second)))
		}
		require.NoError(t, saveQuota(repo, "oALICE", "d1", `[1]`, q, base.Add(time.Minute)))
		require.NoError(t, saveQuota(repo, "oALICE", "d1", `["`+strings.Repeat("c", 26)+`"]`, q, base.Add(2*time.Minute)), "shrinking gave the room back")
	})

	t.Run("Quota_AnOwnerOverALoweredQuotaCanShrinkAndDelete", func(t *testing.T) {
		repo := newRepo(t)
		require.NoError(t, saveQuota(repo, "oALICE", "d1", `["`+strings.Repeat("a", 50)+`"]`, domain.Quota{}, base))
		require.NoError(t, saveQuota(repo, "oALICE", "d2", `[2]`, domain.Quota{}, base))
		low := domain.Quota{MaxDrawings: 1, MaxBytes: 10}
		assert.Equal(t, domain.EQUOTA, domain.ErrorCode(saveQuota(repo, "oALICE", "d3", `[3]`, low, base)))
		assert.Equal(t, domain.EQUOTA, domain.ErrorCode(saveQuota(repo, "oALICE", "d2", `[2,2]`, low, base)), "growing is refused")
		require.NoError(t, saveQuota(repo, "oALICE", "d1", `[1]`, low, base.Add(time.Second)), "shrinking is allowed")
		require.NoError(t, repo.Delete(ctx, "oALICE", "d2", domain.Precondition{}))
		require.NoError(t, saveQuota(repo, "oALICE", "d1", `[1,2,3]`, low, base.Add(2*time.Second)), "within quota again")
	})

	t.Run("Quota_ConcurrentSavesNeverExceedTheCount", func(t *testing.T) {
		repo := newRepo(t)
		const limit, n = 5, 16
		q := domain.Quota{MaxDrawings: limit}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = saveQuota(repo, "oALICE", fmt.Sprintf("c%02d", i), `[1]`, q, base.Add(time.Duration(i)*time.Millisecond))
			})
		}
		wg.Wait()
		ok := 0
		for i, err := range errs {
			if err == nil {
				ok++
			} else {
				assert.Equal(t, domain.EQUOTA, domain.ErrorCode(err), "save %d: %v", i, err)
			}
		}
		assert.Equal(t, limit, ok, "exactly the quota's count was accepted")
		assert.Len(t, list(t, repo, "oALICE"), limit)
		require.NoError(t, repo.Delete(ctx, "oALICE", ids(list(t, repo, "oALICE"))[0], domain.Precondition{}))
		require.NoError(t, saveQuota(repo, "oALICE", "late", `[1]`, q, base.Add(time.Second)), "the usage followed every save and delete")
		assert.Equal(t, domain.EQUOTA, domain.ErrorCode(saveQuota(repo, "oALICE", "later", `[1]`, q, base.Add(time.Second))))
	})
}

// Actions parses text as a drawing's actions, within the default limit.
func Actions(t testing.TB, text string) domain.Actions {
	t.Helper()
	a, err := domain.ParseActions(text, domain.DefaultMaxActionsBytes)
	require.NoError(t, err)
	return a
}
