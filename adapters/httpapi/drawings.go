package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
)

// The v2 drawing routes (PROTOCOL §7) under the base path: bearer tokens,
// JSON bodies, the business envelope, ETags and conditional requests. The
// drawings are the legacy routes' own (one repository, one owner scope):
// a drawing saved through either is the same drawing in the other.

// registerV2Drawings adds the v2 drawing routes. An id is
// [A-Za-z0-9_-]: a path with a dot in its last segment is a rendering
// ({id}.svg, {id}.png) or nothing.
func (s *Server) registerV2Drawings(handle func(path string, h http.Handler, methods ...string)) {
	base := s.cfg.BasePath + "/v2/drawings"
	one := base + "/{id:[A-Za-z0-9_-]+}"
	handle(base, s.bearer(s.v2Drawing(false, s.v2ListDrawings)), http.MethodGet)
	handle(one, s.bearer(s.v2Drawing(false, s.v2GetDrawing)), http.MethodGet)
	handle(one, s.bearer(s.v2Drawing(true, s.v2PutDrawing)), http.MethodPut)
	handle(one, s.bearer(s.v2Drawing(false, s.v2DeleteDrawing)), http.MethodDelete)
	handle(one+".svg", s.bearer(s.v2Drawing(false, s.v2Render(app.RenderSVG))), http.MethodGet)
	handle(one+".png", s.bearer(s.v2Drawing(false, s.v2Render(app.RenderPNG))), http.MethodGet)
}

// headerRenderingCache: a client may show a rendering for 5 minutes without asking
// again; after it, If-None-Match makes the question cheap.
var headerRenderingCache = []string{"private, max-age=300"}

// v2Render serves GET {id}.svg and {id}.png?w=: the drawing rendered
// (PROTOCOL §7.1) with an ETag of its own; If-None-Match with it (or *)
// answers 304 before anything is drawn. Errors in the v2 envelope.
func (s *Server) v2Render(format app.RenderFormat) v2DrawingHandler {
	return func(w http.ResponseWriter, r *http.Request, user *domain.UserInfo, _ v2Body) {
		width := 0
		if v, ok := r.URL.Query()["w"]; ok && format == app.RenderPNG {
			n, err := strconv.Atoi(v[0])
			if err != nil || n < domain.MinRenderWidth || n > domain.MaxRenderWidth {
				s.writeV2Error(w, r, domain.Errorf(domain.EINVALID, "The width w must be %d to %d pixels.", domain.MinRenderWidth, domain.MaxRenderWidth))
				return
			}
			width = n
		}
		rd, err := s.cfg.Drawings.Render(r.Context(), user, mux.Vars(r)["id"], format, width)
		if err != nil {
			s.writeV2Error(w, r, err)
			return
		}
		h := w.Header()
		if noneMatch(r.Header, rd.ETag) {
			h["Etag"] = []string{rd.ETag}
			h["Cache-Control"] = headerRenderingCache
			w.WriteHeader(http.StatusNotModified)
			return
		}
		b := getBuf()
		defer putBuf(b)
		if err := rd.Write(r.Context(), b); err != nil {
			s.writeV2Error(w, r, err)
			return
		}
		h["Etag"] = []string{rd.ETag}
		h["Cache-Control"] = headerRenderingCache
		h["Content-Type"] = []string{rd.ContentType}
		h["X-Content-Type-Options"] = []string{"nosniff"}
		if format == app.RenderSVG {
			// Opened on its own, the SVG may run nothing and load nothing.
			h["Content-Security-Policy"] = []string{"default-src 'none'; style-src 'unsafe-inline'; sandbox"}
		}
		h["Content-Length"] = []string{strconv.Itoa(b.Len())}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b.Bytes())
	}
}

// noneMatch reports whether If-None-Match names etag (weak comparison, RFC
// 9110 §13.1.2) or is *. A malformed value matches nothing: the rendering
// is sent.
func noneMatch(h http.Header, etag string) bool {
	for _, v := range h["If-None-Match"] {
		tags, ok := entityTags(v)
		if !ok {
			continue
		}
		for _, t := range tags {
			if t == "*" || strings.TrimPrefix(t, "W/") == etag {
				return true
			}
		}
	}
	return false
}

// v2DrawingHandler serves a v2 drawing route: its user and, for a PUT, its
// body already read.
type v2DrawingHandler func(w http.ResponseWriter, r *http.Request, user *domain.UserInfo, body v2Body)

// v2Drawing guards a v2 drawing route as drawing guards a legacy one: the
// user's DrawingsPerUser slot for the whole request, the body read within
// MaxBodyBytes and BodyTimeout, then one of the DrawingConcurrency slots
// for the work; failures in the v2 envelope.
func (s *Server) v2Drawing(readBody bool, next v2DrawingHandler) tokenHandler {
	return func(w http.ResponseWriter, r *http.Request, sess *domain.TokenSession) {
		user := domain.Profile{}.UserInfo(sess.OpenID())
		release, err := s.userSlots.acquire(r.Context(), sess.OpenID(), s.cfg.DrawingWait)
		if err != nil {
			if r.Context().Err() == nil {
				s.writeV2Error(w, r, err)
			}
			return
		}
		defer release()
		var body v2Body
		if readBody {
			if body, err = s.readV2BodyWithin(w, r, s.cfg.MaxBodyBytes); err != nil {
				s.writeV2Error(w, r, err)
				return
			}
		}
		if err := acquire(r.Context(), s.drawingSlots, s.cfg.DrawingWait); err != nil {
			if r.Context().Err() == nil {
				s.writeV2Error(w, r, err)
			}
			return
		}
		defer func() { <-s.drawingSlots }()
		next(w, r, &user, body)
	}
}

func (s *Server) v2ListDrawings(w http.ResponseWriter, r *http.Request, user *domain.UserInfo, _ v2Body) {
	q := r.URL.Query()
	limit := 0 // the use case's default
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 {
			s.writeV2Error(w, r, domain.Errorf(domain.EINVALID, "limit must be 1 to %d.", app.MaxPageLimit))
			return
		}
		limit = n
	}
	items, next, err := s.cfg.Drawings.Page(r.Context(), user, q.Get("cursor"), limit)
	if err != nil {
		s.writeV2Error(w, r, err)
		return
	}
	b := startData()
	defer putBuf(b)
	b.WriteString(`{"items":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		appendSummary(b, it)
	}
	b.WriteString(`],"next":`)
	if next == "" {
		b.WriteString("null")
	} else {
		appendJSONString(b, next)
	}
	b.WriteByte('}')
	endData(w, b)
}

// appendSummary writes a page's item: {"id","title","createdAt",
// "updatedAt","bytes","etag"}, and "titleInReview":true while WeChat's
// content check has the title under review.
func appendSummary(b *bytes.Buffer, it domain.DrawingSummary) {
	b.WriteString(`{"id":`)
	appendJSONString(b, it.ID)
	b.WriteString(`,"title":`)
	appendJSONString(b, it.Title)
	if it.TitleInReview {
		b.WriteString(`,"titleInReview":true`)
	}
	b.WriteString(`,"createdAt":`)
	appendTime(b, it.CreatedAt)
	b.WriteString(`,"updatedAt":`)
	appendTime(b, it.UpdatedAt)
	b.WriteString(`,"bytes":`)
	b.WriteString(strconv.FormatInt(it.Bytes, 10))
	b.WriteString(`,"etag":`)
	appendJSONString(b, it.ETag())
	b.WriteByte('}')
}

func (s *Server) v2GetDrawing(w http.ResponseWriter, r *http.Request, user *domain.UserInfo, _ v2Body) {
	d, err := s.cfg.Drawings.Get(r.Context(), user, mux.Vars(r)["id"])
	if err != nil {
		s.writeV2Error(w, r, err)
		return
	}
	text := d.Actions().Text()
	b := startData()
	defer putBuf(b)
	b.Grow(len(text) + 256)
	b.WriteString(`{"id":`)
	appendJSONString(b, d.ID())
	b.WriteString(`,"title":`)
	appendJSONString(b, d.Title())
	if d.TitleInReview() {
		b.WriteString(`,"titleInReview":true`)
	}
	b.WriteString(`,"actions":`)
	// The JSON text itself, as the legacy list hands it to JSON.parse. A
	// document of the original service may hold text that is not JSON
	// (it stored what it was sent): that goes out as a string, so that
	// the answer still parses.
	if json.Valid([]byte(text)) {
		b.WriteString(text)
	} else {
		b.WriteString(d.Actions().Quoted())
	}
	b.WriteString(`,"createdAt":`)
	appendTime(b, d.CreatedAt())
	b.WriteString(`,"updatedAt":`)
	appendTime(b, d.UpdatedAt())
	b.WriteByte('}')
	w.Header()["Etag"] = []string{d.ETag()}
	endData(w, b)
}

func (s *Server) v2PutDrawing(w http.ResponseWriter, r *http.Request, user *domain.UserInfo, body v2Body) {
	id := mux.Vars(r)["id"]
	put := app.DrawingPut{ID: id}
	var err error
	put.Title, err = body.str("title")
	if err == nil {
		put.Pre, err = preconditionOf(r.Header, true)
	}
	if err == nil {
		raw, ok := body["actions"]
		if !ok {
			err = domain.Errorf(domain.EINVALID, "The body needs actions, the canvas action list (a JSON array).")
		}
		put.Actions = string(raw) // the array's text as sent: the legacy list returns it verbatim
	}
	var d *domain.Drawing
	var created bool
	if err == nil {
		d, created, err = s.cfg.Drawings.Put(r.Context(), user, put)
	}
	if err != nil {
		s.writeV2Error(w, r, err)
		return
	}
	b := startData()
	defer putBuf(b)
	appendSummary(b, d.Summary())
	b.WriteByte('}')
	h := w.Header()
	h["Etag"] = []string{d.ETag()}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		h["Location"] = []string{s.cfg.BasePath + "/v2/drawings/" + id}
	}
	writeBody(w, status, b.Bytes())
}

func (s *Server) v2DeleteDrawing(w http.ResponseWriter, r *http.Request, user *domain.UserInfo, _ v2Body) {
	pre, err := preconditionOf(r.Header, false)
	if err == nil {
		err = s.cfg.Drawings.Delete(r.Context(), user, mux.Vars(r)["id"], pre)
	}
	if err != nil {
		s.writeV2Error(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, successEmpty)
}

// preconditionOf reads If-Match (one or several entity tags, every value
// of the header, or *) and If-None-Match (* only, and only where
// noneMatch: a PUT that must create). Errors: EINVALID for a value that is
// not a list of entity tags, or an If-None-Match this route does not
// take.
func preconditionOf(h http.Header, noneMatch bool) (domain.Precondition, error) {
	var p domain.Precondition
	for _, v := range h["If-Match"] {
		tags, ok := entityTags(v)
		if !ok {
			return p, domain.Errorf(domain.EINVALID, "If-Match must be * or a list of entity tags (the ETag as answered, in double quotes).")
		}
		p.IfMatch = append(p.IfMatch, tags...)
	}
	if vs, ok := h["If-None-Match"]; ok {
		if !noneMatch || len(vs) != 1 || strings.TrimSpace(vs[0]) != "*" {
			return p, domain.Errorf(domain.EINVALID, "Only If-None-Match: * is taken, on a PUT (create only).")
		}
		p.IfNoneMatchAny = true
	}
	return p, nil
}

// entityTags splits a header value into its entity tags (RFC 9110 §8.8.3:
// "*", or a comma-separated list of `"…"` and `W/"…"`), kept as sent so
// that a weak one never compares equal to a strong ETag.
func entityTags(v string) ([]string, bool) {
	if strings.TrimSpace(v) == "*" {
		return []string{"*"}, true
	}
	var tags []string
	rest := v
	for {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			return tags, len(tags) > 0
		}
		start := rest
		if strings.HasPrefix(rest, "W/") {
			rest = rest[2:]
		}
		if !strings.HasPrefix(rest, `"`) {
			return nil, false
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return nil, false
		}
		for _, c := range []byte(rest[1 : 1+end]) {
			if c < 0x21 || c == 0x7f { // etagc: no space, no control
				return nil, false
			}
		}
		tags = append(tags, start[:len(start)-len(rest)+end+2])
		rest = strings.TrimLeft(rest[end+2:], " \t")
		if rest == "" {
			return tags, true
		}
		if rest[0] != ',' {
			return nil, false
		}
		rest = rest[1:]
	}
}
