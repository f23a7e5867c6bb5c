package wechattest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/onestroke/onestroke/domain"
)

// The platform APIs of PROTOCOL §8 as WeChat answers them: stable_token,
// getuserphonenumber and msg_sec_check (version 2).

// WeChat's limits on stable_token that the mock enforces.
const (
	// TokenLife is how long an access_token lives (expires_in 7,200 s).
	TokenLife = 2 * time.Hour
	// TokenRenewal is how long before its end stable_token starts answering
	// a new token (the old one stays valid until its own end).
	TokenRenewal = 5 * time.Minute
	// ForceGap is the least time between two forced refreshes (45011).
	ForceGap = 30 * time.Second
	// ForcesPerDay is how many forced refreshes one day allows (45009); the
	// day is Beijing's (UTC+8), as WeChat counts it.
	ForcesPerDay = 20
	// PhoneCodeTTL is how long a getPhoneNumber code lives.
	PhoneCodeTTL = 5 * time.Minute
)

// The content markers msg_sec_check looks for unless SetContentMarkers
// says otherwise.
const (
	DefaultRiskyMarker  = "RISKY-MARKER"
	DefaultReviewMarker = "REVIEW-MARKER"
)

// maxRequestBody bounds what the mock reads of a platform API's body.
const maxRequestBody = 64 << 10

var beijing = time.FixedZone("CST", 8*60*60)

// platformState is the Server's state of the platform APIs, kept under
// Server.mu.
type platformState struct {
	tokens  map[string]*accessToken // every token issued, until an hour past its end
	current *accessToken

	forcedDay   string // the Beijing date of forcedToday
	forcedToday int
	lastForce   time.Time
	forced      int // forced refreshes ever

	phoneCodes map[string]*phoneCode
	phones     map[string]domain.PhoneNumber // by test user name

	markersSet                bool
	riskyMarker, reviewMarker string
}

type accessToken struct {
	value   string
	expires time.Time
	ended   bool // by a forced refresh or Invalidate: 40001 from now on
}

type phoneCode struct {
	user   *user
	phone  *domain.PhoneNumber // AcceptPhoneCode's number; nil: the user's
	issued time.Time
	used   bool
}

// tokenStatus is what the APIs answer for an access_token: 0 when it is
// live, else the errcode (41001 missing, 40001 unknown or ended, 42001
// expired).
func (s *Server) tokenStatusLocked(value string) int {
	if value == "" {
		return 41001
	}
	t, ok := s.platform.tokens[value]
	switch {
	case !ok || t.ended:
		return 40001
	case !s.now().Before(t.expires):
		return 42001
	}
	return 0
}

// newTokenLocked issues a token that lives TokenLife and makes it the
// current one, forgetting tokens that ended over an hour ago.
func (s *Server) newTokenLocked() *accessToken {
	now := s.now()
	if s.platform.tokens == nil {
		s.platform.tokens = map[string]*accessToken{}
	}
	for v, t := range s.platform.tokens {
		if now.Sub(t.expires) > time.Hour {
			delete(s.platform.tokens, v)
		}
	}
	var b [48]byte
	_, _ = rand.Read(b[:])
	t := &accessToken{value: "mock_AT_" + base64.RawURLEncoding.EncodeToString(b[:]), expires: now.Add(TokenLife)}
	s.platform.tokens[t.value] = t
	s.platform.current = t
	return t
}

// Invalidate ends the current access_token at once, as another holder's
// forced refresh (or a cgi-bin/token call) does at WeChat: the APIs answer
// 40001 for it, and stable_token answers a new one. It is not a forced
// refresh and counts as none.
func (s *Server) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.platform.current; c != nil {
		c.ended = true
	}
}

// ForcedRefreshes returns how many stable_token calls with
// force_refresh:true the mock has granted.
func (s *Server) ForcedRefreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.platform.forced
}

// AccessToken returns the token stable_token currently answers (empty
// before the first call or after Invalidate), for tests that call the APIs
// directly.
func (s *Server) AccessToken() domain.AccessToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.platform.current; c != nil && !c.ended && s.now().Before(c.expires) {
		return domain.AccessToken(c.value)
	}
	return ""
}

// MintPhoneCode returns a fresh getPhoneNumber code of the test user name
// (created on first use): single-use, alive PhoneCodeTTL.
func (s *Server) MintPhoneCode(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.platform.phoneCodes == nil {
		s.platform.phoneCodes = map[string]*phoneCode{}
	}
	now := s.now()
	for c, pc := range s.platform.phoneCodes {
		if now.Sub(pc.issued) >= PhoneCodeTTL {
			delete(s.platform.phoneCodes, c)
		}
	}
	code := randomCode()
	s.platform.phoneCodes[code] = &phoneCode{user: s.userLocked(name), issued: now}
	return code
}

// AcceptPhoneCode makes getuserphonenumber answer code, once and within
// PhoneCodeTTL, with exactly this number for exactly this openid, as
// AcceptCode does for login codes: for contract tests whose requests carry
// fixed codes and whose users have fixed openids.
func (s *Server) AcceptPhoneCode(code, openID string, p domain.PhoneNumber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.platform.phoneCodes == nil {
		s.platform.phoneCodes = map[string]*phoneCode{}
	}
	s.platform.phoneCodes[code] = &phoneCode{user: &user{openID: openID}, phone: &p, issued: s.now()}
}

// SetPhone sets the phone number getuserphonenumber answers for the test
// user name.
func (s *Server) SetPhone(name string, p domain.PhoneNumber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.platform.phones == nil {
		s.platform.phones = map[string]domain.PhoneNumber{}
	}
	s.platform.phones[name] = p
}

// Phone returns the phone number of the test user name: the one SetPhone
// gave, else DefaultPhone(name).
func (s *Server) Phone(name string) domain.PhoneNumber {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.phoneLocked(name)
}

func (s *Server) phoneLocked(name string) domain.PhoneNumber {
	if p, ok := s.platform.phones[name]; ok {
		return p
	}
	return DefaultPhone(name)
}

// DefaultPhone is the mainland number a test user has unless SetPhone
// says otherwise: 138 and eight digits derived from the name.
func DefaultPhone(name string) domain.PhoneNumber {
	sum := sha256.Sum256([]byte("phone\x00" + name))
	n := fmt.Sprintf("138%08d", binary.BigEndian.Uint64(sum[:8])%100_000_000)
	return domain.PhoneNumber{PhoneNumber: n, PurePhoneNumber: n, CountryCode: "86"}
}

// SetContentMarkers sets the texts whose presence makes msg_sec_check
// answer risky and review (risky wins when both are present). An empty
// marker matches nothing.
func (s *Server) SetContentMarkers(risky, review string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.platform.markersSet = true
	s.platform.riskyMarker, s.platform.reviewMarker = risky, review
}

func (s *Server) markersLocked() (risky, review string) {
	if !s.platform.markersSet {
		return DefaultRiskyMarker, DefaultReviewMarker
	}
	return s.platform.riskyMarker, s.platform.reviewMarker
}

// readBody decodes the JSON body of a platform call into v; it answers
// WeChat's errcode itself (43002 not POST, 47001 not JSON) and reports
// whether the call may go on.
func readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Method != http.MethodPost {
		writeErr(w, 43002)
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil || len(body) > maxRequestBody || json.Unmarshal(body, v) != nil {
		writeErr(w, 47001)
		return false
	}
	return true
}

// serveStableToken answers POST /cgi-bin/stable_token.
func (s *Server) serveStableToken(w http.ResponseWriter, r *http.Request) {
	if s.fault(w, r, APIStableToken) {
		return
	}
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if !readBody(w, r, &req) {
		return
	}
	token, expiresIn, errcode := s.decideStableToken(req.GrantType, req.AppID, req.Secret, req.ForceRefresh)
	if errcode != 0 {
		writeErr(w, errcode)
		return
	}
	writeJSON(w, map[string]any{"access_token": token, "expires_in": expiresIn})
}

func (s *Server) decideStableToken(grantType, appID, secret string, force bool) (string, int64, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case grantType != "client_credential":
		return "", 0, 40002
	case appID != s.appID:
		return "", 0, 40013
	case secret != s.appSecret:
		return "", 0, 40125
	}
	now := s.now()
	p := &s.platform
	cur := p.current
	if force {
		day := now.In(beijing).Format(time.DateOnly)
		if day != p.forcedDay {
			p.forcedDay, p.forcedToday = day, 0
		}
		switch {
		case !p.lastForce.IsZero() && now.Sub(p.lastForce) < ForceGap:
			return "", 0, 45011
		case p.forcedToday >= ForcesPerDay:
			return "", 0, 45009
		}
		p.lastForce = now
		p.forcedToday++
		p.forced++
		if cur != nil {
			cur.ended = true
		}
		cur = s.newTokenLocked()
	} else if cur == nil || cur.ended || cur.expires.Sub(now) <= TokenRenewal {
		// In its last five minutes WeChat answers a new token; the old one
		// stays valid until its own end.
		cur = s.newTokenLocked()
	}
	return cur.value, int64(cur.expires.Sub(now) / time.Second), 0
}

// servePhoneNumber answers POST /wxa/business/getuserphonenumber.
func (s *Server) servePhoneNumber(w http.ResponseWriter, r *http.Request) {
	if s.fault(w, r, APIPhoneNumber) {
		return
	}
	var req struct {
		Code   string `json:"code"`
		OpenID string `json:"openid"`
	}
	if !readBody(w, r, &req) {
		return
	}
	phone, ts, errcode := s.decidePhoneNumber(r.URL.Query().Get("access_token"), req.Code, req.OpenID)
	if errcode != 0 {
		writeErr(w, errcode)
		return
	}
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "phone_info": map[string]any{
		"phoneNumber": phone.PhoneNumber, "purePhoneNumber": phone.PurePhoneNumber, "countryCode": phone.CountryCode,
		"watermark": map[string]any{"timestamp": ts, "appid": s.appID},
	}})
}

func (s *Server) decidePhoneNumber(token, code, openID string) (domain.PhoneNumber, int64, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errcode := s.tokenStatusLocked(token); errcode != 0 {
		return domain.PhoneNumber{}, 0, errcode
	}
	now := s.now()
	pc, ok := s.platform.phoneCodes[code]
	switch {
	case !ok || pc.used || now.Sub(pc.issued) >= PhoneCodeTTL:
		return domain.PhoneNumber{}, 0, 40029
	case openID != "" && openID != pc.user.openID:
		return domain.PhoneNumber{}, 0, 40003
	}
	pc.used = true
	if pc.phone != nil {
		return *pc.phone, now.Unix(), 0
	}
	return s.phoneLocked(pc.user.name), now.Unix(), 0
}

// serveMsgSecCheck answers POST /wxa/msg_sec_check (version 2).
func (s *Server) serveMsgSecCheck(w http.ResponseWriter, r *http.Request) {
	if s.fault(w, r, APIMsgSecCheck) {
		return
	}
	var req struct {
		Version int    `json:"version"`
		OpenID  string `json:"openid"`
		Scene   int    `json:"scene"`
		Content string `json:"content"`
	}
	if !readBody(w, r, &req) {
		return
	}
	suggest, errcode := s.decideMsgSecCheck(r.URL.Query().Get("access_token"), req.Version, req.OpenID, req.Scene, req.Content)
	if errcode != 0 {
		writeErr(w, errcode)
		return
	}
	label := map[domain.ContentSuggestion]int{domain.ContentPass: 100, domain.ContentReview: 21000, domain.ContentRisky: 20006}[suggest]
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok",
		"result":   map[string]any{"suggest": suggest, "label": label},
		"detail":   []map[string]any{{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label, "prob": 90}},
		"trace_id": randomCode()})
}

func (s *Server) decideMsgSecCheck(token string, version int, openID string, scene int, content string) (domain.ContentSuggestion, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errcode := s.tokenStatusLocked(token); errcode != 0 {
		return "", errcode
	}
	switch {
	case version != 2 || scene < 1 || scene > 4 || content == "":
		return "", 40097
	case !s.knownOpenIDLocked(openID):
		return "", 40003
	}
	risky, review := s.markersLocked()
	switch {
	case risky != "" && strings.Contains(content, risky):
		return domain.ContentRisky, 0
	case review != "" && strings.Contains(content, review):
		return domain.ContentReview, 0
	}
	return domain.ContentPass, 0
}

// knownOpenIDLocked reports whether openID is a test user's, or one a
// contract test made WeChat answer for a fixed code (AcceptCode).
func (s *Server) knownOpenIDLocked(openID string) bool {
	if openID == "" {
		return false
	}
	for _, u := range s.users {
		if u.openID == openID {
			return true
		}
	}
	for _, c := range s.codes {
		if c.user != nil && c.user.openID == openID {
			return true
		}
	}
	return false
}
