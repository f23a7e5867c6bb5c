//go:build integration

package containers

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onestroke/onestroke/adapters/redisstore"
	"github.com/onestroke/onestroke/adapters/wechat/wechattest"
	"github.com/onestroke/onestroke/domain"
	"github.com/onestroke/onestroke/tests/testenv"
)

// Security review finding 1, the proof of concept: correctly signed rawData
// holding another user's openId under a key of other letter case (and an
// escaped key, which sent the old reader to encoding/json) logged in as the
// signer, and every later request then ran as the victim.
func TestRedis_RawDataCannotMakeLaterRequestsRunAsAnotherUser(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	repo := embeddedDrawings(t)
	s := newService(t, redisStore(t, srv.RedisURL(), redisstore.Options{}), repo)

	victim := s.login("victim")
	saved := s.call("POST", "/applet/session/paints/save", victim, `{"id":"secret","actions":"[1]"}`)
	require.Equal(t, http.StatusOK, saved.status, saved.body)
	victimID := s.wx.OpenID("victim")

	const code, signerID = "attackercode0001", "oATTACKER000000000000000000"
	key := wechattest.NewSessionKey()
	s.wx.AcceptCode(code, signerID, key, "")
	raw := `{"openId":"x","OPENID":"` + victimID + `","k\"":1}`
	first := s.call("GET", "/applet/session", http.Header{
		"X-Wx-Code": {code}, "X-Wx-Rawdata": {domain.EncodeRawData(raw)}, "X-Wx-Signature": {domain.Sign(raw, key)},
	}, "")
	require.Equal(t, http.StatusOK, first.status, first.body)
	assert.Equal(t, signerID, first.body["wxUserInfo"].(map[string]any)["openId"])
	assert.NotContains(t, first.body["wxUserInfo"], "OPENID", "the case variant is dropped")

	attacker := http.Header{"X-Wx-Code": {code}}
	again := s.call("GET", "/applet/session", attacker, "")
	require.Equal(t, http.StatusOK, again.status, again.body)
	assert.Equal(t, signerID, again.body["wxUserInfo"].(map[string]any)["openId"], "read back from Redis as the signer")
	list := s.call("GET", "/applet/session/paints/list", attacker, "")
	require.Equal(t, http.StatusOK, list.status, list.body)
	assert.Empty(t, list.body["data"], "the signer sees none of the victim's drawings")
}

// Security review finding 2: whatever Redis holds under a key that is not a
// session (an openId → code entry, a value of another type, junk) answers
// exactly as an unknown code: same status, same body.
func TestRedis_AStoreValueThatIsNotASessionAnswersAsAnUnknownCode(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.HostPort})
	defer rdb.Close()
	ctx := context.Background()
	s := newService(t, redisStore(t, srv.RedisURL(), redisstore.Options{}), embeddedDrawings(t))
	s.login("alice") // writes weapp-session:<alice's openId> → "<code>"
	require.NoError(t, rdb.Set(ctx, "weapp-session:junk", "not json at all", time.Hour).Err())
	require.NoError(t, rdb.Set(ctx, "weapp-session:array", `[{"openId":"oX"}]`, time.Hour).Err())
	require.NoError(t, rdb.Set(ctx, "weapp-session:twice", `{"openId":"oA","openId":"oB"}`, time.Hour).Err())
	require.NoError(t, rdb.HSet(ctx, "weapp-session:hash", "openId", "oX").Err())
	require.NoError(t, rdb.RPush(ctx, "weapp-session:list", "x").Err())

	unknown := s.call("GET", "/applet/session", http.Header{"X-Wx-Code": {"never-seen-code"}}, "")
	require.Equal(t, http.StatusUnauthorized, unknown.status)
	require.Equal(t, "ERR_SESSION_EXPIRED", unknown.body["reason"])
	for _, code := range []string{s.wx.OpenID("alice"), "junk", "array", "twice", "hash", "list"} {
		for _, path := range []string{"/applet/session", "/applet/session/paints/list"} {
			a := s.call("GET", path, http.Header{"X-Wx-Code": {code}}, "")
			assert.Equal(t, unknown.status, a.status, "%s with code %q", path, code)
			assert.Equal(t, unknown.body, a.body, "%s with code %q", path, code)
		}
		// The first-request path reads the same keys.
		d, err := s.wx.Mint("mallory", wechattest.Profile{})
		require.NoError(t, err)
		h := d.Headers()
		h.Set("X-Wx-Code", code)
		a := s.call("GET", "/applet/session", h, "")
		assert.NotEqual(t, http.StatusInternalServerError, a.status, "first headers with code %q: %v", code, a.body)
	}
}
