package domain_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/onestroke/onestroke/domain"
)

// signatureVectors are known answers computed outside Go, so that Sign and
// VerifySignature are checked against WeChat's definition and not against
// themselves:
//
//	sig:     python3 -c 'import hashlib,sys; print(hashlib.sha1((sys.argv[1]+sys.argv[2]).encode("utf-8")).hexdigest())' RAW KEY
//	encoded: node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' RAW
var signatureVectors = []struct {
	name    string
	raw     string
	key     domain.SessionKey
	sig     string
	encoded string
}{
	{
		name:    "ascii profile",
		raw:     `{"nickName":"alice","gender":1,"language":"zh_CN","city":"Shenzhen","province":"Guangdong","country":"China","avatarUrl":"https://wx.qlogo.cn/mmopen/vi_32/alice/132"}`,
		key:     "HyVFkGl5F5OQWJZZaNzBBg==",
		sig:     "63293ac5818316f4c7c7528353155fa0d5e433fd",
		encoded: "%7B%22nickName%22%3A%22alice%22%2C%22gender%22%3A1%2C%22language%22%3A%22zh_CN%22%2C%22city%22%3A%22Shenzhen%22%2C%22province%22%3A%22Guangdong%22%2C%22country%22%3A%22China%22%2C%22avatarUrl%22%3A%22https%3A%2F%2Fwx.qlogo.cn%2Fmmopen%2Fvi_32%2Falice%2F132%22%7D",
	},
	{
		name:    "chinese nickname with an emoji",
		raw:     `{"nickName":"一笔到底🎨","gender":2,"language":"zh_CN","city":"深圳","province":"广东","country":"中国","avatarUrl":"https://wx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTK/132"}`,
		key:     "tiihtNczf5v6AKRyjwEUhQ==",
		sig:     "91a26d9ab11e4c54ec39c8209e35ab0fcbcac612",
		encoded: "%7B%22nickName%22%3A%22%E4%B8%80%E7%AC%94%E5%88%B0%E5%BA%95%F0%9F%8E%A8%22%2C%22gender%22%3A2%2C%22language%22%3A%22zh_CN%22%2C%22city%22%3A%22%E6%B7%B1%E5%9C%B3%22%2C%22province%22%3A%22%E5%B9%BF%E4%B8%9C%22%2C%22country%22%3A%22%E4%B8%AD%E5%9B%BD%22%2C%22avatarUrl%22%3A%22https%3A%2F%2Fwx.qlogo.cn%2Fmmopen%2Fvi_32%2FQ0j4TwGTfTK%2F132%22%7D",
	},
	{
		name:    "characters encodeURIComponent escapes",
		raw:     `{"nickName":"a b+c&d=e/f?g#h%i;j,k:l@m$n","gender":0,"avatarUrl":"https://example.com/a?x=1&y=2"}`,
		key:     "xIeuXmzOw3Bq2yNKVQ/8Aw==",
		sig:     "dfa3dd31900e6174edc0f2fa72a2b9bd2b99e374",
		encoded: "%7B%22nickName%22%3A%22a%20b%2Bc%26d%3De%2Ff%3Fg%23h%25i%3Bj%2Ck%3Al%40m%24n%22%2C%22gender%22%3A0%2C%22avatarUrl%22%3A%22https%3A%2F%2Fexample.com%2Fa%3Fx%3D1%26y%3D2%22%7D",
	},
	{
		name:    "empty object",
		raw:     `{}`,
		key:     "AAAAAAAAAAAAAAAAAAAAAA==",
		sig:     "1f8b16a52e846c60c26bba4076816e588c42059c",
		encoded: "%7B%7D",
	},
}

func TestSign_KnownAnswers(t *testing.T) {
	for _, v := range signatureVectors {
		t.Run(v.name, func(t *testing.T) {
			assert.Equal(t, v.sig, domain.Sign(v.raw, v.key))
		})
	}
}

func TestVerifySignature_KnownAnswersPass(t *testing.T) {
	for _, v := range signatureVectors {
		t.Run(v.name, func(t *testing.T) {
			raw, err := domain.DecodeRawData(v.encoded)
			require.NoError(t, err)
			require.Equal(t, v.raw, raw.Text())
			assert.NoError(t, domain.VerifySignature(raw, v.key, v.sig))
		})
	}
}

func TestVerifySignature_Mismatch(t *testing.T) {
	v := signatureVectors[1]
	raw, err := domain.DecodeRawData(v.encoded)
	require.NoError(t, err)
	other, err := domain.DecodeRawData(signatureVectors[0].encoded)
	require.NoError(t, err)
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == '0' {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
		return string(b)
	}

	tests := []struct {
		name string
		raw  domain.RawData
		key  domain.SessionKey
		sig  string
	}{
		{"first character flipped", raw, v.key, flip(v.sig, 0)},
		{"middle character flipped", raw, v.key, flip(v.sig, 20)},
		{"last character flipped", raw, v.key, flip(v.sig, len(v.sig)-1)},
		{"uppercase hex", raw, v.key, strings.ToUpper(v.sig)},
		{"empty", raw, v.key, ""},
		{"truncated", raw, v.key, v.sig[:len(v.sig)-1]},
		{"extra character", raw, v.key, v.sig + "0"},
		{"surrounding space", raw, v.key, " " + v.sig},
		{"wrong key", raw, "tiihtNczf5v6AKRyjwEUhA==", v.sig},
		{"empty key", raw, "", v.sig},
		{"signature of other raw data", other, v.key, v.sig},
		{"zero raw data", domain.RawData{}, v.key, v.sig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := domain.VerifySignature(tt.raw, tt.key, tt.sig)
			require.Error(t, err)
			assert.Equal(t, domain.EUNTRUSTED, domain.ErrorCode(err))
			if tt.key != "" {
				assert.NotContains(t, err.Error(), tt.key.Reveal())
			}
		})
	}
}

func TestDecodeRawData_EncodeURIComponentRoundTrip(t *testing.T) {
	for _, v := range signatureVectors {
		t.Run(v.name, func(t *testing.T) {
			// The Go encoder used by the mock and the tests must produce what
			// a device's JavaScript produces.
			require.Equal(t, v.encoded, domain.EncodeRawData(v.raw))

			raw, err := domain.DecodeRawData(domain.EncodeRawData(v.raw))
			require.NoError(t, err)
			assert.Equal(t, v.raw, raw.Text())
		})
	}
}

func TestDecodeRawData_Valid(t *testing.T) {
	exactlyMax := func() (string, string) {
		// %7B%22a%22%3A%22 + n×'x' + %22%7D is 22 + n characters long.
		n := domain.MaxRawDataLength - 22
		body := strings.Repeat("x", n)
		return "%7B%22a%22%3A%22" + body + "%22%7D", `{"a":"` + body + `"}`
	}
	maxEncoded, maxText := exactlyMax()
	require.Len(t, maxEncoded, domain.MaxRawDataLength)

	tests := []struct {
		name    string
		encoded string
		want    string
	}{
		{"lowercase hex escapes", "%7b%22a%22%3a%22%e4%b8%80%22%7d", `{"a":"一"}`},
		{"plus stays plus", "%7B%22a%22%3A%22x+y%22%7D", `{"a":"x+y"}`},
		{"encoded plus becomes plus", "%7B%22a%22%3A%22x%2By%22%7D", `{"a":"x+y"}`},
		{"nothing encoded", `{"a":1}`, `{"a":1}`},
		{"unencoded unicode", `{"a":"一笔到底🎨"}`, `{"a":"一笔到底🎨"}`},
		{"mixed literal and escaped", `{"a"%3A"b c%20d"}`, `{"a":"b c d"}`},
		{"percent sign escaped", "%7B%22a%22%3A%22100%25%22%7D", `{"a":"100%"}`},
		{"escapes of escapes are decoded once", "%7B%22a%22%3A%22%2541%22%7D", `{"a":"%41"}`},
		{"whitespace around members", "%7B%20%22a%22%20%3A%201%20%7D", `{ "a" : 1 }`},
		{"trailing newline", "%7B%7D%0A", "{}\n"},
		{"json escapes inside strings", `{"a":"\u4e00\n\""}`, `{"a":"\u4e00\n\""}`},
		{"exactly the maximum length", maxEncoded, maxText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := domain.DecodeRawData(tt.encoded)
			require.NoError(t, err)
			assert.Equal(t, tt.want, raw.Text())
		})
	}
}

func TestDecodeRawData_Invalid(t *testing.T) {
	oversized := "%7B%22a%22%3A%22" + strings.Repeat("x", domain.MaxRawDataLength-21) + "%22%7D"
	require.Len(t, oversized, domain.MaxRawDataLength+1)

	tests := []struct {
		name    string
		encoded string
	}{
		{"lone percent", "%"},
		{"percent with one hex digit", "%4"},
		{"percent at the end of json", `{"a":1}%`},
		{"percent with one digit at the end", `{"a":1}%7`},
		{"percent with non-hex digits", "%ZZ"},
		{"percent with one non-hex digit", "%7G"},
		{"percent with a sign", "%+1"},
		{"truncated utf-8", "%7B%22a%22%3A%22%E4%B8%22%7D"},
		{"truncated utf-8 alone", "%E4%B8"},
		{"invalid utf-8 byte", "%FF"},
		{"invalid utf-8 inside an object", "%7B%22a%22%3A%22%FF%22%7D"},
		{"overlong utf-8", "%7B%22a%22%3A%22%C0%AF%22%7D"},
		{"utf-8 surrogate", "%7B%22a%22%3A%22%ED%A0%80%22%7D"},
		{"raw invalid utf-8 without escapes", "{\"a\":\"\xff\"}"},
		{"not json", "hello"},
		{"not json but percent-encoded", "hello%20world"},
		{"array", "%5B1%2C2%5D"},
		{"empty array", "[]"},
		{"string", "%22abc%22"},
		{"number", "42"},
		{"null", "null"},
		{"boolean", "true"},
		{"trailing object", `{"a":1}{"b":2}`},
		{"trailing garbage", `{"a":1}x`},
		{"trailing number", `{"a":1} 1`},
		{"unterminated object", `{"a":1`},
		{"missing value", `{"a":}`},
		{"trailing comma", `{"a":1,}`},
		{"single quotes", `{'a':1}`},
		{"unquoted key", `{a:1}`},
		{"raw control character in a string", "%7B%22a%22%3A%22%0A%22%7D"},
		{"empty string", ""},
		{"only whitespace", "%20%20"},
		{"oversized", oversized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := domain.DecodeRawData(tt.encoded)
			require.Error(t, err)
			assert.Equal(t, domain.EBADRAWDATA, domain.ErrorCode(err))
			assert.NotEmpty(t, domain.ErrorMessage(err))
			assert.Empty(t, raw.Text())
		})
	}
}

func decode(t *testing.T, text string) domain.RawData {
	t.Helper()
	raw, err := domain.DecodeRawData(domain.EncodeRawData(text))
	require.NoError(t, err)
	return raw
}

func TestNewUserInfo(t *testing.T) {
	const openID = "oWXq95Ej2aMRgUdLr1gNmZ3K8p0c"
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{
			name: "members kept in order with openId appended",
			raw:  `{"nickName":"alice","gender":1,"language":"zh_CN","city":"Shenzhen","avatarUrl":"https://wx.qlogo.cn/a/132"}`,
			want: `{"nickName":"alice","gender":1,"language":"zh_CN","city":"Shenzhen","avatarUrl":"https://wx.qlogo.cn/a/132","openId":"` + openID + `"}`,
		},
		{
			name: "order as sent, not sorted",
			raw:  `{"z":1,"a":2,"m":3}`,
			want: `{"z":1,"a":2,"m":3,"openId":"` + openID + `"}`,
		},
		{
			name: "client-sent openId replaced in place",
			raw:  `{"openId":"forged-by-the-client","nickName":"mallory"}`,
			want: `{"openId":"` + openID + `","nickName":"mallory"}`,
		},
		{
			name: "client-sent openId of another type replaced",
			raw:  `{"nickName":"mallory","openId":{"$ne":null},"gender":1}`,
			want: `{"nickName":"mallory","openId":"` + openID + `","gender":1}`,
		},
		{
			name: "client-sent openId written with escapes replaced",
			raw:  `{"open\u0049d":"forged","x":1}`,
			want: `{"openId":"` + openID + `","x":1}`,
		},
		{
			name: "repeated openId replaced once at its first position",
			raw:  `{"openId":"a","x":1,"openId":"b"}`,
			want: `{"openId":"` + openID + `","x":1}`,
		},
		{
			// node: JSON.stringify(Object.assign(JSON.parse('{"a":1,"b":2,"a":3}'), {openId: ID}))
			name: "duplicate keys keep the last value at the first position",
			raw:  `{"a":1,"b":2,"a":3}`,
			want: `{"a":3,"b":2,"openId":"` + openID + `"}`,
		},
		{
			name: "empty object",
			raw:  `{}`,
			want: `{"openId":"` + openID + `"}`,
		},
		{
			name: "empty object with whitespace",
			raw:  " { } ",
			want: `{"openId":"` + openID + `"}`,
		},
		{
			name: "nested objects and arrays kept",
			raw:  `{"w":{"x":[1,{"y":null}],"z":true},"list":[],"obj":{},"f":false,"n":-12.5}`,
			want: `{"w":{"x":[1,{"y":null}],"z":true},"list":[],"obj":{},"f":false,"n":-12.5,"openId":"` + openID + `"}`,
		},
		{
			name: "whitespace compacted",
			raw:  "{ \"a\" : [ 1 , 2 ] ,\n\t\"b\" : { \"c\" : \"d e\" } }",
			want: `{"a":[1,2],"b":{"c":"d e"},"openId":"` + openID + `"}`,
		},
		{
			name: "unicode kept",
			raw:  `{"nickName":"一笔到底🎨","city":"深圳"}`,
			want: `{"nickName":"一笔到底🎨","city":"深圳","openId":"` + openID + `"}`,
		},
		{
			name: "escapes in values kept as sent",
			raw:  `{"nickName":"\u4e00\"\\\n"}`,
			want: `{"nickName":"\u4e00\"\\\n","openId":"` + openID + `"}`,
		},
		{
			name: "html characters not escaped, as JSON.stringify",
			raw:  `{"<b>":"a&b"}`,
			want: `{"<b>":"a&b","openId":"` + openID + `"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := domain.NewUserInfo(decode(t, tt.raw), openID)
			assert.Equal(t, tt.want, string(u.JSON()))
			assert.True(t, json.Valid(u.JSON()), "JSON() must be valid JSON: %s", u.JSON())
			assert.Equal(t, openID, u.OpenID())
			assert.False(t, u.IsZero())

			var m map[string]any
			require.NoError(t, json.Unmarshal(u.JSON(), &m))
			assert.Equal(t, openID, m["openId"])

			back, err := domain.UserInfoFromJSON(u.JSON())
			require.NoError(t, err)
			assert.Equal(t, u, back)
		})
	}
}

func TestNewUserInfo_OpenIDNeedingEscapes(t *testing.T) {
	u := domain.NewUserInfo(decode(t, `{"a":1}`), `o"<&>\`)
	assert.Equal(t, `{"a":1,"openId":"o\"<&>\\"}`, string(u.JSON()))
	assert.Equal(t, `o"<&>\`, u.OpenID())
	assert.True(t, json.Valid(u.JSON()))
}

func TestUserInfo_ZeroValue(t *testing.T) {
	var u domain.UserInfo
	assert.True(t, u.IsZero())
	assert.Empty(t, u.OpenID())
}

func TestUserInfoFromJSON(t *testing.T) {
	t.Run("valid object is compacted", func(t *testing.T) {
		u, err := domain.UserInfoFromJSON([]byte("{ \"nickName\" : \"一笔\",\n \"openId\" : \"oABC\" }"))
		require.NoError(t, err)
		assert.Equal(t, "oABC", u.OpenID())
		assert.Equal(t, `{"nickName":"一笔","openId":"oABC"}`, string(u.JSON()))
		assert.False(t, u.IsZero())
	})

	invalid := []struct {
		name string
		data string
	}{
		{"missing openId", `{"nickName":"alice"}`},
		{"empty openId", `{"openId":""}`},
		{"null openId", `{"openId":null}`},
		{"openId not a string", `{"openId":123}`},
		{"not json", `not json`},
		{"empty", ``},
		{"array", `[{"openId":"oABC"}]`},
		{"string", `"oABC"`},
		{"null", `null`},
		{"truncated", `{"openId":"oABC"`},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			u, err := domain.UserInfoFromJSON([]byte(tt.data))
			require.Error(t, err)
			assert.Equal(t, domain.ESESSIONEXPIRED, domain.ErrorCode(err), "answered as an unknown code")
			assert.Equal(t, "The session has expired; log in again.", domain.ErrorMessage(err))
			assert.True(t, u.IsZero())
		})
	}
}

func TestCredentials_Validate(t *testing.T) {
	tests := []struct {
		name     string
		creds    domain.Credentials
		wantCode string // "" means valid
	}{
		{"all empty", domain.Credentials{}, ""},
		{"typical first request", domain.Credentials{Code: "0a3Xk2ll2Ttd5f4YV0ml2aWkll2Xk2lK", RawData: "%7B%7D", Signature: strings.Repeat("a", 40)}, ""},
		{"code of maximum length", domain.Credentials{Code: strings.Repeat("c", domain.MaxCodeLength)}, ""},
		{"printable ascii punctuation", domain.Credentials{Code: "!~-_.*'()"}, ""},
		{"code too long", domain.Credentials{Code: strings.Repeat("c", domain.MaxCodeLength+1)}, domain.EINVALID},
		{"code with NUL", domain.Credentials{Code: "abc\x00"}, domain.EINVALID},
		{"code with tab", domain.Credentials{Code: "a\tb"}, domain.EINVALID},
		{"code with newline", domain.Credentials{Code: "a\nb"}, domain.EINVALID},
		{"code with carriage return", domain.Credentials{Code: "a\rb"}, domain.EINVALID},
		{"code with space", domain.Credentials{Code: "a b"}, domain.EINVALID},
		{"code with DEL", domain.Credentials{Code: "a\x7f"}, domain.EINVALID},
		{"code with non-ascii", domain.Credentials{Code: "café"}, domain.EINVALID},
		{"code with chinese", domain.Credentials{Code: "一笔"}, domain.EINVALID},
		{"rawData of maximum length", domain.Credentials{RawData: strings.Repeat("r", domain.MaxRawDataLength)}, ""},
		{"rawData too long", domain.Credentials{RawData: strings.Repeat("r", domain.MaxRawDataLength+1)}, domain.EBADRAWDATA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.creds.Validate()
			if tt.wantCode == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.wantCode, domain.ErrorCode(err))
			assert.NotEmpty(t, domain.ErrorMessage(err))
		})
	}
}

func TestLoginProof(t *testing.T) {
	const raw, sig = `{"nickName":"alice"}`, "63293ac5818316f4c7c7528353155fa0d5e433fd"
	base := domain.LoginProof(raw, sig)

	t.Run("stable", func(t *testing.T) {
		assert.Equal(t, base, domain.LoginProof(raw, sig))
	})
	t.Run("hex sha-256 sized", func(t *testing.T) {
		b, err := hex.DecodeString(base)
		require.NoError(t, err)
		assert.Len(t, b, 32)
	})
	t.Run("reveals neither input", func(t *testing.T) {
		assert.NotContains(t, base, sig)
		assert.NotContains(t, base, "alice")
	})

	differ := []struct {
		name     string
		raw, sig string
	}{
		{"rawData differs", `{"nickName":"alicf"}`, sig},
		{"rawData differs by whitespace", `{"nickName": "alice"}`, sig},
		{"signature differs", raw, "63293ac5818316f4c7c7528353155fa0d5e433fe"},
		{"signature empty", raw, ""},
		{"both empty", "", ""},
		{"boundary shifted between the two", raw + "6", sig[1:]},
	}
	for _, tt := range differ {
		t.Run(tt.name, func(t *testing.T) {
			assert.NotEqual(t, base, domain.LoginProof(tt.raw, tt.sig))
		})
	}
	t.Run("boundary shifted on short inputs", func(t *testing.T) {
		assert.NotEqual(t, domain.LoginProof("ab", "c"), domain.LoginProof("a", "bc"))
	})
}

func TestSessionKey_Redaction(t *testing.T) {
	const secret = "Zm9vYmFyLXNlY3JldC1rZXk=" // a distinctive fake session_key
	key := domain.SessionKey(secret)
	sess := domain.WxSession{OpenID: "oABC", SessionKey: key, UnionID: "uXYZ"}

	jsonLog := func(attrs ...slog.Attr) string {
		var b bytes.Buffer
		slog.New(slog.NewJSONHandler(&b, nil)).LogAttrs(t.Context(), slog.LevelInfo, "login", attrs...)
		return b.String()
	}
	textLog := func(attrs ...slog.Attr) string {
		var b bytes.Buffer
		slog.New(slog.NewTextHandler(&b, nil)).LogAttrs(t.Context(), slog.LevelInfo, "login", attrs...)
		return b.String()
	}
	unhex := func(s string) string {
		b, err := hex.DecodeString(s)
		require.NoError(t, err)
		return string(b)
	}
	mustJSON := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return string(b)
	}

	outputs := []struct {
		name string
		out  string
	}{
		{"key %v", fmt.Sprintf("%v", key)},
		{"key %s", fmt.Sprintf("%s", key)},
		{"key %+v", fmt.Sprintf("%+v", key)},
		{"key %#v", fmt.Sprintf("%#v", key)},
		{"key %q", fmt.Sprintf("%q", key)},
		{"key %x, hex-decoded", unhex(fmt.Sprintf("%x", key))},
		{"key Sprint", fmt.Sprint(key)},
		{"key Sprintln", fmt.Sprintln("k", key)},
		{"session %v", fmt.Sprintf("%v", sess)},
		{"session %s", fmt.Sprintf("%s", sess)},
		{"session %+v", fmt.Sprintf("%+v", sess)},
		{"session %#v", fmt.Sprintf("%#v", sess)},
		{"session pointer %+v", fmt.Sprintf("%+v", &sess)},
		{"sessions in a slice %v", fmt.Sprintf("%v", []domain.WxSession{sess})},
		{"key in an error", fmt.Errorf("exchange: %v", key).Error()},
		{"json key", mustJSON(key)},
		{"json session", mustJSON(sess)},
		{"json map of keys", mustJSON(map[string]any{"k": key})},
		{"slog json any key", jsonLog(slog.Any("k", key))},
		{"slog json any session", jsonLog(slog.Any("session", sess))},
		{"slog json any session pointer", jsonLog(slog.Any("session", &sess))},
		{"slog json group", jsonLog(slog.Group("g", slog.Any("k", key)))},
		{"slog text any key", textLog(slog.Any("k", key))},
		{"slog text any session", textLog(slog.Any("session", sess))},
	}
	for _, tt := range outputs {
		t.Run(tt.name, func(t *testing.T) {
			assert.NotContains(t, tt.out, secret)
			assert.NotContains(t, tt.out, hex.EncodeToString([]byte(secret)))
			assert.Contains(t, tt.out, "REDACTED")
		})
	}

	t.Run("Reveal returns the key", func(t *testing.T) {
		assert.Equal(t, secret, key.Reveal())
		assert.Equal(t, secret, sess.SessionKey.Reveal())
	})
	t.Run("MarshalText is redacted", func(t *testing.T) {
		b, err := key.MarshalText()
		require.NoError(t, err)
		assert.NotContains(t, string(b), secret)
	})
}

// openIDMembers returns the values of every top-level member of obj whose
// key equals "openId" ignoring case, as encoding/json would match them.
func openIDMembers(t *testing.T, obj []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(obj))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var out []string
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		var v json.RawMessage
		require.NoError(t, dec.Decode(&v))
		if strings.EqualFold(tok.(string), "openId") {
			out = append(out, tok.(string)+"="+string(v))
		}
	}
	return out
}

// Security review finding 1: rawData whose keys hold case variants of
// openId (and an escape, which sent the old reader to encoding/json's
// case-insensitive, last-wins matching) logged in as the signer but ran
// every later request as the victim.
func TestNewUserInfo_OpenIDCaseVariantsAreDroppedAndNeverDecideTheUser(t *testing.T) {
	const signer = "oSIGNER"
	for _, raw := range []string{
		`{"openId":"x","OPENID":"oVICTIM","k\"":1}`,
		`{"openId":"x","OPENID":"oVICTIM"}`,
		`{"OPENID":"oVICTIM"}`,
		`{"nickName":"m","openid":"oVICTIM"}`,
		`{"OpenId":"oVICTIM","k\"":1}`,
		`{"oPeNiD":"oVICTIM","a\u0041":1,"openId":"x"}`,
		`{"open\u0069d":"oVICTIM","x":1}`,
		` { "OPENID" : "oVICTIM" , "openId" : "x" } `,
	} {
		t.Run(raw, func(t *testing.T) {
			u := domain.NewUserInfo(decode(t, raw), signer)
			assert.Equal(t, []string{`openId="` + signer + `"`}, openIDMembers(t, u.JSON()),
				"exactly one member whose key folds to openId, the service's: %s", u.JSON())
			back, err := domain.UserInfoFromJSON(u.JSON())
			require.NoError(t, err)
			assert.Equal(t, signer, back.OpenID(), "read back from the store")
			var probe struct {
				OpenID string `json:"openId"`
			}
			require.NoError(t, json.Unmarshal(u.JSON(), &probe))
			assert.Equal(t, signer, probe.OpenID, "a case-insensitive reader agrees")
		})
	}
}

func TestNewUserInfo_KeepsOtherMembersAndTheOriginalsPlaceForOpenID(t *testing.T) {
	const signer = "oSIGNER"
	for raw, want := range map[string]string{
		`{"OPENID":"v","a":1}`:              `{"a":1,"openId":"oSIGNER"}`,
		`{"openId":"x","OPENID":"v","b":2}`: `{"openId":"oSIGNER","b":2}`,
		`{"a":1,"k\"":2,"OpenID":"v"}`:      `{"a":1,"k\"":2,"openId":"oSIGNER"}`,
		`{"openIdx":"kept","open":"kept"}`:  `{"openIdx":"kept","open":"kept","openId":"oSIGNER"}`,
	} {
		assert.Equal(t, want, string(domain.NewUserInfo(decode(t, raw), signer).JSON()), raw)
	}
}

// The reader takes the member whose key is exactly openId, whatever else
// the object holds, and refuses an object with two of them: the original
// service's JSON.stringify never wrote one.
func TestUserInfoFromJSON_TakesTheExactOpenIDMemberOnly(t *testing.T) {
	for data, want := range map[string]string{
		`{"openId":"oREAL","OPENID":"oVICTIM"}`:             "oREAL",
		`{"OPENID":"oVICTIM","openId":"oREAL"}`:             "oREAL",
		`{"openId":"oREAL","OPENID":"oVICTIM","k\"":1}`:     "oREAL",
		`{"OPENID":"oVICTIM","k\"":1,"openId":"oREAL"}`:     "oREAL",
		`{"openid":"oVICTIM", "openId" : "oREAL"}`:          "oREAL",
		`{"nickName":"老用户","openId":"oREAL","Openid":"oV"}`: "oREAL",
	} {
		u, err := domain.UserInfoFromJSON([]byte(data))
		require.NoError(t, err, data)
		assert.Equal(t, want, u.OpenID(), data)
	}
	for _, data := range []string{
		`{"openId":"oA","openId":"oB"}`,
		`{"openId":"oA","k\"":1,"openId":"oB"}`,
		`{"open\u0049d":"oVICTIM","openId":"oREAL"}`,
		`{"OPENID":"oVICTIM"}`,
		`{"openId":"oA","x":tru}`,
		"{\"openId\":\"oA\",\"x\":\"\xff\"}",
	} {
		_, err := domain.UserInfoFromJSON([]byte(data))
		require.Error(t, err, data)
	}
}

func TestCheckSignatureShape(t *testing.T) {
	good := signatureVectors[0].sig
	assert.NoError(t, domain.CheckSignatureShape(good))
	for name, sig := range map[string]string{
		"empty":           "",
		"short":           good[:39],
		"long":            good + "0",
		"uppercase":       strings.ToUpper(good),
		"not hex":         strings.Repeat("g", 40),
		"space inside":    good[:20] + " " + good[21:],
		"non-ASCII":       good[:38] + "é",
		"NUL":             good[:39] + "\x00",
		"base64 of a sum": "2jmj7l5rSw0yVb/vlWAYkK/YBwk=AAAAAAAAAAAA",
	} {
		err := domain.CheckSignatureShape(sig)
		assert.Equal(t, domain.EUNTRUSTED, domain.ErrorCode(err), name)
	}
}
