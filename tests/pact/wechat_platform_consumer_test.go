//go:build pact

package pact

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/pact-foundation/pact-go/v2/consumer"
	"github.com/pact-foundation/pact-go/v2/matchers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/wechat"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// The WeChat platform contract (PROTOCOL §8): what adapters/wechat sends to
// stable_token, getuserphonenumber and msg_sec_check and what it relies on
// in their answers, driven through the real adapter code.

// The access_tokens of these interactions.
const (
	pactToken      = "ACCESS-TOKEN-VALID"
	pactStaleToken = "ACCESS-TOKEN-ENDED-ELSEWHERE"
	pactFreshToken = "ACCESS-TOKEN-AFTER-FORCED-REFRESH"
	pactOpenID     = "oGZUI0egBJY1zhBYw2KhdUfwVJJE"
)

// pactTokens is the simplest ports.AccessTokens: one token in memory from
// a source, a forced refresh when the current one is rejected. (The
// deployment's, with its shared store and lease, is not the point here.)
type pactTokens struct {
	src ports.AccessTokenSource

	mu       sync.Mutex
	cur      domain.AccessToken
	rejected int
}

func (p *pactTokens) Token(ctx context.Context) (domain.AccessToken, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == "" {
		t, _, err := p.src.StableToken(ctx, false)
		if err != nil {
			return "", err
		}
		p.cur = t
	}
	return p.cur, nil
}

func (p *pactTokens) Rejected(ctx context.Context, t domain.AccessToken) (domain.AccessToken, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rejected++
	if t == p.cur {
		nt, _, err := p.src.StableToken(ctx, true)
		if err != nil {
			return "", err
		}
		p.cur = nt
	}
	return p.cur, nil
}

// platform returns the platform APIs on the pact's mock server, with the
// deployment's token already cur.
func platform(cfg consumer.MockServerConfig, cur domain.AccessToken) (*wechat.Platform, *pactTokens) {
	c := client(cfg, 0)
	tokens := &pactTokens{src: c, cur: cur}
	return wechat.NewPlatform(c, tokens), tokens
}

func jsonHeader(b *consumer.V3ResponseBuilder) *consumer.V3ResponseBuilder {
	return b.Header("Content-Type", matchers.Regex("application/json; charset=utf-8", `application/json.*`))
}

// stableTokenRequest is the request StableToken sends for the app appid.
func stableTokenRequest(appid string, force bool) func(*consumer.V3RequestBuilder) {
	return func(b *consumer.V3RequestBuilder) {
		b.Header("Content-Type", matchers.S("application/json")).
			JSONBody(map[string]any{"grant_type": "client_credential", "appid": appid, "secret": testSecret, "force_refresh": force})
	}
}

func tokenReply(example string) func(*consumer.V3ResponseBuilder) {
	return func(b *consumer.V3ResponseBuilder) {
		jsonHeader(b).JSONBody(matchers.Map{"access_token": matchers.Like(example), "expires_in": matchers.Integer(7200)})
	}
}

// platformRequest is a request to an API with access_token and body.
func platformRequest(token string, body map[string]any) func(*consumer.V3RequestBuilder) {
	return func(b *consumer.V3RequestBuilder) {
		b.Query("access_token", matchers.S(token)).
			Header("Content-Type", matchers.S("application/json")).
			JSONBody(body)
	}
}

func phoneReply() func(*consumer.V3ResponseBuilder) {
	return func(b *consumer.V3ResponseBuilder) {
		jsonHeader(b).JSONBody(map[string]any{
			"errcode": matchers.Equality(0),
			"errmsg":  matchers.Like("ok"),
			"phone_info": map[string]any{
				"phoneNumber":     matchers.Like("13800138000"),
				"purePhoneNumber": matchers.Like("13800138000"),
				"countryCode":     matchers.Like("86"),
				"watermark": map[string]any{
					"timestamp": matchers.Integer(1637744274),
					"appid":     matchers.Equality(testAppID),
				},
			},
		})
	}
}

func contentReply(suggest string, label int) func(*consumer.V3ResponseBuilder) {
	return func(b *consumer.V3ResponseBuilder) {
		jsonHeader(b).JSONBody(map[string]any{
			"errcode": matchers.Equality(0),
			"errmsg":  matchers.Like("ok"),
			"result":  map[string]any{"suggest": matchers.Equality(suggest), "label": matchers.Integer(label)},
		})
	}
}

func TestWeChat_StableTokenSuccess(t *testing.T) {
	err := wechatPact(t).AddInteraction().
		Given("the app's credentials are valid").
		UponReceiving("a stable_token request").
		WithRequest(http.MethodPost, "/cgi-bin/stable_token", stableTokenRequest(testAppID, false)).
		WillRespondWith(http.StatusOK, tokenReply(pactToken)).
		ExecuteTest(t, func(cfg consumer.MockServerConfig) error {
			tok, life, err := client(cfg, 0).StableToken(context.Background(), false)
			if err != nil {
				return err
			}
			assert.Equal(t, pactToken, tok.Reveal())
			assert.EqualValues(t, 7200, life.Seconds())
			return nil
		})
	require.NoError(t, err)
}

func TestWeChat_StableTokenRefusals(t *testing.T) {
	for _, c := range []struct {
		errcode int
		errmsg  string
		appid   string
		state   string
	}{
		{40013, "invalid appid rid: 6f0e5c2a", "wxNOTANAPPID00000", "appid wxNOTANAPPID00000 is not a valid appid"},
		{-1, "system error rid: 6f0e5c2b", testAppID, "WeChat is busy"},
	} {
		t.Run(fmt.Sprint(c.errcode), func(t *testing.T) {
			err := wechatPact(t).AddInteraction().
				Given(c.state).
				UponReceiving(fmt.Sprintf("a stable_token request that WeChat answers with errcode %d", c.errcode)).
				WithRequest(http.MethodPost, "/cgi-bin/stable_token", stableTokenRequest(c.appid, false)).
				WillRespondWith(http.StatusOK, errorReply(c.errcode, c.errmsg)).
				ExecuteTest(t, func(cfg consumer.MockServerConfig) error {
					cl := client(cfg, 1)
					cl.AppID = c.appid
					tok, _, err := cl.StableToken(context.Background(), false)
					assert.Empty(t, tok.Reveal())
					assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
					assert.EqualValues(t, c.errcode, domain.ErrorDetail(err)["errcode"])
					assert.NotContains(t, err.Error(), testSecret)
					return nil
				})
			require.NoError(t, err)
		})
	}
}

func TestWeChat_PhoneNumberSuccess(t *testing.T) {
	err := wechatPact(t).AddInteraction().
		Given("access_token "+pactToken+" is valid").
		Given("phone code PHONE-CODE-OK is a fresh getPhoneNumber code of user "+pactOpenID).
		UponReceiving("a getuserphonenumber request for a fresh code").
		WithRequest(http.MethodPost, "/wxa/business/getuserphonenumber",
			platformRequest(pactToken, map[string]any{"code": "PHONE-CODE-OK", "openid": pactOpenID})).
		WillRespondWith(http.StatusOK, phoneReply()).
		ExecuteTest(t, func(cfg consumer.MockServerConfig) error {
			p, _ := platform(cfg, pactToken)
			n, err := p.PhoneNumber(context.Background(), "PHONE-CODE-OK", pactOpenID)
			if err != nil {
				return err
			}
			assert.Equal(t, domain.PhoneNumber{PhoneNumber: "13800138000", PurePhoneNumber: "13800138000", CountryCode: "86"}, n)
			return nil
		})
	require.NoError(t, err)
}

func TestWeChat_PhoneNumberInvalidCode(t *testing.T) {
	err := wechatPact(t).AddInteraction().
		Given("access_token "+pactToken+" is valid").
		Given("phone code PHONE-CODE-USED was already exchanged").
		UponReceiving("a getuserphonenumber request for a used code").
		WithRequest(http.MethodPost, "/wxa/business/getuserphonenumber",
			platformRequest(pactToken, map[string]any{"code": "PHONE-CODE-USED", "openid": pactOpenID})).
		WillRespondWith(http.StatusOK, errorReply(40029, "invalid code rid: 6f0e5c2c")).
		ExecuteTest(t, func(cfg consumer.MockServerConfig) error {
			p, tokens := platform(cfg, pactToken)
			_, err := p.PhoneNumber(context.Background(), "PHONE-CODE-USED", pactOpenID)
			assert.Equal(t, domain.EEXCHANGEREFUSED, domain.ErrorCode(err))
			assert.EqualValues(t, 40029, domain.ErrorDetail(err)["errcode"])
			assert.Zero(t, tokens.rejected, "a refused code is no rejected token")
			return nil
		})
	require.NoError(t, err)
}

func TestWeChat_MsgSecCheck(t *testing.T) {
	for _, c := range []struct {
		content string
		suggest domain.ContentSuggestion
		label   int
	}{
		{"一笔到底", domain.ContentPass, 100},
		{"text WeChat finds risky", domain.ContentRisky, 20006},
	} {
		t.Run(string(c.suggest), func(t *testing.T) {
			err := wechatPact(t).AddInteraction().
				Given("access_token "+pactToken+" is valid").
				Given(fmt.Sprintf("WeChat's content check finds %q %s", c.content, c.suggest)).
				UponReceiving(fmt.Sprintf("a msg_sec_check request for a nickname WeChat finds %s", c.suggest)).
				WithRequest(http.MethodPost, "/wxa/msg_sec_check",
					platformRequest(pactToken, map[string]any{"version": 2, "openid": pactOpenID, "scene": 1, "content": c.content})).
				WillRespondWith(http.StatusOK, contentReply(string(c.suggest), c.label)).
				ExecuteTest(t, func(cfg consumer.MockServerConfig) error {
					p, _ := platform(cfg, pactToken)
					s, err := p.CheckText(context.Background(), pactOpenID, domain.SceneProfile, c.content)
					if err != nil {
						return err
					}
					assert.Equal(t, c.suggest, s)
					return nil
				})
			require.NoError(t, err)
		})
	}
}

// TestWeChat_RejectedTokenRefreshAndRetry: an API answers 40001 for a token
// another holder's refresh ended; the adapter reports it, the token service
// forces one refresh, and the call is retried once with the new token.
func TestWeChat_RejectedTokenRefreshAndRetry(t *testing.T) {
	p := wechatPact(t)
	body := map[string]any{"code": "PHONE-CODE-RETRIED", "openid": pactOpenID}
	p.AddInteraction().
		Given("access_token "+pactStaleToken+" was ended by a forced refresh elsewhere").
		UponReceiving("a getuserphonenumber request with an access_token WeChat no longer accepts").
		WithRequest(http.MethodPost, "/wxa/business/getuserphonenumber", platformRequest(pactStaleToken, body)).
		WillRespondWith(http.StatusOK, errorReply(40001, "invalid credential, access_token is invalid or not latest rid: 6f0e5c2d"))
	p.AddInteraction().
		Given("the app's credentials are valid and WeChat allows a forced refresh now").
		UponReceiving("a stable_token request forcing a refresh").
		WithRequest(http.MethodPost, "/cgi-bin/stable_token", stableTokenRequest(testAppID, true)).
		WillRespondWith(http.StatusOK, tokenReply(pactFreshToken))
	err := p.AddInteraction().
		Given("access_token "+pactFreshToken+" is valid").
		Given("phone code PHONE-CODE-RETRIED is a fresh getPhoneNumber code of user "+pactOpenID).
		UponReceiving("the getuserphonenumber request retried with the refreshed access_token").
		WithRequest(http.MethodPost, "/wxa/business/getuserphonenumber", platformRequest(pactFreshToken, body)).
		WillRespondWith(http.StatusOK, phoneReply()).
		ExecuteTest(t, func(cfg consumer.MockServerConfig) error {
			p, tokens := platform(cfg, pactStaleToken)
			n, err := p.PhoneNumber(context.Background(), "PHONE-CODE-RETRIED", pactOpenID)
			if err != nil {
				return err
			}
			assert.Equal(t, "13800138000", n.PhoneNumber)
			assert.Equal(t, 1, tokens.rejected, "one rejection, one forced refresh")
			assert.Equal(t, pactFreshToken, tokens.cur.Reveal())
			return nil
		})
	require.NoError(t, err)
}
