package domain_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/onestroke/onestroke/domain"
)

// FuzzUserInfoFromJSON checks the fast path of UserInfoFromJSON against
// encoding/json: for valid input both agree on the openId, and the text
// handed out is valid, compact JSON.
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
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := domain.UserInfoFromJSON(data)
		var probe struct {
			OpenID *string `json:"openId"`
		}
		if !json.Valid(data) || json.Unmarshal(data, &probe) != nil {
			return // garbage in: any error (or the fast path's leniency) is fine
		}
		if probe.OpenID == nil || *probe.OpenID == "" {
			if err == nil {
				t.Fatalf("accepted %q without an openId", data)
			}
			return
		}
		if err != nil {
			t.Fatalf("rejected valid %q: %v", data, err)
		}
		if u.OpenID() != *probe.OpenID {
			t.Fatalf("openId %q, encoding/json says %q, for %q", u.OpenID(), *probe.OpenID, data)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil || !bytes.Equal(compact.Bytes(), u.JSON()) {
			t.Fatalf("JSON() = %q, want the compact form %q", u.JSON(), compact.Bytes())
		}
	})
}
