// Package wechattest is a mock of WeChat's server APIs: a real HTTP server
// for tests and for the development mode of `make run`. It keeps test users
// with a session key each, issues single-use login codes that live five
// minutes, answers any errcode of PROTOCOL §4 on demand, and mints what
// wx.login + wx.getUserInfo give a device. It also answers the platform APIs
// of PROTOCOL §8 (stable_token with WeChat's limits, getuserphonenumber with
// single-use phone codes, msg_sec_check on configurable markers) and mints
// encryptedData for a test user (platform.go, encrypt.go).
package wechattest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onestroke/onestroke/domain"
)

// CodeTTL is how long WeChat accepts a login code.
const CodeTTL = 5 * time.Minute

// Server is the mock. Create it with New; it is an http.Handler.
type Server struct {
	appID, appSecret string
	now              func() time.Time

	mu     sync.Mutex
	users  map[string]*user
	codes  map[string]*issuedCode
	forced []int
	delay  time.Duration
	faults map[string]*injected // by API name: see Inject
	calls  map[string]int       // by API name: see Calls

	platform platformState // stable_token, phone codes, content markers

	exchanges atomic.Int64
}

type user struct {
	name       string
	openID     string
	unionID    string
	sessionKey domain.SessionKey
}

type issuedCode struct {
	user    *user
	issued  time.Time
	used    bool
	errcode int // non-zero: WeChat refuses this code with it
}

// Profile is the user object wx.getUserInfo returns, in its field order.
type Profile struct {
	NickName  string `json:"nickName"`
	Gender    int    `json:"gender"`
	Language  string `json:"language"`
	City      string `json:"city"`
	Province  string `json:"province"`
	Country   string `json:"country"`
	AvatarURL string `json:"avatarUrl"`
}

// Device is what a mini-program holds after wx.login and wx.getUserInfo.
type Device struct {
	User      string `json:"user"`
	OpenID    string `json:"openId"`
	Code      string `json:"code"`
	RawData   string `json:"rawData"` // decoded JSON text
	Signature string `json:"signature"`
}

// Headers returns the first-request headers of the legacy protocol.
func (d Device) Headers() http.Header {
	return http.Header{
		"X-Wx-Code":      {d.Code},
		"X-Wx-Rawdata":   {EncodeURIComponent(d.RawData)},
		"X-Wx-Signature": {d.Signature},
	}
}

// New returns a mock that accepts the given app credentials. now may be
// nil (time.Now).
func New(appID, appSecret string, now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	return &Server{appID: appID, appSecret: appSecret, now: now, users: map[string]*user{}, codes: map[string]*issuedCode{}}
}

// Mint performs a device login for the test user name (created on first
// use): a fresh code and the user's rawData signed with its session key.
// A zero profile gets a default one built from the name.
func (s *Server) Mint(name string, p Profile) (Device, error) {
	if name == "" || len(name) > 64 {
		return Device{}, fmt.Errorf("user name must be 1 to 64 characters")
	}
	if p == (Profile{}) {
		p = DefaultProfile(name)
	}
	raw, err := marshal(p)
	if err != nil {
		return Device{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(name)
	code := randomCode()
	s.codes[code] = &issuedCode{user: u, issued: s.now()}
	return Device{User: name, OpenID: u.openID, Code: code, RawData: raw, Signature: domain.Sign(raw, u.sessionKey)}, nil
}

// DefaultProfile is the profile Mint uses when none is given.
func DefaultProfile(name string) Profile {
	return Profile{NickName: name, Gender: 1, Language: "zh_CN", City: "Shenzhen", Province: "Guangdong", Country: "China",
		AvatarURL: "https://wx.qlogo.cn/mmopen/vi_32/" + name + "/132"}
}

// AddCode makes WeChat accept code for the test user name, for contract
// tests whose requests carry fixed codes.
func (s *Server) AddCode(code, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = &issuedCode{user: s.userLocked(name), issued: s.now()}
}

// AcceptCode makes WeChat answer code with exactly this identity, for
// contract tests whose requests carry fixed codes, openids and signatures.
func (s *Server) AcceptCode(code, openID string, key domain.SessionKey, unionID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = &issuedCode{user: &user{openID: openID, unionID: unionID, sessionKey: key}, issued: s.now()}
}

// RefuseCode makes WeChat refuse code with errcode, every time.
func (s *Server) RefuseCode(code string, errcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = &issuedCode{issued: s.now(), errcode: errcode}
}

// SetSessionKey replaces the session key of the test user name, as a new
// wx.login may at WeChat.
func (s *Server) SetSessionKey(name string, key domain.SessionKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userLocked(name).sessionKey = key
}

// SessionKey returns the current session key of the test user name.
func (s *Server) SessionKey(name string) domain.SessionKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userLocked(name).sessionKey
}

// OpenID returns the openid of the test user name.
func (s *Server) OpenID(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userLocked(name).openID
}

// FailNext makes the next n exchanges answer errcode, without spending
// their codes (so a -1 followed by a retry succeeds).
func (s *Server) FailNext(errcode, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.forced = append(s.forced, errcode)
	}
}

// SetDelay makes every exchange answer after d.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Exchanges returns how many code2Session calls the mock has answered.
func (s *Server) Exchanges() int { return int(s.exchanges.Load()) }

func (s *Server) userLocked(name string) *user {
	if u, ok := s.users[name]; ok {
		return u
	}
	// openids are stable per app and user, 28 characters like WeChat's.
	sum := sha256.Sum256([]byte(s.appID + "\x00" + name))
	u := &user{
		name:       name,
		openID:     "o" + base64.RawURLEncoding.EncodeToString(sum[:])[:27],
		unionID:    "u" + base64.RawURLEncoding.EncodeToString(sum[8:])[:27],
		sessionKey: NewSessionKey(),
	}
	s.users[name] = u
	return u
}

// NewSessionKey returns a random session key: base64 of 16 bytes.
func NewSessionKey() domain.SessionKey {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return domain.SessionKey(base64.StdEncoding.EncodeToString(b[:]))
}

func randomCode() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ServeHTTP serves code2Session and the mock's control routes:
//
//	GET  /sns/jscode2session?appid=&secret=&js_code=&grant_type=authorization_code
//	POST /cgi-bin/stable_token               {"grant_type","appid","secret","force_refresh"}
//	POST /wxa/business/getuserphonenumber?access_token=T  {"code","openid"?}
//	POST /wxa/msg_sec_check?access_token=T   {"version":2,"openid","scene","content"}
//	POST /mock/login?user=NAME[&nickName=…]  → a Device as JSON, with a phone code and
//	                                           encryptedData (format=shell: export lines)
//	POST /mock/fail?errcode=N[&n=1]          → the next n exchanges answer errcode
//	POST /mock/delay?ms=N                    → every exchange answers after N ms
//	POST /mock/fault?api=NAME[&errcode=N][&hang_ms=M][&n=K] → the next K calls (0: all) of the API
//	                                           NAME (jscode2session, stable_token, …) hang M ms
//	                                           and/or answer errcode N; without errcode and
//	                                           hang_ms it clears the API's fault
//	POST /mock/invalidate                    → the current access_token ends (Invalidate)
//	GET  /mock/stats                         → {"exchanges": N, "calls": {API: N}, "forcedRefreshes": N}
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/sns/jscode2session":
		s.serveExchange(w, r)
	case "/cgi-bin/stable_token":
		s.serveStableToken(w, r)
	case "/wxa/business/getuserphonenumber":
		s.servePhoneNumber(w, r)
	case "/wxa/msg_sec_check":
		s.serveMsgSecCheck(w, r)
	case "/mock/login":
		s.serveLogin(w, r)
	case "/mock/fail":
		errcode, err := strconv.Atoi(r.FormValue("errcode"))
		n, nerr := strconv.Atoi(r.FormValue("n"))
		if nerr != nil || n < 1 {
			n = 1
		}
		if err != nil || r.Method != http.MethodPost {
			http.Error(w, "POST /mock/fail?errcode=N[&n=1]", http.StatusBadRequest)
			return
		}
		s.FailNext(errcode, n)
		writeJSON(w, map[string]any{"errcode": errcode, "n": n})
	case "/mock/delay":
		ms, err := strconv.Atoi(r.FormValue("ms"))
		if err != nil || ms < 0 || r.Method != http.MethodPost {
			http.Error(w, "POST /mock/delay?ms=N", http.StatusBadRequest)
			return
		}
		s.SetDelay(time.Duration(ms) * time.Millisecond)
		writeJSON(w, map[string]any{"ms": ms})
	case "/mock/fault":
		s.serveFault(w, r)
	case "/mock/invalidate":
		if r.Method != http.MethodPost {
			http.Error(w, "POST /mock/invalidate", http.StatusMethodNotAllowed)
			return
		}
		s.Invalidate()
		writeJSON(w, map[string]any{"invalidated": true})
	case "/mock/stats":
		s.mu.Lock()
		calls := make(map[string]int, len(s.calls))
		for k, v := range s.calls {
			calls[k] = v
		}
		forced := s.platform.forced
		s.mu.Unlock()
		writeJSON(w, map[string]any{"exchanges": s.Exchanges(), "calls": calls, "forcedRefreshes": forced})
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST /mock/login?user=NAME", http.StatusMethodNotAllowed)
		return
	}
	ServeMint(w, r, s)
}

// ServeMint answers a mint request (query user, optional nickName, optional
// format=shell) with a Device, a fresh getPhoneNumber code of the user and
// encryptedData with its iv of a sample payload (SampleShareInfo). The
// service's development-only route uses it too.
func ServeMint(w http.ResponseWriter, r *http.Request, s *Server) {
	name := r.FormValue("user")
	if name == "" {
		name = "alice"
	}
	p := DefaultProfile(name)
	if nick := r.FormValue("nickName"); nick != "" {
		p.NickName = nick
	}
	d, err := s.Mint(name, p)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	phoneCode := s.MintPhoneCode(name)
	encrypted, iv, err := s.EncryptData(name, s.SampleShareInfo(name))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if r.FormValue("format") == "shell" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "export CODE=%s\nexport RAWDATA=%s\nexport SIGNATURE=%s\nexport PHONE_CODE=%s\nexport ENCRYPTED_DATA=%s\nexport IV=%s\n",
			shellQuote(d.Code), shellQuote(EncodeURIComponent(d.RawData)), shellQuote(d.Signature),
			shellQuote(phoneCode), shellQuote(encrypted), shellQuote(iv))
		return
	}
	writeJSON(w, map[string]any{
		"user": d.User, "openId": d.OpenID, "code": d.Code, "rawData": d.RawData, "signature": d.Signature,
		"headers": map[string]string{
			"X-WX-Code": d.Code, "X-WX-RawData": EncodeURIComponent(d.RawData), "X-WX-Signature": d.Signature,
		},
		"phoneCode": phoneCode, "encryptedData": encrypted, "iv": iv,
	})
}

func (s *Server) serveExchange(w http.ResponseWriter, r *http.Request) {
	s.exchanges.Add(1)
	if s.fault(w, r, APICode2Session) {
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}

	// Decide under the lock, answer after it: a slow reader must not hold
	// up every other exchange.
	reply, errcode := s.decideExchange(q)
	if errcode != 0 {
		writeErr(w, errcode)
		return
	}
	writeJSON(w, reply)
}

// exchangeReply is code2Session's success answer; its keys come out in the
// order WeChat sends them.
type exchangeReply struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid,omitempty"`
}

// decideExchange spends the code of q and returns the reply, or the
// errcode to answer instead.
func (s *Server) decideExchange(q url.Values) (exchangeReply, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.forced) > 0 {
		errcode := s.forced[0]
		s.forced = s.forced[1:]
		return exchangeReply{}, errcode
	}
	switch {
	case q.Get("appid") != s.appID:
		return exchangeReply{}, 40013
	case q.Get("secret") != s.appSecret:
		return exchangeReply{}, 40125
	case q.Get("grant_type") != "authorization_code":
		return exchangeReply{}, 40002
	case q.Get("js_code") == "":
		return exchangeReply{}, 41008
	}
	c, ok := s.codes[q.Get("js_code")]
	switch {
	case !ok || s.now().Sub(c.issued) >= CodeTTL:
		return exchangeReply{}, 40029
	case c.errcode != 0:
		return exchangeReply{}, c.errcode
	case c.used:
		return exchangeReply{}, 40163
	}
	c.used = true
	return exchangeReply{OpenID: c.user.openID, SessionKey: c.user.sessionKey.Reveal(), UnionID: c.user.unionID}, 0
}

var errmsgs = map[int]string{
	-1:    "system error",
	40001: "invalid credential, access_token is invalid or not latest",
	40002: "invalid grant_type",
	40003: "invalid openid",
	40013: "invalid appid",
	40029: "invalid code",
	40097: "invalid args",
	40125: "invalid appsecret",
	40163: "code been used",
	40226: "high risk user",
	41001: "access_token missing",
	41008: "missing code",
	42001: "access_token expired",
	43002: "require POST method",
	45009: "reach max api daily quota limit",
	45011: "api minute-quota reach limit  mustslower  retry next minute",
	47001: "data format error",
}

func writeErr(w http.ResponseWriter, errcode int) {
	msg, ok := errmsgs[errcode]
	if !ok {
		msg = "error"
	}
	writeJSON(w, map[string]any{"errcode": errcode, "errmsg": msg + ", rid: mock"})
}

// writeJSON answers HTTP 200 with JSON, as WeChat does for errors too.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func marshal(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// EncodeURIComponent encodes s like JavaScript's encodeURIComponent, as the
// mini-program does for X-WX-RawData (domain.EncodeRawData).
func EncodeURIComponent(s string) string { return domain.EncodeRawData(s) }

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
