package app

import (
	"context"
	"io"
	"runtime"
	"strconv"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// RenderFormat is what a drawing is rendered as (PROTOCOL §7, §7.1).
type RenderFormat string

const (
	RenderSVG RenderFormat = "svg"
	RenderPNG RenderFormat = "png"
)

// RendererVersion is part of every rendering's ETag: change it when the
// same actions come to be drawn differently (the interpreter or the
// renderer), so that no client keeps an old picture under a current tag.
const RendererVersion = "r1"

// Rendering cache defaults: 256 renderings of at most 256 KiB hold at most
// 64 MiB (a 256-px thumbnail of a few strokes is a few kB; one of 2,000
// actions over the whole canvas about 160 kB).
const (
	DefaultRenderCacheEntries = 256
	MaxCachedRenderingBytes   = 256 << 10
)

// Rendering is a drawing's rendering, decided but not drawn: its ETag and
// content type are known before any work, so that a client's cached copy
// (If-None-Match) costs nothing.
type Rendering struct {
	ETag        string // strong, derived from the drawing's ETag, the format and the width
	ContentType string
	drawing     *domain.Drawing
	format      RenderFormat
	width       int
	renderer    ports.Renderer
	service     *DrawingService
	key         string // the cache's: owner and ETag
}

// Render returns the rendering of the user's drawing id as format; width
// is a PNG's w (0 for domain.DefaultRenderWidth) and must be 0 for an SVG.
// Errors: EUNAUTHORIZED without a user, EINVALID for a malformed id, an
// unknown format or a width out of domain.MinRenderWidth–MaxRenderWidth,
// ENOTFOUND, EUNAVAILABLE, EINTERNAL when no renderer is configured.
func (s *DrawingService) Render(ctx context.Context, user *domain.UserInfo, id string, format RenderFormat, width int) (*Rendering, error) {
	r := &Rendering{format: format, renderer: s.Renderer, service: s}
	switch format {
	case RenderSVG:
		if width != 0 {
			return nil, domain.Errorf(domain.EINVALID, "An SVG has no width.")
		}
		r.ContentType = "image/svg+xml"
	case RenderPNG:
		if width == 0 {
			width = domain.DefaultRenderWidth
		}
		if width < domain.MinRenderWidth || width > domain.MaxRenderWidth {
			return nil, domain.Errorf(domain.EINVALID, "The width w must be %d to %d pixels.", domain.MinRenderWidth, domain.MaxRenderWidth)
		}
		r.ContentType = "image/png"
	default:
		return nil, domain.Errorf(domain.EINVALID, "A drawing renders as svg or png.")
	}
	if s.Renderer == nil {
		return nil, domain.Errorf(domain.EINTERNAL, "No renderer is configured.")
	}
	d, err := s.Get(ctx, user, id)
	if err != nil {
		return nil, err
	}
	r.drawing, r.width = d, width
	r.ETag = renderingETag(d.ETag(), format, width)
	r.key = user.OpenID() + "\x00" + r.ETag
	return r, nil
}

func (s *DrawingService) renderSetup() {
	s.renderInit.Do(func() {
		n := s.RenderConcurrency
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		s.renderSlots = make(chan struct{}, n)
		entries := s.RenderCacheEntries
		if entries == 0 {
			entries = DefaultRenderCacheEntries
		}
		if entries > 0 {
			s.renderCache, _ = lru.New[string, []byte](entries) // errors only for a size ≤ 0
		}
	})
}

// renderingETag is `"<the drawing's tag>.<version>.<format>[.<w>]"`: strong,
// and different for every save, format, width and renderer version.
func renderingETag(drawingTag string, format RenderFormat, width int) string {
	inner := drawingTag
	if len(inner) >= 2 && inner[0] == '"' && inner[len(inner)-1] == '"' {
		inner = inner[1 : len(inner)-1]
	}
	tag := `"` + inner + "." + RendererVersion + "." + string(format)
	if format == RenderPNG {
		tag += "." + strconv.Itoa(width)
	}
	return tag + `"`
}

// Write draws the rendering into w: from the cache when the same owner's
// rendering with this ETag was drawn lately, else by interpreting the
// drawing's actions and drawing them, within RenderConcurrency (waiting
// for a turn as long as ctx lets it). The caller buffers w, since an error
// can only be answered before the first byte.
// Errors: EINVALID for actions the interpreter refuses (hostile or not
// JSON: the message names the problem), ETOOLARGE for a PNG that would
// cost more than domain.MaxRasterCost at this width, EBUSY when ctx ends
// while waiting for a turn, EINTERNAL, and what w returns.
func (r *Rendering) Write(ctx context.Context, w io.Writer) error {
	s := r.service
	s.renderSetup()
	if s.renderCache != nil {
		if b, ok := s.renderCache.Get(r.key); ok {
			_, err := w.Write(b)
			return err
		}
	}
	select {
	case s.renderSlots <- struct{}{}:
	case <-ctx.Done():
		return domain.Errorf(domain.EBUSY, "Too many drawings are being rendered; retry later.")
	}
	defer func() { <-s.renderSlots }()
	var out bytesBuffer
	if err := r.draw(&out); err != nil {
		return err
	}
	if s.renderCache != nil && len(out) <= MaxCachedRenderingBytes {
		s.renderCache.Add(r.key, out)
	}
	_, err := w.Write(out)
	return err
}

// bytesBuffer is an io.Writer that keeps what it is given.
type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

func (r *Rendering) draw(w io.Writer) error {
	scene, err := domain.InterpretActions(r.drawing.Actions().Text())
	if err != nil {
		return err
	}
	if r.format == RenderSVG {
		return r.renderer.SVG(w, scene)
	}
	raster, err := scene.Raster(r.width)
	if err != nil {
		return err
	}
	return r.renderer.PNG(w, scene, raster)
}
