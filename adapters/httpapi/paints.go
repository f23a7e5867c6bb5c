package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"time"
	"unicode/utf8"

	"github.com/onestroke/onestroke/domain"
)

// getSession answers {"wxUserInfo": {...}} or {"wxUserInfo": null}.
func (s *Server) getSession(w http.ResponseWriter, r *http.Request, user *domain.UserInfo) {
	if user == nil {
		writeBody(w, http.StatusOK, []byte(`{"wxUserInfo":null}`))
		return
	}
	b := getBuf()
	defer putBuf(b)
	b.WriteString(`{"wxUserInfo":`)
	b.Write(user.JSON())
	b.WriteByte('}')
	writeBody(w, http.StatusOK, b.Bytes())
}

// listBufferBytes is what the list answer gathers before it starts to go
// out: an answer that fits (100 ordinary drawings) is written in one go
// with a Content-Length, a longer one is streamed, drawing by drawing, as
// the store's batches come.
const listBufferBytes = 64 << 10

// listPaints answers the legacy list without ever holding it whole: the
// memory of one list is a batch of the store's (at most a drawing beyond
// DrawingService.ListBatchBytes) plus the buffer.
func (s *Server) listPaints(w http.ResponseWriter, r *http.Request, user *domain.UserInfo, _ paintForm) {
	lw := listWriter{w: w, buf: getBuf()}
	defer putBuf(lw.buf)
	b := lw.buf
	b.WriteString(`{"code":0,"msg":"success","data":[`)
	n := 0
	err := s.cfg.Drawings.EachListed(r.Context(), user, func(d *domain.Drawing) error {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(`{"id":`)
		appendJSONString(b, d.ID())
		b.WriteString(`,"actions":`)
		if q := d.Actions().Quoted(); b.Len()+len(q) <= listBufferBytes {
			b.WriteString(q)
		} else if err := lw.writeString(q); err != nil {
			return err
		}
		b.WriteByte('}')
		if b.Len() >= listBufferBytes {
			return lw.flush()
		}
		return nil
	})
	switch {
	case err != nil && lw.writeErr != nil:
		return // the client is gone
	case err != nil && !lw.started:
		s.writeBusinessError(w, r, err)
		return
	case err != nil:
		// The status went out with the first bytes. Ending the answer
		// would hand the client a shorter list that parses; aborting the
		// connection makes its request fail, and it can retry.
		s.logError(r, http.StatusInternalServerError, err)
		panic(http.ErrAbortHandler)
	}
	b.WriteString(`]}`)
	if !lw.started {
		writeBody(w, http.StatusOK, b.Bytes())
		return
	}
	_ = lw.flush()
}

// listWriter sends a list answer: the headers with the first flush, then
// what the buffer gathered, or a drawing's actions straight from the store's
// copy (io.WriteString: no second copy of a megabyte string).
type listWriter struct {
	w        http.ResponseWriter
	buf      *bytes.Buffer
	started  bool
	writeErr error
}

func (lw *listWriter) flush() error {
	if !lw.started {
		lw.started = true
		h := lw.w.Header()
		h["Content-Type"] = headerJSON[:1:1]
		h["Cache-Control"] = headerNoStore[:1:1]
		lw.w.WriteHeader(http.StatusOK)
	}
	_, err := lw.w.Write(lw.buf.Bytes())
	lw.buf.Reset()
	if err != nil {
		lw.writeErr = err
	}
	return err
}

func (lw *listWriter) writeString(s string) error {
	if err := lw.flush(); err != nil {
		return err
	}
	if _, err := io.WriteString(lw.w, s); err != nil {
		lw.writeErr = err
		return err
	}
	return nil
}

func (s *Server) savePaint(w http.ResponseWriter, r *http.Request, user *domain.UserInfo, form paintForm) {
	if err := s.cfg.Drawings.Save(r.Context(), user, form.ID, form.Actions); err != nil {
		s.writeBusinessError(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, successEmpty)
}

func (s *Server) deletePaint(w http.ResponseWriter, r *http.Request, user *domain.UserInfo, form paintForm) {
	if err := s.cfg.Drawings.Delete(r.Context(), user, form.ID, domain.Precondition{}); err != nil {
		s.writeBusinessError(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, successEmpty)
}

// paintForm is the body of save and delete: {id, actions}.
type paintForm struct {
	ID      string `json:"id"`
	Actions string `json:"actions"`
}

// readBody reads r's body into buf, within limit bytes and BodyTimeout,
// and returns it (valid until buf is put back). buf grows once to the
// announced length: a drawing body is up to megabytes, and nothing that
// reads the result keeps a reference to it.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, limit int64) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n <= limit {
		buf.Grow(int(n) + bytes.MinRead) // ReadFrom wants MinRead free to see the end
	}
	// The body's own deadline: a slow upload gives up its user's slot
	// after BodyTimeout, whatever the server's ReadTimeout.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout))
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, domain.Errorf(domain.ETOOLARGE, "The request body is larger than %d bytes.", limit)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, &domain.Error{Code: codeBodyTimeout, Message: fmt.Sprintf("The request body did not arrive within %s.", s.cfg.BodyTimeout), Err: err}
		}
		return nil, domain.Wrap(domain.EINVALID, err, "The request body could not be read.")
	}
	// JSON text is UTF-8 (RFC 8259), and so is every form body a client of
	// this protocol sends. encoding/json would turn other bytes into U+FFFD
	// and what it carries would be stored mangled: refuse the body instead.
	if !utf8.Valid(buf.Bytes()) {
		return nil, domain.Errorf(domain.EINVALID, "The request body is not valid UTF-8.")
	}
	return buf.Bytes(), nil
}

// readPaintForm reads a JSON or form-encoded body within the body limit
// and BodyTimeout.
func (s *Server) readPaintForm(w http.ResponseWriter, r *http.Request) (paintForm, error) {
	var f paintForm
	mediaType := ""
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			return f, &domain.Error{Code: codeUnsupportedMediaType, Message: "Content-Type is malformed."}
		}
		if cs, ok := params["charset"]; ok && cs != "utf-8" && cs != "UTF-8" {
			return f, &domain.Error{Code: codeUnsupportedMediaType, Message: "Only UTF-8 bodies are accepted."}
		}
		mediaType = mt
	}
	if mediaType != "application/json" && mediaType != "application/x-www-form-urlencoded" {
		return f, &domain.Error{Code: codeUnsupportedMediaType, Message: "Send the body as application/json or application/x-www-form-urlencoded."}
	}

	buf := getBuf()
	defer putBuf(buf)
	body, err := s.readBody(w, r, buf, s.cfg.MaxBodyBytes)
	if err != nil {
		return f, err
	}

	if mediaType == "application/json" {
		if fast, ok := decodePaintForm(body); ok {
			return fast, nil
		}
		if err := json.Unmarshal(body, &f); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) && typeErr.Field != "" {
				return f, domain.Errorf(domain.EINVALID, "Field %q must be a string.", typeErr.Field)
			}
			return f, domain.Errorf(domain.EINVALID, "The body is not a JSON object.")
		}
		return f, nil
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return f, domain.Errorf(domain.EINVALID, "The body is not valid form encoding.")
	}
	f.ID, f.Actions = values.Get("id"), values.Get("actions")
	return f, nil
}
