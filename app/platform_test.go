package app_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/app"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/mock"
)

const testAppID = "wxTESTAPP0000001"

var cnPhone = domain.PhoneNumber{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}

// platformWeChat is a scripted WeChat behind the platform ports: it
// records what it was asked, and answers what the test set.
type platformWeChat struct {
	phones  mock.PhoneNumbers
	content mock.ContentChecker

	mu      sync.Mutex
	asked   []string // "phone <code> <openid>", "check <openid> <scene> <text>"
	phone   domain.PhoneNumber
	verdict domain.ContentSuggestion
	err     error
	hang    bool
	calls   atomic.Int32
}

func newPlatformWeChat() *platformWeChat {
	p := &platformWeChat{phone: cnPhone, verdict: domain.ContentPass}
	wait := func(ctx context.Context) error {
		p.calls.Add(1)
		p.mu.Lock()
		hang, err := p.hang, p.err
		p.mu.Unlock()
		if hang {
			<-ctx.Done()
			return domain.Wrap(domain.EEXCHANGEUNAVAILABLE, ctx.Err(), "WeChat did not answer")
		}
		return err
	}
	p.phones.PhoneNumberFn = func(ctx context.Context, code, openID string) (domain.PhoneNumber, error) {
		p.mu.Lock()
		p.asked = append(p.asked, "phone "+code+" "+openID)
		p.mu.Unlock()
		if err := wait(ctx); err != nil {
			return domain.PhoneNumber{}, err
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.phone, nil
	}
	p.content.CheckTextFn = func(ctx context.Context, openID string, scene domain.ContentScene, text string) (domain.ContentSuggestion, error) {
		p.mu.Lock()
		p.asked = append(p.asked, "check "+openID+" "+string(rune('0'+scene))+" "+text)
		p.mu.Unlock()
		if err := wait(ctx); err != nil {
			return "", err
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.verdict, nil
	}
	return p
}

func (p *platformWeChat) set(f func(p *platformWeChat)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func (p *platformWeChat) questions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asked...)
}

// platformInstance is a signed-in alice on a TokenService with the
// platform services.
func platformInstance(t *testing.T, mutate ...func(*app.TokenService)) (*tokenWorld, *platformWeChat, *app.TokenService, *domain.TokenSession) {
	w := newTokenWorld(t)
	wx := newPlatformWeChat()
	s := w.instance(append([]func(*app.TokenService){func(s *app.TokenService) {
		s.Phones, s.Content, s.AppID = &wx.phones, &wx.content, testAppID
	}}, mutate...)...)
	l, err := s.Login(context.Background(), app.LoginRequest{Code: "code-1"})
	require.NoError(t, err)
	return w, wx, s, l.Session
}

func TestSetPhoneNumber_AsksWeChatForTheCallersNumberAndStoresIt(t *testing.T) {
	ctx := context.Background()
	w, wx, s, sess := platformInstance(t)
	_, err := s.UpdateProfile(ctx, sess, domain.ProfileUpdate{NickName: ptr("Alice")})
	require.NoError(t, err)

	n, err := s.SetPhoneNumber(ctx, sess, "phone-code-1")
	require.NoError(t, err)
	assert.Equal(t, cnPhone, n)
	assert.Equal(t, []string{"check oALICE 1 Alice", "phone phone-code-1 oALICE"}, wx.questions(), "the code is asked for with the session's openId")
	p, err := w.profiles.Profile(ctx, "oALICE")
	require.NoError(t, err)
	assert.Equal(t, cnPhone, p.PhoneNumber(), "stored on the profile")
	assert.Equal(t, "Alice", p.NickName(), "beside the rest of it")
	assert.NotContains(t, w.logText(), "13800138000", "a phone number is not logged")
}

func TestSetPhoneNumber_FailuresStoreNothing(t *testing.T) {
	tests := []struct {
		name       string
		code       string
		script     func(p *platformWeChat)
		want       string
		asksWeChat bool
	}{
		{"WeChat refused the code", "used-code", func(p *platformWeChat) { p.err = domain.Errorf(domain.EEXCHANGEREFUSED, "40029") }, domain.EPHONECODEREFUSED, true},
		{"WeChat unreachable", "code", func(p *platformWeChat) { p.err = domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "down") }, domain.EEXCHANGEUNAVAILABLE, true},
		{"WeChat's limit", "code", func(p *platformWeChat) {
			p.err = &domain.Error{Code: domain.ERATELIMITED, Message: "45011", RetryAfter: time.Minute}
		}, domain.ERATELIMITED, true},
		{"the token store down", "code", func(p *platformWeChat) { p.err = domain.Errorf(domain.EUNAVAILABLE, "redis") }, domain.EUNAVAILABLE, true},
		{"an error the port does not name", "code", func(p *platformWeChat) { p.err = context.DeadlineExceeded }, domain.EEXCHANGEUNAVAILABLE, true},
		{"an answer that is not a phone number", "code", func(p *platformWeChat) { p.phone = domain.PhoneNumber{PhoneNumber: "<b>", PurePhoneNumber: "x"} }, domain.EEXCHANGEUNAVAILABLE, true},
		{"an empty answer", "code", func(p *platformWeChat) { p.phone = domain.PhoneNumber{} }, domain.EEXCHANGEUNAVAILABLE, true},
		{"a code with a space", "a b", nil, domain.EINVALID, false},
		{"an empty code", "", nil, domain.EINVALID, false},
		{"a code of 129 characters", strings.Repeat("c", 129), nil, domain.EINVALID, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			w, wx, s, sess := platformInstance(t)
			if tt.script != nil {
				wx.set(tt.script)
			}
			n, err := s.SetPhoneNumber(ctx, sess, tt.code)
			assert.Equal(t, tt.want, domain.ErrorCode(err), "%v", err)
			assert.Zero(t, n)
			assert.Equal(t, tt.asksWeChat, wx.calls.Load() == 1, "asked WeChat")
			assert.Zero(t, w.profiles.Len(), "nothing stored")
			if tt.want == domain.ERATELIMITED {
				assert.Equal(t, time.Minute, domain.ErrorRetryAfter(err))
			}
		})
	}
}

func TestSetPhoneNumber_AHangingWeChatAnswersWithinThePlatformTimeout(t *testing.T) {
	_, wx, s, sess := platformInstance(t, func(s *app.TokenService) { s.PlatformTimeout = 100 * time.Millisecond })
	wx.set(func(p *platformWeChat) { p.hang = true })
	start := time.Now()
	_, err := s.SetPhoneNumber(context.Background(), sess, "code")
	assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
	assert.Less(t, time.Since(start), time.Second)

	_, err = s.UpdateProfile(context.Background(), sess, domain.ProfileUpdate{NickName: ptr("Alice")})
	assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err), "the content check too")
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestSetPhoneNumber_WithoutAPhoneServiceIsNotFound(t *testing.T) {
	w, wx, s, sess := platformInstance(t, func(s *app.TokenService) { s.Phones = nil })
	_, err := s.SetPhoneNumber(context.Background(), sess, "code")
	assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	assert.Zero(t, wx.calls.Load())
	assert.Zero(t, w.profiles.Len())
}

// The per-user budget is taken before WeChat is asked, keyed by the
// caller's openId; a limiter that cannot answer lets the call through.
func TestPlatformCalls_ThePerUserBudget(t *testing.T) {
	var keys []string
	var mu sync.Mutex
	refuse, fail := true, false
	limiter := &mock.RateLimiter{AllowFn: func(_ context.Context, key string) (bool, time.Duration, error) {
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, key)
		if fail {
			return false, 0, domain.Errorf(domain.EUNAVAILABLE, "redis down")
		}
		return !refuse, 30 * time.Second, nil
	}}
	w, wx, s, sess := platformInstance(t, func(s *app.TokenService) { s.PlatformLimiter = limiter })
	ctx := context.Background()
	_, err := s.SetPhoneNumber(ctx, sess, "code")
	assert.Equal(t, domain.ERATELIMITED, domain.ErrorCode(err))
	assert.Equal(t, 30*time.Second, domain.ErrorRetryAfter(err))
	_, err = s.UpdateProfile(ctx, sess, domain.ProfileUpdate{NickName: ptr("Alice")})
	assert.Equal(t, domain.ERATELIMITED, domain.ErrorCode(err))
	assert.Zero(t, wx.calls.Load(), "WeChat is not asked past the budget")
	assert.Zero(t, w.profiles.Len())
	_, err = s.UpdateProfile(ctx, sess, domain.ProfileUpdate{AvatarURL: ptr("https://cdn.example/a.png")})
	require.NoError(t, err, "an update without a nickName asks WeChat nothing, and takes nothing from the budget")
	assert.Equal(t, []string{"oALICE", "oALICE"}, keys)

	mu.Lock()
	fail = true
	mu.Unlock()
	_, err = s.SetPhoneNumber(ctx, sess, "code")
	require.NoError(t, err, "a limiter that cannot answer lets the call through")
	assert.Contains(t, w.logText(), "platform rate limiter unavailable")
}

// encrypt is WeChat's side of encryptedData: AES-128-CBC, PKCS#7.
func encrypt(t *testing.T, key domain.SessionKey, iv []byte, plain string) string {
	k, err := base64.StdEncoding.DecodeString(key.Reveal())
	require.NoError(t, err)
	block, err := aes.NewCipher(k)
	require.NoError(t, err)
	n := aes.BlockSize - len(plain)%aes.BlockSize
	b := append([]byte(plain), bytes.Repeat([]byte{byte(n)}, n)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(b, b)
	return base64.StdEncoding.EncodeToString(b)
}

func TestDecrypt_OpensWithTheSessionsSessionKey(t *testing.T) {
	_, wx, s, sess := platformInstance(t)
	iv := []byte("0123456789abcdef")
	ivText := base64.StdEncoding.EncodeToString(iv)
	data := encrypt(t, sessionKey, iv, `{"openGId":"tGabc","watermark":{"appid":"`+testAppID+`","timestamp":1700000000}}`)
	got, err := s.Decrypt(context.Background(), sess, data, ivText)
	require.NoError(t, err)
	assert.Equal(t, `{"openGId":"tGabc"}`, string(got))
	assert.Zero(t, wx.calls.Load(), "WeChat is not asked")

	other := encrypt(t, sessionKey, iv, `{"openGId":"tGabc","watermark":{"appid":"wxANOTHERAPP0001"}}`)
	_, err = s.Decrypt(context.Background(), sess, other, ivText)
	assert.Equal(t, domain.ESESSIONKEYSTALE, domain.ErrorCode(err), "another app's data")
	_, err = s.Decrypt(context.Background(), sess, data[:len(data)-4], ivText)
	assert.Equal(t, domain.ESESSIONKEYSTALE, domain.ErrorCode(err), "truncated")
}

func TestDecrypt_ASealThatNoLongerOpensIsAStaleSessionKey(t *testing.T) {
	_, _, s, sess := platformInstance(t)
	// The same session under a changed app secret: its seal does not open.
	rotated, err := domain.NewSessionKeySealer("a-new-app-secret")
	require.NoError(t, err)
	s.Sealer = rotated
	iv := []byte("0123456789abcdef")
	data := encrypt(t, sessionKey, iv, `{"watermark":{"appid":"`+testAppID+`"}}`)
	_, err = s.Decrypt(context.Background(), sess, data, base64.StdEncoding.EncodeToString(iv))
	assert.Equal(t, domain.ESESSIONKEYSTALE, domain.ErrorCode(err))
}

func TestDecrypt_WithoutAnAppIDIsNotFound(t *testing.T) {
	_, _, s, sess := platformInstance(t, func(s *app.TokenService) { s.AppID = "" })
	_, err := s.Decrypt(context.Background(), sess, "AAAA", "AAAA")
	assert.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
}

func TestUpdateProfile_ANewNickNamePassesTheContentCheck(t *testing.T) {
	ctx := context.Background()
	w, wx, s, sess := platformInstance(t)
	stored := func() domain.Profile {
		p, err := w.profiles.Profile(ctx, "oALICE")
		require.NoError(t, err)
		return p
	}

	p, err := s.UpdateProfile(ctx, sess, domain.ProfileUpdate{NickName: ptr("Alice"), AvatarURL: ptr("https://cdn.example/a.png")})
	require.NoError(t, err)
	assert.False(t, p.NickNameInReview())
	assert.Equal(t, []string{"check oALICE 1 Alice"}, wx.questions(), "the caller's openId, the profile scene, the text")

	wx.set(func(p *platformWeChat) { p.verdict = domain.ContentReview })
	p, err = s.UpdateProfile(ctx, sess, domain.ProfileUpdate{NickName: ptr("可疑")})
	require.NoError(t, err)
	assert.Equal(t, "可疑", p.NickName(), "review: stored")
	assert.True(t, p.NickNameInReview(), "and flagged")
	assert.Equal(t, p, stored())

	p, err = s.UpdateProfile(ctx, sess, domain.ProfileUpdate{AvatarURL: ptr("https://cdn.example/b.png")})
	require.NoError(t, err)
	assert.True(t, p.NickNameInReview(), "an update without a nickName keeps the flag")
	assert.Len(t, wx.questions(), 2, "and asks WeChat nothing")

	wx.set(func(p *platformWeChat) { p.verdict = domain.ContentRisky })
	before := stored()
	_, err = s.UpdateProfile(ctx, sess, domain.ProfileUpdate{NickName: ptr("坏"), AvatarURL: ptr("https://cdn.example/c.png")})
	assert.Equal(t, domain.ECONTENTRISKY, domain.ErrorCode(err))
	assert.Equal(t, before, stored(), "risky: nothing stored, the avatar neither")

	wx.set(func(p *platformWeChat) { p.verdict, p.err = "", domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "busy") })
	_, err = s.UpdateProfile(ctx, sess, domain.ProfileUpdate{NickName: ptr("Alice B")})
	assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err), "never a silent pass")
	assert.Equal(t, before, stored())

	wx.set(func(p *platformWeChat) { p.verdict, p.err = domain.ContentPass, nil })
	p, err = s.UpdateProfile(ctx, sess, domain.ProfileUpdate{NickName: ptr("Alice B")})
	require.NoError(t, err)
	assert.False(t, p.NickNameInReview(), "pass clears the flag")
	assert.Equal(t, p, stored())

	asked := len(wx.questions())
	_, err = s.UpdateProfile(ctx, sess, domain.ProfileUpdate{NickName: ptr("bad\nname")})
	assert.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	assert.Len(t, wx.questions(), asked, "an invalid nickName never reaches WeChat")
}

// The verdict is WeChat's alone: one a caller puts in the update is
// replaced by the check's, or dropped when there is no checker.
func TestUpdateProfile_TheVerdictIsNotTheCallers(t *testing.T) {
	ctx := context.Background()
	_, wx, s, sess := platformInstance(t)
	wx.set(func(p *platformWeChat) { p.verdict = domain.ContentRisky })
	_, err := s.UpdateProfile(ctx, sess, domain.ProfileUpdate{NickName: ptr("坏"), NickNameVerdict: domain.ContentPass})
	assert.Equal(t, domain.ECONTENTRISKY, domain.ErrorCode(err))

	_, _, unchecked, sess2 := platformInstance(t, func(s *app.TokenService) { s.Content = nil })
	p, err := unchecked.UpdateProfile(ctx, sess2, domain.ProfileUpdate{NickName: ptr("Alice"), NickNameVerdict: domain.ContentReview})
	require.NoError(t, err, "without a checker the nickName is stored unchecked")
	assert.False(t, p.NickNameInReview())
	_, err = unchecked.UpdateProfile(ctx, sess2, domain.ProfileUpdate{NickName: ptr("Alice"), NickNameVerdict: domain.ContentRisky})
	require.NoError(t, err, "and a caller's verdict means nothing")
}
