package domain

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzUserInfoFromJSON holds the reader of stored user info to its exact
// reference (userInfoFromJSONExact, on decodeMembers): on every input both
// accept or both refuse, with the same openId and the same text; whatever the
// fast path accepts, the reference accepts as it is.
func FuzzUserInfoFromJSON(f *testing.F) {
	for _, seed := range []string{
		`{"nickName":"alice","openId":"oA"}`,
		`{"openId":"oA","nested":{"a":[1,2,{"b":"}"}]},"s":"\\"quoted\\""}`,
		`{"openId":"oA","n":-1.5e+3,"t":true,"f":false,"z":null}`,
		`{ "openId" : "oA" }`,
		`{"open\u0049d":"oA"}`,
		`{"openId":"o\"A"}`,
		`{"openId":""}`,
		`{"a":1}`,
		`[1]`,
		`{"openId":"oA"}x`,
		`{"openId":"oA","openId":"oB"}`,
		`{"openId":"oA","OPENID":"oB","k\"":1}`,
		`{"OPENID":"oB","openId":"oA"}`,
		`{"openId":"oA","x":tru}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fastID, fastOK := scanCompactObject(data)
		exact, exactErr := userInfoFromJSONExact(data)
		if fastOK {
			if exactErr != nil {
				t.Fatalf("fast path accepted %q, the reference refuses it: %v", data, exactErr)
			}
			if fastID != exact.OpenID() || !bytes.Equal(data, exact.JSON()) {
				t.Fatalf("fast path read %q as %q, the reference as %q %s", data, fastID, exact.OpenID(), exact.JSON())
			}
		}
		got, err := UserInfoFromJSON(data)
		if (err == nil) != (exactErr == nil) || got.OpenID() != exact.OpenID() || !bytes.Equal(got.JSON(), exact.JSON()) {
			t.Fatalf("UserInfoFromJSON(%q) = %q, %v; the reference: %q, %v", data, got.OpenID(), err, exact.OpenID(), exactErr)
		}
		if err != nil {
			if ErrorCode(err) != ESESSIONEXPIRED {
				t.Fatalf("a stored value that is not a session answered %s, not as an unknown code", ErrorCode(err))
			}
			return
		}
		if !json.Valid(got.JSON()) || got.OpenID() == "" {
			t.Fatalf("accepted %q as %q with text %q", data, got.OpenID(), got.JSON())
		}
	})
}

// FuzzNewUserInfoNamesOnlyTheService: whatever rawData a signer sends, the
// user info it gets has exactly one member whose key folds to openId, the
// service's, and every reader (ours, and encoding/json's case-insensitive
// one) reads the service's openId back.
func FuzzNewUserInfoNamesOnlyTheService(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"openId":"x","OPENID":"victim","k\"":1}`,
		`{"OpenID":"victim"}`,
		`{"open\u0049D":"victim","a":1}`,
		`{"a":1,"a":2,"openid":3}`,
	} {
		f.Add(s)
	}
	const service = "oSERVICE"
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			return // DecodeRawData refuses it before either path
		}
		var infos []UserInfo
		if fast, ok := scanMembers(text); ok {
			infos = append(infos, NewUserInfo(RawData{text: text, members: fast, compact: true}, service))
		}
		if slow, err := parseObject(text); err == nil {
			infos = append(infos, NewUserInfo(RawData{text: text, members: slow}, service))
		}
		for _, u := range infos {
			all, err := decodeMembers(string(u.JSON()))
			if err != nil {
				t.Fatalf("user info of %q is not an object: %s: %v", text, u.JSON(), err)
			}
			n := 0
			for _, m := range all {
				if strings.EqualFold(m.key, openIDKey) {
					n++
					if m.key != openIDKey || m.value != `"`+service+`"` {
						t.Fatalf("user info of %q has %s:%s", text, m.key, m.value)
					}
				}
			}
			if n != 1 {
				t.Fatalf("user info of %q has %d openId members: %s", text, n, u.JSON())
			}
			back, err := UserInfoFromJSON(u.JSON())
			if err != nil || back.OpenID() != service {
				t.Fatalf("user info of %q read back as %q, %v", text, back.OpenID(), err)
			}
			var probe struct {
				OpenID string `json:"openId"`
			}
			if err := json.Unmarshal(u.JSON(), &probe); err != nil || probe.OpenID != service {
				t.Fatalf("encoding/json reads the user info of %q as %q, %v", text, probe.OpenID, err)
			}
		}
	})
}
