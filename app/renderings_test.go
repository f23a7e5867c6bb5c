package app_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/mock"
)

// recordingRenderer is a ports.Renderer that writes what it was asked.
type recordingRenderer struct{ calls []string }

func (r *recordingRenderer) PNG(w io.Writer, s *domain.Scene, ras domain.Raster) error {
	r.calls = append(r.calls, "png")
	_, err := w.Write([]byte{byte(ras.Width >> 8), byte(ras.Width)})
	return err
}

func (r *recordingRenderer) SVG(w io.Writer, s *domain.Scene) error {
	r.calls = append(r.calls, "svg")
	_, err := io.WriteString(w, "<svg/>")
	return err
}

func TestDrawings_Render(t *testing.T) {
	ctx := context.Background()
	alice := domain.Profile{}.UserInfo("oALICE")
	stroke := `[{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[100,50]}]}]`
	actions, err := domain.ParseActions(stroke, 1<<20)
	require.NoError(t, err)
	d, err := domain.NewDrawing("oALICE", "d1", actions, time.Now())
	require.NoError(t, err)
	repo := &mock.DrawingRepository{GetFn: func(_ context.Context, owner, id string) (*domain.Drawing, error) {
		if owner == "oALICE" && id == "d1" {
			return d, nil
		}
		return nil, domain.Errorf(domain.ENOTFOUND, "No such drawing.")
	}}
	rd := &recordingRenderer{}
	s := &app.DrawingService{Repo: repo, Renderer: rd}
	inner := strings.Trim(d.ETag(), `"`)

	r, err := s.Render(ctx, &alice, "d1", app.RenderPNG, 0)
	require.NoError(t, err)
	assert.Equal(t, `"`+inner+`.r1.png.256"`, r.ETag, "w defaults to 256")
	assert.Equal(t, "image/png", r.ContentType)
	assert.Empty(t, rd.calls, "nothing is drawn before Write")
	var buf bytes.Buffer
	require.NoError(t, r.Write(context.Background(), &buf))
	assert.Equal(t, []byte{1, 0}, buf.Bytes(), "drawn at w=256")

	r, err = s.Render(ctx, &alice, "d1", app.RenderPNG, 64)
	require.NoError(t, err)
	assert.Equal(t, `"`+inner+`.r1.png.64"`, r.ETag)

	r, err = s.Render(ctx, &alice, "d1", app.RenderSVG, 0)
	require.NoError(t, err)
	assert.Equal(t, `"`+inner+`.r1.svg"`, r.ETag)
	assert.Equal(t, "image/svg+xml", r.ContentType)

	for _, tc := range []struct {
		name   string
		user   *domain.UserInfo
		id     string
		format app.RenderFormat
		w      int
		code   string
	}{
		{"no user", nil, "d1", app.RenderPNG, 0, domain.EUNAUTHORIZED},
		{"w too small", &alice, "d1", app.RenderPNG, 15, domain.EINVALID},
		{"w too large", &alice, "d1", app.RenderPNG, 1025, domain.EINVALID},
		{"w for an SVG", &alice, "d1", app.RenderSVG, 64, domain.EINVALID},
		{"another format", &alice, "d1", "gif", 0, domain.EINVALID},
		{"a malformed id", &alice, "d/1", app.RenderPNG, 0, domain.EINVALID},
		{"an unknown id", &alice, "d2", app.RenderPNG, 0, domain.ENOTFOUND},
	} {
		_, err := s.Render(ctx, tc.user, tc.id, tc.format, tc.w)
		assert.Equal(t, tc.code, domain.ErrorCode(err), tc.name)
	}
	_, err = (&app.DrawingService{Repo: repo}).Render(ctx, &alice, "d1", app.RenderSVG, 0)
	assert.Equal(t, domain.EINTERNAL, domain.ErrorCode(err), "no renderer configured")
}

func TestDrawings_RenderOfHostileActionsIsRefusedWhenWritten(t *testing.T) {
	actions, err := domain.ParseActions(`[[[[[[[[[[1]]]]]]]]]]`, 1<<20)
	require.NoError(t, err)
	d, err := domain.NewDrawing("oALICE", "d1", actions, time.Now())
	require.NoError(t, err)
	repo := &mock.DrawingRepository{GetFn: func(context.Context, string, string) (*domain.Drawing, error) { return d, nil }}
	rd := &recordingRenderer{}
	alice := domain.Profile{}.UserInfo("oALICE")
	r, err := (&app.DrawingService{Repo: repo, Renderer: rd}).Render(context.Background(), &alice, "d1", app.RenderPNG, 0)
	require.NoError(t, err, "the ETag needs no interpretation")
	err = r.Write(context.Background(), io.Discard)
	assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	assert.Empty(t, rd.calls, "the renderer never sees it")
}

// blockingRenderer draws only when released, counting the draws under way.
type blockingRenderer struct {
	release chan struct{}
	started chan struct{}
	size    int
}

func (r *blockingRenderer) PNG(w io.Writer, _ *domain.Scene, _ domain.Raster) error {
	r.started <- struct{}{}
	<-r.release
	_, err := w.Write(make([]byte, r.size))
	return err
}

func (r *blockingRenderer) SVG(w io.Writer, s *domain.Scene) error {
	return r.PNG(w, s, domain.Raster{})
}

func renderFixture(t *testing.T) (*mock.DrawingRepository, *domain.Drawing, domain.UserInfo) {
	t.Helper()
	stroke := `[{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[100,50]}]}]`
	actions, err := domain.ParseActions(stroke, 1<<20)
	require.NoError(t, err)
	d, err := domain.NewDrawing("oALICE", "d1", actions, time.Now())
	require.NoError(t, err)
	repo := &mock.DrawingRepository{GetFn: func(_ context.Context, owner, id string) (*domain.Drawing, error) {
		if owner == "oALICE" && id == "d1" {
			return d, nil
		}
		return nil, domain.Errorf(domain.ENOTFOUND, "No such drawing.")
	}}
	return repo, d, domain.Profile{}.UserInfo("oALICE")
}

func TestDrawings_RenderingIsDrawnOncePerETagThenServedFromTheCache(t *testing.T) {
	ctx := context.Background()
	repo, d, alice := renderFixture(t)
	rd := &recordingRenderer{}
	s := &app.DrawingService{Repo: repo, Renderer: rd}

	var first, second bytes.Buffer
	r, err := s.Render(ctx, &alice, "d1", app.RenderPNG, 128)
	require.NoError(t, err)
	require.NoError(t, r.Write(ctx, &first))
	r, err = s.Render(ctx, &alice, "d1", app.RenderPNG, 128)
	require.NoError(t, err)
	require.NoError(t, r.Write(ctx, &second))
	assert.Equal(t, []string{"png"}, rd.calls, "the second ask of the same rendering draws nothing")
	assert.Equal(t, first.Bytes(), second.Bytes())

	r, err = s.Render(ctx, &alice, "d1", app.RenderPNG, 64)
	require.NoError(t, err)
	require.NoError(t, r.Write(ctx, io.Discard))
	assert.Len(t, rd.calls, 2, "another width is another rendering")

	// A save draws a new revision: its rendering has a new tag and is drawn.
	actions, err := domain.ParseActions(`[{"method":"strokePath","data":[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[9,9]}]}]`, 1<<20)
	require.NoError(t, err)
	require.NoError(t, d.ReplaceActions(actions, time.Now()))
	r, err = s.Render(ctx, &alice, "d1", app.RenderPNG, 128)
	require.NoError(t, err)
	require.NoError(t, r.Write(ctx, io.Discard))
	assert.Len(t, rd.calls, 3, "a saved drawing is drawn again")

	off := &app.DrawingService{Repo: repo, Renderer: rd, RenderCacheEntries: -1}
	for range 2 {
		r, err = off.Render(ctx, &alice, "d1", app.RenderPNG, 128)
		require.NoError(t, err)
		require.NoError(t, r.Write(ctx, io.Discard))
	}
	assert.Len(t, rd.calls, 5, "with the cache off every ask draws")
}

func TestDrawings_RenderingsLargerThanTheCacheTakesAreDrawnEveryTime(t *testing.T) {
	ctx := context.Background()
	repo, _, alice := renderFixture(t)
	rd := &blockingRenderer{release: make(chan struct{}), started: make(chan struct{}, 4), size: app.MaxCachedRenderingBytes + 1}
	close(rd.release)
	s := &app.DrawingService{Repo: repo, Renderer: rd}
	for range 2 {
		r, err := s.Render(ctx, &alice, "d1", app.RenderSVG, 0)
		require.NoError(t, err)
		var b bytes.Buffer
		require.NoError(t, r.Write(ctx, &b))
		assert.Equal(t, app.MaxCachedRenderingBytes+1, b.Len())
	}
	assert.Len(t, rd.started, 2, "too large to keep: drawn twice")
}

func TestDrawings_RenderingsBeyondTheConcurrencyWaitAndGiveUpWithTheirContext(t *testing.T) {
	ctx := context.Background()
	repo, _, alice := renderFixture(t)
	rd := &blockingRenderer{release: make(chan struct{}), started: make(chan struct{}, 4), size: 10}
	s := &app.DrawingService{Repo: repo, Renderer: rd, RenderConcurrency: 1, RenderCacheEntries: -1}

	r1, err := s.Render(ctx, &alice, "d1", app.RenderPNG, 0)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- r1.Write(ctx, io.Discard) }()
	<-rd.started // the one slot is taken

	r2, err := s.Render(ctx, &alice, "d1", app.RenderPNG, 0)
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err = r2.Write(short, io.Discard)
	assert.Equal(t, domain.EBUSY, domain.ErrorCode(err), "no slot before the request's end: busy, nothing drawn")
	assert.Empty(t, rd.started, "the second rendering never started")

	close(rd.release)
	require.NoError(t, <-done)
	require.NoError(t, r2.Write(ctx, io.Discard), "once the slot is free the next one draws")
}
