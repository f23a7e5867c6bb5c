package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/memstore"
	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/mock"
	"github.com/onestroke/onestroke/ports/porttest"
)

// v2World is a DrawingService on the in-memory repository whose titles
// are checked by a TokenService with the scripted platform WeChat: the
// wiring of production.
func v2World(t *testing.T, mutate ...func(*app.TokenService)) (*app.DrawingService, *platformWeChat, *domain.UserInfo) {
	_, wx, tokens, sess := platformInstance(t, mutate...)
	u := domain.Profile{}.UserInfo(sess.OpenID())
	clock := porttest.NewClock(porttest.Start)
	return &app.DrawingService{Repo: memstore.NewDrawings(), Now: clock.Now, Content: tokens, MaxActionsBytes: 1 << 10}, wx, &u
}

func title(s string) *string { return &s }

func TestPut_CreatesThenReplacesAndKeepsTheTitleWhenNoneIsSent(t *testing.T) {
	s, wx, u := v2World(t)
	ctx := context.Background()
	d, created, err := s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[1]`, Title: title("Sunset")})
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, "Sunset", d.Title())
	first := d.ETag()

	d, created, err = s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[1,2]`})
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, "Sunset", d.Title(), "a PUT without title keeps it")
	assert.NotEqual(t, first, d.ETag())
	got, err := s.Get(ctx, u, "d1")
	require.NoError(t, err)
	assert.Equal(t, `[1,2]`, got.Actions().Text())
	assert.Equal(t, d.ETag(), got.ETag(), "Put answers the stored drawing")

	d, _, err = s.Put(ctx, u, app.DrawingPut{ID: "d2", Actions: `[]`})
	require.NoError(t, err)
	assert.Equal(t, "", d.Title(), "untitled on create")
	assert.Equal(t, []string{"check oALICE 3 Sunset"}, wx.questions(), "one check, in scene forum, of the new title only")
}

func TestPut_ATitleIsCheckedOnlyWhenItChangesAndIsNotEmpty(t *testing.T) {
	s, wx, u := v2World(t)
	ctx := context.Background()
	for _, tt := range []*string{title("A"), title("A"), nil, title(""), title("B"), title("B")} {
		_, _, err := s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[1]`, Title: tt})
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"check oALICE 3 A", "check oALICE 3 B"}, wx.questions())
	d, err := s.Get(ctx, u, "d1")
	require.NoError(t, err)
	assert.Equal(t, "B", d.Title())
}

func TestPut_TheContentChecksVerdict(t *testing.T) {
	ctx := context.Background()
	t.Run("review is stored flagged, and a passing title clears the flag", func(t *testing.T) {
		s, wx, u := v2World(t)
		wx.set(func(p *platformWeChat) { p.verdict = domain.ContentReview })
		d, _, err := s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[1]`, Title: title("Hmm")})
		require.NoError(t, err)
		assert.True(t, d.TitleInReview())
		_, _, err = s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[2]`})
		require.NoError(t, err)
		got, _ := s.Get(ctx, u, "d1")
		assert.True(t, got.TitleInReview(), "the flag stays with the title")
		wx.set(func(p *platformWeChat) { p.verdict = domain.ContentPass })
		d, _, err = s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[2]`, Title: title("Fine")})
		require.NoError(t, err)
		assert.False(t, d.TitleInReview())
	})
	t.Run("risky is refused and stores nothing", func(t *testing.T) {
		s, wx, u := v2World(t)
		_, _, err := s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[1]`, Title: title("Good")})
		require.NoError(t, err)
		wx.set(func(p *platformWeChat) { p.verdict = domain.ContentRisky })
		_, _, err = s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[2]`, Title: title("Bad")})
		assert.Equal(t, domain.ECONTENTRISKY, domain.ErrorCode(err))
		_, _, err = s.Put(ctx, u, app.DrawingPut{ID: "d2", Actions: `[2]`, Title: title("Bad")})
		assert.Equal(t, domain.ECONTENTRISKY, domain.ErrorCode(err))
		got, _ := s.Get(ctx, u, "d1")
		assert.Equal(t, "Good", got.Title())
		assert.Equal(t, `[1]`, got.Actions().Text(), "not even the actions")
		_, err = s.Get(ctx, u, "d2")
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	})
	t.Run("a check that cannot be made is never a silent pass", func(t *testing.T) {
		s, wx, u := v2World(t)
		wx.set(func(p *platformWeChat) { p.err = domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "down") })
		_, _, err := s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[1]`, Title: title("Hi")})
		assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
		_, err = s.Get(ctx, u, "d1")
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
		_, _, err = s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[1]`})
		require.NoError(t, err, "a PUT without a title asks WeChat nothing")
	})
	t.Run("the user's platform budget applies", func(t *testing.T) {
		limiter := &mock.RateLimiter{AllowFn: func(context.Context, string) (bool, time.Duration, error) { return false, time.Minute, nil }}
		s, wx, u := v2World(t, func(ts *app.TokenService) { ts.PlatformLimiter = limiter })
		_, _, err := s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[1]`, Title: title("Hi")})
		assert.Equal(t, domain.ERATELIMITED, domain.ErrorCode(err))
		assert.Equal(t, time.Minute, domain.ErrorRetryAfter(err))
		assert.Zero(t, wx.calls.Load())
		_, err = s.Get(ctx, u, "d1")
		assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	})
	t.Run("without a content check titles are stored unchecked", func(t *testing.T) {
		s := &app.DrawingService{Repo: memstore.NewDrawings()}
		u := domain.Profile{}.UserInfo("oALICE")
		d, _, err := s.Put(ctx, &u, app.DrawingPut{ID: "d1", Actions: `[1]`, Title: title("Hi")})
		require.NoError(t, err)
		assert.Equal(t, "Hi", d.Title())
		assert.False(t, d.TitleInReview())
	})
}

func TestPut_Preconditions(t *testing.T) {
	s, wx, u := v2World(t)
	ctx := context.Background()
	none := domain.Precondition{IfNoneMatchAny: true}
	d, created, err := s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[1]`, Pre: none})
	require.NoError(t, err, "If-None-Match: * creates")
	assert.True(t, created)
	_, _, err = s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[2]`, Pre: none})
	assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "and only creates")

	etag := d.ETag()
	d, _, err = s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[3]`, Pre: domain.Precondition{IfMatch: []string{etag}}})
	require.NoError(t, err)
	_, _, err = s.Put(ctx, u, app.DrawingPut{ID: "d1", Actions: `[4]`, Title: title("New"), Pre: domain.Precondition{IfMatch: []string{etag}}})
	assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "the drawing changed since that ETag")
	assert.Empty(t, wx.questions(), "a refused precondition asks WeChat nothing")
	_, _, err = s.Put(ctx, u, app.DrawingPut{ID: "ghost", Actions: `[1]`, Pre: domain.Precondition{IfMatch: []string{"*"}}})
	assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "If-Match: * needs a drawing")
	got, err := s.Get(ctx, u, "d1")
	require.NoError(t, err)
	assert.Equal(t, `[3]`, got.Actions().Text())
	assert.Equal(t, d.ETag(), got.ETag())

	require.NoError(t, s.Delete(ctx, u, "d1", domain.Precondition{IfMatch: []string{got.ETag()}}))
}

// checkFunc is a ContentCheck of a function.
type checkFunc func(ctx context.Context, openID string, scene domain.ContentScene, text string) (domain.ContentSuggestion, error)

func (f checkFunc) CheckContent(ctx context.Context, openID string, scene domain.ContentScene, text string) (domain.ContentSuggestion, error) {
	return f(ctx, openID, scene, text)
}

// The title is checked outside the store's atomic step, so the drawing
// may change while WeChat is asked: the precondition is checked again
// with the save, and a save meanwhile makes the PUT a conflict.
func TestPut_ASaveWhileTheTitleIsCheckedIsAConflict(t *testing.T) {
	repo := memstore.NewDrawings()
	u := domain.Profile{}.UserInfo("oALICE")
	ctx := context.Background()
	legacy := &app.DrawingService{Repo: repo}
	require.NoError(t, legacy.Save(ctx, &u, "d1", `[1]`))
	d, err := legacy.Get(ctx, &u, "d1")
	require.NoError(t, err)
	checks := 0
	s := &app.DrawingService{Repo: repo, Content: checkFunc(func(context.Context, string, domain.ContentScene, string) (domain.ContentSuggestion, error) {
		checks++
		require.NoError(t, legacy.Save(ctx, &u, "d1", `[2]`), "another device saves meanwhile")
		return domain.ContentPass, nil
	})}
	_, _, err = s.Put(ctx, &u, app.DrawingPut{ID: "d1", Actions: `[3]`, Title: title("T"), Pre: domain.Precondition{IfMatch: []string{d.ETag()}}})
	assert.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
	assert.Equal(t, 1, checks)
	got, err := legacy.Get(ctx, &u, "d1")
	require.NoError(t, err)
	assert.Equal(t, `[2]`, got.Actions().Text(), "the other device's save stands")
	assert.Equal(t, "", got.Title())
}

func TestPut_BadInputTouchesNothing(t *testing.T) {
	s := &app.DrawingService{Repo: untouchable(t), MaxActionsBytes: 16, Content: &failingCheck{t}}
	u := domain.Profile{}.UserInfo("oALICE")
	ctx := context.Background()
	for name, p := range map[string]app.DrawingPut{
		"bad id":               {ID: "../x", Actions: `[]`},
		"actions an object":    {ID: "d1", Actions: `{}`},
		"actions a string":     {ID: "d1", Actions: `"[]"`},
		"actions not JSON":     {ID: "d1", Actions: `[1,`},
		"actions too large":    {ID: "d1", Actions: `[` + strings.Repeat("1,", 10) + `1]`},
		"title too long":       {ID: "d1", Actions: `[]`, Title: title(strings.Repeat("a", 65))},
		"title with a newline": {ID: "d1", Actions: `[]`, Title: title("a\nb")},
	} {
		_, _, err := s.Put(ctx, &u, p)
		assert.Contains(t, []string{domain.EINVALID, domain.ETOOLARGE}, domain.ErrorCode(err), name)
	}
	_, _, err := s.Put(ctx, nil, app.DrawingPut{ID: "d1", Actions: `[]`})
	assert.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(err))
	_, _, err = s.Page(ctx, &u, "", 101)
	assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	_, _, err = s.Page(ctx, &u, "", -1)
	assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	_, err = s.Get(ctx, &u, "a.svg")
	assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
}

type failingCheck struct{ t *testing.T }

func (f *failingCheck) CheckContent(context.Context, string, domain.ContentScene, string) (domain.ContentSuggestion, error) {
	f.t.Error("WeChat was asked")
	return "", nil
}

func TestPage_DefaultAndBoundsOfTheLimit(t *testing.T) {
	var limits []int
	repo := &mock.DrawingRepository{PageFn: func(_ context.Context, owner, cursor string, limit int) ([]domain.DrawingSummary, string, error) {
		assert.Equal(t, "oALICE", owner)
		limits = append(limits, limit)
		return []domain.DrawingSummary{}, "", nil
	}}
	s := &app.DrawingService{Repo: repo}
	u := domain.Profile{}.UserInfo("oALICE")
	for _, l := range []int{0, 1, 100} {
		_, _, err := s.Page(context.Background(), &u, "", l)
		require.NoError(t, err)
	}
	assert.Equal(t, []int{20, 1, 100}, limits)
}
