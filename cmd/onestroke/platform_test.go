package main

import (
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
)

// TestE2E_Platform_PhoneDecryptAndNicknameCheckInDevelopmentMode walks the
// routes of PROTOCOL §8 against the development mode's mock WeChat: the
// access_token fetched once, the phone number stored on the profile, the
// encryptedData the mock made for the user decrypted, a risky nickname
// refused and a doubtful one flagged.
func TestE2E_Platform_PhoneDecryptAndNicknameCheckInDevelopmentMode(t *testing.T) {
	s := start(t, testConfig(t, nil))
	mock := s.main.Mock()
	login := s.v2Login(s.mint("alice").Code, "")
	auth := bearerOf(login)

	code := mock.MintPhoneCode("alice")
	status, body, raw := s.call("POST", "/applet/v2/me/phone", auth, `{"code":"`+code+`"}`)
	require.Equal(t, http.StatusOK, status, raw)
	number := body["data"].(map[string]any)["phoneNumber"]
	assert.NotEmpty(t, number)
	status, body, raw = s.call("GET", "/applet/v2/me", auth, "")
	require.Equal(t, http.StatusOK, status, raw)
	assert.Equal(t, number, body["data"].(map[string]any)["phoneNumber"], "stored on the profile")
	status, body, _ = s.call("POST", "/applet/v2/me/phone", auth, `{"code":"`+code+`"}`)
	assert.Equal(t, http.StatusBadRequest, status, "a phone code is single-use")
	assert.Equal(t, "ERR_PHONE_CODE_INVALID", reason(body))

	enc, iv, err := mock.EncryptData("alice", map[string]any{"openGId": "G-alice-1"})
	require.NoError(t, err)
	status, body, raw = s.call("POST", "/applet/v2/me/decrypt", auth, `{"encryptedData":"`+enc+`","iv":"`+iv+`"}`)
	require.Equal(t, http.StatusOK, status, raw)
	assert.Equal(t, map[string]any{"openGId": "G-alice-1"}, body["data"], "the watermark removed")
	bobEnc, bobIV, err := mock.EncryptData("bob", map[string]any{"openGId": "G-bob"})
	require.NoError(t, err)
	status, body, _ = s.call("POST", "/applet/v2/me/decrypt", auth, `{"encryptedData":"`+bobEnc+`","iv":"`+bobIV+`"}`)
	assert.Equal(t, http.StatusUnauthorized, status, "another user's data does not open with alice's session_key")
	assert.Equal(t, "ERR_SESSION_KEY_STALE", reason(body))

	status, body, _ = s.call("PATCH", "/applet/v2/me", auth, `{"nickName":"RISKY-MARKER Alice"}`)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Equal(t, "ERR_CONTENT_RISKY", reason(body))
	status, body, raw = s.call("PATCH", "/applet/v2/me", auth, `{"nickName":"REVIEW-MARKER Alice"}`)
	require.Equal(t, http.StatusOK, status, raw)
	assert.Equal(t, true, body["data"].(map[string]any)["nickNameInReview"])

	assert.Equal(t, 1, mock.Calls(wechattest.APIStableToken), "one access_token for every call")
	logs := s.logs.String()
	assert.NotContains(t, logs, "access_token=")
	m := s.metrics()
	assert.Contains(t, m, "onestroke_wechat_access_token_fetches_total")
	assert.Contains(t, m, "onestroke_wechat_access_token_remaining_seconds")
}

// TestE2E_Platform_WeChatHanging: the phone route answers
// ERR_WECHAT_UNAVAILABLE within ONESTROKE_WX_PLATFORM_TIMEOUT and leaves
// nothing running; decrypt, which needs no WeChat, still answers.
func TestE2E_Platform_WeChatHanging(t *testing.T) {
	s := start(t, testConfig(t, map[string]string{"ONESTROKE_WX_PLATFORM_TIMEOUT": "1s"}))
	mock := s.main.Mock()
	auth := bearerOf(s.v2Login(s.mint("alice").Code, ""))
	mock.Inject(wechattest.APIPhoneNumber, wechattest.Fault{Hang: time.Hour}, 0)
	mock.Inject(wechattest.APIStableToken, wechattest.Fault{Hang: time.Hour}, 0)
	before := runtime.NumGoroutine()

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			start := time.Now()
			status, body, raw := s.call("POST", "/applet/v2/me/phone", auth, `{"code":"`+mock.MintPhoneCode("alice")+`"}`)
			elapsed := time.Since(start)
			assert.Contains(t, []int{http.StatusServiceUnavailable, http.StatusTooManyRequests}, status, raw)
			if status == http.StatusServiceUnavailable {
				assert.Contains(t, []string{"ERR_WECHAT_UNAVAILABLE", "ERR_UNAVAILABLE"}, reason(body), raw)
			}
			assert.Less(t, elapsed, 2500*time.Millisecond, "within the platform timeout (and the slot wait)")
		})
	}
	wg.Wait()
	status, body, raw := s.call("POST", "/applet/v2/me/phone", auth, `{"code":"`+mock.MintPhoneCode("alice")+`"}`)
	assert.Equal(t, http.StatusServiceUnavailable, status, raw)
	assert.Equal(t, "ERR_WECHAT_UNAVAILABLE", reason(body))

	enc, iv, err := mock.EncryptData("alice", map[string]any{"shareTicket": "t"})
	require.NoError(t, err)
	status, _, raw = s.call("POST", "/applet/v2/me/decrypt", auth, `{"encryptedData":"`+enc+`","iv":"`+iv+`"}`)
	assert.Equal(t, http.StatusOK, status, "decrypt needs no WeChat: %s", raw)

	assert.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+8 }, 5*time.Second, 50*time.Millisecond,
		"nothing piles up: %d goroutines, %d before", runtime.NumGoroutine(), before)
	assert.False(t, strings.Contains(s.logs.String(), "access_token="), "no token in the logs")
}
