package domain

import "testing"

// FuzzRawDataFastPath holds the fast path of DecodeRawData (scanMembers and
// the spliced user info) to the exact one (parseObject): whatever the fast
// path accepts, the exact path accepts too and builds the same user info.
func FuzzRawDataFastPath(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"nickName":"alice","gender":1}`,
		`{"openId":"forged","nickName":"x"}`,
		`{"nickName":"一笔到底🎨","a":{"b":[1,{"c":"}"}]},"s":"\"q\""}`,
		`{"a":1,"a":2}`,
		`{"a":true,"b":false,"c":null,"d":-1.5e3}`,
		`{ "a":1}`,
		`{"k\u0041":1}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		fast, ok := scanMembers(text)
		if !ok {
			return
		}
		slow, err := parseObject(text)
		if err != nil {
			t.Fatalf("fast path accepted %q, exact path: %v", text, err)
		}
		a := NewUserInfo(RawData{text: text, members: fast, compact: true}, "oFUZZ")
		b := NewUserInfo(RawData{text: text, members: slow}, "oFUZZ")
		if string(a.JSON()) != string(b.JSON()) {
			t.Fatalf("user info of %q: fast %s, exact %s", text, a.JSON(), b.JSON())
		}
	})
}
