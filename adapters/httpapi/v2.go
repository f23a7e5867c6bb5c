package httpapi

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
)

// The routes of the modern sessions (PROTOCOL §6) under the base path: JSON
// bodies, the business envelope, times in RFC 3339 UTC, bearer tokens.

// MaxV2BodyBytes bounds a v2 session route's body: a login or a profile
// change is well under a kilobyte.
const MaxV2BodyBytes = 16 << 10

const headerAuthorization = "Authorization"

// registerV2 adds the v2 session routes, and the v2 drawing routes
// (drawings.go).
func (s *Server) registerV2(handle func(path string, h http.Handler, methods ...string)) {
	v2 := s.cfg.BasePath + "/v2"
	handle(v2+"/login", http.HandlerFunc(s.v2Login), http.MethodPost)
	handle(v2+"/me", s.bearer(s.v2Me), http.MethodGet)
	handle(v2+"/me", s.bearer(s.platform(s.v2UpdateMe)), http.MethodPatch)
	handle(v2+"/me/phone", s.bearer(s.platform(s.v2Phone)), http.MethodPost)
	handle(v2+"/me/decrypt", s.bearer(s.platform(s.v2Decrypt)), http.MethodPost)
	handle(v2+"/sessions", s.bearer(s.v2Sessions), http.MethodGet)
	handle(v2+"/sessions/{sessionId:[A-Za-z0-9_-]{1,64}}", s.bearer(s.v2RevokeSession), http.MethodDelete)
	handle(v2+"/logout", s.bearer(s.v2Logout), http.MethodPost)
	handle(v2+"/logout-all", s.bearer(s.v2LogoutAll), http.MethodPost)
	if s.cfg.Drawings != nil {
		s.registerV2Drawings(handle)
	}
}

// tokenHandler serves a v2 route with the caller's live session.
type tokenHandler func(w http.ResponseWriter, r *http.Request, sess *domain.TokenSession)

// bearer authenticates a v2 request by its token: one store read.
func (s *Server) bearer(next tokenHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.cfg.Tokens.Authenticate(r.Context(), firstValue(r.Header, headerAuthorization))
		if err != nil {
			s.writeV2Error(w, r, err)
			return
		}
		next(w, r, sess)
	})
}

// isBearer reports whether an Authorization value names the Bearer scheme,
// well-formed or not: a legacy route then serves the token's user, and
// X-WX-* headers are ignored.
func isBearer(v string) bool {
	scheme, _, _ := strings.Cut(v, " ")
	return strings.EqualFold(scheme, "Bearer")
}

func (s *Server) v2Login(w http.ResponseWriter, r *http.Request) {
	body, err := s.readV2Body(w, r)
	var code, device *string
	if err == nil {
		code, err = body.str("code")
	}
	if err == nil {
		device, err = body.str("device")
	}
	if err == nil && code == nil {
		err = domain.Errorf(domain.EINVALID, "The body needs the code wx.login gave.")
	}
	if err != nil {
		s.writeV2Error(w, r, err)
		return
	}
	req := app.LoginRequest{Code: *code, Client: s.clientAddr(r)}
	if device != nil {
		req.Device = *device
	}
	l, err := s.cfg.Tokens.Login(r.Context(), req)
	if err != nil {
		s.writeV2Error(w, r, err)
		return
	}
	b := startData()
	defer putBuf(b)
	b.WriteString(`{"token":`)
	appendJSONString(b, l.Token.Reveal()) // the one answer that carries it
	b.WriteString(`,"sessionId":`)
	appendJSONString(b, l.Session.ID())
	b.WriteString(`,"openId":`)
	appendJSONString(b, l.Session.OpenID())
	if u := l.Session.UnionID(); u != "" {
		b.WriteString(`,"unionId":`)
		appendJSONString(b, u)
	}
	b.WriteString(`,"expiresAt":`)
	appendTime(b, l.Session.ExpiresAt())
	b.WriteString(`,"idleTimeout":`)
	b.WriteString(strconv.FormatInt(int64(s.cfg.Tokens.IdleTimeout()/time.Second), 10))
	b.WriteByte('}')
	endData(w, b)
}

func (s *Server) v2Me(w http.ResponseWriter, r *http.Request, sess *domain.TokenSession) {
	p, err := s.cfg.Tokens.Profile(r.Context(), sess)
	if err != nil {
		s.writeV2Error(w, r, err)
		return
	}
	s.writeProfile(w, sess, p)
}

func (s *Server) v2UpdateMe(w http.ResponseWriter, r *http.Request, sess *domain.TokenSession) {
	body, err := s.readV2Body(w, r)
	var u domain.ProfileUpdate
	if err == nil {
		u.NickName, err = body.str("nickName")
	}
	if err == nil {
		u.AvatarURL, err = body.str("avatarUrl")
	}
	var p domain.Profile
	if err == nil {
		p, err = s.cfg.Tokens.UpdateProfile(r.Context(), sess, u)
	}
	if err != nil {
		s.writeV2Error(w, r, err)
		return
	}
	s.writeProfile(w, sess, p)
}

// writeProfile answers {"openId","unionId"?,"nickName"?,"avatarUrl"?,
// "phoneNumber"?,"nickNameInReview"?}: phoneNumber is the number as WeChat
// gave it (POST /v2/me/phone answers its parts), and nickNameInReview is
// there, true, only while WeChat's content check has the nickName under
// review (PROTOCOL §8).
func (s *Server) writeProfile(w http.ResponseWriter, sess *domain.TokenSession, p domain.Profile) {
	b := startData()
	defer putBuf(b)
	b.WriteString(`{"openId":`)
	appendJSONString(b, sess.OpenID())
	for _, f := range [...]struct{ key, value string }{{"unionId", sess.UnionID()}, {"nickName", p.NickName()},
		{"avatarUrl", p.AvatarURL()}, {"phoneNumber", p.PhoneNumber().PhoneNumber}} {
		if f.value != "" {
			b.WriteString(`,"` + f.key + `":`)
			appendJSONString(b, f.value)
		}
	}
	if p.NickNameInReview() {
		b.WriteString(`,"nickNameInReview":true`)
	}
	b.WriteByte('}')
	endData(w, b)
}

func (s *Server) v2Sessions(w http.ResponseWriter, r *http.Request, sess *domain.TokenSession) {
	list, err := s.cfg.Tokens.ListSessions(r.Context(), sess)
	if err != nil {
		s.writeV2Error(w, r, err)
		return
	}
	b := startData()
	defer putBuf(b)
	b.WriteByte('[')
	for i, x := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"sessionId":`)
		appendJSONString(b, x.ID())
		b.WriteString(`,"device":`)
		appendJSONString(b, x.Device())
		b.WriteString(`,"createdAt":`)
		appendTime(b, x.CreatedAt())
		b.WriteString(`,"lastSeenAt":`)
		appendTime(b, x.LastSeenAt())
		b.WriteString(`,"expiresAt":`)
		appendTime(b, x.ExpiresAt())
		b.WriteString(`,"current":`)
		b.WriteString(strconv.FormatBool(x.ID() == sess.ID()))
		b.WriteByte('}')
	}
	b.WriteByte(']')
	endData(w, b)
}

func (s *Server) v2RevokeSession(w http.ResponseWriter, r *http.Request, sess *domain.TokenSession) {
	if err := s.cfg.Tokens.RevokeSession(r.Context(), sess, mux.Vars(r)["sessionId"]); err != nil {
		s.writeV2Error(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, successEmpty)
}

func (s *Server) v2Logout(w http.ResponseWriter, r *http.Request, sess *domain.TokenSession) {
	if err := s.cfg.Tokens.Logout(r.Context(), sess); err != nil {
		s.writeV2Error(w, r, err)
		return
	}
	writeBody(w, http.StatusOK, successEmpty)
}

func (s *Server) v2LogoutAll(w http.ResponseWriter, r *http.Request, sess *domain.TokenSession) {
	n, err := s.cfg.Tokens.LogoutAll(r.Context(), sess)
	if err != nil {
		s.writeV2Error(w, r, err)
		return
	}
	b := startData()
	defer putBuf(b)
	b.WriteString(`{"revoked":` + strconv.Itoa(n) + `}`)
	endData(w, b)
}

// startData begins a success answer; endData ends and writes it.
func startData() *bytes.Buffer {
	b := getBuf()
	b.WriteString(`{"code":0,"msg":"success","data":`)
	return b
}

func endData(w http.ResponseWriter, b *bytes.Buffer) {
	b.WriteByte('}')
	writeBody(w, http.StatusOK, b.Bytes())
}

// appendTime writes t as a JSON string in RFC 3339, UTC.
func appendTime(b *bytes.Buffer, t time.Time) {
	b.WriteByte('"')
	b.Write(t.UTC().AppendFormat(b.AvailableBuffer(), time.RFC3339))
	b.WriteByte('"')
}

// v2Body is a v2 request's JSON object, member by exact key; a key that
// appears twice keeps its last value, unknown keys are ignored.
type v2Body map[string]json.RawMessage

// str returns the string member key, nil when absent. Any other JSON type,
// null included, is EINVALID.
func (b v2Body) str(key string) (*string, error) {
	raw, ok := b[key]
	if !ok {
		return nil, nil
	}
	var v string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &v) != nil {
		return nil, domain.Errorf(domain.EINVALID, "Field %q must be a string.", key)
	}
	return &v, nil
}

// readV2Body reads a v2 route's body: application/json in UTF-8, within
// MaxV2BodyBytes and BodyTimeout, exactly one JSON object.
func (s *Server) readV2Body(w http.ResponseWriter, r *http.Request) (v2Body, error) {
	return s.readV2BodyWithin(w, r, MaxV2BodyBytes)
}

// readV2BodyWithin is readV2Body with a limit of the route's own.
func (s *Server) readV2BodyWithin(w http.ResponseWriter, r *http.Request, limit int64) (v2Body, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, &domain.Error{Code: codeUnsupportedMediaType, Message: "Send the body as application/json."}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, &domain.Error{Code: codeUnsupportedMediaType, Message: "Only UTF-8 bodies are accepted."}
	}
	buf := getBuf()
	defer putBuf(buf)
	data, err := s.readBody(w, r, buf, limit)
	if err != nil {
		return nil, err
	}
	var body v2Body
	// A JSON object and nothing else: json.Unmarshal refuses trailing data,
	// and would take null for an empty map.
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' || json.Unmarshal(data, &body) != nil {
		return nil, domain.Errorf(domain.EINVALID, "The body must be one JSON object.")
	}
	return body, nil
}
