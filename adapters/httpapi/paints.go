package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

func (s *Server) listPaints(w http.ResponseWriter, r *http.Request, user *domain.UserInfo, _ paintForm) {
	drawings, err := s.cfg.Drawings.List(r.Context(), user)
	if err != nil {
		s.writeBusinessError(w, r, err)
		return
	}
	b := getBuf()
	defer putBuf(b)
	size := 64
	for _, d := range drawings {
		size += len(d.ID()) + d.Actions().Len()*9/8 + 32
	}
	b.Grow(size) // one allocation for the whole answer, not a doubling series
	b.WriteString(`{"code":0,"msg":"success","data":[`)
	for i, d := range drawings {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":`)
		appendJSONString(b, d.ID())
		b.WriteString(`,"actions":`)
		b.WriteString(d.Actions().Quoted())
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	writeBody(w, http.StatusOK, b.Bytes())
}

func (s *Server) savePaint(w http.ResponseWriter, r *http.Request, user *domain.UserInfo, form paintForm) {
	if err := s.cfg.Drawings.Save(r.Context(), user, form.ID, form.Actions); err != nil {
		s.writeBusinessError(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, successEmpty)
}

func (s *Server) deletePaint(w http.ResponseWriter, r *http.Request, user *domain.UserInfo, form paintForm) {
	if err := s.cfg.Drawings.Delete(r.Context(), user, form.ID); err != nil {
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

	// A pooled buffer, grown once to the announced length: a drawing body
	// is up to megabytes, and nothing below keeps a reference to it (the
	// parsers copy what they return).
	buf := getBuf()
	defer putBuf(buf)
	if n := r.ContentLength; n > 0 && n <= s.cfg.MaxBodyBytes {
		buf.Grow(int(n) + bytes.MinRead) // ReadFrom wants MinRead free to see the end
	}
	// The body's own deadline: a slow upload gives up its user's slot
	// after BodyTimeout, whatever the server's ReadTimeout.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	body := buf.Bytes()
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return f, domain.Errorf(domain.ETOOLARGE, "The request body is larger than %d bytes.", s.cfg.MaxBodyBytes)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return f, &domain.Error{Code: codeBodyTimeout, Message: fmt.Sprintf("The request body did not arrive within %s.", s.cfg.BodyTimeout), Err: err}
		}
		return f, domain.Wrap(domain.EINVALID, err, "The request body could not be read.")
	}
	// JSON text is UTF-8 (RFC 8259), and so is every form body a client of
	// this protocol sends. encoding/json would turn other bytes into U+FFFD
	// and the drawing would be stored mangled: refuse the body instead.
	if !utf8.Valid(body) {
		return f, domain.Errorf(domain.EINVALID, "The request body is not valid UTF-8.")
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
