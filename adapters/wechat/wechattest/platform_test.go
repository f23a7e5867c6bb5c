package wechattest_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/domain"
)

// postJSON posts body (a string is sent as it is) to path with token as
// access_token, as WeChat's platform APIs are called, and decodes the
// answer.
func postJSON(t *testing.T, ctx context.Context, srv *httptest.Server, path, token string, body any) (map[string]any, error) {
	t.Helper()
	raw, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		raw = string(b)
	}
	u := srv.URL + path
	if token != "" {
		u += "?access_token=" + url.QueryEscape(token)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(raw))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "WeChat answers 200 for errors too")
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return m, nil
}

func api(t *testing.T, srv *httptest.Server, path, token string, body any) map[string]any {
	t.Helper()
	m, err := postJSON(t, context.Background(), srv, path, token, body)
	require.NoError(t, err)
	return m
}

func stableToken(t *testing.T, srv *httptest.Server, force bool) map[string]any {
	t.Helper()
	return api(t, srv, "/cgi-bin/stable_token", "", map[string]any{
		"grant_type": "client_credential", "appid": appID, "secret": appSecret, "force_refresh": force})
}

// token fetches a token and requires it.
func token(t *testing.T, srv *httptest.Server, force bool) (string, float64) {
	t.Helper()
	r := stableToken(t, srv, force)
	require.Nil(t, r["errcode"], "%v", r)
	tok, _ := r["access_token"].(string)
	require.NotEmpty(t, tok)
	return tok, r["expires_in"].(float64)
}

func errcode(m map[string]any) int {
	f, _ := m["errcode"].(float64)
	return int(f)
}

// probe calls msg_sec_check with tok: 0 when WeChat takes the token.
func probe(t *testing.T, mock *wechattest.Server, srv *httptest.Server, tok string) int {
	t.Helper()
	return errcode(api(t, srv, "/wxa/msg_sec_check", tok, map[string]any{
		"version": 2, "openid": mock.OpenID("prober"), "scene": 1, "content": "hello"}))
}

func TestStableToken_Refusals(t *testing.T) {
	good := map[string]any{"grant_type": "client_credential", "appid": appID, "secret": appSecret}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range good {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	for _, tt := range []struct {
		name string
		body any
		want int
	}{
		{"wrong appid", with("appid", "wx0000000000000000"), 40013},
		{"wrong secret", with("secret", "other"), 40125},
		{"wrong grant_type", with("grant_type", "authorization_code"), 40002},
		{"not JSON", `grant_type=client_credential`, 47001},
		{"force_refresh of the wrong type", with("force_refresh", "yes"), 47001},
		{"over 64 kB", with("secret", strings.Repeat("s", 70<<10)), 47001},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mock, srv, _ := newMock(t)
			r := api(t, srv, "/cgi-bin/stable_token", "", tt.body)
			assert.Equal(t, tt.want, errcode(r))
			assert.NotEmpty(t, r["errmsg"])
			assert.Nil(t, r["access_token"])
			assert.Empty(t, mock.AccessToken(), "no token issued")
		})
	}
	t.Run("GET", func(t *testing.T) {
		_, srv, _ := newMock(t)
		resp, err := srv.Client().Get(srv.URL + "/cgi-bin/stable_token")
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		assert.Equal(t, 43002, errcode(m))
	})
}

func TestStableToken_SameTokenUntilFiveMinutesBeforeItsEnd(t *testing.T) {
	mock, srv, clk := newMock(t)
	a, exp := token(t, srv, false)
	assert.EqualValues(t, 7200, exp)
	assert.Equal(t, a, mock.AccessToken().Reveal())

	clk.Advance(time.Hour)
	again, exp := token(t, srv, false)
	assert.Equal(t, a, again)
	assert.EqualValues(t, 3600, exp, "expires_in counts down")

	clk.Advance(time.Hour - wechattest.TokenRenewal - time.Second)
	again, exp = token(t, srv, false)
	assert.Equal(t, a, again, "still the same one second before the renewal window")
	assert.EqualValues(t, 301, exp)

	clk.Advance(time.Second)
	b, exp := token(t, srv, false)
	assert.NotEqual(t, a, b, "five minutes before its end: a new token")
	assert.EqualValues(t, 7200, exp)
	assert.Zero(t, probe(t, mock, srv, a), "the old token is valid until its own end")
	assert.Zero(t, probe(t, mock, srv, b))

	clk.Advance(wechattest.TokenRenewal)
	assert.Equal(t, 42001, probe(t, mock, srv, a), "the old token's time is up")
	assert.Zero(t, probe(t, mock, srv, b))
	again, _ = token(t, srv, false)
	assert.Equal(t, b, again)
	assert.Zero(t, mock.ForcedRefreshes())
	assert.Equal(t, 5, mock.Calls(wechattest.APIStableToken))
}

func TestStableToken_ForceRefreshEndsTheOldTokenAtOnce(t *testing.T) {
	mock, srv, _ := newMock(t)
	a, _ := token(t, srv, false)
	b, exp := token(t, srv, true)
	assert.NotEqual(t, a, b)
	assert.EqualValues(t, 7200, exp)
	assert.Equal(t, 40001, probe(t, mock, srv, a), "ended at once, as after another holder's refresh")
	assert.Zero(t, probe(t, mock, srv, b))
	again, _ := token(t, srv, false)
	assert.Equal(t, b, again)
	assert.Equal(t, 1, mock.ForcedRefreshes())
}

func TestStableToken_ForceRefreshAtMostOnceEvery30Seconds(t *testing.T) {
	mock, srv, clk := newMock(t)
	b, _ := token(t, srv, true)
	clk.Advance(wechattest.ForceGap - time.Second)
	r := stableToken(t, srv, true)
	assert.Equal(t, 45011, errcode(r))
	assert.Nil(t, r["access_token"])
	assert.Zero(t, probe(t, mock, srv, b), "a refused force ends nothing")
	again, _ := token(t, srv, false)
	assert.Equal(t, b, again, "an unforced call still answers the token")
	assert.Equal(t, 1, mock.ForcedRefreshes(), "a refused force is not counted")

	clk.Advance(time.Second)
	c, _ := token(t, srv, true)
	assert.NotEqual(t, b, c)
	assert.Equal(t, 2, mock.ForcedRefreshes())
}

func TestStableToken_TwentyForcedRefreshesABeijingDay(t *testing.T) {
	// The mock's clock starts at 12:00 UTC, 20:00 in Beijing.
	mock, srv, clk := newMock(t)
	for i := range wechattest.ForcesPerDay {
		token(t, srv, true)
		if i < wechattest.ForcesPerDay-1 {
			clk.Advance(wechattest.ForceGap)
		}
	}
	clk.Advance(wechattest.ForceGap)
	assert.Equal(t, 45009, errcode(stableToken(t, srv, true)))
	// From 20:10 in Beijing to one second before midnight: the day's allowance is still spent.
	clk.Advance(3*time.Hour + 49*time.Minute + 59*time.Second)
	assert.Equal(t, 45009, errcode(stableToken(t, srv, true)))
	clk.Advance(time.Second)
	token(t, srv, true)
	assert.Equal(t, wechattest.ForcesPerDay+1, mock.ForcedRefreshes())
}

func TestInvalidate_EndsTheCurrentTokenWithoutAForcedRefresh(t *testing.T) {
	for _, how := range []string{"method", "route"} {
		t.Run(how, func(t *testing.T) {
			mock, srv, _ := newMock(t)
			a, _ := token(t, srv, false)
			if how == "method" {
				mock.Invalidate()
			} else {
				status, body, _ := post(t, srv, "/mock/invalidate")
				require.Equal(t, http.StatusOK, status, body)
			}
			assert.Empty(t, mock.AccessToken())
			assert.Equal(t, 40001, probe(t, mock, srv, a))
			b, exp := token(t, srv, false)
			assert.NotEqual(t, a, b, "stable_token answers a new token")
			assert.EqualValues(t, 7200, exp)
			assert.Zero(t, probe(t, mock, srv, b))
			assert.Zero(t, mock.ForcedRefreshes())
			// A forced refresh is still allowed at once: Invalidate spent none.
			token(t, srv, true)
			assert.Equal(t, 1, mock.ForcedRefreshes())
		})
	}
	t.Run("GET on the route is refused", func(t *testing.T) {
		_, srv, _ := newMock(t)
		resp, err := srv.Client().Get(srv.URL + "/mock/invalidate")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
}

func TestPlatformAPIs_CheckTheAccessToken(t *testing.T) {
	for _, path := range []string{"/wxa/business/getuserphonenumber", "/wxa/msg_sec_check"} {
		t.Run(path, func(t *testing.T) {
			mock, srv, clk := newMock(t)
			body := func() map[string]any {
				return map[string]any{"code": mock.MintPhoneCode("alice"), "version": 2, "openid": mock.OpenID("alice"), "scene": 1, "content": "hi"}
			}
			assert.Equal(t, 41001, errcode(api(t, srv, path, "", body())), "missing")
			assert.Equal(t, 40001, errcode(api(t, srv, path, "mock_AT_never-issued", body())), "unknown")
			tok, _ := token(t, srv, false)
			clk.Advance(wechattest.TokenLife)
			assert.Equal(t, 42001, errcode(api(t, srv, path, tok, body())), "expired")
			tok, _ = token(t, srv, false)
			assert.Zero(t, errcode(api(t, srv, path, tok, body())), "the new one works")
		})
	}
}

func TestPhoneNumber_Answers(t *testing.T) {
	mock, srv, clk := newMock(t)
	tok, _ := token(t, srv, false)
	code := mock.MintPhoneCode("alice")
	r := api(t, srv, "/wxa/business/getuserphonenumber", tok, map[string]any{"code": code, "openid": mock.OpenID("alice")})
	want := wechattest.DefaultPhone("alice")
	assert.Equal(t, map[string]any{"errcode": 0.0, "errmsg": "ok", "phone_info": map[string]any{
		"phoneNumber": want.PhoneNumber, "purePhoneNumber": want.PurePhoneNumber, "countryCode": "86",
		"watermark": map[string]any{"appid": appID, "timestamp": float64(clk.Now().Unix())},
	}}, r)
	assert.Equal(t, want, mock.Phone("alice"))

	// Without openid it is answered too (the openid is optional).
	r = api(t, srv, "/wxa/business/getuserphonenumber", tok, map[string]any{"code": mock.MintPhoneCode("alice")})
	assert.Zero(t, errcode(r))

	intl := domain.PhoneNumber{PhoneNumber: "+44 7700900123", PurePhoneNumber: "7700900123", CountryCode: "44"}
	mock.SetPhone("bob", intl)
	r = api(t, srv, "/wxa/business/getuserphonenumber", tok, map[string]any{"code": mock.MintPhoneCode("bob")})
	info := r["phone_info"].(map[string]any)
	assert.Equal(t, "+44 7700900123", info["phoneNumber"])
	assert.Equal(t, "7700900123", info["purePhoneNumber"])
	assert.Equal(t, "44", info["countryCode"])
	assert.Equal(t, intl, mock.Phone("bob"))
}

func TestPhoneNumber_CodeRefusals(t *testing.T) {
	const path = "/wxa/business/getuserphonenumber"
	t.Run("single use", func(t *testing.T) {
		mock, srv, _ := newMock(t)
		tok, _ := token(t, srv, false)
		code := mock.MintPhoneCode("alice")
		require.Zero(t, errcode(api(t, srv, path, tok, map[string]any{"code": code})))
		assert.Equal(t, 40029, errcode(api(t, srv, path, tok, map[string]any{"code": code})))
	})
	t.Run("lives five minutes", func(t *testing.T) {
		mock, srv, clk := newMock(t)
		tok, _ := token(t, srv, false)
		early, late := mock.MintPhoneCode("alice"), mock.MintPhoneCode("alice")
		clk.Advance(wechattest.PhoneCodeTTL - time.Second)
		assert.Zero(t, errcode(api(t, srv, path, tok, map[string]any{"code": early})))
		clk.Advance(time.Second)
		assert.Equal(t, 40029, errcode(api(t, srv, path, tok, map[string]any{"code": late})))
	})
	t.Run("unknown or empty", func(t *testing.T) {
		_, srv, _ := newMock(t)
		tok, _ := token(t, srv, false)
		assert.Equal(t, 40029, errcode(api(t, srv, path, tok, map[string]any{"code": "never-issued"})))
		assert.Equal(t, 40029, errcode(api(t, srv, path, tok, map[string]any{})))
	})
	t.Run("another user's openid, without spending the code", func(t *testing.T) {
		mock, srv, _ := newMock(t)
		tok, _ := token(t, srv, false)
		code := mock.MintPhoneCode("alice")
		assert.Equal(t, 40003, errcode(api(t, srv, path, tok, map[string]any{"code": code, "openid": mock.OpenID("bob")})))
		assert.Zero(t, errcode(api(t, srv, path, tok, map[string]any{"code": code, "openid": mock.OpenID("alice")})))
	})
	t.Run("a login code is no phone code", func(t *testing.T) {
		mock, srv, _ := newMock(t)
		tok, _ := token(t, srv, false)
		d, err := mock.Mint("alice", wechattest.Profile{})
		require.NoError(t, err)
		assert.Equal(t, 40029, errcode(api(t, srv, path, tok, map[string]any{"code": d.Code})))
	})
	t.Run("not JSON", func(t *testing.T) {
		_, srv, _ := newMock(t)
		tok, _ := token(t, srv, false)
		assert.Equal(t, 47001, errcode(api(t, srv, path, tok, `{"code":`)))
	})
}

func TestAcceptPhoneCode_ThisNumberForThisOpenIDOnce(t *testing.T) {
	const path = "/wxa/business/getuserphonenumber"
	const openID = "oGZUI0egBJY1zhBYw2KhdUfwVJJE" // no test user's
	n := domain.PhoneNumber{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}
	mock, srv, clk := newMock(t)
	tok, _ := token(t, srv, false)
	mock.AcceptPhoneCode("PHONE-FIXED", openID, n)

	assert.Equal(t, 40003, errcode(api(t, srv, path, tok, map[string]any{"code": "PHONE-FIXED", "openid": mock.OpenID("alice")})),
		"another openid, without spending the code")
	r := api(t, srv, path, tok, map[string]any{"code": "PHONE-FIXED", "openid": openID})
	assert.Equal(t, map[string]any{"errcode": 0.0, "errmsg": "ok", "phone_info": map[string]any{
		"phoneNumber": "13800138000", "purePhoneNumber": "13800138000", "countryCode": "86",
		"watermark": map[string]any{"appid": appID, "timestamp": float64(clk.Now().Unix())},
	}}, r)
	assert.Equal(t, 40029, errcode(api(t, srv, path, tok, map[string]any{"code": "PHONE-FIXED", "openid": openID})), "single use")

	mock.AcceptPhoneCode("PHONE-LATE", openID, n)
	clk.Advance(wechattest.PhoneCodeTTL)
	assert.Equal(t, 40029, errcode(api(t, srv, path, tok, map[string]any{"code": "PHONE-LATE", "openid": openID})), "lives five minutes")
}

func TestDefaultPhone_AMainlandNumberStablePerName(t *testing.T) {
	a := wechattest.DefaultPhone("alice")
	assert.Regexp(t, `^138[0-9]{8}$`, a.PhoneNumber)
	assert.Equal(t, a.PhoneNumber, a.PurePhoneNumber)
	assert.Equal(t, "86", a.CountryCode)
	assert.Equal(t, a, wechattest.DefaultPhone("alice"))
	assert.NotEqual(t, a, wechattest.DefaultPhone("bob"))
}

func TestMsgSecCheck_Suggestions(t *testing.T) {
	mock, srv, _ := newMock(t)
	tok, _ := token(t, srv, false)
	check := func(content string) map[string]any {
		return api(t, srv, "/wxa/msg_sec_check", tok, map[string]any{"version": 2, "openid": mock.OpenID("alice"), "scene": 1, "content": content})
	}
	suggest := func(content string) any {
		r := check(content)
		require.Zero(t, errcode(r), "%v", r)
		return r["result"].(map[string]any)["suggest"]
	}
	r := check("一笔到底")
	assert.Equal(t, "ok", r["errmsg"])
	assert.Equal(t, map[string]any{"suggest": "pass", "label": 100.0}, r["result"])
	assert.NotEmpty(t, r["trace_id"])
	assert.Equal(t, "risky", suggest("a RISKY-MARKER here"))
	assert.Equal(t, "review", suggest("REVIEW-MARKER"))
	assert.Equal(t, "risky", suggest("REVIEW-MARKER and RISKY-MARKER"), "risky wins")
	assert.Equal(t, "pass", suggest("risky-marker"), "markers are case-sensitive")

	mock.SetContentMarkers("坏", "")
	assert.Equal(t, "risky", suggest("坏人"))
	assert.Equal(t, "pass", suggest("RISKY-MARKER REVIEW-MARKER"), "the defaults are replaced; an empty marker matches nothing")
}

func TestMsgSecCheck_Validation(t *testing.T) {
	mock, srv, _ := newMock(t)
	tok, _ := token(t, srv, false)
	alice := mock.OpenID("alice")
	for _, tt := range []struct {
		name string
		body any
		want int
	}{
		{"version 1", map[string]any{"version": 1, "openid": alice, "scene": 1, "content": "x"}, 40097},
		{"no version", map[string]any{"openid": alice, "scene": 1, "content": "x"}, 40097},
		{"scene 0", map[string]any{"version": 2, "openid": alice, "scene": 0, "content": "x"}, 40097},
		{"scene 5", map[string]any{"version": 2, "openid": alice, "scene": 5, "content": "x"}, 40097},
		{"empty content", map[string]any{"version": 2, "openid": alice, "scene": 1, "content": ""}, 40097},
		{"unknown openid", map[string]any{"version": 2, "openid": "oUNKNOWN00000000000000000000", "scene": 1, "content": "x"}, 40003},
		{"no openid", map[string]any{"version": 2, "scene": 1, "content": "x"}, 40003},
		{"not JSON", "version=2", 47001},
		{"scene of the wrong type", `{"version":2,"openid":"` + alice + `","scene":"1","content":"x"}`, 47001},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, errcode(api(t, srv, "/wxa/msg_sec_check", tok, tt.body)))
		})
	}
	t.Run("every scene 1 to 4", func(t *testing.T) {
		for scene := 1; scene <= 4; scene++ {
			assert.Zero(t, errcode(api(t, srv, "/wxa/msg_sec_check", tok, map[string]any{"version": 2, "openid": alice, "scene": scene, "content": "x"})))
		}
	})
	t.Run("an openid a contract test fixed with AcceptCode is known", func(t *testing.T) {
		mock.AcceptCode("fixed-code", "oFIXED0000000000000000000000", wechattest.NewSessionKey(), "")
		assert.Zero(t, errcode(api(t, srv, "/wxa/msg_sec_check", tok, map[string]any{"version": 2, "openid": "oFIXED0000000000000000000000", "scene": 1, "content": "x"})))
	})
}

func TestPlatformAPIs_Faults(t *testing.T) {
	for _, c := range []struct {
		api, path string
	}{
		{wechattest.APIStableToken, "/cgi-bin/stable_token"},
		{wechattest.APIPhoneNumber, "/wxa/business/getuserphonenumber"},
		{wechattest.APIMsgSecCheck, "/wxa/msg_sec_check"},
	} {
		t.Run(c.api+" answers the injected errcode, then the real answer", func(t *testing.T) {
			mock, srv, _ := newMock(t)
			tok, _ := token(t, srv, false)
			body := map[string]any{"grant_type": "client_credential", "appid": appID, "secret": appSecret,
				"code": mock.MintPhoneCode("alice"), "version": 2, "openid": mock.OpenID("alice"), "scene": 1, "content": "x"}
			mock.Inject(c.api, wechattest.Fault{Errcode: -1}, 1)
			before := mock.Calls(c.api)
			assert.Equal(t, -1, errcode(api(t, srv, c.path, tok, body)))
			assert.Zero(t, errcode(api(t, srv, c.path, tok, body)), "the fault is spent; nothing was used up by it")
			assert.Equal(t, before+2, mock.Calls(c.api))
		})
		t.Run(c.api+" hangs until the caller gives up", func(t *testing.T) {
			mock, srv, _ := newMock(t)
			mock.Inject(c.api, wechattest.Fault{Hang: time.Hour}, 0)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := postJSON(t, ctx, srv, c.path, "t", map[string]any{})
			require.Error(t, err)
			assert.Less(t, time.Since(start), 5*time.Second)
		})
		t.Run(c.api+" through the fault route", func(t *testing.T) {
			mock, srv, _ := newMock(t)
			status, body, _ := post(t, srv, "/mock/fault?api="+c.api+"&errcode=45009&n=1")
			require.Equal(t, http.StatusOK, status, body)
			assert.Equal(t, 45009, errcode(api(t, srv, c.path, "t", map[string]any{})))
			assert.Equal(t, 1, mock.Calls(c.api))
		})
	}
}

// decrypt opens encryptedData as PROTOCOL §8 says a server does: AES-128-CBC
// with the base64-decoded session_key and iv, strict PKCS#7, JSON.
func decrypt(t *testing.T, key domain.SessionKey, encryptedData, iv string) map[string]any {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(key.Reveal())
	require.NoError(t, err)
	require.Len(t, k, 16)
	ivb, err := base64.StdEncoding.DecodeString(iv)
	require.NoError(t, err)
	require.Len(t, ivb, aes.BlockSize)
	ct, err := base64.StdEncoding.DecodeString(encryptedData)
	require.NoError(t, err)
	require.NotEmpty(t, ct)
	require.Zero(t, len(ct)%aes.BlockSize)
	block, err := aes.NewCipher(k)
	require.NoError(t, err)
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, ivb).CryptBlocks(plain, ct)
	pad := int(plain[len(plain)-1])
	require.True(t, pad >= 1 && pad <= aes.BlockSize, "padding length %d", pad)
	require.Equal(t, bytes.Repeat([]byte{byte(pad)}, pad), plain[len(plain)-pad:], "PKCS#7")
	var m map[string]any
	require.NoError(t, json.Unmarshal(plain[:len(plain)-pad], &m))
	return m
}

func TestEncryptData_DecryptsAsProtocolSays(t *testing.T) {
	mock, _, clk := newMock(t)
	payload := map[string]any{"openGId": "tGabc", "nested": map[string]any{"n": 1.0}, "text": "一笔到底"}
	data, iv, err := mock.EncryptData("alice", payload)
	require.NoError(t, err)
	got := decrypt(t, mock.SessionKey("alice"), data, iv)
	assert.Equal(t, map[string]any{
		"openGId": "tGabc", "nested": map[string]any{"n": 1.0}, "text": "一笔到底",
		"watermark": map[string]any{"appid": appID, "timestamp": float64(clk.Now().Unix())},
	}, got)
	assert.NotContains(t, payload, "watermark", "the caller's map is not changed")

	data2, iv2, err := mock.EncryptData("alice", payload)
	require.NoError(t, err)
	assert.NotEqual(t, iv, iv2, "a random IV each time")
	assert.NotEqual(t, data, data2)
}

func TestEncryptData_PaddingOfEveryLength(t *testing.T) {
	mock, _, _ := newMock(t)
	// {"a":"…","watermark":…}: lengths across two blocks, one a whole number of blocks.
	for n := range 40 {
		data, iv, err := mock.EncryptData("alice", map[string]any{"a": strings.Repeat("x", n)})
		require.NoError(t, err)
		assert.Equal(t, strings.Repeat("x", n), decrypt(t, mock.SessionKey("alice"), data, iv)["a"])
	}
}

func TestEncryptData_UsesTheUsersCurrentSessionKey(t *testing.T) {
	mock, _, _ := newMock(t)
	old := mock.SessionKey("alice")
	fresh := wechattest.NewSessionKey()
	mock.SetSessionKey("alice", fresh)
	data, iv, err := mock.EncryptData("alice", map[string]any{"k": "v"})
	require.NoError(t, err)
	assert.Equal(t, "v", decrypt(t, fresh, data, iv)["k"])

	// With the old key the padding (or the JSON) fails: a stale key is detectable.
	k, _ := base64.StdEncoding.DecodeString(old.Reveal())
	ivb, _ := base64.StdEncoding.DecodeString(iv)
	ct, _ := base64.StdEncoding.DecodeString(data)
	block, err := aes.NewCipher(k)
	require.NoError(t, err)
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, ivb).CryptBlocks(plain, ct)
	assert.False(t, json.Valid(plain), "the old key does not give JSON")
}

func TestEncryptData_ReplacesAWatermarkOfThePayload(t *testing.T) {
	mock, _, _ := newMock(t)
	data, iv, err := mock.EncryptData("alice", map[string]any{"watermark": map[string]any{"appid": "wxOTHER"}})
	require.NoError(t, err)
	assert.Equal(t, appID, decrypt(t, mock.SessionKey("alice"), data, iv)["watermark"].(map[string]any)["appid"])
}

func TestEncryptData_Failures(t *testing.T) {
	mock, _, _ := newMock(t)
	for _, key := range []domain.SessionKey{"not base64!", domain.SessionKey(base64.StdEncoding.EncodeToString(make([]byte, 24)))} {
		mock.SetSessionKey("alice", key)
		_, _, err := mock.EncryptData("alice", map[string]any{})
		assert.Error(t, err)
	}
	_, _, err := mock.EncryptData("bob", map[string]any{"f": func() {}})
	assert.Error(t, err, "not JSON")
}

func TestRoute_LoginGivesAPhoneCodeAndEncryptedData(t *testing.T) {
	mock, srv, _ := newMock(t)
	status, body, _ := post(t, srv, "/mock/login?user=carol")
	require.Equal(t, http.StatusOK, status, body)
	var r struct {
		Code, PhoneCode, EncryptedData, IV string
	}
	require.NoError(t, json.Unmarshal([]byte(body), &r))
	assert.NotEmpty(t, r.Code)
	assertMinted(t, mock, srv, "carol", r.PhoneCode, r.EncryptedData, r.IV)
}

func TestRoute_LoginShellFormatGivesAPhoneCodeAndEncryptedData(t *testing.T) {
	mock, srv, _ := newMock(t)
	status, body, _ := post(t, srv, "/mock/login?user=dave&format=shell")
	require.Equal(t, http.StatusOK, status, body)
	sh, err := exec.LookPath("sh")
	require.NoError(t, err, "the walk-through needs a POSIX shell")
	out, err := exec.Command(sh, "-c", body+`printf '%s\n%s\n%s\n' "$PHONE_CODE" "$ENCRYPTED_DATA" "$IV"`).Output()
	require.NoError(t, err)
	vals := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, vals, 3)
	assertMinted(t, mock, srv, "dave", vals[0], vals[1], vals[2])
}

// assertMinted checks what the mint route gave user: a phone code
// getuserphonenumber takes once, and encryptedData of the sample payload
// under the user's session key.
func assertMinted(t *testing.T, mock *wechattest.Server, srv *httptest.Server, user, phoneCode, encryptedData, iv string) {
	t.Helper()
	tok, _ := token(t, srv, false)
	r := api(t, srv, "/wxa/business/getuserphonenumber", tok, map[string]any{"code": phoneCode, "openid": mock.OpenID(user)})
	require.Zero(t, errcode(r), "%v", r)
	assert.Equal(t, mock.Phone(user).PhoneNumber, r["phone_info"].(map[string]any)["phoneNumber"])

	got := decrypt(t, mock.SessionKey(user), encryptedData, iv)
	assert.Equal(t, mock.SampleShareInfo(user)["openGId"], got["openGId"])
	assert.Regexp(t, regexp.MustCompile(`^tG[A-Za-z0-9_-]{26}$`), got["openGId"])
	assert.Equal(t, appID, got["watermark"].(map[string]any)["appid"])
}

func TestStats_CountForcedRefreshes(t *testing.T) {
	mock, srv, _ := newMock(t)
	token(t, srv, true)
	resp, err := srv.Client().Get(srv.URL + "/mock/stats")
	require.NoError(t, err)
	defer resp.Body.Close()
	var stats struct {
		Calls           map[string]int
		ForcedRefreshes int
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&stats))
	assert.Equal(t, 1, stats.ForcedRefreshes)
	assert.Equal(t, mock.ForcedRefreshes(), stats.ForcedRefreshes)
	assert.Equal(t, 1, stats.Calls[wechattest.APIStableToken])
}
