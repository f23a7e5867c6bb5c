package wechattest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/wechat"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports/porttest"
)

const (
	appID     = "wxmocktest00000001"
	appSecret = "mock-secret-3f9a"
)

func newMock(t *testing.T) (*wechattest.Server, *httptest.Server, *porttest.Clock) {
	t.Helper()
	clk := porttest.NewClock(time.Date(2024, 5, 6, 12, 0, 0, 0, time.UTC))
	mock := wechattest.New(appID, appSecret, clk.Now)
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	return mock, srv, clk
}

type exchangeReply struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid"`
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
}

// exchange calls code2Session on the mock over HTTP, as WeChat is called.
func exchange(t *testing.T, srv *httptest.Server, q url.Values) exchangeReply {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + "/sns/jscode2session?" + q.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "WeChat answers 200 for errors too")
	var r exchangeReply
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	return r
}

func codeQuery(code string) url.Values {
	return url.Values{"appid": {appID}, "secret": {appSecret}, "js_code": {code}, "grant_type": {"authorization_code"}}
}

func post(t *testing.T, srv *httptest.Server, pathAndQuery string) (int, string, http.Header) {
	t.Helper()
	resp, err := srv.Client().Post(srv.URL+pathAndQuery, "", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body), resp.Header
}

func TestMint_SignatureVerifies(t *testing.T) {
	profiles := []struct {
		name    string
		user    string
		profile wechattest.Profile
	}{
		{"default profile", "alice", wechattest.Profile{}},
		{"chinese nickname with an emoji", "bob", wechattest.Profile{NickName: "一笔到底🎨", Gender: 2, City: "深圳", AvatarURL: "https://wx.qlogo.cn/a?b=1&c=2"}},
		{"nickname with characters that need escaping", "carol", wechattest.Profile{NickName: `a "quoted" <b>&'x' 100% +1`}},
	}
	for _, tt := range profiles {
		t.Run(tt.name, func(t *testing.T) {
			mock, _, _ := newMock(t)
			dev, err := mock.Mint(tt.user, tt.profile)
			require.NoError(t, err)

			raw, err := domain.DecodeRawData(wechattest.EncodeURIComponent(dev.RawData))
			require.NoError(t, err)
			assert.NoError(t, domain.VerifySignature(raw, mock.SessionKey(tt.user), dev.Signature))
			assert.Equal(t, domain.Sign(dev.RawData, mock.SessionKey(tt.user)), dev.Signature)

			assert.Equal(t, tt.user, dev.User)
			assert.Equal(t, mock.OpenID(tt.user), dev.OpenID)
			assert.Len(t, dev.Code, 32)

			want := tt.profile
			if want == (wechattest.Profile{}) {
				want = wechattest.DefaultProfile(tt.user)
			}
			var got wechattest.Profile
			require.NoError(t, json.Unmarshal([]byte(dev.RawData), &got))
			assert.Equal(t, want, got)
			assert.True(t, strings.HasPrefix(dev.RawData, `{"nickName":`), "wx.getUserInfo's field order")
			assert.NotContains(t, dev.RawData, `\u0026`, "not HTML-escaped, as JSON.stringify")
		})
	}
}

func TestMint_SignatureFailsWithAnotherKey(t *testing.T) {
	mock, _, _ := newMock(t)
	dev, err := mock.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)
	raw, err := domain.DecodeRawData(wechattest.EncodeURIComponent(dev.RawData))
	require.NoError(t, err)

	mock.SetSessionKey("alice", wechattest.NewSessionKey()) // a new wx.login replaced it
	err = domain.VerifySignature(raw, mock.SessionKey("alice"), dev.Signature)
	assert.Equal(t, domain.EUNTRUSTED, domain.ErrorCode(err))

	again, err := mock.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)
	raw, err = domain.DecodeRawData(wechattest.EncodeURIComponent(again.RawData))
	require.NoError(t, err)
	assert.NoError(t, domain.VerifySignature(raw, mock.SessionKey("alice"), again.Signature))
}

func TestMint_UserNames(t *testing.T) {
	mock, _, _ := newMock(t)
	tests := []struct {
		name    string
		user    string
		wantErr bool
	}{
		{"one character", "a", false},
		{"64 characters", strings.Repeat("u", 64), false},
		{"empty", "", true},
		{"65 characters", strings.Repeat("u", 65), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mock.Mint(tt.user, wechattest.Profile{})
			if tt.wantErr {
				assert.Error(t, err)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

func TestMint_CodesAreUnique(t *testing.T) {
	mock, _, _ := newMock(t)
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		dev, err := mock.Mint("alice", wechattest.Profile{})
		require.NoError(t, err)
		require.False(t, seen[dev.Code], "code %s minted twice", dev.Code)
		seen[dev.Code] = true
	}
}

func TestOpenID_StablePerAppAndUser(t *testing.T) {
	a := wechattest.New("wxAppA", "s", nil)
	b := wechattest.New("wxAppB", "s", nil)
	a2 := wechattest.New("wxAppA", "other", nil)

	assert.Len(t, a.OpenID("alice"), 28, "as long as WeChat's")
	assert.Equal(t, a.OpenID("alice"), a.OpenID("alice"))
	assert.Equal(t, a.OpenID("alice"), a2.OpenID("alice"), "stable across restarts of the same app")
	assert.NotEqual(t, a.OpenID("alice"), a.OpenID("bob"))
	assert.NotEqual(t, a.OpenID("alice"), b.OpenID("alice"), "openids are per app")
}

func TestNewSessionKey(t *testing.T) {
	k1, k2 := wechattest.NewSessionKey(), wechattest.NewSessionKey()
	assert.NotEqual(t, k1.Reveal(), k2.Reveal())
	b, err := base64.StdEncoding.DecodeString(k1.Reveal())
	require.NoError(t, err)
	assert.Len(t, b, 16)
}

func TestExchange_CodesAreSingleUse(t *testing.T) {
	mock, srv, _ := newMock(t)
	dev, err := mock.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)

	first := exchange(t, srv, codeQuery(dev.Code))
	assert.Zero(t, first.ErrCode)
	assert.Equal(t, dev.OpenID, first.OpenID)
	assert.Equal(t, mock.SessionKey("alice").Reveal(), first.SessionKey)
	assert.NotEmpty(t, first.UnionID)

	second := exchange(t, srv, codeQuery(dev.Code))
	assert.Equal(t, 40163, second.ErrCode)
	assert.Empty(t, second.SessionKey)
	assert.Equal(t, 2, mock.Exchanges())
}

func TestExchange_Answers(t *testing.T) {
	tests := []struct {
		name        string
		query       func(code string) url.Values
		advance     time.Duration
		wantErrcode int
	}{
		{"valid code", codeQuery, 0, 0},
		{"code just before expiry", codeQuery, wechattest.CodeTTL - time.Second, 0},
		{"code at expiry", codeQuery, wechattest.CodeTTL, 40029},
		{"expired code", codeQuery, wechattest.CodeTTL + time.Second, 40029},
		{"unknown code", func(string) url.Values { return codeQuery("never-issued") }, 0, 40029},
		{"wrong appid", func(c string) url.Values { q := codeQuery(c); q.Set("appid", "wxOther"); return q }, 0, 40013},
		{"wrong secret", func(c string) url.Values { q := codeQuery(c); q.Set("secret", "nope"); return q }, 0, 40125},
		{"wrong grant_type", func(c string) url.Values { q := codeQuery(c); q.Set("grant_type", "client_credential"); return q }, 0, 40002},
		{"missing code", func(c string) url.Values { q := codeQuery(c); q.Del("js_code"); return q }, 0, 41008},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mock, srv, clk := newMock(t)
			dev, err := mock.Mint("alice", wechattest.Profile{})
			require.NoError(t, err)
			clk.Advance(tt.advance)

			r := exchange(t, srv, tt.query(dev.Code))
			assert.Equal(t, tt.wantErrcode, r.ErrCode)
			if tt.wantErrcode == 0 {
				assert.Equal(t, dev.OpenID, r.OpenID)
				assert.NotEmpty(t, r.SessionKey)
			} else {
				assert.NotEmpty(t, r.ErrMsg)
				assert.Empty(t, r.SessionKey)
				assert.Empty(t, r.OpenID)
			}
		})
	}
}

func TestAddCode(t *testing.T) {
	mock, srv, _ := newMock(t)
	mock.AddCode("fixed-contract-code", "dave")
	r := exchange(t, srv, codeQuery("fixed-contract-code"))
	assert.Zero(t, r.ErrCode)
	assert.Equal(t, mock.OpenID("dave"), r.OpenID)
	assert.Equal(t, mock.SessionKey("dave").Reveal(), r.SessionKey)
}

func TestFailNext_DoesNotSpendCodes(t *testing.T) {
	mock, srv, _ := newMock(t)
	dev, err := mock.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)
	mock.FailNext(45011, 2)

	assert.Equal(t, 45011, exchange(t, srv, codeQuery(dev.Code)).ErrCode)
	assert.Equal(t, 45011, exchange(t, srv, codeQuery(dev.Code)).ErrCode)
	assert.Zero(t, exchange(t, srv, codeQuery(dev.Code)).ErrCode)
	assert.Equal(t, 3, mock.Exchanges())
}

func TestDevice_Headers(t *testing.T) {
	mock, _, _ := newMock(t)
	dev, err := mock.Mint("alice", wechattest.Profile{NickName: "一笔 到底"})
	require.NoError(t, err)
	h := dev.Headers()

	// Header names are case-insensitive; the protocol spells them X-WX-….
	assert.Equal(t, dev.Code, h.Get("X-WX-Code"))
	assert.Equal(t, wechattest.EncodeURIComponent(dev.RawData), h.Get("X-WX-RawData"))
	assert.Equal(t, dev.Signature, h.Get("X-WX-Signature"))
	assert.Len(t, h, 3)

	raw, err := domain.DecodeRawData(h.Get("X-WX-RawData"))
	require.NoError(t, err)
	assert.Equal(t, dev.RawData, raw.Text())
}

func TestRoute_Login(t *testing.T) {
	type loginReply struct {
		User      string            `json:"user"`
		OpenID    string            `json:"openId"`
		Code      string            `json:"code"`
		RawData   string            `json:"rawData"`
		Signature string            `json:"signature"`
		Headers   map[string]string `json:"headers"`
	}
	tests := []struct {
		name     string
		query    string
		wantUser string
		wantNick string
	}{
		{"named user", "?user=bob", "bob", "bob"},
		{"default user", "", "alice", "alice"},
		{"nickName override", "?user=bob&nickName=" + url.QueryEscape("一笔到底🎨"), "bob", "一笔到底🎨"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mock, srv, _ := newMock(t)
			status, body, header := post(t, srv, "/mock/login"+tt.query)
			require.Equal(t, http.StatusOK, status, body)
			assert.Contains(t, header.Get("Content-Type"), "application/json")

			var r loginReply
			require.NoError(t, json.Unmarshal([]byte(body), &r))
			assert.Equal(t, tt.wantUser, r.User)
			assert.Equal(t, mock.OpenID(tt.wantUser), r.OpenID)
			assert.Equal(t, map[string]string{
				"X-WX-Code": r.Code, "X-WX-RawData": wechattest.EncodeURIComponent(r.RawData), "X-WX-Signature": r.Signature,
			}, r.Headers)

			var p wechattest.Profile
			require.NoError(t, json.Unmarshal([]byte(r.RawData), &p))
			assert.Equal(t, tt.wantNick, p.NickName)

			raw, err := domain.DecodeRawData(r.Headers["X-WX-RawData"])
			require.NoError(t, err)
			assert.NoError(t, domain.VerifySignature(raw, mock.SessionKey(tt.wantUser), r.Signature))

			ex := exchange(t, srv, codeQuery(r.Code))
			assert.Zero(t, ex.ErrCode)
			assert.Equal(t, r.OpenID, ex.OpenID)
		})
	}

	t.Run("GET is refused", func(t *testing.T) {
		_, srv, _ := newMock(t)
		resp, err := srv.Client().Get(srv.URL + "/mock/login?user=bob")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
	t.Run("user name too long", func(t *testing.T) {
		_, srv, _ := newMock(t)
		status, _, _ := post(t, srv, "/mock/login?user="+strings.Repeat("u", 65))
		assert.Equal(t, http.StatusBadRequest, status)
	})
}

func TestRoute_LoginShellFormat(t *testing.T) {
	mock, srv, _ := newMock(t)
	// A nickName with a single quote checks the shell quoting: encodeURIComponent leaves ' alone.
	status, body, header := post(t, srv, "/mock/login?user=eve&format=shell&nickName="+url.QueryEscape("O'Brien $HOME `x`"))
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, header.Get("Content-Type"), "text/plain")

	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	require.Len(t, lines, 6)
	assert.True(t, strings.HasPrefix(lines[0], "export CODE='"))
	assert.True(t, strings.HasPrefix(lines[1], "export RAWDATA='"))
	assert.True(t, strings.HasPrefix(lines[2], "export SIGNATURE='"))
	assert.True(t, strings.HasPrefix(lines[3], "export PHONE_CODE='"))
	assert.True(t, strings.HasPrefix(lines[4], "export ENCRYPTED_DATA='"))
	assert.True(t, strings.HasPrefix(lines[5], "export IV='"))

	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on this machine: the export lines were checked only by shape")
	}
	out, err := exec.Command(sh, "-c", body+`printf '%s\n%s\n%s\n' "$CODE" "$RAWDATA" "$SIGNATURE"`).Output()
	require.NoError(t, err)
	vals := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, vals, 3)
	code, rawData, signature := vals[0], vals[1], vals[2]

	raw, err := domain.DecodeRawData(rawData)
	require.NoError(t, err)
	assert.Contains(t, raw.Text(), "O'Brien $HOME `x`")
	assert.NoError(t, domain.VerifySignature(raw, mock.SessionKey("eve"), signature))
	assert.Zero(t, exchange(t, srv, codeQuery(code)).ErrCode)
}

func TestRoute_Fail(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		wantReply map[string]any
		wantFails int
		wantCode  int
	}{
		{"one failure by default", "?errcode=40226", map[string]any{"errcode": 40226.0, "n": 1.0}, 1, 40226},
		{"n failures", "?errcode=-1&n=3", map[string]any{"errcode": -1.0, "n": 3.0}, 3, -1},
		{"n below one means one", "?errcode=45011&n=0", map[string]any{"errcode": 45011.0, "n": 1.0}, 1, 45011},
		{"n not a number means one", "?errcode=45011&n=x", map[string]any{"errcode": 45011.0, "n": 1.0}, 1, 45011},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mock, srv, _ := newMock(t)
			status, body, _ := post(t, srv, "/mock/fail"+tt.query)
			require.Equal(t, http.StatusOK, status, body)
			var reply map[string]any
			require.NoError(t, json.Unmarshal([]byte(body), &reply))
			assert.Equal(t, tt.wantReply, reply)

			dev, err := mock.Mint("alice", wechattest.Profile{})
			require.NoError(t, err)
			for i := 0; i < tt.wantFails; i++ {
				assert.Equal(t, tt.wantCode, exchange(t, srv, codeQuery(dev.Code)).ErrCode, "exchange %d", i+1)
			}
			assert.Zero(t, exchange(t, srv, codeQuery(dev.Code)).ErrCode, "then normal again")
		})
	}

	bad := []struct{ name, method, query string }{
		{"GET", http.MethodGet, "?errcode=40029"},
		{"missing errcode", http.MethodPost, ""},
		{"errcode not a number", http.MethodPost, "?errcode=abc"},
	}
	for _, tt := range bad {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			mock, srv, _ := newMock(t)
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+"/mock/fail"+tt.query, nil)
			require.NoError(t, err)
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

			dev, err := mock.Mint("alice", wechattest.Profile{})
			require.NoError(t, err)
			assert.Zero(t, exchange(t, srv, codeQuery(dev.Code)).ErrCode, "nothing was queued")
		})
	}
}

func TestRoute_Delay(t *testing.T) {
	t.Run("delays every exchange until reset", func(t *testing.T) {
		mock, srv, _ := newMock(t)
		status, body, _ := post(t, srv, "/mock/delay?ms=150")
		require.Equal(t, http.StatusOK, status, body)
		assert.JSONEq(t, `{"ms":150}`, body)

		dev, err := mock.Mint("alice", wechattest.Profile{})
		require.NoError(t, err)
		start := time.Now()
		assert.Zero(t, exchange(t, srv, codeQuery(dev.Code)).ErrCode)
		assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)

		status, _, _ = post(t, srv, "/mock/delay?ms=0")
		require.Equal(t, http.StatusOK, status)
		dev, err = mock.Mint("alice", wechattest.Profile{})
		require.NoError(t, err)
		start = time.Now()
		assert.Zero(t, exchange(t, srv, codeQuery(dev.Code)).ErrCode)
		assert.Less(t, time.Since(start), 150*time.Millisecond)
	})

	bad := []struct{ name, method, query string }{
		{"GET", http.MethodGet, "?ms=10"},
		{"negative", http.MethodPost, "?ms=-1"},
		{"not a number", http.MethodPost, "?ms=soon"},
		{"missing", http.MethodPost, ""},
	}
	for _, tt := range bad {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			_, srv, _ := newMock(t)
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+"/mock/delay"+tt.query, nil)
			require.NoError(t, err)
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		})
	}
}

func TestRoute_Stats(t *testing.T) {
	mock, srv, _ := newMock(t)
	stats := func() string {
		resp, err := srv.Client().Get(srv.URL + "/mock/stats")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	assert.JSONEq(t, `{"exchanges":0,"calls":{},"forcedRefreshes":0}`, stats())

	dev, err := mock.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)
	exchange(t, srv, codeQuery(dev.Code))
	exchange(t, srv, codeQuery(dev.Code))
	exchange(t, srv, codeQuery("unknown"))
	assert.JSONEq(t, `{"exchanges":3,"calls":{"jscode2session":3},"forcedRefreshes":0}`, stats())
	assert.Equal(t, 3, mock.Exchanges())
}

func TestRoute_Unknown(t *testing.T) {
	_, srv, _ := newMock(t)
	resp, err := srv.Client().Get(srv.URL + "/mock/nothing")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// TestEncodeURIComponent checks against JavaScript's own output, produced with
// node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "TEXT".
func TestEncodeURIComponent(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unreserved characters stay", "ABCXYZabcxyz0189-_.!~*'()", "ABCXYZabcxyz0189-_.!~*'()"},
		{"space", " ", "%20"},
		{"plus", "+", "%2B"},
		{"words with a space", "a b", "a%20b"},
		{"percent", "%", "%25"},
		{"json punctuation", `"{}[]:,`, "%22%7B%7D%5B%5D%3A%2C"},
		{"url reserved characters", "/?#&=;@$", "%2F%3F%23%26%3D%3B%40%24"},
		{"other ascii", "<>\\`^|", "%3C%3E%5C%60%5E%7C"},
		{"backslash", `\`, "%5C"},
		{"control characters", "tab\there\nnl", "tab%09here%0Anl"},
		{"NUL and DEL", "\x00\x7f", "%00%7F"},
		{"two-byte utf-8", "é", "%C3%A9"},
		{"greek", "Ω", "%CE%A9"},
		{"three-byte utf-8", "€", "%E2%82%AC"},
		{"chinese", "一", "%E4%B8%80"},
		{"chinese words", "笔到底", "%E7%AC%94%E5%88%B0%E5%BA%95"},
		{"emoji (four bytes)", "🎨", "%F0%9F%8E%A8"},
		{"empty", "", ""},
		{
			"rawData",
			`{"nickName":"alice","gender":1,"language":"zh_CN","city":"Shenzhen","province":"Guangdong","country":"China","avatarUrl":"https://wx.qlogo.cn/mmopen/vi_32/alice/132"}`,
			"%7B%22nickName%22%3A%22alice%22%2C%22gender%22%3A1%2C%22language%22%3A%22zh_CN%22%2C%22city%22%3A%22Shenzhen%22%2C%22province%22%3A%22Guangdong%22%2C%22country%22%3A%22China%22%2C%22avatarUrl%22%3A%22https%3A%2F%2Fwx.qlogo.cn%2Fmmopen%2Fvi_32%2Falice%2F132%22%7D",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, wechattest.EncodeURIComponent(tt.in))
		})
	}
}

func TestAcceptCode_AnswersThatIdentityOnce(t *testing.T) {
	wx := wechattest.New("wxA", "sA", nil)
	srv := httptest.NewServer(wx)
	defer srv.Close()
	wx.AcceptCode("FIXED-1", "oFIXED", domain.SessionKey("a2V5a2V5a2V5a2V5a2V5aw=="), "uFIXED")
	c := wechat.NewClient("wxA", "sA", srv.URL, time.Second)
	s, err := c.Exchange(context.Background(), "FIXED-1")
	require.NoError(t, err)
	assert.Equal(t, "oFIXED", s.OpenID)
	assert.Equal(t, "a2V5a2V5a2V5a2V5a2V5aw==", s.SessionKey.Reveal())
	assert.Equal(t, "uFIXED", s.UnionID)
	_, err = c.Exchange(context.Background(), "FIXED-1")
	assert.EqualValues(t, 40163, domain.ErrorDetail(err)["errcode"], "single-use like any code")
}

func TestRefuseCode_RefusesEveryTime(t *testing.T) {
	wx := wechattest.New("wxA", "sA", nil)
	srv := httptest.NewServer(wx)
	defer srv.Close()
	wx.RefuseCode("BAD", 40226)
	c := wechat.NewClient("wxA", "sA", srv.URL, time.Second)
	for i := 0; i < 2; i++ {
		_, err := c.Exchange(context.Background(), "BAD")
		assert.EqualValues(t, 40226, domain.ErrorDetail(err)["errcode"])
	}
}
