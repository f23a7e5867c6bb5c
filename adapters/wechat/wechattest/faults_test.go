package wechattest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
)

func exchangeCode(t *testing.T, ctx context.Context, base, code string) (map[string]any, error) {
	t.Helper()
	q := url.Values{"appid": {"wxapp"}, "secret": {"secret"}, "js_code": {code}, "grant_type": {"authorization_code"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sns/jscode2session?"+q.Encode(), nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return body, nil
}

func TestInject_TheNextCallsAnswerTheErrcodeThenTheRealAnswer(t *testing.T) {
	mock := wechattest.New("wxapp", "secret", time.Now)
	srv := httptest.NewServer(mock)
	defer srv.Close()
	mock.Inject(wechattest.APICode2Session, wechattest.Fault{Errcode: -1}, 2)
	d, err := mock.Mint("alice", wechattest.Profile{})
	require.NoError(t, err)
	for range 2 {
		body, err := exchangeCode(t, context.Background(), srv.URL, d.Code)
		require.NoError(t, err)
		assert.EqualValues(t, -1, body["errcode"])
	}
	body, err := exchangeCode(t, context.Background(), srv.URL, d.Code)
	require.NoError(t, err)
	assert.Equal(t, mock.OpenID("alice"), body["openid"], "the fault is spent: the code still works")
	assert.Equal(t, 3, mock.Calls(wechattest.APICode2Session))
}

func TestInject_AHangEndsWhenTheCallerGivesUp(t *testing.T) {
	mock := wechattest.New("wxapp", "secret", time.Now)
	srv := httptest.NewServer(mock)
	defer srv.Close()
	mock.Inject(wechattest.APICode2Session, wechattest.Fault{Hang: time.Hour}, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := exchangeCode(t, ctx, srv.URL, "any")
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	mock.Clear(wechattest.APICode2Session)
	body, err := exchangeCode(t, context.Background(), srv.URL, "unknown-code")
	require.NoError(t, err)
	assert.EqualValues(t, 40029, body["errcode"], "cleared: the real answer")
}

func TestFaultRoute_InjectsAndClears(t *testing.T) {
	mock := wechattest.New("wxapp", "secret", time.Now)
	srv := httptest.NewServer(mock)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/mock/fault?api=jscode2session&errcode=45011&n=1", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := exchangeCode(t, context.Background(), srv.URL, "x")
	require.NoError(t, err)
	assert.EqualValues(t, 45011, body["errcode"])
	for _, bad := range []string{"api=nope&errcode=1", "api=stable_token&errcode=x", "api=stable_token&hang_ms=-5"} {
		resp, err := http.Post(srv.URL+"/mock/fault?"+bad, "", nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, bad)
	}
}
