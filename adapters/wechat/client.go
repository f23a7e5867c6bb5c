// Package wechat is onestroke's client of WeChat's HTTP API: the
// CodeExchanger on code2Session (PROTOCOL §4), the AccessTokenSource on
// stable_token, and the platform APIs of PROTOCOL §8 (phone numbers, content
// checks). Its errors and logs never carry the app secret, a session_key or
// an access_token.
package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

var _ ports.CodeExchanger = (*Client)(nil)

// DefaultAPIURL is WeChat's production API.
const DefaultAPIURL = "https://api.weixin.qq.com"

// DefaultTimeout bounds one code2Session call.
const DefaultTimeout = 5 * time.Second

// WeChat's documented errcodes for code2Session.
const (
	ErrSystemBusy       = -1
	ErrInvalidCode      = 40029
	ErrCodeUsed         = 40163
	ErrFrequencyLimit   = 45011
	ErrHighRiskUser     = 40226
	ErrInvalidAppID     = 40013
	ErrInvalidAppSecret = 40125
)

// MaxConnections caps NewClient's connections to WeChat. The service's
// exchange slots (app.DefaultMaxConcurrentExchanges, also 64) already bound
// the calls; this holds the sockets to the same figure whatever a caller
// does, and calls past it wait for a connection within their timeout.
const MaxConnections = 64

// maxReply bounds what we read of WeChat's answer.
const maxReply = 64 << 10

// Client calls code2Session. Set AppID and AppSecret; the rest have defaults.
type Client struct {
	AppID     string
	AppSecret string
	// APIURL is WeChat's base URL; tests point it at the mock.
	APIURL string
	// HTTPClient is used for the calls; nil means one with Timeout.
	HTTPClient *http.Client
	// Timeout bounds each attempt when HTTPClient is nil (default 5 s).
	Timeout time.Duration
	// RetryBusy is how many times a "system busy" (-1) answer is retried.
	RetryBusy int
	// RetryDelay is the pause before such a retry (default 100 ms).
	RetryDelay time.Duration
	// Logger receives the configuration errors stable_token reveals; nil
	// means slog.Default().
	Logger *slog.Logger
}

type reply struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid"`
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
}

// Exchange implements ports.CodeExchanger. WeChat's -1 (system busy) is the
// only answer worth a retry; every other errcode is final.
func (c *Client) Exchange(ctx context.Context, code string) (domain.WxSession, error) {
	if code == "" {
		return domain.WxSession{}, domain.Errorf(domain.EEXCHANGEREFUSED, "No login code to exchange.")
	}
	for attempt := 0; ; attempt++ {
		r, err := c.call(ctx, code)
		if err != nil {
			return domain.WxSession{}, err
		}
		if r.ErrCode == ErrSystemBusy && attempt < c.RetryBusy {
			delay := c.RetryDelay
			if delay <= 0 {
				delay = 100 * time.Millisecond
			}
			select {
			case <-time.After(delay):
				continue
			case <-ctx.Done():
				return domain.WxSession{}, domain.Wrap(domain.EEXCHANGEUNAVAILABLE, ctx.Err(), "WeChat stayed busy.")
			}
		}
		return toSession(r)
	}
}

func toSession(r reply) (domain.WxSession, error) {
	if r.ErrCode != 0 {
		e := &domain.Error{Code: domain.EEXCHANGEREFUSED, Detail: map[string]any{"errcode": r.ErrCode}}
		switch r.ErrCode {
		case ErrSystemBusy:
			e.Code, e.Message = domain.EEXCHANGEUNAVAILABLE, "WeChat is busy; try again."
		case ErrInvalidCode:
			e.Message = "WeChat says the login code is invalid or expired."
		case ErrCodeUsed:
			e.Message = "WeChat says the login code was already used."
		case ErrFrequencyLimit:
			e.Message = "WeChat rate-limited this login; try again later."
		case ErrHighRiskUser:
			e.Message = "WeChat blocked this login as high-risk."
		case ErrInvalidAppID, ErrInvalidAppSecret:
			// The server's configuration is wrong, not the user's code.
			e.Code, e.Message = domain.EEXCHANGEUNAVAILABLE, "WeChat rejected the server's app credentials."
		default:
			e.Message = fmt.Sprintf("WeChat refused the login code (errcode %d).", r.ErrCode)
		}
		return domain.WxSession{}, e
	}
	if r.OpenID == "" || r.SessionKey == "" {
		return domain.WxSession{}, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat answered without openid or session_key.")
	}
	return domain.WxSession{OpenID: r.OpenID, SessionKey: domain.SessionKey(r.SessionKey), UnionID: r.UnionID}, nil
}

func (c *Client) call(ctx context.Context, code string) (reply, error) {
	base := c.APIURL
	if base == "" {
		base = DefaultAPIURL
	}
	// The query as url.Values.Encode writes it (keys sorted), without
	// building the map for every login.
	var u strings.Builder
	u.Grow(len(base) + len(c.AppID) + len(c.AppSecret) + len(code) + 96)
	u.WriteString(strings.TrimRight(base, "/"))
	u.WriteString("/sns/jscode2session?appid=")
	u.WriteString(url.QueryEscape(c.AppID))
	u.WriteString("&grant_type=authorization_code&js_code=")
	u.WriteString(url.QueryEscape(code))
	u.WriteString("&secret=")
	u.WriteString(url.QueryEscape(c.AppSecret))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return reply{}, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "The WeChat API URL is invalid.")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		// url.Error quotes the URL, which holds the secret: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return reply{}, domain.Wrap(domain.EEXCHANGEUNAVAILABLE, err, "WeChat could not be reached.")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return reply{}, domain.Wrap(domain.EEXCHANGEUNAVAILABLE, err, "WeChat's answer could not be read.")
	}
	if resp.StatusCode != http.StatusOK {
		return reply{}, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat answered HTTP %d.", resp.StatusCode)
	}
	var r reply
	if err := json.Unmarshal(body, &r); err != nil {
		// Never quote the body: a success reply holds the session_key.
		return reply{}, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat's answer is not JSON.")
	}
	return r, nil
}

// NewClient returns a client for the given app with a connection pool sized
// for bursts of concurrent logins and capped at MaxConnections.
func NewClient(appID, appSecret, apiURL string, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = MaxConnections
	t.MaxConnsPerHost = MaxConnections
	return &Client{
		AppID: appID, AppSecret: appSecret, APIURL: apiURL, Timeout: timeout,
		HTTPClient: &http.Client{Timeout: timeout, Transport: t},
		RetryBusy:  1,
	}
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	t := c.Timeout
	if t <= 0 {
		t = DefaultTimeout
	}
	return &http.Client{Timeout: t}
}
