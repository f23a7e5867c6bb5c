package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/onestroke/onestroke/domain"
)

// SessionErrorKey marks a session error body for the client library
// (PROTOCOL §2).
const SessionErrorKey = "F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"

const contentTypeJSON = "application/json; charset=utf-8"

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 { // do not keep a huge list's buffer alive
		bufPool.Put(b)
	}
}

// Header values every answer shares. net/http only reads them; a handler
// that added a value would append to a copy (their capacity is 1).
var (
	headerJSON    = []string{contentTypeJSON}
	headerNoStore = []string{"no-store"}
)

// setRetryAfter sets Retry-After, in whole seconds rounded up, when err
// says how long to wait (ERATELIMITED, EBUSY).
func setRetryAfter(w http.ResponseWriter, err error) {
	if d := domain.ErrorRetryAfter(err); d > 0 {
		w.Header()["Retry-After"] = []string{strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)}
	}
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = headerJSON[:1:1]
	h["Cache-Control"] = headerNoStore[:1:1]
	if len(body) > 2048 {
		// net/http sets Content-Length itself only for answers it holds
		// whole (2 kB); a longer one would go out chunked.
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

var successEmpty = []byte(`{"code":0,"msg":"success","data":{}}`)

// writeBusinessError answers {"code":-1,"msg":"fail","error":{"reason":…,"message":…}}.
func (s *Server) writeBusinessError(w http.ResponseWriter, r *http.Request, err error) {
	o := outcomeOf(err)
	s.writeFailure(w, r, o.status, o.reason, err)
}

// writeV2Error answers a v2 route's failure (PROTOCOL §6): the business
// envelope with the v2 column's status and reason, and its
// WWW-Authenticate challenge.
func (s *Server) writeV2Error(w http.ResponseWriter, r *http.Request, err error) {
	m := outcomeOf(err).modern()
	if m.challenge != "" {
		w.Header()["Www-Authenticate"] = []string{m.challenge}
	}
	s.writeFailure(w, r, m.status, m.reason, err)
}

func (s *Server) writeFailure(w http.ResponseWriter, r *http.Request, status int, reason string, err error) {
	s.logError(r, status, err)
	setRetryAfter(w, err)
	b := getBuf()
	defer putBuf(b)
	b.WriteString(`{"code":-1,"msg":"fail","error":{"reason":`)
	appendJSONString(b, reason)
	b.WriteString(`,"message":`)
	appendJSONString(b, domain.ErrorMessage(err))
	b.WriteString(`}}`)
	writeBody(w, status, b.Bytes())
}

// writeSessionError answers the session error body of PROTOCOL §2, members
// in the order the original wrote them.
func (s *Server) writeSessionError(w http.ResponseWriter, r *http.Request, err error) {
	o := outcomeOf(err)
	s.writeSessionBody(w, r, o, err)
}

// writeBearerSessionError answers a legacy route's refusal of a bearer
// token: the session error body the route speaks, with the challenge of
// PROTOCOL §6.
func (s *Server) writeBearerSessionError(w http.ResponseWriter, r *http.Request, err error) {
	o := outcomeOf(err)
	if c := o.modern().challenge; c != "" {
		w.Header()["Www-Authenticate"] = []string{c}
	}
	s.writeSessionBody(w, r, o, err)
}

func (s *Server) writeSessionBody(w http.ResponseWriter, r *http.Request, o outcome, err error) {
	s.logError(r, o.status, err)
	setRetryAfter(w, err)
	b := getBuf()
	defer putBuf(b)
	b.WriteString(`{"` + SessionErrorKey + `":1`)
	if o.sessionReason != "" {
		b.WriteString(`,"reason":`)
		appendJSONString(b, o.sessionReason)
	}
	b.WriteString(`,"error":{"name":"Error","message":`)
	appendJSONString(b, domain.ErrorMessage(err))
	b.WriteString(`,"detail":`)
	detail, mErr := json.Marshal(domain.ErrorDetail(err))
	if mErr != nil || string(detail) == "null" {
		detail = []byte("{}")
	}
	b.Write(detail)
	b.WriteString(`}}`)
	writeBody(w, o.status, b.Bytes())
}

// logError logs failures that operators must see (5xx) at error level and
// the rest at debug; never a secret, never a session header value.
func (s *Server) logError(r *http.Request, status int, err error) {
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	}
	s.logger.LogAttrs(r.Context(), level, "request failed",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status),
		slog.String("code", domain.ErrorCode(err)), slog.String("error", err.Error()))
}
