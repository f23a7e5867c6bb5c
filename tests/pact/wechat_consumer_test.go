//go:build pact

package pact

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pact-foundation/pact-go/v2/consumer"
	"github.com/pact-foundation/pact-go/v2/matchers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/wechat"
	"github.com/onestroke/onestroke/domain"
)

// The WeChat contract: what adapters/wechat sends to code2Session and what
// it relies on in the answers (PROTOCOL §4). WeChat cannot verify it; the
// pact file documents exactly what we depend on.

const (
	testAppID  = "wx0123456789abcdef"
	testSecret = "pact-test-app-secret"
)

func wechatPact(t *testing.T) *consumer.V3HTTPMockProvider {
	t.Helper()
	p, err := consumer.NewV3Pact(consumer.MockHTTPProviderConfig{
		Consumer: "onestroke",
		Provider: "wechat-api",
		Host:     "127.0.0.1",
		PactDir:  wechatPactDir,
	})
	require.NoError(t, err)
	return p
}

// exchangeRequest is the request the client sends for code.
func exchangeRequest(code string) func(*consumer.V3RequestBuilder) {
	return func(b *consumer.V3RequestBuilder) {
		b.Query("appid", matchers.S(testAppID)).
			Query("secret", matchers.S(testSecret)).
			Query("js_code", matchers.S(code)).
			Query("grant_type", matchers.S("authorization_code"))
	}
}

func errorReply(errcode int, errmsg string) func(*consumer.V3ResponseBuilder) {
	return func(b *consumer.V3ResponseBuilder) {
		b.Header("Content-Type", matchers.Regex("application/json; charset=utf-8", `application/json.*`)).
			JSONBody(matchers.Map{"errcode": matchers.Equality(errcode), "errmsg": matchers.Like(errmsg)})
	}
}

// sessionReply is WeChat's success answer; unionid is present when non-nil.
func sessionReply(unionid matchers.Matcher) func(*consumer.V3ResponseBuilder) {
	body := matchers.Map{
		"openid":      matchers.Like("oGZUI0egBJY1zhBYw2KhdUfwVJJE"),
		"session_key": matchers.Regex("tiihtNczf5v6AKRyjwEUhQ==", `^[A-Za-z0-9+/]{22}==$`),
	}
	if unionid != nil {
		body["unionid"] = unionid
	}
	return func(b *consumer.V3ResponseBuilder) {
		b.Header("Content-Type", matchers.Regex("application/json; charset=utf-8", `application/json.*`)).JSONBody(body)
	}
}

func client(cfg consumer.MockServerConfig, retryBusy int) *wechat.Client {
	c := wechat.NewClient(testAppID, testSecret, fmt.Sprintf("http://%s:%d", cfg.Host, cfg.Port), 2*time.Second)
	c.RetryBusy = retryBusy
	c.RetryDelay = time.Millisecond
	return c
}

func TestWeChat_SuccessWithUnionID(t *testing.T) {
	err := wechatPact(t).AddInteraction().
		Given("code CODE-OK-UNION is a fresh wx.login code of a user bound to an open platform account").
		UponReceiving("a code2Session request for a fresh code of a user with a unionid").
		WithRequest(http.MethodGet, "/sns/jscode2session", exchangeRequest("CODE-OK-UNION")).
		WillRespondWith(http.StatusOK, sessionReply(matchers.Like("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))).
		ExecuteTest(t, func(cfg consumer.MockServerConfig) error {
			s, err := client(cfg, 0).Exchange(context.Background(), "CODE-OK-UNION")
			if err != nil {
				return err
			}
			assert.Equal(t, "oGZUI0egBJY1zhBYw2KhdUfwVJJE", s.OpenID)
			assert.Equal(t, "tiihtNczf5v6AKRyjwEUhQ==", s.SessionKey.Reveal())
			assert.Equal(t, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", s.UnionID)
			return nil
		})
	require.NoError(t, err)
}

func TestWeChat_SuccessWithoutUnionID(t *testing.T) {
	err := wechatPact(t).AddInteraction().
		Given("code CODE-OK is a fresh wx.login code").
		UponReceiving("a code2Session request for a fresh code").
		WithRequest(http.MethodGet, "/sns/jscode2session", exchangeRequest("CODE-OK")).
		WillRespondWith(http.StatusOK, sessionReply(nil)).
		ExecuteTest(t, func(cfg consumer.MockServerConfig) error {
			s, err := client(cfg, 0).Exchange(context.Background(), "CODE-OK")
			if err != nil {
				return err
			}
			assert.Equal(t, "oGZUI0egBJY1zhBYw2KhdUfwVJJE", s.OpenID)
			assert.Empty(t, s.UnionID)
			return nil
		})
	require.NoError(t, err)
}

func TestWeChat_Refusals(t *testing.T) {
	for _, c := range []struct {
		errcode      int
		errmsg, code string
		state        string
		want         string
	}{
		{40029, "invalid code, rid: 6f0e5c1a", "CODE-INVALID", "code CODE-INVALID was never issued or has expired", domain.EEXCHANGEREFUSED},
		{40163, "code been used, rid: 6f0e5c1b", "CODE-USED", "code CODE-USED was already exchanged", domain.EEXCHANGEREFUSED},
		{45011, "api minute-quota reach limit  mustslower  retry next minute, rid: 6f0e5c1c", "CODE-LIMITED", "the app has hit the code2Session frequency limit", domain.EEXCHANGEREFUSED},
	} {
		t.Run(fmt.Sprint(c.errcode), func(t *testing.T) {
			err := wechatPact(t).AddInteraction().
				Given(c.state).
				UponReceiving(fmt.Sprintf("a code2Session request that WeChat refuses with errcode %d", c.errcode)).
				WithRequest(http.MethodGet, "/sns/jscode2session", exchangeRequest(c.code)).
				WillRespondWith(http.StatusOK, errorReply(c.errcode, c.errmsg)).
				ExecuteTest(t, func(cfg consumer.MockServerConfig) error {
					_, err := client(cfg, 1).Exchange(context.Background(), c.code)
					assert.Equal(t, c.want, domain.ErrorCode(err))
					assert.EqualValues(t, c.errcode, domain.ErrorDetail(err)["errcode"])
					assert.NotContains(t, err.Error(), testSecret)
					return nil
				})
			require.NoError(t, err)
		})
	}
}

// countingTransport counts the attempts a client makes.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestWeChat_SystemBusyThenASuccessfulRetry(t *testing.T) {
	err := wechatPact(t).AddInteraction().
		Given("WeChat is busy for code CODE-BUSY").
		UponReceiving("a code2Session request while WeChat is busy").
		WithRequest(http.MethodGet, "/sns/jscode2session", exchangeRequest("CODE-BUSY")).
		WillRespondWith(http.StatusOK, errorReply(-1, "system error, rid: 6f0e5c1d")).
		ExecuteTest(t, func(cfg consumer.MockServerConfig) error {
			// Without a retry, busy is "unavailable", not a refusal of the code.
			_, err := client(cfg, 0).Exchange(context.Background(), "CODE-BUSY")
			assert.Equal(t, domain.EEXCHANGEUNAVAILABLE, domain.ErrorCode(err))
			return nil
		})
	require.NoError(t, err)

	// The retry: the same request, answered once WeChat is no longer busy.
	// The first attempt meets the busy interaction above (replayed from its
	// pact body by a one-shot transport), the retry meets this one.
	busyBody := `{"errcode":-1,"errmsg":"system error, rid: 6f0e5c1d"}`
	err = wechatPact(t).AddInteraction().
		Given("WeChat was busy for code CODE-BUSY and is no longer").
		UponReceiving("a retried code2Session request after WeChat was busy").
		WithRequest(http.MethodGet, "/sns/jscode2session", exchangeRequest("CODE-BUSY")).
		WillRespondWith(http.StatusOK, sessionReply(nil)).
		ExecuteTest(t, func(cfg consumer.MockServerConfig) error {
			c := client(cfg, 1)
			counting := &countingTransport{}
			c.HTTPClient = &http.Client{Timeout: 2 * time.Second, Transport: &busyOnce{body: busyBody, next: counting}}
			s, err := c.Exchange(context.Background(), "CODE-BUSY")
			if err != nil {
				return err
			}
			assert.Equal(t, "oGZUI0egBJY1zhBYw2KhdUfwVJJE", s.OpenID)
			assert.EqualValues(t, 1, counting.n.Load(), "one retry reached WeChat after the busy answer")
			return nil
		})
	require.NoError(t, err)
}

// busyOnce answers the first request with WeChat's busy reply and passes
// the rest on.
type busyOnce struct {
	body string
	used atomic.Bool
	next http.RoundTripper
}

func (b *busyOnce) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.used.CompareAndSwap(false, true) {
		rec := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
			Body: http.NoBody, Request: r}
		rec.Body = bodyOf(b.body)
		return rec, nil
	}
	return b.next.RoundTrip(r)
}
