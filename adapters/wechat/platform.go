package wechat

import (
	"bytes"
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
	"unicode/utf8"

	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/ports"
)

// The platform services of PROTOCOL §8: stable_token, and the APIs that
// carry its access_token (getuserphonenumber, msg_sec_check).

var (
	_ ports.AccessTokenSource = (*Client)(nil)
	_ ports.PhoneNumbers      = (*Platform)(nil)
	_ ports.ContentChecker    = (*Platform)(nil)
)

// WeChat's errcodes of the platform APIs (beyond code2Session's).
const (
	ErrInvalidCredential  = 40001 // the access_token is not (or no longer) valid
	ErrAccessTokenExpired = 42001 // the access_token's time is up
	ErrDailyLimit         = 45009 // an API's daily quota, stable_token's force_refresh included
)

// MaxContentRunes is msg_sec_check's limit on one text (2,500 characters).
const MaxContentRunes = 2500

// maxTokenLife caps the expires_in we believe: WeChat says 7,200 s, and a
// larger figure would only make a cache keep a token past its real end.
const maxTokenLife = 24 * time.Hour

// How long a caller should wait after WeChat's limits on forced refreshes:
// 45011 (one every 30 s) and 45009 (20 a day, reset at midnight in Beijing).
const (
	forceGapWait   = 30 * time.Second
	dailyLimitWait = time.Hour
)

// errcodeReply is the part every WeChat answer may carry.
type errcodeReply struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

type stableTokenRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

type stableTokenReply struct {
	errcodeReply
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// StableToken implements ports.AccessTokenSource on POST
// {api}/cgi-bin/stable_token (never cgi-bin/token). It does not retry: the
// AccessTokens above it decides when to ask again.
// Returns EEXCHANGEUNAVAILABLE when WeChat could not be reached, was busy
// (-1), answered no token or a non-positive expires_in, or refused the app's
// credentials (40013, 40125: also logged at error level as a configuration
// error); ERATELIMITED on WeChat's limits (45009, 45011, with RetryAfter).
// WeChat's errcode, when it answered one, is in the error's Detail.
func (c *Client) StableToken(ctx context.Context, force bool) (domain.AccessToken, time.Duration, error) {
	req := stableTokenRequest{GrantType: "client_credential", AppID: c.AppID, Secret: c.AppSecret, ForceRefresh: force}
	var r stableTokenReply
	reply, err := c.post(ctx, "/cgi-bin/stable_token", "", req)
	if err == nil {
		err = decode(reply, &r)
	}
	if err != nil {
		return "", 0, err
	}
	if r.ErrCode != 0 {
		e := &domain.Error{Code: domain.EEXCHANGEUNAVAILABLE, Detail: map[string]any{"errcode": r.ErrCode}}
		switch r.ErrCode {
		case ErrInvalidAppID, ErrInvalidAppSecret:
			c.logger().LogAttrs(ctx, slog.LevelError, "configuration error: WeChat's stable_token refused the app's credentials; check ONESTROKE_WX_APPID and the app secret",
				slog.Int("errcode", r.ErrCode))
			e.Message = "WeChat rejected the server's app credentials."
		case ErrSystemBusy:
			e.Message = "WeChat is busy; try again."
		case ErrFrequencyLimit:
			e.Code, e.Message, e.RetryAfter = domain.ERATELIMITED, "WeChat allows one forced access_token refresh every 30 seconds.", forceGapWait
		case ErrDailyLimit:
			e.Code, e.Message, e.RetryAfter = domain.ERATELIMITED, "WeChat's daily limit of access_token refreshes is reached.", dailyLimitWait
		default:
			e.Message = fmt.Sprintf("WeChat gave no access_token (errcode %d).", r.ErrCode)
		}
		return "", 0, e
	}
	if r.AccessToken == "" || r.ExpiresIn <= 0 {
		return "", 0, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat answered without an access_token or its lifetime.")
	}
	life := maxTokenLife
	if r.ExpiresIn < int64(maxTokenLife/time.Second) {
		life = time.Duration(r.ExpiresIn) * time.Second
	}
	return domain.AccessToken(r.AccessToken), life, nil
}

// Platform calls the WeChat APIs that need the deployment's access_token.
// Create it with NewPlatform.
type Platform struct {
	client *Client
	tokens ports.AccessTokens
}

// NewPlatform returns the platform APIs on client (its app, base URL,
// connections and timeout) with the access_token of tokens.
func NewPlatform(client *Client, tokens ports.AccessTokens) *Platform {
	return &Platform{client: client, tokens: tokens}
}

type phoneRequest struct {
	Code   string `json:"code"`
	OpenID string `json:"openid,omitempty"`
}

type phoneReply struct {
	errcodeReply
	PhoneInfo *struct {
		PhoneNumber     string `json:"phoneNumber"`
		PurePhoneNumber string `json:"purePhoneNumber"`
		CountryCode     string `json:"countryCode"`
		Watermark       struct {
			AppID     string `json:"appid"`
			Timestamp int64  `json:"timestamp"`
		} `json:"watermark"`
	} `json:"phone_info"`
}

// PhoneNumber implements ports.PhoneNumbers on POST
// {api}/wxa/business/getuserphonenumber. openID, when not empty, goes with
// the code so that WeChat checks the code is that user's.
// Returns EEXCHANGEREFUSED for an empty code and when WeChat refused the
// code (40029: unknown, used or expired); EEXCHANGEUNAVAILABLE when WeChat
// could not be reached, answered another errcode, kept refusing the token
// after one forced refresh, or answered a number without this app's
// watermark; the errors of the AccessTokens otherwise (EUNAVAILABLE).
func (p *Platform) PhoneNumber(ctx context.Context, code, openID string) (domain.PhoneNumber, error) {
	if code == "" {
		return domain.PhoneNumber{}, domain.Errorf(domain.EEXCHANGEREFUSED, "No phone number code to exchange.")
	}
	var r phoneReply
	if err := p.call(ctx, "/wxa/business/getuserphonenumber", phoneRequest{Code: code, OpenID: openID}, &r); err != nil {
		return domain.PhoneNumber{}, err
	}
	switch {
	case r.ErrCode == ErrInvalidCode:
		return domain.PhoneNumber{}, &domain.Error{Code: domain.EEXCHANGEREFUSED, Message: "WeChat says the phone number code is invalid, used or expired.",
			Detail: map[string]any{"errcode": r.ErrCode}}
	case r.ErrCode != 0:
		return domain.PhoneNumber{}, &domain.Error{Code: domain.EEXCHANGEUNAVAILABLE, Message: fmt.Sprintf("WeChat gave no phone number (errcode %d).", r.ErrCode),
			Detail: map[string]any{"errcode": r.ErrCode}}
	case r.PhoneInfo == nil || r.PhoneInfo.PhoneNumber == "":
		return domain.PhoneNumber{}, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat answered without a phone number.")
	case r.PhoneInfo.Watermark.AppID != p.client.AppID:
		// Not this app's answer: a proxy or a mix-up, never to be stored.
		return domain.PhoneNumber{}, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat's phone number answer is not for this app (watermark).")
	}
	return domain.PhoneNumber{PhoneNumber: r.PhoneInfo.PhoneNumber, PurePhoneNumber: r.PhoneInfo.PurePhoneNumber, CountryCode: r.PhoneInfo.CountryCode}, nil
}

type contentRequest struct {
	Version int    `json:"version"`
	OpenID  string `json:"openid"`
	Scene   int    `json:"scene"`
	Content string `json:"content"`
}

type contentReply struct {
	errcodeReply
	Result *struct {
		Suggest string `json:"suggest"`
	} `json:"result"`
}

// CheckText implements ports.ContentChecker on POST {api}/wxa/msg_sec_check
// (version 2).
// Returns EINVALID without asking WeChat for an empty openID or text or a
// scene outside 1..4, ETOOLARGE for a text over MaxContentRunes;
// EEXCHANGEUNAVAILABLE when WeChat could not be reached, answered an
// errcode, kept refusing the token after one forced refresh, or answered a
// suggestion other than pass, review and risky (never a silent pass); the
// errors of the AccessTokens otherwise (EUNAVAILABLE).
func (p *Platform) CheckText(ctx context.Context, openID string, scene domain.ContentScene, text string) (domain.ContentSuggestion, error) {
	switch {
	case openID == "":
		return "", domain.Errorf(domain.EINVALID, "A content check needs the writer's openid.")
	case scene < domain.SceneProfile || scene > domain.SceneSocial:
		return "", domain.Errorf(domain.EINVALID, "A content check's scene must be 1 to 4.")
	case text == "":
		return "", domain.Errorf(domain.EINVALID, "There is no text to check.")
	case utf8.RuneCountInString(text) > MaxContentRunes:
		return "", domain.Errorf(domain.ETOOLARGE, "WeChat checks at most %d characters at once.", MaxContentRunes)
	}
	var r contentReply
	req := contentRequest{Version: 2, OpenID: openID, Scene: int(scene), Content: text}
	if err := p.call(ctx, "/wxa/msg_sec_check", req, &r); err != nil {
		return "", err
	}
	if r.ErrCode != 0 {
		return "", &domain.Error{Code: domain.EEXCHANGEUNAVAILABLE, Message: fmt.Sprintf("WeChat could not check the text (errcode %d).", r.ErrCode),
			Detail: map[string]any{"errcode": r.ErrCode}}
	}
	if r.Result != nil {
		switch s := domain.ContentSuggestion(r.Result.Suggest); s {
		case domain.ContentPass, domain.ContentReview, domain.ContentRisky:
			return s, nil
		}
	}
	return "", domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat's content check answered no known suggestion.")
}

// call posts body to path with the deployment's token and decodes the
// answer into out. A 40001 or 42001 reports the token as rejected and
// retries once with the token that gives; a second rejection is
// EEXCHANGEUNAVAILABLE, since another refresh would only spend WeChat's
// daily allowance.
func (p *Platform) call(ctx context.Context, path string, body, out any) error {
	t, err := p.tokens.Token(ctx)
	if err != nil {
		return tokenError(err)
	}
	for attempt := 0; ; attempt++ {
		reply, err := p.client.post(ctx, path, t.Reveal(), body)
		if err != nil {
			return err
		}
		var ec errcodeReply
		if err := decode(reply, &ec); err != nil {
			return err
		}
		if ec.ErrCode != ErrInvalidCredential && ec.ErrCode != ErrAccessTokenExpired {
			return decode(reply, out)
		}
		if attempt > 0 {
			return &domain.Error{Code: domain.EEXCHANGEUNAVAILABLE, Message: "WeChat refused the access_token again after its refresh.",
				Detail: map[string]any{"errcode": ec.ErrCode}}
		}
		if t, err = p.tokens.Rejected(ctx, t); err != nil {
			return tokenError(err)
		}
	}
}

// tokenError passes the AccessTokens' errors on, but a refresh WeChat's
// limits do not allow now is WeChat being unavailable to this caller, not a
// rate limit of its own.
func tokenError(err error) error {
	if domain.ErrorCode(err) == domain.ERATELIMITED {
		return &domain.Error{Code: domain.EEXCHANGEUNAVAILABLE, Message: "WeChat's access_token cannot be refreshed yet.",
			RetryAfter: domain.ErrorRetryAfter(err), Err: err}
	}
	return err
}

// noRedirects is the CheckRedirect of the platform calls: WeChat never
// redirects them, and following one would send the body elsewhere.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// post posts body as JSON to path (with access_token in the query when
// token is not empty) and returns WeChat's answer, of at most maxReply
// bytes. Each call is bounded by ctx and the client's timeout. No error
// carries the URL (it may hold the token), the secret or the answer.
func (c *Client) post(ctx context.Context, path, token string, body any) ([]byte, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, domain.Wrap(domain.EINTERNAL, err, "The WeChat request could not be encoded.")
	}
	base := c.APIURL
	if base == "" {
		base = DefaultAPIURL
	}
	u := strings.TrimRight(base, "/") + path
	if token != "" {
		u += "?access_token=" + url.QueryEscape(token)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return nil, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "The WeChat API URL is invalid.")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	hc := *c.httpClient()
	hc.CheckRedirect = noRedirects
	resp, err := hc.Do(req)
	if err != nil {
		return nil, domain.Wrap(domain.EEXCHANGEUNAVAILABLE, withoutURL(err), "WeChat could not be reached.")
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	if err != nil {
		return nil, domain.Wrap(domain.EEXCHANGEUNAVAILABLE, withoutURL(err), "WeChat's answer could not be read.")
	}
	if resp.StatusCode != http.StatusOK {
		return nil, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat answered HTTP %d.", resp.StatusCode)
	}
	if len(reply) > maxReply {
		return nil, domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat's answer is over %d bytes.", maxReply)
	}
	return reply, nil
}

// withoutURL drops the URL a *url.Error quotes (its query may hold the
// access_token) and keeps the cause.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// decode reads WeChat's JSON answer into out. Its error never quotes the
// answer: a success holds a token or a phone number.
func decode(reply []byte, out any) error {
	if err := json.Unmarshal(reply, out); err != nil {
		return domain.Errorf(domain.EEXCHANGEUNAVAILABLE, "WeChat's answer is not the JSON expected.")
	}
	return nil
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}
