package porttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// The v2 cases of the DrawingRepository contract (PROTOCOL §7): Get,
// revisions and titles, Page and its walk, conditional saves and deletes.

// saveTitled saves actions and title as the owner's drawing id at time
// at, as the v2 use case does (a new drawing, or new actions and title on
// the stored one), and returns the drawing stored.
func saveTitled(t testing.TB, repo ports.DrawingRepository, owner, id, actions, title string, verdict domain.ContentSuggestion, at time.Time) *domain.Drawing {
	t.Helper()
	var saved *domain.Drawing
	require.NoError(t, repo.Save(context.Background(), owner, id, domain.Quota{}, func(cur *domain.Drawing) (*domain.Drawing, error) {
		d := cur
		if d == nil {
			var err error
			if d, err = domain.NewDrawing(owner, id, Actions(t, actions), at); err != nil {
				return nil, err
			}
		} else if err := d.ReplaceActions(Actions(t, actions), at); err != nil {
			return nil, err
		}
		saved = d
		return d, d.SetTitle(title, verdict)
	}))
	return saved
}

func get(t testing.TB, repo ports.DrawingRepository, owner, id string) *domain.Drawing {
	t.Helper()
	d, err := repo.Get(context.Background(), owner, id)
	require.NoError(t, err)
	return d
}

func summaryIDs(items []domain.DrawingSummary) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = s.ID
	}
	return out
}

// walkPages follows Page from "" to its end, calling between (when not
// nil) after each page, and returns every item in the order seen.
func walkPages(t *testing.T, repo ports.DrawingRepository, owner string, limit int, between func(page int)) []domain.DrawingSummary {
	t.Helper()
	var out []domain.DrawingSummary
	cursor := ""
	for page := range 10000 {
		items, next, err := repo.Page(context.Background(), owner, cursor, limit)
		require.NoError(t, err)
		require.LessOrEqual(t, len(items), limit)
		out = append(out, items...)
		if next == "" {
			return out
		}
		require.NotEmpty(t, items, "a page with a next cursor has items")
		if between != nil {
			between(page)
		}
		cursor = next
	}
	t.Fatal("Page never ended")
	return nil
}

func testDrawingsV2(t *testing.T, newRepo func(t *testing.T) ports.DrawingRepository) {
	ctx := context.Background()

	t.Run("Get_ReturnsTheWholeDrawingOfItsOwnerOnly", func(t *testing.T) {
		repo := newRepo(t)
		saved := saveTitled(t, repo, "oALICE", "d1", `[{"method":"save"}]`, "Sunset 一笔", domain.ContentReview, base)
		d := get(t, repo, "oALICE", "d1")
		assert.Equal(t, "oALICE", d.Owner())
		assert.Equal(t, "d1", d.ID())
		assert.Equal(t, `[{"method":"save"}]`, d.Actions().Text())
		assert.Equal(t, "Sunset 一笔", d.Title())
		assert.True(t, d.TitleInReview())
		assert.Equal(t, saved.ETag(), d.ETag(), "the revision the save drew is stored")
		assert.True(t, base.Equal(d.CreatedAt()))
		assert.True(t, base.Equal(d.UpdatedAt()))
		_, err := repo.Get(ctx, "oBOB", "d1")
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err), "another owner's id")
		_, err = repo.Get(ctx, "oALICE", "d2")
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	})

	t.Run("Revision_EverySaveChangesIt_LegacyAndV2", func(t *testing.T) {
		repo := newRepo(t)
		seen := map[string]bool{}
		see := func(what string) {
			t.Helper()
			d := get(t, repo, "oALICE", "d1")
			assert.False(t, seen[d.ETag()], "%s: a new ETag", what)
			seen[d.ETag()] = true
			items, _, err := repo.Page(ctx, "oALICE", "", 10)
			require.NoError(t, err)
			require.Len(t, items, 1)
			assert.Equal(t, d.ETag(), items[0].ETag(), "%s: the page's etag is Get's", what)
		}
		saveAt(t, repo, "oALICE", "d1", `[1]`, base)
		see("created by a legacy save")
		saveAt(t, repo, "oALICE", "d1", `[1]`, base) // the same actions at the same instant: still a save
		see("saved again, unchanged, by a legacy save")
		saveTitled(t, repo, "oALICE", "d1", `[1]`, "", "", base)
		see("saved by a v2 save")
		saveTitled(t, repo, "oALICE", "d1", `[1]`, "t", domain.ContentPass, base)
		see("titled")
		assert.Len(t, seen, 4)
	})

	t.Run("Title_KeptByALegacySave", func(t *testing.T) {
		repo := newRepo(t)
		saveTitled(t, repo, "oALICE", "d1", `[1]`, "Kept", domain.ContentReview, base)
		saveAt(t, repo, "oALICE", "d1", `[1,2]`, base.Add(time.Minute))
		d := get(t, repo, "oALICE", "d1")
		assert.Equal(t, "Kept", d.Title())
		assert.True(t, d.TitleInReview(), "the flag too")
		assert.Equal(t, `[1,2]`, d.Actions().Text())
		items, _, err := repo.Page(ctx, "oALICE", "", 10)
		require.NoError(t, err)
		require.Len(t, items, 1)
		assert.Equal(t, "Kept", items[0].Title)
		assert.True(t, items[0].TitleInReview)
	})

	t.Run("Page_SummariesAreGetsWithoutActions", func(t *testing.T) {
		repo := newRepo(t)
		saveTitled(t, repo, "oALICE", "d1", `["一笔"]`, "Hello", domain.ContentPass, base)
		saveAt(t, repo, "oALICE", "d1", `["一笔到底"]`, base.Add(time.Minute))
		saveAt(t, repo, "oALICE", "d2", `[1]`, base.Add(time.Second))
		items, next, err := repo.Page(ctx, "oALICE", "", 10)
		require.NoError(t, err)
		assert.Empty(t, next)
		require.Equal(t, []string{"d2", "d1"}, summaryIDs(items), "createdAt desc: d1's later save does not move it")
		for _, s := range items {
			d := get(t, repo, "oALICE", s.ID)
			assert.Equal(t, d.Summary(), s, "%s", s.ID)
			assert.Equal(t, int64(len(d.Actions().Text())), s.Bytes)
		}
		assert.True(t, base.Add(time.Minute).Equal(items[1].UpdatedAt))
		assert.True(t, base.Equal(items[1].CreatedAt))
	})

	t.Run("Page_CreatedAtDescThenIDDesc_TiesOnAFixedClock", func(t *testing.T) {
		repo := newRepo(t)
		for _, id := range []string{"b", "a", "c", "ab", "B", "a-", "a_", "0"} {
			saveAt(t, repo, "oALICE", id, `[1]`, base) // one instant: the id decides
		}
		saveAt(t, repo, "oALICE", "z", `[1]`, base.Add(-time.Millisecond))
		saveAt(t, repo, "oALICE", "y", `[1]`, base.Add(time.Millisecond))
		want := []string{"y", "c", "b", "ab", "a_", "a-", "a", "B", "0", "z"}
		all, _, err := repo.Page(ctx, "oALICE", "", 100)
		require.NoError(t, err)
		assert.Equal(t, want, summaryIDs(all))
		for _, limit := range []int{1, 2, 3, 9, 10} {
			assert.Equal(t, want, summaryIDs(walkPages(t, repo, "oALICE", limit, nil)), "pages of %d", limit)
		}
	})

	t.Run("Page_RespectsTheLimitAndEndsWithoutAnEmptyPage", func(t *testing.T) {
		repo := newRepo(t)
		for i := range 6 {
			saveAt(t, repo, "oALICE", fmt.Sprintf("d%d", i), `[1]`, base.Add(time.Duration(i)*time.Second))
		}
		items, next, err := repo.Page(ctx, "oALICE", "", 3)
		require.NoError(t, err)
		assert.Equal(t, []string{"d5", "d4", "d3"}, summaryIDs(items))
		require.NotEmpty(t, next)
		items, next, err = repo.Page(ctx, "oALICE", next, 3)
		require.NoError(t, err)
		assert.Equal(t, []string{"d2", "d1", "d0"}, summaryIDs(items))
		assert.Empty(t, next, "exactly the last drawings: no further page")
		items, next, err = repo.Page(ctx, "oALICE", "", 6)
		require.NoError(t, err)
		assert.Len(t, items, 6)
		assert.Empty(t, next)
		_, _, err = repo.Page(ctx, "oALICE", "", 0)
		assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	})

	t.Run("Page_UnknownOwnerIsEmptyNotNil", func(t *testing.T) {
		repo := newRepo(t)
		saveAt(t, repo, "oALICE", "d1", `[1]`, base)
		items, next, err := repo.Page(ctx, "oBOB", "", 10)
		require.NoError(t, err)
		assert.NotNil(t, items)
		assert.Empty(t, items)
		assert.Empty(t, next)
	})

	t.Run("Page_ForgedOrGarbledCursorIsInvalid", func(t *testing.T) {
		repo := newRepo(t)
		for i := range 3 {
			saveAt(t, repo, "oALICE", fmt.Sprintf("d%d", i), `[1]`, base.Add(time.Duration(i)*time.Second))
			saveAt(t, repo, "oBOB", fmt.Sprintf("d%d", i), `[1]`, base.Add(time.Duration(i)*time.Second))
		}
		_, alices, err := repo.Page(ctx, "oALICE", "", 1)
		require.NoError(t, err)
		_, bobs, err := repo.Page(ctx, "oBOB", "", 1)
		require.NoError(t, err)
		flipped := []byte(alices)
		flipped[len(flipped)/2] ^= 1
		for name, c := range map[string]string{
			"another owner's": bobs, "garbled": string(flipped), "truncated": alices[:len(alices)-2], "extended": alices + "AA",
			"not base64": "%%%", "a legacy list position": "t1764057600000:d1", "NUL bytes": "\x00\x00\x00", "huge": string(make([]byte, 64<<10)),
		} {
			_, _, err := repo.Page(ctx, "oALICE", c, 10)
			assert.Equal(t, domain.EINVALID, domain.ErrorCode(err), "%s cursor: %v", name, err)
		}
		items, _, err := repo.Page(ctx, "oALICE", alices, 10)
		require.NoError(t, err, "the genuine one still works")
		assert.Equal(t, []string{"d1", "d0"}, summaryIDs(items))
	})

	t.Run("Page_WalkReachesEveryDrawingOnceWhileOthersChangeBetweenPages", func(t *testing.T) {
		repo := newRepo(t)
		const n = 40
		throughout := map[string]bool{}
		for i := range n {
			id := fmt.Sprintf("d%02d", i)
			// Ties: four drawings share each instant.
			saveAt(t, repo, "oALICE", id, `[1]`, base.Add(time.Duration(i/4)*time.Second))
			throughout[id] = true
		}
		victims := []string{"d39", "d00", "d21", "d20", "d05", "d33", "d12"}
		for _, v := range victims {
			delete(throughout, v)
		}
		created := 0
		seen := walkPages(t, repo, "oALICE", 3, func(page int) {
			// Between pages: save drawings on both sides of the position
			// (legacy and v2), delete one (the page's last, at times),
			// create new ones now and at the old instants (ties).
			for k := 0; k < 3; k++ {
				id := fmt.Sprintf("d%02d", (page*7+k*13)%n)
				if throughout[id] {
					if k%2 == 0 {
						saveAt(t, repo, "oALICE", id, fmt.Sprintf("[%d]", page), base.Add(time.Hour))
					} else {
						saveTitled(t, repo, "oALICE", id, `[2]`, fmt.Sprintf("p%d", page), domain.ContentPass, base.Add(time.Hour))
					}
				}
			}
			if page < len(victims) {
				require.NoError(t, repo.Delete(ctx, "oALICE", victims[page], domain.Precondition{}))
			}
			saveAt(t, repo, "oALICE", fmt.Sprintf("new%02d", created), `[1]`, base.Add(time.Hour))
			saveAt(t, repo, "oALICE", fmt.Sprintf("old%02d", created), `[1]`, base.Add(time.Duration(created%10)*time.Second))
			created++
		})
		count := map[string]int{}
		for _, s := range seen {
			count[s.ID]++
		}
		for id := range throughout {
			assert.Equal(t, 1, count[id], "%s existed throughout the walk: exactly once", id)
		}
		for id, c := range count {
			assert.Equal(t, 1, c, "%s at most once", id)
		}
	})

	t.Run("Page_WalkReachesEveryDrawingOnceUnderConcurrentChanges", func(t *testing.T) {
		repo := newRepo(t)
		const n = 60
		throughout := map[string]bool{}
		var victims []string
		for i := range n {
			id := fmt.Sprintf("d%02d", i)
			saveAt(t, repo, "oALICE", id, `[1]`, base.Add(time.Duration(i/3)*time.Second))
			if i%5 == 0 {
				victims = append(victims, id)
			} else {
				throughout[id] = true
			}
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 3 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				for {
					select {
					case <-stop:
						return
					default:
					}
					switch rng.IntN(4) {
					case 0:
						saveAt(t, repo, "oALICE", fmt.Sprintf("d%02d", rng.IntN(n)), `[3]`, base.Add(time.Hour))
					case 1:
						saveTitled(t, repo, "oALICE", fmt.Sprintf("d%02d", rng.IntN(n)), `[4]`, "busy", domain.ContentPass, base.Add(time.Hour))
					case 2:
						// A bounded pool of new ids, so that a walk has an end.
						saveAt(t, repo, "oALICE", fmt.Sprintf("w%dn%02d", w, rng.IntN(30)), `[1]`, base.Add(time.Duration(rng.IntN(20))*time.Second))
					case 3:
						err := repo.Delete(ctx, "oALICE", victims[rng.IntN(len(victims))], domain.Precondition{})
						if domain.ErrorCode(err) != domain.ENOTFOUND {
							assert.NoError(t, err)
						}
					}
				}
			})
		}
		var seen []domain.DrawingSummary
		for range 3 { // three walks while the writers run
			seen = walkPages(t, repo, "oALICE", 4, func(int) { time.Sleep(time.Millisecond) })
			count := map[string]int{}
			for _, s := range seen {
				count[s.ID]++
			}
			for id := range throughout {
				assert.Equal(t, 1, count[id], "%s existed throughout the walk: exactly once", id)
			}
			for id, c := range count {
				assert.Equal(t, 1, c, "%s at most once", id)
			}
		}
		close(stop)
		wg.Wait()
	})

	t.Run("Delete_IfMatchTheCurrentETagDeletes", func(t *testing.T) {
		repo := newRepo(t)
		d := saveTitled(t, repo, "oALICE", "d1", `[1]`, "", "", base)
		require.NoError(t, repo.Delete(ctx, "oALICE", "d1", domain.Precondition{IfMatch: []string{`"0000000000000000"`, d.ETag()}}))
		_, err := repo.Get(ctx, "oALICE", "d1")
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	})

	t.Run("Delete_IfMatchAStaleETagIsAConflictAndDeletesNothing", func(t *testing.T) {
		repo := newRepo(t)
		old := saveTitled(t, repo, "oALICE", "d1", `[1]`, "", "", base).ETag()
		saveAt(t, repo, "oALICE", "d1", `[2]`, base.Add(time.Second)) // another device saved meanwhile
		err := repo.Delete(ctx, "oALICE", "d1", domain.Precondition{IfMatch: []string{old}})
		assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "%v", err)
		assert.Equal(t, `[2]`, get(t, repo, "oALICE", "d1").Actions().Text(), "nothing deleted")
		require.NoError(t, repo.Delete(ctx, "oALICE", "d1", domain.Precondition{IfMatch: []string{"*"}}))
	})

	t.Run("Delete_PreconditionsOnAMissingDrawing", func(t *testing.T) {
		repo := newRepo(t)
		saveAt(t, repo, "oBOB", "d1", `[1]`, base)
		bobs := get(t, repo, "oBOB", "d1").ETag()
		assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(repo.Delete(ctx, "oALICE", "d1", domain.Precondition{IfMatch: []string{bobs}})),
			"If-Match on a drawing that does not exist fails, another owner's ETag or not")
		assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(repo.Delete(ctx, "oALICE", "d1", domain.Precondition{IfMatch: []string{"*"}})))
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(repo.Delete(ctx, "oALICE", "d1", domain.Precondition{IfNoneMatchAny: true})))
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(repo.Delete(ctx, "oALICE", "d1", domain.Precondition{})))
		get(t, repo, "oBOB", "d1")
	})

	t.Run("Delete_ConditionalDeletesOfOneETagDeleteOnce", func(t *testing.T) {
		repo := newRepo(t)
		etag := saveTitled(t, repo, "oALICE", "d1", `[1]`, "", "", base).ETag()
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = repo.Delete(ctx, "oALICE", "d1", domain.Precondition{IfMatch: []string{etag}}) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "%v", err)
			}
		}
		assert.Equal(t, 1, ok)
	})

	t.Run("Delete_RacingASaveEitherDeletesTheSavedStateOrConflicts", func(t *testing.T) {
		repo := newRepo(t)
		for round := range 10 {
			id := fmt.Sprintf("r%d", round)
			etag := saveTitled(t, repo, "oALICE", id, `[1]`, "", "", base).ETag()
			var wg sync.WaitGroup
			var delErr error
			wg.Go(func() { saveAt(t, repo, "oALICE", id, `[2]`, base.Add(time.Second)) })
			wg.Go(func() { delErr = repo.Delete(ctx, "oALICE", id, domain.Precondition{IfMatch: []string{etag}}) })
			wg.Wait()
			d, err := repo.Get(ctx, "oALICE", id)
			switch {
			case delErr == nil && err == nil:
				// Deleted first, then the save created it anew.
				assert.Equal(t, `[2]`, d.Actions().Text())
			case delErr == nil:
				assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
				t.Errorf("round %d: the save was lost after the delete", round)
			default:
				assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(delErr), "%v", delErr)
				require.NoError(t, err)
				assert.Equal(t, `[2]`, d.Actions().Text(), "the save won: nothing deleted")
			}
		}
	})

	t.Run("Save_ConcurrentConditionalSavesOfOneETag_OneWins", func(t *testing.T) {
		repo := newRepo(t)
		etag := saveTitled(t, repo, "oALICE", "d1", `[0]`, "", "", base).ETag()
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				pre := domain.Precondition{IfMatch: []string{etag}}
				errs[i] = repo.Save(ctx, "oALICE", "d1", domain.Quota{}, func(cur *domain.Drawing) (*domain.Drawing, error) {
					current := ""
					if cur != nil {
						current = cur.ETag()
					}
					if err := pre.Check(current); err != nil {
						return nil, err
					}
					return cur, cur.ReplaceActions(Actions(t, fmt.Sprintf("[%d]", i+1)), base.Add(time.Second))
				})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "%v", err)
			}
		}
		assert.Equal(t, 1, ok, "exactly one save saw the ETag it was sent")
		assert.NotEqual(t, `[0]`, get(t, repo, "oALICE", "d1").Actions().Text())
	})

	t.Run("Save_IfNoneMatchCreatesOnlyOnce", func(t *testing.T) {
		repo := newRepo(t)
		const n = 6
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				pre := domain.Precondition{IfNoneMatchAny: true}
				errs[i] = repo.Save(ctx, "oALICE", "d1", domain.Quota{}, func(cur *domain.Drawing) (*domain.Drawing, error) {
					current := ""
					if cur != nil {
						current = cur.ETag()
					}
					if err := pre.Check(current); err != nil {
						return nil, err
					}
					return domain.NewDrawing("oALICE", "d1", Actions(t, fmt.Sprintf("[%d]", i)), base)
				})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "%v", err)
			}
		}
		assert.Equal(t, 1, ok)
	})
}
