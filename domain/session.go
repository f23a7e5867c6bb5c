package domain

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// Limits on the session headers. Real values are far below them: a wx.login
// code is 32 characters, rawData a few hundred bytes, a signature 40.
const (
	MaxCodeLength    = 128
	MaxRawDataLength = 8 << 10 // percent-encoded length
	SignatureLength  = 40      // lowercase hex SHA-1
)

// Credentials are the session headers of one request (PROTOCOL §1):
// X-WX-Code, X-WX-RawData (still percent-encoded) and X-WX-Signature, and
// the address the request came from.
type Credentials struct {
	Code      string
	RawData   string
	Signature string
	// Client is the client's address as the transport determined it (not a
	// header the client chose): the key of the login rate limit.
	Client string
}

// Validate rejects header values no client sends: oversized or with control
// characters. It does not verify anything.
func (c Credentials) Validate() error {
	if len(c.Code) > MaxCodeLength {
		return Errorf(EINVALID, "X-WX-Code is longer than %d characters.", MaxCodeLength)
	}
	for i := 0; i < len(c.Code); i++ {
		if b := c.Code[i]; b <= ' ' || b >= 0x7f {
			return Errorf(EINVALID, "X-WX-Code contains a character outside printable ASCII.")
		}
	}
	if len(c.RawData) > MaxRawDataLength {
		return Errorf(EBADRAWDATA, "X-WX-RawData is longer than %d bytes.", MaxRawDataLength)
	}
	return nil
}

// SessionKey is WeChat's session_key for a user. It must never leave the
// server, so every way of printing it prints a placeholder; Reveal is the one
// deliberate way to read it.
type SessionKey string

const redacted = "[REDACTED]"

func (SessionKey) String() string               { return redacted }
func (SessionKey) GoString() string             { return redacted }
func (SessionKey) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (SessionKey) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (SessionKey) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (k SessionKey) Reveal() string             { return string(k) }

// WxSession is what WeChat's code2Session answers for a valid code.
type WxSession struct {
	OpenID     string
	SessionKey SessionKey
	UnionID    string
}

// RawData is the decoded X-WX-RawData: the JSON object text that
// wx.getUserInfo returned, with its members in the order sent.
type RawData struct {
	text    string
	members []member
	// compact is set when text is compact JSON whose members are exactly
	// members, in order, each value at text[start:end]: the user info is
	// then text with openId spliced in, no re-encoding.
	compact bool
}

type member struct {
	key        string
	value      string
	start, end int // the value's place in text, when compact
	// raw is the member as text has it, from its key to its value's end
	// (decodeMembers only): what a reader that drops other members keeps.
	raw string
}

// Text returns the decoded JSON text, the bytes the signature covers.
func (r RawData) Text() string { return r.text }

// EncodeRawData encodes rawData as the client sends it in X-WX-RawData:
// like JavaScript's encodeURIComponent. DecodeRawData undoes it; clients,
// mocks and tests use it.
func EncodeRawData(text string) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&15])
	}
	return b.String()
}

// DecodeRawData percent-decodes the X-WX-RawData header the way the client's
// encodeURIComponent encoded it and parses it as a JSON object. Any failure
// is EBADRAWDATA: the protocol answers it with an error body that has no
// reason, so the client fails the request instead of logging in again.
func DecodeRawData(encoded string) (RawData, error) {
	if len(encoded) > MaxRawDataLength {
		return RawData{}, Errorf(EBADRAWDATA, "X-WX-RawData is longer than %d bytes.", MaxRawDataLength)
	}
	text, ok := decodeURIComponent(encoded)
	if !ok {
		return RawData{}, Errorf(EBADRAWDATA, "X-WX-RawData is not valid percent-encoded UTF-8.")
	}
	if members, ok := scanMembers(text); ok {
		return RawData{text: text, members: members, compact: true}, nil
	}
	members, err := parseObject(text)
	if err != nil {
		return RawData{}, Wrap(EBADRAWDATA, err, "X-WX-RawData is not a JSON object.")
	}
	return RawData{text: text, members: members}, nil
}

// decodeURIComponent mirrors JavaScript's: %XX escapes become bytes, '+' stays
// '+', and the result must be valid UTF-8.
func decodeURIComponent(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, utf8.ValidString(s)
	}
	buf := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			buf = append(buf, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		buf = append(buf, hi<<4|lo)
		i += 2
	}
	if !utf8.Valid(buf) {
		return "", false
	}
	return string(buf), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeMembers is the one exact reader of a JSON object in this package:
// encoding/json's tokenizer, keys unescaped, values compacted, every member
// in order with its text as given (raw), duplicates included. Both readers of session JSON (rawData and
// the stored user info) decide from it; their fast paths are fuzzed against
// it.
func decodeMembers(text string) ([]member, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errNotObject
	}
	var members []member
	for dec.More() {
		from := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errNotObject
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return nil, err
		}
		// From the end of the previous value (or the brace), past the
		// comma and white space, to the end of this value.
		memberText := strings.TrimLeft(text[from:dec.InputOffset()], ", \t\r\n")
		members = append(members, member{key: key, value: compact.String(), raw: memberText})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errTrailing
	}
	return members, nil
}

// parseObject parses rawData's JSON object and returns its members in
// order. A key repeated later replaces the earlier value in the earlier
// position, as JavaScript's JSON.parse does.
func parseObject(text string) ([]member, error) {
	all, err := decodeMembers(text)
	if err != nil {
		return nil, err
	}
	members := all[:0:0]
	for _, m := range all {
		replaced := false
		for i := range members {
			if members[i].key == m.key {
				members[i].value, replaced = m.value, true
				break
			}
		}
		if !replaced {
			members = append(members, m)
		}
	}
	return members, nil
}

// openIDKey is the member the service owns in every user info.
const openIDKey = "openId"

// isOpenIDVariant reports whether key is openId written in other letter
// case, as encoding/json's case-insensitive field matching (and so any
// reader built on it) would take it. Such members are dropped from a user
// info: only the service's own openId may name the user.
func isOpenIDVariant(key string) bool {
	return key != openIDKey && strings.EqualFold(key, openIDKey)
}

// scanMembers is the fast path of DecodeRawData for what wx.getUserInfo
// gives (JSON.stringify output): valid, compact JSON object text whose keys
// need no unescaping and are all distinct. It reports false for anything
// else, and parseObject then decides.
func scanMembers(text string) ([]member, bool) {
	if len(text) < 2 || text[0] != '{' || !utf8.ValidString(text) || !json.Valid([]byte(text)) {
		return nil, false
	}
	b := []byte(text)
	members := make([]member, 0, 8)
	if text == "{}" {
		return members, true
	}
	for i := 1; ; {
		if b[i] != '"' {
			return nil, false // white space
		}
		end := i + 1
		for b[end] != '"' {
			if b[end] == '\\' {
				return nil, false
			}
			end++
		}
		key := text[i+1 : end]
		if isOpenIDVariant(key) {
			return nil, false // the exact path drops it
		}
		for _, m := range members {
			if m.key == key {
				return nil, false
			}
		}
		i = end + 1
		if b[i] != ':' {
			return nil, false
		}
		start := i + 1
		stop := skipValue(b, start)
		if stop < 0 {
			return nil, false
		}
		members = append(members, member{key: key, value: text[start:stop], start: start, end: stop})
		switch b[stop] {
		case ',':
			i = stop + 1
		case '}':
			return members, stop == len(b)-1
		default:
			return nil, false
		}
	}
}

var (
	errNotObject = Errorf(EBADRAWDATA, "not a JSON object")
	errTrailing  = Errorf(EBADRAWDATA, "data after the JSON object")
)

// CheckSignatureShape refuses a signature that no client can have: WeChat
// signs with lowercase hex SHA-1, SignatureLength characters. It runs before
// a login spends anything (a store look-up, a code2Session call), so a
// malformed one costs the service nothing. It says nothing about whether
// the signature is genuine; VerifySignature does.
func CheckSignatureShape(signature string) error {
	if len(signature) != SignatureLength {
		return Errorf(EUNTRUSTED, "X-WX-Signature must be %d lowercase hex characters.", SignatureLength)
	}
	for i := 0; i < len(signature); i++ {
		if c := signature[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return Errorf(EUNTRUSTED, "X-WX-Signature must be %d lowercase hex characters.", SignatureLength)
		}
	}
	return nil
}

// VerifySignature checks signature against the lowercase hex SHA-1 of
// rawData followed by the session key, in constant time (PROTOCOL §1).
func VerifySignature(raw RawData, key SessionKey, signature string) error {
	sum := sha1.Sum([]byte(raw.text + key.Reveal()))
	var want [SignatureLength]byte
	hex.Encode(want[:], sum[:])
	if subtle.ConstantTimeCompare(want[:], []byte(signature)) != 1 {
		return Errorf(EUNTRUSTED, "The signature does not match the raw data.")
	}
	return nil
}

// Sign returns the signature WeChat gives a client for rawData text under
// key. The mock WeChat and tests use it; the service only verifies.
func Sign(rawDataText string, key SessionKey) string {
	sum := sha1.Sum([]byte(rawDataText + key.Reveal()))
	return hex.EncodeToString(sum[:])
}

// UserInfo is the trusted identity of a request: the user object from
// rawData with openId set from WeChat (PROTOCOL §1). It is stored and
// answered as the JSON text it holds, never re-encoded.
type UserInfo struct {
	openID string
	json   []byte
}

// NewUserInfo builds the user info from verified rawData and the openid
// WeChat gave: every member kept as sent, openId set (replaced in place when
// rawData had one, appended otherwise, as the original's assignment did),
// and every member whose key is openId in other letter case dropped.
func NewUserInfo(raw RawData, openID string) UserInfo {
	var b bytes.Buffer
	if raw.compact {
		b.Grow(len(raw.text) + len(openID) + 12)
		for _, m := range raw.members {
			if m.key == openIDKey {
				b.WriteString(raw.text[:m.start])
				writeJSONString(&b, openID)
				b.WriteString(raw.text[m.end:])
				return UserInfo{openID: openID, json: b.Bytes()}
			}
		}
		b.WriteString(raw.text[:len(raw.text)-1])
		if len(raw.members) > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"openId":`)
		writeJSONString(&b, openID)
		b.WriteByte('}')
		return UserInfo{openID: openID, json: b.Bytes()}
	}
	b.WriteByte('{')
	wroteOpenID, n := false, 0
	for _, m := range raw.members {
		if isOpenIDVariant(m.key) {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		writeJSONString(&b, m.key)
		b.WriteByte(':')
		if m.key == openIDKey {
			writeJSONString(&b, openID)
			wroteOpenID = true
			continue
		}
		b.WriteString(m.value) // compacted by parseObject
	}
	if !wroteOpenID {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"openId":`)
		writeJSONString(&b, openID)
	}
	b.WriteByte('}')
	return UserInfo{openID: openID, json: b.Bytes()}
}

// writeJSONString writes s as JSON.stringify would (no escaping of <, >
// and &), through AppendJSONString.
func writeJSONString(b *bytes.Buffer, s string) {
	b.Write(AppendJSONString(b.AvailableBuffer(), s))
}

// UserInfoFromJSON rebuilds user info read from a session store: a JSON
// object (UTF-8) with exactly one member whose key is exactly openId, a
// non-empty string; members whose keys are openId in other letter case are
// ignored (this service never writes them; the original service kept those
// rawData sent). Anything else is not a session, and answers as an unknown
// code does (ESESSIONEXPIRED): a store value is never an oracle. This runs
// on every cached request, so compact text (what this service and the
// original write) is taken as it is after one structural pass; anything else
// goes through the exact reader, which the fast path is fuzzed against.
func UserInfoFromJSON(data []byte) (UserInfo, error) {
	if openID, ok := scanCompactObject(data); ok {
		return UserInfo{openID: openID, json: data}, nil
	}
	return userInfoFromJSONExact(data)
}

// userInfoFromJSONExact is UserInfoFromJSON by decodeMembers alone.
func userInfoFromJSONExact(data []byte) (UserInfo, error) {
	if !utf8.Valid(data) {
		return UserInfo{}, notASession(errNotUTF8)
	}
	members, err := decodeMembers(string(data))
	if err != nil {
		return UserInfo{}, notASession(err)
	}
	openID, found := "", 0
	for _, m := range members {
		if m.key != openIDKey {
			continue
		}
		if found++; found > 1 {
			return UserInfo{}, notASession(errTwoOpenIDs)
		}
		if len(m.value) < 2 || m.value[0] != '"' || json.Unmarshal([]byte(m.value), &openID) != nil {
			return UserInfo{}, notASession(errNoOpenID)
		}
	}
	if openID == "" {
		return UserInfo{}, notASession(errNoOpenID)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return UserInfo{}, notASession(err)
	}
	return UserInfo{openID: openID, json: compact.Bytes()}, nil
}

var (
	errNotUTF8    = errors.New("stored user info is not UTF-8")
	errTwoOpenIDs = errors.New("stored user info has two openId members")
	errNoOpenID   = errors.New("stored user info has no openId string")
)

// SessionExpired is the error of a code the store does not know; cause
// (for logs only) says why, when the store held something that was not a
// session under that code.
func SessionExpired(cause error) *Error {
	return Wrap(ESESSIONEXPIRED, cause, "The session has expired; log in again.")
}

func notASession(cause error) *Error {
	return SessionExpired(fmt.Errorf("the stored value is not a session: %w", cause))
}

// scanCompactObject walks a compact JSON object (no white space outside
// strings) and returns its top-level "openId" string. It reports false for
// anything it does not fully understand (invalid JSON or UTF-8, white space,
// escapes in a key or the openId, a missing, empty or repeated openId), and
// the caller then takes the exact reader, which decides.
func scanCompactObject(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '{' || !json.Valid(b) || !utf8.Valid(b) {
		return "", false
	}
	openID, i := "", 1
	if b[i] == '}' {
		return "", false
	}
	for {
		// A key: a string without escapes.
		if i >= len(b) || b[i] != '"' {
			return "", false
		}
		end := i + 1
		for end < len(b) && b[end] != '"' && b[end] != '\\' {
			end++
		}
		if end >= len(b) || b[end] != '"' {
			return "", false
		}
		key := b[i+1 : end]
		i = end + 1
		if i >= len(b) || b[i] != ':' {
			return "", false
		}
		i++
		if string(key) == openIDKey {
			if openID != "" || i >= len(b) || b[i] != '"' {
				return "", false // a second openId (the exact reader refuses it), or not a string
			}
			end := i + 1
			for end < len(b) && b[end] != '"' && b[end] != '\\' && b[end] >= 0x20 && b[end] < 0x80 { // openIds are ASCII
				end++
			}
			if end >= len(b) || b[end] != '"' || end == i+1 {
				return "", false
			}
			openID = string(b[i+1 : end])
			i = end + 1
		} else if i = skipValue(b, i); i < 0 {
			return "", false
		}
		if i >= len(b) {
			return "", false
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return openID, openID != "" && i == len(b)-1
		default:
			return "", false
		}
	}
}

// skipValue returns the index just past the compact JSON value at b[i], or
// -1. Strings are skipped with their escapes; objects and arrays by depth.
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch c := b[i]; {
		case c == '"':
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				} else if b[i] < 0x20 {
					return -1
				}
				i++
			}
			if i >= len(b) {
				return -1
			}
			i++
		case c == '{' || c == '[':
			depth++
			i++
		case c == '}' || c == ']':
			if depth == 0 {
				return i
			}
			depth--
			i++
		case c == ',' || c == ':':
			if depth == 0 {
				return i
			}
			i++
		case c == '-' || c == '.' || c == '+' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || c == 'E':
			i++ // numbers and literals
		default:
			return -1 // white space or anything unexpected: the slow path decides
		}
		if depth == 0 && i < len(b) && (b[i] == ',' || b[i] == '}') {
			return i
		}
	}
	return -1
}

// OpenID returns the user's openId.
func (u UserInfo) OpenID() string { return u.openID }

// JSON returns the user info as JSON object text. Callers must not modify it.
func (u UserInfo) JSON() []byte { return u.json }

// IsZero reports whether u holds no user.
func (u UserInfo) IsZero() bool { return u.openID == "" }

// Session is what the session store keeps for a verified code.
type Session struct {
	Code string
	User UserInfo
	// Proof identifies the rawData and signature this code was verified
	// with, so that a repeat of the same first headers is answered from the
	// store instead of spending the single-use code at WeChat again. Empty
	// for sessions written by the original service.
	Proof string
}

// LoginProof returns the Proof of a login with the given decoded rawData
// text and signature. It is a digest: the store learns nothing it could sign
// with.
func LoginProof(rawDataText, signature string) string {
	h := sha256.New()
	h.Write([]byte(rawDataText))
	h.Write([]byte{0})
	h.Write([]byte(signature))
	return hex.EncodeToString(h.Sum(nil))
}
