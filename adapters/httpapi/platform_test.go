package httpapi_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/httpapi"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/mock"
	"github.com/onestroke/onestroke/ports"
	"github.com/onestroke/onestroke/tests/testenv"
)

// fakePlatform stands in for WeChat's platform APIs behind the app's
// ports (the WeChat adapters have their own tests against the mock
// WeChat): getPhoneNumber codes are minted per user and single-use, and a
// text containing "RISKY" is risky, one containing "REVIEW" is for review.
// fail makes every call fail with it; hang makes every call wait for its
// context's end.
type fakePlatform struct {
	mu     sync.Mutex
	codes  map[string]phoneGrant
	fail   error
	hang   bool
	calls  atomic.Int32
	inside atomic.Int32 // calls in progress
}

type phoneGrant struct {
	openID string
	number domain.PhoneNumber
}

var (
	_ ports.PhoneNumbers   = (*fakePlatform)(nil)
	_ ports.ContentChecker = (*fakePlatform)(nil)
)

func newFakePlatform() *fakePlatform { return &fakePlatform{codes: map[string]phoneGrant{}} }

// mintPhoneCode is what a getPhoneNumber button gives openID's device.
func (f *fakePlatform) mintPhoneCode(openID string, n domain.PhoneNumber) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	code := hex.EncodeToString(b)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.codes[code] = phoneGrant{openID: openID, number: n}
	return code
}

func (f *fakePlatform) set(fail error, hang bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail, f.hang = fail, hang
}

func (f *fakePlatform) call(ctx context.Context) error {
	f.calls.Add(1)
	f.inside.Add(1)
	defer f.inside.Add(-1)
	f.mu.Lock()
	fail, hang := f.fail, f.hang
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return domain.Wrap(domain.EEXCHANGEUNAVAILABLE, ctx.Err(), "WeChat did not answer in time.")
	}
	return fail
}

func (f *fakePlatform) PhoneNumber(ctx context.Context, code, openID string) (domain.PhoneNumber, error) {
	if err := f.call(ctx); err != nil {
		return domain.PhoneNumber{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.codes[code]
	delete(f.codes, code)
	if !ok || g.openID != openID {
		return domain.PhoneNumber{}, &domain.Error{Code: domain.EEXCHANGEREFUSED, Message: "WeChat refused the code.", Detail: map[string]any{"errcode": 40029}}
	}
	return g.number, nil
}

func (f *fakePlatform) CheckText(ctx context.Context, openID string, scene domain.ContentScene, text string) (domain.ContentSuggestion, error) {
	if err := f.call(ctx); err != nil {
		return "", err
	}
	switch {
	case openID == "" || (scene != domain.SceneProfile && scene != domain.SceneForum): // nickNames, titles
		return "", domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "asked wrongly")
	case strings.Contains(text, "RISKY"):
		return domain.ContentRisky, nil
	case strings.Contains(text, "REVIEW"):
		return domain.ContentReview, nil
	}
	return domain.ContentPass, nil
}

var cnNumber = domain.PhoneNumber{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}

// encryptFor is WeChat's encryptedData for the session key: AES-128-CBC
// with PKCS#7 under a fresh IV.
func encryptFor(t *testing.T, key domain.SessionKey, plain string) (data, iv string) {
	t.Helper()
	k, err := base64.StdEncoding.DecodeString(key.Reveal())
	require.NoError(t, err)
	block, err := aes.NewCipher(k)
	require.NoError(t, err)
	ivb := make([]byte, aes.BlockSize)
	_, _ = rand.Read(ivb)
	n := aes.BlockSize - len(plain)%aes.BlockSize
	b := append([]byte(plain), bytes.Repeat([]byte{byte(n)}, n)...)
	cipher.NewCBCEncrypter(block, ivb).CryptBlocks(b, b)
	return base64.StdEncoding.EncodeToString(b), base64.StdEncoding.EncodeToString(ivb)
}

func decryptBody(data, iv string) string {
	return `{"encryptedData":"` + data + `","iv":"` + iv + `"}`
}

func TestV2Phone_StoresTheNumberAndMeShowsIt(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.v2Login("alice", "phone")
	code := e.platform.mintPhoneCode(alice["openId"].(string), cnNumber)

	r := e.do(http.MethodPost, "/applet/v2/me/phone", auth(alice), jsonCT, `{"code":"`+code+`"}`)
	assert.Equal(t, `{"code":0,"msg":"success","data":{"phoneNumber":"13800138000","purePhoneNumber":"13800138000","countryCode":"86"}}`, r.raw)
	me := data(t, e.do(http.MethodGet, "/applet/v2/me", auth(alice), "", "")).(map[string]any)
	assert.Equal(t, "13800138000", me["phoneNumber"])

	r = e.do(http.MethodPost, "/applet/v2/me/phone", auth(alice), jsonCT, `{"code":"`+code+`"}`)
	assert.Equal(t, http.StatusBadRequest, r.status, "a code is single-use")
	assert.Equal(t, "ERR_PHONE_CODE_INVALID", businessReason(t, r))
	assert.Empty(t, r.header.Values("WWW-Authenticate"), "the token is fine")

	// bob's code is bob's: WeChat is told the caller's openId.
	bob := e.v2Login("bob", "bob's")
	bobs := e.platform.mintPhoneCode(bob["openId"].(string), domain.PhoneNumber{PhoneNumber: "+1 415 555 0100", PurePhoneNumber: "4155550100", CountryCode: "1"})
	r = e.do(http.MethodPost, "/applet/v2/me/phone", auth(alice), jsonCT, `{"code":"`+bobs+`"}`)
	assert.Equal(t, "ERR_PHONE_CODE_INVALID", businessReason(t, r))
	me = data(t, e.do(http.MethodGet, "/applet/v2/me", auth(alice), "", "")).(map[string]any)
	assert.Equal(t, "13800138000", me["phoneNumber"], "alice's number stays hers")

	// The legacy answer stays what clients in the field know.
	r = e.do(http.MethodGet, "/applet/session", auth(alice), "", "")
	assert.NotContains(t, r.raw, "13800138000")
}

func TestV2Decrypt_AnswersTheObjectWithoutItsWatermark(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.v2Login("alice", "phone")
	plain := `{"openGId":"tG0nL6-5MEXe0Iu0pkkqXGjcQ-bE","watermark":{"appid":"wxAPP","timestamp":1700000000},"名":"一笔"}`
	d, iv := encryptFor(t, e.wx.SessionKey("alice"), plain)
	r := e.do(http.MethodPost, "/applet/v2/me/decrypt", auth(alice), jsonCT, decryptBody(d, iv))
	assert.Equal(t, `{"code":0,"msg":"success","data":{"openGId":"tG0nL6-5MEXe0Iu0pkkqXGjcQ-bE","名":"一笔"}}`, r.raw)
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))

	// bob's session_key does not open alice's data.
	bob := e.v2Login("bob", "bob's")
	r = e.do(http.MethodPost, "/applet/v2/me/decrypt", auth(bob), jsonCT, decryptBody(d, iv))
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "ERR_SESSION_KEY_STALE", businessReason(t, r))
	assert.Empty(t, r.header.Values("WWW-Authenticate"), "no challenge: the token is good")

	// WeChat's session_key moved on (a wx.login elsewhere): the client logs
	// in again, and its new session opens the new data.
	e.wx.SetSessionKey("alice", "bmV3IHNlc3Npb24ga2V5IQ==")
	d2, iv2 := encryptFor(t, e.wx.SessionKey("alice"), plain)
	r = e.do(http.MethodPost, "/applet/v2/me/decrypt", auth(alice), jsonCT, decryptBody(d2, iv2))
	assert.Equal(t, "ERR_SESSION_KEY_STALE", businessReason(t, r))
	again := e.v2Login("alice", "phone")
	data(t, e.do(http.MethodPost, "/applet/v2/me/decrypt", auth(again), jsonCT, decryptBody(d2, iv2)))

	// The largest encryptedData fits in a body; more is too large.
	big := strings.Repeat("x", 40<<10)
	d3, iv3 := encryptFor(t, e.wx.SessionKey("alice"), `{"a":"`+big+`","watermark":{"appid":"wxAPP"}}`)
	require.Less(t, len(d3), domain.MaxEncryptedDataLength)
	r = e.do(http.MethodPost, "/applet/v2/me/decrypt", auth(again), jsonCT, decryptBody(d3, iv3))
	assert.Equal(t, `{"code":0,"msg":"success","data":{"a":"`+big+`"}}`, r.raw)
	r = e.do(http.MethodPost, "/applet/v2/me/decrypt", auth(again), jsonCT, decryptBody(strings.Repeat("A", httpapi.MaxDecryptBodyBytes), iv3))
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)
}

func TestV2Profile_ANewNickNamePassesWeChatsContentCheck(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.v2Login("alice", "phone")
	r := e.do(http.MethodPatch, "/applet/v2/me", auth(alice), jsonCT, `{"nickName":"Alice REVIEW","avatarUrl":"https://cdn.example/a.png"}`)
	got := data(t, r).(map[string]any)
	assert.Equal(t, "Alice REVIEW", got["nickName"], "review: stored")
	assert.Equal(t, true, got["nickNameInReview"], "and flagged where the client sees it")
	me := data(t, e.do(http.MethodGet, "/applet/v2/me", auth(alice), "", "")).(map[string]any)
	assert.Equal(t, true, me["nickNameInReview"])

	r = e.do(http.MethodPatch, "/applet/v2/me", auth(alice), jsonCT, `{"nickName":"RISKY name","avatarUrl":"https://cdn.example/b.png"}`)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Equal(t, "ERR_CONTENT_RISKY", businessReason(t, r))
	me = data(t, e.do(http.MethodGet, "/applet/v2/me", auth(alice), "", "")).(map[string]any)
	assert.Equal(t, "Alice REVIEW", me["nickName"], "risky: nothing stored")
	assert.Equal(t, "https://cdn.example/a.png", me["avatarUrl"])

	e.platform.set(domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat is down."), false)
	r = e.do(http.MethodPatch, "/applet/v2/me", auth(alice), jsonCT, `{"nickName":"Alice"}`)
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "ERR_WECHAT_UNAVAILABLE", businessReason(t, r), "never a silent pass")
	r = e.do(http.MethodPatch, "/applet/v2/me", auth(alice), jsonCT, `{"avatarUrl":"https://cdn.example/c.png"}`)
	assert.Equal(t, "https://cdn.example/c.png", data(t, r).(map[string]any)["avatarUrl"], "an avatar alone needs no check")
	e.platform.set(nil, false)

	r = e.do(http.MethodPatch, "/applet/v2/me", auth(alice), jsonCT, `{"nickName":"Alice"}`)
	got = data(t, r).(map[string]any)
	assert.Equal(t, "Alice", got["nickName"])
	assert.NotContains(t, got, "nickNameInReview", "pass clears the flag")
}

// WeChat hanging: the phone route and a checked profile change answer
// ERR_WECHAT_UNAVAILABLE within the platform timeout, and nothing piles
// up: every call has returned and every slot is free afterwards.
func TestV2Platform_AHangingWeChatAnswersWithinTheTimeout(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.Tokens.PlatformTimeout = 200 * time.Millisecond })
	alice := e.v2Login("alice", "phone")
	e.platform.set(nil, true)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 2 {
		wg.Go(func() {
			var r response
			if i == 0 {
				r = e.do(http.MethodPost, "/applet/v2/me/phone", auth(alice), jsonCT, `{"code":"c0ffee"}`)
			} else {
				r = e.do(http.MethodPatch, "/applet/v2/me", auth(alice), jsonCT, `{"nickName":"Alice"}`)
			}
			assert.Equal(t, http.StatusServiceUnavailable, r.status, r.raw)
			assert.Equal(t, "ERR_WECHAT_UNAVAILABLE", businessReason(t, r))
		})
	}
	wg.Wait()
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Zero(t, e.platform.inside.Load(), "no WeChat call outlives its request")
	e.platform.set(nil, false)
	code := e.platform.mintPhoneCode(alice["openId"].(string), cnNumber)
	data(t, e.do(http.MethodPost, "/applet/v2/me/phone", auth(alice), jsonCT, `{"code":"`+code+`"}`))
}

// One user's platform requests hold at most PlatformPerUser slots: one
// more waits PlatformWait and answers ERR_UNAVAILABLE, while another user
// is served at once.
func TestV2Platform_OneUsersRequestsAreBounded(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.PlatformWait = 100 * time.Millisecond })
	alice, bob := e.v2Login("alice", "phone"), e.v2Login("bob", "bob's")
	e.platform.set(nil, true)
	var wg sync.WaitGroup
	for range httpapi.DefaultPlatformPerUser {
		wg.Go(func() { e.do(http.MethodPost, "/applet/v2/me/phone", auth(alice), jsonCT, `{"code":"c0ffee"}`) })
	}
	require.Eventually(t, func() bool { return e.platform.inside.Load() == httpapi.DefaultPlatformPerUser }, 5*time.Second, 5*time.Millisecond)
	calls := e.platform.calls.Load()
	r := e.do(http.MethodPost, "/applet/v2/me/decrypt", auth(alice), jsonCT, decryptBody("AAAA", "AAAA"))
	assert.Equal(t, http.StatusServiceUnavailable, r.status, r.raw)
	assert.Equal(t, "ERR_UNAVAILABLE", businessReason(t, r))
	assert.Equal(t, calls, e.platform.calls.Load(), "WeChat is not asked")
	d, iv := encryptFor(t, e.wx.SessionKey("bob"), `{"watermark":{"appid":"wxAPP"}}`)
	assert.Equal(t, `{"code":0,"msg":"success","data":{}}`, e.do(http.MethodPost, "/applet/v2/me/decrypt", auth(bob), jsonCT, decryptBody(d, iv)).raw, "bob has his own slots")
	e.platform.set(nil, false)
	wg.Wait()
}

func TestV2Platform_PerUserRateLimitWithRetryAfter(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) {
		c.Tokens.PlatformLimiter = &mock.RateLimiter{AllowFn: func(context.Context, string) (bool, time.Duration, error) {
			return false, 90 * time.Second, nil
		}}
	})
	alice := e.v2Login("alice", "phone")
	for _, r := range []response{
		e.do(http.MethodPost, "/applet/v2/me/phone", auth(alice), jsonCT, `{"code":"c0ffee"}`),
		e.do(http.MethodPatch, "/applet/v2/me", auth(alice), jsonCT, `{"nickName":"Alice"}`),
	} {
		assert.Equal(t, http.StatusTooManyRequests, r.status, r.raw)
		assert.Equal(t, "ERR_RATE_LIMITED", businessReason(t, r))
		assert.Equal(t, "90", r.header.Get("Retry-After"))
	}
	assert.Zero(t, e.platform.calls.Load())
}

// A server without the phone service or an appid answers the routes as
// features it does not offer.
func TestV2Platform_FeaturesOffAreNotFound(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) { c.Tokens.Phones, c.Tokens.AppID = nil, "" })
	alice := e.v2Login("alice", "phone")
	r := e.do(http.MethodPost, "/applet/v2/me/phone", auth(alice), jsonCT, `{"code":"c0ffee"}`)
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "ERR_NOT_FOUND", businessReason(t, r))
	d, iv := encryptFor(t, e.wx.SessionKey("alice"), `{"watermark":{"appid":"wxAPP"}}`)
	r = e.do(http.MethodPost, "/applet/v2/me/decrypt", auth(alice), jsonCT, decryptBody(d, iv))
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "ERR_NOT_FOUND", businessReason(t, r))
}

// Neither the phone number nor the session_key appears in a log line,
// whatever the route answered.
func TestV2Platform_NoSecretOrPhoneNumberInTheLogs(t *testing.T) {
	var logs testenv.SyncBuffer
	e := newEnv(t, func(c *httpapi.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.Tokens.Logger = c.Logger
	})
	alice := e.v2Login("alice", "phone")
	code := e.platform.mintPhoneCode(alice["openId"].(string), cnNumber)
	data(t, e.do(http.MethodPost, "/applet/v2/me/phone", auth(alice), jsonCT, `{"code":"`+code+`"}`))
	e.do(http.MethodPost, "/applet/v2/me/phone", auth(alice), jsonCT, `{"code":"`+code+`"}`)
	d, iv := encryptFor(t, e.wx.SessionKey("bob"), `{"secret":"s3cr3t-plaintext","watermark":{"appid":"wxAPP"}}`)
	e.do(http.MethodPost, "/applet/v2/me/decrypt", auth(alice), jsonCT, decryptBody(d, iv))
	e.platform.set(domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "down"), false)
	e.do(http.MethodPatch, "/applet/v2/me", auth(alice), jsonCT, `{"nickName":"Alice"}`)
	for _, secret := range []string{"13800138000", e.wx.SessionKey("alice").Reveal(), e.wx.SessionKey("bob").Reveal(), "s3cr3t-app-secret", alice["token"].(string)} {
		assert.NotContains(t, logs.String(), secret)
	}
	for _, code := range []string{domain.EPHONECODEREFUSED, domain.ESESSIONKEYSTALE, domain.EEXCHANGEUNAVAILABLE} {
		assert.Contains(t, logs.String(), `"code":"`+code+`"`, "the failures were logged")
	}
}
